/**
 * The fast entry for `gitseal verify …`: the same body as the oclif command
 * (src/cli/verify-command.ts), without oclif. Loading and configuring oclif and
 * compiling the command bundle cost ~100 ms CPU per call (measured with
 * --cpu-prof on a second, cached run over 2,000 commits: a quarter of it), which
 * a run answered from the verified-signature cache should not pay.
 *
 * scripts/build.mjs bundles this file as CommonJS into dist/fast-cli-verify.cjs
 * with a V8 code cache beside it; bin/gitseal runs it for `gitseal verify`. A
 * command line it does not take whole (src/cli/verify-argv.ts: help, unknown or
 * repeated flags, anything oclif must judge) returns undefined and goes to
 * dist/main.js, so every usage error and help text still comes from oclif.
 */
import { parseVerifyArgv } from './cli/verify-argv.js';
import { exitOnClosedStdout, report } from './cli/report.js';
import { runVerify } from './cli/verify-command.js';

/**
 * Run `gitseal verify <argv>` (argv without the command name) and resolve to its exit status,
 * or undefined when oclif must take the call.
 */
export async function runFastCliVerify(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number | undefined> {
  const parsed = parseVerifyArgv(argv, env);
  if (!parsed) return undefined;
  exitOnClosedStdout();
  try {
    return await runVerify(parsed.revs, parsed.flags, undefined, {
      cwd: process.cwd(),
      env,
      json: parsed.json,
      note: (l) => process.stderr.write(l + '\n'),
    });
  } catch (e) {
    report(e, { json: parsed.json, jsonLines: parsed.flags['json-lines'] === true, command: 'verify' });
    return typeof process.exitCode === 'number' ? process.exitCode : 1;
  }
}
