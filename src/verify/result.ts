/** What verification reports, shared by the pipeline, the gpg status writer and the CLI. */
import type { ErrorCode } from '../errors.js';

/** The checks of the pipeline, in the order they run. */
export type CheckName = 'parse' | 'content-type' | 'message-digest' | 'signature' | 'tlog' | 'chain' | 'sct' | 'time' | 'policy';

export interface CertificateDetails {
  /** Serial number, lowercase hex. */
  serial: string;
  issuer: string;
  subject: string;
  notBefore: Date;
  notAfter: Date;
  emails: string[];
  uris: string[];
  /** Fulcio claim extensions by name (githubWorkflowRepository, sourceRepositoryURI, …). */
  claims: Record<string, string>;
}

export interface VerifyResult {
  /** True only for a good signature that also satisfies the policy (or no policy was given). */
  ok: boolean;
  /** good: every check passed; bad: the signature does not match the content; error: anything else not established. */
  kind: 'good' | 'bad' | 'error';
  identity?: string;
  issuer?: string;
  /** Lowercase hex SHA-1 of the leaf DER (gitsign's key id). */
  fingerprint?: string;
  logIndex?: bigint;
  /** Rekor integrated time from a verified SET, or (Rekor v2) the time of a verified RFC 3161 token. */
  integratedTime?: Date;
  /** Where integratedTime comes from: the log's SET, or (Rekor v2, no time of its own) this timestamp authority's token. */
  timeFrom?: { tsa: string };
  /** The signer's own claim of time (CMS signingTime); never trusted. */
  signingTime?: Date;
  certificate?: CertificateDetails;
  /** undefined: no policy configured; true/false: the policy's verdict on a good signature. */
  policyMatched?: boolean;
  /** What the policy allows (when one was given). */
  policy?: string;
  failedCheck?: CheckName;
  /** The SCT check was skipped on request (--insecure-ignore-sct): not a full verification. */
  sctSkipped?: boolean;
  code?: ErrorCode;
  /** One line for people. */
  message: string;
}
