// `npm test`: build, type-check src/, test/ and the workspace packages (tsc), run vitest, and close with one plain
// summary line ("tests: N passed, N failed, N skipped") that CI and people can read at a glance.
// Extra arguments go to vitest (e.g. `npm test -- test/verify`).
//
// What the line counts comes from scripts/test-reporter.mjs: a file that fails to load, a suite
// whose set-up failed and an unhandled error are failures; a failed type check is one more.
// Before the line: every failure, and every skip grouped by its reason (a missing tool, see
// test/helpers/tools.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const node = process.execPath;
const run = (args, opts = {}) => spawnSync(node, args, { cwd: root, stdio: 'inherit', ...opts });

const b = run([join(root, 'scripts/build.mjs')]);
if (b.status !== 0) process.exit(b.status ?? 1);

// The type check (src/ and test/, and each workspace package): errors print here, before the tests.
const projects = ['tsconfig.json', ...(existsSync(join(root, 'packages')) ? readdirSync(join(root, 'packages')).map((p) => join('packages', p, 'tsconfig.json')) : [])].filter((p) =>
  existsSync(join(root, p)),
);
const tscFailed = [];
let tscErrors = 0;
for (const p of projects) {
  const tsc = run([join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, p), '--noEmit'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  process.stdout.write(tsc.stdout ?? '');
  tscErrors += (tsc.stdout?.match(/error TS\d+/g) ?? []).length;
  if (tsc.status !== 0) tscFailed.push(p);
}

mkdirSync(join(root, '.tmp'), { recursive: true });
const summary = join(root, '.tmp', `test-summary-${process.pid}.json`);
rmSync(summary, { force: true });
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const r = run([vitest, 'run', '--reporter=default', `--reporter=${join(root, 'scripts', 'test-reporter.mjs')}`, ...process.argv.slice(2)], {
  env: { ...process.env, GITSEAL_TEST_SUMMARY: summary },
});

let s;
try {
  s = JSON.parse(readFileSync(summary, 'utf8'));
} catch {
  s = { passed: 0, failed: 1, skipped: 0, failures: [{ where: 'vitest', message: `wrote no summary (exit ${r.status ?? r.signal})` }], skips: {} };
}
rmSync(summary, { force: true });
if (tscFailed.length) {
  s.failed++;
  s.failures.unshift({ where: `type check (tsc -p ${tscFailed.join(', ')})`, message: `${tscErrors || 'some'} error${tscErrors === 1 ? '' : 's'} (printed above)` });
}
// vitest failed for a reason nothing above counted (a config error, a crash): still a failure.
if (r.status !== 0 && s.failed === 0) {
  s.failed++;
  s.failures.push({ where: 'vitest', message: `exited with ${r.status ?? r.signal}` });
}

const out = [];
const skipReasons = Object.entries(s.skips);
if (skipReasons.length) {
  out.push('', 'Skipped:');
  for (const [why, tests] of skipReasons) {
    out.push(`  ${tests.length} test${tests.length === 1 ? '' : 's'}: ${why}`);
    for (const t of tests.slice(0, 5)) out.push(`    ${t}`);
    if (tests.length > 5) out.push(`    … and ${tests.length - 5} more`);
  }
}
if (s.failures.length) {
  out.push('', 'Failed:');
  for (const f of s.failures) out.push(`  ${f.where}: ${f.message}`);
}
out.push('', `Node ${process.version}`);
const total = s.passed + s.failed + s.skipped;
out.push(`tests: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped${total === 0 ? ' (no tests ran)' : ''}`);
console.log(out.join('\n'));
process.exit(s.failed > 0 ? 1 : r.status === 0 ? 0 : 1);
