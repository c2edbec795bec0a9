/** The sandbox's OpenID provider (oidc-provider) and a token minter for tests and the CLI. */
export { startOidcProvider, SANDBOX_CLIENT_ID, SANDBOX_CONFIDENTIAL_CLIENT_ID, clientSecretPath } from './provider.js';
export type { OidcProviderOptions, OidcProviderStats, RunningOidcProvider } from './provider.js';
export { mintIdToken } from './mint.js';
export type { MintOptions } from './mint.js';
