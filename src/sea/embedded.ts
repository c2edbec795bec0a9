/**
 * The single-file executable (`npm run build:sea`, scripts/build-sea.mjs): whether this process
 * is one, and the files embedded in it. Node's SEA support gives the executable one CommonJS
 * script whose `require` reaches only built-ins; everything else it needs (the bundles, their
 * V8 code caches, the verify worker, package.json) travels as SEA assets read here.
 *
 * node:sea is a built-in and tiny; it is loaded only where a path would otherwise be looked up
 * beside the installed package (the program git runs, the agent, the verify worker, oclif's
 * root), never on git's verify path.
 */
import { dirname, join } from 'node:path';

interface SeaModule {
  isSea(): boolean;
  getAsset(key: string): ArrayBuffer;
  getAsset(key: string, encoding: string): string;
}

let sea: SeaModule | null | undefined;

function seaModule(): SeaModule | undefined {
  if (sea === undefined) {
    try {
      const m = process.getBuiltinModule('node:sea') as SeaModule | undefined;
      sea = m && m.isSea() ? m : null;
    } catch {
      sea = null; // a Node without node:sea runs no executable
    }
  }
  return sea ?? undefined;
}

/** True inside the single-file executable. */
export function isEmbedded(): boolean {
  return seaModule() !== undefined;
}

/** An embedded text file (UTF-8). */
export function embeddedText(name: string): string {
  const s = seaModule();
  if (!s) throw new Error(`not a gitseal executable: no embedded ${name}`);
  return s.getAsset(name, 'utf8');
}

/** An embedded binary file, or undefined when the executable has none by that name. */
export function embeddedBytes(name: string): Buffer | undefined {
  const s = seaModule();
  if (!s) return undefined;
  try {
    return Buffer.from(s.getAsset(name));
  } catch {
    return undefined;
  }
}

/** The asset name of a documentation file of the package (README.md, docs/*.md), for `gitseal help <topic>`. */
export function embeddedDoc(file: string): string {
  return `doc/${file}`;
}

/** The argument with which the executable runs as the signing agent (src/agent/main.ts). */
export const EMBEDDED_AGENT_ARG = '--gitseal-embedded-agent';

/** The verify worker bundled for `new Worker(code, { eval: true })`. */
export const EMBEDDED_WORKER = 'verify-worker.cjs';

/**
 * oclif's root inside the executable: a directory that does not exist (oclif finds no manifest
 * there), and under which the explicit command target (package.json `oclif.commands.target`)
 * resolves to the command table the executable serves itself (scripts/build-sea.mjs).
 */
export function embeddedRoot(): string {
  return join(dirname(process.execPath), '.gitseal-embedded');
}

/** The embedded package.json: name, version and the oclif settings. */
export function embeddedPackageJson(): { name: string; version: string; oclif: Record<string, unknown> } & Record<string, unknown> {
  return JSON.parse(embeddedText('package.json')) as { name: string; version: string; oclif: Record<string, unknown> };
}
