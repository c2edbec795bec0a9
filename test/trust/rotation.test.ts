// Key rotation through the trusted root, against the real sandbox
// (packages/sandbox/bin/gitseal-sandbox, after `npm run build`): sign with CA generation 1 and
// the first Rekor key, rotate to CA generation 2 and a new Rekor key, sign
// again, then verify both with one new trusted_root.json in which the old CA
// and the old log key end at the switch. A signature the old CA issues after
// the switch must fail. Signing is gitseal's own signPayload; verification is
// the hot-path verifySignature.
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toIdentityToken } from '../../src/oidc/get-token.js';
import { signPayload, type SignResult } from '../../src/sign/sign-payload.js';
import { parseTrustedRoot, type TrustedRoot } from '../../src/trust/trusted-root.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import { sandboxCli, sandboxConfig, startSandboxProcess, stopSandboxProcess, type SandboxProcess } from '../sandbox/runner-helpers.js';

let dir: string;
let sandbox: SandboxProcess | undefined;

const payload = (n: string) =>
  Buffer.from(`tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor Dev <dev@example.test> 1700000000 +0000\ncommitter Dev <dev@example.test> 1700000000 +0000\n\n${n}\n`);

async function signNow(body: Buffer): Promise<SignResult> {
  const config = sandboxConfig(sandbox!, dir);
  const token = sandboxCli(['token', '--dir', dir, '--email', 'rotation@example.test']);
  if (token.status !== 0) throw new Error(`token: ${token.stderr}`);
  return signPayload(body, { config, tokenSource: async () => toIdentityToken(token.stdout.trim(), 'sandbox'), ui: { say: () => {} }, env: {} });
}

async function restart(extra: string[]): Promise<void> {
  await stopSandboxProcess(dir, sandbox);
  sandbox = await startSandboxProcess(dir, extra);
}

type Json = Record<string, any>;
let before: { sig: SignResult; root: Json };
let after: { sig: SignResult; root: Json };
let rotated: TrustedRoot;
let switchAt: Date;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gitseal-rotation-'));
  sandbox = await startSandboxProcess(dir);
  before = { sig: await signNow(payload('before the rotation')), root: JSON.parse(readFileSync(join(dir, 'trusted_root.json'), 'utf8')) };

  // Rotate: a new Rekor log key (the old log's state moves aside) and CA generation 2.
  await stopSandboxProcess(dir, sandbox);
  sandbox = undefined;
  renameSync(join(dir, 'rekor'), join(dir, 'rekor-retired'));
  sandbox = await startSandboxProcess(dir, ['--ca', 'gen2']);
  after = { sig: await signNow(payload('after the rotation')), root: JSON.parse(readFileSync(join(dir, 'trusted_root.json'), 'utf8')) };

  // The new trusted root: the runner's (gen1 ending where gen2 starts, new log key)
  // plus the retired log key, ending at the same switch.
  const cas = after.root.certificateAuthorities as Json[];
  expect(cas).toHaveLength(2);
  switchAt = new Date(cas[0].validFor.end);
  expect(switchAt.getTime()).toBe(Date.parse(cas[1].validFor.start));
  const oldLog = { ...before.root.tlogs[0], publicKey: { ...before.root.tlogs[0].publicKey, validFor: { ...before.root.tlogs[0].publicKey.validFor, end: switchAt.toISOString() } } };
  const newRoot = { ...after.root, tlogs: [oldLog, ...after.root.tlogs] };
  writeFileSync(join(dir, 'rotated_trusted_root.json'), JSON.stringify(newRoot, null, 2));
  rotated = parseTrustedRoot(readFileSync(join(dir, 'rotated_trusted_root.json')));
});

afterAll(async () => {
  await stopSandboxProcess(dir, sandbox);
  rmSync(dir, { recursive: true, force: true });
});

describe('trust root rotation (CA generation and Rekor key)', () => {
  it('really rotated: different CA roots and Rekor keys before and after', () => {
    expect(before.root.certificateAuthorities).toHaveLength(1);
    const oldRoot = before.root.certificateAuthorities[0].certChain.certificates.at(-1).rawBytes;
    const newRoot = after.root.certificateAuthorities[1].certChain.certificates.at(-1).rawBytes;
    expect(newRoot).not.toBe(oldRoot);
    expect(after.root.certificateAuthorities[0].certChain.certificates.at(-1).rawBytes).toBe(oldRoot);
    const oldKey = before.root.tlogs.find((t: Json) => t.publicKey.keyDetails === 'PKIX_ECDSA_P256_SHA_256').logId.keyId;
    expect(after.root.tlogs.some((t: Json) => t.logId.keyId === oldKey)).toBe(false);
    expect(existsSync(join(dir, 'fulcio', 'gen2', 'root.pem'))).toBe(true);
  });

  it('verifies the signature made before the rotation with the new trusted root', async () => {
    const r = await verifySignature({ signature: before.sig.pem, payload: payload('before the rotation'), trust: rotated, offline: true });
    expect(r.message).toMatch(/good signature from rotation@example\.test/);
    expect(r.ok).toBe(true);
    expect(r.integratedTime!.getTime()).toBeLessThanOrEqual(switchAt.getTime());
  });

  it('verifies the signature made after the rotation with the new trusted root', async () => {
    const r = await verifySignature({ signature: after.sig.pem, payload: payload('after the rotation'), trust: rotated, offline: true });
    expect(r.message).toMatch(/good signature/);
    expect(r.ok).toBe(true);
    expect(r.integratedTime!.getTime()).toBeGreaterThanOrEqual(switchAt.getTime());
  });

  it('the pre-rotation trusted root does not know the new CA or log', async () => {
    const old = parseTrustedRoot(JSON.stringify(before.root));
    const r = await verifySignature({ signature: after.sig.pem, payload: payload('after the rotation'), trust: old, offline: true });
    expect(r.ok).toBe(false);
    expect(r.failedCheck).toBe('tlog');
  });

  it('rejects a signature from the old CA made after its validFor.end', async () => {
    // Back to generation 1 (a retired CA still issuing): the new log records a time after the switch.
    await restart(['--ca', 'gen1']);
    while (Date.now() < switchAt.getTime() + 1500) await new Promise((r) => setTimeout(r, 100));
    const late = await signNow(payload('old CA after the switch'));
    const r = await verifySignature({ signature: late.pem, payload: payload('old CA after the switch'), trust: rotated, offline: true });
    expect(r.ok).toBe(false);
    expect(r.failedCheck).toBe('chain');
    expect(r.message).toMatch(/was not trusted at/);
    expect(r.integratedTime!.getTime()).toBeGreaterThan(switchAt.getTime());
  });
});
