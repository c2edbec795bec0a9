// The sandbox Rekor v1 API over real HTTP on 127.0.0.1: entries are checked,
// logged and proven the way Rekor does it, and every artefact (SET,
// checkpoint, inclusion and consistency proofs) is verified here with
// node:crypto and the RFC 6962/9162 algorithms, not with the service's code.
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRekorService, type RekorService } from '../../packages/sandbox/src/rekor/service.js';
import { rootFromInclusion, verifyConsistency } from './rfc9162.js';
import { needs } from '../helpers/tools.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest();
interface Checkpoint { origin: string; size: number; root: Buffer; name: string }
/** Parse a Rekor v1 signed note and verify its signature with `key`. */
function openCheckpoint(text: string, key: KeyObject, logId: Buffer): Checkpoint {
  const sep = text.indexOf('\n\n');
  expect(sep).toBeGreaterThan(0);
  const note = text.slice(0, sep + 1);
  const m = /^\u2014 (\S+) (\S+)\n$/.exec(text.slice(sep + 2));
  expect(m, 'one signature line').not.toBeNull();
  const sig = Buffer.from(m![2], 'base64');
  expect(sig.subarray(0, 4)).toEqual(logId.subarray(0, 4));
  expect(verify('sha256', Buffer.from(note), key, sig.subarray(4))).toBe(true);
  const lines = note.trimEnd().split('\n');
  expect(lines[3]).toMatch(/^Timestamp: \d{19}$/);
  return { origin: lines[0], size: Number(lines[1]), root: Buffer.from(lines[2], 'base64'), name: m![1] };
}

/** RFC 8785 for the flat SET payload (string and integer values only). */
const setPayload = (e: { body: string; integratedTime: number; logID: string; logIndex: number }) =>
  `{"body":${JSON.stringify(e.body)},"integratedTime":${e.integratedTime},"logID":${JSON.stringify(e.logID)},"logIndex":${e.logIndex}}`;

let dir: string;
let server: Server;
let service: RekorService;
let base: string;

async function start(): Promise<void> {
  server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  service = createRekorService({ dir, url: base });
  server.on('request', (req, res) => service.handle(req, res));
}
async function stop(): Promise<void> {
  await new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  });
  service.close();
}

const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pubPem = keys.publicKey.export({ type: 'spki', format: 'pem' }) as string;

function proposal(artifact: Buffer, opts: { key?: KeyObject; pem?: string; alg?: 'sha256' | 'sha384' } = {}) {
  const alg = opts.alg ?? 'sha256';
  const digest = createHash(alg).update(artifact).digest();
  const signature = sign(alg, artifact, opts.key ?? keys.privateKey);
  return {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: alg, value: digest.toString('hex') } },
      signature: { content: signature.toString('base64'), publicKey: { content: Buffer.from(opts.pem ?? pubPem).toString('base64') } },
    },
  };
}

async function post(path: string, body: unknown, raw = false) {
  const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ? (body as string) : JSON.stringify(body) });
  return { res, json: (await res.json()) as any };
}
async function get(path: string) {
  const res = await fetch(base + path);
  return { res, json: (await res.json()) as any };
}

let logKey: KeyObject;
let logId: Buffer;

function checkEntry(uuid: string, e: any, expectedBody?: Buffer) {
  expect(uuid).toMatch(/^[0-9a-f]{80}$/);
  const body = Buffer.from(e.body, 'base64');
  if (expectedBody) expect(body).toEqual(expectedBody);
  const leaf = createHash('sha256').update(Buffer.from([0])).update(body).digest();
  expect(uuid.slice(16)).toBe(leaf.toString('hex'));
  expect(e.logID).toBe(logId.toString('hex'));
  // SET over {body, integratedTime, logID, logIndex}
  expect(verify('sha256', Buffer.from(setPayload(e)), logKey, Buffer.from(e.verification.signedEntryTimestamp, 'base64'))).toBe(true);
  const p = e.verification.inclusionProof;
  const cp = openCheckpoint(p.checkpoint, logKey, logId);
  expect(cp.size).toBe(p.treeSize);
  expect(cp.root.toString('hex')).toBe(p.rootHash);
  expect(cp.name).toBe(new URL(base).host);
  expect(cp.origin).toBe(`${new URL(base).host} - ${BigInt('0x' + uuid.slice(0, 16))}`);
  const root = rootFromInclusion(p.logIndex, p.treeSize, leaf, p.hashes.map((h: string) => Buffer.from(h, 'hex')));
  expect(root).toEqual(cp.root);
  return { body, leaf, checkpoint: cp };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gitseal-rekor-'));
  await start();
  const pem = await (await fetch(base + '/api/v1/log/publicKey')).text();
  logKey = createPublicKey(pem);
  logId = sha256(logKey.export({ type: 'spki', format: 'der' }));
});
afterAll(async () => {
  await stop();
  rmSync(dir, { recursive: true, force: true });
});

needs('openssl').describe('POST /api/v1/log/entries', () => {
  it('logs a hashedrekord, answering 201 with ETag, Location, SET and a verifiable proof', async () => {
    const p = proposal(Buffer.from('first artifact'));
    const { res, json } = await post('/api/v1/log/entries', p);
    expect(res.status).toBe(201);
    const [uuid] = Object.keys(json);
    expect(res.headers.get('etag')).toBe(uuid);
    expect(res.headers.get('location')).toBe(`/api/v1/log/entries/${uuid}`);
    const e = json[uuid];
    expect(e.logIndex).toBe(0);
    expect(Math.abs(e.integratedTime - Date.now() / 1000)).toBeLessThan(300);
    const { body } = checkEntry(uuid, e);
    // Rekor's canonical form: only schema fields, RFC 8785 key order.
    expect(JSON.parse(body.toString())).toEqual(p);
    expect(body.toString()).toMatch(/^\{"apiVersion":"0\.0\.1","kind":"hashedrekord","spec":\{"data":\{"hash":\{"algorithm":"sha256","value":"[0-9a-f]{64}"\}\},"signature":\{"content":"[^"]+","publicKey":\{"content":"[^"]+"\}\}\}\}$/);
  });

  it('drops unknown fields from the stored body', async () => {
    const p: any = proposal(Buffer.from('extra fields'));
    p.spec.extra = 'ignored';
    p.spec.signature.format = 'x509';
    const { res, json } = await post('/api/v1/log/entries', p);
    expect(res.status).toBe(201);
    const body = JSON.parse(Buffer.from((Object.values(json)[0] as any).body, 'base64').toString());
    expect(body.spec.extra).toBeUndefined();
    expect(body.spec.signature.format).toBeUndefined();
  });

  it('accepts a certificate (made by openssl) as the verifier, and P-384 with sha384', async () => {
    const d = mkdtempSync(join(tmpdir(), 'gitseal-rekor-cert-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes', '-keyout', join(d, 'k.pem'), '-out', join(d, 'c.pem'), '-days', '1', '-subj', '/CN=test', '-addext', 'subjectAltName=email:Signer@Example.test'], { stdio: 'ignore' });
    const key = readFileSync(join(d, 'k.pem'));
    const cert = readFileSync(join(d, 'c.pem'), 'utf8');
    rmSync(d, { recursive: true });
    const p = proposal(Buffer.from('cert artifact'), { key: (await import('node:crypto')).createPrivateKey(key), pem: cert, alg: 'sha384' });
    const { res, json } = await post('/api/v1/log/entries', p);
    expect(res.status).toBe(201);
    const [uuid] = Object.keys(json);
    checkEntry(uuid, json[uuid]);
    // searchable by certificate and by the certificate's e-mail
    const byCert = await post('/api/v1/index/retrieve', { publicKey: { format: 'x509', content: Buffer.from(cert).toString('base64') } });
    expect(byCert.json).toEqual([uuid]);
    const byEmail = await post('/api/v1/index/retrieve', { email: 'signer@example.test' });
    expect(byEmail.json).toEqual([uuid]);
  });

  it('answers 409 with the existing entry\'s Location for a duplicate', async () => {
    const p = proposal(Buffer.from('dup'));
    const first = await post('/api/v1/log/entries', p);
    expect(first.res.status).toBe(201);
    const again = await post('/api/v1/log/entries', p);
    expect(again.res.status).toBe(409);
    expect(again.json.code).toBe(409);
    expect(again.json.message).toMatch(/already exists/);
    expect(again.res.headers.get('location')).toBe(first.res.headers.get('location'));
  });

  it('rejects a signature that does not verify over the digest with 400 "verifying signature"', async () => {
    const p = proposal(Buffer.from('signed'));
    p.spec.data.hash.value = sha256(Buffer.from('something else')).toString('hex');
    const { res, json } = await post('/api/v1/log/entries', p);
    expect(res.status).toBe(400);
    expect(json.code).toBe(400);
    expect(json.message).toMatch(/^verifying signature/);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const wrongKey = await post('/api/v1/log/entries', proposal(Buffer.from('x'), { key: other.privateKey }));
    expect(wrongKey.res.status).toBe(400);
    expect(wrongKey.json.message).toMatch(/^verifying signature/);
  });

  it('rejects garbage, wrong kinds and malformed fields with 400 {code,message}', async () => {
    const garbage = await post('/api/v1/log/entries', '{"apiVersion": ', true);
    expect(garbage.res.status).toBe(400);
    expect(garbage.json).toEqual({ code: 400, message: 'the request body is not valid JSON' });
    const kind = await post('/api/v1/log/entries', { ...proposal(Buffer.from('k')), kind: 'rekord' });
    expect(kind.res.status).toBe(400);
    expect(kind.json.message).toMatch(/unsupported entry kind "rekord"/);
    const p = proposal(Buffer.from('h'));
    p.spec.data.hash.value = 'abc';
    const short = await post('/api/v1/log/entries', p);
    expect(short.res.status).toBe(400);
    expect(short.json.message).toMatch(/64 hex/);
    const q = proposal(Buffer.from('k'));
    q.spec.signature.publicKey.content = Buffer.from('not a pem').toString('base64');
    const nokey = await post('/api/v1/log/entries', q);
    expect(nokey.res.status).toBe(400);
    expect(nokey.json.message).toMatch(/PEM/);
  });

  it('refuses bodies over the size limit with 413', async () => {
    const { res, json } = await post('/api/v1/log/entries', 'x'.repeat(2 * 1024 * 1024), true);
    expect(res.status).toBe(413);
    expect(json.code).toBe(413);
  });

  it('serializes 50 concurrent appends into distinct, provable entries', async () => {
    const before = (await get('/api/v1/log')).json.treeSize;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => post('/api/v1/log/entries', proposal(Buffer.from(`concurrent ${i}`)))));
    expect(results.map((r) => r.res.status)).toEqual(Array(50).fill(201));
    const indexes = results.map((r) => (Object.values(r.json)[0] as any).logIndex).sort((a, b) => a - b);
    expect(indexes).toEqual(Array.from({ length: 50 }, (_, i) => before + i));
    // every entry proves against the current tree
    const log = (await get('/api/v1/log')).json;
    for (const r of results.slice(0, 5)) {
      const [uuid] = Object.keys(r.json);
      const now = (await get(`/api/v1/log/entries/${uuid}`)).json[uuid];
      expect(now.verification.inclusionProof.treeSize).toBe(log.treeSize);
      checkEntry(uuid, now);
    }
  });
});

describe('reading the log', () => {
  let uuid: string;
  let entry: any;
  const target = proposal(Buffer.from('lookup target'));
  beforeAll(async () => {
    const r = await post('/api/v1/log/entries', target);
    [uuid] = Object.keys(r.json);
    entry = r.json[uuid];
  });

  it('GET /api/v1/log/entries/{uuid} with 80 or 64 hex, and ?logIndex=N', async () => {
    for (const path of [`/api/v1/log/entries/${uuid}`, `/api/v1/log/entries/${uuid.slice(16)}`, `/api/v1/log/entries?logIndex=${entry.logIndex}`]) {
      const { res, json } = await get(path);
      expect(res.status, path).toBe(200);
      expect(Object.keys(json)).toEqual([uuid]);
      expect(json[uuid].body).toBe(entry.body);
      checkEntry(uuid, json[uuid]);
    }
  });

  it('answers 404 for unknown entries and 400 for malformed ids', async () => {
    const unknown = await get(`/api/v1/log/entries/${'0'.repeat(16)}${'ab'.repeat(32)}`);
    expect(unknown.res.status).toBe(404);
    expect(unknown.json.code).toBe(404);
    expect(unknown.json.message).toMatch(/no entry/);
    const otherTree = await get(`/api/v1/log/entries/${'f'.repeat(16)}${uuid.slice(16)}`);
    expect(otherTree.res.status).toBe(404);
    expect((await get('/api/v1/log/entries/xyz')).res.status).toBe(400);
    expect((await get('/api/v1/log/entries?logIndex=999999')).res.status).toBe(404);
    expect((await get('/api/v1/log/entries?logIndex=-1')).res.status).toBe(400);
    expect((await get('/api/v1/nothing')).res.status).toBe(404);
  });

  it('POST /api/v1/log/entries/retrieve by UUID, index and proposed entry', async () => {
    const byUuid = await post('/api/v1/log/entries/retrieve', { entryUUIDs: [uuid, 'a'.repeat(64)] });
    expect(byUuid.res.status).toBe(200);
    expect(byUuid.json.map((m: object) => Object.keys(m)[0])).toEqual([uuid]);
    const byIndex = await post('/api/v1/log/entries/retrieve', { logIndexes: [entry.logIndex, 0] });
    expect(byIndex.json.map((m: any) => (Object.values(m)[0] as any).logIndex)).toEqual([entry.logIndex, 0]);
    const byEntry = await post('/api/v1/log/entries/retrieve', { entries: [target] });
    expect(byEntry.json.map((m: object) => Object.keys(m)[0])).toEqual([uuid]);
    const tooMany = await post('/api/v1/log/entries/retrieve', { logIndexes: Array.from({ length: 11 }, (_, i) => i) });
    expect(tooMany.res.status).toBe(422);
  });

  it('POST /api/v1/index/retrieve by hash and public key, with and/or', async () => {
    const digest = JSON.parse(Buffer.from(entry.body, 'base64').toString()).spec.data.hash.value;
    const byHash = await post('/api/v1/index/retrieve', { hash: `sha256:${digest}` });
    expect(byHash.res.status).toBe(200);
    expect(byHash.json).toEqual([uuid]);
    const pk = { format: 'x509', content: Buffer.from(pubPem).toString('base64') };
    const byKey = await post('/api/v1/index/retrieve', { publicKey: pk });
    expect(byKey.json.length).toBeGreaterThan(50);
    expect(byKey.json).toContain(uuid);
    const and = await post('/api/v1/index/retrieve', { publicKey: pk, hash: `sha256:${digest}`, operator: 'and' });
    expect(and.json).toEqual([uuid]);
    const none = await post('/api/v1/index/retrieve', { publicKey: pk, hash: `sha256:${'0'.repeat(64)}`, operator: 'and' });
    expect(none.json).toEqual([]);
    const or = await post('/api/v1/index/retrieve', { publicKey: pk, hash: `sha256:${'0'.repeat(64)}`, operator: 'or' });
    expect(or.json).toEqual(byKey.json);
    expect((await post('/api/v1/index/retrieve', {})).res.status).toBe(400);
    expect((await post('/api/v1/index/retrieve', { hash: 'sha256:zz' })).res.status).toBe(422);
  });

  it('GET /api/v1/log and consistency proofs between any two sizes', async () => {
    const log = (await get('/api/v1/log')).json;
    const cp = openCheckpoint(log.signedTreeHead, logKey, logId);
    expect(cp.size).toBe(log.treeSize);
    expect(cp.root.toString('hex')).toBe(log.rootHash);
    expect(log.treeID).toBe(BigInt('0x' + uuid.slice(0, 16)).toString());
    const roots: Buffer[] = [];
    for (let n = 1; n <= log.treeSize; n++) {
      const { json } = await get(`/api/v1/log/proof?firstSize=${n}&lastSize=${n}`);
      roots[n] = Buffer.from(json.rootHash, 'hex');
    }
    expect(roots[log.treeSize]).toEqual(cp.root);
    for (const [m, n] of [[1, log.treeSize], [7, 13], [16, 33], [log.treeSize - 1, log.treeSize], [3, 3]]) {
      const { res, json } = await get(`/api/v1/log/proof?firstSize=${m}&lastSize=${n}`);
      expect(res.status).toBe(200);
      expect(json.rootHash).toBe(roots[n].toString('hex'));
      expect(verifyConsistency(m, n, roots[m], roots[n], json.hashes.map((h: string) => Buffer.from(h, 'hex'))), `${m}→${n}`).toBe(true);
    }
    expect((await get(`/api/v1/log/proof?firstSize=5&lastSize=4`)).res.status).toBe(400);
    expect((await get(`/api/v1/log/proof?lastSize=${log.treeSize + 1}`)).res.status).toBe(400);
    expect((await get(`/api/v1/log/proof`)).res.status).toBe(400);
  });
});

describe('persistence', () => {
  it('serves the same log after a restart on the same directory, and old proofs check against new checkpoints', async () => {
    const first = await post('/api/v1/log/entries', proposal(Buffer.from('before restart')));
    const [uuid] = Object.keys(first.json);
    const before = (await get('/api/v1/log')).json;
    await stop();
    // a torn last line (crash mid-write) is dropped on open
    appendFileSync(join(dir, 'rekor', 'entries.jsonl'), '{"t":1,"b":"AAA');
    await start();
    const pem = await (await fetch(base + '/api/v1/log/publicKey')).text();
    expect(createPublicKey(pem).export({ type: 'spki', format: 'der' })).toEqual(logKey.export({ type: 'spki', format: 'der' }));
    const after = (await get('/api/v1/log')).json;
    expect(after.treeSize).toBe(before.treeSize);
    expect(after.rootHash).toBe(before.rootHash);
    expect(after.treeID).toBe(before.treeID);
    for (let i = 0; i < 9; i++) expect((await post('/api/v1/log/entries', proposal(Buffer.from(`after restart ${i}`)))).res.status).toBe(201);
    const now = (await get(`/api/v1/log/entries/${uuid}`)).json[uuid];
    expect(now.verification.inclusionProof.treeSize).toBe(before.treeSize + 9);
    expect(now.body).toBe(first.json[uuid].body);
    checkEntry(uuid, now);
    // and the new tree extends the old one
    const cons = (await get(`/api/v1/log/proof?firstSize=${before.treeSize}&lastSize=${before.treeSize + 9}`)).json;
    expect(verifyConsistency(before.treeSize, before.treeSize + 9, Buffer.from(before.rootHash, 'hex'), Buffer.from(cons.rootHash, 'hex'), cons.hashes.map((h: string) => Buffer.from(h, 'hex')))).toBe(true);
  });

  it('keeps its key and state files private', () => {
    for (const f of ['key.pem', 'log.json', 'entries.jsonl', 'leaves.bin']) {
      expect(statSync(join(dir, 'rekor', f)).mode & 0o777, f).toBe(0o600);
    }
    expect(statSync(join(dir, 'rekor')).mode & 0o777).toBe(0o700);
  });

  it('refuses to open a directory whose leaf file contradicts its entries', async () => {
    const d = mkdtempSync(join(tmpdir(), 'gitseal-rekor-bad-'));
    const s = createRekorService({ dir: d, url: 'http://127.0.0.1:1' });
    s.close();
    writeFileSync(join(d, 'rekor', 'entries.jsonl'), JSON.stringify({ t: 1, b: Buffer.from('{}').toString('base64'), k: [] }) + '\n');
    writeFileSync(join(d, 'rekor', 'leaves.bin'), Buffer.alloc(32, 7));
    expect(() => createRekorService({ dir: d, url: 'http://127.0.0.1:1' })).toThrow(/damaged/);
    // a complete but unreadable line (not a torn tail) is damage too, not something to truncate away
    writeFileSync(join(d, 'rekor', 'leaves.bin'), Buffer.alloc(0));
    writeFileSync(join(d, 'rekor', 'entries.jsonl'), 'garbage\n' + JSON.stringify({ t: 1, b: Buffer.from('{}').toString('base64'), k: [] }) + '\n');
    expect(() => createRekorService({ dir: d, url: 'http://127.0.0.1:1' })).toThrow(/damaged line 1/);
    expect(readFileSync(join(d, 'rekor', 'entries.jsonl'), 'utf8')).toMatch(/^garbage\n/);
    rmSync(d, { recursive: true });
  });
});
