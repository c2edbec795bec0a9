/**
 * The one entry point behind bin/gitseal. Git calls it gpg-style
 * (`--status-fd=2 -bsau KEY` to sign, `--status-fd=1 --verify FILE -` to
 * verify) once per signature, so that path loads only what it needs; every
 * other invocation goes to the human command line (oclif), loaded lazily.
 * scripts/build.mjs bundles the gpg verify path into this one file (dist/main.js).
 */
import { isGpgInvocation } from './gpg/detect.js';

const argv = process.argv.slice(2);
if (isGpgInvocation(argv)) {
  const { runGpg } = await import('./gpg/run.js');
  process.exitCode = await runGpg(argv);
} else {
  const { runCli } = await import('./cli/run.js');
  await runCli(argv);
}
