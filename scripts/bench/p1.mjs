// P1: git's per-signature `--verify` call against `node -e 0`, measured in the same run, the way
// git makes the call, by two methods that must agree:
//
// 1. this harness: git runs the program named by gpg.x509.program (bin/gitseal: its shebang,
//    /usr/bin/env, node) with the payload written to its stdin through a pipe, the signature in a
//    file and the status fd (1) and stderr on pipes (gpg-interface.c, pipe_command). spawnSync
//    does exactly that. `node -e 0` is run the same way (the same payload on stdin, the same
//    pipes, the same environment), and the two alternate run by run (ABBA…), so load from
//    other processes hits both alike. Wall: median (and mean, min) of the runs. CPU: user + sys
//    of the whole child (all its threads, exit included) from the kernel's count for reaped
//    children (/proc/self/stat cutime + cstime, the same rusage hyperfine reads); the kernel
//    reports it in clock ticks, so per run it is only a mean over the runs (exact to
//    1 tick / runs), which is also what hyperfine prints.
// 2. hyperfine (when installed): the same two commands with the same payload on stdin
//    (`--input FILE` on hyperfine ≥ 1.16; through `sh -c 'exec … < FILE'` before that, whose
//    shell start-up hyperfine measures and subtracts).
//
// Why the old figures disagreed (see docs/architecture.md "P1"): an outside timer run as
// `hyperfine -N 'gitseal --verify sig -'` gives the program no stdin at all (hyperfine 1.15 has
// no --input; -N means /dev/null), so it verified an EMPTY payload: BADSIG at the message-digest
// check, before the chain, SCT and transparency-log checks, which is a cheaper call than git's.
// The old bench timed node -e 0 and gitseal in two separate blocks (not interleaved) and took
// CPU from a --require hook that misses process teardown and adds its own module loads.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

const STAT = '/proc/self/stat';
let tick;
/** CPU ms (user + system) of this process's reaped children so far, or undefined off Linux. */
export function childrenCpuMs() {
  if (!existsSync(STAT)) return undefined;
  tick ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
  const s = readFileSync(STAT, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of proc(5) (cutime, cstime); f[0] is field 3.
  return ((Number(f[13]) + Number(f[14])) * 1000) / tick;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Run `cases` (each { key, cmd, argv }) interleaved, each with `input` on a stdin pipe and
 * stdout/stderr on pipes, `warmup` rounds then `runs` rounds (the order flips every round).
 * Returns per key: wall times (ms), CPU mean per run (ms), the last result.
 */
export function interleaved(cases, { input, env, cwd, runs, warmup = 5 }) {
  const opts = { input, env, cwd, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 };
  const out = Object.fromEntries(cases.map((c) => [c.key, { wall: [], cpu: 0, last: undefined }]));
  for (let i = 0; i < warmup; i++) for (const c of cases) spawnSync(c.cmd, c.argv, opts);
  for (let i = 0; i < runs; i++) {
    const order = i % 2 ? [...cases].reverse() : cases;
    for (const c of order) {
      const c0 = childrenCpuMs();
      const t0 = process.hrtime.bigint();
      const r = spawnSync(c.cmd, c.argv, opts);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const c1 = childrenCpuMs();
      const o = out[c.key];
      o.wall.push(ms);
      if (c0 !== undefined) o.cpu += c1 - c0;
      o.last = r;
    }
  }
  for (const o of Object.values(out)) {
    o.median = median(o.wall);
    o.mean = mean(o.wall);
    o.min = Math.min(...o.wall);
    o.cpuMean = childrenCpuMs() === undefined ? undefined : o.cpu / runs;
  }
  return out;
}

const shq = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/**
 * The same commands under hyperfine, the payload on stdin. Resolves per key to
 * { mean, median, min, cpuMean } (ms), or a string saying why not.
 */
export function hyperfine(cases, { input, env, cwd, runs, warmup = 5, tmp }) {
  const v = spawnSync('hyperfine', ['--version'], { encoding: 'utf8', env });
  if (v.error || v.status !== 0) return 'hyperfine is not installed';
  const payloadFile = join(tmp, 'p1-payload.bin');
  writeFileSync(payloadFile, input);
  const json = join(tmp, 'p1-hyperfine.json');
  const hasInput = /--input\b/.test(spawnSync('hyperfine', ['--help'], { encoding: 'utf8', env }).stdout);
  const cmdline = (c) => [c.cmd, ...c.argv].map(shq).join(' ');
  const args = ['--warmup', String(warmup), '--runs', String(runs), '--output=pipe', '--style', 'none', '--export-json', json];
  const names = hasInput
    ? ['-N', '--input', payloadFile, ...args, ...cases.map(cmdline)]
    : ['--shell', 'sh', ...args, ...cases.map((c) => `exec ${cmdline(c)} < ${shq(payloadFile)}`)];
  const r = spawnSync('hyperfine', names, { encoding: 'utf8', env, cwd });
  if (r.status !== 0) return `hyperfine failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').pop()}`;
  const res = JSON.parse(readFileSync(json, 'utf8')).results;
  const out = { version: v.stdout.trim(), stdin: hasInput ? '--input FILE' : "sh -c 'exec … < FILE' (no --input in this hyperfine; shell start-up subtracted)" };
  cases.forEach((c, i) => {
    const x = res[i];
    out[c.key] = { mean: x.mean * 1e3, median: median(x.times) * 1e3, min: x.min * 1e3, cpuMean: (x.user + x.system) * 1e3 };
  });
  return out;
}

/** Peak RSS (KiB) via /usr/bin/time -f %M, median of `runs`. */
function peakRss(cmd, argv, { input, env, cwd, tmp, runs = 10 }) {
  if (!existsSync('/usr/bin/time')) return undefined;
  const xs = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', join(tmp, 'rss.txt'), cmd, ...argv], { input, env, cwd });
    if (r.status === null) return undefined;
    xs.push(Number(readFileSync(join(tmp, 'rss.txt'), 'utf8').trim().split('\n').pop()));
  }
  return median(xs);
}

const isGood = (r) => r?.status === 0 && /\n\[GNUPG:\] GOODSIG /.test('\n' + r.stdout.toString());

/**
 * One P1 measurement: `label` names the signature; `sigPath`, `payload` the call's inputs;
 * `env` the child environment (a configured trusted root goes in it). Adds rows and notes;
 * returns { good, p1, nodeBase } (wall medians, ms) for the single-file executable's figure.
 */
export function measureP1({ root, tmp, label, sigPath, payload, env, runs, row, notes, fmt, log, node = process.execPath, main = true }) {
  const gitseal = join(root, 'bin', 'gitseal');
  // git runs the program file itself: bin/gitseal's shebang finds `node` on PATH, so the node
  // measured is first on PATH for both commands.
  const cenv = { ...env, PATH: `${dirname(node)}${delimiter}${env.PATH ?? ''}` };
  const verifyArgs = ['--status-fd=1', '--verify', sigPath, '-'];
  const cases = [
    { key: 'node', cmd: node, argv: ['-e', '0'] },
    { key: 'gitseal', cmd: gitseal, argv: verifyArgs },
  ];
  const nv = spawnSync(node, ['-p', 'process.version'], { encoding: 'utf8', env: cenv }).stdout.trim();
  log(`P1 (${label}, node ${nv}): ${runs} interleaved runs of node -e 0 and gitseal --status-fd=1 --verify SIG - (payload on stdin)`);
  const probe = spawnSync(gitseal, verifyArgs, { input: payload, env: cenv, cwd: tmp });
  const good = isGood(probe);
  if (!good) notes.push(`P1 ${label}: gitseal --verify did not report GOODSIG (exit ${probe.status}): ${probe.stderr.toString().trim().split('\n')[0] ?? ''}`);
  const h = interleaved(cases, { input: payload, env: cenv, cwd: tmp, runs });
  const b = h.node;
  const g = h.gitseal;
  if (!isGood(g.last)) notes.push(`P1 ${label}: the last measured gitseal run did not report GOODSIG (exit ${g.last?.status})`);
  const tag = `${label}, node ${nv}`;
  const wallRatio = g.median / b.median;
  row(`P1 wall, \`gitseal --verify\` (${tag}; ms, median of ${runs} interleaved)`, fmt(g.median), `node -e 0: ${fmt(b.median)}`, fmt(wallRatio, 2) + '×', '≤ 1.3×', good && wallRatio <= 1.3);
  let cpuRatio;
  if (g.cpuMean !== undefined) {
    cpuRatio = g.cpuMean / b.cpuMean;
    row(`P1 CPU, \`gitseal --verify\` (${tag}; ms user+sys, mean per run)`, fmt(g.cpuMean), `node -e 0: ${fmt(b.cpuMean)}`, fmt(cpuRatio, 2) + '×', '≤ 1.3×', good && cpuRatio <= 1.3);
  }
  notes.push(`P1 ${tag}, harness: wall median ${fmt(g.median)} / ${fmt(b.median)} ms, mean ${fmt(g.mean)} / ${fmt(b.mean)} ms (${fmt(g.mean / b.mean, 2)}×), min ${fmt(g.min)} / ${fmt(b.min)} ms (${fmt(g.min / b.min, 2)}×) for gitseal / node -e 0`);
  const hf = hyperfine(cases, { input: payload, env: cenv, cwd: tmp, runs, tmp });
  if (typeof hf === 'string') {
    notes.push(`P1 ${tag}: no outside measurement (${hf})`);
  } else {
    const hw = hf.gitseal.median / hf.node.median;
    const hc = hf.gitseal.cpuMean / hf.node.cpuMean;
    row(`P1 wall, hyperfine (${tag}; ms, median of ${runs})`, fmt(hf.gitseal.median), `node -e 0: ${fmt(hf.node.median)}`, fmt(hw, 2) + '×', '≤ 1.3×', good && hw <= 1.3);
    row(`P1 CPU, hyperfine (${tag}; ms user+sys, mean)`, fmt(hf.gitseal.cpuMean), `node -e 0: ${fmt(hf.node.cpuMean)}`, fmt(hc, 2) + '×', '≤ 1.3×', good && hc <= 1.3);
    const off = (a, b2) => Math.abs(a / b2 - 1);
    const dis = [];
    if (off(wallRatio, hw) > 0.05) dis.push(`wall ${fmt(wallRatio, 2)}× here vs ${fmt(hw, 2)}× hyperfine`);
    if (cpuRatio !== undefined && off(cpuRatio, hc) > 0.05) dis.push(`CPU ${fmt(cpuRatio, 2)}× here vs ${fmt(hc, 2)}× hyperfine`);
    notes.push(
      `P1 ${tag}, ${hf.version} (stdin: ${hf.stdin}): mean ${fmt(hf.gitseal.mean)} / ${fmt(hf.node.mean)} ms (${fmt(hf.gitseal.mean / hf.node.mean, 2)}×), min ${fmt(hf.gitseal.min)} / ${fmt(hf.node.min)} ms; ` +
        (dis.length ? `DISAGREES with the harness by more than 5%: ${dis.join('; ')} (a busy machine; compare the CPU figures)` : 'agrees with the harness within 5% (wall median and CPU ratios)'),
    );
  }
  if (main) {
    const rssB = peakRss(node, ['-e', '0'], { input: payload, env: cenv, cwd: tmp, tmp });
    const rssG = peakRss(gitseal, verifyArgs, { input: payload, env: cenv, cwd: tmp, tmp });
    if (rssB !== undefined && rssG !== undefined) row(`P1 peak RSS (${tag}; MiB)`, fmt(rssG / 1024), `node -e 0: ${fmt(rssB / 1024)}`, fmt(rssG / rssB, 2) + '×', '≤ 1.5×', good && rssG / rssB <= 1.5);
    // The same call through the ES-module entry (what bin/gitseal ran before dist/fast-verify.cjs).
    const esm = interleaved([{ key: 'esm', cmd: node, argv: [join(root, 'dist', 'main.js'), ...verifyArgs] }], { input: payload, env: cenv, cwd: tmp, runs: Math.min(runs, 20), warmup: 2 });
    if (esm.esm.cpuMean !== undefined) notes.push(`P1 ${tag}: CPU of the same call through dist/main.js (ES modules, no code cache): ${fmt(esm.esm.cpuMean)} ms; bin/gitseal (dist/fast-verify.cjs + V8 code cache): ${fmt(g.cpuMean)} ms; node -e 0: ${fmt(b.cpuMean)} ms`);
  }
  return { good, p1: { ms: g.median }, nodeBase: { ms: b.median }, node: nv };
}

/**
 * The P1 rows of `npm run bench`: the first offline-mode gitsign corpus signature (public-good,
 * the embedded root), a sandbox signature (a configured trusted root, read and parsed in full
 * on every call) when the bench harness `H` is given (it signs one payload against a sandbox
 * started for it), and the same under other Node binaries
 * (GITSEAL_BENCH_NODES, `:`-separated paths), whose code cache is their own or none.
 */
export async function benchP1(o) {
  const { root, tmp, sampleSig, samplePayload, childEnv, notes } = o;
  const sigPath = join(tmp, 'p1-sig.pem');
  writeFileSync(sigPath, sampleSig);
  const main = measureP1({ ...o, label: 'gitsign corpus', sigPath, payload: samplePayload, env: childEnv });
  if (o.H) {
    // A sandbox signature: the sandbox's own CA and logs, its trusted_root.json configured.
    let sb;
    try {
      const { startSandbox, sandboxSigner } = await import('./sandbox.mjs');
      sb = await startSandbox(root, join(tmp, 'p1-sandbox'));
      const home = join(tmp, 'p1-signer-home');
      mkdirSync(home, { recursive: true });
      const signer = await sandboxSigner(o.H, sb, 'bench@example.com', home);
      const payload = Buffer.from('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor B <bench@example.com> 1700000000 +0000\ncommitter B <bench@example.com> 1700000000 +0000\n\nP1 sandbox sample\n');
      const sp = join(tmp, 'p1-sandbox-sig.pem');
      writeFileSync(sp, await signer.sign(payload));
      signer.dispose();
      await sb.stop();
      sb = undefined;
      measureP1({ ...o, label: 'sandbox, configured trusted root', sigPath: sp, payload, env: { ...childEnv, GITSEAL_TRUSTED_ROOT: join(tmp, 'p1-sandbox', 'trusted_root.json') }, main: false });
    } catch (e) {
      notes.push(`P1 sandbox signature skipped: ${e.message}`);
    } finally {
      await sb?.stop();
    }
  }
  for (const node of (process.env.GITSEAL_BENCH_NODES ?? '').split(delimiter).filter(Boolean)) {
    if (!existsSync(node)) {
      notes.push(`P1: GITSEAL_BENCH_NODES names ${node}, which does not exist`);
      continue;
    }
    const cc = spawnSync(node, [join(root, 'bin', 'gitseal'), '--status-fd=1', '--verify', sigPath, '-'], { input: samplePayload, env: { ...childEnv, GITSEAL_DEBUG_CODE_CACHE: '1' }, cwd: tmp, encoding: 'utf8' });
    const state = /code cache [^\n]*/.exec(cc.stderr)?.[0] ?? 'code cache: no report';
    notes.push(`P1 under ${node}: ${state}`);
    measureP1({ ...o, label: 'gitsign corpus', sigPath, payload: samplePayload, env: childEnv, node, main: false });
  }
  return main;
}
