/** Contracts between the signing orchestrator, the agent and the OIDC layer. */
import type { KeyObject } from 'node:crypto';

/** An OIDC identity token and what gitseal needs to know about it. */
export interface IdentityToken {
  /** The raw JWT. Never log or print it. */
  raw: string;
  issuer: string;
  subject: string;
  email?: string;
  expiresAt: Date;
}

/** An ephemeral key and the Fulcio certificate chain that binds it to an identity. */
export interface Credential {
  privateKey: KeyObject;
  /** DER certificates, leaf first, then intermediates and root as Fulcio returned them. */
  chain: Buffer[];
  notBefore: Date;
  notAfter: Date;
  /** SAN e-mail or URI of the leaf. */
  identity: string;
  issuer: string;
}

/**
 * Something that signs DER signed attributes with a certified key: the local
 * ephemeral signer, or the agent (which never hands out the key).
 */
export interface AttributeSigner {
  /** ECDSA-P256-SHA256 over `signedAttrs` (DER SET). */
  sign(signedAttrs: Buffer): Promise<{ signature: Buffer; chain: Buffer[] }>;
}
