/**
 * What goes into a leaf for a verified identity token: the single SAN and the
 * Fulcio extensions (fulcio docs/oid-info.md, docs/certificate-specification.md).
 * Pure: claims in, SAN + extension values out.
 */
import { subjectAltName, utf8String, type ExtensionSpec, OID as X509_OID } from './x509-build.js';

export type IssuerType = 'email' | 'github-workflow' | 'uri';

export interface LeafIdentity {
  /** The claim whose raw bytes the proof of possession signs (Fulcio's principal.Name()). */
  challenge: string;
  san: { type: 'email' | 'uri'; value: string };
  /** Extensions after the SAN, in Fulcio's order (ascending OID). */
  extensions: ExtensionSpec[];
}

/** Fulcio config issuerToChallengeClaim: `email` for e-mail issuers, `sub` for all others. */
export function challengeClaimFor(type: IssuerType): 'email' | 'sub' {
  return type === 'email' ? 'email' : 'sub';
}

const FULCIO_ARC = '1.3.6.1.4.1.57264.1.';

/** Thrown when the token's claims do not make an identity (→ invalid identity token). */
export class ClaimError extends Error {}

function str(claims: Record<string, unknown>, name: string): string | undefined {
  const v = claims[name];
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function joinUrl(base: string, ...parts: string[]): string {
  return [base.replace(/\/+$/, ''), ...parts.map((p) => p.replace(/^\/+/, ''))].join('/');
}

/** The leaf identity for verified `claims` of an issuer of `type`. */
export function identityFromClaims(
  type: IssuerType,
  claims: Record<string, unknown>,
  opts: { subjectDomain?: string } = {},
): LeafIdentity {
  const iss = str(claims, 'iss');
  const sub = str(claims, 'sub');
  if (!iss) throw new ClaimError('the token has no "iss" claim');
  if (!sub) throw new ClaimError('the token has no "sub" claim');
  const raw = (n: number, v: string | undefined): ExtensionSpec[] => (v ? [{ oid: FULCIO_ARC + n, value: Buffer.from(v, 'utf8') }] : []);
  const utf8 = (n: number, v: string | undefined): ExtensionSpec[] => (v ? [{ oid: FULCIO_ARC + n, value: utf8String(v) }] : []);

  switch (type) {
    case 'email': {
      const email = str(claims, 'email');
      if (!email) throw new ClaimError('the token has no "email" claim');
      // Fulcio refuses unverified addresses (docs/oidc.md, email issuers).
      if (claims.email_verified !== true) throw new ClaimError('the token\'s e-mail address is not verified ("email_verified" is not true)');
      return { challenge: email, san: { type: 'email', value: email }, extensions: [...raw(1, iss), ...utf8(8, iss)] };
    }
    case 'uri': {
      let url: URL;
      try {
        url = new URL(sub);
      } catch {
        throw new ClaimError('the token\'s "sub" claim is not a URI');
      }
      if (opts.subjectDomain && url.hostname !== opts.subjectDomain) {
        throw new ClaimError(`the token's subject host "${url.hostname}" is not the issuer's subject domain`);
      }
      return { challenge: sub, san: { type: 'uri', value: sub }, extensions: [...raw(1, iss), ...utf8(8, iss)] };
    }
    case 'github-workflow': {
      const c = (n: string) => str(claims, n);
      const jobWorkflowRef = c('job_workflow_ref');
      if (!jobWorkflowRef) throw new ClaimError('the token has no "job_workflow_ref" claim');
      const base = c('server_url') ?? 'https://github.com';
      const under = (v: string | undefined, ...rest: string[]) => (v ? joinUrl(base, v, ...rest) : undefined);
      const repo = c('repository');
      const runId = c('run_id');
      const attempt = c('run_attempt');
      const signer = joinUrl(base, jobWorkflowRef);
      return {
        challenge: sub,
        san: { type: 'uri', value: signer },
        extensions: [
          ...raw(1, iss),
          ...raw(2, c('event_name')),
          ...raw(3, c('sha')),
          ...raw(4, c('workflow')),
          ...raw(5, repo),
          ...raw(6, c('ref')),
          ...utf8(8, iss),
          ...utf8(9, signer),
          ...utf8(10, c('job_workflow_sha')),
          ...utf8(11, c('runner_environment')),
          ...utf8(12, under(repo)),
          ...utf8(13, c('sha')),
          ...utf8(14, c('ref')),
          ...utf8(15, c('repository_id')),
          ...utf8(16, under(c('repository_owner'))),
          ...utf8(17, c('repository_owner_id')),
          ...utf8(18, under(c('workflow_ref'))),
          ...utf8(19, c('workflow_sha')),
          ...utf8(20, c('event_name')),
          ...utf8(21, repo && runId && attempt ? joinUrl(base, repo, 'actions/runs', runId, 'attempts', attempt) : undefined),
          ...utf8(22, c('repository_visibility')),
          ...utf8(23, c('environment')),
          ...utf8(24, sub),
        ],
      };
    }
  }
}

/** The critical SubjectAltName extension for `identity` (Fulcio: exactly one SAN, critical). */
export function sanExtension(identity: LeafIdentity): ExtensionSpec {
  return { oid: X509_OID.subjectAltName, critical: true, value: subjectAltName(identity.san) };
}
