// Bundles src/ into dist/ with esbuild (ESM, packages external), in two builds:
//
// 1. dist/main.js, the entry git spawns once per signature, as ONE file holding
//    the gpg-style verify path (gpg/, verify/, trust/, config/, x509/, util/…).
//    Node's ESM loader pays per file: the same code spread over the ~18 chunks
//    of a split build costs ~25% more CPU per `--verify` call (measured with
//    scripts/bench, see the issue "Speed"). What main.js loads only on other
//    paths (the oclif CLI, signing, OIDC, Rekor search) stays external and comes
//    from build 2, as does src/errors.ts, so GitsealError is one class for both.
//    The hot path must stay free of npm packages: only node: built-ins and our code.
// 2. Everything else, code-split: the CLI, sandbox, agent, library, verify worker,
//    and the lazily loaded modules of build 1 as entries with stable names.
import { build } from 'esbuild';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative, resolve } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// GITSEAL_OUTDIR: build elsewhere (tests check the bundle without touching dist/).
const outdir = process.env.GITSEAL_OUTDIR ?? 'dist';
const src = join(root, 'src');
const candidates = ['src/cli/run.ts', 'src/sandbox/main.ts', 'src/agent/main.ts', 'src/lib.ts', 'src/verify/worker.ts'];

const common = {
  absWorkingDir: root,
  outbase: 'src',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  define: { 'process.env.GITSEAL_BUILD_VERSION': JSON.stringify(process.env.npm_package_version ?? '0.0.0') },
};

// Modules inlined into dist/main.js when imported dynamically; other dynamic imports stay lazy.
const HOT = /[/\\]src[/\\](gpg|verify|trust|config|util|x509|git)[/\\]|[/\\]src[/\\]cms[/\\]parse\.ts$|[/\\]src[/\\]rekor[/\\](tle|body)\.ts$/;
const ERRORS = join(src, 'errors.ts');
const lazy = new Set();

const hotPath = {
  name: 'gitseal-hot-path',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, async (a) => {
      if (a.pluginData?.inner) return undefined;
      const r = await b.resolve(a.path, { kind: a.kind, resolveDir: a.resolveDir, importer: a.importer, pluginData: { inner: true } });
      if (r.errors.length > 0 || !r.path.startsWith(src)) return r.errors.length > 0 ? { errors: r.errors } : undefined;
      if (r.path === ERRORS || (a.kind === 'dynamic-import' && !HOT.test(r.path))) {
        lazy.add(relative(root, r.path));
        // Emitted verbatim; dist/main.js sits at the root of dist/.
        return { path: './' + relative(src, r.path).replace(/\\/g, '/').replace(/\.ts$/, '.js'), external: true };
      }
      return undefined;
    });
  },
};

// Build into a fresh folder and swap it in whole, so processes running from
// dist/ (a sandbox, a test's child process) never see a half-written tree.
const finalDir = resolve(root, outdir);
const tmpDir = `${finalDir}.tmp-${process.pid}`;
rmSync(tmpDir, { recursive: true, force: true });
await build({ ...common, entryPoints: ['src/main.ts'], outdir: tmpDir, splitting: false, plugins: [hotPath] });
const entryPoints = [...new Set([...candidates.filter((f) => existsSync(join(root, f))), ...lazy])];
await build({ ...common, entryPoints, outdir: tmpDir, splitting: true });
const oldDir = `${finalDir}.old-${process.pid}`;
if (existsSync(finalDir)) renameSync(finalDir, oldDir);
renameSync(tmpDir, finalDir);
rmSync(oldDir, { recursive: true, force: true });
