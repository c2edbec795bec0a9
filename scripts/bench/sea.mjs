// P1 for the single-file executable (npm run build:sea): the same `--verify` call as bin/gitseal's,
// against `node -e 0` measured in the same run. The executable is built fresh into the bench's
// temporary directory from the dist/ just built, so the figure is for this checkout.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * @param {object} o
 * @param {string} o.root repository root
 * @param {string} o.tmp the bench's temporary directory
 * @param {string[]} o.verifyArgs gitseal's arguments for the call (`--status-fd=1 --verify SIG -`)
 * @param {Buffer} o.payload stdin of the call
 * @param {NodeJS.ProcessEnv} o.env child environment
 * @param {{ ms: number }} o.nodeBase wall time of `node -e 0` in this run
 * @param {number | undefined} o.nodeRss peak RSS (KiB) of `node -e 0`
 * @param {number} o.runs process runs per figure
 */
export function benchSea({ root, tmp, verifyArgs, payload, env, nodeBase, nodeRss, runs, timeProcess, peakRss, row, notes, fmt, median, log }) {
  const out = join(tmp, 'sea');
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build-sea.mjs'), '--out', out, '--dist', join(root, 'dist')], { cwd: root, encoding: 'utf8' });
  const exe = join(out, `gitseal-${process.platform}-${process.arch}`);
  if (b.status !== 0 || !existsSync(exe)) {
    notes.push(`P1 executable: build:sea failed: ${(b.stderr || b.stdout).trim().split('\n').pop()}`);
    return;
  }
  log(`P1: the single-file executable (${exe})`);
  const probe = spawnSync(exe, verifyArgs, { input: payload, env, cwd: tmp });
  const good = probe.status === 0 && /\n\[GNUPG:\] GOODSIG /.test('\n' + probe.stdout.toString());
  if (!good) notes.push(`P1 executable: --verify did not report GOODSIG (exit ${probe.status}): ${probe.stderr.toString().trim().split('\n')[0] ?? ''}`);
  const wall = timeProcess(exe, verifyArgs, { input: payload, env });
  row('P1 wall, executable `--verify` (ms)', fmt(wall.ms), `node -e 0: ${fmt(nodeBase.ms)}`, fmt(wall.ms / nodeBase.ms, 2) + '×', '≤ 1.3×', good && wall.ms / nodeBase.ms <= 1.3);
  // CPU the same way for both: a --require hook (NODE_OPTIONS, which the executable honours)
  // reports process.cpuUsage() at exit.
  const hook = join(tmp, 'sea-cpu-hook.cjs');
  const rep = join(tmp, 'sea-cpu.txt');
  writeFileSync(hook, `process.on('exit', () => { const c = process.cpuUsage(); require('fs').writeFileSync(${JSON.stringify(rep)}, String((c.user + c.system) / 1000)); });`);
  const cpu = (cmd, argv, input) => {
    const xs = [];
    for (let i = 0; i < runs; i++) {
      spawnSync(cmd, argv, { input, env: { ...env, NODE_OPTIONS: `--require ${hook}` }, cwd: tmp });
      xs.push(Number(spawnSync('cat', [rep], { encoding: 'utf8' }).stdout));
    }
    return median(xs);
  };
  const cpuBase = cpu(process.execPath, ['-e', '0']);
  const cpuExe = cpu(exe, verifyArgs, payload);
  row('P1 CPU, executable `--verify` (ms, user+sys)', fmt(cpuExe), `node -e 0: ${fmt(cpuBase)}`, fmt(cpuExe / cpuBase, 2) + '×', '≤ 1.3× (wall)', good && cpuExe / cpuBase <= 1.3);
  const rss = peakRss(exe, verifyArgs, { input: payload, env });
  if (rss !== undefined && nodeRss !== undefined) {
    row('P1 peak RSS, executable (MiB)', fmt(rss / 1024), `node -e 0: ${fmt(nodeRss / 1024)}`, fmt(rss / nodeRss, 2) + '×', '≤ 1.5×', good && rss / nodeRss <= 1.5);
  }
  notes.push(`P1 executable: ${exe.split('/').pop()} built by build:sea with Node ${process.version} (its own copy of this node binary; the fast-verify bundle and V8 code cache inside)`);
}
