/**
 * The main script of the single-file executable (scripts/build-sea.mjs), what bin/gitseal is for
 * the npm package: git's `--verify` calls run the embedded fast-verify.cjs and its signing calls
 * fast-sign.cjs, each compiled with the V8 code cache made at build time by the same Node binary
 * the executable is a copy of; everything else, and a fast entry that steps aside, runs the
 * embedded gitseal.cjs (src/sea/full.ts). Node's SEA `require` reaches built-ins only, which is
 * all these bundles load; gitseal.cjs also gets oclif's command target and the keyring addon
 * through the require it is given here.
 */
import { getAsset } from 'node:sea';
import { isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { EMBEDDED_AGENT_ARG, embeddedRoot } from './embedded.js';

type Exports = Record<string, unknown>;
const argv = process.argv.slice(2);
const exe = process.execPath;
const dir = dirname(exe);

function text(name: string): string | undefined {
  try {
    return getAsset(name, 'utf8');
  } catch {
    return undefined;
  }
}

function cache(name: string): Buffer | undefined {
  try {
    return Buffer.from(getAsset(`${name}.cache`));
  } catch {
    return undefined; // V8 compiles without it, only slower
  }
}

/** Compile and run one embedded bundle (a CommonJS function expression) with its code cache. */
function load(name: string, req: (id: string) => unknown): Exports {
  const code = text(name);
  if (code === undefined) throw new Error(`this executable is incomplete: ${name} is missing`);
  const wrapper = new Script(code, { filename: join(dir, name), cachedData: cache(name) }).runInThisContext() as (...a: unknown[]) => void;
  const mod = { exports: {} as Exports };
  wrapper.call(mod.exports, mod.exports, req, mod, exe, dir);
  return mod.exports;
}

function loadFast(name: string, exportName: string): ((a: string[]) => Promise<unknown>) | undefined {
  try {
    const f = load(name, require)[exportName];
    return typeof f === 'function' ? (f as (a: string[]) => Promise<unknown>) : undefined;
  } catch {
    return undefined;
  }
}

let full: Exports | undefined;

/**
 * `require` for gitseal.cjs: built-ins, plus the command table under the path oclif resolves
 * package.json's explicit target to (`<embeddedRoot>/dist/cli/run.js`). The name resolves to a
 * `.cjs` path so that oclif loads it with require, never with import() (which an executable's
 * script does not have).
 */
function fullRequire(): NodeJS.Require {
  const target = join(embeddedRoot(), 'dist', 'cli', 'run.js');
  const virtual = join(embeddedRoot(), 'dist', 'cli', 'run.cjs');
  // The keyring's native addon comes from gitseal.cjs (src/sea/addon.ts); anything else is not
  // found, as in a package without it (Node's own SEA require would also print a warning).
  const notFound = (id: string) => Object.assign(new Error(`Cannot find module '${id}' (this executable loads no modules from disk)`), { code: 'MODULE_NOT_FOUND' });
  const req = ((id: string) => {
    if (id === virtual) return { commands: (full!.embeddedCommands as () => unknown)() };
    if (isBuiltin(id)) return require(id);
    const m = full ? (full.embeddedModule as (id: string) => unknown)(id) : undefined;
    if (m !== undefined) return m;
    throw notFound(id);
  }) as NodeJS.Require;
  const resolve = ((id: string) => {
    if (id === target || id === virtual) return virtual;
    if (isBuiltin(id)) return id;
    throw notFound(id);
  }) as NodeJS.RequireResolve;
  req.resolve = resolve;
  return req;
}

function runFull(payload?: Buffer): Promise<void> {
  full ??= load('gitseal.cjs', fullRequire());
  return (full.runEmbedded as (a: string[], p?: Buffer) => Promise<void>)(argv, payload);
}

function fail(e: unknown): void {
  const m = e instanceof Error ? e.message : String(e);
  process.stderr.write(`gitseal: ${m.split('\n')[0]}\n`);
  process.exitCode = 1;
}

const isGpg = argv.length > 0 && argv[0]!.startsWith('-') && argv[0] !== EMBEDDED_AGENT_ARG;
const fast = !isGpg ? undefined : argv.includes('--verify') ? loadFast('fast-verify.cjs', 'runFastVerify') : loadFast('fast-sign.cjs', 'runFastSign');
if (fast) {
  fast(argv)
    .then((out) => {
      if (out === undefined) return runFull();
      if (typeof out === 'object' && out !== null) return runFull((out as { fallback: Buffer }).fallback);
      // Everything was written synchronously: exit now (as bin/gitseal does).
      process.exit(out as number);
    }, fail)
    .catch(fail);
} else {
  try {
    runFull().catch(fail);
  } catch (e) {
    fail(e);
  }
}
