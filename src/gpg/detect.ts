/**
 * Does argv look like git (or a gpg-style caller) rather than a person?
 * Git's calls: `--status-fd=2 -bsau KEY` and `--status-fd=1 --verify FILE -`.
 * Subcommands (`verify`, `show`, ...) never start with a dash.
 */
export function isGpgInvocation(argv: string[]): boolean {
  if (argv.length === 0 || !argv[0].startsWith('-')) return false;
  for (const a of argv) {
    if (a === '--') break;
    if (a.startsWith('--status-fd') || a === '--verify' || a === '--sign' || a === '--detach-sign' || a === '--detached-sign') return true;
    // combined short flags such as -bsau, -sb, -v is --verify in gitsign's parser
    if (/^-[a-zA-Z]{1,8}$/.test(a) && /[bsv]/.test(a)) return true;
  }
  return false;
}
