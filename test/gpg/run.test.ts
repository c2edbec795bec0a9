/**
 * runGpg in-process with git's exact argv, against @sigstore/mock on 127.0.0.1:
 * what lands on stdout, on the status fd and on stderr — the whole contract
 * git relies on — for signing, verifying and failing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { runGpg } from '../../src/gpg/run.js';
import { decodePem } from '../../src/util/pem.js';
import { deadPort, startMockSigstore, testToken, type MockSigstore } from '../sign/mock-sigstore.js';
import { needs } from '../helpers/tools.js';

let dir: string;
let mock: MockSigstore;
let env: NodeJS.ProcessEnv;
const payload = Buffer.from('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor Dev <dev@example.test> 1700000000 +0000\ncommitter Dev <dev@example.test> 1700000000 +0000\n\nmsg\n');

async function run(argv: string[], input: Buffer, extraEnv: NodeJS.ProcessEnv = {}) {
  const out: Record<number, string> = {};
  const code = await runGpg(argv, {
    env: { ...env, ...extraEnv },
    cwd: dir,
    stdin: Readable.from([input]),
    write: (fd, data) => {
      out[fd] = (out[fd] ?? '') + data.toString();
    },
    ttyPath: join(dir, 'no-such-tty'),
  });
  return { code, out };
}

beforeAll(async () => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'gitseal-run-')));
  mkdirSync(join(dir, 'home'));
  mock = await startMockSigstore(dir);
  env = {
    HOME: join(dir, 'home'),
    GIT_CONFIG_NOSYSTEM: '1',
    GITSEAL_FULCIO_URL: mock.url,
    GITSEAL_REKOR_URL: mock.url,
    GITSEAL_TRUSTED_ROOT: mock.trustedRootPath,
    GITSEAL_AGENT: 'off',
    SIGSTORE_ID_TOKEN: testToken(mock.url),
  };
});
afterAll(async () => {
  await mock.close();
  rmSync(dir, { recursive: true, force: true });
});

needs('openssl').describe('runGpg', () => {
  it('signs: PEM alone on stdout, BEGIN_SIGNING then SIG_CREATED on the status fd', async () => {
    const t0 = Math.floor(Date.now() / 1000);
    const { code, out } = await run(['--status-fd=2', '-bsau', 'Dev <dev@example.test>'], payload);
    const t1 = Math.ceil(Date.now() / 1000);
    expect(code).toBe(0);
    expect(out[1]).toMatch(/^-----BEGIN SIGNED MESSAGE-----\n(?:[A-Za-z0-9+/=]{1,64}\n)+-----END SIGNED MESSAGE-----\n$/);
    const lines = out[2].split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe('[GNUPG:] BEGIN_SIGNING');
    expect(lines[2]).toBe('');
    const m = lines[1].match(/^\[GNUPG:\] SIG_CREATED D (\d+) (\d+) 00 (\d+) ([0-9a-f]{40})$/);
    expect(m).not.toBeNull();
    // the algorithms are how the CA signed the leaf (gitsign's rule), read here with openssl
    const der = decodePem(out[1], 'SIGNED MESSAGE');
    writeFileSync(join(dir, 'sig.der'), der);
    const leafPem = execFileSync('openssl', ['pkcs7', '-inform', 'DER', '-in', join(dir, 'sig.der'), '-print_certs'], { encoding: 'utf8' });
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: leafPem, encoding: 'utf8' });
    const alg = text.match(/Signature Algorithm: (\S+)/)![1];
    expect({ 'ecdsa-with-SHA256': '19 8', 'ecdsa-with-SHA384': '19 9' }[alg]).toBe(`${m![1]} ${m![2]}`);
    expect(Number(m![3])).toBeGreaterThanOrEqual(t0);
    expect(Number(m![3])).toBeLessThanOrEqual(t1);
    expect(m![4]).toBe(new X509Certificate(leafPem).fingerprint.replace(/:/g, '').toLowerCase());

    // and the verify side, as git calls it
    writeFileSync(join(dir, 'sig.pem'), out[1]);
    const v = await run(['--status-fd=1', '--verify', join(dir, 'sig.pem'), '-'], payload);
    expect(v.code).toBe(0);
    expect(v.out[1]).toMatch(/^\[GNUPG:\] NEWSIG\n\[GNUPG:\] GOODSIG [0-9a-f]{40} /);
    const bad = await run(['--status-fd=1', '--verify', join(dir, 'sig.pem'), '-'], Buffer.concat([payload, Buffer.from('tampered')]));
    expect(bad.code).toBe(1);
    expect(bad.out[1]).not.toContain('GOODSIG');
    expect(bad.out[1]).toMatch(/\[GNUPG:\] (BADSIG|ERRSIG)/);
  });

  it('signs a payload file given as an argument', async () => {
    writeFileSync(join(dir, 'payload'), payload);
    const { code, out } = await run(['--status-fd=2', '-bsa', join(dir, 'payload')], Buffer.alloc(0));
    expect(code).toBe(0);
    expect(out[1]).toContain('-----BEGIN SIGNED MESSAGE-----');
  });

  it('fails with one line on stderr and nothing on stdout', async () => {
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const { code, out } = await run(['--status-fd=2', '-bsau', 'K'], payload, { GITSEAL_REKOR_URL: dead });
    expect(code).toBe(1);
    expect(out[1]).toBeUndefined();
    const lines = out[2].trimEnd().split('\n');
    // progress held back for lack of a terminal, then the error last
    expect(lines[lines.length - 1]).toBe(`gitseal: Rekor: cannot reach ${dead} (connection refused)`);
    expect(out[2]).not.toContain('[GNUPG:]');
    expect(out[2]).not.toContain(env.SIGSTORE_ID_TOKEN!.split('.')[1]);
  });

  it('fails on usage errors and bad config before any network', async () => {
    const before = mock.requests.length;
    let r = await run(['--status-fd=2', '-s', '--verify', 'x'], payload);
    expect(r.code).toBe(1);
    expect(r.out[2]).toBe('gitseal: cannot sign and verify at the same time\n');
    r = await run(['--status-fd=2', '-bsau', 'K'], payload, { GITSEAL_REKOR_VERSION: '7' });
    expect(r.code).toBe(1);
    expect(r.out[2]).toBe('gitseal: GITSEAL_REKOR_VERSION must be 1 or 2, got "7"\n');
    expect(mock.requests.length).toBe(before);
  });
});
