import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ROOT, type Sandbox } from '../cli/helpers.js';

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** `cmd args` in the sandbox (its directory and environment unless `opts` says otherwise), at most 5 minutes. */
export function runIn(sb: Sandbox, cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): RunResult {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? sb.dir, env: { ...sb.env, ...opts.env }, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export interface Installed {
  /** What `npm pack` put in the tarball (paths inside the package). */
  files: string[];
  /** The empty prefix it was installed into with `npm install -g`. */
  prefix: string;
  /** The installed package's directory. */
  pkgDir: string;
}

/**
 * The package in `src` as `npm publish` would make it, installed: its `files` staged (a shared
 * lock keeps a concurrent build from emptying dist/ meanwhile), the declarations its prepack
 * would add (`src`/tsconfig.types.json), the stage packed as it is (no scripts), and the tarball
 * installed into an empty prefix in the sandbox (dependencies from the registry or npm's cache).
 */
export function packAndInstall(sb: Sandbox, src: string): Installed {
  const run = (cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) => runIn(sb, cmd, args, opts);
  const stage = join(sb.dir, 'stage');
  const dest = join(sb.dir, 'pack');
  mkdirSync(stage);
  mkdirSync(dest);
  const pj = JSON.parse(readFileSync(join(src, 'package.json'), 'utf8')) as { name: string; files: string[] };
  const cp = run('flock', ['-s', '/tmp/build.lock', 'cp', '-r', ...pj.files.map((f) => join(src, f)), join(src, 'package.json'), stage + '/']);
  expect(cp.status, cp.stderr).toBe(0);
  const types = run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(src, 'tsconfig.types.json'), '--declarationDir', join(stage, 'dist', 'types')], { cwd: src });
  expect(types.status, types.stdout + types.stderr).toBe(0);
  const p = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dest], { cwd: stage, env: { HOME: process.env.HOME } });
  expect(p.status, p.stderr).toBe(0);
  const info = JSON.parse(p.stdout.slice(p.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const prefix = join(sb.dir, 'prefix');
  const i = run('npm', ['install', '-g', '--prefix', prefix, join(dest, info[0]!.filename), '--no-audit', '--no-fund', '--prefer-offline'], { env: { HOME: process.env.HOME } });
  expect(i.status, i.stderr).toBe(0);
  return { files: info[0]!.files.map((f) => f.path), prefix, pkgDir: join(prefix, 'lib', 'node_modules', pj.name) };
}
