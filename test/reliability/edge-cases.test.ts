/**
 * Concurrency and edge cases with the real git binary, bin/gitseal and the
 * sandbox: parallel signing in one repository (racing to start one agent) and
 * in many; CRLF and empty messages, merges, annotated tags, SHA-256
 * repositories; a long signed history verified by `gitseal verify` and
 * `git log --show-signature`; clock skew between Fulcio and the client.
 */
import { createServer, type Server } from 'node:http';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFulcioService } from '../../packages/sandbox/src/fulcio/service.js';
import { ensureBuilt, GITSEAL, gitseal, isolatedEnv, makeRepo, removeSnapshot, run, startSandbox, tempDir, type Repo, type Sandbox } from './helpers.js';

let work: string;
let sb: Sandbox;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  ensureBuilt();
  work = tempDir('gitseal-edge-');
  sb = await startSandbox(join(work, 'sb'));
  // The agent is on ('auto'): the concurrent cases race to start it, and it makes 300 signatures quick.
  env = isolatedEnv(join(work, 'home'), { ...sb.env, SIGSTORE_ID_TOKEN: sb.token('alice@example.com', ['--ttl', '3600']), GITSEAL_AGENT: 'auto' });
}, 120_000);

afterAll(async () => {
  if (env) gitseal(['agent', 'stop'], env);
  await sb?.stop();
  removeSnapshot();
});

function rev(repo: Repo, what: string): string {
  return execFileSync('git', ['-C', repo.dir, 'rev-parse', what], { env }).toString().trim();
}

async function verifyCommit(repo: Repo, oid: string): Promise<void> {
  const v = await repo.gitAsync(['verify-commit', oid], env);
  expect(v.status, v.stderr).toBe(0);
  const g = await run(process.execPath, [GITSEAL, 'verify', oid], env, repo.dir);
  expect(g.status, g.stdout + g.stderr).toBe(0);
}

describe('concurrency', () => {
  it('8 parallel signatures in one repository (commit-tree, no index lock), racing to start the agent', { timeout: 180_000 }, async () => {
    const repo = makeRepo(join(work, 'par-one'));
    const first = await repo.gitAsync(['commit', '--allow-empty', '-m', 'root'], env);
    expect(first.status, first.stderr).toBe(0);
    gitseal(['agent', 'stop'], env); // every parallel signer now races to start it
    const tree = rev(repo, 'HEAD^{tree}');
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => repo.gitAsync(['commit-tree', '-S', '-p', 'HEAD', '-m', `parallel ${i}`, tree], env)),
    );
    const oids = results.map((r) => {
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.trim();
    });
    expect(new Set(oids).size).toBe(8);
    for (const oid of oids) await verifyCommit(repo, oid);
    // One agent in the end, not eight.
    const st = JSON.parse(gitseal(['agent', 'status', '--json'], env).stdout.toString()) as { running: boolean; identities: Array<{ signatures: number }> };
    expect(st.running).toBe(true);
  });

  it('6 repositories committing at once', { timeout: 180_000 }, async () => {
    const repos = Array.from({ length: 6 }, (_, i) => makeRepo(join(work, `par-many-${i}`)));
    const results = await Promise.all(repos.map((r, i) => r.gitAsync(['commit', '--allow-empty', '-m', `repo ${i}`], env)));
    for (const [i, r] of results.entries()) {
      expect(r.status, r.stderr).toBe(0);
      await verifyCommit(repos[i], 'HEAD');
    }
  });
});

describe('message and object shapes', () => {
  let repo: Repo;
  beforeAll(async () => {
    repo = makeRepo(join(work, 'shapes'));
    expect((await repo.gitAsync(['commit', '--allow-empty', '-m', 'root'], env)).status).toBe(0);
  });

  it('CRLF message kept verbatim', { timeout: 60_000 }, async () => {
    const f = join(work, 'crlf.txt');
    writeFileSync(f, 'subject line\r\n\r\nbody with CRLF\r\nsecond\r\n');
    const r = await repo.gitAsync(['commit', '--allow-empty', '--cleanup=verbatim', '-F', f], env);
    expect(r.status, r.stderr).toBe(0);
    expect(execFileSync('git', ['-C', repo.dir, 'cat-file', 'commit', 'HEAD']).toString()).toContain('body with CRLF\r\n');
    await verifyCommit(repo, 'HEAD');
  });

  it('empty message (--allow-empty-message)', { timeout: 60_000 }, async () => {
    const r = await repo.gitAsync(['commit', '--allow-empty', '--allow-empty-message', '-m', ''], env);
    expect(r.status, r.stderr).toBe(0);
    await verifyCommit(repo, 'HEAD');
  });

  it('a signed merge commit (two parents)', { timeout: 60_000 }, async () => {
    expect((await repo.gitAsync(['checkout', '-q', '-b', 'side'], env)).status).toBe(0);
    writeFileSync(join(repo.dir, 'side.txt'), 'side\n');
    await repo.gitAsync(['add', 'side.txt'], env);
    expect((await repo.gitAsync(['commit', '-m', 'side work'], env)).status).toBe(0);
    await repo.gitAsync(['checkout', '-q', 'main'], env);
    writeFileSync(join(repo.dir, 'main.txt'), 'main\n');
    await repo.gitAsync(['add', 'main.txt'], env);
    expect((await repo.gitAsync(['commit', '-m', 'main work'], env)).status).toBe(0);
    const m = await repo.gitAsync(['merge', '--no-ff', '-S', '-m', 'merge side', 'side'], env);
    expect(m.status, m.stderr).toBe(0);
    expect(execFileSync('git', ['-C', repo.dir, 'rev-list', '--parents', '-n1', 'HEAD']).toString().trim().split(' ')).toHaveLength(3);
    await verifyCommit(repo, 'HEAD');
  });

  it('an annotated signed tag', { timeout: 60_000 }, async () => {
    const t = await repo.gitAsync(['tag', '-s', '-m', 'release\r\nwith CR', 'v1.0'], env);
    expect(t.status, t.stderr).toBe(0);
    const v = await repo.gitAsync(['verify-tag', 'v1.0'], env);
    expect(v.status, v.stderr).toBe(0);
  });

  it('a SHA-256 repository signs with gpgsig-sha256 and verifies', { timeout: 60_000 }, async () => {
    const r256 = makeRepo(join(work, 'sha256'), { objectFormat: 'sha256' });
    const c = await r256.gitAsync(['commit', '--allow-empty', '-m', 'sha256 commit'], env);
    expect(c.status, c.stderr).toBe(0);
    const raw = execFileSync('git', ['-C', r256.dir, 'cat-file', 'commit', 'HEAD']).toString();
    expect(raw).toMatch(/^gpgsig-sha256 -----BEGIN SIGNED MESSAGE-----$/m);
    expect(raw).not.toMatch(/^gpgsig /m);
    await verifyCommit(r256, 'HEAD');
  });
});

describe('long history', () => {
  it('300 signed commits verify with gitseal verify (range) and git log --show-signature', { timeout: 600_000 }, async () => {
    const repo = makeRepo(join(work, 'long'));
    execFileSync('git', ['-C', repo.dir, 'commit', '-q', '--allow-empty', '--no-gpg-sign', '-m', 'unsigned root'], { env });
    const root = rev(repo, 'HEAD');
    // commit-tree + update-ref: 300 signatures without 300 index rewrites.
    const script = `set -e; t=$(git rev-parse 'HEAD^{tree}'); p=$(git rev-parse HEAD); for i in $(seq 1 300); do p=$(git commit-tree -S -p "$p" -m "commit $i" "$t"); done; git update-ref HEAD "$p"`;
    const r = await run('bash', ['-c', script], env, repo.dir);
    expect(r.status, r.stderr).toBe(0);
    expect(execFileSync('git', ['-C', repo.dir, 'rev-list', '--count', `${root}..HEAD`]).toString().trim()).toBe('300');

    const v = await run(process.execPath, [GITSEAL, 'verify', `${root}..HEAD`, '--json'], env, repo.dir);
    expect(v.status, v.stderr).toBe(0);
    const text = v.stdout;
    const parsed = JSON.parse(text) as unknown;
    const list = (Array.isArray(parsed) ? parsed : ((parsed as { results?: unknown[]; commits?: unknown[] }).results ?? (parsed as { commits?: unknown[] }).commits ?? [])) as Array<{ ok?: boolean; verified?: boolean }>;
    expect(list).toHaveLength(300);
    for (const x of list) expect(x.ok ?? x.verified).toBe(true);

    const log = await repo.gitAsync(['log', '--show-signature', `${root}..HEAD`], env);
    expect(log.status).toBe(0);
    expect((log.stdout.match(/Good signature from alice@example\.com/g) ?? []).length).toBe(300);
  });
});

describe('clock skew between Fulcio and the client', () => {
  let fulcio: Server;
  let fulcioUrl = '';
  let skewMs = 0;
  beforeAll(async () => {
    const svc = createFulcioService({
      dir: join(work, 'sb'),
      issuers: [{ issuerURL: sb.env.GITSEAL_OIDC_ISSUER, audience: 'sigstore', type: 'email' }],
      now: () => new Date(Date.now() + skewMs),
    });
    fulcio = createServer((req, res) => svc.handle(req, res));
    await new Promise<void>((r) => fulcio.listen(0, '127.0.0.1', () => r()));
    fulcioUrl = `http://127.0.0.1:${(fulcio.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => fulcio.close(() => r())));

  it('Fulcio 5 s behind the client (and Rekor): signs and verifies', { timeout: 60_000 }, async () => {
    skewMs = -5_000;
    const repo = makeRepo(join(work, 'skew-behind'));
    const e = { ...env, GITSEAL_FULCIO_URL: fulcioUrl, GITSEAL_AGENT: 'off' };
    const c = await repo.gitAsync(['commit', '--allow-empty', '-m', 'skew behind'], e);
    expect(c.status, c.stderr).toBe(0);
    await verifyCommit(repo, 'HEAD');
  });

  it('Fulcio 5 s ahead of the client (and Rekor): never an unverifiable commit (signed and verified, or refused with one line)', { timeout: 60_000 }, async () => {
    skewMs = 5_000;
    const repo = makeRepo(join(work, 'skew-ahead'));
    const e = { ...env, GITSEAL_FULCIO_URL: fulcioUrl, GITSEAL_AGENT: 'off' };
    const c = await repo.gitAsync(['commit', '--allow-empty', '-m', 'skew ahead'], e);
    // Either outcome must be clean: signed and verifiable, or refused with one line — never an unverifiable commit.
    if (c.status === 0) {
      const g = await run(process.execPath, [GITSEAL, 'verify', 'HEAD'], env, repo.dir);
      expect(g.status, `signed a commit that does not verify: ${g.stdout}${g.stderr}`).toBe(0);
      console.log('skew ahead: signed and verified');
    } else {
      expect(c.stderr).toMatch(/gpg failed to sign/);
      const lines = readFileSync(repo.stderrLog, 'utf8').split('\n').filter((l) => l.startsWith('gitseal: '));
      expect(lines).toHaveLength(1);
      console.log(`skew ahead: refused: ${lines[0]}`);
    }
  });
});
