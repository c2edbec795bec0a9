/**
 * `npm run demo` (scripts/demo.sh, on the built dist/) ends with git's own verdict G for the
 * signed commit: the signer is allowed by the policy `gitseal init --signer` wrote, not just
 * "some Fulcio identity" (U). The script checks it too and fails otherwise.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cleanEnv, ROOT } from '../cli/helpers.js';

it('the demo signs, verifies, and git reports a policy-verified G', () => {
  const env = cleanEnv(join(ROOT, 'nonexistent-home'));
  delete env.GITSEAL_AGENT_SOCK;
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'demo.sh')], { cwd: ROOT, env, encoding: 'utf8', timeout: 240_000 });
  expect(r.status, r.stdout + r.stderr).toBe(0);
  expect(r.stdout).toContain('gitseal: policy matched: allowed signers: demo@example.test');
  expect(r.stdout).toMatch(/^ {4}G demo@example\.test {2}A signed commit$/m);
  expect(r.stdout).toContain('git trusts the signer (G)');
  expect(r.stdout + r.stderr).not.toMatch(/WARNING: no signer policy/);
}, 300_000);
