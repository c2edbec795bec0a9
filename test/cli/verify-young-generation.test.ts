/**
 * `gitseal verify` over a long range holds this thread's young generation once it reaches 8 MiB
 * (src/verify/batch.ts holdYoungGeneration), so peak memory stays flat however long the range:
 * V8 otherwise grows the semi-spaces under a steady allocation rate. Read from the process itself
 * (a --require hook reports V8's new space at exit); GITSEAL_WORKER_YOUNG_MB=none, V8's defaults,
 * shows the same range growing past it, so the check can fail.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, Sandbox } from './helpers.js';

const sb = new Sandbox();
afterAll(() => sb.cleanup());

/** `count` unsigned commits on main, through git fast-import (seconds, not minutes). */
function history(count: number): string {
  const repo = sb.repo('long');
  const parts: string[] = [];
  for (let i = 1; i <= count; i++) {
    const msg = `commit ${i}\n`;
    parts.push(`commit refs/heads/main\nmark :${i}\ncommitter A U Thor <a@example.com> ${1_700_000_000 + i} +0000\ndata ${Buffer.byteLength(msg)}\n${msg}${i > 1 ? `from :${i - 1}\n` : ''}\n`);
  }
  sb.git(['fast-import', '--quiet'], repo, parts.join(''));
  return repo;
}

describe('gitseal verify: a long range does not grow the young generation', () => {
  it('holds the new space at 8 MiB over 30,000 commits; V8 alone grows it', () => {
    const repo = history(30_000);
    const hook = join(sb.home, 'new-space.cjs');
    writeFileSync(
      hook,
      `process.on('exit', () => { const s = require('node:v8').getHeapSpaceStatistics().find((x) => x.space_name === 'new_space'); require('node:fs').writeSync(2, 'new_space ' + s.space_size + '\\n'); });\n`,
    );
    const newSpace = (env: NodeJS.ProcessEnv) => {
      const r = spawnSync(process.execPath, ['--require', hook, BIN, 'verify', '--offline', '--no-cache', '--all'], { cwd: repo, env: { ...sb.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      expect(r.status, r.stderr).toBe(1);
      expect(r.stdout).toContain('30000 of 30000 failed');
      const m = /new_space (\d+)/.exec(r.stderr);
      expect(m, r.stderr).not.toBeNull();
      return Number(m![1]);
    };
    expect(newSpace({})).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(newSpace({ GITSEAL_WORKER_YOUNG_MB: 'none' })).toBeGreaterThan(8 * 1024 * 1024);
  }, 120_000);
});
