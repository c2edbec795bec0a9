/**
 * `gitseal show --format=in-toto` against real gitsign-signed objects of the corpus: the
 * statement gitsign v0.17.1's `gitsign show` prints for the same object.
 *
 * The reference is gitsign's pkg/attest (statement.go + testdata/*.out.json) and the way
 * internal/commands/show/show.go writes it. Field by field, as in testdata/fulcio-cert.out.json
 * (commit) and fulcio-tag.out.json (tag):
 *   type                       "https://in-toto.io/Statement/v1"
 *   subject[0].name            remote URL (left out without a remote)
 *   subject[0].digest          {sha1} for a commit; {gitTag, sha1} (both the tag id) for a tag
 *   predicate_type             …/predicate/git/v0.1 | …/predicate/tag/v0.1
 *   predicate.source           commit: tree, parents, author/committer {name, email, date
 *                              (RFC 3339, UTC "Z")}, message; tag: object, object_type, tag,
 *                              tagger, message
 *   predicate.signature        the PEM signature as go-git returns it
 *   predicate.signer_info[]    {attributes: base64 DER of the signed attributes as a SET (what
 *                              ECDSA signs), certificate: the signer's PEM}
 * The testdata spells the two top-level names `predicateType`: it is read with protojson, which
 * takes either name. What gitsign prints is encoding/json over the generated struct, whose JSON
 * tags are `type` and `predicate_type`; the predicate (a structpb.Struct) marshals itself with
 * protojson, so its keys come sorted and empty fields are left out; and encoding/json escapes
 * <, > and & as \u003c, \u003e, \u0026 (visible in testdata/gpg.out.json's message).
 *
 * Expected values here come from git itself and from openssl, not from gitseal's parsers.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './helpers.js';

const CORPUS = join(import.meta.dirname, '../fixtures/gitsign-corpus');
const COMMIT = 'sigstore_gitsign_commit_7550db4cf96b'; // offline mode, "<" in its message
const MERGE = 'sigstore_gitsign_commit_5eced6bc9979'; // two parents
const TAG = 'sigstore_gitsign_tag_138f9d7cb309';
const REMOTE = 'https://github.com/sigstore/gitsign.git';

const sb = new Sandbox('gitseal-intoto-');
let repo: string;
const oid = (d: string) => (JSON.parse(readFileSync(join(CORPUS, d, 'meta.json'), 'utf8')) as { oid: string }).oid;

beforeAll(() => {
  repo = sb.repo('show');
  for (const [d, type] of [[COMMIT, 'commit'], [MERGE, 'commit'], [TAG, 'tag']] as const) {
    expect(sb.git(['hash-object', '-t', type, '-w', '--literally', join(CORPUS, d, 'object.raw')], repo).trim()).toBe(oid(d));
  }
  sb.git(['remote', 'add', 'origin', REMOTE], repo);
});
afterAll(() => sb.cleanup());

/** The DER signed attributes of a CMS, re-tagged as SET (0x31), found with openssl asn1parse. */
function signedAttrsByOpenssl(pemFile: string): Buffer {
  const pem = readFileSync(pemFile, 'utf8');
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const listing = execFileSync('openssl', ['asn1parse', '-inform', 'DER'], { input: der, encoding: 'utf8' });
  // SignerInfo fields sit at depth 5 (ContentInfo › [0] › SignedData › signerInfos › SignerInfo).
  const m = /^\s*(\d+):d=5\s+hl=(\d+)\s+l=\s*(\d+)\s+cons:\s+cont \[ 0 \]/m.exec(listing);
  expect(m, listing).not.toBeNull();
  const [off, hl, len] = [Number(m![1]), Number(m![2]), Number(m![3])];
  const attrs = Buffer.from(der.subarray(off, off + hl + len));
  attrs[0] = 0x31;
  return attrs;
}

/** Fields of a commit or tag as git prints them. */
function gitFields(rev: string, fmt: string): string {
  return sb.git(['log', '-1', '--no-walk', `--format=${fmt}`, rev], repo).replace(/\n$/, '');
}

const utc = (unix: string) => new Date(Number(unix) * 1000).toISOString().replace('.000Z', 'Z');

describe('gitseal show --format=in-toto is gitsign show', () => {
  it('a commit: field by field as gitsign prints it', () => {
    const id = oid(COMMIT);
    const r = sb.gitseal(['show', id, '--format=in-toto'], { cwd: repo });
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(Object.keys(s)).toEqual(['type', 'subject', 'predicate_type', 'predicate']);
    expect(s.type).toBe('https://in-toto.io/Statement/v1');
    expect(s.predicate_type).toBe('https://gitsign.sigstore.dev/predicate/git/v0.1');
    expect(s.subject).toEqual([{ name: REMOTE, digest: { sha1: id } }]);
    expect(Object.keys(s.subject[0])).toEqual(['name', 'digest']);

    // protojson: keys sorted, empty fields left out.
    expect(Object.keys(s.predicate)).toEqual(['signature', 'signer_info', 'source']);
    const src = s.predicate.source;
    expect(Object.keys(src)).toEqual(['author', 'committer', 'message', 'parents', 'tree']);
    expect(src.tree).toBe(gitFields(id, '%T'));
    expect(src.parents).toEqual(gitFields(id, '%P').split(' '));
    expect(src.author).toEqual({ date: utc(gitFields(id, '%at')), email: gitFields(id, '%ae'), name: gitFields(id, '%an') });
    expect(Object.keys(src.author)).toEqual(['date', 'email', 'name']);
    expect(src.committer).toEqual({ date: utc(gitFields(id, '%ct')), email: gitFields(id, '%ce'), name: gitFields(id, '%cn') });
    // The author wrote a -0500 offset; gitsign (timestamppb) prints UTC.
    expect(src.author.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const raw = sb.git(['cat-file', 'commit', id], repo);
    expect(src.message).toBe(raw.slice(raw.indexOf('\n\n') + 2));

    // The signature as go-git gives it: the gpgsig header with its continuation spaces removed.
    const pem = readFileSync(join(CORPUS, COMMIT, 'signature.pem'), 'utf8');
    expect(s.predicate.signature).toBe(pem);
    expect(s.predicate.signer_info).toHaveLength(1);
    expect(Object.keys(s.predicate.signer_info[0])).toEqual(['attributes', 'certificate']);
    expect(Buffer.from(s.predicate.signer_info[0].attributes, 'base64')).toEqual(signedAttrsByOpenssl(join(CORPUS, COMMIT, 'signature.pem')));
    const leaf = execFileSync('openssl', ['x509', '-outform', 'PEM'], { input: readFileSync(join(CORPUS, COMMIT, 'leaf.pem')), encoding: 'utf8' });
    expect(s.predicate.signer_info[0].certificate).toBe(leaf);

    // The bytes: Go's encoder, two-space indent, HTML-safe escapes, one final newline.
    expect(src.message).toContain('<');
    expect(r.stdout).not.toMatch(/[<>&]/);
    expect(r.stdout).toContain('\\u003c');
    expect(r.stdout).toBe(JSON.stringify(s, null, 2).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`) + '\n');
    expect(r.stdout.startsWith('{\n  "type": "https://in-toto.io/Statement/v1",\n  "subject": [\n    {\n      "name": ')).toBe(true);
  });

  it('a merge commit lists both parents; without the remote the subject has no name', () => {
    const id = oid(MERGE);
    const r = sb.gitseal(['show', id, '--format=in-toto', '--remote', 'nosuch'], { cwd: repo });
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.subject).toEqual([{ digest: { sha1: id } }]);
    expect(s.predicate.source.parents).toEqual(gitFields(id, '%P').split(' '));
    expect(s.predicate.source.parents).toHaveLength(2);
  });

  it('an annotated tag: the tag predicate, digest {gitTag, sha1}', () => {
    const id = oid(TAG);
    const r = sb.gitseal(['show', id, '--format=in-toto'], { cwd: repo });
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.predicate_type).toBe('https://gitsign.sigstore.dev/predicate/tag/v0.1');
    expect(s.subject).toEqual([{ name: REMOTE, digest: { gitTag: id, sha1: id } }]);
    expect(Object.keys(s.subject[0].digest)).toEqual(['gitTag', 'sha1']);
    const src = s.predicate.source;
    expect(Object.keys(src)).toEqual(['message', 'object', 'object_type', 'tag', 'tagger']);
    const raw = sb.git(['cat-file', 'tag', id], repo);
    const header = (n: string) => new RegExp(`^${n} (.*)$`, 'm').exec(raw)![1]!;
    expect(src.object).toBe(header('object'));
    expect(src.object_type).toBe(header('type'));
    expect(src.tag).toBe(header('tag'));
    const tagger = /^tagger (.*?) <([^>]*)> (\d+) [+-]\d{4}$/m.exec(raw)!;
    expect(src.tagger).toEqual({ date: utc(tagger[3]!), email: tagger[2], name: tagger[1] });
    // The signature is the PEM at the end of the tag message; the message is what precedes it.
    const pem = readFileSync(join(CORPUS, TAG, 'signature.pem'), 'utf8');
    expect(s.predicate.signature).toBe(pem);
    expect(src.message + pem).toBe(raw.slice(raw.indexOf('\n\n') + 2));
    expect(Buffer.from(s.predicate.signer_info[0].attributes, 'base64')).toEqual(signedAttrsByOpenssl(join(CORPUS, TAG, 'signature.pem')));
  });

  it('jq-style paths of gitsign show work on the output', () => {
    const r = sb.gitseal(['show', oid(COMMIT), '--format=in-toto'], { cwd: repo });
    const s = JSON.parse(r.stdout);
    // what `gitsign show | jq -r '.predicate.signer_info[0].certificate'` and friends read
    expect(s.predicate.signer_info[0].certificate).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    expect(s.subject[0].digest.sha1).toBe(oid(COMMIT));
    expect(s.predicate_type).toMatch(/predicate\/git\/v0\.1$/);
  });

  it('refuses an object with a repeated singleton header, as gitsign does', () => {
    const raw = readFileSync(join(CORPUS, COMMIT, 'object.raw'), 'latin1');
    const doubled = raw.replace(/^(author .*)$/m, '$1\n$1');
    const id = sb.git(['hash-object', '-t', 'commit', '-w', '--literally', '--stdin'], repo, doubled).trim();
    const r = sb.gitseal(['show', id, '--format=in-toto'], { cwd: repo });
    expect(r.status).not.toBe(0);
    // refused as it is everywhere: the object reader itself rejects repeated identity headers
    expect(r.stderr).toMatch(/^gitseal: commit object has 2 "author" headers; refusing an ambiguous object/);
    expect(r.stdout).toBe('');
  });
});
