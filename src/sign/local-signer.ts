/**
 * The in-process AttributeSigner: signs CMS signed attributes with the
 * ephemeral key of a Credential. The key stays in memory, is never exported,
 * and the reference is dropped by dispose() once the signature is made.
 */
import { sign } from 'node:crypto';
import { GitsealError } from '../errors.js';
import type { AttributeSigner, Credential } from './types.js';

export interface LocalSigner extends AttributeSigner {
  /** Forget the private key; later sign() calls fail. */
  dispose(): void;
}

export function localSigner(cred: Credential, now: () => Date = () => new Date()): LocalSigner {
  let key: Credential['privateKey'] | undefined = cred.privateKey;
  return {
    async sign(signedAttrs: Buffer) {
      if (!key) throw new GitsealError('INTERNAL', 'the signing key was already discarded');
      if (now().getTime() > cred.notAfter.getTime()) {
        throw new GitsealError('TIME', `the signing certificate expired at ${cred.notAfter.toISOString()}`);
      }
      // ECDSA P-256 over SHA-256(DER signed attributes), DER Ecdsa-Sig-Value (RFC 5652 §5.4, RFC 5753 §3).
      const signature = sign('sha256', signedAttrs, { key, dsaEncoding: 'der' });
      return { signature, chain: cred.chain };
    },
    dispose() {
      key = undefined;
    },
  };
}
