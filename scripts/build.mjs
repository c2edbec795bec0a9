// Bundles src/ into dist/ with esbuild (ESM, code splitting, packages external).
// The gpg-style entry (dist/main.js) must stay free of npm packages: git spawns
// it once per signature, so only node: built-ins and our own code load there.
import { build } from 'esbuild';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const candidates = ['src/main.ts', 'src/cli/run.ts', 'src/sandbox/main.ts', 'src/agent/main.ts', 'src/lib.ts', 'src/verify/worker.ts'];
const entryPoints = candidates.filter((f) => existsSync(join(root, f)));

rmSync(join(root, 'dist'), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints,
  outdir: 'dist',
  outbase: 'src',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  define: { 'process.env.GITSEAL_BUILD_VERSION': JSON.stringify(process.env.npm_package_version ?? '0.0.0') },
});
