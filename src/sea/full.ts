/**
 * Everything the single-file executable runs that its fast entries do not (the executable's
 * `gitseal.cjs` asset, scripts/build-sea.mjs): git's signing and verify calls when the fast
 * entry steps aside, every command for people, and the signing agent. The same modules as
 * dist/main.js, bundled as one CommonJS script with every npm package inside; the keyring's
 * native addon comes from a file written from the executable's own bytes (addon.ts).
 */
import { isGpgInvocation } from '../gpg/detect.js';
import { loadEmbeddedKeyring } from './addon.js';
import { EMBEDDED_AGENT_ARG } from './embedded.js';

/** A package this bundle cannot hold as JavaScript (src/sea/launcher.ts asks for it), else undefined. */
export function embeddedModule(id: string): unknown {
  return id === '@napi-rs/keyring' ? loadEmbeddedKeyring() : undefined;
}

type Cli = typeof import('../cli/run.js');
let cli: Cli | undefined;

/** The command table oclif loads from package.json's explicit target (see embeddedRoot()). */
export function embeddedCommands(): Cli['commands'] {
  if (!cli) throw new Error('the command line is not loaded');
  return cli.commands;
}

/** Run one invocation; `payload` is git's stdin when a fast entry already read it. */
export async function runEmbedded(argv: string[], payload?: Buffer): Promise<void> {
  if (argv[0] === EMBEDDED_AGENT_ARG && argv.length === 1) {
    await import('../agent/main.js');
    return;
  }
  if (isGpgInvocation(argv)) {
    const { runGpg } = await import('../gpg/run.js');
    if (payload === undefined) {
      process.exitCode = await runGpg(argv);
      return;
    }
    // As bin/gitseal: whatever reads stdin from here on gets the payload the fast entry read.
    const stdin = { async *[Symbol.asyncIterator]() { yield payload; } };
    Object.defineProperty(process, 'stdin', { value: stdin, configurable: true, enumerable: true, writable: true });
    process.exitCode = await runGpg(argv, { stdin });
    return;
  }
  cli = await import('../cli/run.js');
  await cli.runCli(argv);
}
