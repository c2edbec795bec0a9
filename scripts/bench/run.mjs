#!/usr/bin/env node
// gitseal benchmarks (issue "Speed"): every figure is a ratio against a
// baseline measured in the same run on the same machine, never an absolute
// time. Prints a table and writes it to scripts/bench/latest.md.
//
//   npm run bench                     (builds first)
//   node scripts/bench/run.mjs [--runs N] [--commits N] [--history-commits N] [--quick] [--only p1|p2|history|memory] [--out FILE]
//                              [--memory-commits N]
//
// --only runs one part (p1: the --verify process; p2: crypto floor and range
// verification, no P3; history: the unique-certificate history, scripts/bench/history.mjs;
// memory: M1/M2 of scripts/bench/memory.mjs) and writes its table to --out only (latest.md is
// for full runs). M1 compares a 100,000-commit run (--memory-commits) with a 1,000-commit run
// of the same repository, measured in the same run.
//
// Fixtures are generated here: real gitsign offline-mode signatures from
// test/fixtures/gitsign-corpus (verified against its public-good trusted root)
// and synthetic histories for the object reader.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { makeHistory, writeLoose } from './fixtures.mjs';
import { benchSea } from './sea.mjs';
import { benchP1 } from './p1.mjs';
import { historyBench } from './history.mjs';
import { benchMemory } from './memory.mjs';
import timing from './time-fn.cjs';

const { median, timeFn } = timing;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const CORPUS = process.env.GITSEAL_CORPUS ?? join(ROOT, 'test/fixtures/gitsign-corpus');
const { values: args } = parseArgs({
  options: { runs: { type: 'string' }, commits: { type: 'string' }, quick: { type: 'boolean' }, out: { type: 'string' }, only: { type: 'string' }, 'history-commits': { type: 'string' }, 'memory-commits': { type: 'string' } },
});
const QUICK = !!args.quick;
const ONLY = args.only;
if (ONLY !== undefined && !['p1', 'p2', 'history', 'memory'].includes(ONLY)) throw new Error('--only takes p1, p2, history or memory');
const doP1 = ONLY === undefined || ONLY === 'p1';
const doP2 = ONLY === undefined || ONLY === 'p2';
const doHistory = ONLY === undefined || ONLY === 'history';
const doMemory = ONLY === undefined || ONLY === 'memory';
const RUNS = Number(args.runs ?? (QUICK ? 10 : 30));
const COMMITS = Number(args.commits ?? 2000);
const CORES = availableParallelism();
const LOAD = loadavg().map((x) => x.toFixed(1)).join(' ');

const tmp = mkdtempSync(join(tmpdir(), 'gitseal-bench-'));
const rows = [];
const notes = [];
const log = (s) => process.stderr.write(s + '\n');

const fmt = (x, d = 1) => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d));

/** Wall time of a process, median of `runs` after `warmup`, ms. */
function timeProcess(cmd, argv, { input, env, runs = RUNS, warmup = 3, cwd = tmp } = {}) {
  const opts = { input, env: env ?? process.env, cwd, stdio: ['pipe', 'pipe', 'pipe'] };
  for (let i = 0; i < warmup; i++) spawnSync(cmd, argv, opts);
  const ts = [];
  let last;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    last = spawnSync(cmd, argv, opts);
    ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { ms: median(ts), last };
}

/** Peak RSS (KiB) via /usr/bin/time -f %M, median of `runs`. */
function peakRss(cmd, argv, { input, env, runs = 10, cwd = tmp } = {}) {
  if (!existsSync('/usr/bin/time')) return undefined;
  const xs = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', join(tmp, 'rss.txt'), cmd, ...argv], { input, env: env ?? process.env, cwd });
    if (r.status === null) return undefined;
    xs.push(Number(readFileSync(join(tmp, 'rss.txt'), 'utf8').trim().split('\n').pop()));
  }
  return median(xs);
}


/** CPU ms (user + system) of a child process, median of `runs`, reported by a --require hook at exit. */
function cpuProcess(argv, { input, env, runs = RUNS } = {}) {
  const hook = join(tmp, 'cpu-hook.cjs');
  const rep = join(tmp, 'cpu.json');
  writeFileSync(hook, `process.on('exit', () => { const c = process.cpuUsage(); require('fs').writeFileSync(${JSON.stringify(rep)}, String((c.user + c.system) / 1000)); });`);
  const xs = [];
  for (let i = 0; i < runs; i++) {
    spawnSync(process.execPath, ['--require', hook, ...argv], { input, env: env ?? process.env, cwd: tmp });
    xs.push(Number(readFileSync(rep, 'utf8')));
  }
  return median(xs);
}

function row(figure, value, baseline, ratio, target, pass, unit = '') {
  rows.push({ figure, value, baseline, ratio, target, pass: pass === undefined ? 'n/a' : pass ? 'pass' : 'MISS', unit });
  log(`  ${figure}: ${value} vs ${baseline} → ${ratio} (target ${target}) ${pass === undefined ? 'n/a' : pass ? 'pass' : 'MISS'}`);
}

// ---------------------------------------------------------------- setup
log(`gitseal bench: ${cpus()[0]?.model ?? 'cpu'} × ${CORES}, node ${process.version}, runs=${RUNS}, load ${LOAD}`);
// Inside the project (.tmp/ is ignored by git) so the bundle resolves node_modules.
const harnessDir = join(ROOT, '.tmp', `bench-harness-${process.pid}`);
await build({
  absWorkingDir: ROOT,
  entryPoints: { harness: 'scripts/bench/harness.ts', 'verify/worker': 'src/verify/worker.ts' },
  outdir: harnessDir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'error',
});
const H = await import(pathToFileURL(join(harnessDir, 'harness.js')).href);
const workerUrl = pathToFileURL(join(harnessDir, 'verify/worker.js'));

const corpus = readdirSync(CORPUS)
  .filter((d) => existsSync(join(CORPUS, d, 'meta.json')) && existsSync(join(CORPUS, d, 'object.raw')))
  .map((d) => ({ dir: join(CORPUS, d), meta: JSON.parse(readFileSync(join(CORPUS, d, 'meta.json'), 'utf8')) }));
const offlineObjs = corpus.filter((c) => c.meta.has_embedded_tlog);
const trustJson = readFileSync(join(CORPUS, 'trusted_root.json'));
const trust = H.parseTrustedRoot(trustJson);
const sample = offlineObjs.find((c) => c.meta.type === 'commit');
const sampleSig = readFileSync(join(sample.dir, 'signature.pem'));
const samplePayload = readFileSync(join(sample.dir, 'payload.bin'));
writeFileSync(join(tmp, 'sig.pem'), sampleSig);
writeFileSync(join(tmp, 'trusted_root.json'), trustJson);
{
  const r = await H.verifySignature({ signature: sampleSig, payload: samplePayload, trust, offline: true });
  if (!r.ok) throw new Error(`bench sample does not verify: ${r.message}`);
}

// A clean environment for child processes: no user git config, no agent.
const home = join(tmp, 'home');
mkdirSync(home);
const childEnv = { PATH: process.env.PATH, HOME: home, GIT_CONFIG_NOSYSTEM: '1', LANG: 'C' };

const gitseal = join(ROOT, 'bin/gitseal');
if (doP1) {
// ---------------------------------------------------------------- P1: one --verify call
log('P1: gitseal --status-fd=1 --verify SIG - (offline-mode signature, embedded public-good root)');
const nodeRss = peakRss(process.execPath, ['-e', '0'], { env: childEnv });
let p1;
let nodeBase;
if (existsSync(join(ROOT, 'dist/main.js'))) {
  // scripts/bench/p1.mjs: git's call as git makes it, interleaved with node -e 0, and hyperfine beside it.
  const m = await benchP1({ root: ROOT, tmp, H, sampleSig, samplePayload, childEnv, runs: Math.max(RUNS, 30), row, notes, fmt, log });
  p1 = m.p1;
  nodeBase = m.nodeBase;
} else {
  nodeBase = timeProcess(process.execPath, ['-e', '0'], { env: childEnv });
  notes.push('P1: dist/main.js missing (run the build)');
}
// The single-file executable, the same call (scripts/bench/sea.mjs).
if (p1) benchSea({ root: ROOT, tmp, verifyArgs: ['--status-fd=1', '--verify', join(tmp, 'sig.pem'), '-'], payload: samplePayload, env: childEnv, nodeBase, nodeRss, runs: RUNS, timeProcess, peakRss, row, notes, fmt, median, log });

// Same signature through the independent verifiers, for scale.
{
  const der = Buffer.from(sampleSig.toString().replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  writeFileSync(join(tmp, 'sig.der'), der);
  writeFileSync(join(tmp, 'payload.bin'), samplePayload);
  const pems = trust.certificateAuthorities.flatMap((ca) => ca.certChain).map((d) => `-----BEGIN CERTIFICATE-----\n${d.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`);
  writeFileSync(join(tmp, 'ca.pem'), pems.join(''));
  const at = String(Math.floor(new Date(sample.meta.not_before).getTime() / 1000) + 30);
  const osslArgs = ['cms', '-verify', '-inform', 'DER', '-in', join(tmp, 'sig.der'), '-content', join(tmp, 'payload.bin'), '-binary', '-CAfile', join(tmp, 'ca.pem'), '-purpose', 'any', '-attime', at, '-out', '/dev/null'];
  const o = spawnSync('openssl', osslArgs, { env: childEnv });
  const ossl = timeProcess('openssl', osslArgs, { env: childEnv });
  row('openssl cms -verify, same signature (ms)', fmt(ossl.ms), `node -e 0: ${fmt(nodeBase.ms)}`, fmt(ossl.ms / nodeBase.ms, 2) + '×', 'reference', undefined);
  if (o.status !== 0) notes.push(`openssl cms -verify exit ${o.status}: ${o.stderr.toString().trim().split('\n')[0]}`);
  if (p1) notes.push(`gitseal --verify / openssl cms -verify = ${fmt(p1.ms / ossl.ms, 2)}× (openssl checks signature + chain only: no SCT, no Rekor proof, no identity)`);
  // gpgsm: roots imported into a temporary GNUPGHOME and marked trusted.
  const gh = join(tmp, 'gnupg');
  mkdirSync(gh, { mode: 0o700 });
  const genv = { ...childEnv, GNUPGHOME: gh };
  writeFileSync(join(gh, 'gpgsm.conf'), 'disable-crl-checks\ndisable-dirmngr\n');
  spawnSync('gpgsm', ['--batch', '--import', join(tmp, 'ca.pem')], { env: genv });
  const fprs = spawnSync('gpgsm', ['--batch', '--with-colons', '--list-keys'], { env: genv }).stdout.toString().split('\n').filter((l) => l.startsWith('fpr:')).map((l) => l.split(':')[9]);
  writeFileSync(join(gh, 'trustlist.txt'), fprs.map((f) => `${f} S relax\n`).join(''));
  const faked = `--faked-system-time=${at}`;
  const gArgs = ['--batch', faked, '--status-fd=1', '--verify', join(tmp, 'sig.der'), join(tmp, 'payload.bin')];
  const g = spawnSync('gpgsm', gArgs, { env: genv });
  const gpgsm = timeProcess('gpgsm', gArgs, { env: genv });
  row('gpgsm --verify, same signature (ms)', fmt(gpgsm.ms), `node -e 0: ${fmt(nodeBase.ms)}`, fmt(gpgsm.ms / nodeBase.ms, 2) + '×', 'reference', undefined);
  const gGood = /GOODSIG/.test(g.stdout.toString());
  if (!gGood) notes.push(`gpgsm did not report GOODSIG (exit ${g.status}); timing still covers its full check`);
  spawnSync('gpgconf', ['--kill', 'all'], { env: genv });
}

}

let floorMs;
/** verifySignature on one signature: cold (every memo cleared before each call) and warm (the leaf seen before). */
async function pipelineRows(label, sig, payload, trustRoot, floor) {
  const once = () => H.verifySignature({ signature: sig, payload, trust: trustRoot, offline: true });
  const cold = await timeFn(async () => { H.clearVerifyMemos(); await once(); }, { n: 200, warmup: 30 });
  const warm = await timeFn(once, { n: 200, warmup: 30 });
  row(`verifySignature on a ${label} signature, cold (CPU ms/commit)`, fmt(cold, 2), `crypto floor: ${fmt(floor, 2)}`, fmt(cold / floor, 2) + '×', '≤ 2×', cold / floor <= 2);
  row(`verifySignature on a ${label} signature, same certificate seen before (CPU ms/commit)`, fmt(warm, 2), `crypto floor: ${fmt(floor, 2)}`, fmt(warm / floor, 2) + '×', '≤ 2×', warm / floor <= 2);
}
if (doP2) {
// ---------------------------------------------------------------- crypto floor and per-signature cost
log('crypto floor');
floorMs = await floorOf(sampleSig, samplePayload, trust, 'public-good signature');
pipelineRows('gitsign', sampleSig, samplePayload, trust, floorMs);

// ---------------------------------------------------------------- object reading: cat-file vs isomorphic-git
log(`reader: ${COMMITS} signed commits, git rev-list | cat-file --batch vs isomorphic-git`);
{
  const dir = join(tmp, 'history');
  await makeHistory({ dir, count: COMMITS, sign: () => sampleSig });
  const catfile = [];
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint();
    let n = 0;
    for await (const o of H.readRange(dir, ['main'])) {
      H.parseCommit(o.data);
      n++;
    }
    if (n !== COMMITS) throw new Error(`reader saw ${n} commits`);
    catfile.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  let iso;
  try {
    const git = (await import('isomorphic-git')).default;
    const fs = await import('node:fs');
    const isoRuns = [];
    for (let i = 0; i < 3; i++) {
      const cache = {};
      const t0 = process.hrtime.bigint();
      const commits = await git.log({ fs, dir, ref: 'main', cache });
      for (const c of commits) {
        const { object } = await git.readObject({ fs, dir, oid: c.oid, format: 'content', cache });
        H.parseCommit(Buffer.from(object));
      }
      if (commits.length !== COMMITS) throw new Error(`isomorphic-git saw ${commits.length} commits`);
      isoRuns.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    iso = median(isoRuns);
  } catch (e) {
    notes.push(`isomorphic-git: ${e.message}`);
  }
  const cf = median(catfile);
  row(`read + parse ${COMMITS} commits, rev-list|cat-file (ms)`, fmt(cf), `isomorphic-git log+readObject: ${fmt(iso)}`, fmt(iso / cf, 1) + '× faster', 'faster wins', iso === undefined ? undefined : cf < iso);
  notes.push(`reader: cat-file ${fmt((COMMITS / cf) * 1000, 0)} commits/s, isomorphic-git ${fmt((COMMITS / iso) * 1000, 0)} commits/s`);
}

}

// ---------------------------------------------------------------- P2: range verification
async function rangeBench(label, dir, target, trustRoot, floor, expectGood) {
  const run = async (o) => {
    const t0 = process.hrtime.bigint();
    // process.cpuUsage() counts every thread of the process, workers included.
    const c0 = process.cpuUsage();
    const r = await H.verifyRangeAll({ repoDir: dir, trust: trustRoot, offline: true, workerUrl, ...target, ...o });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const c = process.cpuUsage(c0);
    if (r.summary.good !== expectGood) throw new Error(`range verification (${label}): ${JSON.stringify(r.summary)}`);
    return { ms, cpu: (c.user + c.system) / 1000, summary: r.summary };
  };
  const samples = QUICK ? 1 : 3;
  const par = [];
  const one = [];
  const cpu = [];
  const oneCpu = [];
  const loads = [];
  // Interleaved, so a busy neighbour hits both modes alike.
  for (let i = 0; i < samples; i++) {
    loads.push(loadavg()[0].toFixed(1));
    const r = await run({ cache: false }); // the default: cores − 1 workers + this thread
    par.push(r.ms);
    cpu.push(r.cpu);
    const o = await run({ workers: 0, cache: false });
    one.push(o.ms);
    oneCpu.push(o.cpu);
  }
  const parMs = median(par);
  const THREADS = `${Math.max(1, CORES - 1)} worker${CORES > 2 ? 's' : ''} + this thread`;
  notes.push(
    `P2 ${label}: wall per run ${par.map((x) => fmt(x, 0)).join(', ')} ms (${THREADS}), ${one.map((x) => fmt(x, 0)).join(', ')} ms (one thread); ` +
      `CPU per run ${cpu.map((x) => fmt(x, 0)).join(', ')} ms (${THREADS}), ${oneCpu.map((x) => fmt(x, 0)).join(', ')} ms (one thread); 1-min load before each pair ${loads.join(', ')}`,
  );
  notes.push(`P2 ${label}: commits per CPU-second (load-robust): ${THREADS} ${fmt((expectGood / median(cpu)) * 1000, 0)}, one thread ${fmt((expectGood / median(oneCpu)) * 1000, 0)}`);
  // Load-robust: CPU spent per commit (all threads, reading + parsing + verifying) against the floor.
  const cpuPer = median(cpu) / expectGood;
  row(`P2 ${label}: CPU per commit, all threads (ms)`, fmt(cpuPer, 2), `crypto floor: ${fmt(floor, 2)}`, fmt(cpuPer / floor, 2) + '×', '≤ 2×', cpuPer / floor <= 2);
  const rate = (expectGood / parMs) * 1000;
  const floorRate = (CORES * 1000) / floor;
  row(`P2 ${label}: ${THREADS} (commits/s)`, fmt(rate, 0), 'target 2000', fmt(rate / 2000, 2) + '×', '≥ 2000/s', rate >= 2000);
  row(`P2 ${label}: vs crypto floor × ${CORES} cores (commits/s)`, fmt(rate, 0), `floor: ${fmt(floorRate, 0)}`, fmt(floorRate / rate, 2) + '×', '≤ 2×', floorRate / rate <= 2);
  notes.push(`P2 ${label}: one thread ${fmt((expectGood / median(one)) * 1000, 0)} commits/s, ${THREADS} ${fmt(rate, 0)} commits/s (speed-up ${fmt(median(one) / parMs, 2)}×)`);
  const cdir = join(tmp, `cache-${label.replace(/\W+/g, '-')}`);
  const cold = await run({ cache: H.VerifiedCache.open({ dir: cdir, trustDigest: trustRoot.digest }) });
  const warm = await run({ cache: H.VerifiedCache.open({ dir: cdir, trustDigest: trustRoot.digest }) });
  row(`P2 ${label}: warm cache (ms for ${expectGood})`, fmt(warm.ms), `cold: ${fmt(cold.ms)}`, fmt(cold.ms / warm.ms, 1) + '× faster', 'near-instant', warm.summary.cached === expectGood);
  notes.push(`P2 ${label}: cache cold run answered ${cold.summary.cached}/${expectGood} from cache, warm run ${warm.summary.cached}/${expectGood}`);
}

async function floorOf(sig, payload, trustRoot, label) {
  let ms = 0;
  const parts = [];
  for (const op of H.cryptoFloorOps(sig, payload, trustRoot)) {
    const t = await timeFn(op.run, { n: 200 });
    ms += t;
    parts.push(`${op.name} ${fmt(t * 1000, 0)} µs`);
  }
  notes.push(`crypto floor (${label}): ${fmt(ms * 1000, 0)} µs = ${parts.join(' + ')}`);
  return ms;
}

if (doP2) {
// Real gitsign signatures (public-good CA, P-384 intermediate), repeated to COMMITS objects.
log(`P2: verifyRange over ${COMMITS} public-good offline-mode signatures (${offlineObjs.length} real gitsign objects, repeated)`);
{
  const dir = join(tmp, 'corpus-repo');
  await makeHistory({ dir, count: 1, pack: false });
  for (const c of offlineObjs) writeLoose(dir, c.meta.type, readFileSync(join(c.dir, 'object.raw')));
  const objects = Array.from({ length: COMMITS }, (_, i) => offlineObjs[i % offlineObjs.length].meta.oid);
  await rangeBench('gitsign corpus', dir, { objects }, trust, floorMs, COMMITS);
}

// Distinct commits signed against the local sandbox (one certificate, like the agent).
let sb;
try {
  const { startSandbox, sandboxSigner } = await import('./sandbox.mjs');
  log('sandbox: starting packages/sandbox/bin/gitseal-sandbox');
  sb = await startSandbox(ROOT, join(tmp, 'sandbox'));
  const shome = join(tmp, 'signer-home');
  mkdirSync(shome);
  const signer = await sandboxSigner(H, sb, 'bench@example.com', shome);
  log(`P2: signing ${COMMITS} commits against the sandbox`);
  const t0 = process.hrtime.bigint();
  const hist = await makeHistory({ dir: join(tmp, 'sandbox-history'), count: COMMITS, chains: 4, sign: (p) => signer.sign(p) });
  notes.push(`sandbox fixture: ${COMMITS} signed commits in ${fmt(Number(process.hrtime.bigint() - t0) / 1e9, 1)} s (in-process signer, 4 chains)`);
  signer.dispose();
  const first = H.parseCommit(spawnSync('git', ['cat-file', 'commit', hist.oids[0]], { cwd: hist.dir }).stdout);
  const sbFloor = await floorOf(first.signature, first.payload, signer.trust, 'sandbox signature');
  await pipelineRows('sandbox', first.signature, first.payload, signer.trust, sbFloor);
  log(`P2: verifyRange main over the sandbox history`);
  await rangeBench('sandbox history', hist.dir, { revs: ['main'] }, signer.trust, sbFloor, COMMITS);

  // ---------------------------------------------------------------- P3: git commit -S, warm agent
  if (ONLY) throw new Error('P3 not run (--only)');
  log('P3: git commit -S with a warm agent vs an unsigned commit');
  const repo = join(tmp, 'p3-repo');
  const p3home = join(tmp, 'p3-home');
  mkdirSync(p3home);
  const genv = { ...childEnv, HOME: p3home, ...sb.env, SIGSTORE_ID_TOKEN: sb.token('bench@example.com'), GIT_AUTHOR_NAME: 'B', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'B', GIT_COMMITTER_EMAIL: 'bench@example.com' };
  const g = (a) => spawnSync('git', a, { cwd: repo, env: genv });
  mkdirSync(repo);
  g(['init', '-q']);
  g(['config', 'gpg.format', 'x509']);
  g(['config', 'gpg.x509.program', gitseal]);
  const warmup = g(['commit', '-q', '-S', '--allow-empty', '-m', 'warm the agent']);
  const vc = g(['verify-commit', 'HEAD']);
  if (warmup.status !== 0 || vc.status !== 0) {
    notes.push(`P3: signed commit failed (exit ${warmup.status}/${vc.status}): ${(warmup.stderr.toString() + vc.stderr.toString()).trim().split('\n').slice(-1)[0]}`);
  } else {
    const signed = [];
    const unsigned = [];
    const bare = [];
    const n = Math.max(10, Math.min(RUNS, 30));
    for (let i = 0; i < n; i++) {
      let t = process.hrtime.bigint();
      g(['commit', '-q', '--allow-empty', '-m', `u${i}`]);
      unsigned.push(Number(process.hrtime.bigint() - t) / 1e6);
      t = process.hrtime.bigint();
      const r = g(['commit', '-q', '-S', '--allow-empty', '-m', `s${i}`]);
      signed.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (r.status !== 0) throw new Error(`P3 signed commit failed: ${r.stderr}`);
      t = process.hrtime.bigint();
      spawnSync(process.execPath, ['-e', '0'], { env: childEnv });
      bare.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    // The measured commits are real signatures (git's verdict), and this is how they were made.
    const last = g(['verify-commit', 'HEAD']);
    if (last.status !== 0) throw new Error(`P3: the last measured commit does not verify: ${last.stderr}`);
    const agentLog = genv.GITSEAL_AGENT_LOG ?? join(genv.XDG_CACHE_HOME ?? join(genv.HOME, '.cache'), 'gitseal', 'agent.log');
    const whole = existsSync(agentLog) ? readFileSync(agentLog, 'utf8').split('\n').filter((l) => l.includes('whole signature, logged to Rekor')).length : 0;
    notes.push(`P3: ${whole} of ${n + 1} signed commits were whole signatures by the agent (signPayload); the first started the agent through the full path`);
    const extra = median(signed) - median(unsigned);
    row('P3 `git commit -S` extra over unsigned (ms), warm agent', fmt(extra), `node -e 0: ${fmt(median(bare))}`, fmt(extra / median(bare), 2) + '×', '≤ 2×', extra / median(bare) <= 2);
    notes.push(`P3: signed ${fmt(median(signed))} ms, unsigned ${fmt(median(unsigned))} ms, node -e 0 ${fmt(median(bare))} ms (medians of ${n}, interleaved)`);
    // Where it goes: the signing program alone, wall and its own CPU (the agent's is not counted).
    const payload = spawnSync('git', ['cat-file', 'commit', 'HEAD'], { cwd: repo, env: genv }).stdout;
    const p = H.parseCommit(payload).payload;
    const direct = timeProcess(process.execPath, [gitseal, '--status-fd=2', '-bsau', 'bench'], { input: p, env: genv, runs: 10, warmup: 1, cwd: repo });
    const directCpu = cpuProcess([gitseal, '--status-fd=2', '-bsau', 'bench'], { input: p, env: genv, runs: 10 });
    notes.push(`P3: \`gitseal -bsau\` alone (warm agent): wall ${fmt(direct.ms)} ms, own CPU ${fmt(directCpu)} ms (node -e 0 CPU ${fmt(cpuProcess(['-e', '0'], { env: childEnv, runs: 10 }))} ms)`);
  }
  spawnSync(process.execPath, [gitseal, 'agent', 'stop'], { env: genv, cwd: repo });
} catch (e) {
  notes.push(`sandbox parts skipped: ${e.message}`);
} finally {
  await sb?.stop();
}

}

// ---------------------------------------------------------------- unique-certificate history (issue 16)
if (doHistory) {
  await historyBench({ root: ROOT, H, tmp, count: Number(args['history-commits'] ?? 5000), quick: QUICK, row, notes, fmt, floorOf, log });
}

// ---------------------------------------------------------------- M1/M2: memory at any size, the failure cache
if (doMemory) {
  try {
    await benchMemory({ root: ROOT, tmp, row, notes, fmt, log, commits: args['memory-commits'] ? Number(args['memory-commits']) : undefined });
  } catch (e) {
    notes.push(`memory (M1/M2) not measured: ${e.message}`);
    log(`memory: ${e.stack}`);
  }
}

// ---------------------------------------------------------------- output
const header = '| figure | value | baseline (same run) | ratio | target | result |\n| --- | --- | --- | --- | --- | --- |';
const table = [header, ...rows.map((r) => `| ${r.figure} | ${r.value} | ${r.baseline} | ${r.ratio} | ${r.target} | ${r.pass} |`)].join('\n');
const when = new Date().toISOString();
const md = `# gitseal benchmarks (latest run)\n\n${when}; ${cpus()[0]?.model ?? 'cpu'} × ${CORES}; node ${process.version}; medians of ${RUNS} process runs; load average at start ${LOAD}, at end ${loadavg().map((x) => x.toFixed(1)).join(' ')} (other engineers' test suites share these cores: wall-clock figures suffer, CPU figures much less).\n\n${table}\n\nNotes:\n${notes.map((n) => `- ${n}`).join('\n')}\n`;
process.stdout.write('\n' + table + '\n\n' + notes.map((n) => `- ${n}`).join('\n') + '\n');
if (args.out || !ONLY) writeFileSync(args.out ?? join(ROOT, 'scripts/bench/latest.md'), md);
rmSync(tmp, { recursive: true, force: true });
rmSync(harnessDir, { recursive: true, force: true });
