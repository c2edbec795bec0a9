/**
 * The sandbox's entries for a Sigstore TrustedRoot (protobuf-specs
 * sigstore_trustroot.proto, media type v0.1, proto JSON: bytes in base64,
 * times RFC 3339): one CertificateAuthority per CA generation and the CT log.
 */
import { openCtLog } from '../ct/log.js';
import { listCaGenerations, openCa, ROOT_NAME, type SandboxCa } from './ca.js';

export const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';

export interface CertificateAuthorityJson {
  subject: { organization: string; commonName: string };
  uri: string;
  certChain: { certificates: { rawBytes: string }[] };
  validFor: { start: string; end?: string };
}

export interface CtLogJson {
  baseUrl: string;
  hashAlgorithm: 'SHA2_256';
  publicKey: { rawBytes: string; keyDetails: string; validFor: { start: string } };
  logId: { keyId: string };
}

export interface TrustedRootFragment {
  certificateAuthorities: CertificateAuthorityJson[];
  ctlogs: CtLogJson[];
}

export interface TrustedRootFragmentOptions {
  /** The sandbox directory (DIR). */
  dir: string;
  /** Base URL of the sandbox Fulcio, e.g. http://127.0.0.1:PORT. */
  fulcioURL: string;
  /** Base URL recorded for the CT log (the CT log is in-process; default `${fulcioURL}/ct`). */
  ctLogURL?: string;
  /** The CA generation the service issues from (default 1). */
  activeGeneration?: number;
  /**
   * 'all' (default): every generation up to the active one, older ones ending
   * where the next began, as a real trusted root keeps retired CAs; 'active': only the active CA.
   */
  generations?: 'all' | 'active';
}

function caEntry(ca: SandboxCa, uri: string, end?: Date): CertificateAuthorityJson {
  return {
    subject: { organization: ROOT_NAME.organization!, commonName: ROOT_NAME.commonName! },
    uri,
    certChain: { certificates: [ca.intermediate, ca.root].map((c) => ({ rawBytes: c.toString('base64') })) },
    validFor: end ? { start: ca.createdAt.toISOString(), end: end.toISOString() } : { start: ca.createdAt.toISOString() },
  };
}

/** `certificateAuthorities[]` and `ctlogs[]` for DIR/trusted_root.json. */
export function trustedRootFragment(opts: TrustedRootFragmentOptions): TrustedRootFragment {
  const active = opts.activeGeneration ?? 1;
  const fulcioURL = opts.fulcioURL.replace(/\/+$/, '');
  const activeCa = openCa({ dir: opts.dir, generation: active });
  const older =
    opts.generations === 'active'
      ? []
      : listCaGenerations(opts.dir)
          .filter((g) => g < active)
          .map((g) => openCa({ dir: opts.dir, generation: g }));
  const cas = [...older, activeCa];
  const certificateAuthorities = cas.map((ca, i) => caEntry(ca, fulcioURL, i < cas.length - 1 ? cas[i + 1].createdAt : undefined));
  const ct = openCtLog({ dir: opts.dir });
  return {
    certificateAuthorities,
    ctlogs: [
      {
        baseUrl: opts.ctLogURL ?? `${fulcioURL}/ct`,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: ct.publicKey.toString('base64'), keyDetails: ct.keyDetails, validFor: { start: ct.createdAt.toISOString() } },
        logId: { keyId: ct.logId.toString('base64') },
      },
    ],
  };
}
