/**
 * A real TUF repository for tests: root, timestamp, snapshot and targets metadata signed with an
 * Ed25519 key (TUF specification 1.0), the one target being a Sigstore trusted_root.json.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { canonicalize } from '@tufjs/canonical-json';

export function tufRepo(target: Buffer): { files: Map<string, Buffer>; root: Buffer } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
  const key = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: pub } };
  const keyid = createHash('sha256').update(canonicalize(key)).digest('hex');
  const expires = new Date(Date.now() + 7 * 86400_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const common = { spec_version: '1.0.31', version: 1, expires };
  const signed = (s: object, k: KeyObject) => Buffer.from(JSON.stringify({ signed: s, signatures: [{ keyid, sig: sign(null, Buffer.from(canonicalize(s)), k).toString('hex') }] }));
  const role = { keyids: [keyid], threshold: 1 };
  const root = signed({ _type: 'root', ...common, consistent_snapshot: false, keys: { [keyid]: key }, roles: { root: role, timestamp: role, snapshot: role, targets: role } }, privateKey);
  const targets = signed({ _type: 'targets', ...common, targets: { 'trusted_root.json': { length: target.length, hashes: { sha256: createHash('sha256').update(target).digest('hex') } } } }, privateKey);
  const snapshot = signed({ _type: 'snapshot', ...common, meta: { 'targets.json': { version: 1 } } }, privateKey);
  const timestamp = signed({ _type: 'timestamp', ...common, meta: { 'snapshot.json': { version: 1 } } }, privateKey);
  const files = new Map<string, Buffer>([
    ['/1.root.json', root],
    ['/root.json', root],
    ['/timestamp.json', timestamp],
    ['/snapshot.json', snapshot],
    ['/targets.json', targets],
    ['/targets/trusted_root.json', target],
  ]);
  return { files, root };
}

/** Serve `files` (path → bytes; changes to the map show at once) on 127.0.0.1 as a TUF mirror. */
export async function serveTufRepo(files: Map<string, Buffer>): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
