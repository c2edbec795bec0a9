// `npm run build:sea`: the single-file executable gitseal-<platform>-<arch> (gitseal-linux-x64
// here), with Node's single executable application support: a copy of the node binary running
// this script with one blob injected (postject), holding
//   - the main script, src/sea/launcher.ts bundled as CommonJS, with its V8 code cache
//     (sea.json "useCodeCache");
//   - assets: dist/fast-verify.cjs and dist/fast-sign.cjs with their code caches (made by
//     scripts/build.mjs with this same node binary, so V8 accepts them), gitseal.cjs
//     (src/sea/full.ts: every npm package bundled in, except the keyring's native addon) with
//     its own code cache, the verify worker, package.json's name, version and oclif fields, the
//     documentation (README.md, docs/*.md) for `gitseal help <topic>`, and
//     the keyring's native addon for this platform (src/sea/addon.ts writes it to a private
//     file and loads that: Node loads addons from files only).
// Beside the executable: <name>.sha256, in sha256sum's format.
//
//   node scripts/build-sea.mjs [--out DIR] [--dist DIR]
//     --out   where the executable goes (default: the repository root; both names are in .gitignore)
//     --dist  take the fast entries from this finished build instead of running scripts/build.mjs
//             (the tests use their own copy of dist/)
//
// The executable embeds the node binary it is built with (Node 20.19+ has what this needs:
// node:sea assets and the code cache). SEA facts: the main script must be one CommonJS file;
// its require() reaches built-ins only and it has no import(); native addons need process.dlopen
// from a file on disk. Without a keyring addon for the platform the token cache uses its
// encrypted file (gitseal doctor says so).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sourceDigest } from './source-digest.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({ options: { out: { type: 'string' }, dist: { type: 'string' } } });
const outDir = resolve(args.out ?? root);
const name = `gitseal-${process.platform}-${process.arch}`;
const exe = join(outDir, name);
// The sentinel Node's binary carries for SEA (the fuse postject flips).
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const t0 = Date.now();

const die = (m) => {
  process.stderr.write(`build:sea: ${m}\n`);
  process.exit(1);
};
const run = (cmd, argv, opts = {}) => {
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });
  if (r.status !== 0) die(`${[cmd, ...argv].join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr}${r.stdout}`);
  return r;
};

// 1. dist/: the fast entries and their code caches come from the regular build.
if (!args.dist) run(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
const dist = resolve(args.dist ?? join(root, 'dist'));

const work = mkdtempSync(join(tmpdir(), 'gitseal-sea-'));
try {
  const common = {
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    legalComments: 'none',
    logLevel: 'error',
    // The keyring's JavaScript loader stays out: the launcher answers require('@napi-rs/keyring')
    // with the embedded addon itself (src/sea/addon.ts).
    // oclif requires typescript (in a try) only to read a tsconfig for development runs.
    external: ['@napi-rs/keyring', 'typescript'],
    define: { 'process.env.GITSEAL_BUILD_VERSION': JSON.stringify(pkg.version), 'process.env.GITSEAL_SOURCE_DIGEST': JSON.stringify(sourceDigest(join(root, 'src'))) },
    // An executable's script has no import(): what is left of it (the keyring) becomes require().
    supported: { 'dynamic-import': false },
    metafile: true,
  };

  // 2. The main script.
  await build({ ...common, entryPoints: ['src/sea/launcher.ts'], outfile: join(work, 'launcher.cjs') });

  // 3. gitseal.cjs: one CommonJS function expression (compiled and called by the launcher with
  // its require), import.meta.url pointing at the executable.
  const full = join(work, 'gitseal.cjs');
  const r = await build({
    ...common,
    entryPoints: ['src/sea/full.ts'],
    outfile: full,
    define: { ...common.define, 'import.meta.url': '__gitseal_import_meta_url' },
    banner: { js: "(function (exports, require, module, __filename, __dirname) {\nconst __gitseal_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
    footer: { js: '})' },
  });
  for (const o of Object.values(r.metafile.outputs)) {
    for (const i of o.imports) {
      if (i.external && i.kind !== 'require-resolve' && !i.path.startsWith('node:') && !builtinModules.includes(i.path) && !common.external.includes(i.path)) die(`gitseal.cjs would load ${i.path} at run time (${i.kind})`);
    }
  }
  asciiOnly(full);

  // 4. The verify worker, run by `new Worker(code, { eval: true })`.
  const worker = join(work, 'verify-worker.cjs');
  await build({ ...common, entryPoints: ['src/verify/worker.ts'], outfile: worker });

  // 5. gitseal.cjs's code cache, from a fresh node with no flags (V8 rejects a cache made under
  // other flags), after compiling and running the bundle's top level.
  const mk = spawnSync(
    process.execPath,
    [
      '-e',
      `const fs = require('node:fs'), vm = require('node:vm');
       const f = process.argv[1];
       const s = new vm.Script(fs.readFileSync(f, 'utf8'), { filename: f });
       const mod = { exports: {} };
       s.runInThisContext().call(mod.exports, mod.exports, require, mod, process.execPath, __dirname);
       fs.writeFileSync(f + '.cache', s.createCachedData());`,
      full,
    ],
    { env: { PATH: process.env.PATH ?? '', HOME: work, LANG: 'C' }, cwd: work, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
  );
  if (mk.status !== 0) die(`the code cache of gitseal.cjs: ${mk.stderr}`);

  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: pkg.name, version: pkg.version, type: pkg.type, oclif: pkg.oclif }));
  const assets = {
    'package.json': join(work, 'package.json'),
    'fast-verify.cjs': join(dist, 'fast-verify.cjs'),
    'fast-verify.cjs.cache': join(dist, 'fast-verify.cjs.cache'),
    'fast-sign.cjs': join(dist, 'fast-sign.cjs'),
    'fast-sign.cjs.cache': join(dist, 'fast-sign.cjs.cache'),
    'gitseal.cjs': full,
    'gitseal.cjs.cache': `${full}.cache`,
    'verify-worker.cjs': worker,
  };
  // The documentation `gitseal help <topic>` prints (src/cli/topics.ts; src/sea/embedded.ts embeddedDoc).
  for (const f of ['README.md', ...readdirSync(join(root, 'docs')).filter((d) => d.endsWith('.md')).map((d) => `docs/${d}`)]) assets[`doc/${f}`] = join(root, f);
  const addon = keyringAddon();
  if (addon) {
    assets['keyring.node'] = addon;
    // Its SHA-256, so that a call checks the file on disk without hashing the embedded bytes.
    writeFileSync(join(work, 'keyring.node.sha256'), createHash('sha256').update(readFileSync(addon)).digest('hex'));
    assets['keyring.node.sha256'] = join(work, 'keyring.node.sha256');
  }
  else process.stderr.write(`build:sea: no keyring addon for ${process.platform}-${process.arch}: the executable will cache logins in the encrypted file\n`);
  for (const [k, p] of Object.entries(assets)) {
    try {
      statSync(p);
    } catch {
      die(`missing ${p} for the asset ${k}`);
    }
  }
  const blob = join(work, 'sea.blob');
  writeFileSync(
    join(work, 'sea.json'),
    JSON.stringify({ main: join(work, 'launcher.cjs'), output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, assets }, null, 2),
  );
  // No NODE_OPTIONS: the main script's code cache must match the flags the executable runs with.
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  run(process.execPath, ['--experimental-sea-config', join(work, 'sea.json')], { cwd: work, env });

  // 6. A copy of this node binary with the blob injected, then renamed into place whole.
  mkdirSync(outDir, { recursive: true });
  const tmpExe = join(outDir, `.${name}.tmp-${process.pid}`);
  copyFileSync(process.execPath, tmpExe);
  chmodSync(tmpExe, 0o755);
  const postject = join(root, 'node_modules', 'postject', 'dist', 'cli.js');
  const p = run(process.execPath, [postject, tmpExe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', FUSE], { cwd: work, env });
  // postject warns "Can't find string offset for section name '.note…'" on Node's Linux
  // binaries (harmless) and reports progress; anything else is shown.
  const noise = /Can't find string offset for section name '\.note[.\w]*'|Start injection of|Injection done|^\s*$/;
  const warnings = `${p.stderr}\n${p.stdout}`.split('\n').filter((l) => !noise.test(l.replace(/\x1b\[[0-9;]*m/g, '')));
  if (warnings.length) process.stderr.write(warnings.join('\n') + '\n');
  renameSync(tmpExe, exe);
  const sum = createHash('sha256').update(readFileSync(exe)).digest('hex');
  writeFileSync(`${exe}.sha256`, `${sum}  ${name}\n`);
  const mb = (statSync(exe).size / 1e6).toFixed(1);
  process.stdout.write(`build:sea: ${exe} (${mb} MB, Node ${process.version}, ${((Date.now() - t0) / 1000).toFixed(1)} s)\nbuild:sea: ${exe}.sha256\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** The prebuilt @napi-rs/keyring addon for this platform (its optional dependency), if installed. */
function keyringAddon() {
  try {
    const base = dirname(createRequire(join(root, 'package.json')).resolve('@napi-rs/keyring/package.json'));
    const abi = process.platform === 'linux' ? (process.report?.getReport().header.glibcVersionRuntime ? '-gnu' : '-musl') : process.platform === 'win32' ? '-msvc' : '';
    const dir = dirname(createRequire(join(base, 'package.json')).resolve(`@napi-rs/keyring-${process.platform}-${process.arch}${abi}/package.json`));
    const f = readdirSync(dir).find((x) => x.endsWith('.node'));
    return f ? join(dir, f) : undefined;
  } catch {
    return undefined;
  }
}

/** ASCII only, as scripts/build.mjs does for the fast entries: V8 decodes pure ASCII fastest. */
function asciiOnly(file) {
  const text = readFileSync(file, 'utf8');
  const ascii = text.replace(/[^\x00-\x7f]/gu, (c) => {
    const cp = c.codePointAt(0);
    return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`;
  });
  if (ascii !== text) writeFileSync(file, ascii);
}
