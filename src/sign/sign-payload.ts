/**
 * Sign one git payload the way gitsign's offline mode does (gitsign-protocol.md
 * §2.2, §2.4, §2.5): CMS signed attributes over SHA-256(payload), ECDSA with a
 * Fulcio-certified key, the signature logged to Rekor as hashedrekord v0.0.1
 * over sha256(signed attributes), and the verified log entry embedded in the
 * CMS so the signature verifies offline. With gitseal.timestampServerURL an
 * RFC 3161 timestamp over the signature is embedded too (gitsign §2.7); Rekor v2
 * (rekor-tiles, hashedrekord v0.0.2) requires one, as v2 entries carry no time.
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { assembleSignedData, buildSignedAttributes } from '../cms/build.js';
import type { GitsealConfig } from '../config/types.js';
import { GitsealError } from '../errors.js';
import { canonicalBody, hashedRekordV001, sha256 } from '../rekor/body.js';
import { uploadHashedRekord } from '../rekor/client-v1.js';
import { witnessV2 } from '../rekor/client-v2.js';
import { encodeTle, type TransparencyLogEntry } from '../rekor/tle.js';
import { requestTimestamp } from '../tsa/client.js';
import { verifyTimestampToken } from '../verify/timestamp.js';
import { trustForConfig } from '../trust/load.js';
import type { TrustedRoot } from '../trust/trusted-root.js';
import type { FetchLike } from '../util/http.js';
import { encodePem } from '../util/pem.js';
import { verifyTlogEntry } from '../verify/tlog.js';
import { parseCertificate } from '../x509/certificate.js';
import { checkSigningChain, obtainCredential } from './credential.js';
import { localSigner } from './local-signer.js';
import type { AttributeSigner, IdentityToken } from './types.js';

export interface SignOptions {
  config: GitsealConfig;
  /** Default: a fresh local credential (obtainCredential + localSigner). */
  signer?: AttributeSigner;
  tokenSource: () => Promise<IdentityToken>;
  now?: () => Date;
  ui: { say(line: string): void };
  fetch?: FetchLike;
  /** Default: loadTrustedRoot(config.trustedRoot). */
  trust?: TrustedRoot;
  env?: NodeJS.ProcessEnv;
}

export interface SignResult {
  /** `-----BEGIN SIGNED MESSAGE-----` armour, what git stores. */
  pem: string;
  der: Buffer;
  leaf: Buffer;
  logIndex: bigint;
  /** SAN e-mail or URI of the certificate. */
  identity: string;
  /** OIDC issuer recorded in the certificate. */
  issuer: string;
  signingTime: Date;
}

export async function signPayload(payload: Buffer, o: SignOptions): Promise<SignResult> {
  const cfg = o.config;
  const now = o.now ?? (() => new Date());
  if (cfg.rekorVersion === 2 && !cfg.timestampServerURL) {
    // v2 entries carry no trusted time; only a timestamp can show the certificate was valid.
    throw new GitsealError('CONFIG', 'Rekor v2 needs a timestamp authority: set gitseal.timestampServerURL (or use gitseal.rekorVersion 1)');
  }
  const trust = o.trust ?? trustForConfig(cfg, o.env ?? process.env).root;

  let signer = o.signer;
  let dispose: (() => void) | undefined;
  let notBefore: Date | undefined;
  if (!signer) {
    const cred = await obtainCredential(cfg, { getToken: o.tokenSource, fetch: o.fetch, now, trust, env: o.env, say: (l) => o.ui.say(l) });
    const local = localSigner(cred, now);
    signer = local;
    dispose = () => local.dispose();
    notBefore = cred.notBefore;
  }

  try {
    // Never date the signature before the certificate (a server clock a little ahead of ours).
    const t = now();
    const signingTime = notBefore && notBefore.getTime() > t.getTime() ? notBefore : t;
    const signedAttrs = buildSignedAttributes(payload, signingTime);
    const { signature, chain } = await signer.sign(signedAttrs);
    dispose?.();
    if (chain.length === 0) throw new GitsealError('INTERNAL', 'the signer returned no certificate');
    const leaf = chain[0];
    const leafCert = parseCertificate(leaf);

    // The signature must verify with the certificate we embed (guards the agent path too).
    if (!cryptoVerify('sha256', signedAttrs, { key: createPublicKey({ key: leafCert.spki, format: 'der', type: 'spki' }), dsaEncoding: 'der' }, signature)) {
      throw new GitsealError('SIGNATURE_MISMATCH', 'the signature does not verify with the signing certificate');
    }
    const { identity, issuer } = checkSigningChain(chain, trust, signingTime);
    if (cfg.matchCommitter && cfg.userEmail && identity.toLowerCase() !== cfg.userEmail.toLowerCase()) {
      throw new GitsealError('POLICY', `the certificate is for ${identity}, not user.email ${cfg.userEmail} (gitseal.matchCommitter is set)`);
    }

    o.ui.say(`Logging the signature to Rekor (${cfg.rekorURL})…`);
    const digest = sha256(signedAttrs);
    let entry: TransparencyLogEntry;
    let tst: Buffer | undefined;
    let loggedAt: Date;
    if (cfg.rekorVersion === 2) {
      // RFC 3161 timestamp over the signature, then the v2 entry; both checked against the trusted root.
      const w = await witnessV2({ rekorURL: cfg.rekorURL, tsaURL: cfg.timestampServerURL!, digest, signature, leafDer: leaf, trust, fetch: o.fetch });
      entry = w.entry;
      tst = w.tst;
      loggedAt = w.time;
    } else {
      if (cfg.timestampServerURL) {
        tst = await requestTimestamp(cfg.timestampServerURL, signature, { fetch: o.fetch });
        verifyTimestampToken(tst, signature, trust);
      }
      entry = await uploadHashedRekord({ rekorURL: cfg.rekorURL, digest, signature, leaf, fetch: o.fetch });
      // Check the entry as a verifier will: SET, inclusion proof, checkpoint, trusted log key.
      let tlog: ReturnType<typeof verifyTlogEntry>;
      try {
        tlog = verifyTlogEntry(entry, canonicalBody(hashedRekordV001(digest, signature, leaf)), trust);
      } catch (e) {
        if (e instanceof GitsealError) throw new GitsealError(e.code, `Rekor returned a log entry that does not verify against the trusted root: ${e.message}`, e);
        throw e;
      }
      loggedAt = tlog.integratedTime ?? new Date(Number(entry.integratedTime) * 1000);
    }
    if (loggedAt < leafCert.notBefore || loggedAt > leafCert.notAfter) {
      throw new GitsealError(
        'TIME',
        `the signature was logged at ${loggedAt.toISOString()}, outside the certificate's validity (${leafCert.notBefore.toISOString()} to ${leafCert.notAfter.toISOString()})`,
      );
    }

    // gitsign embeds the entry with canonicalized_body cleared; verifiers rebuild it.
    const tle = encodeTle({ ...entry, canonicalizedBody: undefined });
    const der = assembleSignedData({ signedAttrs, signature, leaf, tle, tst });
    o.ui.say(`Logged to Rekor at index ${entry.logIndex}`);
    return { pem: encodePem('SIGNED MESSAGE', der), der, leaf, logIndex: entry.logIndex, identity, issuer, signingTime };
  } finally {
    dispose?.();
  }
}
