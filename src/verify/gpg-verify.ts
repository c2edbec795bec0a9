/**
 * git's `--verify` contract (gpg-interface.c, see shared notes gitsign-protocol §1.3):
 * `[GNUPG:]` status lines on the status fd, one human summary on stderr (what
 * `git log --show-signature` prints), and an exit code git combines with them.
 * Unlike gitsign, every failure reaches git as BADSIG or ERRSIG (not a bare NEWSIG).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { GitsealError, describeError, fsReason } from '../errors.js';
import type { RekorSearch } from '../rekor/search.js';
import type { TrustedRoot } from '../trust/trusted-root.js';
import { MAX_SIGNATURE_BYTES } from '../cms/parse.js';
import { hasPolicy, type Policy } from './policy.js';
import { verifySignature } from './pipeline.js';
import type { VerifyResult } from './result.js';
import { terminalSafe } from '../util/terminal-text.js';
import { withTrustHint } from './trust-hint.js';

export interface GpgVerifyOptions {
  /** Path of the signature file git wrote (`--verify <sigfile>`)… */
  sigfile?: string;
  /** …or the signature itself. */
  signature?: string | Buffer;
  /** The signed payload (git passes it on stdin). */
  payload: Buffer;
  trust: TrustedRoot;
  policy?: Policy;
  offline: boolean;
  rekorSearch?: RekorSearch;
  now?: Date;
  /** Where the trusted root came from (src/trust/load.ts `source`), named in trust-root failures. */
  trustSource?: string;
  /** One `[GNUPG:] …` line, without newline. */
  statusOut(line: string): void;
  /** One human-readable line, without newline (stderr). */
  humanOut(line: string): void;
}

const S = '[GNUPG:] ';

function readSignature(o: GpgVerifyOptions): string | Buffer {
  if (o.signature !== undefined) return o.signature;
  if (!o.sigfile) throw new GitsealError('USAGE', 'no signature file given to --verify');
  // Read at most one byte past the limit, whatever the path names (a FIFO or a device has no
  // size to check first, and /dev/zero never ends).
  const max = MAX_SIGNATURE_BYTES * 2;
  const buf = Buffer.allocUnsafe(max + 1);
  let n = 0;
  let fd: number | undefined;
  try {
    fd = openSync(o.sigfile, 'r');
    for (let k; n <= max && (k = readSync(fd, buf, n, max + 1 - n, null)) > 0; ) n += k;
  } catch (e) {
    throw new GitsealError('USAGE', `cannot read the signature file ${o.sigfile}: ${fsReason(e) ?? describeError(e)}`, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (n > max) throw new GitsealError('INPUT_TOO_LARGE', 'signature file larger than 128 KiB');
  return Buffer.from(buf.subarray(0, n));
}

function unix(d: Date | undefined): string {
  return d ? String(Math.floor(d.getTime() / 1000)) : '0';
}

/** Status lines for a result; exported for tests and batch verification. */
export function statusLines(r: VerifyResult, policyConfigured: boolean): string[] {
  const fpr = r.fingerprint;
  // The identity comes from a certificate that may be unverified (BADSIG): control characters
  // become %XX (as gpg escapes status text), or a newline in it would inject further [GNUPG:] lines.
  const who = (r.identity ?? '').replace(/[\x00-\x1f\x7f]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
  const lines = [S + 'NEWSIG'];
  if (r.kind === 'good' && fpr) {
    lines.push(`${S}GOODSIG ${fpr} ${who}`);
    const t = r.integratedTime!;
    // VALIDSIG <fpr> <date> <timestamp> <expire> <ver> <rsvd> <pk-algo> <hash-algo> <class> <primary-fpr>
    lines.push(`${S}VALIDSIG ${fpr} ${t.toISOString().slice(0, 10)} ${unix(t)} 0 - - - - - ${fpr}`);
    if (r.policyMatched === false) lines.push(`${S}TRUST_NEVER 0 shell`);
    else if (!policyConfigured) lines.push(`${S}TRUST_UNDEFINED 0 shell`);
    else lines.push(`${S}TRUST_FULLY 0 shell`);
    return lines;
  }
  if (r.kind === 'bad' && fpr) lines.push(`${S}BADSIG ${fpr} ${who}`);
  // ERRSIG <keyid> <pkalgo> <hashalgo> <class> <time> <rc> <fpr>; 19 = ECDSA, 8 = SHA-256.
  else lines.push(`${S}ERRSIG ${fpr ?? '0'} 19 8 00 ${unix(r.signingTime)} 4 ${fpr ?? '-'}`);
  // gpg prints no trust line here, but git 2.39 aborts (BUG in gpg_trust_level_to_str) when
  // `%GT` is formatted for a signature without one; UNDEFINED changes no verdict.
  lines.push(`${S}TRUST_UNDEFINED 0 shell`);
  return lines;
}

/**
 * The stderr summary for a result, each line escaped for the terminal (src/util/terminal-text.ts):
 * the names in it come from the signature, the message may quote them. `matchCommitter`: the
 * committer check was on, which narrows a policy but is none by itself.
 */
export function humanLines(r: VerifyResult, policyConfigured: boolean, matchCommitter = false): string[] {
  return rawHumanLines(r, policyConfigured, matchCommitter).map(terminalSafe);
}

function rawHumanLines(r: VerifyResult, policyConfigured: boolean, matchCommitter: boolean): string[] {
  if (r.kind === 'good') {
    const out = [
      `gitseal: Good signature from ${r.identity ?? '(no identity)'} (issuer ${r.issuer ?? 'unknown'})`,
      `gitseal: certificate ${r.fingerprint} issued by ${r.certificate?.issuer ?? 'unknown CA'}`,
      // A Rekor v2 entry has no time of its own: say whose time it is rather than call it the log's.
      r.timeFrom
        ? `gitseal: Rekor log index ${r.logIndex}, timestamped ${r.integratedTime?.toISOString()} by ${r.timeFrom.tsa} (RFC 3161)`
        : `gitseal: Rekor log index ${r.logIndex}, integrated time ${r.integratedTime?.toISOString()}`,
    ];
    if (r.policyMatched === false) {
      const why = r.message.replace(/^signer is not allowed by the policy: /, '');
      out.push(`gitseal: NOT ALLOWED: ${r.identity ?? '(no identity)'} from ${r.issuer ?? 'unknown issuer'} is outside the policy, which allows ${r.policy} (${why})`);
    } else if (!policyConfigured) {
      out.push(
        'gitseal: WARNING: no signer policy is configured, so any Fulcio identity would have passed' +
          (matchCommitter ? ' (gitseal.matchCommitter held, but anyone can sign with their own e-mail as committer: it only narrows a policy)' : '') +
          '; set one with `git config gitseal.allowedSignersFile <file>` (lines of "<identity> <issuer>")',
      );
    } else {
      out.push(`gitseal: policy matched: ${r.policy}`);
    }
    return out;
  }
  const what = r.kind === 'bad' ? 'BAD signature' : 'signature not verified';
  return [`gitseal: ${what} (${r.failedCheck ?? 'parse'} check failed): ${r.message}`, ...unverifiedContext(r)];
}

/**
 * For a signature whose log proof could not be checked (gitsign online mode offline, its
 * pre-release layout, a failed Rekor search): who the certificate names, so a person can tell
 * whose commit it is — on stderr only, quoted, labelled as unverified. Never on the status fd
 * (no GOODSIG, %GS stays empty): anyone can put any name in a certificate that is not checked.
 */
export function unverifiedContext(r: VerifyResult): string[] {
  if (r.kind !== 'error' || r.failedCheck !== 'tlog' || !(r.code === 'TLOG_MISSING' || r.code === 'NETWORK' || r.code === 'REKOR')) return [];
  if (!r.identity && !r.issuer) return [];
  return [
    `gitseal: unverified context: the certificate names ${quoted(r.identity)} (issuer ${quoted(r.issuer)}); ` +
      'NOT VERIFIED, nothing here proves that this identity signed',
  ];
}

/** A value from an unverified certificate as a quoted string: control, format and bidi characters escaped. */
function quoted(v: string | undefined): string {
  if (v === undefined) return '(none)';
  const cut = v.length > 200 ? `${v.slice(0, 200)}…` : v;
  return `"${cut.replace(/["\\\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, (c) => {
    const n = c.codePointAt(0)!;
    return n > 0xffff ? `\\u{${n.toString(16)}}` : `\\u${n.toString(16).padStart(4, '0')}`;
  })}"`;
}

/** Verify for git; returns the process exit code (0 only for a good signature the policy allows). */
export async function runGpgVerify(o: GpgVerifyOptions): Promise<number> {
  const policyConfigured = hasPolicy(o.policy);
  let r: VerifyResult;
  try {
    r = await verifySignature({
      signature: readSignature(o),
      payload: o.payload,
      trust: o.trust,
      policy: o.policy,
      offline: o.offline,
      now: o.now,
      rekorSearch: o.rekorSearch,
    });
  } catch (e) {
    r = { ok: false, kind: 'error', failedCheck: 'parse', message: e instanceof Error ? e.message : String(e) };
  }
  if (!r.ok) r.message = withTrustHint(r.code, r.message, o.trustSource);
  for (const l of statusLines(r, policyConfigured)) o.statusOut(l);
  for (const l of humanLines(r, policyConfigured, o.policy?.matchCommitter === true)) o.humanOut(l);
  return r.ok ? 0 : 1;
}
