/**
 * `gitseal show --format=in-toto`: the statement gitsign v0.17.1's `gitsign show` prints, byte
 * for byte, so `gitsign show | jq` pipelines keep working (gitsign pkg/attest/statement.go,
 * internal/commands/show/show.go, proto/v01/predicate.proto).
 *
 * What gitsign prints, and why it looks the way it does:
 *   - an in-toto Statement v1 (github.com/in-toto/attestation/go/v1) written with Go's
 *     encoding/json, two-space indent: the generated struct's JSON tags give the keys
 *     `type`, `subject`, `predicate_type`, `predicate` in that order (not protojson's `_type`
 *     and `predicateType`: those are the names the testdata is *read* with, protojson accepts
 *     both), a subject `{name, digest}` with `name` left out when the remote is unknown and
 *     digest keys sorted (`gitTag` before `sha1`);
 *   - the predicate is a structpb.Struct, which marshals itself with protojson: keys sorted,
 *     proto3 defaults (empty strings, empty lists) left out, dates as RFC 3339 UTC (`Z`);
 *   - encoding/json escapes `<`, `>`, `&`, U+2028 and U+2029 as \u00XX / \u20XX everywhere;
 *   - predicate fields are decoded the way go-git decodes the object (trimmed header lines,
 *     the last `<`/`>` of an ident, the signature with its continuation spaces trimmed, a tag's
 *     signature split off the end of its message), and objects with a repeated singleton header
 *     are refused as gitsign refuses them (pkg/git/rawobj.go ValidateCommit/ValidateTag).
 *   - commits: predicate type https://gitsign.sigstore.dev/predicate/git/v0.1, digest
 *     {sha1}; annotated tags: https://gitsign.sigstore.dev/predicate/tag/v0.1, digest
 *     {gitTag, sha1} (both the tag object's id).
 * gitsign fails (protojson refuses) where a predicate string is not valid UTF-8 or a date is
 * outside years 1–9999; so does this, with a message saying so.
 */
import { GitsealError } from '../errors.js';
import { findSignerCertificate, parseSignedData } from '../cms/parse.js';
import { encodePem } from '../util/pem.js';
import { parseCertificate } from '../x509/certificate.js';

export const COMMIT_PREDICATE_TYPE = 'https://gitsign.sigstore.dev/predicate/git/v0.1';
export const TAG_PREDICATE_TYPE = 'https://gitsign.sigstore.dev/predicate/tag/v0.1';
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';

const COMMIT_SINGLETONS = new Set(['tree', 'author', 'committer', 'gpgsig', 'gpgsig-sha256']);
const TAG_SINGLETONS = new Set(['object', 'type', 'tag', 'tagger', 'gpgsig', 'gpgsig-sha256']);
const OBJECT_TYPES = new Set(['commit', 'tree', 'blob', 'tag']);
/** go-git's parseSignedBytes: the signature armours a tag message may end with. */
const TAG_SIGNATURE_STARTS = ['-----BEGIN PGP SIGNATURE-----', '-----BEGIN SIGNED MESSAGE-----', '-----BEGIN SSH SIGNATURE-----'];

const utf8 = new TextDecoder('utf-8', { fatal: true });

interface Person {
  date: string;
  email?: string;
  name?: string;
}

function text(b: Buffer, field: string): string {
  try {
    return utf8.decode(b);
  } catch {
    throw new GitsealError('USAGE', `the ${field} is not valid UTF-8, which gitsign's in-toto statement cannot carry (gitsign show fails on it too)`);
  }
}

/** Go's bytes.TrimSpace (ASCII white space). */
function trimSpace(b: Buffer): Buffer {
  let s = 0;
  let e = b.length;
  const ws = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0b || c === 0x0c || c === 0x0d;
  while (s < e && ws(b[s]!)) s++;
  while (e > s && ws(b[e - 1]!)) e--;
  return b.subarray(s, e);
}

/** A header line trimmed as go-git trims it and split at its first space; undefined for the blank line that ends the headers. */
function headerField(raw: Buffer): { key: string; data: Buffer } | undefined {
  const line = trimSpace(raw);
  if (line.length === 0) return undefined;
  const sp = line.indexOf(0x20);
  return { key: line.subarray(0, sp < 0 ? line.length : sp).toString('latin1'), data: sp < 0 ? Buffer.alloc(0) : line.subarray(sp + 1) };
}

/** Lines of `raw`, each with its "\n" (the last one may lack it), like bufio.ReadBytes('\n'). */
function lines(raw: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < raw.length) {
    const nl = raw.indexOf(0x0a, at);
    const end = nl < 0 ? raw.length : nl + 1;
    out.push(raw.subarray(at, end));
    at = end;
  }
  return out;
}

/** RFC 3339 in UTC as protojson writes a google.protobuf.Timestamp (whole seconds: no fraction). */
function protoDate(unixSeconds: bigint, field: string): string {
  // protojson accepts 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
  if (unixSeconds < -62135596800n || unixSeconds > 253402300799n) {
    throw new GitsealError('USAGE', `the ${field} date is outside the years 1 to 9999, which gitsign's in-toto statement cannot carry`);
  }
  return new Date(Number(unixSeconds) * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

/** go-git Signature.Decode: name before the last '<', e-mail up to the last '>', then the time. */
function person(data: Buffer, field: string): Person {
  let name = '';
  let email = '';
  let secs = -62135596800n; // Go's zero time.Time, what go-git leaves when there is none
  const open = data.lastIndexOf(0x3c);
  const close = data.lastIndexOf(0x3e);
  if (open !== -1 && close !== -1 && close >= open) {
    let n = data.subarray(0, open);
    let s = 0;
    let e = n.length;
    while (s < e && n[s] === 0x20) s++;
    while (e > s && n[e - 1] === 0x20) e--;
    n = n.subarray(s, e);
    name = text(n, `${field} name`);
    email = text(data.subarray(open + 1, close), `${field} e-mail`);
    if (close + 2 < data.length) {
      const rest = data.subarray(close + 2);
      const sp = rest.indexOf(0x20);
      const ts = rest.subarray(0, sp < 0 ? rest.length : sp).toString('latin1');
      // strconv.ParseInt(…, 10, 64): optional sign, decimal digits, in int64 range.
      if (/^[+-]?\d+$/.test(ts)) {
        const v = BigInt(ts);
        if (v >= -(2n ** 63n) && v < 2n ** 63n) secs = v;
      }
    }
  }
  const p: Person = { date: protoDate(secs, field) };
  if (email) p.email = email;
  if (name) p.name = name;
  return p;
}

/** go-git's Hash.String(): 40 hex digits of the (20-byte) hash parsed from `s`, zeros where it is not hex. */
function goHash(s: string): string {
  const bytes = Buffer.alloc(20);
  // hex.DecodeString stops at the first bad pair; go-git copies what decoded.
  const m = /^(?:[0-9a-fA-F]{2})*/.exec(s)![0];
  Buffer.from(m.slice(0, 40), 'hex').copy(bytes);
  return bytes.toString('hex');
}

function refuseDuplicates(headerLines: Buffer[], singletons: Set<string>, what: string): void {
  const seen = new Set<string>();
  for (const l of headerLines) {
    const line = l[l.length - 1] === 0x0a ? l.subarray(0, l.length - 1) : l;
    if (line.length === 0) break;
    if (line[0] === 0x20 || line[0] === 0x09) continue;
    const sp = line.indexOf(0x20);
    if (sp < 0) continue;
    const key = line.subarray(0, sp).toString('latin1');
    if (!singletons.has(key)) continue;
    if (seen.has(key)) throw new GitsealError('BAD_GIT_OBJECT', `the ${what} has two "${key}" headers; gitsign refuses to describe such an object, and so does gitseal`);
    seen.add(key);
  }
}

/** gitsign's parseSignature: one {attributes, certificate} per signer whose certificate is in the CMS. */
function signerInfo(signature: string): Array<{ attributes: string; certificate: string }> | undefined {
  // pem.Decode: the first PEM block whose base64 decodes (an OpenPGP armour, with its checksum
  // line, does not). gitsign then parses it as CMS whatever its label.
  const m = /-----BEGIN ([^\n-]*)-----\n([\s\S]*?)-----END \1-----/.exec(signature);
  if (!m) return undefined;
  const body = m[2]!.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) return undefined;
  if (m[1] !== 'SIGNED MESSAGE' && m[1] !== 'CMS' && m[1] !== 'PKCS7') return undefined;
  const sd = parseSignedData(Buffer.from(body, 'base64'));
  const certs = sd.certificates.map((c) => parseCertificate(c));
  const out: Array<{ attributes: string; certificate: string }> = [];
  for (const si of sd.signerInfos) {
    const c = findSignerCertificate(si, certs);
    if (!c || !si.signedAttrsSet) continue;
    out.push({ attributes: si.signedAttrsSet.toString('base64'), certificate: encodePem('CERTIFICATE', c.der) });
  }
  return out.length ? out : undefined;
}

/** Commit predicate (GitCommit) as protojson writes it: keys sorted, defaults left out. */
function commitPredicate(raw: Buffer): Record<string, unknown> {
  const all = lines(raw);
  refuseDuplicates(all, COMMIT_SINGLETONS, 'commit');
  let tree = '';
  const parents: string[] = [];
  let author: Person | undefined;
  let committer: Person | undefined;
  let signature = '';
  let inSig = false;
  let inMergetag = false;
  let i = 0;
  for (; i < all.length; i++) {
    const line = all[i]!;
    if (inSig) {
      if (line.length > 0 && line[0] === 0x20) {
        let s = 0;
        while (s < line.length && line[s] === 0x20) s++;
        signature += text(line.subarray(s), 'signature');
        continue;
      }
      inSig = false;
    }
    if (inMergetag) {
      if (line.length > 0 && line[0] === 0x20) continue;
      inMergetag = false;
    }
    const field = headerField(line);
    if (!field) {
      i++;
      break;
    }
    const { key, data } = field;
    switch (key) {
      case 'tree':
        tree = goHash(data.toString('latin1'));
        break;
      case 'parent': {
        const h = goHash(data.toString('latin1'));
        if (!/^0+$/.test(h)) parents.push(h);
        break;
      }
      case 'author':
        author = person(data, 'author');
        break;
      case 'committer':
        committer = person(data, 'committer');
        break;
      case 'gpgsig':
        signature += text(data, 'signature') + '\n';
        inSig = true;
        break;
      case 'mergetag':
        inMergetag = true;
        break;
    }
  }
  const message = text(Buffer.concat(all.slice(i)), 'commit message');
  const zero = { date: protoDate(-62135596800n, 'author') };
  const source: Record<string, unknown> = { author: author ?? zero, committer: committer ?? zero };
  if (message) source.message = message;
  if (parents.length) source.parents = parents;
  // go-git's zero hash still prints as 40 zeros, so a commit without a tree header has one.
  source.tree = tree || '0'.repeat(40);
  return withSignature(source, signature);
}

/** Tag predicate (GitTag). */
function tagPredicate(raw: Buffer): Record<string, unknown> {
  const all = lines(raw);
  refuseDuplicates(all, TAG_SINGLETONS, 'tag');
  let object = '';
  // go-git's zero ObjectType prints as "invalid".
  let objectType = 'invalid';
  let name = '';
  let tagger: Person | undefined;
  let i = 0;
  for (; i < all.length; i++) {
    const field = headerField(all[i]!);
    if (!field) {
      i++;
      break;
    }
    const { key, data } = field;
    switch (key) {
      case 'object':
        object = goHash(data.toString('latin1'));
        break;
      case 'type': {
        const t = data.toString('latin1');
        if (!OBJECT_TYPES.has(t)) throw new GitsealError('BAD_GIT_OBJECT', `the tag names an object of type "${t.slice(0, 20)}", which gitsign cannot describe`);
        objectType = t;
        break;
      }
      case 'tag':
        name = text(data, 'tag name');
        break;
      case 'tagger':
        tagger = person(data, 'tagger');
        break;
    }
  }
  let body = Buffer.concat(all.slice(i));
  // go-git's parseSignedBytes: the last line that starts a known signature armour.
  let sigAt = -1;
  for (let at = 0; at < body.length; ) {
    if (TAG_SIGNATURE_STARTS.some((s) => body.subarray(at, at + s.length).toString('latin1') === s)) sigAt = at;
    const nl = body.indexOf(0x0a, at);
    if (nl < 0) break;
    at = nl + 1;
  }
  let signature = '';
  if (sigAt >= 0) {
    signature = text(body.subarray(sigAt), 'signature');
    body = body.subarray(0, sigAt);
  }
  const message = text(body, 'tag message');
  const source: Record<string, unknown> = {};
  if (message) source.message = message;
  source.object = object || '0'.repeat(40);
  source.object_type = objectType;
  if (name) source.tag = name;
  source.tagger = tagger ?? { date: protoDate(-62135596800n, 'tagger') };
  return withSignature(source, signature);
}

function withSignature(source: Record<string, unknown>, signature: string): Record<string, unknown> {
  const p: Record<string, unknown> = {};
  if (signature) p.signature = signature;
  const si = signature ? signerInfo(signature) : undefined;
  if (si) p.signer_info = si;
  p.source = source;
  return p;
}

/** gitsign's statement for the commit or annotated tag `oid` (`raw` = git cat-file <type> <oid>). */
export function gitsignStatement(oid: string, type: 'commit' | 'tag', raw: Buffer, remoteURL: string): Record<string, unknown> {
  const subject: Record<string, unknown> = {};
  if (remoteURL) subject.name = remoteURL;
  // gitsign (go-git) knows only SHA-1 repositories; a SHA-256 one gets its own digest name.
  const alg = oid.length === 64 ? 'sha256' : 'sha1';
  subject.digest = type === 'tag' ? { gitTag: oid, [alg]: oid } : { [alg]: oid };
  return {
    type: STATEMENT_TYPE,
    subject: [subject],
    predicate_type: type === 'tag' ? TAG_PREDICATE_TYPE : COMMIT_PREDICATE_TYPE,
    predicate: type === 'tag' ? tagPredicate(raw) : commitPredicate(raw),
  };
}

/** JSON text as Go's json.Encoder with SetIndent("", "  ") writes it (HTML-safe escapes), with the final newline. */
export function goJson(value: unknown): string {
  return (
    JSON.stringify(value, null, 2).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) + '\n'
  );
}
