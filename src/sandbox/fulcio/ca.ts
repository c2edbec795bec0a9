/**
 * The sandbox certificate authority: a self-signed P-384 root and a P-384
 * intermediate persisted under DIR/fulcio/ (generation 1) or DIR/fulcio/genN/
 * (rotated generations), issuing Fulcio-profile leaves with an embedded SCT
 * through the RFC 6962 precertificate flow.
 *
 * Every generation has the same subject names, like the public-good 2021 and
 * 2022 roots: verifiers must build chains by key, not by name.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GitsealError } from '../../errors.js';
import { decodePem, encodePem } from '../../util/pem.js';
import type { CtLog } from '../ct/log.js';
import { ensurePrivateDir, readIfExists, withDirLock, writePrivateFile } from '../ct/private-files.js';
import { certificateParts, OID_CT_POISON, OID_CT_SCT_LIST } from '../ct/precert.js';
import { encodeSctList } from '../ct/sct.js';
import {
  asn1Null,
  authorityKeyId,
  basicConstraints,
  buildCertificate,
  certificateSubjectKeyId,
  certificateValidity,
  extKeyUsage,
  keyUsage,
  octetString,
  OID,
  randomSerial,
  subjectKeyId,
  wholeSeconds,
  type ExtensionSpec,
  type NameSpec,
} from './x509-build.js';

export const ROOT_NAME: NameSpec = { organization: 'gitseal-sandbox', commonName: 'sandbox-sigstore' };
export const INTERMEDIATE_NAME: NameSpec = { organization: 'gitseal-sandbox', commonName: 'sandbox-sigstore-intermediate' };
const CA_LIFETIME_MS = 10 * 365 * 24 * 3600 * 1000;

const KU_DIGITAL_SIGNATURE = 0;
const KU_KEY_CERT_SIGN = 5;
const KU_CRL_SIGN = 6;

export interface SandboxCa {
  generation: number;
  /** DER certificates. */
  root: Buffer;
  intermediate: Buffer;
  /** Start of this CA's validity (the root's notBefore). */
  createdAt: Date;
  /** Issue a leaf for `spki` with the Fulcio profile and an embedded SCT from `ctLog`. */
  issueLeaf(req: LeafRequest): Buffer;
}

export interface LeafRequest {
  spki: Buffer;
  /** The critical SAN and the Fulcio extensions, in order (see leaf-profile.ts). */
  san: ExtensionSpec;
  extensions: ExtensionSpec[];
  notBefore: Date;
  notAfter: Date;
  ctLog: CtLog;
}

/** The directory of CA generation `generation` (1 = DIR/fulcio, n ≥ 2 = DIR/fulcio/gen<n>). */
export function caDir(dir: string, generation: number): string {
  if (!Number.isInteger(generation) || generation < 1) throw new GitsealError('USAGE', 'the CA generation must be a positive integer');
  return generation === 1 ? join(dir, 'fulcio') : join(dir, 'fulcio', `gen${generation}`);
}

/** The CA generations present on disk, ascending. */
export function listCaGenerations(dir: string): number[] {
  const gens: number[] = [];
  if (existsSync(join(caDir(dir, 1), 'root.pem'))) gens.push(1);
  const base = join(dir, 'fulcio');
  if (existsSync(base)) {
    for (const e of readdirSync(base)) {
      const m = /^gen([2-9]|[1-9]\d+)$/.exec(e);
      if (m && existsSync(join(base, e, 'root.pem'))) gens.push(Number(m[1]));
    }
  }
  return gens.sort((a, b) => a - b);
}

/** Open (creating on first use) CA generation `generation` under `dir`. */
export function openCa(opts: { dir: string; generation?: number; now?: () => Date }): SandboxCa {
  const generation = opts.generation ?? 1;
  const now = opts.now ?? (() => new Date());
  const d = caDir(opts.dir, generation);
  ensurePrivateDir(join(opts.dir, 'fulcio'));
  ensurePrivateDir(d);
  const { rootPem, intKeyPem, intPem } = withDirLock(d, 'ca', () => {
    const [rootKeyPem, rootPem, intKeyPem, intPem] = ['root.key', 'root.pem', 'intermediate.key', 'intermediate.pem'].map((f) => readIfExists(d, f));
    if (rootKeyPem && rootPem && intKeyPem && intPem) return { rootPem, intKeyPem, intPem };
    return createCaFiles(d, now());
  });
  const root = decodePem(rootPem.toString('utf8'), 'CERTIFICATE');
  const intermediate = decodePem(intPem.toString('utf8'), 'CERTIFICATE');
  const intermediateKey = createPrivateKey(intKeyPem);
  // A restart must find matching files: the intermediate key is the one in its certificate,
  // and the intermediate is signed by the root.
  const intSpki = createPublicKey(intermediateKey).export({ type: 'spki', format: 'der' });
  const rootKey = createPublicKey({ key: certificateParts(root).spki, format: 'der', type: 'spki' });
  if (!certificateParts(intermediate).spki.equals(intSpki) || !new X509Certificate(intermediate).verify(rootKey)) {
    throw new GitsealError('CONFIG', `the sandbox CA files in ${d} do not belong together; remove the directory to start afresh`);
  }
  const akid = certificateSubjectKeyId(intermediate) ?? subjectKeyId(intSpki);
  return {
    generation,
    root,
    intermediate,
    createdAt: certificateValidity(root).notBefore,
    issueLeaf: (req) => issueLeaf(req, intermediate, intermediateKey, akid),
  };
}

function createCaFiles(d: string, now: Date) {
  const notBefore = wholeSeconds(now);
  const notAfter = new Date(notBefore.getTime() + CA_LIFETIME_MS);
  const rootKey = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const intKey = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const rootSpki = rootKey.publicKey.export({ type: 'spki', format: 'der' });
  const intSpki = intKey.publicKey.export({ type: 'spki', format: 'der' });
  const rootSki = subjectKeyId(rootSpki);
  const root = buildCertificate(
    {
      serial: randomSerial(),
      issuer: ROOT_NAME,
      subject: ROOT_NAME,
      notBefore,
      notAfter,
      spki: rootSpki,
      extensions: [
        { oid: OID.keyUsage, critical: true, value: keyUsage([KU_KEY_CERT_SIGN, KU_CRL_SIGN]) },
        { oid: OID.basicConstraints, critical: true, value: basicConstraints(true, 1) },
        { oid: OID.subjectKeyIdentifier, value: octetString(rootSki) },
        { oid: OID.authorityKeyIdentifier, value: authorityKeyId(rootSki) },
      ],
    },
    rootKey.privateKey,
  );
  const intermediate = buildCertificate(
    {
      serial: randomSerial(),
      issuer: ROOT_NAME,
      subject: INTERMEDIATE_NAME,
      notBefore,
      notAfter,
      spki: intSpki,
      extensions: [
        { oid: OID.keyUsage, critical: true, value: keyUsage([KU_KEY_CERT_SIGN, KU_CRL_SIGN]) },
        // Like public-good's sigstore-intermediate: EKU codeSigning constrains the leaves.
        { oid: OID.extKeyUsage, value: extKeyUsage([OID.codeSigning]) },
        { oid: OID.basicConstraints, critical: true, value: basicConstraints(true, 0) },
        { oid: OID.subjectKeyIdentifier, value: octetString(subjectKeyId(intSpki)) },
        { oid: OID.authorityKeyIdentifier, value: authorityKeyId(rootSki) },
      ],
    },
    rootKey.privateKey,
  );
  const out = {
    rootKeyPem: Buffer.from(rootKey.privateKey.export({ type: 'pkcs8', format: 'pem' })),
    rootPem: Buffer.from(encodePem('CERTIFICATE', root)),
    intKeyPem: Buffer.from(intKey.privateKey.export({ type: 'pkcs8', format: 'pem' })),
    intPem: Buffer.from(encodePem('CERTIFICATE', intermediate)),
  };
  // Keys first, certificates last: root.pem is what marks a generation as present.
  writePrivateFile(d, 'root.key', out.rootKeyPem);
  writePrivateFile(d, 'intermediate.key', out.intKeyPem);
  writePrivateFile(d, 'intermediate.pem', out.intPem);
  writePrivateFile(d, 'root.pem', out.rootPem);
  return out;
}

function issueLeaf(req: LeafRequest, intermediate: Buffer, intermediateKey: KeyObject, akid: Buffer): Buffer {
  const serial = randomSerial();
  const head: ExtensionSpec[] = [
    { oid: OID.keyUsage, critical: true, value: keyUsage([KU_DIGITAL_SIGNATURE]) },
    { oid: OID.extKeyUsage, value: extKeyUsage([OID.codeSigning]) },
    { oid: OID.subjectKeyIdentifier, value: octetString(subjectKeyId(req.spki)) },
    { oid: OID.authorityKeyIdentifier, value: authorityKeyId(akid) },
    req.san,
    ...req.extensions,
  ];
  const spec = (last: ExtensionSpec) => ({
    serial,
    issuer: INTERMEDIATE_NAME,
    subject: {}, // Fulcio leaves have an empty subject; the identity is in the SAN
    notBefore: req.notBefore,
    notAfter: req.notAfter,
    spki: req.spki,
    extensions: [...head, last],
  });
  // RFC 6962 §3.1: the precertificate carries a critical poison extension where the SCT list will go.
  const precert = buildCertificate(spec({ oid: OID_CT_POISON, critical: true, value: asn1Null() }), intermediateKey);
  const sct = req.ctLog.addPreChain(precert, intermediate);
  // RFC 6962 §3.3: the SCT list is a TLS structure inside an OCTET STRING extension value.
  return buildCertificate(spec({ oid: OID_CT_SCT_LIST, value: octetString(encodeSctList([sct])) }), intermediateKey);
}
