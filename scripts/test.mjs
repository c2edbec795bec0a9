// `npm test`: build, run vitest, and close with one plain summary line
// ("N passed, N failed, N skipped") that CI and people can read at a glance.
// Extra arguments go to vitest (e.g. `npm test -- test/verify`).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const node = process.execPath;
const run = (args, opts = {}) => spawnSync(node, args, { cwd: root, stdio: 'inherit', ...opts });

const b = run([join(root, 'scripts/build.mjs')]);
if (b.status !== 0) process.exit(b.status ?? 1);

mkdirSync(join(root, '.tmp'), { recursive: true });
const report = join(root, '.tmp', 'vitest-report.json');
rmSync(report, { force: true });
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const r = run([vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)]);

let line = 'tests: 0 passed, 0 failed';
try {
  const j = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
  line = `tests: ${j.numPassedTests} passed, ${j.numFailedTests} failed, ${skipped} skipped`;
  if (j.numTotalTests === 0) line = 'tests: 0 passed, 0 failed (no tests ran)';
} catch {
  line = 'tests: 0 passed, 1 failed (vitest wrote no report)';
}
console.log(`\nNode ${process.version}`);
console.log(line);
process.exit(r.status ?? 1);
