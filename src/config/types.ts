/**
 * The configuration gitseal runs with, resolved from git config and the
 * environment (see src/config/load.ts for names and precedence).
 */
export type TokenProviderName =
  | 'auto'
  | 'env'
  | 'github-actions'
  | 'gitlab'
  | 'buildkite'
  | 'file'
  | 'browser'
  | 'device'
  | 'google-workload-identity'
  // gitsign's providers gitseal does not implement: refused when a token is needed, naming the way that works.
  | 'spiffe'
  | 'google-impersonation';

export interface GitsealConfig {
  fulcioURL: string;
  rekorURL: string;
  /** 1 (default, SET-backed time) or 2 (rekor-tiles; needs a TSA). */
  rekorVersion: 1 | 2;
  issuer: string;
  clientID: string;
  connectorID?: string;
  redirectURL?: string;
  /**
   * A file holding the OIDC client secret, for an issuer whose client is confidential (gitsign's
   * clientSecretFile). Read only when a browser or device login runs; the secret itself is never
   * kept in the configuration, printed or sent anywhere but the issuer's token endpoint.
   */
  clientSecretFile?: string;
  tokenProvider: TokenProviderName;
  /** Command template for opening the browser, `{{.URL}}` substituted; no shell. */
  urlOpener?: string;
  /** Path of a TrustedRoot JSON; absent: user cache (TUF) or the embedded public-good root. */
  trustedRoot?: string;
  signingConfig?: string;
  /** A PEM bundle of Fulcio CA certificates (gitsign's fulcioRoot); see src/trust/load.ts. */
  fulcioRoot?: string;
  timestampServerURL?: string;
  /** PEM chain of a timestamp authority trusted for verification (gitsign's timestampCertChain); see src/trust/load.ts. */
  timestampCertChain?: string;
  /** Browser login: the success page closes itself after `autocloseTimeout` seconds (gitsign's autoclose; absent: true). */
  autoclose?: boolean;
  /** Seconds (absent: 6, gitsign's default). */
  autocloseTimeout?: number;
  /** Never touch the network while verifying. */
  offline: boolean;
  /**
   * Time budget of one online Rekor lookup (an online-mode gitsign signature), every request
   * included (gitseal.rekorSearchTimeout, seconds; default 5). Absent: the default.
   */
  rekorSearchTimeoutMs?: number;
  /** Policy for the git --verify path. */
  allowedSignersFile?: string;
  matchCommitter: boolean;
  /** 'auto' (default): use/start the agent; 'on'; 'off'. */
  agent: 'auto' | 'on' | 'off';
  logPath?: string;
  userEmail?: string;
  userName?: string;
  /** Where each value came from ("git config gitseal.fulcio", "env GITSEAL_FULCIO_URL", "default"). */
  sources: Record<string, string>;
  /** Problems worth telling a person about (unknown gitseal.* keys, with the closest valid name). */
  warnings?: string[];
  /**
   * gitsign settings gitseal recognises but does not apply (src/config/gitsign-settings.ts), and
   * unusable values of settings it does apply; src/config/notices.ts says where they are shown.
   */
  notices?: Array<{ name: string; message: string; id: string }>;
  /**
   * cwd is inside a repository owned by someone else that safe.directory does not allow: its
   * configuration was ignored, as git ignores it (src/config/safe-directory.ts). Commands that
   * need the repository refuse it with this message.
   */
  untrustedRepository?: { path: string; message: string };
}

export const PUBLIC_GOOD = {
  fulcioURL: 'https://fulcio.sigstore.dev',
  rekorURL: 'https://rekor.sigstore.dev',
  issuer: 'https://oauth2.sigstore.dev/auth',
  clientID: 'sigstore',
} as const;
