/**
 * `gitseal init --signer <identity> --issuer <url>` (or its questions on a terminal): the
 * allowed-signers file that turns git's `U` into `G` for the people who may sign. Without one,
 * every good signature is only "some Fulcio identity", `git merge --verify-signatures` refuses
 * it, and gitsign users who switch see commits refused that gitsign let through.
 *
 * In a repository the file is `.gitseal/allowed_signers` (the name the pre-receive hook reads,
 * meant to be committed) and `gitseal.allowedSignersFile` names it relative to the work tree,
 * where git runs its verify program; for --global it is ~/.config/gitseal/allowed_signers. An
 * existing gitseal.allowedSignersFile of the same scope is extended instead. What init wrote is
 * recorded so `init --undo` takes exactly that back (and keeps a file changed since).
 */
import { existsSync, mkdirSync, renameSync, rmdirSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { GitsealError, fsReason } from '../errors.js';
import { parseAllowedSigners } from '../verify/policy.js';
import { readBounded } from '../util/read-bounded.js';

export const REPO_SIGNERS_FILE = '.gitseal/allowed_signers';

/** The public-good issuers a Fulcio certificate names for a person (Sigstore's Dex connectors). */
export const PUBLIC_GOOD_CERT_ISSUERS = ['https://github.com/login/oauth', 'https://accounts.google.com', 'https://login.microsoftonline.com'];

/** What init recorded about the file, for --undo. */
export interface SignersFileRecord {
  path: string;
  /** Content before the first init (null: there was no file). */
  previous: string | null;
  /** Content init left. */
  value: string;
  /** init created the directory (removed again on undo when empty). */
  createdDir?: boolean;
}

export interface SignersChange {
  path: string;
  line?: string;
  status: 'created' | 'added' | 'unchanged' | 'restored' | 'removed' | 'kept';
}

/** One allowed-signers line, checked the way git's verification will read it. */
export function signerLine(identity: string, issuer: string): string {
  const id = identity.trim();
  const iss = issuer.trim();
  if (!id) throw new GitsealError('USAGE', '--signer needs an identity: the e-mail address or workflow URI in the signer\'s certificates');
  if (!iss) {
    throw new GitsealError('USAGE', `--signer needs --issuer: the OIDC issuer in the signer's certificates (e.g. ${PUBLIC_GOOD_CERT_ISSUERS.slice(0, 2).join(' or ')})`);
  }
  for (const [what, v] of [['--signer', id], ['--issuer', iss]] as const) {
    if (/[\s#]/.test(v)) throw new GitsealError('USAGE', `${what} "${v.replace(/[\u0000-\u001f\u007f]/g, '?')}" cannot contain spaces or "#" (the allowed signers file is "<identity> <issuer>" per line)`);
  }
  if (!iss.startsWith('re:')) {
    let u: URL | undefined;
    try {
      u = new URL(iss);
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:')) throw new GitsealError('USAGE', `--issuer must be an http(s) URL (or re:<regexp>), got "${iss}"`);
  }
  const line = `${id} ${iss}`;
  try {
    parseAllowedSigners(line, '--signer/--issuer'); // same parser, same errors (regexps) as verification
  } catch (e) {
    throw new GitsealError('USAGE', e instanceof Error ? e.message : String(e));
  }
  return line;
}

/** Where the file goes and what gitseal.allowedSignersFile says, for a scope. */
export function signersTarget(o: { scope: 'local' | 'global'; topLevel?: string; configDir: string; current?: string; home: string }): { path: string; configValue: string } {
  if (o.current) {
    const v = o.current === '~' || o.current.startsWith('~/') ? join(o.home, o.current.slice(1)) : o.current;
    const base = o.scope === 'local' ? o.topLevel : undefined;
    return { path: isAbsolute(v) || !base ? resolve(v) : join(base, v), configValue: o.current };
  }
  if (o.scope === 'local') {
    if (!o.topLevel) throw new GitsealError('USAGE', 'a bare repository has no work tree for .gitseal/allowed_signers: use --global, or set gitseal.allowedSignersFile to a file');
    return { path: join(o.topLevel, REPO_SIGNERS_FILE), configValue: REPO_SIGNERS_FILE };
  }
  const path = join(o.configDir, 'allowed_signers');
  return { path, configValue: path };
}

function read(path: string): string | null {
  try {
    // Bounded: .gitseal/allowed_signers is repository content, and may be a link to /dev/zero.
    const bytes = readBounded(path, 1024 * 1024);
    if (!bytes) throw new GitsealError('CONFIG', `${path} is larger than 1 MiB`);
    return bytes.toString('utf8');
  } catch (e) {
    if (e instanceof GitsealError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new GitsealError('CONFIG', `cannot read ${path}: ${fsReason(e) ?? 'read error'}`);
  }
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, path);
}

/** Add `line` to the file (creating it), unless an identical rule is there. */
export function addSigner(path: string, line: string, record: SignersFileRecord | undefined, dryRun: boolean): { change: SignersChange; record?: SignersFileRecord } {
  const before = read(path);
  if (before !== null) {
    const have = parseAllowedSigners(before, path).some((s) => s.text.split(/\s+/).join(' ') === line);
    if (have) return { change: { path, line, status: 'unchanged' }, record };
  }
  const head = before === null ? '# Who may sign here: "<identity> <OIDC issuer>" per line (re:<regexp> matches a whole value).\n' : before.endsWith('\n') || before === '' ? before : `${before}\n`;
  const value = `${head}${line}\n`;
  const dir = dirname(path);
  const createdDir = !existsSync(dir);
  if (!dryRun) {
    mkdirSync(dir, { recursive: true });
    writeAtomic(path, value);
  }
  const next: SignersFileRecord = record ? { ...record, value } : { path, previous: before, value, ...(createdDir ? { createdDir: true } : {}) };
  return { change: { path, line, status: before === null ? 'created' : 'added' }, record: next };
}

/** Put the file back as it was before init, unless someone changed it since. */
export function undoSigners(r: SignersFileRecord, dryRun: boolean): SignersChange {
  const now = read(r.path);
  if (now !== r.value) return { path: r.path, status: 'kept' };
  if (!dryRun) {
    if (r.previous === null) {
      rmSync(r.path, { force: true });
      if (r.createdDir) {
        try {
          if (readdirSync(dirname(r.path)).length === 0) rmdirSync(dirname(r.path));
        } catch {
          // not ours to force
        }
      }
    } else {
      writeAtomic(r.path, r.previous);
    }
  }
  return { path: r.path, status: r.previous === null ? 'removed' : 'restored' };
}

/**
 * The questions `gitseal init` asks on a terminal when no policy is set. Returns the signer and
 * issuer, or undefined when the person declines.
 */
export async function askSigner(o: {
  defaultIdentity?: string;
  defaultIssuer?: string;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}): Promise<{ identity: string; issuer: string } | undefined> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: o.input, output: o.output, terminal: true });
  // End of input (Ctrl-D) ends the questions: nothing is written.
  const ac = new AbortController();
  rl.once('close', () => ac.abort());
  const ask = (q: string) => rl.question(q, { signal: ac.signal });
  try {
    const say = (s: string) => o.output.write(s + '\n');
    say('');
    say('No signer policy is set: git shows every good signature as "U", and');
    say('git merge --verify-signatures (or gpg.minTrustLevel=fully) refuses them.');
    const yes = (await ask('Write an allowed-signers file so your signatures show as "G"? [Y/n] ')).trim().toLowerCase();
    if (yes === 'n' || yes === 'no') return undefined;
    let identity = '';
    while (!identity) {
      const a = (await ask(`Who may sign (e-mail or workflow URI)${o.defaultIdentity ? ` [${o.defaultIdentity}]` : ''}: `)).trim();
      identity = a || o.defaultIdentity || '';
    }
    say('The OIDC issuer in that identity\'s certificates:');
    PUBLIC_GOOD_CERT_ISSUERS.forEach((u, i) => say(`  ${i + 1}) ${u}`));
    let issuer = '';
    while (!issuer) {
      const a = (await ask(`Issuer: 1-${PUBLIC_GOOD_CERT_ISSUERS.length}, or a URL${o.defaultIssuer ? ` [${o.defaultIssuer}]` : ''}: `)).trim();
      const n = /^\d+$/.test(a) ? Number(a) : NaN;
      issuer = n >= 1 && n <= PUBLIC_GOOD_CERT_ISSUERS.length ? PUBLIC_GOOD_CERT_ISSUERS[n - 1]! : a || o.defaultIssuer || '';
    }
    return { identity, issuer };
  } catch (e) {
    if ((e as Error).name === 'AbortError') return undefined;
    throw e;
  } finally {
    rl.close();
  }
}
