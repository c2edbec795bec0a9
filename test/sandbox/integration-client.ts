// Client-side helpers for the sandbox integration tests: tokens from the CLI,
// Fulcio certificates, Rekor entries, and verification with @sigstore/verify.
import { createHash, generateKeyPairSync, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { expect } from 'vitest';
import { sandboxCli } from './runner-helpers.js';

export function token(dir: string, args: string[]): string {
  const r = sandboxCli(['token', '--dir', dir, ...args]);
  expect(r.status, r.stderr).toBe(0);
  const jwt = r.stdout.trim();
  expect(jwt).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  return jwt;
}

export interface Identity { key: KeyObject; leafPem: string; leafDer: Buffer; chain: string[] }

/** Fulcio v2 signingCert with a public key and a proof of possession over `challenge`. */
export async function certify(fulcioUrl: string, jwt: string, challenge: string): Promise<Identity> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const res = await fetch(`${fulcioUrl}/api/v2/signingCert`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      credentials: { oidcIdentityToken: jwt },
      publicKeyRequest: {
        publicKey: { algorithm: 'ECDSA', content: publicKey.export({ type: 'spki', format: 'pem' }) },
        proofOfPossession: sign('sha256', Buffer.from(challenge), privateKey).toString('base64'),
      },
    }),
  });
  const json = (await res.json()) as any;
  expect(res.status, JSON.stringify(json)).toBeLessThan(300);
  const chain: string[] = json.signedCertificateEmbeddedSct.chain.certificates;
  const leaf = new X509Certificate(chain[0]);
  return { key: privateKey, leafPem: chain[0], leafDer: leaf.raw, chain };
}

export function hashedRekord(artifact: Buffer, id: Identity) {
  const digest = createHash('sha256').update(artifact).digest();
  const signature = sign('sha256', artifact, id.key);
  return {
    digest,
    signature,
    proposal: {
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: digest.toString('hex') } },
        signature: { content: signature.toString('base64'), publicKey: { content: Buffer.from(id.leafPem).toString('base64') } },
      },
    },
  };
}

export async function logEntry(rekorUrl: string, proposal: unknown): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(`${rekorUrl}/api/v1/log/entries`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(proposal),
  });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

/** A Rekor v1 response entry as a bundle TransparencyLogEntry (what sigstore-js's RekorWitness produces). */
export function toTle(e: any) {
  const p = e.verification.inclusionProof;
  return {
    logIndex: String(e.logIndex),
    logId: { keyId: Buffer.from(e.logID, 'hex').toString('base64') },
    kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
    integratedTime: String(e.integratedTime),
    inclusionPromise: { signedEntryTimestamp: e.verification.signedEntryTimestamp },
    inclusionProof: {
      logIndex: String(p.logIndex),
      rootHash: Buffer.from(p.rootHash, 'hex').toString('base64'),
      treeSize: String(p.treeSize),
      hashes: p.hashes.map((h: string) => Buffer.from(h, 'hex').toString('base64')),
      checkpoint: { envelope: p.checkpoint },
    },
    canonicalizedBody: e.body,
  };
}

export function sigstoreVerify(dir: string, artifact: Buffer, id: Identity, digest: Buffer, signature: Buffer, entry: any, policy: object) {
  const bundle = bundleFromJSON({
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { certificate: { rawBytes: id.leafDer.toString('base64') }, tlogEntries: [toTle(entry)], timestampVerificationData: { rfc3161Timestamps: [] } },
    messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: digest.toString('base64') }, signature: signature.toString('base64') },
  });
  const trustedRoot = TrustedRoot.fromJSON(JSON.parse(readFileSync(join(dir, 'trusted_root.json'), 'utf8')));
  return new Verifier(toTrustMaterial(trustedRoot)).verify(toSignedEntity(bundle, artifact), policy);
}

export const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

