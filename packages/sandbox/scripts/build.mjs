// Bundles the sandbox (packages/sandbox/src) into packages/sandbox/dist with esbuild: ESM,
// code-split, npm packages external (oidc-provider, jose, pkijs, asn1js: this package's
// dependencies). The gitseal modules it shares (src/gitseal/: DER, PEM, canonical JSON,
// GitsealError, the certificate parser, and what they import: SHARED below) are bundled in, so
// the published gitseal-sandbox does not depend on gitseal, and gitseal's internals are not its
// public API (docs/architecture.md).
//
// Entries: dist/main.js (bin/gitseal-sandbox) and dist/index.js (the library: startSandbox,
// mintIdToken, …). The root build (scripts/build.mjs) runs this after building gitseal;
// `npm pack` adds dist/types (tsc -p tsconfig.types.json).
// GITSEAL_SANDBOX_OUTDIR: build elsewhere (a test checks the bundle without touching dist/).
import { build } from 'esbuild';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const repo = resolve(pkg, '..', '..');
const finalDir = resolve(pkg, process.env.GITSEAL_SANDBOX_OUTDIR ?? 'dist');
const tmpDir = `${finalDir}.tmp-${process.pid}`;
const seam = join(pkg, 'src', 'gitseal') + sep;
const gitsealSrc = join(repo, 'src') + sep;

// Only the seam may reach into gitseal's src/, and only the modules it names: anything else
// would quietly grow what the sandbox copies of gitseal.
const SHARED = new Set(['errors.ts', 'util/der.ts', 'util/bytes-cache.ts', 'util/pem.ts', 'util/canonical-json.ts', 'x509/certificate.ts', 'x509/names.ts', 'x509/oids.ts']);
const seamOnly = {
  name: 'gitseal-sandbox-seam',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, async (a) => {
      if (a.pluginData?.inner) return undefined;
      const r = await b.resolve(a.path, { kind: a.kind, resolveDir: a.resolveDir, importer: a.importer, pluginData: { inner: true } });
      if (r.errors.length > 0 || !r.path.startsWith(gitsealSrc)) return r.errors.length > 0 ? { errors: r.errors } : undefined;
      const name = relative(gitsealSrc, r.path).split(sep).join('/');
      if (!(a.importer.startsWith(seam) || a.importer.startsWith(gitsealSrc)) || !SHARED.has(name)) {
        return { errors: [{ text: `the sandbox imports gitseal's src/${name} from ${relative(repo, a.importer)}: only src/gitseal/ may, and only ${[...SHARED].join(', ')}` }] };
      }
      return undefined;
    });
  },
};

rmSync(tmpDir, { recursive: true, force: true });
// esbuild has printed what failed; its exception would only repeat it as a stack.
const failed = () => {
  rmSync(tmpDir, { recursive: true, force: true });
  process.exit(1);
};
await build({
  absWorkingDir: pkg,
  entryPoints: ['src/main.ts', 'src/index.ts'],
  outdir: tmpDir,
  outbase: 'src',
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [seamOnly],
}).catch(failed);
// Swap in whole: a running sandbox (tests, the demo) never sees a half-written tree.
const oldDir = `${finalDir}.old-${process.pid}`;
if (existsSync(finalDir)) renameSync(finalDir, oldDir);
renameSync(tmpDir, finalDir);
rmSync(oldDir, { recursive: true, force: true });
