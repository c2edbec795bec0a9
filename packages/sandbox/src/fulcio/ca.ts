/**
 * The sandbox certificate authority: a self-signed P-384 root and a P-384
 * intermediate persisted under DIR/fulcio/ (generation 1) or DIR/fulcio/genN/
 * (rotated generations), issuing Fulcio-profile leaves with an embedded SCT
 * through the RFC 6962 precertificate flow.
 *
 * Every generation has the same subject names, like the public-good 2021 and
 * 2022 roots: verifiers must build chains by key, not by name.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GitsealError } from '../gitseal/errors.js';
import type { CtLog } from '../ct/log.js';
import { OID_CT_POISON, OID_CT_SCT_LIST } from '../ct/precert.js';
import { encodeSctList } from '../ct/sct.js';
import { caValidity, certificatePem, issueFromRoot, KU_CRL_SIGN, KU_DIGITAL_SIGNATURE, KU_KEY_CERT_SIGN, newEcKey, openIssuedPair, privateKeyPem, selfSignedRoot } from '../shared/ca-keys.js';
import { ensurePrivateDir, loadOrCreateFiles, writePrivateFile } from '../shared/private-files.js';
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
  type ExtensionSpec,
  type NameSpec,
} from './x509-build.js';

export const ROOT_NAME: NameSpec = { organization: 'gitseal-sandbox', commonName: 'sandbox-sigstore' };
export const INTERMEDIATE_NAME: NameSpec = { organization: 'gitseal-sandbox', commonName: 'sandbox-sigstore-intermediate' };

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
  const files = loadOrCreateFiles(d, 'ca', CA_FILES, () => createCaFiles(d, now()));
  // The intermediate key must be the one in its certificate, and the intermediate signed by the root.
  const { root, cert: intermediate, key: intermediateKey } = openIssuedPair({ root: files.rootPem, cert: files.intPem, key: files.intKeyPem }, 'CA', d);
  const akid = certificateSubjectKeyId(intermediate) ?? subjectKeyId(createPublicKey(intermediateKey).export({ type: 'spki', format: 'der' }));
  return {
    generation,
    root,
    intermediate,
    createdAt: certificateValidity(root).notBefore,
    issueLeaf: (req) => issueLeaf(req, intermediate, intermediateKey, akid),
  };
}

/** The files of one CA generation; root.pem, written last, marks it as present. */
const CA_FILES = { rootKeyPem: 'root.key', rootPem: 'root.pem', intKeyPem: 'intermediate.key', intPem: 'intermediate.pem' };

function createCaFiles(d: string, now: Date): Record<keyof typeof CA_FILES, Buffer> {
  const validity = caValidity(now);
  const rootKey = newEcKey('P-384');
  const intKey = newEcKey('P-384');
  const root = selfSignedRoot({ name: ROOT_NAME, key: rootKey, validity, pathLen: 1, authorityKeyId: true });
  const intermediate = issueFromRoot({
    issuer: { name: ROOT_NAME, key: rootKey },
    subject: INTERMEDIATE_NAME,
    key: intKey,
    validity,
    extensions: [
      { oid: OID.keyUsage, critical: true, value: keyUsage([KU_KEY_CERT_SIGN, KU_CRL_SIGN]) },
      // Like public-good's sigstore-intermediate: EKU codeSigning constrains the leaves.
      { oid: OID.extKeyUsage, value: extKeyUsage([OID.codeSigning]) },
      { oid: OID.basicConstraints, critical: true, value: basicConstraints(true, 0) },
    ],
  });
  const out = {
    rootKeyPem: privateKeyPem(rootKey.privateKey),
    rootPem: certificatePem(root),
    intKeyPem: privateKeyPem(intKey.privateKey),
    intPem: certificatePem(intermediate),
  };
  // Keys first, certificates last: root.pem is what marks a generation as present.
  writePrivateFile(d, CA_FILES.rootKeyPem, out.rootKeyPem);
  writePrivateFile(d, CA_FILES.intKeyPem, out.intKeyPem);
  writePrivateFile(d, CA_FILES.intPem, out.intPem);
  writePrivateFile(d, CA_FILES.rootPem, out.rootPem);
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
