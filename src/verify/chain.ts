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
import { unusualKey, verifyIssuedBy } from '../x509/signature.js';

/**
 * Untrusted certificates a path may draw on (the signature's certificates, after dropping the
 * leaf and byte copies of trusted ones). gitsign writes the leaf alone or [intermediate, leaf];
 * the deepest chain Fulcio hands out is leaf, intermediate, root. Four covers that chain plus
 * one more intermediate of a private CA; anything beyond is refused before any check.
 */
export const MAX_UNTRUSTED_CERTS = 4;
/**
 * CA certificates from the signature allowed between the leaf and a certificate of the
 * trusted root. A Sigstore trusted root lists each CA's whole chain (intermediates and root),
 * so real paths need none; one keeps a root that lists only its root CA usable.
 */
export const MAX_UNTRUSTED_DEPTH = 1;

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
 * Where a trusted certificate sits: which authority's chain, at which position. One
 * certificate may appear in several authorities (a CA listed again with another window).
 */
interface TrustedPlace {
  ca: Authority;
  chain: Certificate[];
  index: number;
}

/**
 * Path search from the leaf toward trusted CA keys, bounded whatever the input holds:
 * breadth first (shortest path first, so the depth cap cannot hide a short path), every
 * certificate expanded at most once, trusted candidates tried before untrusted ones, the
 * key-identifier hint (AKI/SKI) before any signature check, and each (certificate, issuer)
 * pair checked at most once — a failure is never checked again. Once the path reaches a
 * certificate of a trusted chain, the rest of that chain is trust material as the root lists
 * it and is appended without re-checking its signatures (P-384 checks cost milliseconds).
 * Cost: at most (1 + untrusted) × (trusted + untrusted) signature checks, whatever the
 * input; with the caps below, a few dozen at worst, a single one for a real Fulcio leaf.
 */
function findIssuerPath(leaf: Certificate, trusted: Certificate[], untrusted: Certificate[]): { prefix: Certificate[]; reached: Certificate[] } | undefined {
  const trustedSet = new Set(trusted);
  const parent = new Map<Certificate, Certificate>();
  const depth = new Map<Certificate, number>([[leaf, 0]]);
  const queue: Certificate[] = [leaf];
  const candidates = [...trusted, ...untrusted];
  for (let qi = 0; qi < queue.length; qi++) {
    const cert = queue[qi];
    const d = depth.get(cert)!;
    const aki = authorityKeyId(cert);
    // Every trusted issuer of this certificate (one key may sit in several CAs with other windows).
    const reached: Certificate[] = [];
    for (const cand of candidates) {
      if (cand === cert || depth.has(cand)) continue;
      const isTrusted = trustedSet.has(cand);
      // An untrusted CA is worth a check only while the depth cap allows another level.
      if (!isTrusted && (reached.length > 0 || d + 1 > MAX_UNTRUSTED_DEPTH)) continue;
      const ski = subjectKeyId(cand);
      if (aki && ski && !aki.equals(ski)) continue;
      if (!verifyIssuedBy(cert, cand)) continue;
      if (isTrusted) {
        reached.push(cand);
        continue;
      }
      parent.set(cand, cert);
      depth.set(cand, d + 1);
      queue.push(cand);
    }
    if (reached.length) {
      const prefix = [cert];
      for (let c = parent.get(cert); c; c = parent.get(c)) prefix.unshift(c);
      return { prefix, reached };
    }
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

interface Places {
  /** Copies of the chains' bytes this was built from, and the authority objects, to notice any change. */
  from: Authority[];
  chains: Buffer[][];
  places: Map<Certificate, TrustedPlace[]>;
  trusted: Certificate[];
  /** The trusted certificates' DER as latin1 strings (one character per byte): byte copies in a signature are dropped by these. */
  trustedDer: Set<string>;
}

/**
 * Places by the authorities' list (trust.certificateAuthorities, trust.timestampAuthorities):
 * range verification asks with the same two lists for every commit. An entry answers only while
 * the list holds the same authority objects with byte-identical chains (compared with the copies
 * taken when it was built), so no other trust root — nor this one changed in place — is ever
 * answered from it; anything else builds anew.
 */
const placesByList = new WeakMap<Authority[], Places>();

function stillValid(l: Places, authorities: Authority[]): boolean {
  if (l.from.length !== authorities.length) return false;
  for (let i = 0; i < authorities.length; i++) {
    const ca = authorities[i]!;
    const was = l.chains[i]!;
    if (ca !== l.from[i] || ca.certChain.length !== was.length) return false;
    for (let j = 0; j < was.length; j++) if (!ca.certChain[j]!.equals(was[j]!)) return false;
  }
  return true;
}

/**
 * Where each trusted certificate sits, parsed once (by exact bytes, so one certificate listed by
 * several authorities is one object here) and kept while the same authorities are asked about.
 */
function trustedPlaces(authorities: Authority[]): Places {
  const l = placesByList.get(authorities);
  if (l && stillValid(l, authorities)) return l;
  const chains = authorities.map((ca) => ca.certChain.map((b) => Buffer.from(b)));
  const places = new Map<Certificate, TrustedPlace[]>();
  authorities.forEach((ca, i) => {
    const chain = chains[i]!.map(parseCertificateCached);
    chain.forEach((c, index) => {
      const list = places.get(c) ?? [];
      list.push({ ca, chain, index });
      places.set(c, list);
    });
  });
  const trusted = [...places.keys()];
  const built: Places = { from: [...authorities], chains, places, trusted, trustedDer: new Set(trusted.map((c) => c.der.toString('latin1'))) };
  placesByList.set(authorities, built);
  return built;
}

let untrustedParses = 0;

/** Certificates from `extra` parsed by verifyChainTo in this thread (tests bound a hostile list's cost with it). */
export function untrustedCertificateCount(): number {
  return untrustedParses;
}

/**
 * The signature's certificates a path may use: byte copies of the leaf, of a trusted certificate
 * or of one already taken dropped (a Set of their bytes: linear in the input), and refused as
 * soon as more than MAX_UNTRUSTED_CERTS distinct ones are seen — before any is parsed past the
 * cap. (The CMS parser holds a signature to 10 certificates and the gitsign layout to
 * MAX_SIGNATURE_CERTS; a Fulcio or TSA answer and the library's callers reach here unbounded.)
 */
function untrustedOf(extra: (Buffer | Certificate)[], leaf: Certificate, trustedDer: Set<string>): Certificate[] {
  const seen = new Set<string>([leaf.der.toString('latin1')]);
  const out: Certificate[] = [];
  for (const e of extra) {
    const key = (Buffer.isBuffer(e) ? e : e.der).toString('latin1');
    if (seen.has(key) || trustedDer.has(key)) continue;
    seen.add(key);
    if (out.length === MAX_UNTRUSTED_CERTS) {
      fail(`the signature carries more than ${MAX_UNTRUSTED_CERTS} untrusted certificates; at most ${MAX_UNTRUSTED_CERTS} are accepted`);
    }
    untrustedParses++;
    out.push(asCert(e));
  }
  return out;
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
  const { places, trusted, trustedDer } = trustedPlaces(authorities);
  const untrusted = untrustedOf(extra, leafCert, trustedDer);
  // A CA key no Sigstore CA uses cannot lead to a trusted key, and could make each check slow.
  const usable = untrusted.filter((c) => !unusualKey(c.spki));
  const found = findIssuerPath(leafCert, trusted, usable);
  let outOfWindow: Authority | undefined;
  for (const place of found ? found.reached.flatMap((c) => places.get(c)!) : []) {
    const { ca } = place;
    const path = [...found!.prefix, ...place.chain.slice(place.index)];
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
