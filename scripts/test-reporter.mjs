// A vitest reporter for `npm test` (scripts/test.mjs): it counts what vitest's own summary does
// not, and writes the result as JSON to $GITSEAL_TEST_SUMMARY.
//   - A test file that fails to load (an import or top-level error) is one failure, with its
//     message; vitest reports it as a file with 0 tests.
//   - A test that did not run because a hook of its suite failed (beforeAll) is a failure, not a
//     skip: that is how a missing tool fails under CI (test/helpers/tools.ts).
//   - An unhandled error, or a run that was interrupted, is a failure.
//   - Each skipped test keeps its reason: `skipReason` (a missing tool), a ctx.skip(note), or
//     "skipped in the source or not selected".
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';

const where = (file, suite) => (suite.type === 'suite' ? `${file} > ${suite.fullName}` : file);
const firstLine = (e) => String(e?.message ?? e ?? 'unknown error').split('\n')[0];

export default class SummaryReporter {
  onInit(vitest) {
    this.root = vitest.config.root;
  }

  onTestRunEnd(testModules, unhandledErrors, reason) {
    const s = { passed: 0, failed: 0, skipped: 0, failures: [], skips: {} };
    const fail = (where, message) => {
      s.failed++;
      s.failures.push({ where, message });
    };
    for (const m of testModules) {
      const file = relative(this.root ?? process.cwd(), m.moduleId);
      const moduleErrors = m.errors();
      // Suites whose own hooks failed: their tests did not run. The file itself is the outermost
      // (a load error: no tests at all; a failing top-level hook: none of them ran).
      const broken = new Map();
      if (moduleErrors.length) broken.set(m, firstLine(moduleErrors[0]));
      for (const suite of m.children.allSuites()) {
        const errs = suite.errors();
        if (errs.length) broken.set(suite, firstLine(errs[0]));
      }
      const brokenAncestor = (t) => {
        for (let p = t.parent; p; p = p.type === 'suite' ? p.parent : undefined) if (broken.has(p)) return [p, broken.get(p)];
        return undefined;
      };
      const reported = new Set();
      for (const t of m.children.allTests()) {
        const r = t.result();
        if (r.state === 'passed') s.passed++;
        else if (r.state === 'failed') fail(`${file} > ${t.fullName}`, firstLine(r.errors?.[0]));
        else {
          const b = brokenAncestor(t);
          if (b !== undefined) {
            // One line per broken suite; every test in it counts.
            s.failed++;
            const key = where(file, b[0]);
            if (!reported.has(key)) {
              reported.add(key);
              s.failures.push({ where: key, message: `did not run: ${b[1]}` });
            }
            continue;
          }
          s.skipped++;
          const reasonText = t.meta().skipReason ?? (r.state === 'skipped' && r.note) ?? (t.options.mode === 'todo' ? 'todo' : 'skipped in the source or not selected');
          (s.skips[reasonText] ??= []).push(`${file} > ${t.fullName}`);
        }
      }
      // A broken suite none of whose tests was left unrun (a load error, an afterAll): one failure.
      for (const [suite, why] of broken) {
        const key = where(file, suite);
        if (!reported.has(key)) fail(key, suite === m && m.children.size === 0 ? `failed to load: ${why}` : why);
      }
    }
    for (const e of unhandledErrors) fail('unhandled error', firstLine(e));
    if (reason === 'interrupted') fail('the run', 'was interrupted');
    if (process.env.GITSEAL_TEST_SUMMARY) writeFileSync(process.env.GITSEAL_TEST_SUMMARY, JSON.stringify(s, null, 2));
  }
}
