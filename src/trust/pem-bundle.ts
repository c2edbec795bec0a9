/**
 * Trust material from the PEM files gitsign and cosign take in the
 * environment, turned into the pieces of a TrustedRoot:
 *
 * - a Fulcio CA bundle (GITSIGN_FULCIO_ROOT / SIGSTORE_ROOT_FILE): as in
 *   gitsign, self-signed certificates are roots and the rest intermediates;
 *   each intermediate is chained to a root by key (authority/subject key id
 *   as a hint, then the signature), giving one CertificateAuthority per path;
 * - public keys (SIGSTORE_REKOR_PUBLIC_KEY, SIGSTORE_CT_LOG_PUBLIC_KEY_FILE):
 *   one log entry per key, log id = SHA-256 of the DER SubjectPublicKeyInfo
 *   (Rekor v1 and RFC 6962 §3.2 CT log ids);
 * - a timestamp authority chain (SIGSTORE_TSA_CERTIFICATE_FILE): leaf first,
 *   root last, as TrustedRoot timestampAuthorities hold it.
 *
 * Entries get an open validity window (Unix epoch, no end), as sigstore-go
 * does when it assembles a trusted root from these files; the certificates'
 * own notBefore/notAfter still apply during verification.
 *
 * Pure: text in, entries out; `file` only names the source in messages.
 */
import { createHash } from 'node:crypto';
import { GitsealError } from '../errors.js';
import { decodePemAll } from '../util/pem.js';
import { authorityKeyId, basicConstraints, parseCertificate, subjectKeyId, type Certificate } from '../x509/certificate.js';
import { publicKeyFromSpki, verifyIssuedBy } from '../x509/signature.js';
import type { CertificateAuthority, TimestampAuthority, TransparencyLogKey, ValidFor } from './trusted-root.js';

/** The open window of entries built from bare PEM files. */
export const OPEN_VALIDITY: ValidFor = Object.freeze({ start: new Date(0) }) as ValidFor;

const MAX_CERTS = 64;
const MAX_DEPTH = 8;

function bad(file: string, msg: string): never {
  throw new GitsealError('TRUST_ROOT', `${file}: ${msg}`);
}

function describe(c: Certificate): string {
  return c.subjectString ? `"${c.subjectString}"` : '(empty subject)';
}

/** The CERTIFICATE blocks of `text`, parsed, duplicates dropped. Other blocks are an error. */
function certificates(text: string, file: string): Certificate[] {
  let blocks;
  try {
    blocks = decodePemAll(text);
  } catch (e) {
    bad(file, (e as Error).message);
  }
  if (blocks.length === 0) bad(file, 'no PEM CERTIFICATE block found');
  const other = blocks.find((b) => b.label !== 'CERTIFICATE');
  if (other) bad(file, `unexpected "${other.label}" PEM block (only CERTIFICATE blocks belong here)`);
  if (blocks.length > MAX_CERTS) bad(file, `more than ${MAX_CERTS} certificates`);
  const out: Certificate[] = [];
  blocks.forEach((b, i) => {
    let c: Certificate;
    try {
      c = parseCertificate(b.der);
    } catch (e) {
      bad(file, `certificate ${i + 1} is malformed: ${(e as Error).message}`);
    }
    if (!out.some((o) => o.der.equals(c.der))) out.push(c);
  });
  return out;
}

/** RFC 5280 §6.1: `issuer` produced `cert` — key id hint (when both present), then the signature. */
function issued(issuer: Certificate, cert: Certificate): boolean {
  const aki = authorityKeyId(cert);
  const ski = subjectKeyId(issuer);
  if (aki && ski && !aki.equals(ski)) return false;
  return verifyIssuedBy(cert, issuer);
}

const selfSignedMemo = new WeakMap<Certificate, boolean>();

/** Self-signed: issuer name = subject name and its own key verifies it (memoised: P-384 checks cost ~1 ms). */
function selfSigned(c: Certificate): boolean {
  let v = selfSignedMemo.get(c);
  if (v === undefined) {
    v = c.subject.equals(c.issuer) && issued(c, c);
    selfSignedMemo.set(c, v);
  }
  return v;
}

/** Every path from `c` up through `pool` to a self-signed root, `c` first. */
function pathsToRoots(c: Certificate, pool: Certificate[], path: Certificate[] = [c]): Certificate[][] {
  if (selfSigned(c)) return [path];
  if (path.length > MAX_DEPTH) return [];
  const out: Certificate[][] = [];
  for (const p of pool) {
    if (path.some((q) => q.der.equals(p.der)) || !issued(p, c)) continue;
    out.push(...pathsToRoots(p, pool, [...path, p]));
  }
  return out;
}

/**
 * A Fulcio CA bundle → CertificateAuthority entries (certChain: intermediates…,
 * root last). Every intermediate must chain to a root in the same file and
 * every certificate must be a CA; a root nothing in the file chains to is an
 * entry of its own (leaves issued directly by it).
 */
export function certificateAuthoritiesFromPem(text: string, file: string, uri = ''): CertificateAuthority[] {
  const certs = certificates(text, file);
  for (const c of certs) if (!basicConstraints(c).ca) bad(file, `certificate ${describe(c)} is not a CA certificate`);
  const roots = certs.filter(selfSigned);
  if (roots.length === 0) bad(file, 'no self-signed root certificate (a Fulcio root bundle needs its root)');
  const intermediates = certs.filter((c) => !roots.includes(c));
  // The lowest intermediates: those that issued no other certificate of the bundle.
  const lowest = intermediates.filter((c) => !intermediates.some((o) => o !== c && issued(c, o)));
  const out: CertificateAuthority[] = [];
  const covered = new Set<Certificate>();
  for (const c of lowest) {
    const paths = pathsToRoots(c, certs);
    if (paths.length === 0) bad(file, `intermediate certificate ${describe(c)} does not chain to a root in the file`);
    for (const p of paths) {
      p.forEach((q) => covered.add(q));
      out.push({ uri, certChain: p.map((q) => q.der), validFor: OPEN_VALIDITY });
    }
  }
  for (const c of intermediates) {
    if (!covered.has(c)) bad(file, `intermediate certificate ${describe(c)} does not chain to a root in the file`);
  }
  for (const r of roots) if (!covered.has(r)) out.push({ uri, certChain: [r.der], validFor: OPEN_VALIDITY });
  return out;
}

/**
 * A timestamp authority chain → TimestampAuthority entries (certChain: leaf
 * first, root last), one per signing certificate in the file. The root must
 * be in the file, as sigstore-go requires.
 */
export function timestampAuthoritiesFromPem(text: string, file: string, uri = ''): TimestampAuthority[] {
  const certs = certificates(text, file);
  const nonRoots = certs.filter((c) => !selfSigned(c));
  const leaves = nonRoots.filter((c) => !basicConstraints(c).ca);
  if (leaves.length === 0) bad(file, 'no timestamp signing certificate (the file must hold the TSA chain, leaf to root)');
  const out: TimestampAuthority[] = [];
  for (const leaf of leaves) {
    const paths = pathsToRoots(leaf, certs);
    if (paths.length === 0) bad(file, `timestamp certificate ${describe(leaf)} does not chain to a root in the file`);
    for (const p of paths) out.push({ uri, certChain: p.map((q) => q.der), validFor: OPEN_VALIDITY });
  }
  return out;
}

/** The protobuf-specs PublicKeyDetails name for a key, for display; throws on keys Sigstore does not use. */
export function keyDetailsFor(spki: Buffer, file: string): string {
  let key;
  try {
    key = publicKeyFromSpki(spki);
  } catch {
    bad(file, 'the public key is malformed or of an unsupported type');
  }
  const d = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec':
      if (d.namedCurve === 'prime256v1') return 'PKIX_ECDSA_P256_SHA_256';
      if (d.namedCurve === 'secp384r1') return 'PKIX_ECDSA_P384_SHA_384';
      if (d.namedCurve === 'secp521r1') return 'PKIX_ECDSA_P521_SHA_512';
      return bad(file, `unsupported elliptic curve ${d.namedCurve ?? '?'}`);
    case 'ed25519':
      return 'PKIX_ED25519';
    case 'rsa':
      if (d.modulusLength === 2048 || d.modulusLength === 3072 || d.modulusLength === 4096) return `PKIX_RSA_PKCS1V15_${d.modulusLength}_SHA256`;
      return bad(file, `unsupported RSA key size ${d.modulusLength ?? '?'}`);
    default:
      return bad(file, `unsupported public key type ${key.asymmetricKeyType ?? '?'}`);
  }
}

/**
 * PEM PUBLIC KEY block(s) → transparency log entries with logId =
 * SHA-256(DER SubjectPublicKeyInfo): the Rekor v1 log id, and the RFC 6962
 * §3.2 CT log id. (Rekor v2 checkpoint key ids differ: use a trusted_root.json.)
 */
export function logKeysFromPem(text: string, file: string, baseUrl = ''): TransparencyLogKey[] {
  let blocks;
  try {
    blocks = decodePemAll(text);
  } catch (e) {
    bad(file, (e as Error).message);
  }
  const keys = blocks.filter((b) => b.label === 'PUBLIC KEY');
  if (keys.length === 0) bad(file, 'no PEM "PUBLIC KEY" block found');
  const other = blocks.find((b) => b.label !== 'PUBLIC KEY');
  if (other) bad(file, `unexpected "${other.label}" PEM block (only PUBLIC KEY blocks belong here)`);
  const out: TransparencyLogKey[] = [];
  for (const k of keys) {
    if (out.some((o) => o.publicKey.equals(k.der))) continue;
    out.push({
      baseUrl,
      logId: createHash('sha256').update(k.der).digest(),
      publicKey: k.der,
      keyDetails: keyDetailsFor(k.der, file),
      validFor: OPEN_VALIDITY,
    });
  }
  return out;
}
