/**
 * Mint an ID token signed with the sandbox provider's persisted key, so it
 * validates against the running provider's JWKS — what `gitseal-sandbox token`
 * prints and what tests use as SIGSTORE_ID_TOKEN. Claims follow what the real
 * issuers send: Dex-style e-mail tokens, or GitHub Actions workflow tokens.
 */
import { importJWK, SignJWT } from 'jose';
import { loadOrCreateKeys } from './keys.js';
import { SANDBOX_CLIENT_ID } from './provider.js';

export interface MintOptions {
  dir: string;
  /** The running provider's issuer URL (`RunningOidcProvider.issuer`). */
  issuer: string;
  email?: string;
  subject?: string;
  type?: 'email' | 'workflow';
  /** Lifetime in seconds (default 300); negative values mint an already expired token. */
  ttl?: number;
  /** Default `sigstore` (the client id). */
  audience?: string;
  nonce?: string;
  /** For `type: 'workflow'`: `owner/repo` (default `sandbox-org/sandbox-repo`). */
  repository?: string;
}

export async function mintIdToken(o: MintOptions): Promise<string> {
  const { signingKey } = await loadOrCreateKeys(o.dir);
  const key = await importJWK(signingKey, signingKey.alg);
  const now = Math.floor(Date.now() / 1000);
  const ttl = o.ttl ?? 300;
  const claims = o.type === 'workflow' ? workflowClaims(o) : emailClaims(o);
  if (o.nonce) claims.nonce = o.nonce;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: signingKey.alg, kid: signingKey.kid, typ: 'JWT' })
    .setIssuer(o.issuer)
    .setAudience(o.audience ?? SANDBOX_CLIENT_ID)
    .setIssuedAt(Math.min(now, now + ttl))
    .setExpirationTime(now + ttl)
    .sign(key);
}

function emailClaims(o: MintOptions): Record<string, unknown> {
  const email = o.email ?? 'sandbox@example.test';
  return { sub: o.subject ?? email, email, email_verified: true };
}

/** The claims GitHub Actions puts in its OIDC tokens (docs.github.com, "About security hardening with OpenID Connect"). */
function workflowClaims(o: MintOptions): Record<string, unknown> {
  const repository = o.repository ?? 'sandbox-org/sandbox-repo';
  const [owner] = repository.split('/');
  const ref = 'refs/heads/main';
  const sha = 'a'.repeat(40);
  const workflowRef = `${repository}/.github/workflows/ci.yml@${ref}`;
  return {
    sub: o.subject ?? `repo:${repository}:ref:${ref}`,
    jti: crypto.randomUUID(),
    ref,
    ref_type: 'branch',
    sha,
    repository,
    repository_owner: owner,
    repository_id: '100001',
    repository_owner_id: '100000',
    repository_visibility: 'public',
    run_id: '1',
    run_number: '1',
    run_attempt: '1',
    actor: owner,
    actor_id: '100000',
    event_name: 'push',
    workflow: 'CI',
    workflow_ref: workflowRef,
    workflow_sha: sha,
    job_workflow_ref: workflowRef,
    job_workflow_sha: sha,
    runner_environment: 'github-hosted',
    head_ref: '',
    base_ref: '',
  };
}
