/**
 * One object, every verify path gitseal has: git's own call (`git verify-commit` /
 * `verify-tag` → bin/gitseal --verify → dist/fast-verify.cjs), `gitseal verify` (the CLI,
 * through the batch verifier), the library (`verifyCommit` and isomorphic-git's `onVerify`
 * of src/lib.ts, which must agree) and the
 * pre-receive hook (a real push into a bare repository that runs hooks/pre-receive).
 * An attack is only closed when all four say the same thing.
 *
 * Verdicts are git's letters: G (good, policy matched), U (good, no policy), B (bad),
 * E (not verified), N (no verdict at all: git saw no status line), plus for the hook
 * "accepted" or "refused".
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { onVerify, verifyCommit } from '../../../src/lib.js';
import { parseTrustedRoot } from '../../../src/trust/trusted-root.js';
import type { Policy } from '../../../src/verify/policy.js';
import type { VerifyResult } from '../../../src/verify/result.js';
import { BIN, ROOT, Sandbox } from '../../cli/helpers.js';
import { makeWorld, type World } from '../../verify/helpers/forge.js';

export type Letter = 'G' | 'U' | 'B' | 'E' | 'N';

export interface PathVerdicts {
  oid: string;
  git: { letter: Letter; status: number; statusLines: string; stderr: string };
  cli: { letter: Letter; status: number; result?: Record<string, unknown>; stdout: string; stderr: string };
  lib: { letter: Letter | 'disagree'; result: VerifyResult; iso: VerifyResult };
  hook: { accepted: boolean; stderr: string };
}

/** git's letter from raw status lines (as pretty.c derives %G?). */
export function letterOf(status: string): Letter {
  if (/^\[GNUPG:\] GOODSIG /m.test(status)) return /^\[GNUPG:\] TRUST_(FULLY|ULTIMATE)/m.test(status) ? 'G' : 'U';
  if (/^\[GNUPG:\] BADSIG /m.test(status)) return 'B';
  if (/^\[GNUPG:\] ERRSIG /m.test(status)) return 'E';
  return 'N';
}

function letterOfResult(r: { ok?: unknown; kind?: unknown; policyMatched?: unknown }): Letter {
  if (r.kind === 'good') return r.policyMatched === true ? 'G' : 'U';
  if (r.kind === 'bad') return 'B';
  if (r.kind === 'error') return 'E';
  return 'N';
}

export class AllPaths {
  readonly sb: Sandbox;
  readonly repo: string;
  readonly server: string;
  readonly trustFile: string;
  private n = 0;
  /** The policy the library path is given, besides the repository's own (git config, see set()), which every path reads. */
  libPolicy?: Policy;

  constructor(trustJson: string, prefix = 'gitseal-adv-') {
    this.sb = new Sandbox(prefix);
    this.trustFile = join(this.sb.dir, 'trusted_root.json');
    writeFileSync(this.trustFile, trustJson);
    this.repo = this.sb.repo('work');
    this.server = this.sb.repo('server.git', true);
    for (const r of [this.repo, this.server]) {
      this.sb.git(['config', 'gpg.x509.program', BIN], r);
      this.sb.git(['config', 'gitseal.trustedRoot', this.trustFile], r);
      this.sb.git(['config', 'gitseal.offline', 'true'], r);
    }
    this.sb.git(['config', 'gitseal.hookProgram', BIN], this.server);
    copyFileSync(join(ROOT, 'hooks', 'pre-receive'), join(this.server, 'hooks', 'pre-receive'));
    spawnSync('chmod', ['+x', join(this.server, 'hooks', 'pre-receive')]);
    // The empty tree every forged commit points at, stored for real so a push can send it.
    this.sb.git(['hash-object', '-t', 'tree', '-w', '--stdin'], this.repo, '');
  }

  /** `git config key value` in the work repository and the server (what git, the CLI and the hook read). */
  set(key: string, value: string): void {
    for (const r of [this.repo, this.server]) this.sb.git(['config', key, value], r);
  }

  /** Write a raw object into the work repository; returns its id. */
  store(raw: Buffer, type: 'commit' | 'tag' = 'commit'): string {
    const r = spawnSync('git', ['hash-object', '-t', type, '-w', '--literally', '--stdin'], { cwd: this.repo, env: this.sb.env, input: raw, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`hash-object failed: ${r.stderr}`);
    return r.stdout.trim();
  }

  git(oid: string, type: 'commit' | 'tag' = 'commit', env: NodeJS.ProcessEnv = {}): PathVerdicts['git'] {
    const verb = type === 'tag' ? 'verify-tag' : 'verify-commit';
    const raw = spawnSync('git', [verb, '--raw', oid], { cwd: this.repo, env: { ...this.sb.env, ...env }, encoding: 'utf8', timeout: 120_000 });
    const human = spawnSync('git', [verb, oid], { cwd: this.repo, env: { ...this.sb.env, ...env }, encoding: 'utf8', timeout: 120_000 });
    return { letter: letterOf(raw.stderr), status: human.status ?? -1, statusLines: raw.stderr, stderr: human.stderr };
  }

  cli(oid: string, args: string[] = []): PathVerdicts['cli'] {
    const r = this.sb.gitseal(['verify', '--json', '--no-cache', ...args, oid], { cwd: this.repo });
    let result: Record<string, unknown> | undefined;
    try {
      result = (JSON.parse(r.stdout) as { results?: Record<string, unknown>[] }).results?.[0];
    } catch {
      result = undefined;
    }
    return { letter: result ? letterOfResult(result) : 'N', status: r.status, result, stdout: r.stdout, stderr: r.stderr };
  }

  /**
   * The library, both ways in: verifyCommit (objects read with git) and onVerify (objects read
   * with isomorphic-git). They must agree; when they do not, the letter says "disagree".
   */
  async lib(oid: string): Promise<PathVerdicts['lib']> {
    const fs = await import('node:fs');
    const trust = parseTrustedRoot(fs.readFileSync(this.trustFile, 'utf8'));
    const opts = { trust, offline: true, env: this.sb.env, policy: this.libPolicy };
    const result = await verifyCommit({ dir: this.repo, rev: oid, ...opts });
    const iso = await onVerify({ fs, dir: this.repo, ...opts })(oid);
    const letter = letterOfResult(result);
    const same = letterOfResult(iso) === letter && iso.ok === result.ok && iso.failedCheck === result.failedCheck;
    return { letter: same ? letter : 'disagree', result, iso };
  }

  /** Push `oid` as a new branch to the bare repository whose pre-receive hook runs gitseal. */
  hook(oid: string, env: NodeJS.ProcessEnv = { GITSEAL_HOOK_ALLOW_ANY_SIGNER: '1' }, type: 'commit' | 'tag' = 'commit'): PathVerdicts['hook'] {
    const ref = `refs/${type === 'tag' ? 'tags' : 'heads'}/adv-${++this.n}`;
    const r = spawnSync('git', ['push', '-q', this.server, `${oid}:${ref}`], { cwd: this.repo, env: { ...this.sb.env, ...env }, encoding: 'utf8', timeout: 120_000 });
    return { accepted: r.status === 0, stderr: r.stderr };
  }

  /** Store `raw` and run it through all four paths. */
  async all(raw: Buffer, type: 'commit' | 'tag' = 'commit'): Promise<PathVerdicts> {
    const oid = this.store(raw, type);
    return { oid, git: this.git(oid, type), cli: this.cli(oid), lib: await this.lib(oid), hook: this.hook(oid, undefined, type) };
  }

  cleanup(): void {
    this.sb.cleanup();
  }
}

/**
 * An AllPaths sandbox for the enclosing suite: made by its beforeAll with the trusted root
 * `trustJson()` (called then, so it may name what an earlier beforeAll built) and removed by its
 * afterAll. Read `.paths` inside hooks and tests only.
 */
export function useAllPaths(trustJson: () => string, prefix?: string): { readonly paths: AllPaths } {
  const made = {} as { paths: AllPaths };
  beforeAll(() => {
    made.paths = new AllPaths(trustJson(), prefix);
  });
  afterAll(() => made.paths?.cleanup());
  return made;
}

/**
 * A fresh forged world (makeWorld) and an AllPaths sandbox trusting it, for the enclosing suite:
 * made by its beforeAll, removed by its afterAll. Read `.w` and `.paths` inside hooks and tests only.
 */
export function useForgedWorld(prefix?: string): { readonly w: World; readonly paths: AllPaths } {
  const made = {} as { w: World; paths: AllPaths };
  beforeAll(() => {
    made.w = makeWorld();
  });
  const sandbox = useAllPaths(() => made.w.trustJson, prefix);
  return {
    get w() {
      return made.w;
    },
    get paths() {
      return sandbox.paths;
    },
  };
}
