// `npm run docs`: regenerate the documentation that comes from test runs, explicitly (a test run
// itself changes no tracked file). Today: the table of service faults in docs/reliability.md,
// from a run of test/reliability/faults.test.ts against the sandbox (about a minute), whose last
// test then checks, in every `npm test`, that the committed table is still what a run produces.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withTable } from './docs/faults-table.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
if (b.status !== 0) process.exit(b.status ?? 1);

const tmp = mkdtempSync(join(tmpdir(), 'gitseal-docs-'));
try {
  const out = join(tmp, 'faults.md');
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/reliability/faults.test.ts'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, GITSEAL_DOCS_OUT: out },
  });
  if (r.status !== 0) {
    process.stderr.write('docs: test/reliability/faults.test.ts failed; docs/reliability.md left as it was\n');
    process.exit(1);
  }
  const path = join(root, 'docs', 'reliability.md');
  const before = readFileSync(path, 'utf8');
  const after = withTable(before, readFileSync(out, 'utf8'));
  if (after !== before) writeFileSync(path, after);
  process.stdout.write(`docs: docs/reliability.md ${after === before ? 'already current' : 'updated'}\n`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
