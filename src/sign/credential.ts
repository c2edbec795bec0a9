/**
 * A signing credential: a fresh ephemeral ECDSA P-256 key and a short-lived
 * Fulcio certificate for it. The chain Fulcio returns is checked before use —
 * it must bind our key, chain to a CA of the trusted root and carry a valid
 * embedded SCT — so a wrong or hostile Fulcio cannot make us sign with a
 * certificate verifiers will reject (or one that is not ours).
 */
import { generateKeyPairSync } from 'node:crypto';
import type { GitsealConfig } from '../config/types.js';
import { GitsealError } from '../errors.js';
import { requestSigningCertificate } from '../fulcio/client.js';
import { trustForConfig } from '../trust/load.js';
import type { TrustedRoot } from '../trust/trusted-root.js';
import type { FetchLike } from '../util/http.js';
import { verifyChain } from '../verify/chain.js';
import { verifyEmbeddedSct } from '../verify/sct.js';
import { fulcioIssuer, parseCertificate, signerIdentity } from '../x509/certificate.js';
import type { Credential, IdentityToken } from './types.js';

export interface CredentialDeps {
  getToken(): Promise<IdentityToken>;
  fetch?: FetchLike;
  now?: () => Date;
  /** Default: loadTrustedRoot(config.trustedRoot). */
  trust?: TrustedRoot;
  env?: NodeJS.ProcessEnv;
  say?(line: string): void;
}

/**
 * Check a certificate chain for signing at `now`: the leaf holds `spki`, chains to
 * the trusted root by key, and has an SCT from a trusted CT log. Returns who it names.
 */
export function checkSigningChain(chain: Buffer[], trust: TrustedRoot, now: Date, spki?: Buffer): { identity: string; issuer: string; notBefore: Date; notAfter: Date } {
  if (chain.length === 0) throw new GitsealError('FULCIO', 'Fulcio returned no certificate');
  const leaf = parseCertificate(chain[0]);
  if (spki && !leaf.spki.equals(spki)) throw new GitsealError('FULCIO', 'Fulcio returned a certificate for a different key');
  // A server clock slightly ahead of ours must not fail a certificate issued just now.
  const at = new Date(Math.max(now.getTime(), leaf.notBefore.getTime()));
  let certificates: ReturnType<typeof verifyChain>["certificates"];
  try {
    ({ certificates } = verifyChain(leaf, chain.slice(1), trust, at));
    verifyEmbeddedSct(leaf, certificates[1], trust, at);
  } catch (e) {
    // Say which service handed us what: the chain came from Fulcio, not from the user.
    if (e instanceof GitsealError) throw new GitsealError(e.code, `Fulcio returned a certificate that does not check out against the trusted root: ${e.message}`, e);
    throw e;
  }
  const identity = signerIdentity(leaf);
  if (!identity) throw new GitsealError('FULCIO', 'the Fulcio certificate names no identity (no e-mail or URI SAN)');
  return { identity, issuer: fulcioIssuer(leaf) ?? '', notBefore: leaf.notBefore, notAfter: leaf.notAfter };
}

export async function obtainCredential(config: GitsealConfig, deps: CredentialDeps): Promise<Credential> {
  const now = deps.now ?? (() => new Date());
  const trust = deps.trust ?? trustForConfig(config, deps.env ?? process.env).root;
  const token = await deps.getToken();
  if (token.expiresAt.getTime() <= now().getTime()) {
    throw new GitsealError('BAD_TOKEN', `the identity token expired at ${token.expiresAt.toISOString()}`);
  }
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  deps.say?.(`Requesting a certificate from ${config.fulcioURL}…`);
  const { chain } = await requestSigningCertificate({ fulcioURL: config.fulcioURL, token, publicKey, privateKey, fetch: deps.fetch });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const info = checkSigningChain(chain, trust, now(), spki);
  return { privateKey, chain, notBefore: info.notBefore, notAfter: info.notAfter, identity: info.identity, issuer: info.issuer };
}
