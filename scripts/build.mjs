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
// 2. Everything else, code-split: the CLI, agent, library, verify worker,
//    and the lazily loaded modules of build 1 as entries with stable names.
// 3. dist/fast-verify.cjs: the same verify path (src/main-fast-verify.ts) as one
//    CommonJS function expression, plus dist/fast-verify.cjs.cache, the V8 code
//    cache of exactly that text. bin/gitseal compiles it with node:vm and the
//    cache for git's `--verify` calls: no ESM loader, and V8 deserializes
//    instead of parsing and compiling (~20 ms less CPU per call; see
//    scripts/bench/latest.md). A cache V8 rejects (another Node) only costs time.
//    The Rekor search client is inlined too: verify is online by default and
//    loads it on every call.
// 4. dist/fast-sign.cjs (+ .cache): the signing call with a running agent
//    (src/main-fast-sign.ts), the same way. When it steps aside after reading
//    stdin, bin/gitseal hands the payload to dist/gpg/run.js (an entry of build 2).
// 5. dist/man/gitseal.1, the manual page (package.json `man`), rendered from the command
//    catalogue by src/cli/man.ts: the commands' own metadata, so it cannot drift from --help.
// 6. dist/vendor/sigstore-tuf.mjs: @sigstore/tuf with its dependencies (tuf-js and an HTTP stack of
//    ~45 packages, ~11 MB installed) as one file, with their licences beside it. Only
//    `gitseal initialize` and a TUF refresh load it, so it need not cost every installer a
//    package tree: the built code imports it as `#sigstore-tuf` (package.json "imports");
//    sources and tests use the @sigstore/tuf devDependency itself.
// 7. Then the sandbox, its own package, into packages/sandbox/dist (see the end).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative, resolve } from 'node:path';
import { sourceDigest } from './source-digest.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// GITSEAL_OUTDIR: build elsewhere (tests check the bundle without touching dist/).
const outdir = process.env.GITSEAL_OUTDIR ?? 'dist';
const src = join(root, 'src');
const candidates = ['src/cli/run.ts', 'src/agent/main.ts', 'src/lib.ts', 'src/verify/worker.ts', 'src/sign/sign-payload.ts', 'src/sign/agent-signer.ts', 'src/sign/credential.ts', 'src/sign/local-signer.ts', 'src/oidc/get-token.ts', 'src/gpg/run.ts'];
// (the signing modules are entries of their own too: dist/fast-verify.cjs names them behind import(), and the agent loads them)

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
  define: {
    'process.env.GITSEAL_BUILD_VERSION': JSON.stringify(process.env.npm_package_version ?? '0.0.0'),
    // Which code this is (scripts/source-digest.mjs): the verified-signature cache keys on it.
    'process.env.GITSEAL_SOURCE_DIGEST': JSON.stringify(sourceDigest(src)),
  },
};

// Modules inlined into dist/main.js when imported dynamically; other dynamic imports stay lazy.
// git's --verify calls run dist/fast-verify.cjs, so main.js is mostly the signing entry: the
// signing path is inlined too (one file instead of ~14 chunks: about -21 ms CPU per signature).
const HOT = /[/\\]src[/\\](gpg|verify|trust|config|util|x509|git|sign|fulcio|tsa)[/\\]|[/\\]src[/\\]cms[/\\](parse|build)\.ts$|[/\\]src[/\\]rekor[/\\](tle|body|client-v1|client-v2)\.ts$|[/\\]src[/\\]agent[/\\](client|protocol|paths|socket-probe)\.ts$|[/\\]src[/\\]oidc[/\\](get-token|jwt|github-actions|buildkite|token-file|terminal)\.ts$/;
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

// Bundled dependencies (step 6): the built code names them by their package.json "imports" key.
const VENDORED = { '@sigstore/tuf': '#sigstore-tuf' };
const vendored = {
  name: 'gitseal-vendored',
  setup(b) {
    b.onResolve({ filter: /^@sigstore\/tuf$/ }, (a) => ({ path: VENDORED[a.path], external: true }));
  },
};

// Build into a fresh folder and swap it in whole, so processes running from
// dist/ (a sandbox, a test's child process) never see a half-written tree.
const finalDir = resolve(root, outdir);
const tmpDir = `${finalDir}.tmp-${process.pid}`;
rmSync(tmpDir, { recursive: true, force: true });
await build({ ...common, entryPoints: ['src/main.ts'], outdir: tmpDir, splitting: false, plugins: [hotPath, vendored] });
const entryPoints = [...new Set([...candidates.filter((f) => existsSync(join(root, f))), ...lazy])];
await build({ ...common, entryPoints, outdir: tmpDir, splitting: true, plugins: [vendored] });
await buildVendoredTuf();
await buildFastVerify();
await buildFastCliVerify();
await buildFastSign();
await buildManPage();
const oldDir = `${finalDir}.old-${process.pid}`;
if (existsSync(finalDir)) renameSync(finalDir, oldDir);
renameSync(tmpDir, finalDir);
rmSync(oldDir, { recursive: true, force: true });

// 7. The sandbox, its own package (packages/sandbox, published as gitseal-sandbox), into
// packages/sandbox/dist: the demo and the tests run it from a clone. A private build of gitseal
// alone (GITSEAL_OUTDIR) leaves it be.
if (process.env.GITSEAL_OUTDIR === undefined) {
  const sb = spawnSync(process.execPath, [join(root, 'packages', 'sandbox', 'scripts', 'build.mjs')], { stdio: 'inherit' });
  // esbuild has printed what failed; a stack here would only repeat it.
  if (sb.status !== 0) {
    console.error(`build: the sandbox build failed (exit ${sb.status})`);
    process.exit(1);
  }
}

/**
 * One fast entry: `entry` bundled as ONE CommonJS function expression into dist/<name>.cjs, with
 * the V8 code cache of exactly that text beside it. `inline` says which dynamically imported
 * modules are inlined; every other import() stays external (it fails closed inside node:vm, so
 * the entry must never reach one). `train` is code run in a fresh node against the loaded bundle
 * (`mod.exports`) before the cache is written, so that the functions a real call runs are in it.
 */
async function buildFast({ name, entry, inline, train, input, noDynamicImport = false }) {
  const fastPlugin = {
    name: `gitseal-${name}`,
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, async (a) => {
        if (a.pluginData?.inner || a.kind !== 'dynamic-import') return undefined;
        const r = await b.resolve(a.path, { kind: a.kind, resolveDir: a.resolveDir, importer: a.importer, pluginData: { inner: true } });
        if (r.errors.length > 0 || inline.test(r.path)) return r.errors.length > 0 ? { errors: r.errors } : undefined;
        return { path: './' + relative(src, r.path).replace(/\\/g, '/').replace(/\.ts$/, '.js'), external: true };
      });
    },
  };
  const out = join(tmpDir, `${name}.cjs`);
  const r = await build({
    ...common,
    entryPoints: [entry],
    outfile: out,
    format: 'cjs',
    splitting: false,
    metafile: true,
    logLevel: 'error',
    // The file is one function expression: compiled and called by bin/gitseal, never require()d.
    // import.meta.url (batch.ts finds the verify worker beside the code) is this file's URL.
    banner: { js: "(function (exports, require, module, __filename, __dirname) {\nconst __gitsealImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    define: { ...common.define, 'import.meta.url': '__gitsealImportMetaUrl' },
    footer: { js: '})' },
    plugins: [fastPlugin],
  });
  for (const o of Object.values(r.metafile.outputs)) {
    for (const i of o.imports) {
      if (i.kind === 'require-call' && !i.path.startsWith('node:')) throw new Error(`${name}.cjs must load only node: built-ins, not ${i.path}`);
      // An import() left in fails only at run time, inside node:vm: an entry that must never reach one says so.
      if (noDynamicImport && i.kind === 'dynamic-import') throw new Error(`${name}.cjs must inline every module it imports, not import(${i.path})`);
    }
  }
  // ASCII only: bin/gitseal reads the file as UTF-8 on every call, and one non-ASCII character
  // (a "§" in a comment esbuild keeps) sends V8's decoder down its slow path for the whole
  // 150 KB (~3 M instructions, measured with callgrind). esbuild already escapes non-ASCII in
  // strings, regexps and identifiers (charset: ascii); what is left is in comments, where an
  // escape is as good; in a string, template or regexp literal \uXXXX is the same character.
  const text = readFileSync(out, 'utf8');
  const ascii = text.replace(/[^\x00-\x7f]/gu, (c) => {
    const cp = c.codePointAt(0);
    return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`;
  });
  if (ascii !== text) writeFileSync(out, ascii);
  // The code cache comes from a fresh node (no NODE_OPTIONS: V8 rejects a cache made under other
  // flags), after the training run, so that the functions a call runs are in it. Detached: no
  // controlling terminal, so nothing reaches /dev/tty.
  // One cache per V8 version: <name>.cjs.cache for this Node, and <name>.cjs.v8-<version>.cache
  // for each other Node binary named in GITSEAL_CODE_CACHE_NODES (`:`-separated paths), each made
  // by that Node itself. bin/gitseal takes its own Node's file, else <name>.cjs.cache, which another
  // V8 rejects (it then compiles the source: correct, only slower).
  trainCodeCache(process.execPath, out, out + '.cache', name, train, input);
  for (const node of (process.env.GITSEAL_CODE_CACHE_NODES ?? '').split(':').filter(Boolean)) {
    const v8 = spawnSync(node, ['-p', 'process.versions.v8'], { encoding: 'utf8' });
    if (v8.status !== 0) throw new Error(`GITSEAL_CODE_CACHE_NODES: ${node} does not run (${v8.stderr || v8.error})`);
    trainCodeCache(node, out, `${out}.v8-${v8.stdout.trim()}.cache`, name, train, input);
  }
}

/** The code cache of `out` made by `node` after the training run, written to `cacheFile`. */
function trainCodeCache(node, out, cacheFile, name, train, input) {
  const home = mkdtempSync(join(tmpdir(), 'gitseal-code-cache-'));
  const env = { PATH: process.env.PATH ?? '', HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: join(home, 'none'), LANG: 'C' };
  const mk = spawnSync(
    node,
    [
      '-e',
      `const fs = require('node:fs'), vm = require('node:vm'), path = require('node:path');
       const [f, name, cacheFile] = process.argv.slice(1);
       const s = new vm.Script(fs.readFileSync(f, 'utf8'), { filename: name });
       const mod = { exports: {} };
       s.runInThisContext().call(mod.exports, mod.exports, require, mod, name, path.dirname(name));
       const write = () => fs.writeFileSync(cacheFile, s.createCachedData());
       Promise.resolve().then(async () => { ${train} }).then(write, (e) => { process.stderr.write('build: code-cache training: ' + e.message + '\\n'); process.exitCode = 1; write(); });`,
      out,
      // The name bin/gitseal compiles it under (stack traces show it).
      join(finalDir, `${name}.cjs`),
      cacheFile,
    ],
    { env, cwd: home, detached: true, input: input ?? '', stdio: ['pipe', 'ignore', 'pipe'] },
  );
  rmSync(home, { recursive: true, force: true });
  // A training run that fails only makes a smaller cache; a missing cache fails the build.
  if (mk.status !== 0) process.stderr.write(`build: warning: ${name} code-cache training (${node}): ${mk.stderr}`);
  if (!existsSync(cacheFile)) throw new Error(`could not write the code cache of ${name}.cjs (${node})`);
}

async function buildFastVerify() {
  // Verify-only: everything the verify call reaches is inlined; signing (never reached from
  // here) stays behind import(). Trained on one real verification (scripts/code-cache/README.md).
  const sample = join(root, 'scripts', 'code-cache');
  const sig = join(sample, 'sample.sig.pem');
  await buildFast({
    name: 'fast-verify',
    entry: 'src/main-fast-verify.ts',
    inline: /[/\\]src[/\\](gpg|verify|trust|config|util|x509|git)[/\\]|[/\\]src[/\\]cms[/\\]parse\.ts$|[/\\]src[/\\]rekor[/\\](tle|body|search)\.ts$/,
    input: existsSync(join(sample, 'sample.payload')) ? readFileSync(join(sample, 'sample.payload')) : '',
    train: `if (fs.existsSync(${JSON.stringify(sig)})) {
        const code = await mod.exports.runFastVerify(['--status-fd=1', '--verify', ${JSON.stringify(sig)}, '-']);
        if (code !== 0) throw new Error('the code-cache sample did not verify (exit ' + code + ')');
      }`,
  });
}

async function buildFastCliVerify() {
  // `gitseal verify` without oclif (src/main-fast-cli-verify.ts): everything it reaches is
  // inlined. Trained on the sample signature as a commit object in a throwaway repository,
  // verified twice (the second answer comes from the verified-signature cache), so verifying,
  // the cache and the table are all in the code cache.
  const sample = join(root, 'scripts', 'code-cache');
  const payload = join(sample, 'sample.payload');
  const sig = join(sample, 'sample.sig.pem');
  await buildFast({
    name: 'fast-cli-verify',
    entry: 'src/main-fast-cli-verify.ts',
    inline: /[/\\]src[/\\]/,
    noDynamicImport: true,
    train: `if (fs.existsSync(${JSON.stringify(sig)})) {
        const { execFileSync } = require('node:child_process');
        const text = fs.readFileSync(${JSON.stringify(payload)}, 'utf8');
        const pem = fs.readFileSync(${JSON.stringify(sig)}, 'utf8').trimEnd();
        const at = text.indexOf('\\n\\n');
        const commit = text.slice(0, at) + '\\ngpgsig ' + pem.split('\\n').join('\\n ') + text.slice(at);
        execFileSync('git', ['init', '-q', 'repo']);
        process.chdir('repo');
        const oid = execFileSync('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { input: commit, encoding: 'utf8' }).trim();
        for (const extra of [[], ['--json']]) {
          // One object, not a range: the young-generation hold (src/verify/batch.ts), whose V8
          // flag would make V8 reject this cache, is never asked for. Offline: no network here.
          const code = await mod.exports.runFastCliVerify(['--offline', '--jobs', '0', ...extra, oid]);
          if (code !== 0) throw new Error('the code-cache sample did not verify (exit ' + code + ')');
        }
      }`,
  });
}

async function buildFastSign() {
  // The signing call with a running agent (src/main-fast-sign.ts): args, config, the agent
  // protocol. Trained on a real call against a throwaway socket in the training process whose
  // "agent" answers ABORTED, which runs request, framing, answer parsing and error output
  // (nothing reaches a terminal: the process is detached).
  await buildFast({
    name: 'fast-sign',
    entry: 'src/main-fast-sign.ts',
    inline: /^$/,
    input: 'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor a <a@example.com> 0 +0000\ncommitter a <a@example.com> 0 +0000\n\ncode cache\n',
    train: `const net = require('node:net');
      const sock = path.join(process.cwd(), 'agent.sock');
      const srv = net.createServer((c) => {
        let buf = Buffer.alloc(0);
        c.on('data', (d) => {
          buf = Buffer.concat([buf, d]);
          if (buf.length < 4 || buf.length < 4 + buf.readUInt32BE(0)) return;
          const req = JSON.parse(buf.subarray(4, 4 + buf.readUInt32BE(0)).toString());
          const body = Buffer.from(JSON.stringify({ v: 1, id: req.id, error: { code: 'ABORTED', message: 'code-cache training' } }));
          const head = Buffer.alloc(4);
          head.writeUInt32BE(body.length);
          c.end(Buffer.concat([head, body]));
        });
      });
      await new Promise((r) => srv.listen(sock, r));
      const env = { ...process.env, GITSEAL_AGENT_SOCK: sock, SIGSTORE_ID_TOKEN: 'training.not.a-token' };
      const code = await mod.exports.runFastSign(['--status-fd=2', '-bsau', 'a@example.com'], { env, write: () => {}, ttyPath: '/nonexistent' });
      srv.close();
      if (code !== 1) throw new Error('the training call did not reach the agent (' + JSON.stringify(code) + ')');`,
  });
}

async function buildVendoredTuf() {
  const out = join(tmpDir, 'vendor', 'sigstore-tuf.mjs');
  const r = await build({
    ...common,
    stdin: { contents: "export { initTUF } from '@sigstore/tuf';", resolveDir: root, sourcefile: 'sigstore-tuf.mjs' },
    outfile: out,
    packages: undefined,
    minify: true,
    metafile: true,
    // CommonJS packages inside an ES module: give them a require of their own.
    banner: { js: "import { createRequire as __gitsealRequire } from 'node:module'; const require = __gitsealRequire(import.meta.url);" },
  });
  // Every bundled package with its licence text: what their licences ask of a redistribution.
  const pkgs = new Map();
  for (const input of Object.keys(r.metafile.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (!m || pkgs.has(m[1])) continue;
    const dir = join(root, m[1]);
    const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const file = ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'license', 'LICENCE', 'LICENSE-MIT'].map((f) => join(dir, f)).find((f) => existsSync(f));
    pkgs.set(m[1], { name: meta.name, version: meta.version, license: meta.license ?? 'see package', text: file ? readFileSync(file, 'utf8').trim() : '' });
  }
  const notices = [...pkgs.values()]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) => `${p.name}@${p.version} (${p.license})\n\n${p.text || `No licence file is shipped with ${p.name}; its package.json declares ${p.license}.`}\n`);
  writeFileSync(
    join(tmpDir, 'vendor', 'sigstore-tuf.LICENSES.txt'),
    `dist/vendor/sigstore-tuf.mjs bundles these ${pkgs.size} packages (scripts/build.mjs, step 6):\n\n${notices.join('\n' + '-'.repeat(72) + '\n\n')}`,
  );
}

async function buildManPage() {
  // The commands are oclif classes: rendered in a child node whose cwd is the repository, so
  // @oclif/core resolves from node_modules/ whatever GITSEAL_OUTDIR is. No files in between.
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  const epoch = Number(process.env.SOURCE_DATE_EPOCH);
  const date = Number.isFinite(epoch) && epoch > 0 ? new Date(epoch * 1000).toISOString().slice(0, 10) : '';
  const r = await build({
    ...common,
    stdin: {
      contents: `import { commands } from './src/cli/commands/index.ts';
        import { SETTINGS } from './src/config/load.ts';
        import { renderManPage } from './src/cli/man.ts';
        process.stdout.write(renderManPage({ version: ${JSON.stringify(version)}, date: ${JSON.stringify(date)}, commands, settings: SETTINGS }));`,
      resolveDir: root,
      sourcefile: 'man-page.ts',
      loader: 'ts',
    },
    write: false,
    logLevel: 'error',
  });
  const home = mkdtempSync(join(tmpdir(), 'gitseal-man-'));
  const run = spawnSync(process.execPath, ['--input-type=module'], {
    cwd: root,
    input: r.outputFiles[0].text,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: home, LANG: 'C' },
  });
  rmSync(home, { recursive: true, force: true });
  if (run.status !== 0 || !run.stdout.startsWith('.\\"')) throw new Error(`could not render the manual page: ${run.stderr}`);
  mkdirSync(join(tmpDir, 'man'), { recursive: true });
  writeFileSync(join(tmpDir, 'man', 'gitseal.1'), run.stdout);
}
