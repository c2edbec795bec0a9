/**
 * Certificate path validation for Fulcio leaves (RFC 5280 §6, reduced to what
 * Sigstore needs). Paths are built by key — AKI/SKI as a hint, then an actual
 * signature check — never by name: two public-good roots share one subject DN,
 * and a forged CA carrying the real names must not be accepted.
 */
import { GitsealError } from '../errors.js';
import { inValidity, type CertificateAuthority, type TrustedRoot } from '../trust/trusted-root.js';
import {
  authorityKeyId,
  basicConstraints,
  extKeyUsage,
  isValidAt,
  keyUsage,
  parseCertificate,
  parseCertificateCached,
  subjectKeyId,
  type Certificate,
} from '../x509/certificate.js';
import { OID } from '../x509/oids.js';
import { verifyIssuedBy } from '../x509/signature.js';

const MAX_DEPTH = 6;

/** Extensions we understand; any other critical extension fails the path (RFC 5280 §4.2). */
const HANDLED_CRITICAL = new Set<string>([
  OID.subjectKeyIdentifier,
  OID.keyUsage,
  OID.subjectAltName,
  OID.basicConstraints,
  OID.authorityKeyIdentifier,
  OID.extKeyUsage,
]);

export interface ChainResult {
  /** Leaf first, trusted root last (DER). */
  path: Buffer[];
  /** Parsed path, same order. */
  certificates: Certificate[];
  ca: CertificateAuthority;
}

export interface ChainOptions {
  /** Check the leaf's own validity at `at` too (default true). The pipeline checks it separately to name the failure. */
  checkLeafValidity?: boolean;
}

/** A trusted certificate chain with a validity window: a Fulcio CA or a timestamp authority. */
export interface Authority {
  uri: string;
  certChain: Buffer[];
  validFor: CertificateAuthority['validFor'];
}

function asCert(c: Buffer | Certificate): Certificate {
  return Buffer.isBuffer(c) ? parseCertificate(c) : c;
}

function fail(msg: string): never {
  throw new GitsealError('CHAIN', msg);
}

/**
 * Depth-first search for a path from `cert` up to the root of `chain` (the
 * trusted CA chain, root last), by key. Once the path reaches a certificate of
 * the trusted chain itself, the rest of that chain is trust material as the
 * root lists it, so it is appended without re-checking its signatures (P-384
 * verification costs milliseconds on the hot path).
 */
function buildPath(cert: Certificate, candidates: Certificate[], chain: Certificate[], path: Certificate[]): Certificate[] | undefined {
  if (path.length > MAX_DEPTH) return undefined;
  if (path.length > 1) {
    const k = chain.findIndex((c) => c.der.equals(cert.der));
    if (k >= 0) return [...path, ...chain.slice(k + 1)];
  }
  const aki = authorityKeyId(cert);
  for (const cand of candidates) {
    if (path.some((p) => p.der.equals(cand.der))) continue;
    const ski = subjectKeyId(cand);
    if (aki && ski && !aki.equals(ski)) continue;
    if (!verifyIssuedBy(cert, cand)) continue;
    const found = buildPath(cand, candidates, chain, [...path, cand]);
    if (found) return found;
  }
  return undefined;
}

function checkCaCert(c: Certificate, below: number): void {
  const bc = basicConstraints(c);
  if (!bc.ca) fail(`certificate "${c.subjectString}" in the chain is not a CA`);
  const ku = keyUsage(c);
  if (ku && !ku.keyCertSign) fail(`CA certificate "${c.subjectString}" may not sign certificates`);
  // pathLenConstraint counts the non-self-issued intermediates below this CA (RFC 5280 §4.2.1.9).
  if (bc.pathLen !== undefined && below > bc.pathLen) fail(`CA certificate "${c.subjectString}" path length exceeded`);
}

function checkCritical(c: Certificate, what: string): void {
  for (const e of c.extensions) {
    if (e.critical && !HANDLED_CRITICAL.has(e.oid)) fail(`${what} has an unknown critical extension ${e.oid}`);
  }
}

/**
 * Verify that `leaf` chains to a certificate authority of `trust` at time `at`.
 * `extra` are untrusted certificates from the signature that may serve as
 * intermediates. Throws GitsealError('CHAIN' | 'TIME') naming what failed.
 */
export function verifyChain(
  leaf: Buffer | Certificate,
  extra: (Buffer | Certificate)[],
  trust: TrustedRoot,
  at: Date,
  opts: ChainOptions = {},
): ChainResult {
  const r = verifyChainTo(leaf, extra, trust.certificateAuthorities, at, { ...opts, eku: OID.ekuCodeSigning, what: 'Fulcio CA' });
  return r as ChainResult;
}

/**
 * The same path validation against any list of trusted chains, requiring the
 * leaf EKU `eku` (codeSigning for Fulcio, timeStamping for a TSA).
 */
export function verifyChainTo(
  leaf: Buffer | Certificate,
  extra: (Buffer | Certificate)[],
  authorities: Authority[],
  at: Date,
  opts: ChainOptions & { eku: string; what: string },
): { path: Buffer[]; certificates: Certificate[]; ca: Authority } {
  const leafCert = asCert(leaf);
  const extras = extra.map(asCert).filter((c) => !c.der.equals(leafCert.der));
  let outOfWindow: Authority | undefined;
  for (const ca of authorities) {
    // The same few trusted chains for every signature: parsed once (by exact bytes).
    const chain = ca.certChain.map(parseCertificateCached);
    const path = buildPath(leafCert, [...chain, ...extras], chain, [leafCert]);
    if (!path) continue;
    if (!inValidity(ca.validFor, at)) {
      outOfWindow = ca;
      continue;
    }
    const checkLeaf = opts.checkLeafValidity !== false;
    path.forEach((c, i) => {
      if (i === 0 && !checkLeaf) return;
      if (!isValidAt(c, at)) {
        const who = i === 0 ? 'the signing certificate' : `CA certificate "${c.subjectString}"`;
        throw new GitsealError(
          i === 0 ? 'TIME' : 'CHAIN',
          `${who} was not valid at ${at.toISOString()} (valid ${c.notBefore.toISOString()} to ${c.notAfter.toISOString()})`,
        );
      }
    });
    path.slice(1).forEach((c, i) => {
      checkCaCert(c, i);
      checkCritical(c, `CA certificate "${c.subjectString}"`);
    });
    if (basicConstraints(leafCert).ca) fail('the signing certificate is a CA certificate');
    checkCritical(leafCert, 'the signing certificate');
    const eku = extKeyUsage(leafCert);
    if (!eku || !eku.includes(opts.eku)) {
      fail(`the signing certificate is not valid for ${opts.eku === OID.ekuCodeSigning ? 'code signing' : 'time stamping'} (EKU)`);
    }
    const ku = keyUsage(leafCert);
    if (ku && !ku.digitalSignature) fail('the signing certificate may not make digital signatures (key usage)');
    return { path: path.map((c) => c.der), certificates: path, ca };
  }
  if (outOfWindow) {
    fail(`the certificate chains to the ${opts.what} ${outOfWindow.uri}, but that ${opts.what} was not trusted at ${at.toISOString()}`);
  }
  return fail(`the certificate does not chain to a trusted ${opts.what}`);
}
