/**
 * Raw commit and tag objects, parsed the way git itself reads them for
 * signature checks (git commit.c `parse_buffer_signed_by_header`,
 * `remove_signature`; gpg-interface.c `parse_signed_buffer`), so the payload
 * we verify is byte-for-byte the one git pipes to `gpg.x509.program`.
 *
 * Deliberate differences from git, all fail-closed:
 * - git concatenates repeated signature headers into one signature; we reject
 *   an object with two (the gitsign/go-git first-wins vs last-wins confusion,
 *   gitsign #802).
 * - A header line ending in CR is rejected: git never writes one, and git's
 *   own parser would not see "\r\n" as the end of the header block, so such an
 *   object means different things to different parsers.
 * - Sizes are bounded (see `ObjectLimits`).
 */
import { GitsealError } from '../errors.js';

export type ObjectType = 'commit' | 'tag';
/** The repository's object format (extensions.objectFormat). */
export type HashAlgo = 'sha1' | 'sha256';

export interface ObjectLimits {
  /** Whole object. */
  maxObjectBytes: number;
  /** The header block (everything before the first blank line). */
  maxHeaderBytes: number;
  /** Number of header lines, continuations included. */
  maxHeaderLines: number;
  /** The signature alone. */
  maxSignatureBytes: number;
}

export const DEFAULT_LIMITS: ObjectLimits = {
  maxObjectBytes: 32 * 1024 * 1024,
  maxHeaderBytes: 1024 * 1024,
  maxHeaderLines: 20_000,
  maxSignatureBytes: 256 * 1024,
};

export interface Header {
  name: string;
  /** Value with continuation lines joined by "\n" (leading space removed), no final newline. */
  value: string;
}

export interface SignedObject {
  type: ObjectType;
  /** The bytes git hands the verify program on stdin. Equals the object when unsigned. */
  payload: Buffer;
  /** The signature exactly as git writes it to the temp file, or undefined when unsigned. */
  signature?: Buffer;
  /** Header lines in order (the signature headers included). */
  headers: Header[];
  /** "Name <email> time tz" of the committer (commit) or tagger (tag), if present. */
  ident?: string;
  /** E-mail inside the committer/tagger ident, if present. */
  email?: string;
}

/** Git's header name per object format: SHA-1 repos sign with `gpgsig`, SHA-256 repos with `gpgsig-sha256`. */
export function signatureHeaderFor(algo: HashAlgo): string {
  return algo === 'sha256' ? 'gpgsig-sha256' : 'gpgsig';
}

/** The signature armour lines git recognises (gpg-interface.c: openpgp_sigs, x509_sigs, ssh_sigs). */
export const SIGNATURE_BEGIN_LINES = [
  '-----BEGIN PGP SIGNATURE-----',
  '-----BEGIN PGP MESSAGE-----',
  '-----BEGIN SIGNED MESSAGE-----',
  '-----BEGIN SSH SIGNATURE-----',
] as const;

/** The signature kinds git tells apart, by the armour line the signature starts with. */
export type SignatureKind = 'x509' | 'openpgp' | 'ssh' | 'unknown';

/**
 * What git takes a signature for (gpg-interface.c get_format_by_sig): the format whose armour
 * line the signature STARTS with — no whitespace or text before it. git runs gpg.x509.program
 * only for 'x509'; for 'unknown' it dies ("bad/incompatible signature"). Every path that reads a
 * signature from an object must take it the same way.
 */
export function signatureKind(sig: Buffer): SignatureKind {
  const head = sig.subarray(0, 40).toString('latin1');
  if (head.startsWith('-----BEGIN SIGNED MESSAGE-----')) return 'x509';
  if (head.startsWith('-----BEGIN PGP SIGNATURE-----') || head.startsWith('-----BEGIN PGP MESSAGE-----')) return 'openpgp';
  if (head.startsWith('-----BEGIN SSH SIGNATURE-----')) return 'ssh';
  return 'unknown';
}

const NL = 0x0a;
const SP = 0x20;
const CR = 0x0d;
const SIG_HEADERS = ['gpgsig', 'gpgsig-sha256'];

function bad(message: string): never {
  throw new GitsealError('BAD_GIT_OBJECT', message);
}

/** One line of `buf` from `start`: [start, next) where next is past the "\n" (or the end). */
function lineEnd(buf: Buffer, start: number): number {
  const i = buf.indexOf(NL, start);
  return i < 0 ? buf.length : i + 1;
}

function startsWithAscii(buf: Buffer, at: number, end: number, s: string): boolean {
  if (end - at < s.length) return false;
  for (let i = 0; i < s.length; i++) if (buf[at + i] !== s.charCodeAt(i)) return false;
  return true;
}

interface HeaderSpan {
  name: string;
  /** Whether a space follows the name (git matches signature headers as "<name> "). */
  spaced: boolean;
  /** Byte range of the header line and all its continuation lines. */
  start: number;
  end: number;
}

/**
 * Split the header block into headers with their byte spans; returns where the
 * body starts (just past the blank line), or buf.length if there is none.
 */
function scanHeaders(buf: Buffer, what: string, limits: ObjectLimits): { spans: HeaderSpan[]; bodyStart: number } {
  const spans: HeaderSpan[] = [];
  let p = 0;
  let lines = 0;
  while (p < buf.length) {
    if (buf[p] === NL) return { spans, bodyStart: p + 1 };
    const next = lineEnd(buf, p);
    if (next > limits.maxHeaderBytes) bad(`${what} object has a header block larger than ${limits.maxHeaderBytes} bytes`);
    if (++lines > limits.maxHeaderLines) bad(`${what} object has more than ${limits.maxHeaderLines} header lines`);
    const contentEnd = buf[next - 1] === NL ? next - 1 : next;
    if (contentEnd > p && buf[contentEnd - 1] === CR) {
      bad(`${what} object has a header line ending in CR (CRLF line endings); git writes LF only`);
    }
    if (buf[p] === SP) {
      // Continuation line (RFC 822-style folding, as git writes multi-line headers).
      const last = spans[spans.length - 1];
      if (!last) bad(`${what} object starts with a continuation line`);
      last.end = next;
    } else {
      const sp = buf.indexOf(SP, p);
      const nameEnd = sp >= 0 && sp < contentEnd ? sp : contentEnd;
      if (nameEnd === p) bad(`${what} object has a header line with an empty name`);
      spans.push({ name: buf.toString('latin1', p, nameEnd), spaced: nameEnd < contentEnd, start: p, end: next });
    }
    p = next;
  }
  return { spans, bodyStart: buf.length };
}

function headerValue(buf: Buffer, s: HeaderSpan): string {
  if (!s.spaced) return '';
  const raw = buf.toString('utf8', s.start + s.name.length + 1, s.end);
  return (raw.endsWith('\n') ? raw.slice(0, -1) : raw).replace(/\n /g, '\n');
}

/** The signature bytes of a header span: each line without its first byte (the name+space or the continuation space). */
function headerSignature(buf: Buffer, s: HeaderSpan): Buffer {
  const parts: Buffer[] = [];
  let p = s.start;
  let first = true;
  while (p < s.end) {
    const next = lineEnd(buf, p);
    parts.push(buf.subarray(first ? p + s.name.length + 1 : p + 1, next));
    first = false;
    p = next;
  }
  return Buffer.concat(parts);
}

/**
 * The e-mail inside a git ident "Name <email> time tz", exactly as git reads it (ident.c
 * split_ident_line): the mail starts after the first '<' — looked for only up to the first NUL
 * byte — and ends at the first '>' after it. So `Alice <alice@x> <bob@y> 1 +0000` is alice@x,
 * whatever follows.
 */
export function identEmail(ident: string): string | undefined {
  let lt = -1;
  for (let i = 0; i < ident.length; i++) {
    const c = ident.charCodeAt(i);
    if (c === 0) break;
    if (c === 0x3c) {
      lt = i;
      break;
    }
  }
  if (lt < 0) return undefined;
  const gt = ident.indexOf('>', lt + 1);
  if (gt < 0) return undefined;
  return ident.slice(lt + 1, gt);
}

/**
 * Headers that name the object's people or what it points at. Git itself is inconsistent about
 * repeats (the commit display takes the last committer, fsck and gitsign/go-git the first), and
 * `git fsck --strict` does not flag a second committer: one object, two answers to "who
 * committed this". Such an object is malformed here, on every path (issue 14 item 3).
 */
const SINGLE_HEADERS: Record<ObjectType, string[]> = {
  commit: ['tree', 'author', 'committer'],
  tag: ['object', 'type', 'tag', 'tagger'],
};

function checkSingleHeaders(spans: HeaderSpan[], type: ObjectType): void {
  for (const n of SINGLE_HEADERS[type]) {
    const c = spans.filter((s) => s.name === n).length;
    if (c > 1) bad(`${type} object has ${c} "${n}" headers; refusing an ambiguous object (git shows one, other tools read another)`);
  }
}

/** What the policy reads from a signed payload: the object type and the committer's (tagger's) ident. */
export interface PayloadIdentity {
  type: ObjectType;
  /** The committer (commit) or tagger (tag) header value, bytes as latin1, absent when there is none. */
  ident?: string;
  /** The e-mail in it, as identEmail reads it. */
  email?: string;
}

/**
 * Check a payload git hands the verify program (an object without its signature) by the same
 * rules as objects read from the repository — header lines without CR, the header block and
 * object size limits, no repeated identity headers — and return who it names. Undefined for a
 * payload that is neither a commit nor a tag (e.g. a push certificate): nothing to check.
 * Throws BAD_GIT_OBJECT / INPUT_TOO_LARGE.
 */
export function payloadIdentity(payload: Buffer, limits: ObjectLimits = DEFAULT_LIMITS): PayloadIdentity | undefined {
  const type: ObjectType | undefined = startsWithAscii(payload, 0, payload.length, 'tree ') ? 'commit' : startsWithAscii(payload, 0, payload.length, 'object ') ? 'tag' : undefined;
  if (!type) return undefined;
  checkSize(payload, type, limits);
  const { spans } = scanHeaders(payload, type, limits);
  checkSingleHeaders(spans, type);
  const h = spans.find((s) => s.name === (type === 'commit' ? 'committer' : 'tagger') && s.spaced);
  if (!h) return { type };
  // Bytes as latin1 on both sides of the comparison: a certificate e-mail is compared byte for byte.
  const raw = payload.toString('latin1', h.start + h.name.length + 1, h.end);
  const ident = raw.endsWith('\n') ? raw.slice(0, -1) : raw;
  return { type, ident, email: identEmail(ident) };
}

function checkSize(raw: Buffer, what: string, limits: ObjectLimits): void {
  if (raw.length > limits.maxObjectBytes) {
    throw new GitsealError('INPUT_TOO_LARGE', `${what} object is larger than ${limits.maxObjectBytes} bytes`);
  }
}

function requireHeaders(spans: HeaderSpan[], what: string, names: string[], firstName: string): void {
  if (spans.length === 0) bad(`${what} object has no headers`);
  if (spans[0].name !== firstName) bad(`${what} object does not start with a "${firstName}" header`);
  for (const n of names) if (!spans.some((s) => s.name === n)) bad(`${what} object has no "${n}" header`);
}

function concatWithout(buf: Buffer, cut: HeaderSpan[]): Buffer {
  if (cut.length === 0) return buf;
  const sorted = [...cut].sort((a, b) => a.start - b.start);
  const parts: Buffer[] = [];
  let p = 0;
  for (const s of sorted) {
    parts.push(buf.subarray(p, s.start));
    p = s.end;
  }
  parts.push(buf.subarray(p));
  return Buffer.concat(parts);
}

/**
 * A commit: the signature is the (single) `gpgsig` header for SHA-1
 * repositories, `gpgsig-sha256` for SHA-256 ones. The payload is the object
 * without every `gpgsig*` header and its continuation lines, as git builds it
 * (commit.c parse_buffer_signed_by_header drops the other algorithm's
 * signature too).
 */
export function parseCommit(raw: Buffer, algo: HashAlgo = 'sha1', limits: ObjectLimits = DEFAULT_LIMITS): SignedObject {
  checkSize(raw, 'commit', limits);
  const { spans } = scanHeaders(raw, 'commit', limits);
  requireHeaders(spans, 'commit', ['author', 'committer'], 'tree');
  checkSingleHeaders(spans, 'commit');
  const sigName = signatureHeaderFor(algo);
  const own = spans.filter((s) => s.name === sigName && s.spaced);
  if (own.length > 1) bad(`commit object has ${own.length} "${sigName}" headers; refusing an ambiguous signature`);
  // git drops any header line that starts with "gpgsig" (and its continuations) from the payload.
  const others = spans.filter((s) => !own.includes(s) && s.name.startsWith('gpgsig'));
  for (const n of SIG_HEADERS) {
    const c = others.filter((s) => s.name === n && s.spaced).length;
    if (c > 1) bad(`commit object has ${c} "${n}" headers; refusing an ambiguous signature`);
  }
  const committer = spans.find((s) => s.name === 'committer')!;
  const ident = headerValue(raw, committer);
  const out: SignedObject = {
    type: 'commit',
    payload: concatWithout(raw, [...own, ...others]),
    headers: spans.map((s) => ({ name: s.name, value: headerValue(raw, s) })),
    ident,
    email: identEmail(ident),
  };
  if (own.length === 1) {
    const sig = headerSignature(raw, own[0]);
    if (sig.length > limits.maxSignatureBytes) {
      throw new GitsealError('INPUT_TOO_LARGE', `commit signature is larger than ${limits.maxSignatureBytes} bytes`);
    }
    out.signature = sig;
  }
  return out;
}

/** Offset of the last line that starts a signature armour (gpg-interface.c parse_signed_buffer), or -1. */
export function findTagSignatureStart(raw: Buffer): number {
  let match = -1;
  let p = 0;
  while (p < raw.length) {
    const next = lineEnd(raw, p);
    // Cheap pre-check on the common prefix before the full comparisons.
    if (raw[p] === 0x2d && startsWithAscii(raw, p, next, '-----BEGIN ')) {
      for (const s of SIGNATURE_BEGIN_LINES) {
        if (startsWithAscii(raw, p, next, s)) {
          match = p;
          break;
        }
      }
    }
    p = next;
  }
  return match;
}

/**
 * A tag: the signature is everything from the last line that begins a known
 * signature armour; the payload is what comes before it, with any `gpgsig*`
 * headers removed (gpg-interface.c parse_signature → remove_signature).
 */
export function parseTag(raw: Buffer, limits: ObjectLimits = DEFAULT_LIMITS): SignedObject {
  checkSize(raw, 'tag', limits);
  const { spans, bodyStart } = scanHeaders(raw, 'tag', limits);
  requireHeaders(spans, 'tag', ['type', 'tag'], 'object');
  checkSingleHeaders(spans, 'tag');
  const sigSpans = spans.filter((s) => s.spaced && SIG_HEADERS.includes(s.name));
  for (const n of SIG_HEADERS) {
    const c = sigSpans.filter((s) => s.name === n).length;
    if (c > 1) bad(`tag object has ${c} "${n}" headers; refusing an ambiguous signature`);
  }
  const tagger = spans.find((s) => s.name === 'tagger');
  const ident = tagger ? headerValue(raw, tagger) : undefined;
  const start = findTagSignatureStart(raw);
  // A signature can only sit in the message, never inside the header block.
  const signed = start >= 0 && start >= bodyStart;
  const before = signed ? raw.subarray(0, start) : raw;
  const out: SignedObject = {
    type: 'tag',
    payload: concatWithout(before, sigSpans),
    headers: spans.map((s) => ({ name: s.name, value: headerValue(raw, s) })),
    ident,
    email: ident !== undefined ? identEmail(ident) : undefined,
  };
  if (signed) {
    const sig = raw.subarray(start);
    if (sig.length > limits.maxSignatureBytes) {
      throw new GitsealError('INPUT_TOO_LARGE', `tag signature is larger than ${limits.maxSignatureBytes} bytes`);
    }
    out.signature = sig;
  }
  return out;
}

/** Parse a commit or tag by type name (as `git cat-file --batch` reports it). */
export function parseSignedObject(type: string, raw: Buffer, algo: HashAlgo = 'sha1', limits: ObjectLimits = DEFAULT_LIMITS): SignedObject {
  if (type === 'commit') return parseCommit(raw, algo, limits);
  if (type === 'tag') return parseTag(raw, limits);
  return bad(`a ${type} object cannot carry a signature`);
}
