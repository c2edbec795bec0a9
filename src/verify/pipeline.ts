/**
 * verifySignature: the whole check of a gitsign/gitseal CMS signature over a
 * git payload, in a fixed order, failing closed. Every step that is not
 * established ends verification with a result naming that step.
 */
import { createHash, hash } from 'node:crypto';
import { GitsealError, isGitsealError, type ErrorCode } from '../errors.js';
import { canonicalHashedRekordV001 } from '../rekor/body.js';
import type { RekorLogEntry, RekorSearch } from '../rekor/search.js';
import { decodeTle, type TransparencyLogEntry } from '../rekor/tle.js';
import { inValidity, type TrustedRoot } from '../trust/trusted-root.js';
import { decodeTime, TAG } from '../util/der.js';
import { decodePem, encodePem } from '../util/pem.js';
import {
  fingerprintSha1,
  fulcioClaims,
  fulcioIssuer,
  isValidAt,
  parseCertificateCached,
  signerIdentity,
  subjectAltNames,
  type Certificate,
} from '../x509/certificate.js';
import { OID } from '../x509/oids.js';
import { unusualKey, verifyWithSpki } from '../x509/signature.js';
import { CMS_OID, findSignerCertificate, parseSignedData, singleValue, type SignedData, type SignerInfo } from '../cms/parse.js';
import { checkGitSignatureLayout } from '../cms/gitsign-layout.js';
import { payloadIdentity } from '../git/object.js';
import { verifyChain } from './chain.js';
import { signedObjectId } from './online.js';
import { evaluatePolicy, hasConstraints, type Policy } from './policy.js';
import type { CertificateDetails, CheckName, VerifyResult } from './result.js';
import { verifyEmbeddedSct } from './sct.js';
import { verifyTimestampToken } from './timestamp.js';
import { hashedRekordV002Body, verifyTlogEntry, type TlogVerification } from './tlog.js';

export type { VerifyResult, CheckName, CertificateDetails } from './result.js';

export interface VerifyInput {
  /** PEM "SIGNED MESSAGE" text or DER. */
  signature: string | Buffer;
  /** Exactly the bytes git signs (object without its signature). */
  payload: Buffer;
  trust: TrustedRoot;
  policy?: Policy;
  /** Never touch the network. */
  offline: boolean;
  /** Reserved for checks against the current time; verification itself uses the log's time. */
  now?: Date;
  /** Rekor search client, used only when online and the signature carries no log entry. */
  rekorSearch?: RekorSearch;
  /**
   * Skip the embedded-SCT check, and only that (cosign's and gitsign's --insecure-ignore-sct).
   * Only `gitseal verify --insecure-ignore-sct` sets it: git's --verify path, the hook and the
   * library's defaults never do. The result then carries `sctSkipped`.
   */
  ignoreSct?: boolean;
}

const DIGESTS: Record<string, string> = {
  [CMS_OID.sha256]: 'sha256',
  [CMS_OID.sha384]: 'sha384',
  [CMS_OID.sha512]: 'sha512',
};

/** gitsign checks online-mode chains at notBefore + 1 minute (internal/fork/ietf-cms/verify.go). */
const ONLINE_CHAIN_SKEW_MS = 60_000;

class Stop extends Error {
  constructor(
    readonly check: CheckName,
    readonly kind: 'bad' | 'error',
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function stop(check: CheckName, kind: 'bad' | 'error', code: ErrorCode, message: string): never {
  throw new Stop(check, kind, code, message);
}

/** Run `fn`; turn a GitsealError into a Stop for `check`. */
function step<T>(check: CheckName, fn: () => T, kind: 'bad' | 'error' = 'error'): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof Stop) throw e;
    if (isGitsealError(e)) stop(check, kind, e.code, e.message);
    throw e;
  }
}

/** The signature algorithm to verify a SignerInfo with; CMS allows naming just the key type. */
function signerAlgorithm(si: SignerInfo): string {
  const a = si.signatureAlgorithm;
  const d = DIGESTS[si.digestAlgorithm];
  if (a === OID.rsaEncryption) return d === 'sha384' ? OID.sha384WithRsa : d === 'sha512' ? OID.sha512WithRsa : OID.sha256WithRsa;
  if (a === OID.ecPublicKey) return d === 'sha384' ? OID.ecdsaWithSha384 : d === 'sha512' ? OID.ecdsaWithSha512 : OID.ecdsaWithSha256;
  return a;
}

function details(c: Certificate): CertificateDetails {
  const san = subjectAltNames(c);
  const claims: Record<string, string> = {};
  for (const [k, v] of Object.entries(fulcioClaims(c))) if (v !== undefined) claims[k] = v;
  return {
    serial: c.serialRaw.toString('hex').replace(/^00(?=[89a-f])/, ''),
    issuer: c.issuerString,
    subject: c.subjectString,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    emails: san.emails,
    uris: san.uris,
    claims,
  };
}

/** The embedded log entry, or undefined for online-mode (and pre-release) signatures. */
function embeddedEntry(si: SignerInfo): TransparencyLogEntry | undefined {
  const v = singleValue(si.unsignedAttrs, CMS_OID.rekorTle, 'transparency log entry');
  // The Jan-2023 pre-release layout used …3.1 for a string: no protobuf entry there.
  if (!v || v.tag !== TAG.OCTET_STRING) return undefined;
  return decodeTle(v.value);
}

/**
 * gitsign's January-2023 pre-release "offline" layout (sigstore/gitsign c47e8bf5c862): the entry
 * spread over unsigned attributes 1.3.6.1.4.1.57264.3.0–3.8, with 3.1 a string rather than the
 * protobuf entry gitsign released. No released gitsign writes or reads it.
 */
function preReleaseLayout(si: SignerInfo): boolean {
  const v = singleValueOrUndefined(si, CMS_OID.rekorTle);
  return si.unsignedAttrs.has('1.3.6.1.4.1.57264.3.0') || (v !== undefined && v.tag !== TAG.OCTET_STRING);
}

function singleValueOrUndefined(si: SignerInfo, oid: string): { tag: number } | undefined {
  try {
    return singleValue(si.unsignedAttrs, oid, 'attribute');
  } catch {
    return undefined;
  }
}

const PRE_RELEASE =
  "this signature uses gitsign's January-2023 pre-release log layout (attributes 1.3.6.1.4.1.57264.3.0–3.8), which no gitsign release writes or reads; its Rekor proof cannot be checked";

/** Find and verify gitsign's online-mode Rekor entry for this signature. */
async function searchOnline(
  input: VerifyInput,
  search: RekorSearch,
  leaf: Certificate,
): Promise<TlogVerification> {
  const sigText = typeof input.signature === 'string' ? input.signature : input.signature[0] === 0x30 ? encodePem('SIGNED MESSAGE', input.signature) : input.signature.toString('utf8');
  const oid = signedObjectId(input.payload, sigText);
  if (!oid) throw new GitsealError('TLOG', 'the payload is neither a commit nor a tag, so its Rekor entry cannot be found');
  const want = createHash('sha256').update(oid).digest('hex');
  const leafPem = encodePem('CERTIFICATE', leaf.der);
  const entries = await search.entriesForCertificate(leafPem);
  let lastErr: unknown;
  for (const e of entries) {
    try {
      return verifyOnlineEntry(e, want, oid, leaf, input.trust);
    } catch (err) {
      lastErr = err;
    }
  }
  if (lastErr && isGitsealError(lastErr) && lastErr.code !== 'TLOG_MISSING') throw lastErr;
  throw new GitsealError('TLOG_MISSING', `no Rekor entry for ${oid.slice(0, 12)} signed by this certificate was found`);
}

function verifyOnlineEntry(e: RekorLogEntry, wantHex: string, oid: string, leaf: Certificate, trust: TrustedRoot): TlogVerification {
  const body = Buffer.from(e.body, 'base64');
  let parsed: { apiVersion?: string; kind?: string; spec?: { data?: { hash?: { algorithm?: string; value?: string } }; signature?: { content?: string; publicKey?: { content?: string } } } };
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new GitsealError('TLOG_MISSING', 'not a hashedrekord entry');
  }
  const spec = parsed.spec;
  if (parsed.kind !== 'hashedrekord' || parsed.apiVersion !== '0.0.1' || spec?.data?.hash?.algorithm !== 'sha256' || spec.data.hash.value !== wantHex) {
    throw new GitsealError('TLOG_MISSING', 'entry is for another artifact');
  }
  const pem = Buffer.from(spec.signature?.publicKey?.content ?? '', 'base64').toString('utf8');
  let certDer: Buffer;
  try {
    certDer = decodePem(pem, 'CERTIFICATE');
  } catch {
    throw new GitsealError('TLOG_MISSING', 'entry has no certificate');
  }
  if (!certDer.equals(leaf.der)) throw new GitsealError('TLOG_MISSING', 'entry is for another certificate');
  const sig = Buffer.from(spec.signature?.content ?? '', 'base64');
  if (!verifyWithSpki(leaf.spki, OID.ecdsaWithSha256, Buffer.from(oid, 'utf8'), sig)) {
    throw new GitsealError('TLOG', 'the Rekor entry\'s signature over the object id does not verify');
  }
  const p = e.verification?.inclusionProof;
  const tle: TransparencyLogEntry = {
    logIndex: BigInt(e.logIndex),
    logId: Buffer.from(e.logID, 'hex'),
    kind: 'hashedrekord',
    version: '0.0.1',
    integratedTime: BigInt(e.integratedTime),
    signedEntryTimestamp: e.verification?.signedEntryTimestamp ? Buffer.from(e.verification.signedEntryTimestamp, 'base64') : undefined,
    inclusionProof: p
      ? {
          logIndex: BigInt(p.logIndex ?? 0),
          rootHash: Buffer.from(p.rootHash ?? '', 'hex'),
          treeSize: BigInt(p.treeSize ?? 0),
          hashes: (p.hashes ?? []).map((h) => Buffer.from(h, 'hex')),
          checkpoint: p.checkpoint ?? '',
        }
      : undefined,
  };
  return verifyTlogEntry(tle, body, trust);
}

/** Verify a git signature. Never throws for a verification failure; the result says what failed. */
export async function verifySignature(input: VerifyInput): Promise<VerifyResult> {
  const r: VerifyResult = { ok: false, kind: 'error', message: '' };
  try {
    // 1. Parse: the payload by the rules objects are read with (git's path gets only the
    // payload: an object gitseal verify refuses must not pass here), then the signature, held
    // to gitsign's layout (src/cms/gitsign-layout.ts).
    step('parse', () => payloadIdentity(input.payload));
    const sd: SignedData = step('parse', () => parseSignedData(input.signature));
    if (!sd.detached) stop('parse', 'error', 'BAD_CMS', 'the signature is not detached');
    step('parse', () => checkGitSignatureLayout(sd));
    const si = sd.signerInfos[0];
    // By exact bytes: a history signed through the agent repeats one leaf (x509/certificate.ts).
    const certs = step('parse', () => sd.certificates.map((c) => parseCertificateCached(c)));
    const leaf = findSignerCertificate(si, certs);
    if (!leaf) stop('signature', 'error', 'BAD_CMS', 'the signature does not contain the certificate of its signer');
    r.fingerprint = fingerprintSha1(leaf);
    step('parse', () => {
      // Extensions are decoded lazily; malformed ones surface here.
      r.identity = signerIdentity(leaf);
      r.issuer = fulcioIssuer(leaf);
      r.certificate = details(leaf);
    });
    if (!si.signedAttrsSet) stop('parse', 'error', 'BAD_CMS', 'the signature has no signed attributes');
    const st = singleValue(si.signedAttrs, CMS_OID.signingTime, 'signingTime');
    if (st) r.signingTime = step('parse', () => decodeTime(st));

    // 2. contentType attribute must be id-data and agree with eContentType (RFC 5652 §11.1).
    step('content-type', () => {
      const ct = singleValue(si.signedAttrs, CMS_OID.contentType, 'contentType');
      if (!ct || ct.tag !== TAG.OID || ct.raw.toString('hex') !== '06092a864886f70d010701' || sd.eContentType !== CMS_OID.data) {
        throw new GitsealError('BAD_CMS', 'the signed content type is not id-data');
      }
    });

    // 3. messageDigest == H(payload) (RFC 5652 §11.2): binds the signature to this commit/tag.
    const hashName = DIGESTS[si.digestAlgorithm];
    if (!hashName) stop('message-digest', 'error', 'BAD_CMS', `unsupported digest algorithm ${si.digestAlgorithm}`);
    const md = step('message-digest', () => singleValue(si.signedAttrs, CMS_OID.messageDigest, 'messageDigest'));
    if (!md || md.tag !== TAG.OCTET_STRING) stop('message-digest', 'error', 'BAD_CMS', 'the signature has no message digest');
    if (!hash(hashName, input.payload, 'buffer').equals(md.value)) {
      stop('message-digest', 'bad', 'CONTENT_MISMATCH', 'the signature does not match the commit or tag content');
    }

    // 4. The signature over the DER signed attributes re-tagged as SET (RFC 5652 §5.4), with a
    // key of a kind Fulcio certifies (the key, still unverified, sets the price of the check).
    const unusual = unusualKey(leaf.spki);
    if (unusual) stop('signature', 'error', 'BAD_CERTIFICATE', `the signing certificate holds ${unusual}, not a key Fulcio certifies`);
    if (!verifyWithSpki(leaf.spki, signerAlgorithm(si), si.signedAttrsSet, si.signature)) {
      stop('signature', 'bad', 'SIGNATURE_MISMATCH', 'the signature value does not verify with the signing certificate');
    }

    // 5. Transparency log: embedded entry (offline mode), else online search.
    const entry = step('tlog', () => embeddedEntry(si));
    let tlog: TlogVerification;
    if (entry) {
      const digest = hash('sha256', si.signedAttrsSet, 'buffer');
      const body =
        entry.version === '0.0.2'
          ? hashedRekordV002Body(digest, si.signature, leaf.der)
          : canonicalHashedRekordV001(digest, si.signature, leaf.der);
      tlog = step('tlog', () => verifyTlogEntry(entry, body, input.trust));
    } else if (!input.offline && input.rekorSearch) {
      const search = input.rekorSearch;
      try {
        tlog = await searchOnline(input, search, leaf);
      } catch (e) {
        if (isGitsealError(e)) {
          // Say why there was a search at all: the signature itself carries no proof.
          const msg = preReleaseLayout(si)
            ? `${PRE_RELEASE}, and searching Rekor for a gitsign online-mode entry found none (${e.message}), so this signature is not verified`
            : e.code === 'NETWORK' || e.code === 'REKOR'
              ? `the Rekor proof is not embedded in this signature (gitsign online mode) and searching Rekor failed: ${e.message}`
              : e.message;
          stop('tlog', 'error', e.code, msg);
        }
        throw e;
      }
    } else {
      // Still reject what is not from Fulcio at all, at the time gitsign would use.
      step('chain', () => verifyChain(leaf, certs, input.trust, new Date(leaf.notBefore.getTime() + ONLINE_CHAIN_SKEW_MS)));
      stop(
        'tlog',
        'error',
        'TLOG_MISSING',
        preReleaseLayout(si)
          ? `${PRE_RELEASE}, so this signature is not verified`
          : input.offline
            ? 'the Rekor proof is not embedded in this signature (gitsign online mode); it can only be checked online against Rekor, so this signature is not verified'
            : 'the Rekor proof is not embedded in this signature (gitsign online mode) and no Rekor search is configured, so this signature is not verified',
      );
    }
    r.logIndex = tlog.logIndex;
    // An RFC 3161 token, when attached, is checked whatever the entry: a part of the signature
    // that nothing reads could carry anything (a token over other data, from an unknown TSA).
    const tst = step('tlog', () => singleValue(si.unsignedAttrs, CMS_OID.timeStampToken, 'timestamp token'));
    const token = tst ? step('tlog', () => verifyTimestampToken(tst.raw, si.signature, input.trust)) : undefined;
    const tsaTime = token?.time;
    let at: Date;
    if (tlog.integratedTime) {
      at = tlog.integratedTime;
    } else {
      // Rekor v2 entries carry no time; it must come from an RFC 3161 token over the signature.
      if (!tsaTime) stop('tlog', 'error', 'TLOG', 'the Rekor v2 entry has no time of its own and the signature carries no RFC 3161 timestamp');
      at = tsaTime;
      r.timeFrom = { tsa: token!.tsa };
      if (!inValidity(tlog.log.validFor, at)) {
        stop('tlog', 'error', 'TLOG', `the transparency log key was not trusted at the timestamp ${at.toISOString()}`);
      }
    }
    r.integratedTime = at;

    // 6. Chain to a trusted Fulcio CA at the log time.
    const chain = step('chain', () => verifyChain(leaf, certs, input.trust, at, { checkLeafValidity: false }));

    // 7. Embedded SCT against trusted CT logs.
    if (input.ignoreSct) r.sctSkipped = true;
    else step('sct', () => verifyEmbeddedSct(leaf, chain.certificates[1], input.trust, at));

    // 8. The log (and the TSA, if any) saw the signature while the short-lived certificate was valid.
    for (const [t, what] of [
      [at, 'logged'],
      [tsaTime, 'timestamped'],
    ] as const) {
      if (t && !isValidAt(leaf, t)) {
        stop(
          'time',
          'error',
          'TIME',
          `the signing certificate was not valid when the signature was ${what} (${t.toISOString()}; valid ${leaf.notBefore.toISOString()} to ${leaf.notAfter.toISOString()})`,
        );
      }
    }
    // A token proves the signature existed by genTime + accuracy (RFC 3161 §2.4.2): that latest
    // instant must still be inside the validity. (genTime − accuracy may precede notBefore: the
    // key exists before its certificate.)
    if (token && token.tstInfo.accuracyMs > 0) {
      // In milliseconds with the fraction: micros count (a Date would drop them).
      if (token.time.getTime() + token.tstInfo.accuracyMs > leaf.notAfter.getTime()) {
        stop(
          'time',
          'error',
          'TIME',
          `the timestamp (${token.time.toISOString()}, accuracy ${token.tstInfo.accuracyMs / 1000} s) does not prove the signature was made before the signing certificate expired (${leaf.notAfter.toISOString()})`,
        );
      }
    }

    r.kind = 'good';
    // 9. Policy.
    // Every constraint is checked, matchCommitter alone too (it can still refuse); only a policy
    // that says who may sign (hasPolicy) makes policyMatched true. An invalid policy is an error.
    if (hasConstraints(input.policy)) {
      const pol = input.policy;
      const out = step('policy', () =>
        evaluatePolicy(pol, { identity: r.identity, issuer: r.issuer, claims: r.certificate?.claims ?? {}, payload: input.payload }),
      );
      if (out.identityPolicy || !out.matched) {
        r.policyMatched = out.matched;
        r.policy = out.description;
      }
      if (!out.matched) {
        r.failedCheck = 'policy';
        r.code = 'POLICY';
        r.message = `signer is not allowed by the policy: ${out.reason}`;
        return r;
      }
    }
    r.ok = true;
    r.message = `good signature from ${r.identity ?? '(no identity)'} (${r.issuer ?? 'unknown issuer'})`;
    return r;
  } catch (e) {
    if (isGitsealError(e)) {
      // An expected failure outside a named step: still an error verdict.
      r.kind = 'error';
      r.failedCheck ??= 'parse';
      r.code = e.code;
      r.message = e.message;
      return r;
    }
    if (!(e instanceof Stop)) {
      // A bug, not a verdict: still fail closed, but say so.
      r.kind = 'error';
      r.failedCheck ??= 'parse';
      r.code = 'INTERNAL';
      r.message = `internal error while verifying: ${(e as Error).message ?? String(e)}`;
      return r;
    }
    r.kind = e.kind;
    r.failedCheck = e.check;
    r.code = e.code;
    r.message = e.message;
    return r;
  }
}
