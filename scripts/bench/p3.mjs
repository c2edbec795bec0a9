#!/usr/bin/env node
// P3 only (issue "Speed"): `git commit -S` with a warm agent against the local
// sandbox vs an unsigned commit, against `node -e 0`; target: the extra cost of
// signing ≤ 2× `node -e 0`. Separate from run.mjs (P1/P2) so the signing path
// can be measured alone in a minute. Wall AND CPU: this machine is shared, and
// a busy neighbour stretches wall time far more than the work done.
//
//   npm run build && node scripts/bench/p3.mjs [--runs N] [--bin PATH] [--out FILE]
//
// --bin: the gitseal to measure (default bin/gitseal), e.g. a prototype build.
// CPU of the node processes (gitseal, node -e 0) comes from a --require hook
// that records process.cpuUsage() at exit; git's own CPU is not in it (the
// unsigned commit shows what git costs).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startSandbox } from './sandbox.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({ options: { runs: { type: 'string' }, bin: { type: 'string' }, out: { type: 'string' } } });
const RUNS = Number(args.runs ?? 20);
const gitseal = args.bin ?? join(ROOT, 'bin/gitseal');
const log = (s) => process.stderr.write(s + '\n');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x, d = 1) => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d));

const tmp = mkdtempSync(join(tmpdir(), 'gitseal-p3-'));
const cpuDir = join(tmp, 'cpu');
mkdirSync(cpuDir);
const hook = join(tmp, 'cpu-hook.cjs');
writeFileSync(
  hook,
  `process.on('exit', () => { const c = process.cpuUsage(); require('fs').writeFileSync(${JSON.stringify(cpuDir)} + '/' + process.pid, String((c.user + c.system) / 1000)); });`,
);
/** Run a command; wall ms, and CPU ms of the node processes it ran (the hook's reports). */
function measure(cmd, argv, opts) {
  for (const f of readdirSync(cpuDir)) rmSync(join(cpuDir, f));
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, opts);
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  const cpu = readdirSync(cpuDir).reduce((a, f) => a + Number(readFileSync(join(cpuDir, f), 'utf8')), 0);
  return { wall, cpu };
}

const l0 = loadavg().map((x) => x.toFixed(1)).join(' ');
let sb;
let genv;
const repo = join(tmp, 'repo');
try {
  log('P3: starting the sandbox');
  sb = await startSandbox(ROOT, join(tmp, 'sandbox'));
  const home = join(tmp, 'home');
  for (const d of ['home', 'run', 'cache', 'config']) mkdirSync(join(tmp, d), { mode: 0o700 });
  // A private agent: its socket under our own XDG_RUNTIME_DIR.
  genv = {
    PATH: process.env.PATH,
    LANG: 'C',
    HOME: home,
    XDG_RUNTIME_DIR: join(tmp, 'run'),
    XDG_CACHE_HOME: join(tmp, 'cache'),
    XDG_CONFIG_HOME: join(tmp, 'config'),
    GIT_CONFIG_NOSYSTEM: '1',
    ...sb.env,
    SIGSTORE_ID_TOKEN: sb.token('bench@example.com'),
    GIT_AUTHOR_NAME: 'B',
    GIT_AUTHOR_EMAIL: 'bench@example.com',
    GIT_COMMITTER_NAME: 'B',
    GIT_COMMITTER_EMAIL: 'bench@example.com',
  };
  const hooked = { ...genv, NODE_OPTIONS: `--require ${hook}` };
  mkdirSync(repo);
  const g = (a, env = genv) => spawnSync('git', a, { cwd: repo, env });
  g(['init', '-q']);
  g(['config', 'gpg.format', 'x509']);
  g(['config', 'gpg.x509.program', gitseal]);
  const started = spawnSync(process.execPath, [gitseal, 'agent', 'start'], { cwd: repo, env: genv });
  if (started.status !== 0) throw new Error(`gitseal agent start failed: ${started.stderr}`);
  const warm = g(['commit', '-q', '-S', '--allow-empty', '-m', 'warm the agent']);
  const vc = g(['verify-commit', 'HEAD']);
  if (warm.status !== 0 || vc.status !== 0) throw new Error(`the first signed commit failed: ${warm.stderr}${vc.stderr}`);
  const payload = spawnSync('git', ['cat-file', 'commit', 'HEAD'], { cwd: repo, env: genv }).stdout.toString().replace(/^gpgsig [\s\S]*?-----END SIGNED MESSAGE-----\n/m, '');

  log(`P3: ${RUNS} interleaved rounds`);
  const res = { bare: [], unsigned: [], signed: [], bsau: [] };
  const o = { cwd: repo, env: hooked, stdio: ['pipe', 'pipe', 'pipe'] };
  for (let i = 0; i < RUNS; i++) {
    res.bare.push(measure(process.execPath, ['-e', '0'], o));
    res.unsigned.push(measure('git', ['commit', '-q', '--allow-empty', '-m', `u${i}`], o));
    res.signed.push(measure('git', ['commit', '-q', '-S', '--allow-empty', '-m', `s${i}`], o));
    res.bsau.push(measure(process.execPath, [gitseal, '--status-fd=2', '-bsau', 'bench'], { ...o, input: payload }));
  }
  // The measured commits must be real signatures: check the last one as git does.
  const last = g(['verify-commit', 'HEAD']);
  if (last.status !== 0) throw new Error(`the last measured commit does not verify: ${last.stderr}`);
  // Which way they were made: whole signatures by the agent (signPayload, the fast path) or not.
  const agentLog = readFileSync(join(tmp, 'cache', 'gitseal', 'agent.log'), 'utf8');
  const whole = agentLog.split('\n').filter((l) => l.includes('whole signature, logged to Rekor')).length;
  const m = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, { wall: median(v.map((x) => x.wall)), cpu: median(v.map((x) => x.cpu)) }]));
  const extraWall = m.signed.wall - m.unsigned.wall;
  const extraCpu = m.signed.cpu - m.unsigned.cpu;
  const lines = [
    `# P3: git commit -S with a warm agent (scripts/bench/p3.mjs)`,
    '',
    `${new Date().toISOString()}; node ${process.version}; medians of ${RUNS} interleaved rounds; load average ${l0} → ${loadavg().map((x) => x.toFixed(1)).join(' ')}`,
    '',
    '| figure | wall ms | node CPU ms |',
    '| --- | --- | --- |',
    `| node -e 0 | ${fmt(m.bare.wall)} | ${fmt(m.bare.cpu)} |`,
    `| git commit (unsigned) | ${fmt(m.unsigned.wall)} | ${fmt(m.unsigned.cpu)} |`,
    `| git commit -S | ${fmt(m.signed.wall)} | ${fmt(m.signed.cpu)} |`,
    `| gitseal -bsau alone | ${fmt(m.bsau.wall)} | ${fmt(m.bsau.cpu)} |`,
    '',
    `P3 extra for signing: wall ${fmt(extraWall)} ms = ${fmt(extraWall / m.bare.wall, 2)}× node -e 0 (target ≤ 2×: ${extraWall / m.bare.wall <= 2 ? 'pass' : 'MISS'}); ` +
      `CPU ${fmt(extraCpu)} ms = ${fmt(extraCpu / m.bare.cpu, 2)}× node -e 0 CPU`,
    '',
    `Signatures made whole by the agent (signPayload): ${whole} of ${2 * RUNS + 1} (the first, which started the agent, took the full path).`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  if (args.out) writeFileSync(args.out, lines.join('\n') + '\n');
} finally {
  if (genv) spawnSync(process.execPath, [gitseal, 'agent', 'stop'], { cwd: repo, env: genv });
  await sb?.stop();
  rmSync(tmp, { recursive: true, force: true });
}
