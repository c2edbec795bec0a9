/**
 * The files a running sandbox publishes in DIR for clients:
 *   trusted_root.json   Sigstore TrustedRoot (protobuf-specs sigstore_trustroot.proto, proto JSON)
 *   signing_config.json SigningConfig v0.2 with the sandbox's service URLs
 *   env                 shell `export` lines pointing gitseal at the sandbox
 *   sandbox.json        URLs, ports, pid, file paths and the control endpoint (written last: "ready")
 */
import { join } from 'node:path';

export const SIGNING_CONFIG_MEDIA_TYPE = 'application/vnd.dev.sigstore.signingconfig.v0.2+json';
export const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';
const OPERATOR = 'gitseal-sandbox';

export interface SandboxUrls {
  oidc: string;
  fulcio: string;
  rekor: string;
  /** RFC 3161 timestamp URL (full, …/api/v1/timestamp). */
  tsa?: string;
  /** Rekor v2 (rekor-tiles) base URL. */
  rekorV2?: string;
}

export interface SandboxFiles {
  trustedRoot: string;
  signingConfig: string;
  env: string;
  sandbox: string;
}

/** What `DIR/sandbox.json` holds; other tools read it to find a running sandbox. */
export interface SandboxInfo {
  pid: number;
  dir: string;
  host: string;
  urls: SandboxUrls;
  ports: { oidc: number; fulcio: number; rekor: number; tsa?: number; rekorV2?: number };
  files: SandboxFiles;
  /** Loopback control endpoint for `fault`, `stats` and `stop`; bearer token required. */
  control: { url: string; token: string };
  startedAt: string;
}

export function sandboxFiles(dir: string): SandboxFiles {
  return {
    trustedRoot: join(dir, 'trusted_root.json'),
    signingConfig: join(dir, 'signing_config.json'),
    env: join(dir, 'env'),
    sandbox: join(dir, 'sandbox.json'),
  };
}

/** The tlog entry of a trusted root for the sandbox Rekor. */
export interface TlogInput {
  baseUrl: string;
  publicKeyDer: Buffer;
  logId: Buffer;
  validFrom: Date;
}

/** Assemble the TrustedRoot from Fulcio's CA/CT part and the Rekor key. */
export function trustedRootJson(fulcioPart: { certificateAuthorities: unknown[]; ctlogs: unknown[] }, rekor: TlogInput): object {
  return {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE,
    tlogs: [
      {
        baseUrl: rekor.baseUrl,
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: rekor.publicKeyDer.toString('base64'),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { start: rekor.validFrom.toISOString() },
        },
        logId: { keyId: rekor.logId.toString('base64') },
      },
    ],
    certificateAuthorities: fulcioPart.certificateAuthorities,
    ctlogs: fulcioPart.ctlogs,
    timestampAuthorities: [],
  };
}

/** SigningConfig v0.2 (sigstore_trustroot.proto): base URLs, v1 APIs, valid from `since`. */
export function signingConfigJson(urls: SandboxUrls, since: Date): object {
  const service = (url: string) => ({ url, majorApiVersion: 1, validFor: { start: since.toISOString() }, operator: OPERATOR });
  return {
    mediaType: SIGNING_CONFIG_MEDIA_TYPE,
    caUrls: [service(urls.fulcio)],
    oidcUrls: [service(urls.oidc)],
    rekorTlogUrls: [service(urls.rekor)],
    tsaUrls: [],
    rekorTlogConfig: { selector: 'ANY' },
    tsaConfig: { selector: 'ANY' },
  };
}

/** POSIX shell single-quoting. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `export` lines for `. DIR/env`. */
export function envFile(urls: SandboxUrls, trustedRootPath: string): string {
  const vars: [string, string][] = [
    ['GITSEAL_FULCIO_URL', urls.fulcio],
    ['GITSEAL_REKOR_URL', urls.rekor],
    ['GITSEAL_OIDC_ISSUER', urls.oidc],
    ['GITSEAL_OIDC_CLIENT_ID', 'sigstore'],
    ['GITSEAL_TRUSTED_ROOT', trustedRootPath],
  ];
  return '# gitseal sandbox: source this file (. ./env) to sign and verify against it\n' + vars.map(([k, v]) => `export ${k}=${shellQuote(v)}\n`).join('');
}
