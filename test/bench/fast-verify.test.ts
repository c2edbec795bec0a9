/**
 * The fast verify entry (issue "Speed"): bin/gitseal runs git's `--verify`
 * call from dist/fast-verify.cjs with a V8 code cache instead of dist/main.js.
 * It must give exactly the verdicts, status lines, messages and exit codes of
 * dist/main.js, load no npm package, and carry a cache this Node accepts.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Script } from 'node:vm';
import { isFastVerifyCall } from '../../src/main-fast-verify.js';

const ROOT = join(import.meta.dirname, '../..');
const CORPUS = join(ROOT, 'test/fixtures/gitsign-corpus');
let top: string;
let dist: string;
let bin: string;

beforeAll(() => {
  // The real build script into a private tree shaped like the package: <top>/dist and <top>/bin.
  top = mkdtempSync(join(tmpdir(), 'gitseal-fast-'));
  dist = join(top, 'dist');
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, env: { ...process.env, GITSEAL_OUTDIR: dist }, stdio: 'pipe' });
  mkdirSync(join(top, 'bin'));
  for (const f of ['gitseal', 'package.json']) copyFileSync(join(ROOT, 'bin', f), join(top, 'bin', f));
  bin = join(top, 'bin', 'gitseal');
}, 180_000);
afterAll(() => rmSync(top, { recursive: true, force: true }));

const env = () => ({ PATH: process.env.PATH, HOME: top, GIT_CONFIG_NOSYSTEM: '1', LANG: 'C' });

function run(entry: string, sig: string, payload: Buffer, extraEnv: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [entry, '--status-fd=1', '--verify', sig, '-'], { input: payload, env: { ...env(), ...extraEnv }, cwd: top });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

interface Case {
  name: string;
  sig: string;
  payload: Buffer;
}

function cases(): Case[] {
  const out: Case[] = [];
  const index = JSON.parse(readFileSync(join(CORPUS, 'index.json'), 'utf8')) as Array<{ dir: string; has_embedded_tlog: boolean; oidc_issuer: string | null }>;
  // Offline-mode signatures and non-Fulcio ones (online-mode ones would search Rekor on the network).
  for (const e of index.filter((x) => x.has_embedded_tlog || x.oidc_issuer === null)) {
    out.push({ name: e.dir, sig: join(CORPUS, e.dir, 'signature.pem'), payload: readFileSync(join(CORPUS, e.dir, 'payload.bin')) });
  }
  for (const d of readdirSync(join(CORPUS, 'negative'))) {
    const dir = join(CORPUS, 'negative', d);
    if (!existsSync(join(dir, 'signature.pem'))) continue;
    out.push({ name: `negative/${d}`, sig: join(dir, 'signature.pem'), payload: readFileSync(join(dir, 'payload.bin')) });
  }
  return out;
}

describe('dist/fast-verify.cjs', () => {
  test('loads only node: built-ins; only signing code sits behind import()', () => {
    const code = readFileSync(join(dist, 'fast-verify.cjs'), 'utf8');
    const requires = [...code.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(requires.length).toBeGreaterThan(0);
    for (const r of requires) expect(r.startsWith('node:'), r).toBe(true);
    const dynamics = [...code.matchAll(/\bimport\("([^"]+)"\)/g)].map((m) => m[1]);
    for (const d of dynamics) {
      expect(d, d).toMatch(/^\.\/(sign|oidc)\//);
      expect(existsSync(resolve(dist, d)), d).toBe(true);
    }
    // The verify path, the Rekor search client included, is inside.
    expect(code).toContain('src/verify/pipeline.ts');
    expect(code).toContain('src/rekor/search.ts');
  });

  test('its V8 code cache is accepted by this Node', () => {
    const file = join(dist, 'fast-verify.cjs');
    const s = new Script(readFileSync(file, 'utf8'), { filename: file, cachedData: readFileSync(file + '.cache') });
    expect(s.cachedDataRejected).toBe(false);
  });
});

describe('bin/gitseal --verify: fast entry and dist/main.js agree exactly', () => {
  test('on every offline-mode, non-Fulcio and tampered corpus signature', () => {
    const all = cases();
    expect(all.length).toBeGreaterThanOrEqual(20);
    let good = 0;
    for (const c of all) {
      const fast = run(bin, c.sig, c.payload);
      const full = run(join(dist, 'main.js'), c.sig, c.payload);
      expect(fast, c.name).toEqual(full);
      if (fast.status === 0) good++;
    }
    // Not a vacuous comparison: both verdicts occur.
    expect(good).toBeGreaterThanOrEqual(12);
    expect(good).toBeLessThan(all.length);
  }, 120_000);

  test('a payload far larger than one stdin read, then the same payload altered by one byte', () => {
    const dir = join(CORPUS, 'sigstore_gitsign_commit_7550db4cf96b');
    const sig = join(dir, 'signature.pem');
    const payload = readFileSync(join(dir, 'payload.bin'));
    const ok = run(bin, sig, payload);
    expect(ok.status).toBe(0);
    expect('\n' + ok.stdout).toMatch(/\n\[GNUPG:\] GOODSIG [0-9a-f]{40} /);
    const big = Buffer.concat([payload, Buffer.alloc(1_000_000, 0x61)]);
    const fast = run(bin, sig, big);
    expect(fast).toEqual(run(join(dist, 'main.js'), sig, big));
    expect(fast.status).not.toBe(0);
    expect(fast.stdout).toMatch(/\[GNUPG:\] BADSIG /);
  }, 60_000);

  test('the verify call really takes the fast entry: no ES module is loaded', () => {
    const dir = join(CORPUS, 'sigstore_gitsign_commit_7550db4cf96b');
    const hook = join(top, 'modules-hook.cjs');
    const list = join(top, 'modules.txt');
    writeFileSync(hook, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));`);
    const loaded = (entry: string) => {
      const r = spawnSync(process.execPath, ['--require', hook, entry, '--status-fd=1', '--verify', join(dir, 'signature.pem'), '-'], {
        input: readFileSync(join(dir, 'payload.bin')),
        env: env(),
        cwd: top,
      });
      expect(r.status).toBe(0);
      return readFileSync(list, 'utf8').split('\n');
    };
    expect(loaded(join(dist, 'main.js'))).toContain('NativeModule internal/modules/esm/module_job');
    // Node 20 starts its ES module loader only for ES modules; Node >= 22 may start it eagerly
    // (require(esm)), so there the proof is that the call needs no dist/main.js at all.
    if (Number(process.versions.node.split('.')[0]) < 22) expect(loaded(bin)).not.toContain('NativeModule internal/modules/esm/module_job');
    const moved = join(dist, 'main.js.moved');
    execFileSync('mv', [join(dist, 'main.js'), moved]);
    try {
      const r = run(bin, join(dir, 'signature.pem'), readFileSync(join(dir, 'payload.bin')));
      expect(r.status, r.stderr).toBe(0);
      expect('\n' + r.stdout).toMatch(/\n\[GNUPG:\] GOODSIG /);
    } finally {
      execFileSync('mv', [moved, join(dist, 'main.js')]);
    }
  });

  test('without a fast bundle, bin/gitseal falls back to dist/main.js with the same answer', () => {
    const dir = join(CORPUS, 'sigstore_gitsign_commit_7550db4cf96b');
    const sig = join(dir, 'signature.pem');
    const payload = readFileSync(join(dir, 'payload.bin'));
    const before = run(bin, sig, payload);
    const moved = join(dist, 'fast-verify.cjs.moved');
    execFileSync('mv', [join(dist, 'fast-verify.cjs'), moved]);
    try {
      expect(run(bin, sig, payload)).toEqual(before);
    } finally {
      execFileSync('mv', [moved, join(dist, 'fast-verify.cjs')]);
    }
  });
});

describe('bin/gitseal: the code cache per Node version, and falling back when V8 rejects it', () => {
  const dir = join(CORPUS, 'sigstore_gitsign_commit_7550db4cf96b');
  const sig = join(dir, 'signature.pem');
  const payload = () => readFileSync(join(dir, 'payload.bin'));
  const debug = { GITSEAL_DEBUG_CODE_CACHE: '1' };
  const file = () => join(dist, 'fast-verify.cjs');
  const own = () => `${file()}.v8-${process.versions.v8}.cache`;
  /** The call with the debug hook: its report line, and the rest of stderr. */
  function call() {
    const r = run(bin, sig, payload(), debug);
    const lines = r.stderr.split('\n');
    const report = lines.filter((l) => l.startsWith('gitseal: code cache fast-verify: '));
    expect(report.length, r.stderr).toBe(1);
    return { ...r, stderr: lines.filter((l) => !l.startsWith('gitseal: code cache ')).join('\n'), report: report[0] };
  }
  /** Move the cache files aside, run `fn`, put them back. */
  function aside<T>(fn: () => T): T {
    const saved = readdirSync(dist).filter((f) => /^fast-verify\.cjs\..*cache$/.test(f)).map((f) => [join(dist, f), readFileSync(join(dist, f))] as const);
    for (const [f] of saved) rmSync(f);
    try {
      return fn();
    } finally {
      for (const f of readdirSync(dist).filter((x) => /^fast-verify\.cjs\..*cache$/.test(x))) rmSync(join(dist, f));
      for (const [f, b] of saved) writeFileSync(f, b);
    }
  }

  test('the build\'s own cache is accepted, and without the hook nothing is said', () => {
    const plain = run(bin, sig, payload());
    expect(plain.stderr).not.toContain('code cache');
    const r = call();
    expect(r.report).toMatch(/: accepted \(v8 /);
    expect(r.report).toContain(`${file()}.cache`);
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual(plain);
  });

  test('a cache from another V8 configuration is rejected, a damaged or missing one too: the same answer every time', () => {
    const want = run(bin, sig, payload());
    expect(want.status).toBe(0);
    // A cache V8 made under other flags: what another Node's cache is to this one (V8 checks
    // its version and flag hash before it uses a byte).
    const foreign = join(top, 'foreign.cache');
    const mk = spawnSync(process.execPath, ['--no-opt', '--max-lazy', '-e', "const vm=require('node:vm'),fs=require('node:fs');const [f,o]=process.argv.slice(1);fs.writeFileSync(o,new vm.Script(fs.readFileSync(f,'utf8'),{filename:f}).createCachedData())", file(), foreign]);
    expect(mk.status, mk.stderr.toString()).toBe(0);
    const states = aside(() => {
      const out: string[] = [];
      for (const bytes of [readFileSync(foreign), Buffer.from('not a code cache'), Buffer.alloc(0)]) {
        writeFileSync(`${file()}.cache`, bytes);
        const r = call();
        expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual(want);
        out.push(r.report.replace(/^gitseal: code cache fast-verify: (\w+).*$/, '$1'));
      }
      rmSync(`${file()}.cache`);
      const r = call();
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual(want);
      out.push(r.report.replace(/^gitseal: code cache fast-verify: (\w+).*$/, '$1'));
      return out;
    });
    expect(states).toEqual(['rejected', 'rejected', 'rejected', 'missing']);
  });

  test('this Node\'s own versioned cache is taken before <name>.cjs.cache', () => {
    const good = readFileSync(`${file()}.cache`);
    const r = aside(() => {
      writeFileSync(`${file()}.cache`, Buffer.from('another node\'s cache'));
      writeFileSync(own(), good);
      return call();
    });
    expect(r.status).toBe(0);
    expect(r.report).toMatch(/: accepted \(v8 /);
    expect(r.report).toContain(own());
  });

  test('the build makes a cache for each Node in GITSEAL_CODE_CACHE_NODES, named by its V8 version', () => {
    // This Node stands in for another: the file it makes must carry its V8 version and be accepted.
    const out = join(top, 'dist-nodes');
    execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, env: { ...process.env, GITSEAL_OUTDIR: out, GITSEAL_CODE_CACHE_NODES: process.execPath }, stdio: 'pipe' });
    const f = join(out, 'fast-verify.cjs');
    const s = new Script(readFileSync(f, 'utf8'), { filename: f, cachedData: readFileSync(`${f}.v8-${process.versions.v8}.cache`) });
    expect(s.cachedDataRejected).toBe(false);
    rmSync(out, { recursive: true, force: true });
  }, 180_000);
});

describe('bin/gitseal --verify: crypto operations of one call (counted, not timed)', () => {
  test('one key import per distinct key, one SHA-1 (the fingerprint), five signature checks', () => {
    const dir = join(CORPUS, 'sigstore_gitsign_commit_7550db4cf96b');
    const hook = join(top, 'crypto-count.cjs');
    const rep = join(top, 'crypto-count.json');
    writeFileSync(
      hook,
      `const c = require('node:crypto'); const n = {};
       for (const k of ['createPublicKey', 'createHash', 'hash', 'verify', 'createVerify', 'X509Certificate']) {
         const o = c[k]; if (typeof o !== 'function') continue;
         // createHash and the one-shot hash() count alike: a digest is a digest.
         c[k] = function (...a) { const key = k === 'createPublicKey' ? k : (k === 'createHash' ? 'hash' : k) + ':' + a[0]; n[key] = (n[key] ?? 0) + 1; return new.target ? new o(...a) : o.apply(this, a); };
       }
       process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(rep)}, JSON.stringify(n)));`,
    );
    const r = spawnSync(process.execPath, ['--require', hook, bin, '--status-fd=1', '--verify', join(dir, 'signature.pem'), '-'], { input: readFileSync(join(dir, 'payload.bin')), env: env(), cwd: top });
    expect(r.status, r.stderr.toString()).toBe(0);
    const n = JSON.parse(readFileSync(rep, 'utf8')) as Record<string, number>;
    // Leaf, intermediate, CT log and Rekor keys: each imported once (the Rekor key serves the SET and the checkpoint).
    expect(n.createPublicKey).toBe(4);
    expect((n['verify:sha256'] ?? 0) + (n['verify:sha384'] ?? 0)).toBe(5);
    expect(n['hash:sha1']).toBe(1);
    expect(n.createVerify ?? 0).toBe(0);
    expect(n['X509Certificate:undefined'] ?? 0).toBe(0);
    // Hashes: payload, signed attributes, Merkle path, memo keys — bounded, not a trusted-root scan.
    expect(n['hash:sha256']).toBeLessThanOrEqual(30);
    expect(n['hash:sha256']).toBeGreaterThan(0);
  });
});

describe('isFastVerifyCall', () => {
  test('takes git\'s verify call only', () => {
    expect(isFastVerifyCall(['--status-fd=1', '--verify', 'sig', '-'])).toBe(true);
    expect(isFastVerifyCall(['--verify', 'sig'])).toBe(true);
    expect(isFastVerifyCall(['--status-fd=2', '-bsau', 'key'])).toBe(false);
    expect(isFastVerifyCall(['verify', '--verify'])).toBe(false); // the human CLI
    expect(isFastVerifyCall(['--version'])).toBe(false);
    expect(isFastVerifyCall([])).toBe(false);
  });
});
