#!/usr/bin/env node
// "Any size" and the failure cache (issue 16), as whole `gitseal verify` processes:
//
// - M1: peak RSS of `gitseal verify --no-cache` over 100,000 commits against 1,000 commits of the
//   same repository (target ≤ 1.5×), and the throughput at both sizes (target: constant), with
//   the table on stdout and with --json (the whole document, parsed and counted).
// - M2: a second run over an online-mode history checked offline (every verdict TLOG_MISSING,
//   remembered by the verified-signature cache) against the first run (target: near-instant).
//
// The histories are AGENT-SHAPED: one Fulcio certificate (renewed as it expires, as the agent
// does) signs many commits, each commit with its own signature over its own payload and, for
// M1, its own Rekor entry embedded (the sandbox's Rekor, packages/sandbox). They are real and
// cryptographically valid; memo hits on the shared certificate make verification cheaper per
// commit than a unique-certificate history (that is the perf figures' job, not this one's).
// They are made once and kept in .tmp/bench-fixtures/<version>-<n>/ (ignored by git) (nothing
// is committed); delete that directory, or bump FIXTURE_VERSION, to make them again.
//
//   node scripts/bench/memory.mjs [--commits 100000] [--small 1000] [--out FILE]
//   (also imported by scripts/bench/run.mjs: benchMemory)
//
// Peak RSS: gitseal's own (RUSAGE_SELF at exit) and the whole tree's (/usr/bin/time, the rusage
// of the reaped child, git's processes included); CPU of the whole tree from the same rusage.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { makeHistory } from './fixtures.mjs';
import { startSandbox } from './sandbox.mjs';

export const FIXTURE_VERSION = 'agent-history-v1';
const EMAIL = 'bench@example.com';

/** What this module needs from gitseal's sources, bundled on the fly (not through harness.ts, which run.mjs owns). */
async function helpers(root, outDir) {
  const { build } = await import('esbuild');
  await build({
    absWorkingDir: root,
    stdin: {
      contents: [
        "export { signPayload } from './src/sign/sign-payload.js';",
        "export { obtainCredential } from './src/sign/credential.js';",
        "export { localSigner } from './src/sign/local-signer.js';",
        "export { loadConfig } from './src/config/load.js';",
        "export { toIdentityToken } from './src/oidc/get-token.js';",
        "export { parseTrustedRoot } from './src/trust/trusted-root.js';",
        "export { buildSignedAttributes, assembleSignedData } from './src/cms/build.js';",
        "export { encodePem } from './src/util/pem.js';",
      ].join('\n'),
      resolveDir: root,
      sourcefile: 'memory-helpers.ts',
      loader: 'ts',
    },
    outfile: join(outDir, 'memory-helpers.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  return import(pathToFileURL(join(outDir, 'memory-helpers.mjs')).href);
}

/** A signer that renews its certificate shortly before it expires, as the agent does. */
async function renewingSigner(H, sb, home, online) {
  const env = { ...sb.env, HOME: home, GITSEAL_AGENT: 'off' };
  const config = H.loadConfig({ cwd: home, env });
  const trust = H.parseTrustedRoot(readFileSync(sb.trustedRoot));
  let cur;
  let certs = 0;
  const fresh = async () => {
    const raw = sb.token(EMAIL);
    const tokenSource = async () => H.toIdentityToken(raw, 'bench');
    const cred = await H.obtainCredential(config, { getToken: tokenSource, trust, env, say: () => {} });
    certs++;
    return { cred, signer: H.localSigner(cred), tokenSource };
  };
  let renewing;
  const current = async () => {
    if (!cur || Date.now() > cur.cred.notAfter.getTime() - 90_000) {
      renewing ??= fresh().then((c) => {
        cur?.signer.dispose();
        cur = c;
        renewing = undefined;
      });
      await renewing;
    }
    return cur;
  };
  return {
    trust,
    get certificates() {
      return certs;
    },
    async sign(payload) {
      const c = await current();
      if (!online) return (await H.signPayload(payload, { config, signer: c.signer, tokenSource: c.tokenSource, trust, env, ui: { say: () => {} } })).pem;
      // gitsign's online mode: the same CMS with no log entry inside (its proof lives only in Rekor).
      const signedAttrs = H.buildSignedAttributes(payload, new Date());
      const { signature } = await c.signer.sign(signedAttrs);
      return Buffer.from(H.encodePem('SIGNED MESSAGE', H.assembleSignedData({ signedAttrs, signature, leaf: c.cred.chain[0] })));
    },
    dispose: () => cur?.signer.dispose(),
  };
}

/** The cached fixture for `name`, made with `make(dir)` when absent. */
async function fixture(root, name, make) {
  const dir = join(root, '.tmp', 'bench-fixtures', `${FIXTURE_VERSION}-${name}`);
  const ready = join(dir, 'ready.json');
  if (existsSync(ready)) return { dir, ...JSON.parse(readFileSync(ready, 'utf8')), reused: true };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const info = await make(dir);
  writeFileSync(ready, JSON.stringify(info));
  return { dir, ...info, reused: false };
}

/**
 * Run `gitseal verify` once under /usr/bin/time. Two peaks: gitseal's own (RUSAGE_SELF maxrss,
 * worker threads included, read by a --require hook at 'exit': a high-water mark, so teardown
 * cannot raise it) — the figure M1 is about — and the largest of the whole tree from the kernel's
 * rusage of the reaped child (wait4: maxrss of gitseal or of a git process it reaped; git
 * rev-list and cat-file map the pack and fill their delta-base cache, which grows with the
 * repository, not with what gitseal keeps). CPU (user + sys, ms) of the whole tree from the same
 * rusage, and wall ms.
 */
async function measure({ gitseal, args, env, cwd, tmp, consume }) {
  const id = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  const rep = join(tmp, `mem-${id}.txt`);
  const self = join(tmp, `self-${id}.txt`);
  const hook = join(tmp, 'mem-hook.cjs');
  writeFileSync(hook, `process.on('exit', () => require('fs').writeFileSync(process.env.GITSEAL_BENCH_SELF, String(process.resourceUsage().maxRSS)));`);
  const t0 = process.hrtime.bigint();
  const cp = spawn('/usr/bin/time', ['-f', '%M %U %S', '-o', rep, process.execPath, '--require', hook, gitseal, ...args], { cwd, env: { ...env, GITSEAL_BENCH_SELF: self }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  cp.stderr.on('data', (d) => (err += d).length > 4096 && (err = err.slice(-4096)));
  const out = consume(cp.stdout);
  const status = await new Promise((r) => cp.once('close', (c) => r(c)));
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const result = await out;
  const [treeRss, user, sys] = readFileSync(rep, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  const rssKiB = Number(readFileSync(self, 'utf8'));
  rmSync(rep, { force: true });
  rmSync(self, { force: true });
  return { status, wall, rssKiB, treeRssKiB: treeRss, cpu: (user + sys) * 1000, result, stderr: err };
}

/** Counts of the table's rows without keeping them (a ✓ starts a good row). */
function countTable(stream) {
  return new Promise((resolve) => {
    let good = 0;
    let rows = 0;
    let tail = '';
    stream.on('data', (d) => {
      const lines = (tail + d.toString('utf8')).split('\n');
      tail = lines.pop();
      for (const l of lines) {
        if (/^(✓|✗|- unsigned)/.test(l)) rows++;
        if (l.startsWith('✓')) good++;
      }
    });
    stream.on('end', () => resolve({ rows, good }));
  });
}

/** The --json document, parsed whole (it is the consumer's problem how; here: it must parse). */
function parseJson(stream) {
  return new Promise((resolve) => {
    const parts = [];
    stream.on('data', (d) => parts.push(d));
    stream.on('end', () => {
      const doc = JSON.parse(Buffer.concat(parts).toString('utf8'));
      resolve({ rows: doc.results.length, good: doc.results.filter((r) => r.ok === true).length, total: doc.total, summaryGood: doc.good });
    });
  });
}

/**
 * M1 and M2. `ctx`: { root, tmp, row(figure, value, baseline, ratio, target, pass), notes: string[], fmt, log,
 * commits?, small?, gitseal? }.
 */
export async function benchMemory(ctx) {
  const { root, tmp, row, notes, fmt, log } = ctx;
  if (!existsSync('/usr/bin/time')) throw new Error('needs /usr/bin/time (apt-get install time) for the rusage of the measured process');
  const N = ctx.commits ?? 100_000;
  const SMALL = ctx.small ?? 1_000;
  const ONLINE = ctx.online ?? 2_000;
  const gitseal = ctx.gitseal ?? join(root, 'bin/gitseal');
  const work = join(root, '.tmp', `bench-memory-${process.pid}`);
  mkdirSync(work, { recursive: true });
  let sb;
  try {
    const H = await helpers(root, work);
    const ensureSandbox = async () => {
      if (sb) return sb;
      log('memory: starting the sandbox to make the agent-shaped fixtures (once; kept in the temporary directory)');
      sb = await startSandbox(root, join(tmp, 'memory-sandbox'));
      return sb;
    };
    const make = (count, online) => async (dir) => {
      const s = await ensureSandbox();
      const home = join(tmp, `memory-signer-${online ? 'online' : 'offline'}`);
      mkdirSync(home, { recursive: true });
      const signer = await renewingSigner(H, s, home, online);
      const t0 = Date.now();
      log(`memory: signing ${count} ${online ? 'online-mode ' : ''}commits against the sandbox (agent-shaped: one certificate for many commits)`);
      await makeHistory({ dir: join(dir, 'repo'), count, chains: 16, sign: (p) => signer.sign(p) });
      signer.dispose();
      copyFileSync(s.trustedRoot, join(dir, 'trusted_root.json'));
      return { count, seconds: Math.round((Date.now() - t0) / 1000), certificates: signer.certificates };
    };
    const big = await fixture(root, `${N}`, make(N, false));
    notes.push(`memory fixture: ${N} agent-shaped commits (${big.certificates} certificates, each commit its own signature and Rekor entry)${big.reused ? ', reused from ' + big.dir : `, signed in ${big.seconds} s`}`);
    const onl = await fixture(root, `online-${ONLINE}`, make(ONLINE, true));
    notes.push(`online-mode fixture: ${ONLINE} agent-shaped gitsign online-mode commits (no proof embedded)${onl.reused ? ', reused' : `, signed in ${onl.seconds} s`}`);
    await sb?.stop();
    sb = undefined;
    if (ctx.makeOnly) return;

    const home = join(tmp, 'memory-home');
    mkdirSync(home, { recursive: true });
    const env = (trustedRoot, extra = {}) => ({ PATH: process.env.PATH, HOME: home, XDG_CACHE_HOME: join(home, 'cache'), GIT_CONFIG_NOSYSTEM: '1', LANG: 'C', GITSEAL_TRUSTED_ROOT: trustedRoot, ...extra });
    const repo = join(big.dir, 'repo');
    // The same repository at both sizes: `--all` (N signed commits and the unsigned octopus merge
    // joining the chains) against the first SMALL commits rev-list gives (the merge first).
    const run = (n, extra, consume, envExtra) =>
      measure({
        gitseal,
        args: ['verify', '--offline', '--no-cache', ...extra, ...(n === N ? ['--all'] : ['--', `--max-count=${n}`, 'main'])],
        env: env(join(big.dir, 'trusted_root.json'), envExtra),
        cwd: repo,
        tmp,
        consume,
      });
    const expected = (n) => (n === N ? { rows: N + 1, good: N } : { rows: n, good: n - 1 });
    const loads = [];
    const results = {};
    const modes = [
      ['table', [], countTable],
      ['--json', ['--json'], parseJson],
      ['--json-lines', ['--json-lines'], countJsonLines],
    ];
    // --compare-limits: the table once more at both sizes with V8's young-generation defaults (workers and this thread).
    if (ctx.compareLimits) modes.push(['table, V8 default young generations', [], countTable, { GITSEAL_WORKER_YOUNG_MB: 'none' }]);
    for (const [label, extra, consume, envExtra] of modes) {
      for (const n of [SMALL, N]) {
        loads.push(loadavg()[0].toFixed(1));
        log(`memory: gitseal verify ${extra.join(' ')} over ${n} commits${envExtra ? ' ' + JSON.stringify(envExtra) : ''}`);
        const m = await run(n, extra, consume, envExtra);
        const want = expected(n);
        if (m.result.rows !== want.rows || m.result.good !== want.good) throw new Error(`memory: verify ${label} over ${n}: ${JSON.stringify(m.result)}, want ${JSON.stringify(want)} (exit ${m.status}) ${m.stderr}`);
        results[`${label} ${n}`] = m;
      }
      const a = results[`${label} ${SMALL}`];
      const b = results[`${label} ${N}`];
      const ratio = b.rssKiB / a.rssKiB;
      row(
        `M1 peak RSS of gitseal itself, \`gitseal verify --no-cache\` ${label}, ${N} vs ${SMALL} commits (MiB; agent-shaped history)`,
        fmt(b.rssKiB / 1024),
        `${SMALL}: ${fmt(a.rssKiB / 1024)}`,
        fmt(ratio, 2) + '×',
        '≤ 1.5×',
        ratio <= 1.5,
      );
      const cpuA = a.cpu / SMALL;
      const cpuB = b.cpu / N;
      row(
        `M1 CPU per commit, ${label}, ${N} vs ${SMALL} commits (ms; agent-shaped history)`,
        fmt(cpuB, 3),
        `${SMALL}: ${fmt(cpuA, 3)}`,
        fmt(cpuB / cpuA, 2) + '×',
        '≤ 1.2× (constant)',
        cpuB / cpuA <= 1.2,
      );
      notes.push(
        `M1 ${label}: ${SMALL} commits ${fmt((SMALL / a.wall) * 1000, 0)} commits/s (wall ${fmt(a.wall, 0)} ms, CPU ${fmt(a.cpu, 0)} ms, peak RSS ${fmt(a.rssKiB / 1024)} MiB, with git's processes ${fmt(a.treeRssKiB / 1024)} MiB); ` +
          `${N} commits ${fmt((N / b.wall) * 1000, 0)} commits/s (wall ${fmt(b.wall, 0)} ms, CPU ${fmt(b.cpu, 0)} ms, peak RSS ${fmt(b.rssKiB / 1024)} MiB, with git's processes ${fmt(b.treeRssKiB / 1024)} MiB)`,
      );
    }
    if (ctx.compareLimits) {
      const w = results[`table ${N}`];
      const d = results[`table, V8 default young generations ${N}`];
      notes.push(
        `M1 young generations (src/verify/batch.ts WORKER_LIMITS and holdYoungGeneration), ${N} commits, table: held ${fmt(w.rssKiB / 1024)} MiB / ${fmt(w.cpu, 0)} ms CPU, ` +
          `V8 default ${fmt(d.rssKiB / 1024)} MiB / ${fmt(d.cpu, 0)} ms CPU (${fmt(w.rssKiB / d.rssKiB, 2)}× the RSS, ${fmt(w.cpu / d.cpu, 2)}× the CPU)`,
      );
    }
    notes.push(`M1: 1-min load average before each run ${loads.join(', ')} (wall rates suffer from neighbours; CPU per commit much less)`);

    // M2: the failure cache on an online-mode history, checked offline.
    const oEnv = env(join(onl.dir, 'trusted_root.json'));
    const oRepo = join(onl.dir, 'repo');
    const cacheDir = join(home, 'cache');
    rmSync(cacheDir, { recursive: true, force: true });
    const oRun = () => measure({ gitseal, args: ['verify', '--offline', '--json-lines', '--all'], env: oEnv, cwd: oRepo, tmp, consume: countLines });
    log(`memory: online-mode history, first run (cold cache) and second run`);
    const first = await oRun();
    const second = await oRun();
    for (const [what, m] of [['first', first], ['second', second]]) {
      if (m.result.summary?.total !== ONLINE + 1 || m.result.tlogMissing !== ONLINE) throw new Error(`memory: online-mode ${what} run: ${JSON.stringify(m.result)} ${m.stderr}`);
    }
    if (second.result.cached !== ONLINE) throw new Error(`memory: the second run answered ${second.result.cached} of ${ONLINE} from the cache`);
    if (second.result.digest !== first.result.digest) throw new Error('memory: the second run printed other verdicts than the first');
    row(
      `M2 second run vs first, ${ONLINE} online-mode commits checked offline (CPU ms; agent-shaped history)`,
      fmt(second.cpu, 0),
      `first: ${fmt(first.cpu, 0)}`,
      fmt(first.cpu / second.cpu, 1) + '× faster',
      'near-instant (≥ 5×)',
      first.cpu / second.cpu >= 5,
    );
    notes.push(
      `M2: first run wall ${fmt(first.wall, 0)} ms, second ${fmt(second.wall, 0)} ms; second run: ${second.result.cached} of ${ONLINE} TLOG_MISSING verdicts from the cache, same output as the first (load ${loadavg()[0].toFixed(1)})`,
    );
  } finally {
    await sb?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** --json-lines for M1: every line parsed, results counted, the summary's counts checked against them. */
function countJsonLines(stream) {
  return new Promise((resolve, reject) => {
    let tail = '';
    let rows = 0;
    let good = 0;
    let summary;
    stream.on('data', (d) => {
      const lines = (tail + d.toString('utf8')).split('\n');
      tail = lines.pop();
      for (const l of lines) {
        const o = JSON.parse(l);
        if (o.summary) summary = o.summary;
        else {
          rows++;
          if (o.ok === true) good++;
        }
      }
    });
    stream.on('end', () => (summary?.total === rows && summary.good === good ? resolve({ rows, good }) : reject(new Error(`--json-lines: summary ${JSON.stringify(summary)} after ${rows} rows, ${good} good`))));
  });
}

/** --json-lines: counts, the TLOG_MISSING verdicts, how many came from the cache, and a digest of the verdicts without the cached flag. */
function countLines(stream) {
  return new Promise((resolve) => {
    let tail = '';
    const r = { lines: 0, tlogMissing: 0, cached: 0, summary: undefined, digest: '' };
    let h = 0;
    stream.on('data', (d) => {
      const lines = (tail + d.toString('utf8')).split('\n');
      tail = lines.pop();
      for (const l of lines) {
        const o = JSON.parse(l);
        r.lines++;
        if (o.summary) r.summary = o.summary;
        if (o.code === 'TLOG_MISSING') r.tlogMissing++;
        if (o.cached) r.cached++;
        const { cached: _c, ...rest } = o;
        for (const ch of JSON.stringify(rest)) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
      }
    });
    stream.on('end', () => resolve({ ...r, digest: String(h) }));
  });
}

// ---------------------------------------------------------------- standalone
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
  const { values: args } = parseArgs({ options: { commits: { type: 'string' }, small: { type: 'string' }, online: { type: 'string' }, out: { type: 'string' }, 'make-only': { type: 'boolean' }, 'compare-limits': { type: 'boolean' } } });
  const tmp = mkdtempSync(join(tmpdir(), 'gitseal-bench-memory-'));
  const rows = [];
  const notes = [];
  const fmt = (x, d = 1) => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d));
  const log = (s) => process.stderr.write(s + '\n');
  const row = (figure, value, baseline, ratio, target, pass) => {
    rows.push(`| ${figure} | ${value} | ${baseline} | ${ratio} | ${target} | ${pass ? 'pass' : 'MISS'} |`);
    log(`  ${figure}: ${value} vs ${baseline} → ${ratio} (target ${target}) ${pass ? 'pass' : 'MISS'}`);
  };
  const l0 = loadavg().map((x) => x.toFixed(1)).join(' ');
  try {
    await benchMemory({ root: ROOT, tmp, row, notes, fmt, log, commits: args.commits && Number(args.commits), small: args.small && Number(args.small), online: args.online && Number(args.online), makeOnly: args['make-only'], compareLimits: args['compare-limits'] });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const md = `node ${process.version}; load average ${l0} → ${loadavg().map((x) => x.toFixed(1)).join(' ')}\n\n| figure | value | baseline (same run) | ratio | target | result |\n| --- | --- | --- | --- | --- | --- |\n${rows.join('\n')}\n\nNotes:\n${notes.map((n) => `- ${n}`).join('\n')}\n`;
  process.stdout.write(md);
  if (args.out) writeFileSync(args.out, md);
}
