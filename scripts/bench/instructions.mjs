#!/usr/bin/env node
// Instruction counts for P1 (issue "Speed"): how far a `gitseal --verify` call can get below
// 1.3× `node -e 0` when it uses node:crypto. Counted with callgrind (total Ir, all threads),
// which a busy machine does not disturb the way it disturbs wall time.
//
//   node scripts/bench/instructions.mjs [--out FILE] [--runs N]
//
// Each figure is the median of N (default 3) runs under `valgrind --tool=callgrind`:
//   A  node -e 0
//   B  node driver.cjs load  reads the inputs JSON, require('node:crypto'), no crypto operation
//   C  node driver.cjs ops   B plus, once, every crypto operation one offline-mode verification
//                            needs (cryptoFloorInputs in floor.ts), key imports included
//   D  node driver.cjs none  reads the inputs JSON only
//   E  node bin/gitseal --status-fd=1 --verify SIG -  (payload on stdin; must print GOODSIG)
// Derived: loading node:crypto = B − D, the crypto operations cold = C − B, and the lower bound
// (A + (B − D) + (C − B)) / A for any verifier that starts Node and uses node:crypto.
//
// Notes:
// - Every Node process spends a random 0.1–13 M instructions in V8's HashSeed::InitializeRoots
//   (a search for random primes, detail::sprp, different each start). The figures subtract it
//   (its inclusive cost, read with callgrind_annotate from each run's profile), which makes them
//   repeat within ~1%; the raw totals are shown beside them.
// - Children run in a clean environment (PATH, a temporary HOME, LANG=C), like run.mjs. In
//   particular without NODE_EXTRA_CA_CERTS: with it set (as on the dev machines) Node parses that
//   CA bundle at start-up and `node -e 0` alone is ~500 M instructions instead of ~85 M.
// - The driver is scripts/bench/floor-driver.cjs (CommonJS, node: built-ins only; run.mjs's history
//   part runs its `time` mode on Node 24); its JSON comes from floor.ts, bundled here on the fly
//   into .tmp/ (git-ignored) as run.mjs does.
// - Needs dist/ (node scripts/build.mjs) for E; without valgrind it says so and exits 0.
// - The sample is the one run.mjs uses for P1: the first offline-mode commit of
//   test/fixtures/gitsign-corpus (GITSEAL_CORPUS overrides), checked against its trusted_root.json.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const CORPUS = process.env.GITSEAL_CORPUS ?? join(ROOT, 'test/fixtures/gitsign-corpus');
const { values: args } = parseArgs({ options: { out: { type: 'string' }, runs: { type: 'string' } } });
const RUNS = Number(args.runs ?? 3);
const log = (s) => process.stderr.write(s + '\n');

const vg = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
if (vg.error || vg.status !== 0) {
  console.log('instructions: valgrind is not installed; no instruction counts (install valgrind to run this benchmark)');
  process.exit(0);
}

// ---------------------------------------------------------------- inputs
const { build } = await import('esbuild');
const bundleDir = join(ROOT, '.tmp', `bench-instructions-${process.pid}`);
const tmp = mkdtempSync(join(tmpdir(), 'gitseal-instr-'));
try {
  await build({
    absWorkingDir: ROOT,
    stdin: {
      contents: "export { cryptoFloorInputs, cryptoFloorOps } from './scripts/bench/floor.ts';\nexport { parseTrustedRoot } from './src/trust/trusted-root.ts';\n",
      resolveDir: ROOT,
      sourcefile: 'instructions-entry.ts',
      loader: 'ts',
    },
    outfile: join(bundleDir, 'floor.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  const F = await import(pathToFileURL(join(bundleDir, 'floor.mjs')).href);

  const sampleName = readdirSync(CORPUS)
    .filter((d) => existsSync(join(CORPUS, d, 'meta.json')) && existsSync(join(CORPUS, d, 'object.raw')))
    .find((d) => {
      const m = JSON.parse(readFileSync(join(CORPUS, d, 'meta.json'), 'utf8'));
      return m.has_embedded_tlog && m.type === 'commit';
    });
  if (!sampleName) throw new Error(`no offline-mode commit in ${CORPUS}`);
  const sig = readFileSync(join(CORPUS, sampleName, 'signature.pem'));
  const payload = readFileSync(join(CORPUS, sampleName, 'payload.bin'));
  const trust = F.parseTrustedRoot(readFileSync(join(CORPUS, 'trusted_root.json')));
  // cryptoFloorOps throws unless every operation verifies on the sample.
  const opNames = F.cryptoFloorOps(sig, payload, trust).map((o) => o.name);
  writeFileSync(join(tmp, 'inputs.json'), JSON.stringify(F.cryptoFloorInputs(sig, payload, trust)));
  writeFileSync(join(tmp, 'sig.pem'), sig);
  writeFileSync(join(tmp, 'payload.bin'), payload);
  const home = join(tmp, 'home');
  mkdirSync(home);
  const env = { PATH: process.env.PATH, HOME: home, GIT_CONFIG_NOSYSTEM: '1', LANG: 'C' };

  // ---------------------------------------------------------------- sanity, without valgrind
  const node = process.execPath;
  const driver = join(ROOT, 'scripts/bench/floor-driver.cjs');
  const gitsealArgv = [join(ROOT, 'bin/gitseal'), '--status-fd=1', '--verify', join(tmp, 'sig.pem'), '-'];
  if (!existsSync(join(ROOT, 'dist/fast-verify.cjs'))) throw new Error('dist/fast-verify.cjs missing: run node scripts/build.mjs first');
  for (const mode of ['none', 'load', 'ops']) {
    const r = spawnSync(node, [driver, mode, join(tmp, 'inputs.json')], { env, cwd: tmp, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`driver ${mode} failed (exit ${r.status}): ${r.stderr.trim()}`);
  }
  const isGood = (out) => /\n\[GNUPG:\] GOODSIG /.test('\n' + out);
  const probe = spawnSync(node, gitsealArgv, { input: payload, env, cwd: tmp, encoding: 'utf8' });
  if (probe.status !== 0 || !isGood(probe.stdout)) throw new Error(`gitseal --verify did not report GOODSIG (exit ${probe.status}): ${probe.stderr.trim().split('\n')[0]}`);

  // ---------------------------------------------------------------- counts
  const cases = [
    { key: 'A', label: '`node -e 0`', argv: ['-e', '0'] },
    { key: 'B', label: 'driver `load`: inputs + `require(\'node:crypto\')`', argv: [driver, 'load', join(tmp, 'inputs.json')] },
    { key: 'C', label: 'driver `ops`: B + every crypto operation of one verification, once', argv: [driver, 'ops', join(tmp, 'inputs.json')] },
    { key: 'D', label: 'driver `none`: inputs only', argv: [driver, 'none', join(tmp, 'inputs.json')] },
    { key: 'E', label: '`gitseal --status-fd=1 --verify SIG -`', argv: gitsealArgv, input: payload, good: true },
  ];
  const jobs = [];
  for (let i = 0; i < RUNS; i++) for (const c of cases) jobs.push(c);
  const counts = Object.fromEntries(cases.map((c) => [c.key, []]));
  const raw = Object.fromEntries(cases.map((c) => [c.key, []]));
  let seq = 0;
  let noSeed = false;
  const t0 = Date.now();
  log(`instructions: ${jobs.length} callgrind runs (${RUNS} per figure), sample ${sampleName}`);
  await pool(jobs, Math.max(1, Math.min(availableParallelism(), 4)), async (c) => {
    const r = await callgrind(node, c.argv, { input: c.input, env, cwd: tmp, outFile: join(tmp, `cg-${seq++}.out`) });
    if (r.status !== 0) throw new Error(`${c.key} (${c.label}) exited ${r.status} under valgrind: ${r.stderr.split('\n').slice(-5).join(' | ')}`);
    if (c.good && !isGood(r.stdout)) throw new Error(`gitseal --verify under valgrind did not report GOODSIG: ${r.stdout.trim()}`);
    raw[c.key].push(r.ir);
    if (r.seed === undefined) noSeed = true;
    counts[c.key].push(r.ir - (r.seed ?? 0));
    log(`  ${c.key} ${(r.ir / 1e6).toFixed(1)} M, hash seed ${r.seed === undefined ? 'n/a' : (r.seed / 1e6).toFixed(1) + ' M'}`);
  });
  const M = Object.fromEntries(cases.map((c) => [c.key, median(counts[c.key]) / 1e6]));
  const R = Object.fromEntries(cases.map((c) => [c.key, median(raw[c.key]) / 1e6]));
  const spread = (k) => {
    const xs = counts[k].map((x) => x / 1e6);
    return `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;
  };

  // ---------------------------------------------------------------- table
  const load = M.B - M.D;
  const ops = M.C - M.B;
  const bound = (M.A + load + ops) / M.A;
  const f1 = (x) => x.toFixed(1);
  const lines = [
    `P1 instruction counts (callgrind total Ir, all threads, ${noSeed ? 'NOT less V8\'s random hash-seed setup (callgrind_annotate missing: ±10 M per run)' : 'less V8\'s random hash-seed setup'}; median of ${RUNS} runs; M = 10^6 instructions)`,
    `node ${process.version}, ${vg.stdout.trim()}, sample ${sampleName} (offline mode, public-good), clean environment`,
    '',
    '| | figure | M instructions | runs (min–max) | raw total incl. hash seed (median) |',
    '| --- | --- | ---: | --- | ---: |',
    ...cases.map((c) => `| ${c.key} | ${c.label} | ${f1(M[c.key])} | ${spread(c.key)} | ${f1(R[c.key])} |`),
    `| B−D | loading node:crypto | ${f1(load)} | | |`,
    `| C−B | crypto operations, cold (${opNames.length}: key imports included) | ${f1(ops)} | | |`,
    `| bound | (A + (B−D) + (C−B)) / A | ${bound.toFixed(2)}× | | |`,
    `| E/A | gitseal --verify / node -e 0 | ${(M.E / M.A).toFixed(2)}× | | ${(R.E / R.A).toFixed(2)}× |`,
    '',
    `Lower bound for any verifier of this signature that starts Node and uses node:crypto: ${bound.toFixed(2)}× \`node -e 0\` ` +
      (bound > 1.3 ? `in instructions, above the 1.3× target (${f1(bound * M.A - 1.3 * M.A)} M over it before a byte is parsed).` : `in instructions, within the 1.3× target (${f1(1.3 * M.A - bound * M.A)} M left for everything else).`),
    `gitseal spends ${f1(M.E - M.A - load - ops)} M beyond that bound (E − A − (B−D) − (C−B)).`,
    '',
    `Operations in C: ${opNames.join('; ')}.`,
  ];
  const table = lines.join('\n') + '\n';
  process.stdout.write(table);
  if (args.out) writeFileSync(args.out, table);
  log(`instructions: ${((Date.now() - t0) / 1000).toFixed(0)} s under valgrind`);
} finally {
  rmSync(bundleDir, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
}

// ---------------------------------------------------------------- helpers
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Run `cmd argv` under callgrind; resolves with its exit status, output, total Ir and the
 * inclusive Ir of v8::internal::HashSeed::InitializeRoots (`seed`, 0 when absent).
 */
function callgrind(cmd, argv, { input, env, cwd, outFile }) {
  return new Promise((resolve, reject) => {
    const p = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${outFile}`, cmd, ...argv], { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (status) => {
      const m = /==\d+== Collected : (\d+)/.exec(stderr);
      if (!m) return reject(new Error(`no callgrind total for ${argv.join(' ')}: ${stderr.split('\n').slice(-5).join(' | ')}`));
      const a = spawn('callgrind_annotate', ['--inclusive=yes', '--threshold=100', '--auto=no', outFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      let ann = '';
      a.stdout.on('data', (d) => (ann += d));
      // Without callgrind_annotate (perl), the raw total stands: seed undefined.
      a.on('error', () => {
        rmSync(outFile, { force: true });
        resolve({ status, stdout, stderr, ir: Number(m[1]), seed: undefined });
      });
      a.on('close', (code) => {
        rmSync(outFile, { force: true });
        if (code === null) return;
        if (code !== 0) return reject(new Error(`callgrind_annotate exited ${code} on ${outFile}`));
        const s = /^\s*([\d,]+) .*v8::internal::HashSeed::InitializeRoots\(/m.exec(ann);
        resolve({ status, stdout, stderr, ir: Number(m[1]), seed: s ? Number(s[1].replace(/,/g, '')) : 0 });
      });
    });
    p.stdin.on('error', () => {});
    p.stdin.end(input ?? '');
  });
}

async function pool(items, width, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: width }, worker));
}
