/**
 * The home directory: $HOME, else the account's (os.homedir()). node:os is
 * loaded only for that fallback: git's per-signature `--verify` call would
 * otherwise load and initialise it every time (~1.5 M instructions) for a
 * value $HOME nearly always gives.
 */
export function homeDir(env: NodeJS.ProcessEnv): string {
  return env.HOME || process.getBuiltinModule('node:os').homedir();
}
