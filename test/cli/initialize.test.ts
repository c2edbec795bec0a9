import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveTufRepo, tufRepo } from '../trust/tuf-repo.js';
import { Sandbox } from './helpers.js';

/** `gitseal initialize` against a real TUF repository served on 127.0.0.1 (test/trust/tuf-repo.ts). */
const TRUSTED_ROOT = readFileSync(join(import.meta.dirname, '../fixtures/gitsign-corpus/trusted_root.json'));

const sb = new Sandbox('gitseal-tuf-');
let mirrorServer: Awaited<ReturnType<typeof serveTufRepo>>;
let mirror: string;
let rootFile: string;
let serve: Map<string, Buffer>;

beforeAll(async () => {
  const repo = tufRepo(TRUSTED_ROOT);
  serve = repo.files;
  rootFile = join(sb.dir, 'root.json');
  writeFileSync(rootFile, repo.root);
  mirrorServer = await serveTufRepo(serve);
  mirror = mirrorServer.url;
});
afterAll(async () => {
  await mirrorServer.close();
  sb.cleanup();
});

const cached = () => join(sb.home, '.cache', 'gitseal', 'trusted_root.json');

describe('gitseal initialize', () => {
  it('fetches trusted_root.json through TUF into the private user cache', async () => {
    const r = await sb.gitsealAsync(['initialize', '--mirror', mirror, '--root', rootFile, '--json']);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ mirror, path: cached(), updated: true, certificateAuthorities: 2, tlogs: 2, ctlogs: 2 });
    expect(j.digest).toBe(createHash('sha256').update(TRUSTED_ROOT).digest('hex'));
    expect(readFileSync(cached()).equals(TRUSTED_ROOT)).toBe(true);
    expect(statSync(cached()).mode & 0o777).toBe(0o600);
    expect(statSync(join(sb.home, '.cache', 'gitseal')).mode & 0o777).toBe(0o700);
    // doctor now reports the cache as the trust source
    const d = JSON.parse((await sb.gitsealAsync(['doctor', '--offline', '--json'])).stdout);
    expect(d.checks.find((c: { id: string }) => c.id === 'trust-root').summary).toMatch(/^TUF cache /);
  });

  it('a second run is up to date', async () => {
    const r = await sb.gitsealAsync(['initialize', '--mirror', mirror, '--root', rootFile]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/up to date/);
  });

  it('a tampered target is refused and the last good copy is kept', async () => {
    const good = readFileSync(cached());
    const evil = Buffer.from(TRUSTED_ROOT.toString('utf8').replace('fulcio.sigstore.dev', 'fulcio.evil.example'));
    // a fresh TUF cache so the client downloads the target again; same signed metadata, other bytes
    const other = join(sb.dir, 'home2');
    serve.set('/targets/trusted_root.json', evil);
    const r = await sb.gitsealAsync(['initialize', '--mirror', mirror, '--root', rootFile], { env: { XDG_CACHE_HOME: join(other, 'cache') } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^gitseal: could not refresh the trusted root from .*; gitseal keeps using the public-good root/);
    expect(existsSync(join(other, 'cache', 'gitseal', 'trusted_root.json'))).toBe(false);
    serve.set('/targets/trusted_root.json', TRUSTED_ROOT);
    expect(readFileSync(cached()).equals(good)).toBe(true);
  });

  it('an unreachable mirror keeps the last good copy and says so', async () => {
    const before = readFileSync(cached());
    const r = await sb.gitsealAsync(['initialize', '--mirror', 'http://127.0.0.1:9', '--root', rootFile, '--timeout', '2']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/using the last good copy/);
    expect(readFileSync(cached()).equals(before)).toBe(true);
  });
});
