import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, Sandbox } from '../cli/helpers.js';
import { startSandbox, type RunningSandbox } from '../cli/sandbox.js';

/** The library API (dist/lib.js, what `import 'gitseal'` loads) against the sandbox Sigstore; isomorphic-git.test.ts covers onSign and onVerify. */
type Lib = typeof import('../../src/lib.js');
let lib: Lib;
const sb = new Sandbox('gitseal-lib-');
let sigstore: RunningSandbox;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  lib = (await import(join(ROOT, 'dist', 'lib.js'))) as Lib;
  sigstore = await startSandbox(join(sb.dir, 'sigstore'));
  env = { ...sb.env, ...sigstore.env, GITSEAL_AGENT: 'off' };
}, 120_000);
afterAll(async () => {
  await sigstore?.stop();
  sb.cleanup();
});

describe('library API', () => {
  it('signPayload + verifyPayload, with a policy', async () => {
    const payload = 'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <lib@example.test> 1700000000 +0000\ncommitter A <lib@example.test> 1700000000 +0000\n\nlib\n';
    const lines: string[] = [];
    const s = await lib.signPayload(payload, { env, cwd: sb.dir, token: sigstore.token('lib@example.test'), say: (l) => lines.push(l) });
    expect(s.pem).toMatch(/^-----BEGIN SIGNED MESSAGE-----\n/);
    expect(s.identity).toBe('lib@example.test');
    expect(lines.some((l) => /Rekor/.test(l))).toBe(true);
    const trust = lib.loadTrustedRoot({ path: sigstore.env.GITSEAL_TRUSTED_ROOT, env });
    const good = await lib.verifyPayload({ payload, signature: s.pem, trust, policy: { certificateIdentity: 'lib@example.test', certificateOidcIssuer: sigstore.issuer } });
    expect(good).toMatchObject({ ok: true, kind: 'good', identity: 'lib@example.test' });
    expect(good.logIndex).toBe(s.logIndex);
    const other = await lib.verifyPayload({ payload, signature: s.pem, trust, policy: { certificateIdentity: 'else@example.test', certificateOidcIssuer: sigstore.issuer } });
    expect(other).toMatchObject({ ok: false, policyMatched: false });
    const tampered = await lib.verifyPayload({ payload: payload.replace('lib\n', 'lie\n'), signature: s.pem, trust });
    expect(tampered).toMatchObject({ ok: false, kind: 'bad' });
    // the public-good root does not trust the sandbox
    const foreign = await lib.verifyPayload({ payload, signature: s.pem, env: {} });
    expect(foreign.ok).toBe(false);
  });

  it('verifyCommit on an unsigned commit and a missing revision', async () => {
    const dir = sb.repo('plain');
    sb.git(['commit', '-q', '--allow-empty', '-m', 'plain'], dir);
    expect(await lib.verifyCommit({ dir, env })).toMatchObject({ ok: false, kind: 'error', message: expect.stringMatching(/not signed/) });
    await expect(lib.verifyCommit({ dir, rev: 'nope', env })).rejects.toMatchObject({ code: 'USAGE' });
  });
});
