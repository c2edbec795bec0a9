/**
 * The agent's half of `signPayload`: a whole gitsign-layout signature made with a held
 * credential — signed attributes, ECDSA, Rekor (and TSA) entry checked against the client's
 * trusted root, CMS — by the very function the client's own path uses (src/sign/sign-payload.ts).
 * Only the key stays here; the client gets the PEM and the SIG_CREATED fields.
 */
import { sign as ecdsaSign } from 'node:crypto';
import type { GitsealConfig } from '../config/types.js';
import { openPgpAlgorithms } from '../gpg/algorithms.js';
import { GitsealError } from '../errors.js';
import { signPayload } from '../sign/sign-payload.js';
import { withTrustHint } from '../verify/trust-hint.js';
import type { Credential } from '../sign/types.js';
import { trustForConfig, type LoadedTrustedRoot } from '../trust/load.js';
import { fingerprintSha1, parseCertificate } from '../x509/certificate.js';
import { configFromAgentConfig } from './obtain.js';
import type { PayloadSignResult, SignPayloadRequest } from './protocol.js';

/** The client's configuration as signPayload reads it. */
export function configForPayload(req: SignPayloadRequest): GitsealConfig {
  return {
    ...configFromAgentConfig(req.config),
    rekorVersion: req.signing.rekorVersion,
    timestampServerURL: req.signing.timestampServerURL,
    matchCommitter: req.signing.matchCommitter,
    fulcioRoot: req.signing.fulcioRoot,
    timestampCertChain: req.signing.timestampCertChain,
  };
}

/**
 * The trusted root the client names, read here. Its files are paths on the client's machine; on
 * a forwarded agent (ssh -R) they may not exist here, and the caller then lets the client sign
 * its own way rather than fail the commit.
 */
export function trustForRequest(req: SignPayloadRequest): LoadedTrustedRoot {
  return trustForConfig(configForPayload(req), req.trustEnv);
}

/** Sign `req.payload` with `cred`; throws what signPayload throws (Rekor, TSA, policy, time). */
export async function signPayloadWithCredential(
  req: SignPayloadRequest,
  loaded: LoadedTrustedRoot,
  cred: Credential,
  now: () => Date,
  say: (line: string) => void = () => {},
): Promise<PayloadSignResult> {
  const config = configForPayload(req);
  const signer = {
    sign: async (signedAttrs: Buffer) => ({
      // RFC 5652 §5.4: the signature is computed over the DER SET OF signed attributes.
      signature: ecdsaSign('sha256', signedAttrs, { key: cred.privateKey, dsaEncoding: 'der' }),
      chain: cred.chain,
    }),
  };
  const r = await signPayload(req.payload, {
    config,
    signer,
    tokenSource: () => Promise.reject(new Error('the agent signs with the credential it holds')),
    now,
    ui: { say },
    trust: loaded.root,
    env: req.trustEnv,
  }).catch((e: unknown) => {
    if (e instanceof GitsealError) throw new GitsealError(e.code, withTrustHint(e.code, e.message, loaded.source), e);
    throw e;
  });
  const [pk, hash] = openPgpAlgorithms(parseCertificate(r.leaf).signatureAlgorithm);
  return {
    pem: r.pem,
    pk,
    hash,
    time: Math.floor(r.signingTime.getTime() / 1000),
    fingerprint: fingerprintSha1(r.leaf),
    logIndex: r.logIndex.toString(),
    rekorURL: config.rekorURL,
    warnings: loaded.warnings.slice(0, 16).map((w) => w.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 1000)),
  };
}
