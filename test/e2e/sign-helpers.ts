/**
 * Helpers for the signing e2e tests: split git objects into payload and
 * signature as git does, and check a signature with three independent
 * verifiers — openssl cms, gpgsm, and @sigstore/verify on a bundle made from
 * the CMS pieces.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { canonicalBody, hashedRekordV001 } from '../../src/rekor/body.js';
import { decodeTle, type TransparencyLogEntry } from '../../src/rekor/tle.js';
import { hashedRekordV002Body } from '../../src/verify/tlog.js';
import { children, decodeOid, der as derWriter, parseDer } from '../../src/util/der.js';
import { decodePem } from '../../src/util/pem.js';

/** A commit object → [payload git signed, armoured signature] (gpgsig or gpgsig-sha256 header removed). */
export function splitCommit(raw: Buffer): { payload: Buffer; signature: string; header: string } {
  const text = raw.toString('latin1');
  const end = text.indexOf('\n\n');
  const lines = text.slice(0, end).split('\n');
  const kept: string[] = [];
  const sig: string[] = [];
  let header = '';
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i].match(/^(gpgsig(?:-sha256)?) (.*)$/);
    if (m && !header) {
      header = m[1];
      sig.push(m[2]);
      while (i + 1 < lines.length && lines[i + 1].startsWith(' ')) sig.push(lines[++i].slice(1));
      continue;
    }
    kept.push(lines[i]);
  }
  if (!header) throw new Error('commit has no signature header');
  return { payload: Buffer.from(kept.join('\n') + text.slice(end), 'latin1'), signature: sig.join('\n') + '\n', header };
}

/** A tag object → payload before the signature block, and the block. */
export function splitTag(raw: Buffer): { payload: Buffer; signature: string } {
  const text = raw.toString('latin1');
  const at = text.lastIndexOf('-----BEGIN SIGNED MESSAGE-----');
  if (at < 0) throw new Error('tag has no x509 signature');
  return { payload: Buffer.from(text.slice(0, at), 'latin1'), signature: text.slice(at) };
}

export interface CmsPieces {
  signedAttrs: Buffer;
  signature: Buffer;
  leaf: Buffer;
  tle: Buffer;
  /** RFC 3161 TimeStampToken (unsigned attribute 1.2.840.113549.1.9.16.2.14), if any. */
  tst?: Buffer;
  certCount: number;
}

export function cmsPieces(der: Buffer): CmsPieces {
  const sd = children(children(children(parseDer(der))[1])[0]);
  const certs = children(sd[3]);
  const si = children(children(sd[4])[0]);
  const signedAttrs = Buffer.concat([Buffer.from([0x31]), si[3].raw.subarray(1)]);
  const unsigned = children(si[6]).map((a) => children(a));
  const tleAttr = unsigned.find(([oid]) => decodeOid(oid.value) === '1.3.6.1.4.1.57264.3.1');
  if (!tleAttr) throw new Error('no embedded log entry');
  const tstAttr = unsigned.find(([oid]) => decodeOid(oid.value) === '1.2.840.113549.1.9.16.2.14');
  return {
    signedAttrs,
    signature: si[5].value,
    leaf: certs[0].raw,
    tle: children(tleAttr[1])[0].value,
    tst: tstAttr ? children(tstAttr[1])[0].raw : undefined,
    certCount: certs.length,
  };
}

export function opensslVerify(dir: string, der: Buffer, payload: Buffer, rootPem: string, intermediatesPem = ''): void {
  writeFileSync(join(dir, 'o.sig.der'), der);
  writeFileSync(join(dir, 'o.payload'), payload);
  // The CMS carries only the leaf (as gitsign's); the intermediates come from the trusted root,
  // like the anchor (openssl cms has no -untrusted option, and -certfile only finds signers).
  writeFileSync(join(dir, 'o.root.pem'), rootPem + intermediatesPem);
  execFileSync('openssl', ['cms', '-verify', '-inform', 'DER', '-in', 'o.sig.der', '-binary', '-content', 'o.payload', '-CAfile', 'o.root.pem', '-purpose', 'any', '-out', '/dev/null'], {
    cwd: dir,
    stdio: 'pipe',
  });
}

/** A throwaway GNUPGHOME that trusts `rootPem` (trustlist.txt) and skips CRLs. */
export function makeGpgsmHome(rootPem: string, intermediatesPem = ''): { home: string; close(): void } {
  const home = mkdtempSync(join(tmpdir(), 'gitseal-gpgsm-'));
  mkdirSync(home, { recursive: true, mode: 0o700 });
  writeFileSync(join(home, 'gpgsm.conf'), 'disable-crl-checks\ndisable-policy-checks\n');
  writeFileSync(join(home, 'gpg-agent.conf'), 'allow-mark-trusted\n');
  writeFileSync(join(home, 'root.pem'), rootPem);
  const env = { ...process.env, GNUPGHOME: home };
  execFileSync('gpgsm', ['--batch', '--import', join(home, 'root.pem')], { env, stdio: 'pipe' });
  if (intermediatesPem) {
    writeFileSync(join(home, 'intermediates.pem'), intermediatesPem);
    execFileSync('gpgsm', ['--batch', '--import', join(home, 'intermediates.pem')], { env, stdio: 'pipe' });
  }
  const fpr = new X509Certificate(rootPem).fingerprint; // SHA-1, colon separated
  writeFileSync(join(home, 'trustlist.txt'), `${fpr} S\n`);
  return {
    home,
    close() {
      spawnSync('gpgconf', ['--kill', 'all'], { env, stdio: 'ignore' });
      rmSync(home, { recursive: true, force: true });
    },
  };
}

function runGpgsm(gnupgHome: string, sig: string, data: string) {
  return spawnSync('gpgsm', ['--batch', '--status-fd', '1', '--verify', sig, data], { env: { ...process.env, GNUPGHOME: gnupgHome }, encoding: 'utf8' });
}

/**
 * gpgsm --verify. gpgsm 2.2 / libksba 1.6 cannot parse any CMS whose signer certificate has an
 * empty subject — every Fulcio leaf, so every gitsign signature too ("ksba_cms_parse failed:
 * Invalid CMS object"). So: if gpgsm parses ours it must report GOODSIG with full trust; if it
 * does not, it must fail exactly as it does on a real gitsign signature from the corpus.
 * (test/cms/build.test.ts checks our CMS layout with gpgsm using a leaf that has a subject.)
 */
export function gpgsmVerify(gnupgHome: string, dir: string, der: Buffer, payload: Buffer): string {
  writeFileSync(join(dir, 'g.sig.der'), der);
  writeFileSync(join(dir, 'g.payload'), payload);
  const r = runGpgsm(gnupgHome, join(dir, 'g.sig.der'), join(dir, 'g.payload'));
  if (r.status === 0 && /\[GNUPG:\] GOODSIG /.test(r.stdout) && /\[GNUPG:\] TRUST_(FULLY|ULTIMATE)/.test(r.stdout)) return r.stdout;
  const corpus = join(__dirname, '..', 'fixtures', 'gitsign-corpus', 'sigstore_gitsign_commit_7550db4cf96b');
  writeFileSync(join(dir, 'g.gitsign.der'), decodePem(readFileSync(join(corpus, 'signature.pem'), 'utf8'), 'SIGNED MESSAGE'));
  const ref = runGpgsm(gnupgHome, join(dir, 'g.gitsign.der'), join(corpus, 'payload.bin'));
  const strip = (s: string) => s.replace(/^gpgsm: keybox .*\n/m, '');
  if (r.status !== ref.status || strip(r.stdout + r.stderr) !== strip(ref.stdout + ref.stderr)) {
    throw new Error(`gpgsm treats our signature differently from gitsign's (exit ${r.status} vs ${ref.status}):\n${r.stdout}${r.stderr}\n--- gitsign:\n${ref.stdout}${ref.stderr}`);
  }
  return r.stdout;
}

/**
 * One `verificationMaterial.tlogEntries[]` item of a v0.3 bundle (JSON) for `e`, whose log body is
 * `body`; the SET (inclusion promise) when the entry has one. `integratedTime` overrides the
 * entry's (Rekor v2 entries carry none).
 */
export function bundleTlogEntry(e: TransparencyLogEntry, body: Buffer, opts: { integratedTime?: string } = {}): Record<string, unknown> {
  const proof = e.inclusionProof!;
  return {
    logIndex: e.logIndex.toString(),
    logId: { keyId: e.logId.toString('base64') },
    kindVersion: { kind: e.kind, version: e.version },
    integratedTime: opts.integratedTime ?? e.integratedTime.toString(),
    ...(e.signedEntryTimestamp ? { inclusionPromise: { signedEntryTimestamp: e.signedEntryTimestamp.toString('base64') } } : {}),
    inclusionProof: {
      logIndex: proof.logIndex.toString(),
      rootHash: proof.rootHash.toString('base64'),
      treeSize: proof.treeSize.toString(),
      hashes: proof.hashes.map((h) => h.toString('base64')),
      checkpoint: { envelope: proof.checkpoint },
    },
    canonicalizedBody: body.toString('base64'),
  };
}

/** @sigstore/verify on a v0.3 bundle built from the CMS: artifact = DER signed attributes. */
export function sigstoreVerify(der: Buffer, trustedRootPath: string, expect: { identity: string; issuer?: string }): void {
  const p = cmsPieces(der);
  const e = decodeTle(p.tle);
  const digest = createHash('sha256').update(p.signedAttrs).digest();
  const body = e.version === '0.0.2' ? hashedRekordV002Body(digest, p.signature, p.leaf) : canonicalBody(hashedRekordV001(digest, p.signature, p.leaf));
  const bundle = bundleFromJSON({
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      certificate: { rawBytes: p.leaf.toString('base64') },
      tlogEntries: [bundleTlogEntry(e, body)],
      // A bundle holds the whole TimeStampResp (RFC 3161 §2.4.2): status granted + the token gitsign embeds.
      timestampVerificationData: { rfc3161Timestamps: p.tst ? [{ signedTimestamp: derWriter.seq(derWriter.seq(derWriter.int(0)), p.tst).toString('base64') }] : [] },
    },
    messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: digest.toString('base64') }, signature: p.signature.toString('base64') },
  });
  const trust = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(readFileSync(trustedRootPath, 'utf8'))));
  // Rekor v2 entries have no integrated time: the timestamp is then the only time source.
  const verifier = new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1, tsaThreshold: p.tst ? 1 : 0 });
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  verifier.verify(toSignedEntity(bundle, p.signedAttrs), {
    subjectAlternativeName: `^${esc(expect.identity)}$`,
    ...(expect.issuer ? { extensions: { issuer: expect.issuer } } : {}),
  });
}

/** messageDigest attribute must be sha256(payload): the content binding the bundle check cannot see. */
export function messageDigestMatches(der: Buffer, payload: Buffer): boolean {
  const attrs = children(parseDer(cmsPieces(der).signedAttrs));
  for (const a of attrs) {
    const [oid, vals] = children(a);
    if (decodeOid(oid.value) === '1.2.840.113549.1.9.4') {
      return children(vals)[0].value.equals(createHash('sha256').update(payload).digest());
    }
  }
  return false;
}

export const pemToDer = (pem: string) => decodePem(pem, 'SIGNED MESSAGE');
