/**
 * gitseal as a library: sign and verify git payloads with Sigstore from
 * Node.js, the same code paths the `gitseal` program runs for git.
 *
 *   import { signPayload, verifyPayload, verifyCommit, onSign, onVerify } from 'gitseal';
 *
 * Configuration comes from git config and the environment exactly as for the
 * program (`gitseal version` shows it) unless a `config` is passed. Tokens:
 * SIGSTORE_ID_TOKEN / CI providers / the login cache / an interactive login,
 * or `token` (a raw OIDC ID token) in the options.
 */
import { loadConfig } from './config/load.js';
import type { GitsealConfig } from './config/types.js';
import { GitsealError } from './errors.js';
import { readObjectIsomorphic, type IsomorphicRepository } from './git/isomorphic-reader.js';
import { parseSignedObject, signatureKind } from './git/object.js';
import { hashAlgoOf, isMissing, readObjects, type RawObject } from './git/reader.js';
import { getIdentityToken, toIdentityToken } from './oidc/get-token.js';
import { signPayload as signEngine, type SignResult } from './sign/sign-payload.js';
import type { AttributeSigner } from './sign/types.js';
import { trustForConfig } from './trust/load.js';
import type { TrustedRoot } from './trust/trusted-root.js';
import { verifySignature } from './verify/pipeline.js';
import { validatePolicy, type Policy } from './verify/policy.js';
import { withRepositoryPolicy } from './verify/policy-sources.js';
import { repositoryTrust } from './config/git-config-read.js';
import { dubiousOwnershipMessage } from './config/safe-directory.js';
import type { VerifyResult } from './verify/result.js';

export { GitsealError, type ErrorCode } from './errors.js';
export { loadConfig } from './config/load.js';
export type { GitsealConfig } from './config/types.js';
export { parseTrustedRoot, type TrustedRoot } from './trust/trusted-root.js';
export { loadTrustedRoot } from './trust/embedded.js';
export { trustForConfig, type LoadedTrustedRoot } from './trust/load.js';
export type { Policy, IdentityPolicy, AllowedSigner } from './verify/policy.js';
export { parseAllowedSigners, validatePolicy } from './verify/policy.js';
export type { VerifyResult, CertificateDetails, CheckName } from './verify/result.js';
export type { SignResult } from './sign/sign-payload.js';
export type { AttributeSigner, IdentityToken } from './sign/types.js';
export type { IsomorphicGitApi, IsomorphicRepository } from './git/isomorphic-reader.js';

export interface SignPayloadOptions {
  /** Default: loadConfig({ cwd, env }). */
  config?: GitsealConfig;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** A raw OIDC ID token to use instead of the configured providers. Never logged. */
  token?: string;
  /** Progress lines ("Logged to Rekor at index N"); default: discarded. */
  say?: (line: string) => void;
  /** Another signer (e.g. the agent); default: a fresh ephemeral key and certificate. */
  signer?: AttributeSigner;
  trust?: TrustedRoot;
}

/**
 * The configuration for `cwd`. A repository owned by someone else that safe.directory does not
 * allow is refused, as git refuses it: its config could pick the trusted root and the policy.
 */
function configFor(o: { config?: GitsealConfig; cwd?: string; env?: NodeJS.ProcessEnv }): GitsealConfig {
  if (o.config) return o.config;
  const config = loadConfig({ cwd: o.cwd ?? process.cwd(), env: o.env ?? process.env });
  if (config.untrustedRepository) throw new GitsealError('USAGE', config.untrustedRepository.message);
  return config;
}

/**
 * Sign a git payload (a commit or tag object without its signature, exactly
 * what git hands a signing program) and return gitsign-compatible PEM.
 */
export async function signPayload(payload: Buffer | Uint8Array | string, o: SignPayloadOptions = {}): Promise<SignResult> {
  const env = o.env ?? process.env;
  const config = configFor(o);
  const say = o.say ?? (() => undefined);
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  return signEngine(bytes, {
    config,
    signer: o.signer,
    trust: o.trust,
    env,
    ui: { say },
    tokenSource: o.token !== undefined ? async () => toIdentityToken(o.token!, 'the token option') : () => getIdentityToken(config, { env, say }),
  });
}

export interface VerifyPayloadOptions {
  payload: Buffer | Uint8Array | string;
  /** PEM "SIGNED MESSAGE" text or DER. */
  signature: Buffer | Uint8Array | string;
  policy?: Policy;
  /** Default: loadTrustedRoot (config gitseal.trustedRoot, GITSEAL_TRUSTED_ROOT, else the public-good root). */
  trust?: TrustedRoot;
  /** Default true: the log proof is embedded, no network needed. */
  offline?: boolean;
  config?: GitsealConfig;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Verify a signature over a payload. Never throws for a bad signature: read `ok`, `kind`, `message`.
 * With a repository (`cwd`) or a `config`, its signer policy (gitseal.allowedSignersFile,
 * gitseal.matchCommitter) applies together with `policy`, as for `git verify-commit` there.
 */
export async function verifyPayload(o: VerifyPayloadOptions): Promise<VerifyResult> {
  // A policy that would not mean what it says (an empty value, an identity without an issuer,
  // an unknown field) is the caller's mistake: refused before anything is verified.
  if (o.policy !== undefined) validatePolicy(o.policy);
  const env = o.env ?? process.env;
  const config = o.config ?? (o.cwd ? configFor(o) : undefined);
  const policy = config ? withRepositoryPolicy(o.policy, config) : o.policy;
  const trust = o.trust ?? trustForConfig(config ?? {}, env).root;
  const payload = typeof o.payload === 'string' ? Buffer.from(o.payload, 'utf8') : Buffer.from(o.payload);
  const signature = typeof o.signature === 'string' ? o.signature : Buffer.from(o.signature);
  return verifySignature({ signature, payload, trust, policy, offline: o.offline ?? true });
}

export interface VerifyCommitOptions extends Omit<VerifyPayloadOptions, 'payload' | 'signature'> {
  /** The repository (work tree or bare); default process.cwd(). Read with the git program. */
  dir?: string;
  /** Commit or annotated tag; default HEAD. */
  rev?: string;
}

export type ObjectVerifyResult = VerifyResult & { oid: string; type: string };

/**
 * The verdict on one raw object, the same for every reader (git's cat-file, isomorphic-git):
 * parsed by src/git/object.ts as git's `--verify` path parses it. A malformed object (say, two
 * signature headers) is an error verdict, not an exception.
 */
async function verifyRawObject(found: RawObject, o: Omit<VerifyPayloadOptions, 'payload' | 'signature'>): Promise<ObjectVerifyResult> {
  const at = { oid: found.oid, type: found.type };
  let obj;
  try {
    obj = parseSignedObject(found.type, found.data, hashAlgoOf(found.oid));
  } catch (e) {
    if (!(e instanceof GitsealError)) throw e;
    return { ok: false, kind: 'error', failedCheck: 'parse', code: e.code, message: `${found.type} ${found.oid}: ${e.message}`, ...at };
  }
  if (!obj.signature) return { ok: false, kind: 'error', message: `${found.type} ${found.oid} is not signed`, ...at };
  // As git reads it: a signature that does not start with the x509 armour line is not one git
  // would hand to gitseal (git dies on " -----BEGIN SIGNED MESSAGE-----"), and not one
  // `gitseal verify` or the hook accepts; verifyPayload alone would skip the whitespace.
  const kind = signatureKind(obj.signature);
  if (kind !== 'x509') {
    return { ok: false, kind: 'error', failedCheck: 'parse', code: 'BAD_CMS', message: `${found.type} ${found.oid}: not a gitsign/x509 signature (${kind}); gitseal verifies x509 signatures only`, ...at };
  }
  const r = await verifyPayload({ ...o, payload: obj.payload, signature: obj.signature });
  return { ...r, ...at };
}

/** Verify the signature of a commit or annotated tag in a repository (read with the git program). */
export async function verifyCommit(o: VerifyCommitOptions = {}): Promise<ObjectVerifyResult> {
  const dir = o.dir ?? process.cwd();
  const rev = o.rev ?? 'HEAD';
  if (o.policy !== undefined) validatePolicy(o.policy);
  const trust = repositoryTrust({ cwd: dir, env: o.env ?? process.env });
  if (trust && !trust.trusted) throw new GitsealError('USAGE', dubiousOwnershipMessage(trust));
  let found: RawObject | undefined;
  for await (const x of readObjects(dir, [rev])) {
    if (isMissing(x)) throw new GitsealError('USAGE', `no such revision: "${rev}"`);
    found = x;
  }
  if (!found) throw new GitsealError('USAGE', `no such revision: "${rev}"`);
  return verifyRawObject(found, { ...o, cwd: o.cwd ?? dir });
}

/**
 * isomorphic-git's `onSign` callback: `git.commit({ …, signingKey: 'gitseal', onSign: onSign() })`,
 * and the same for `git.annotatedTag`, `git.merge`, notes. isomorphic-git only calls onSign when
 * `signingKey` is set; its value is ignored (keyless signing: the key is ephemeral and certified
 * by Fulcio). A failure rejects, so isomorphic-git writes no object and moves no ref.
 */
export function onSign(o: SignPayloadOptions = {}): (args: { payload: string; secretKey: string }) => Promise<{ signature: string }> {
  return async ({ payload }) => ({ signature: (await signPayload(payload, o)).pem });
}

export interface OnVerifyOptions extends IsomorphicRepository, Omit<VerifyPayloadOptions, 'payload' | 'signature'> {}

/**
 * Verification for isomorphic-git users, the counterpart of `onSign`: returns a function that
 * verifies one commit or annotated tag, named by object id, by ref (`HEAD`, `main`,
 * `refs/tags/v1`) or by anything carrying an `oid` (what `git.log`, `git.readCommit` and
 * `git.readTag` return). Objects are read with isomorphic-git (no git binary needed), checked
 * against their id, and parsed as git's own path parses them (src/git/isomorphic-reader.ts says
 * why isomorphic-git's `payload` is not used).
 *
 *   const verify = onVerify({ fs, dir, policy: { certificateIdentity: 'me@example.com' } });
 *   for (const c of await git.log({ fs, dir })) console.log(c.oid, (await verify(c)).ok);
 *
 * Like verifyPayload it never throws for a bad, unsigned or malformed object (read `ok`, `kind`,
 * `message`); it throws for a revision that does not exist or a repository it cannot read.
 */
export function onVerify(o: OnVerifyOptions): (target: string | { oid: string }) => Promise<ObjectVerifyResult> {
  const { fs, dir, gitdir, cache, git, ...verify } = o;
  const repo: IsomorphicRepository = { fs, dir, gitdir, cache, git };
  // Configuration (and so the trusted root and the repository's signer policy) as for
  // verifyCommit: the repository's git config when `dir` is on this machine's disk; loaded once
  // for all the objects of this verifier (verifyPayload applies the policy it is given again,
  // which changes nothing: withRepositoryPolicy keeps what is set).
  const base = { ...verify, cwd: verify.cwd ?? dir };
  let ready: (typeof base & { config?: GitsealConfig; trust: TrustedRoot }) | undefined;
  const settings = () => {
    if (ready) return ready;
    const config = base.config ?? (base.cwd ? configFor(base) : undefined);
    const policy = config ? withRepositoryPolicy(base.policy, config) : base.policy;
    ready = { ...base, config, policy, trust: base.trust ?? trustForConfig(config ?? {}, base.env ?? process.env).root };
    return ready;
  };
  return async (target) => {
    const rev = typeof target === 'string' ? target : target?.oid;
    let found: RawObject;
    try {
      found = await readObjectIsomorphic(repo, rev);
    } catch (e) {
      if (e instanceof GitsealError && e.code === 'BAD_GIT_OBJECT') {
        return { ok: false, kind: 'error', failedCheck: 'parse', code: e.code, message: e.message, oid: rev, type: 'unknown' };
      }
      throw e;
    }
    return verifyRawObject(found, settings());
  };
}
