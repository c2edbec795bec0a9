/**
 * Which trusted root gitseal verifies (and checks its own signatures) with.
 * Explicit and easy to point at a private Sigstore by files alone, under the
 * names gitsign and cosign already use (gitsign issue #320). First match wins:
 *
 *  1. a whole TrustedRoot JSON: `path` (git config gitseal.trustedRoot), else
 *     $GITSEAL_TRUSTED_ROOT;
 *  2. PEM overrides — Fulcio CAs ($GITSIGN_FULCIO_ROOT, $SIGSTORE_FULCIO_ROOT,
 *     $SIGSTORE_ROOT_FILE; or `fulcioRoot`), Rekor keys
 *     ($SIGSTORE_REKOR_PUBLIC_KEY), CT log keys ($SIGSTORE_CT_LOG_PUBLIC_KEY_FILE),
 *     TSA chain (`timestampCertChain`, gitsign's; else $SIGSTORE_TSA_CERTIFICATE_FILE).
 *     Each one given REPLACES that
 *     whole list; the lists not given come unchanged from layer 3 or 4;
 *  3. the TUF cache `gitseal initialize` maintains (<cache>/trusted_root.json),
 *     only if it parses (a damaged cache is a warning, not an error);
 *  4. the public-good root embedded in gitseal.
 *
 * A file that is configured (1, 2) but missing or malformed fails closed with
 * GitsealError('TRUST_ROOT') (src/errors.ts) naming it: never a silent fall back to public-good.
 * validFor windows are carried through; the verifier applies them.
 *
 * Hot path (git spawns gitseal per signature): node: built-ins only, one stat
 * and, on a miss, one read + parse per file, memoised in-process.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { embeddedTrustedRoot } from './embedded.js';
import { certificateAuthoritiesFromPem, logKeysFromPem, timestampAuthoritiesFromPem } from './pem-bundle.js';
import { cachedTrustedRootPath, displayPath, envValue, gitsealCacheDir, notOwnedPrivately, readTrustFile, TRUST_ENV } from './sources.js';
import { parseTrustedRoot, type TrustedRoot } from './trusted-root.js';

export interface LoadTrustedRootOptions {
  /** A TrustedRoot JSON file (git config gitseal.trustedRoot); wins over everything. */
  path?: string;
  /** Where `path` came from, for `source` and messages (default "gitseal.trustedRoot"). */
  pathOrigin?: string;
  /** A Fulcio CA PEM bundle from configuration (git config gitsign.fulcioRoot); wins over the env names. */
  fulcioRoot?: string;
  /** Where `fulcioRoot` came from (default "gitsign.fulcioRoot"). */
  fulcioRootOrigin?: string;
  /**
   * A timestamp authority's PEM chain from configuration (gitsign.timestampCertChain,
   * GITSIGN_/SIGSTORE_TIMESTAMP_CERT_CHAIN); wins over $SIGSTORE_TSA_CERTIFICATE_FILE.
   */
  timestampCertChain?: string;
  /** Where `timestampCertChain` came from (default "gitsign.timestampCertChain"). */
  timestampCertChainOrigin?: string;
  env: NodeJS.ProcessEnv;
  /** gitseal's cache directory (default $XDG_CACHE_HOME/gitseal or $HOME/.cache/gitseal). */
  cacheDir?: string;
}

export type TrustLayer = 'file' | 'overrides' | 'cache' | 'embedded';

export interface LoadedTrustedRoot {
  root: TrustedRoot;
  /** For people: "gitseal.trustedRoot /x.json", "SIGSTORE_ROOT_FILE /ca.pem (Fulcio CAs); the rest from the embedded public-good root", … */
  source: string;
  /** Things a person should know that did not stop loading (ignored variables, a damaged TUF cache). */
  warnings: string[];
  /** Which precedence layer supplied the root (for overrides: the top one). */
  layer: TrustLayer;
  /** Every file read, in order. */
  files: string[];
}

type Piece = 'certificateAuthorities' | 'tlogs' | 'ctlogs' | 'timestampAuthorities';

interface Override {
  piece: Piece;
  name: string;
  path: string;
  label: string;
}

const PIECE_LABEL: Record<Piece, string> = {
  certificateAuthorities: 'Fulcio CAs',
  tlogs: 'Rekor keys',
  ctlogs: 'CT log keys',
  timestampAuthorities: 'timestamp authorities',
};

/** The PEM overrides set in `opts`/env, one per piece (first name wins), plus warnings for shadowed names. */
function overridesFrom(opts: LoadTrustedRootOptions, warnings: string[]): Override[] {
  const env = opts.env;
  const out: Override[] = [];
  const fulcio: { name: string; path: string }[] = [];
  if (opts.fulcioRoot) fulcio.push({ name: opts.fulcioRootOrigin ?? 'gitsign.fulcioRoot', path: opts.fulcioRoot });
  for (const name of TRUST_ENV.fulcioRoots) {
    const v = envValue(env, name);
    if (v) fulcio.push({ name, path: v });
  }
  if (fulcio.length > 0) {
    const [first, ...rest] = fulcio;
    for (const r of rest) if (r.path !== first.path) warnings.push(`${r.name} (${r.path}) is ignored: ${first.name} (${first.path}) takes precedence`);
    out.push({ piece: 'certificateAuthorities', ...first, label: PIECE_LABEL.certificateAuthorities });
  }
  const single: [Piece, string][] = [
    ['tlogs', TRUST_ENV.rekorKey],
    ['ctlogs', TRUST_ENV.ctlogKey],
  ];
  for (const [piece, name] of single) {
    const v = envValue(env, name);
    if (v) out.push({ piece, name, path: v, label: PIECE_LABEL[piece] });
  }
  // gitsign's name first (as gitsign trusts only the chain it names), then cosign's.
  const tsa: { name: string; path: string }[] = [];
  if (opts.timestampCertChain) tsa.push({ name: opts.timestampCertChainOrigin ?? 'gitsign.timestampCertChain', path: opts.timestampCertChain });
  const cosignTsa = envValue(env, TRUST_ENV.tsaChain);
  if (cosignTsa) tsa.push({ name: TRUST_ENV.tsaChain, path: cosignTsa });
  if (tsa.length > 0) {
    const [first, ...rest] = tsa;
    for (const r of rest) if (r.path !== first.path) warnings.push(`${r.name} (${r.path}) is ignored: ${first.name} (${first.path}) takes precedence`);
    out.push({ piece: 'timestampAuthorities', ...first, label: PIECE_LABEL.timestampAuthorities });
  }
  return out;
}

function readOverride(o: Override): { list: TrustedRoot[Piece]; sha256: string } {
  const kind = `the ${o.label} file`;
  return readTrustFile(o.path, kind, o.name, (bytes) => {
    const text = bytes.toString('utf8');
    const list =
      o.piece === 'certificateAuthorities'
        ? certificateAuthoritiesFromPem(text, o.path)
        : o.piece === 'timestampAuthorities'
          ? timestampAuthoritiesFromPem(text, o.path)
          : logKeysFromPem(text, o.path);
    return { list, sha256: createHash('sha256').update(bytes).digest('hex') };
  }).value;
}

/** Layer 3 or 4: the TUF cache when present and parseable, else the embedded root. */
function baseLayer(opts: LoadTrustedRootOptions, warnings: string[], files: string[]): { root: TrustedRoot; source: string; layer: 'cache' | 'embedded' } {
  const dir = opts.cacheDir ?? gitsealCacheDir(opts.env);
  if (dir) {
    const path = cachedTrustedRootPath(dir);
    if (existsSync(path)) {
      const shown = displayPath(path, opts.env);
      // Used as trust without being verified again: only a file nobody else can have written.
      const dirWhy = notOwnedPrivately(dir);
      const why = dirWhy ? `its directory ${displayPath(dir, opts.env)}: ${dirWhy}` : notOwnedPrivately(path);
      if (why) {
        warnings.push(`ignoring the TUF cache ${shown}: ${why}; using the embedded public-good root (run "gitseal initialize" as yourself, with a cache directory of your own)`);
        return { root: embeddedTrustedRoot(), source: 'embedded public-good root', layer: 'embedded' };
      }
      try {
        const f = readTrustFile(path, 'the TUF-cached trusted root', 'gitseal initialize', parseTrustedRoot);
        files.push(path);
        return { root: f.value, source: `TUF cache ${shown} (refreshed ${f.modified.toISOString()})`, layer: 'cache' };
      } catch (e) {
        // Not configured by anyone, so not fail-closed: say so and use the embedded root.
        warnings.push(`ignoring the TUF cache ${shown}: ${(e as Error).message.split('\n')[0]}; run "gitseal initialize" to repair it`);
      }
    }
  }
  return { root: embeddedTrustedRoot(), source: 'embedded public-good root', layer: 'embedded' };
}

/**
 * Load the trusted root by the precedence above. Throws GitsealError('TRUST_ROOT')
 * when a configured file is missing or malformed.
 */
export function loadTrustedRoot(opts: LoadTrustedRootOptions): LoadedTrustedRoot {
  const warnings: string[] = [];
  const files: string[] = [];
  const env = opts.env;

  // 1. An explicit TrustedRoot JSON.
  const explicit = opts.path
    ? { path: opts.path, origin: opts.pathOrigin ?? 'gitseal.trustedRoot' }
    : envValue(env, TRUST_ENV.trustedRoot)
      ? { path: envValue(env, TRUST_ENV.trustedRoot)!, origin: TRUST_ENV.trustedRoot }
      : undefined;
  if (explicit) {
    const root = readTrustFile(explicit.path, 'the trusted root', explicit.origin, parseTrustedRoot).value;
    files.push(explicit.path);
    for (const o of overridesFrom(opts, [])) {
      warnings.push(`${o.name} (${o.path}) is ignored: ${explicit.origin} ${explicit.path} takes precedence`);
    }
    return { root, source: `${explicit.origin} ${explicit.path}`, warnings, layer: 'file', files };
  }

  // 2. gitsign/cosign PEM overrides on top of the next layer.
  const overrides = overridesFrom(opts, warnings);
  if (overrides.length > 0) {
    const read = overrides.map((o) => ({ o, ...readOverride(o) }));
    for (const o of overrides) files.push(o.path);
    const base = baseLayer(opts, warnings, files);
    const root: TrustedRoot = { ...base.root };
    for (const r of read) (root as unknown as Record<Piece, unknown>)[r.o.piece] = r.list;
    // Not the hash of any one file: it identifies this combination (base root + override files).
    const h = createHash('sha256').update(`gitseal trust overrides v1\nbase ${base.root.digest}\n`);
    for (const r of read) h.update(`${r.o.piece} ${r.sha256}\n`);
    root.digest = h.digest('hex');
    const given = read.map((r) => `${r.o.name} ${r.o.path} (${r.o.label})`).join(', ');
    const kept = (Object.keys(PIECE_LABEL) as Piece[]).filter((p) => !read.some((r) => r.o.piece === p));
    const rest = kept.length ? `; ${kept.map((p) => PIECE_LABEL[p]).join(', ')} from the ${base.source}` : '';
    return { root, source: `${given}${rest}`, warnings, layer: 'overrides', files };
  }

  // 3./4. TUF cache, else embedded.
  const base = baseLayer(opts, warnings, files);
  return { root: base.root, source: base.source, warnings, layer: base.layer, files };
}

/** The trusted root for a resolved configuration (gitseal.trustedRoot, gitsign.fulcioRoot, env). */
export function trustForConfig(
  config: { trustedRoot?: string; fulcioRoot?: string; timestampCertChain?: string; sources?: Record<string, string> },
  env: NodeJS.ProcessEnv,
): LoadedTrustedRoot {
  return loadTrustedRoot({
    path: config.trustedRoot,
    pathOrigin: config.sources?.trustedRoot,
    fulcioRoot: config.fulcioRoot,
    fulcioRootOrigin: config.sources?.fulcioRoot,
    timestampCertChain: config.timestampCertChain,
    timestampCertChainOrigin: config.sources?.timestampCertChain,
    env,
  });
}
