/**
 * Identity policy: cosign-compatible certificate checks (--certificate-identity,
 * --certificate-oidc-issuer, their -regexp forms, --certificate-github-workflow-*)
 * plus the git-path rules: an allowed-signers file and "signer e-mail must be
 * the committer's/tagger's". Regular expressions always match the WHOLE value.
 */
import { GitsealError } from '../errors.js';
import { payloadIdentity } from '../git/object.js';
import { linearRegExp } from '../util/linear-regexp.js';
import { terminalSafe } from '../util/terminal-text.js';

export interface IdentityPolicy {
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  githubWorkflowTrigger?: string;
  githubWorkflowSha?: string;
  githubWorkflowName?: string;
  githubWorkflowRepository?: string;
  githubWorkflowRef?: string;
}

/** One line of an allowed-signers file. */
export interface AllowedSigner {
  identity: string | RegExp;
  issuer: string | RegExp;
  /** The line as written, for messages. */
  text: string;
  line: number;
}

export interface Policy extends IdentityPolicy {
  allowedSigners?: AllowedSigner[];
  /** Signer e-mail must equal the committer's (commit) or tagger's (tag) e-mail in the payload. */
  matchCommitter?: boolean;
}

/** What the policy looks at in a verified certificate. */
export interface PolicySubject {
  identity?: string;
  issuer?: string;
  /** Fulcio claim extensions by name (githubWorkflowTrigger, …). */
  claims: Record<string, string | undefined>;
  /** The signed payload (for matchCommitter). */
  payload: Buffer;
}

export interface PolicyOutcome {
  matched: boolean;
  /** The policy says who may sign (hasPolicy), not only narrows (matchCommitter). */
  identityPolicy: boolean;
  /** What the policy allows, for people ("identity alice@example.com from https://…"). */
  description: string;
  /** Why it did not match (undefined when it did). */
  reason?: string;
}

/** Longest policy regexp accepted (its source, before anchoring). */
export const MAX_REGEXP_LENGTH = 1024;
/** Longest value (identity, issuer) a policy regexp is run against; a longer one matches no regexp. */
export const MAX_MATCHED_LENGTH = 4096;

/**
 * Compile a user regexp so it must match the whole value (cosign leaves it unanchored; we do
 * not), on V8's linear-time engine (src/util/linear-regexp.ts): the pattern may come from a
 * repository's allowed-signers file, and on the backtracking engine `^(a+)+$` against a long
 * SAN never returned. Refused: no regexp, longer than MAX_REGEXP_LENGTH, or one the linear
 * engine cannot run (backreferences, lookaround). The message shows the source escaped, except
 * for an allowed-signers file's line (showSource false).
 */
export function wholeRegexp(src: string, what: string, code: 'POLICY' | 'USAGE' = 'POLICY', showSource = true): RegExp {
  // A line of an allowed-signers file is never echoed (parseAllowedSigners): `what` names its line.
  const shown = () => (showSource ? `: ${terminalSafe(src.length > 80 ? `${src.slice(0, 80)}…` : src)}` : '');
  if (src.length > MAX_REGEXP_LENGTH) throw new GitsealError(code, `invalid regular expression for ${what}: longer than ${MAX_REGEXP_LENGTH} characters${shown()}`);
  try {
    // It must be a regular expression on its own first: "alice@x\.com)|(.*" is not one, but
    // wrapped it becomes ^(?:alice@x\.com)|(.*)$ — anchored at neither end for the second
    // branch — and lets everyone in while reading like alice alone.
    new RegExp(src);
  } catch {
    throw new GitsealError(code, `invalid regular expression for ${what}${shown()}`);
  }
  try {
    return linearRegExp(`^(?:${src})$`);
  } catch {
    throw new GitsealError(code, `invalid regular expression for ${what}${shown()}: backreferences and lookaround are not supported (policy regexps run in linear time)`);
  }
}

function matches(rule: string | RegExp, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (typeof rule === 'string') return rule === value;
  return value.length <= MAX_MATCHED_LENGTH && rule.test(value);
}

function show(rule: string | RegExp): string {
  return typeof rule === 'string' ? rule : `/${rule.source.slice(4, -2)}/`;
}

/** Most regexp source (after `re:`) one allowed-signers file may hold: matching costs pattern × value. */
export const MAX_ALLOWED_SIGNERS_REGEXP_TOTAL = 64 * 1024;

/**
 * Parse an allowed-signers file: "<identity|re:regexp> <issuer|re:regexp>" per line, # comments.
 * Errors name the file, the line number and the problem, never the line: the file is whatever
 * a configuration names (`gitseal.allowedSignersFile=/proc/self/environ` printed the
 * environment, tokens included, into the error). A file with a NUL byte is no text file.
 */
export function parseAllowedSigners(text: string, file = 'allowed signers file'): AllowedSigner[] {
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    const line = text.slice(0, nul).split('\n').length;
    throw new GitsealError('POLICY', `${file} line ${line}: a NUL byte; an allowed-signers file is text`);
  }
  const out: AllowedSigner[] = [];
  let regexpTotal = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) return;
    const parts = line.split(/\s+/);
    if (parts.length !== 2) {
      throw new GitsealError('POLICY', `${file} line ${i + 1}: expected "<identity> <issuer>" (two fields), found ${parts.length}`);
    }
    const rule = (s: string, what: string) => {
      if (!s.startsWith('re:')) return s;
      regexpTotal += s.length - 3;
      if (regexpTotal > MAX_ALLOWED_SIGNERS_REGEXP_TOTAL) throw new GitsealError('POLICY', `${file} line ${i + 1}: more than ${MAX_ALLOWED_SIGNERS_REGEXP_TOTAL / 1024} KiB of regular expressions in one file`);
      return wholeRegexp(s.slice(3), `${what} on ${file} line ${i + 1}`, 'POLICY', false);
    };
    out.push({ identity: rule(parts[0], 'identity'), issuer: rule(parts[1], 'issuer'), text: line, line: i + 1 });
  });
  return out;
}

/** The fields a Policy may hold; anything else is a mistake (a typo would silently drop a constraint). */
const STRING_FIELDS = [
  'certificateIdentity',
  'certificateIdentityRegexp',
  'certificateOidcIssuer',
  'certificateOidcIssuerRegexp',
  'githubWorkflowTrigger',
  'githubWorkflowSha',
  'githubWorkflowName',
  'githubWorkflowRepository',
  'githubWorkflowRef',
] as const satisfies ReadonlyArray<keyof IdentityPolicy>;
const KNOWN_FIELDS = new Set<string>([...STRING_FIELDS, 'allowedSigners', 'matchCommitter']);

/** How a policy field is named in messages: `--certificate-identity` on the command line, `policy.certificateIdentity` in the library. */
export type PolicyFieldName = (field: keyof Policy) => string;
const libraryName: PolicyFieldName = (f) => `policy.${f}`;

/**
 * Refuse a policy that would not mean what it says (USAGE, one line naming the field):
 *  - an empty string: an unset CI variable (`--certificate-identity "$WHO"`) must not turn the
 *    check off, and an empty value matches no certificate anyway;
 *  - an identity without an issuer, or an issuer or workflow claim without an identity: an
 *    e-mail is only an identity together with the provider that vouched for it. cosign and
 *    gitsign refuse these the same way (cosign's CertVerifyOptions.Identities: "--certificate-
 *    identity or --certificate-identity-regexp is required", "--certificate-oidc-issuer or
 *    --certificate-oidc-issuer-regexp is required");
 *  - a regular expression that does not compile, a field that is not a Policy field, a
 *    matchCommitter that is not a boolean, allowedSigners that is not an array.
 */
export function validatePolicy(p: Policy, name: PolicyFieldName = libraryName): void {
  if (p === null || typeof p !== 'object') throw new GitsealError('USAGE', 'the policy must be an object');
  for (const k of Object.keys(p)) {
    const v = (p as Record<string, unknown>)[k];
    if (v === undefined) continue;
    if (!KNOWN_FIELDS.has(k)) throw new GitsealError('USAGE', `unknown policy field "${k}"`);
  }
  for (const k of STRING_FIELDS) {
    const v = p[k];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw new GitsealError('USAGE', `${name(k)} must be a string`);
    if (v === '') throw new GitsealError('USAGE', `${name(k)} is empty; an empty value would turn the signer policy off, so it is refused`);
  }
  if (p.matchCommitter !== undefined && typeof p.matchCommitter !== 'boolean') throw new GitsealError('USAGE', `${name('matchCommitter')} must be true or false`);
  if (p.allowedSigners !== undefined && !Array.isArray(p.allowedSigners)) throw new GitsealError('USAGE', `${name('allowedSigners')} must be a list of allowed signers`);
  const identity = p.certificateIdentity !== undefined || p.certificateIdentityRegexp !== undefined;
  const issuer = p.certificateOidcIssuer !== undefined || p.certificateOidcIssuerRegexp !== undefined;
  const claims = WORKFLOW_KEYS.filter((k) => p[k] !== undefined);
  if ((issuer || claims.length > 0) && !identity) {
    const given = issuer ? name(p.certificateOidcIssuer !== undefined ? 'certificateOidcIssuer' : 'certificateOidcIssuerRegexp') : name(claims[0]);
    throw new GitsealError('USAGE', `${name('certificateIdentity')} or ${name('certificateIdentityRegexp')} is required with ${given} (as in cosign and gitsign)`);
  }
  if (identity && !issuer) {
    const given = name(p.certificateIdentity !== undefined ? 'certificateIdentity' : 'certificateIdentityRegexp');
    throw new GitsealError('USAGE', `${name('certificateOidcIssuer')} or ${name('certificateOidcIssuerRegexp')} is required with ${given} (as in cosign and gitsign)`);
  }
  if (p.certificateIdentityRegexp !== undefined) wholeRegexp(p.certificateIdentityRegexp, name('certificateIdentityRegexp'), 'USAGE');
  if (p.certificateOidcIssuerRegexp !== undefined) wholeRegexp(p.certificateOidcIssuerRegexp, name('certificateOidcIssuerRegexp'), 'USAGE');
}

/**
 * True when the policy says WHO may sign: identity and issuer flags, or an allowed-signers list
 * (an empty list allows nobody). This is what earns TRUST_FULLY. matchCommitter alone is not a
 * policy: anyone can make their committer e-mail equal their own certificate, so it only
 * narrows a policy (see hasConstraints).
 */
export function hasPolicy(p: Policy | undefined): p is Policy {
  if (!p) return false;
  return STRING_FIELDS.some((k) => typeof p[k] === 'string' && p[k] !== '') || p.allowedSigners !== undefined;
}

/**
 * True when the policy checks anything at all, matchCommitter included — and for anything
 * given that is not a valid constraint (an empty string, an unknown field), so that evaluating
 * it fails closed instead of the value being skipped.
 */
export function hasConstraints(p: Policy | undefined): p is Policy {
  if (!p) return false;
  return Object.values(p).some((v) => v !== undefined && v !== false);
}

/**
 * E-mail of the committer (commit) or tagger (tag) header of a payload, read as git reads it
 * (src/git/object.ts payloadIdentity); undefined if none. Throws for a payload with repeated
 * identity headers.
 */
export function committerEmail(payload: Buffer): string | undefined {
  return payloadIdentity(payload)?.email;
}

function sameEmail(a: string, b: string): boolean {
  // Local parts are case-sensitive in principle (RFC 5321 §2.4); domains are not.
  const [la, da] = [a.slice(0, a.lastIndexOf('@')), a.slice(a.lastIndexOf('@') + 1)];
  const [lb, db] = [b.slice(0, b.lastIndexOf('@')), b.slice(b.lastIndexOf('@') + 1)];
  return a.includes('@') && la === lb && da.toLowerCase() === db.toLowerCase();
}

const WORKFLOW_KEYS = [
  'githubWorkflowTrigger',
  'githubWorkflowSha',
  'githubWorkflowName',
  'githubWorkflowRepository',
  'githubWorkflowRef',
] as const;

/** Evaluate every constraint of `p`; all must hold. An invalid policy throws (validatePolicy). */
export function evaluatePolicy(p: Policy, s: PolicySubject): PolicyOutcome {
  validatePolicy(p);
  const allows: string[] = [];
  const failures: string[] = [];
  const check = (ok: boolean, allow: string, why: string) => {
    allows.push(allow);
    if (!ok) failures.push(why);
  };
  if (p.certificateIdentity) {
    check(s.identity === p.certificateIdentity, `identity ${p.certificateIdentity}`, `identity ${s.identity ?? '(none)'} is not ${p.certificateIdentity}`);
  }
  if (p.certificateIdentityRegexp) {
    const re = wholeRegexp(p.certificateIdentityRegexp, 'certificate identity');
    check(matches(re, s.identity), `identity matching /${p.certificateIdentityRegexp}/`, `identity ${s.identity ?? '(none)'} does not match /${p.certificateIdentityRegexp}/`);
  }
  if (p.certificateOidcIssuer) {
    check(s.issuer === p.certificateOidcIssuer, `issuer ${p.certificateOidcIssuer}`, `issuer ${s.issuer ?? '(none)'} is not ${p.certificateOidcIssuer}`);
  }
  if (p.certificateOidcIssuerRegexp) {
    const re = wholeRegexp(p.certificateOidcIssuerRegexp, 'OIDC issuer');
    check(matches(re, s.issuer), `issuer matching /${p.certificateOidcIssuerRegexp}/`, `issuer ${s.issuer ?? '(none)'} does not match /${p.certificateOidcIssuerRegexp}/`);
  }
  for (const k of WORKFLOW_KEYS) {
    const want = p[k];
    if (want) check(s.claims[k] === want, `${k} ${want}`, `${k} is ${s.claims[k] ?? '(absent)'}, not ${want}`);
  }
  if (p.allowedSigners) {
    const rules = p.allowedSigners;
    const hit = rules.find((r) => matches(r.identity, s.identity) && matches(r.issuer, s.issuer));
    check(
      hit !== undefined,
      rules.length ? `allowed signers: ${rules.map((r) => `${show(r.identity)} from ${show(r.issuer)}`).join('; ')}` : 'no signers (the allowed-signers file is empty)',
      `${s.identity ?? '(no identity)'} from ${s.issuer ?? '(no issuer)'} is not in the allowed signers`,
    );
  }
  if (p.matchCommitter) {
    const email = committerEmail(s.payload);
    check(
      email !== undefined && s.identity !== undefined && sameEmail(s.identity, email),
      'the committer/tagger e-mail',
      `signer ${s.identity ?? '(none)'} is not the committer/tagger ${email ?? '(no e-mail found)'}`,
    );
  }
  return {
    matched: failures.length === 0,
    identityPolicy: hasPolicy(p),
    description: allows.join(', '),
    reason: failures.length ? failures.join('; ') : undefined,
  };
}
