/**
 * gitseal verify --jobs N (worker threads for a range; src/verify/batch.ts): the verdicts do not
 * depend on it, and a value that is not a count is a usage error (one line, exit 2). Through
 * the real binary, on real gitsign objects (test/fixtures/gitsign-corpus) and tampered copies.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './helpers.js';

const CORPUS = join(import.meta.dirname, '../fixtures/gitsign-corpus');
const objects = readdirSync(CORPUS)
  .filter((d) => /^[a-z].*_(commit|tag)_/.test(d))
  .map((d) => ({ dir: join(CORPUS, d), meta: JSON.parse(readFileSync(join(CORPUS, d, 'meta.json'), 'utf8')) as { oid: string; type: string } }));
const negatives = readdirSync(join(CORPUS, 'negative'))
  .filter((d) => /^\d\d-/.test(d))
  .map((d) => ({ dir: join(CORPUS, 'negative', d), meta: JSON.parse(readFileSync(join(CORPUS, 'negative', d, 'meta.json'), 'utf8')) as { type: string } }));

const sb = new Sandbox('gitseal-jobs-');
let repo: string;
let oids: string[];
beforeAll(() => {
  repo = sb.repo('jobs');
  const write = (dir: string, type: string) => sb.git(['hash-object', '-t', type, '-w', '--literally', join(dir, 'object.raw')], repo).trim();
  oids = [...objects.map((e) => write(e.dir, e.meta.type)), ...negatives.map((n) => write(n.dir, n.meta.type))];
});
afterAll(() => sb.cleanup());

describe('gitseal verify --jobs', () => {
  it('--jobs 0 (this thread) and --jobs 2 (workers) give the same verdicts, object by object', () => {
    // More objects than batch.ts's threshold for starting workers (48).
    expect(oids.length).toBeGreaterThan(48);
    const run = (jobs: string) => {
      const r = sb.gitseal(['verify', ...oids, '--offline', '--no-cache', '--json', '--jobs', jobs], { cwd: repo });
      expect(r.stderr).not.toMatch(/Error:|    at /);
      return { status: r.status, doc: JSON.parse(r.stdout) as { total: number; good: number; results: Array<Record<string, unknown>> } };
    };
    const a = run('0');
    const b = run('2');
    expect(a.doc.total).toBe(oids.length);
    // A mix: good ones and failures of several kinds.
    expect(a.doc.good).toBeGreaterThan(0);
    expect(a.doc.good).toBeLessThan(oids.length);
    expect(new Set(a.doc.results.map((r) => r.code)).size).toBeGreaterThan(2);
    expect(b.status).toBe(a.status);
    expect(b.doc).toEqual(a.doc);
  });

  it.each([['-1'], ['abc'], ['1.5'], ['257']])('--jobs %s is a usage error: one line, exit 2', (v) => {
    const r = sb.gitseal(['verify', 'HEAD', '--jobs', v], { cwd: repo });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/--jobs/);
    expect(r.stderr).not.toMatch(/    at /);
  });
});
