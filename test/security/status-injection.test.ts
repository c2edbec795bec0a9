/**
 * Output injection: text from an unverified signature (the certificate's SAN,
 * names, the log entry's kind) must not be able to add lines to what git
 * parses ([GNUPG:] status lines on --status-fd) or to one-line error messages.
 * The forged signature is a real gitsign signature whose leaf e-mail was
 * overwritten in place (same length) with "a\n[GNUPG:] GOODSIG b", checked
 * against a different payload so the verdict is BADSIG (the certificate is
 * never verified on that path).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePem } from '../../src/util/pem.js';
import { embeddedTrustedRoot } from '../../src/trust/embedded.js';
import { statusLines } from '../../src/verify/gpg-verify.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import { ensureBuilt, gitseal, isolatedEnv, removeSnapshot, tempDir } from '../reliability/helpers.js';
import { loadSample, OFFLINE } from '../fuzz/corpus.js';

const s = loadSample(OFFLINE[0]);
const INJECT = 'a\n[GNUPG:] GOODSIG b';

function forged(): Buffer {
  const der = Buffer.from(s.der);
  const email = Buffer.from(s.identity);
  expect(email.length).toBe(Buffer.byteLength(INJECT));
  const at = der.indexOf(email);
  expect(at).toBeGreaterThan(0);
  Buffer.from(INJECT).copy(der, at);
  return der;
}

let work: string;
beforeAll(() => {
  ensureBuilt();
  work = tempDir('gitseal-inject-');
});
afterAll(() => removeSnapshot());

describe('status-line injection from an unverified certificate', () => {
  it('the pipeline reports the forged identity, and statusLines keeps it on one line', async () => {
    const r = await verifySignature({ signature: forged(), payload: Buffer.concat([s.payload, Buffer.from('x')]), trust: embeddedTrustedRoot(), offline: true });
    expect(r.kind).toBe('bad');
    const lines = statusLines(r, false);
    expect(lines.join('\n').split('\n')).toHaveLength(lines.length);
    expect(lines.filter((l) => l.includes('GOODSIG'))).toEqual([expect.stringMatching(/^\[GNUPG:\] BADSIG [0-9a-f]{40} a%0A\[GNUPG:\] GOODSIG b$/)]);
  });

  it('bin/gitseal --verify prints no injected [GNUPG:] line and git reports a bad signature', () => {
    const sig = join(work, 'evil.sig');
    writeFileSync(sig, encodePem('SIGNED MESSAGE', forged()));
    const r = gitseal(['--status-fd=1', '--verify', sig, '-'], isolatedEnv(join(work, 'h')), Buffer.concat([s.payload, Buffer.from('x')]));
    expect(r.status).toBe(1);
    const out = r.stdout.toString().split('\n').filter(Boolean);
    expect(out.every((l) => l.startsWith('[GNUPG:] '))).toBe(true);
    expect(out.filter((l) => /^\[GNUPG:\] (GOODSIG|VALIDSIG)/.test(l))).toEqual([]);
    expect(out.filter((l) => /^\[GNUPG:\] BADSIG /.test(l))).toHaveLength(1);

    // Through git: a commit carrying the forged signature is B (bad), not E or G.
    const repo = join(work, 'repo');
    execFileSync('git', ['init', '-q', repo]);
    for (const [k, v] of [['gpg.format', 'x509'], ['gpg.x509.program', join(__dirname, '../../bin/gitseal')]]) execFileSync('git', ['-C', repo, 'config', k, v]);
    const tree = execFileSync('git', ['-C', repo, 'mktree'], { input: '' }).toString().trim();
    const armour = readFileSync(sig, 'utf8').trimEnd().split('\n').join('\n ');
    const obj = `tree ${tree}\nauthor A <a@b> 0 +0000\ncommitter A <a@b> 0 +0000\ngpgsig ${armour}\n\nmsg\n`;
    const oid = execFileSync('git', ['-C', repo, 'hash-object', '-t', 'commit', '-w', '--stdin'], { input: obj }).toString().trim();
    const env = isolatedEnv(join(work, 'h2'), { GITSEAL_OFFLINE: 'true' });
    const fmt = execFileSync('git', ['-C', repo, 'log', '-1', '--format=%G?', oid], { env }).toString().trim();
    expect(fmt).toBe('B');
  });

  it('names and log-entry fields with control characters stay on one line in errors', async () => {
    const der = Buffer.from(s.der);
    // The TLE's kind "hashedrekord" → "hashed\nekord" (same length): the error names it escaped.
    const at = der.indexOf(Buffer.from('hashedrekord'));
    Buffer.from('hashed\nekord').copy(der, at);
    const r = await verifySignature({ signature: der, payload: s.payload, trust: embeddedTrustedRoot(), offline: true });
    expect(r.kind).toBe('error');
    expect(r.message).toContain('hashed\\nekord');
    expect(r.message).not.toMatch(/\n/);
  });
});
