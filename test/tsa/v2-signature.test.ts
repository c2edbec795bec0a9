// A whole gitsign-layout signature made the Rekor v2 way against the real
// sandbox (packages/sandbox/bin/gitseal-sandbox, after `npm run build`): Fulcio certificate,
// RFC 3161 token from the sandbox TSA, hashedrekord v0.0.2 entry from the
// sandbox rekor-tiles log (witnessV2), both embedded in the CMS. It must
// verify with gitseal's verifySignature and, independently, with
// @sigstore/verify 3.1.1 given the same pieces as a Sigstore bundle.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot as TrustedRootProto } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleSignedData, buildSignedAttributes } from '../../src/cms/build.js';
import { toIdentityToken } from '../../src/oidc/get-token.js';
import { witnessV2, type WitnessV2Result } from '../../src/rekor/client-v2.js';
import { encodeTle } from '../../src/rekor/tle.js';
import { obtainCredential } from '../../src/sign/credential.js';
import { localSigner } from '../../src/sign/local-signer.js';
import { parseTrustedRoot, type TrustedRoot } from '../../src/trust/trusted-root.js';
import { der } from '../../src/util/der.js';
import { encodePem } from '../../src/util/pem.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import { sandboxCli, sandboxConfig, startSandboxProcess, stopSandboxProcess, type SandboxProcess } from '../sandbox/runner-helpers.js';
import { bundleTlogEntry } from '../e2e/sign-helpers.js';
import { needs } from '../helpers/tools.js';

let dir: string;
let sandbox: SandboxProcess | undefined;
let trust: TrustedRoot;
const payload = Buffer.from('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor Dev <dev@example.test> 1700000000 +0000\ncommitter Dev <dev@example.test> 1700000000 +0000\n\nlogged to Rekor v2 with a timestamp\n');

interface Made {
  pem: string;
  signedAttrs: Buffer;
  signature: Buffer;
  leaf: Buffer;
  w: WitnessV2Result;
}
let made: Made;

/** What src/sign/sign-payload.ts does for rekorVersion 2, step by step. */
async function signV2(body: Buffer, opts: { tst?: boolean } = {}): Promise<Made> {
  const info = sandbox!.info;
  const config = sandboxConfig(sandbox!, dir, { rekorURL: info.urls.rekorV2, rekorVersion: 2, timestampServerURL: info.urls.tsa });
  const jwt = sandboxCli(['token', '--dir', dir, '--email', 'v2@example.test']);
  if (jwt.status !== 0) throw new Error(jwt.stderr);
  const cred = await obtainCredential(config, { getToken: async () => toIdentityToken(jwt.stdout.trim(), 'sandbox'), trust, env: {} });
  const signedAttrs = buildSignedAttributes(body, new Date());
  const { signature, chain } = await localSigner(cred).sign(signedAttrs);
  const digest = createHash('sha256').update(signedAttrs).digest();
  const w = await witnessV2({ rekorURL: config.rekorURL, tsaURL: config.timestampServerURL!, digest, signature, leafDer: chain[0], trust });
  const tle = encodeTle({ ...w.entry, canonicalizedBody: undefined });
  const der = assembleSignedData({ signedAttrs, signature, leaf: chain[0], tle, tst: opts.tst === false ? undefined : w.tst });
  return { pem: encodePem('SIGNED MESSAGE', der), signedAttrs, signature, leaf: chain[0], w };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gitseal-v2sig-'));
  sandbox = await startSandboxProcess(dir);
  trust = parseTrustedRoot(readFileSync(join(dir, 'trusted_root.json')));
  made = await signV2(payload);
});

afterAll(async () => {
  await stopSandboxProcess(dir, sandbox);
  rmSync(dir, { recursive: true, force: true });
});

needs('openssl').describe('Rekor v2 + RFC 3161 signature against the sandbox', () => {
  it('witnessV2 returns a verified v2 entry and a TSA time inside the certificate validity', () => {
    expect(made.w.entry.version).toBe('0.0.2');
    expect(made.w.entry.integratedTime).toBe(0n);
    expect(made.w.tsa).toBe(sandbox!.info.urls.tsa);
    expect(Math.abs(made.w.time.getTime() - Date.now())).toBeLessThan(120_000);
  });

  it('verifies with gitseal (time from the TSA token)', async () => {
    const r = await verifySignature({ signature: made.pem, payload, trust, offline: true });
    expect(r.message).toMatch(/good signature from v2@example\.test/);
    expect(r.ok).toBe(true);
    expect(r.integratedTime!.getTime()).toBe(made.w.time.getTime());
    expect(r.logIndex).toBe(made.w.entry.logIndex);
  });

  it('verifies with @sigstore/verify from the same pieces (independent implementation)', () => {
    const e = made.w.entry;
    expect(e.signedEntryTimestamp).toBeUndefined(); // Rekor v2: no SET, so the bundle carries no inclusion promise
    const bundle = bundleFromJSON({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: {
        certificate: { rawBytes: made.leaf.toString('base64') },
        tlogEntries: [bundleTlogEntry(e, e.canonicalizedBody!, { integratedTime: '0' })],
        // A bundle holds the whole TimeStampResp (status granted + token); the CMS holds only the token.
        timestampVerificationData: { rfc3161Timestamps: [{ signedTimestamp: der.seq(der.seq(der.int(0)), made.w.tst).toString('base64') }] },
      },
      messageSignature: {
        messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(made.signedAttrs).digest('base64') },
        signature: made.signature.toString('base64'),
      },
    });
    const trustJson = JSON.parse(readFileSync(join(dir, 'trusted_root.json'), 'utf8'));
    const verifier = new Verifier(toTrustMaterial(TrustedRootProto.fromJSON(trustJson)));
    const signer = verifier.verify(toSignedEntity(bundle, made.signedAttrs));
    expect(signer.identity?.subjectAlternativeName).toBe('v2@example.test');
  });

  it('openssl still verifies the CMS with the token and entry embedded', () => {
    writeFileSync(join(dir, 'sig.pem'), made.pem.replace(/SIGNED MESSAGE/g, 'PKCS7'));
    writeFileSync(join(dir, 'payload'), payload);
    // Signature and signed attributes only (-noverify: the Fulcio chain is checked above); throws on failure.
    execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'PEM', '-in', join(dir, 'sig.pem'), '-content', join(dir, 'payload'), '-noverify', '-out', '/dev/null'], { stdio: 'pipe' });
    writeFileSync(join(dir, 'payload'), Buffer.concat([payload, Buffer.from('x')]));
    expect(() => execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'PEM', '-in', join(dir, 'sig.pem'), '-content', join(dir, 'payload'), '-noverify', '-out', '/dev/null'], { stdio: 'pipe' })).toThrow();
  });

  it('fails without the timestamp, or with a token for another signature', async () => {
    const bare = await signV2(payload, { tst: false });
    const r = await verifySignature({ signature: bare.pem, payload, trust, offline: true });
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/no RFC 3161 timestamp/);

    const second = await signV2(payload);
    const swapped = assembleSignedData({
      signedAttrs: second.signedAttrs,
      signature: second.signature,
      leaf: second.leaf,
      tle: encodeTle({ ...second.w.entry, canonicalizedBody: undefined }),
      tst: made.w.tst,
    });
    const r2 = await verifySignature({ signature: swapped, payload, trust, offline: true });
    expect(r2.ok).toBe(false);
    expect(r2.message).toMatch(/different data/);
  });
});
