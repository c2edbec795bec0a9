/**
 * A tolerant parser for the gpg-style argv git passes to gpg.x509.program:
 *   sign:   --status-fd=2 -bsau <key>            (payload on stdin, or a file argument)
 *   verify: --status-fd=1 --verify <sigfile> -   (payload on stdin, or a data file)
 * Flag names follow gitsign/gpgsm (gitsign-protocol.md §1.4). Unlike gitsign,
 * an unknown gpg option is not fatal: it is noted and skipped, so a git that
 * adds e.g. --keyid-format=long keeps working.
 */
import { GitsealError } from '../errors.js';

export type GpgMode = 'sign' | 'verify' | 'version' | 'none';

export interface GpgArgs {
  mode: GpgMode;
  /** -1: no status output (gpg's default). */
  statusFd: number;
  detach: boolean;
  armor: boolean;
  /** -u/--local-user: git passes user.signingkey or "Name <email>"; not used to pick a key. */
  localUser?: string;
  /** --include-certs N: accepted; signatures always carry only the leaf, as gitsign's do. */
  includeCerts?: number;
  /** Sign: the payload file, if not stdin. */
  payloadFile?: string;
  /** Verify: the detached signature file. */
  signatureFile?: string;
  /** Verify: the signed data file; undefined or "-" means stdin. */
  dataFile?: string;
  /** Human notes about skipped options, for the terminal. */
  notes: string[];
}

/** gpg options that take a value in the next argument; skipped with it when unknown to us. */
const GPG_VALUE_OPTIONS = new Set([
  'keyid-format', 'homedir', 'default-key', 'digest-algo', 'cipher-algo', 'compress-algo', 'trust-model',
  'keyring', 'secret-keyring', 'passphrase-fd', 'command-fd', 'logger-fd', 'attribute-fd', 'cert-digest-algo',
  'output', 'default-recipient', 'recipient', 'encrypt-to', 'log-file', 'agent-program', 'pinentry-mode',
]);

function parseFd(v: string | undefined, what: string): number {
  if (v === undefined || !/^-?\d+$/.test(v)) throw new GitsealError('USAGE', `${what} needs a number, got "${v ?? ''}"`);
  return Number(v);
}

export function parseGpgArgs(argv: string[]): GpgArgs {
  const a: GpgArgs = { mode: 'none', statusFd: -1, detach: false, armor: false, notes: [] };
  let sign = false;
  let verify = false;
  let version = false;
  const positional: string[] = [];

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-' || !arg.startsWith('-')) {
      positional.push(arg);
      continue;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const inline = eq < 0 ? undefined : arg.slice(eq + 1);
      const value = (): string => {
        if (inline !== undefined) return inline;
        if (i + 1 >= argv.length) throw new GitsealError('USAGE', `--${name} needs a value`);
        return argv[++i];
      };
      switch (name) {
        case 'status-fd':
          a.statusFd = parseFd(value(), '--status-fd');
          break;
        case 'sign':
          sign = true;
          break;
        case 'detach-sign':
        case 'detached-sign':
          a.detach = true;
          break;
        case 'armor':
        case 'armour':
          a.armor = true;
          break;
        case 'local-user':
          a.localUser = value();
          break;
        case 'verify':
          verify = true;
          break;
        case 'include-certs':
          a.includeCerts = parseFd(value(), '--include-certs');
          break;
        case 'version':
          version = true;
          break;
        default:
          // Unknown gpg option: skip it (and its value when gpg documents one).
          if (inline === undefined && GPG_VALUE_OPTIONS.has(name) && i + 1 < argv.length) i++;
          a.notes.push(`ignoring unsupported option --${name}`);
      }
      continue;
    }
    // Short flags, possibly combined (-bsau KEY, -bsauKEY).
    for (let j = 1; j < arg.length; j++) {
      const c = arg[j];
      switch (c) {
        case 's':
          sign = true;
          break;
        case 'b':
          a.detach = true;
          break;
        case 'a':
          a.armor = true;
          break;
        case 'v':
          verify = true;
          break;
        case 'u': {
          const rest = arg.slice(j + 1);
          if (rest) a.localUser = rest;
          else if (i + 1 < argv.length) a.localUser = argv[++i];
          else throw new GitsealError('USAGE', '-u needs a key');
          j = arg.length;
          break;
        }
        default:
          a.notes.push(`ignoring unsupported option -${c}`);
      }
    }
  }

  if (verify && sign) throw new GitsealError('USAGE', 'cannot sign and verify at the same time');
  if (verify) {
    a.mode = 'verify';
    if (positional.length === 0) throw new GitsealError('USAGE', '--verify needs a signature file');
    if (positional.length > 2) throw new GitsealError('USAGE', '--verify takes a signature file and at most one data file');
    a.signatureFile = positional[0];
    a.dataFile = positional[1];
  } else if (sign || a.detach) {
    a.mode = 'sign';
    if (positional.length > 1) throw new GitsealError('USAGE', 'sign takes at most one payload file');
    if (positional[0] !== undefined && positional[0] !== '-') a.payloadFile = positional[0];
  } else if (version) {
    a.mode = 'version';
  }
  return a;
}
