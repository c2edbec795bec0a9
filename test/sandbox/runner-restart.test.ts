// The runner's lifecycle on one directory: a clean SIGTERM shutdown, then a
// restart with a rotated Fulcio CA (`--ca gen2`). Signatures logged before the
// rotation and after it must both verify with @sigstore/verify against the
// trusted root published after the restart.
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { certify, escape, hashedRekord, logEntry, sigstoreVerify, token } from './integration-client.js';
import { startSandboxProcess, stopSandboxProcess, type SandboxProcess } from './runner-helpers.js';

const EMAIL = 'rotate@example.test';
const dir = mkdtempSync(join(tmpdir(), 'gitseal-sandbox-restart-'));
let sb: SandboxProcess | undefined;

afterAll(async () => {
  await stopSandboxProcess(dir, sb);
  rmSync(dir, { recursive: true, force: true });
});

async function signAndLog(artifact: Buffer) {
  const id = await certify(sb!.info.urls.fulcio, token(dir, ['--email', EMAIL]), EMAIL);
  const { digest, signature, proposal } = hashedRekord(artifact, id);
  const r = await logEntry(sb!.info.urls.rekor, proposal);
  expect(r.status).toBe(201);
  const [uuid] = Object.keys(r.json);
  return { artifact, id, digest, signature, uuid };
}

async function currentEntry(uuid: string) {
  const res = await fetch(`${sb!.info.urls.rekor}/api/v1/log/entries/${uuid}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as any)[uuid];
}

describe('restarting the sandbox', () => {
  it('shuts down cleanly on SIGTERM and comes back with a rotated CA that keeps old signatures valid', async () => {
    sb = await startSandboxProcess(dir);
    const before = await signAndLog(Buffer.from('signed under CA generation 1'));
    const rootBefore = JSON.parse(readFileSync(join(dir, 'trusted_root.json'), 'utf8'));
    expect(rootBefore.certificateAuthorities).toHaveLength(1);

    sb.child.kill('SIGTERM'); // our own child
    expect(await sb.exited).toBe(0);
    expect(existsSync(join(dir, 'sandbox.json'))).toBe(false);

    sb = await startSandboxProcess(dir, ['--ca', 'gen2']);
    const root = JSON.parse(readFileSync(join(dir, 'trusted_root.json'), 'utf8'));
    expect(root.certificateAuthorities).toHaveLength(2);
    expect(root.tlogs[0].logId).toEqual(rootBefore.tlogs[0].logId); // same Rekor key

    const after = await signAndLog(Buffer.from('signed under CA generation 2'));
    const issuerBefore = new X509Certificate(before.id.chain[1]);
    const issuerAfter = new X509Certificate(after.id.chain[1]);
    expect(issuerAfter.fingerprint256).not.toBe(issuerBefore.fingerprint256);
    expect(new X509Certificate(after.id.leafDer).checkIssued(issuerAfter)).toBe(true);

    for (const s of [before, after]) {
      const entry = await currentEntry(s.uuid);
      expect(entry.verification.inclusionProof.treeSize).toBe(2);
      const signer = sigstoreVerify(dir, s.artifact, s.id, s.digest, s.signature, entry, { subjectAlternativeName: `^${escape(EMAIL)}$` });
      expect(signer.identity?.subjectAlternativeName).toBe(EMAIL);
    }
  }, 90_000);
});
