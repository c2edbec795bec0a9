/**
 * A complete, self-made Sigstore world for negative tests: root and
 * intermediate CA, CT log, Rekor log, Fulcio-style leaves with embedded SCTs,
 * gitsign-layout CMS signatures with an embedded Rekor entry (SET, RFC 6962
 * inclusion proof, signed checkpoint). Everything is signed for real with
 * node:crypto and encoded with the project's DER writer; each knob lets a test
 * break exactly one thing.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { children, der, parseDer, tlv } from '../../../src/util/der.js';
import { encodePem } from '../../../src/util/pem.js';
import { canonicalize } from '../../../src/util/canonical-json.js';
import { canonicalBody, hashedRekordV001 } from '../../../src/rekor/body.js';
import { encodeTle, type TransparencyLogEntry } from '../../../src/rekor/tle.js';
import { parseTrustedRoot, type TrustedRoot } from '../../../src/trust/trusted-root.js';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  spki: Buffer;
}

export function ecKey(curve: 'P-256' | 'P-384' = 'P-256'): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  return { privateKey, publicKey, spki: publicKey.export({ type: 'spki', format: 'der' }) as Buffer };
}

const OIDS = {
  cn: '2.5.4.3',
  o: '2.5.4.10',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
};

export function name(cn: string, o = 'sigstore.dev'): Buffer {
  return der.seq(der.setOf(der.seq(der.oid(OIDS.o), der.utf8(o))), der.setOf(der.seq(der.oid(OIDS.cn), der.utf8(cn))));
}

export function ext(oid: string, critical: boolean, value: Buffer): Buffer {
  return critical ? der.seq(der.oid(oid), der.bool(true), der.octets(value)) : der.seq(der.oid(oid), der.octets(value));
}

export const EXT = {
  caBasic: () => ext('2.5.29.19', true, der.seq(der.bool(true))),
  caKeyUsage: () => ext('2.5.29.15', true, der.bitString(Buffer.from([0x06]), 1)),
  leafKeyUsage: () => ext('2.5.29.15', true, der.bitString(Buffer.from([0x80]), 7)),
  codeSigning: () => ext('2.5.29.37', false, der.seq(der.oid('1.3.6.1.5.5.7.3.3'))),
  email: (e: string) => ext('2.5.29.17', true, der.seq(tlv(0x81, Buffer.from(e)))),
  uri: (u: string) => ext('2.5.29.17', true, der.seq(tlv(0x86, Buffer.from(u)))),
  ski: (spki: Buffer) => ext('2.5.29.14', false, der.octets(keyId(spki))),
  aki: (spki: Buffer) => ext('2.5.29.35', false, der.seq(tlv(0x80, keyId(spki)))),
  issuerV1: (iss: string) => ext('1.3.6.1.4.1.57264.1.1', false, Buffer.from(iss)),
  issuerV2: (iss: string) => ext('1.3.6.1.4.1.57264.1.8', false, der.utf8(iss)),
  raw: (oid: string, v: string) => ext(oid, false, Buffer.from(v)),
};

export function keyId(spki: Buffer): Buffer {
  return createHash('sha1').update(spki).digest();
}

let serialCounter = 1000n;

export interface CertSpec {
  issuer: Buffer;
  subject: Buffer;
  spki: Buffer;
  notBefore: Date;
  notAfter: Date;
  extensions: Buffer[];
  signer: KeyObject;
  serial?: bigint;
  sha384?: boolean;
}

export function tbsOf(s: CertSpec, serial: bigint, extensions: Buffer[]): Buffer {
  const alg = der.seq(der.oid(s.sha384 ? OIDS.ecdsaSha384 : OIDS.ecdsaSha256));
  return der.seq(
    der.explicit(0, der.int(2)),
    der.int(serial),
    alg,
    s.issuer,
    der.seq(der.utcTime(s.notBefore), der.utcTime(s.notAfter)),
    s.subject,
    s.spki,
    der.explicit(3, der.seq(...extensions)),
  );
}

export function signTbs(tbs: Buffer, signer: KeyObject, sha384 = false): Buffer {
  const alg = der.seq(der.oid(sha384 ? OIDS.ecdsaSha384 : OIDS.ecdsaSha256));
  return der.seq(tbs, alg, der.bitString(sign(sha384 ? 'sha384' : 'sha256', tbs, signer)));
}

export function makeCert(s: CertSpec): Buffer {
  const serial = s.serial ?? serialCounter++;
  return signTbs(tbsOf(s, serial, s.extensions), s.signer, s.sha384);
}

/** RFC 6962 §3.2 SCT over the precertificate TBS, as a one-element SCT list extension. */
export function sctExtension(precertTbs: Buffer, issuerSpki: Buffer, ctKey: KeyPair, logId: Buffer, timestampMs: bigint): Buffer {
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64BE(timestampMs);
  const len24 = Buffer.from([(precertTbs.length >> 16) & 0xff, (precertTbs.length >> 8) & 0xff, precertTbs.length & 0xff]);
  const signed = Buffer.concat([
    Buffer.from([0, 0]),
    ts,
    Buffer.from([0, 1]),
    createHash('sha256').update(issuerSpki).digest(),
    len24,
    precertTbs,
    Buffer.from([0, 0]),
  ]);
  const sig = sign('sha256', signed, ctKey.privateKey);
  const sct = Buffer.concat([
    Buffer.from([0]),
    logId,
    ts,
    Buffer.from([0, 0]),
    Buffer.from([4, 3]),
    Buffer.from([sig.length >> 8, sig.length & 0xff]),
    sig,
  ]);
  const list = Buffer.concat([Buffer.from([(sct.length + 2) >> 8, (sct.length + 2) & 0xff]), Buffer.from([sct.length >> 8, sct.length & 0xff]), sct]);
  return ext('1.3.6.1.4.1.11129.2.4.2', false, der.octets(list));
}

// ------------------------------------------------------------ RFC 6962 Merkle tree (independent of src/verify/merkle.ts)

const h = (...b: Buffer[]) => createHash('sha256').update(Buffer.concat(b)).digest();
const largestPow2Below = (n: number) => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};

/** MTH(D[n]) from RFC 6962 §2.1. */
export function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return h();
  if (leaves.length === 1) return h(Buffer.from([0]), leaves[0]);
  const k = largestPow2Below(leaves.length);
  return h(Buffer.from([1]), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

/** PATH(m, D[n]) from RFC 6962 §2.1.1. */
export function auditPath(m: number, leaves: Buffer[]): Buffer[] {
  if (leaves.length <= 1) return [];
  const k = largestPow2Below(leaves.length);
  if (m < k) return [...auditPath(m, leaves.slice(0, k)), mth(leaves.slice(k))];
  return [...auditPath(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}

// ------------------------------------------------------------ the world

export interface World {
  root: KeyPair;
  inter: KeyPair;
  ct: KeyPair;
  rekor: KeyPair;
  rootCert: Buffer;
  interCert: Buffer;
  rootName: Buffer;
  interName: Buffer;
  ctLogId: Buffer;
  rekorLogId: Buffer;
  trustJson: string;
  trust: TrustedRoot;
}

export function makeWorld(opts: { rootName?: Buffer; interName?: Buffer } = {}): World {
  const root = ecKey('P-384');
  const inter = ecKey('P-384');
  const ct = ecKey();
  const rekor = ecKey();
  const rootName = opts.rootName ?? name('sigstore');
  const interName = opts.interName ?? name('sigstore-intermediate');
  const nb = new Date('2020-01-01T00:00:00Z');
  const na = new Date('2040-01-01T00:00:00Z');
  const rootCert = makeCert({
    issuer: rootName,
    subject: rootName,
    spki: root.spki,
    notBefore: nb,
    notAfter: na,
    extensions: [EXT.caKeyUsage(), EXT.caBasic(), EXT.ski(root.spki)],
    signer: root.privateKey,
    sha384: true,
  });
  const interCert = makeCert({
    issuer: rootName,
    subject: interName,
    spki: inter.spki,
    notBefore: nb,
    notAfter: na,
    extensions: [EXT.caKeyUsage(), EXT.caBasic(), EXT.ski(inter.spki), EXT.aki(root.spki)],
    signer: root.privateKey,
    sha384: true,
  });
  const ctLogId = createHash('sha256').update(ct.spki).digest();
  const rekorLogId = createHash('sha256').update(rekor.spki).digest();
  const trustJson = JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: 'http://127.0.0.1:1/rekor',
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: rekor.spki.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: '2020-01-01T00:00:00Z' } },
        logId: { keyId: rekorLogId.toString('base64') },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.dev', commonName: 'sigstore' },
        uri: 'http://127.0.0.1:1/fulcio',
        certChain: { certificates: [{ rawBytes: interCert.toString('base64') }, { rawBytes: rootCert.toString('base64') }] },
        validFor: { start: '2020-01-01T00:00:00Z' },
      },
    ],
    ctlogs: [
      {
        baseUrl: 'http://127.0.0.1:1/ct',
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: ct.spki.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: '2020-01-01T00:00:00Z' } },
        logId: { keyId: ctLogId.toString('base64') },
      },
    ],
    timestampAuthorities: [],
  });
  return { root, inter, ct, rekor, rootCert, interCert, rootName, interName, ctLogId, rekorLogId, trustJson, trust: parseTrustedRoot(trustJson) };
}

export interface LeafOpts {
  email?: string;
  uri?: string;
  issuer?: string;
  notBefore?: Date;
  minutes?: number;
  /** Sign the SCT with this key instead of the world's CT key. */
  ctKey?: KeyPair;
  /** Issue with this CA key/name instead of the world's intermediate. */
  caKey?: KeyPair;
  caName?: Buffer;
  extra?: Buffer[];
  noEku?: boolean;
  /** The extnValue of the v2 issuer extension (…57264.1.8) instead of a UTF8String of `issuer`; null: leave it out. */
  issuerV2Value?: Buffer | null;
  /** The v1 issuer extension's raw value instead of `issuer`; null: leave it out. */
  issuerV1Value?: string | null;
  /** The embedded SCT's timestamp (ms) instead of notBefore + 1 s. */
  sctTimestampMs?: bigint;
}

export function makeLeaf(w: World, o: LeafOpts = {}): { key: KeyPair; der: Buffer } {
  const key = ecKey();
  const nb = o.notBefore ?? new Date('2025-06-01T12:00:00Z');
  const na = new Date(nb.getTime() + (o.minutes ?? 10) * 60_000);
  const caKey = o.caKey ?? w.inter;
  const spec: CertSpec = {
    issuer: o.caName ?? w.interName,
    subject: der.seq(),
    spki: key.spki,
    notBefore: nb,
    notAfter: na,
    extensions: [],
    signer: caKey.privateKey,
    sha384: true,
  };
  const exts = [
    EXT.leafKeyUsage(),
    ...(o.noEku ? [] : [EXT.codeSigning()]),
    EXT.ski(key.spki),
    EXT.aki(caKey.spki),
    o.uri ? EXT.uri(o.uri) : EXT.email(o.email ?? 'alice@example.com'),
    ...(o.issuerV1Value === null ? [] : [EXT.issuerV1(o.issuerV1Value ?? o.issuer ?? 'https://accounts.example.com')]),
    ...(o.issuerV2Value === null ? [] : [o.issuerV2Value ? ext('1.3.6.1.4.1.57264.1.8', false, o.issuerV2Value) : EXT.issuerV2(o.issuer ?? 'https://accounts.example.com')]),
    ...(o.extra ?? []),
  ];
  const serial = serialCounter++;
  const precert = tbsOf(spec, serial, exts);
  const sct = sctExtension(precert, caKey.spki, o.ctKey ?? w.ct, w.ctLogId, o.sctTimestampMs ?? BigInt(nb.getTime() + 1000));
  return { key, der: signTbs(tbsOf(spec, serial, [...exts, sct]), caKey.privateKey, true) };
}

export interface SignedCms {
  pem: string;
  der: Buffer;
  signedAttrsSet: Buffer;
  signature: Buffer;
  tle?: TransparencyLogEntry;
}

export function signedAttributes(payload: Buffer, signingTime: Date): Buffer {
  const attr = (oid: string, v: Buffer) => der.seq(der.oid(oid), der.setOf(v));
  return der.setOf(
    attr('1.2.840.113549.1.9.3', der.oid('1.2.840.113549.1.7.1')),
    attr('1.2.840.113549.1.9.5', der.utcTime(signingTime)),
    attr('1.2.840.113549.1.9.4', der.octets(createHash('sha256').update(payload).digest())),
  );
}

/** gitsign-layout ContentInfo; `tle` bytes go into unsigned attribute …57264.3.1. */
export function assembleCms(p: { signedAttrsSet: Buffer; signature: Buffer; leaf: Buffer; certs?: Buffer[]; tle?: Buffer; tst?: Buffer }): Buffer {
  // issuer Name and serial from the leaf, taken by structure (tbs fields 1 and 3).
  const tbs = children(children(parseDer(p.leaf))[0]);
  const leafTbs = { serial: tbs[1].raw, issuer: tbs[3].raw };
  const signedAttrs = Buffer.concat([Buffer.from([0xa0]), p.signedAttrsSet.subarray(1)]);
  const attrs = [
    ...(p.tle ? [der.seq(der.oid('1.3.6.1.4.1.57264.3.1'), der.setOf(der.octets(p.tle)))] : []),
    // RFC 3161 token: the attribute value is the TimeStampToken ContentInfo itself
    ...(p.tst ? [der.seq(der.oid('1.2.840.113549.1.9.16.2.14'), der.setOf(p.tst))] : []),
  ];
  const unsigned = attrs.length ? [tlv(0xa1, ...attrs.sort(Buffer.compare))] : [];
  const si = der.seq(
    der.int(1),
    der.seq(leafTbs.issuer, leafTbs.serial),
    der.seq(der.oid('2.16.840.1.101.3.4.2.1')),
    signedAttrs,
    der.seq(der.oid('1.2.840.10045.4.3.2')),
    der.octets(p.signature),
    ...unsigned,
  );
  const sd = der.seq(
    der.int(1),
    der.setOf(der.seq(der.oid('2.16.840.1.101.3.4.2.1'))),
    der.seq(der.oid('1.2.840.113549.1.7.1')),
    tlv(0xa0, ...(p.certs ?? [p.leaf])),
    der.setOf(si),
  );
  return der.seq(der.oid('1.2.840.113549.1.7.2'), der.explicit(0, sd));
}

export interface LogOpts {
  integratedTime?: bigint;
  /** Change the time after signing the SET. */
  alterTime?: bigint;
  logIndex?: bigint;
  treeIndex?: number;
  treeSize?: number;
  checkpointKey?: KeyPair;
  flipProofHash?: boolean;
  /** Log this body instead of the signature's own (transplant tests). */
  bodyOverride?: Buffer;
}

/** A Rekor v1 entry (SET + proof + checkpoint) for `body`, signed by the world's Rekor key. */
export function logEntry(w: World, body: Buffer, o: LogOpts = {}): TransparencyLogEntry {
  const integratedTime = o.integratedTime ?? 1748779260n; // 2025-06-01T12:01:00Z
  const logIndex = o.logIndex ?? 123456789n;
  const size = o.treeSize ?? 7;
  const idx = o.treeIndex ?? 5;
  const leaves = Array.from({ length: size }, (_, i) => (i === idx ? body : Buffer.from(`other entry ${i}`)));
  const root = mth(leaves);
  const hashes = auditPath(idx, leaves);
  if (o.flipProofHash) hashes[0] = Buffer.from(hashes[0].map((b, i) => (i === 0 ? b ^ 1 : b)));
  const set = sign(
    'sha256',
    Buffer.from(canonicalize({ body: body.toString('base64'), integratedTime, logID: w.rekorLogId.toString('hex'), logIndex })),
    w.rekor.privateKey,
  );
  const origin = `127.0.0.1 - 1234567890`;
  const note = `${origin}\n${size}\n${root.toString('base64')}\nTimestamp: 1748779260000000000\n`;
  const cpKey = o.checkpointKey ?? w.rekor;
  const cpSig = sign('sha256', Buffer.from(note), cpKey.privateKey);
  const hint = createHash('sha256').update(cpKey.spki).digest().subarray(0, 4);
  const checkpoint = `${note}\n\u2014 127.0.0.1 ${Buffer.concat([hint, cpSig]).toString('base64')}\n`;
  return {
    logIndex,
    logId: w.rekorLogId,
    kind: 'hashedrekord',
    version: '0.0.1',
    integratedTime: o.alterTime ?? integratedTime,
    signedEntryTimestamp: set,
    inclusionProof: { logIndex: BigInt(idx), rootHash: root, treeSize: BigInt(size), hashes, checkpoint },
  };
}

export interface SignOpts extends LogOpts {
  signingTime?: Date;
  /** Sign these DER signed attributes (a SET, any content or order) instead of the usual three. */
  attrs?: Buffer;
  noTlog?: boolean;
  tle?: TransparencyLogEntry;
  certs?: Buffer[];
}

/** Sign `payload` gitsign-style (offline mode) with `leaf`, logging it in the world's Rekor. */
export function signPayload(w: World, leaf: { key: KeyPair; der: Buffer }, payload: Buffer, o: SignOpts = {}): SignedCms {
  const signedAttrsSet = o.attrs ?? signedAttributes(payload, o.signingTime ?? new Date('2025-06-01T12:00:30Z'));
  const signature = sign('sha256', signedAttrsSet, leaf.key.privateKey);
  const body = canonicalBody(hashedRekordV001(createHash('sha256').update(signedAttrsSet).digest(), signature, leaf.der));
  const tle = o.noTlog ? undefined : (o.tle ?? logEntry(w, o.bodyOverride ?? body, o));
  const cms = assembleCms({ signedAttrsSet, signature, leaf: leaf.der, certs: o.certs, tle: tle ? encodeTle(tle) : undefined });
  return { pem: encodePem('SIGNED MESSAGE', cms), der: cms, signedAttrsSet, signature, tle };
}

export const PAYLOAD = Buffer.from(
  'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n' +
    'author Alice <alice@example.com> 1748779200 +0000\n' +
    'committer Alice <alice@example.com> 1748779200 +0000\n\n' +
    'a forged-world commit\n',
);

// ------------------------------------------------------------ knobs for the adversarial suite (test/adversarial)

/** Every field of a gitsign-layout ContentInfo, each replaceable; unset knobs give exactly assembleCms's output. */
export interface CmsKnobs {
  signedAttrsSet: Buffer;
  signature: Buffer;
  leaf: Buffer;
  certs?: Buffer[];
  tle?: Buffer;
  tst?: Buffer;
  /** SignedData.version (default 1). */
  sdVersion?: number;
  /** SignerInfo.version (default 1; 3 goes with sid 'ski'). */
  siVersion?: number;
  /** 'issuerSerial' (default) or 'ski' (subjectKeyIdentifier [0]). */
  sid?: 'issuerSerial' | 'ski';
  /** Content octets of the sid serial INTEGER instead of the leaf's own (e.g. padded with 00). */
  sidSerialOctets?: Buffer;
  digestAlgorithm?: string;
  signatureAlgorithm?: string;
  /** Extra unsigned attributes: [oid, DER value]. */
  unsigned?: Array<[string, Buffer]>;
  /** Raw [1] crls content. */
  crls?: Buffer;
  /** Extra SignerInfos after the real one. */
  moreSignerInfos?: Buffer[];
  /** Replace the signed attributes [0] content as sent (not what was signed). */
  signedAttrsRaw?: Buffer;
  /** Content octets of SignedData.version instead of a minimal INTEGER. */
  sdVersionOctets?: Buffer;
  /** The whole signature field TLV instead of an OCTET STRING of `signature`. */
  signatureTlv?: Buffer;
  /** The SignerInfo signatureAlgorithm AlgorithmIdentifier TLV (e.g. with parameters). */
  signatureAlgorithmTlv?: Buffer;
  /** The AlgorithmIdentifiers of SignedData.digestAlgorithms. */
  digestAlgorithmsSet?: Buffer[];
}

/** The fields of a leaf's TBS the sid needs: issuer Name and serial INTEGER (raw TLVs). */
export function leafTbsFields(leafDer: Buffer): { serial: Buffer; serialOctets: Buffer; issuer: Buffer; ski?: Buffer } {
  const tbs = children(children(parseDer(leafDer))[0]);
  const serialT = tbs[1];
  let ski: Buffer | undefined;
  const extsWrap = tbs.find((t) => t.tag === 0xa3);
  if (extsWrap) {
    for (const e of children(children(extsWrap)[0])) {
      const f = children(e);
      if (f[0].value.equals(der.oid('2.5.29.14').subarray(2))) ski = parseDer(f[f.length - 1].value).value;
    }
  }
  return { serial: serialT.raw, serialOctets: serialT.value, issuer: tbs[3].raw, ski };
}

/** The one SignerInfo of a gitsign-layout CMS, every field from the knobs. */
export function signerInfoWith(k: CmsKnobs): Buffer {
  const f = leafTbsFields(k.leaf);
  const sid =
    k.sid === 'ski'
      ? tlv(0x80, f.ski ?? keyId(Buffer.alloc(0)))
      : der.seq(f.issuer, k.sidSerialOctets ? tlv(0x02, k.sidSerialOctets) : f.serial);
  const signedAttrs = k.signedAttrsRaw ?? Buffer.concat([Buffer.from([0xa0]), k.signedAttrsSet.subarray(1)]);
  const attrs = [
    ...(k.tle ? [der.seq(der.oid('1.3.6.1.4.1.57264.3.1'), der.setOf(der.octets(k.tle)))] : []),
    ...(k.tst ? [der.seq(der.oid('1.2.840.113549.1.9.16.2.14'), der.setOf(k.tst))] : []),
    ...(k.unsigned ?? []).map(([oid, v]) => der.seq(der.oid(oid), der.setOf(v))),
  ];
  const unsigned = attrs.length ? [tlv(0xa1, ...attrs.sort(Buffer.compare))] : [];
  return der.seq(
    der.int(k.siVersion ?? (k.sid === 'ski' ? 3 : 1)),
    sid,
    der.seq(der.oid(k.digestAlgorithm ?? '2.16.840.1.101.3.4.2.1')),
    signedAttrs,
    k.signatureAlgorithmTlv ?? der.seq(der.oid(k.signatureAlgorithm ?? '1.2.840.10045.4.3.2')),
    k.signatureTlv ?? der.octets(k.signature),
    ...unsigned,
  );
}

/** A ContentInfo from the knobs (assembleCms with every field open to change). */
export function assembleCmsWith(k: CmsKnobs): Buffer {
  const sd = der.seq(
    k.sdVersionOctets ? tlv(0x02, k.sdVersionOctets) : der.int(k.sdVersion ?? 1),
    der.setOf(...(k.digestAlgorithmsSet ?? [der.seq(der.oid(k.digestAlgorithm ?? '2.16.840.1.101.3.4.2.1'))])),
    der.seq(der.oid('1.2.840.113549.1.7.1')),
    tlv(0xa0, ...(k.certs ?? [k.leaf])),
    ...(k.crls ? [tlv(0xa1, k.crls)] : []),
    tlv(0x31, signerInfoWith(k), ...(k.moreSignerInfos ?? [])),
  );
  return der.seq(der.oid('1.2.840.113549.1.7.2'), der.explicit(0, sd));
}

/** The DER children of a constructed element (e.g. the attributes of a signed-attributes SET). */
export function childrenDer(set: Buffer): Buffer[] {
  return children(parseDer(set)).map((c) => c.raw);
}

/** The pieces of a signature with a real Rekor v1 entry, before assembly: sign, then break one knob. */
export function signedParts(w: World, leaf: { key: KeyPair; der: Buffer }, payload: Buffer, o: SignOpts = {}): CmsKnobs & { tleEntry?: TransparencyLogEntry } {
  const signedAttrsSet = o.attrs ?? signedAttributes(payload, o.signingTime ?? new Date('2025-06-01T12:00:30Z'));
  const signature = sign('sha256', signedAttrsSet, leaf.key.privateKey);
  const body = canonicalBody(hashedRekordV001(createHash('sha256').update(signedAttrsSet).digest(), signature, leaf.der));
  const tleEntry = o.noTlog ? undefined : (o.tle ?? logEntry(w, o.bodyOverride ?? body, o));
  return { signedAttrsSet, signature, leaf: leaf.der, certs: o.certs, tle: tleEntry ? encodeTle(tleEntry) : undefined, tleEntry };
}

/** PEM of assembleCmsWith(k). */
export function pemOf(k: CmsKnobs): string {
  return encodePem('SIGNED MESSAGE', assembleCmsWith(k));
}

/**
 * `n` CA certificates that share one key and one name, each self-issued: every one of them
 * "issues" every other (and itself), the shape that made path building try every ordering.
 * Returns the key (to issue a leaf with) and the certificates.
 */
export function sameKeyCas(n: number, o: { name?: Buffer; key?: KeyPair; aki?: boolean } = {}): { key: KeyPair; name: Buffer; certs: Buffer[] } {
  const key = o.key ?? ecKey('P-384');
  const nm = o.name ?? name('sigstore-intermediate');
  const certs = Array.from({ length: n }, () =>
    makeCert({
      issuer: nm,
      subject: nm,
      spki: key.spki,
      notBefore: new Date('2020-01-01Z'),
      notAfter: new Date('2040-01-01Z'),
      extensions: [EXT.caKeyUsage(), EXT.caBasic(), EXT.ski(key.spki), ...(o.aki === false ? [] : [EXT.aki(key.spki)])],
      signer: key.privateKey,
      sha384: true,
    }),
  );
  return { key, name: nm, certs };
}

// ------------------------------------------------------------ RFC 3161 timestamp authority

export interface Tsa {
  root: KeyPair;
  leaf: KeyPair;
  rootCert: Buffer;
  leafCert: Buffer;
  /** The trusted-root JSON "timestampAuthorities" item for it. */
  trustItem: Record<string, unknown>;
}

export function makeTsa(cn = 'forged-tsa'): Tsa {
  const root = ecKey();
  const leaf = ecKey();
  const nb = new Date('2020-01-01Z');
  const na = new Date('2040-01-01Z');
  const rootName = name(`${cn}-root`);
  const rootCert = makeCert({ issuer: rootName, subject: rootName, spki: root.spki, notBefore: nb, notAfter: na, extensions: [EXT.caKeyUsage(), EXT.caBasic(), EXT.ski(root.spki)], signer: root.privateKey });
  const leafCert = makeCert({
    issuer: rootName,
    subject: name(cn),
    spki: leaf.spki,
    notBefore: nb,
    notAfter: na,
    extensions: [ext('2.5.29.37', true, der.seq(der.oid('1.3.6.1.5.5.7.3.8'))), EXT.ski(leaf.spki), EXT.aki(root.spki)],
    signer: root.privateKey,
  });
  return {
    root,
    leaf,
    rootCert,
    leafCert,
    trustItem: {
      uri: `http://127.0.0.1:1/${cn}`,
      certChain: { certificates: [{ rawBytes: leafCert.toString('base64') }, { rawBytes: rootCert.toString('base64') }] },
      validFor: { start: '2020-01-01T00:00:00Z' },
    },
  };
}

/**
 * An RFC 3161 TimeStampToken over sha256(data) at `genTime`, signed by the TSA leaf, with the
 * ESS signing-certificate-v2 attribute and the TSA leaf embedded (SignedData v3, as TSAs write).
 */
export function tsaToken(tsa: Tsa, data: Buffer, genTime: Date, extraCerts: Buffer[] = [], tstInfoTail: Buffer[] = []): Buffer {
  const attr = (oid: string, v: Buffer) => der.seq(der.oid(oid), der.setOf(v));
  const tstInfo = der.seq(
    der.int(1),
    der.oid('1.3.6.1.4.1.57264.2'),
    der.seq(der.seq(der.oid('2.16.840.1.101.3.4.2.1')), der.octets(createHash('sha256').update(data).digest())),
    der.int(4242),
    der.generalizedTime(genTime),
    // accuracy, ordering, nonce, tsa [0], extensions [1] (RFC 3161 §2.4.2), as the test shapes them
    ...tstInfoTail,
  );
  const f = leafTbsFields(tsa.leafCert);
  const essCertId = der.seq(der.octets(createHash('sha256').update(tsa.leafCert).digest()), der.seq(der.seq(tlv(0xa4, f.issuer)), f.serial));
  const signedAttrs = der.setOf(
    attr('1.2.840.113549.1.9.3', der.oid('1.2.840.113549.1.9.16.1.4')),
    attr('1.2.840.113549.1.9.4', der.octets(createHash('sha256').update(tstInfo).digest())),
    attr('1.2.840.113549.1.9.16.2.47', der.seq(der.seq(essCertId))),
  );
  const si = der.seq(
    der.int(1),
    der.seq(f.issuer, f.serial),
    der.seq(der.oid('2.16.840.1.101.3.4.2.1')),
    Buffer.concat([Buffer.from([0xa0]), signedAttrs.subarray(1)]),
    der.seq(der.oid('1.2.840.10045.4.3.2')),
    der.octets(sign('sha256', signedAttrs, tsa.leaf.privateKey)),
  );
  const sd = der.seq(
    der.int(3),
    der.setOf(der.seq(der.oid('2.16.840.1.101.3.4.2.1'))),
    der.seq(der.oid('1.2.840.113549.1.9.16.1.4'), der.explicit(0, der.octets(tstInfo))),
    tlv(0xa0, tsa.leafCert, ...extraCerts),
    der.setOf(si),
  );
  return der.seq(der.oid('1.2.840.113549.1.7.2'), der.explicit(0, sd));
}

/** The world's trusted root with extra timestamp authorities (and/or other tlogs) merged in. */
export function trustWith(w: World, o: { tsas?: Tsa[]; tlogs?: Record<string, unknown>[] }): { json: string; trust: TrustedRoot } {
  const j = JSON.parse(w.trustJson);
  if (o.tsas) j.timestampAuthorities = o.tsas.map((t) => t.trustItem);
  if (o.tlogs) j.tlogs = [...j.tlogs, ...o.tlogs];
  const json = JSON.stringify(j);
  return { json, trust: parseTrustedRoot(json) };
}

// ------------------------------------------------------------ Rekor v2 (rekor-tiles): Ed25519 C2SP checkpoints

export interface V2Log {
  name: string;
  key: { privateKey: KeyObject; publicKey: KeyObject };
  spki: Buffer;
  logId: Buffer;
  /** The trusted-root JSON "tlogs" item for it. */
  trustItem: Record<string, unknown>;
}

export function makeV2Log(logName = 'log2025-forged.rekor.example'): V2Log {
  const key = generateKeyPairSync('ed25519');
  const spki = key.publicKey.export({ type: 'spki', format: 'der' }) as Buffer;
  const logId = createHash('sha256').update(Buffer.concat([Buffer.from(logName + '\n'), Buffer.from([1]), spki.subarray(12)])).digest();
  return {
    name: logName,
    key,
    spki,
    logId,
    trustItem: {
      baseUrl: `https://${logName}`,
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: spki.toString('base64'), keyDetails: 'PKIX_ED25519', validFor: { start: '2020-01-01T00:00:00Z' } },
      logId: { keyId: logId.toString('base64') },
    },
  };
}

/**
 * A hashedrekord v0.0.2 entry for `body` at tree index `index` of a `size`-leaf tree, with a
 * C2SP checkpoint the log signs; `logIndex` is the entry's own (unauthenticated) index field.
 */
export function v2Entry(
  log: V2Log,
  body: Buffer,
  o: {
    index?: number;
    size?: number;
    logIndex?: bigint;
    proofIndex?: bigint;
    /** The checkpoint's origin line instead of the log's name (the log's key still signs it). */
    origin?: string;
    /** The name on the log's signature line (its key hint computed from it, C2SP style) instead of the log's name. */
    keyName?: string;
    /** Cosigners (witnesses) whose signature lines follow the log's. */
    witnesses?: Array<{ name: string; key: { privateKey: KeyObject; publicKey: KeyObject } }>;
  } = {},
): TransparencyLogEntry {
  const size = o.size ?? 6;
  const index = o.index ?? 4;
  const leaves = Array.from({ length: size }, (_, i) => (i === index ? body : Buffer.from(`v2 entry ${i}`)));
  const root = mth(leaves);
  const note = `${o.origin ?? log.name}\n${size}\n${root.toString('base64')}\n`;
  const sig = sign(null, Buffer.from(note), log.key.privateKey);
  const keyName = o.keyName ?? log.name;
  const hint = keyName === log.name ? log.logId.subarray(0, 4) : c2spKeyId(keyName, log.spki).subarray(0, 4);
  const lines = [`\u2014 ${keyName} ${Buffer.concat([hint, sig]).toString('base64')}`, ...(o.witnesses ?? []).map((x) => noteSignatureLine(x.name, x.key, note))];
  return {
    logIndex: o.logIndex ?? BigInt(index),
    logId: log.logId,
    kind: 'hashedrekord',
    version: '0.0.2',
    integratedTime: 0n,
    inclusionProof: {
      logIndex: o.proofIndex ?? BigInt(index),
      rootHash: root,
      treeSize: BigInt(size),
      hashes: auditPath(index, leaves),
      checkpoint: `${note}\n${lines.join('\n')}\n`,
    },
  };
}

/** C2SP signed-note key id of an Ed25519 SPKI under `keyName`: SHA-256(name || 0x0A || 0x01 || key). */
export function c2spKeyId(keyName: string, spki: Buffer): Buffer {
  return createHash('sha256').update(Buffer.concat([Buffer.from(keyName + '\n'), Buffer.from([1]), spki.subarray(spki.length - 32)])).digest();
}

/** A C2SP signature line by `key` (Ed25519) named `keyName` over a checkpoint note. */
export function noteSignatureLine(keyName: string, key: { privateKey: KeyObject; publicKey: KeyObject }, note: string): string {
  const spki = key.publicKey.export({ type: 'spki', format: 'der' }) as Buffer;
  return `\u2014 ${keyName} ${Buffer.concat([c2spKeyId(keyName, spki).subarray(0, 4), sign(null, Buffer.from(note), key.privateKey)]).toString('base64')}`;
}

/** hashedrekord v0.0.2 body (rekor-tiles protobuf JSON), written independently of src/verify/tlog.ts. */
export function v2Body(digest: Buffer, signature: Buffer, leafDer: Buffer): Buffer {
  return Buffer.from(
    canonicalize({
      apiVersion: '0.0.2',
      kind: 'hashedrekord',
      spec: {
        hashedRekordV002: {
          data: { algorithm: 'SHA2_256', digest: digest.toString('base64') },
          signature: { content: signature.toString('base64'), verifier: { keyDetails: 'PKIX_ECDSA_P256_SHA_256', x509Certificate: { rawBytes: leafDer.toString('base64') } } },
        },
      },
    }),
  );
}

// ------------------------------------------------------------ git objects

/** A raw commit object: `payload` with `pem` as its gpgsig header, placed where git puts it (end of the header block). */
export function signedCommit(payload: Buffer, pem: string, header = 'gpgsig'): Buffer {
  const text = payload.toString('latin1');
  const end = text.indexOf('\n\n');
  const lines = pem.replace(/\n$/, '').split('\n');
  const h = lines.map((l, i) => (i === 0 ? `${header} ${l}` : ` ${l}`)).join('\n') + '\n';
  return Buffer.from(text.slice(0, end + 1) + h + text.slice(end + 1), 'latin1');
}

/** A commit payload with the given header lines (tree first), then a blank line and the message. */
export function commitPayload(headers: string[], message = 'forged\n'): Buffer {
  return Buffer.from(['tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904', ...headers].join('\n') + '\n\n' + message, 'latin1');
}

/** A tag payload (what git signs) for `object` of `type`. */
export function tagPayload(object: string, tag: string, tagger: string, type = 'commit', message = 'release\n'): Buffer {
  return Buffer.from(`object ${object}\ntype ${type}\ntag ${tag}\ntagger ${tagger}\n\n${message}`, 'latin1');
}

/** A raw signed tag: the payload with the armored signature appended, as git stores it. */
export function signedTag(payload: Buffer, pem: string): Buffer {
  return Buffer.concat([payload, Buffer.from(pem, 'latin1')]);
}
