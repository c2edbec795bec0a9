/**
 * gitseal-sandbox as a library: start the whole local Sigstore in process and mint ID tokens
 * its provider accepts. A test and demo stand-in, never a production service (README.md).
 *
 *   import { startSandbox, mintIdToken } from 'gitseal-sandbox';
 *   const sb = await startSandbox({ dir });            // writes dir/env, trusted_root.json, …
 *   const token = await mintIdToken({ dir, issuer: sb.issuers.email, email: 'me@example.test' });
 *   await sb.close();
 */
export { startSandbox, WORKFLOW_ISSUER_PATH, URI_ISSUER_PATH } from './runner.js';
export type { RunningSandbox, SandboxOptions, SandboxStats } from './runner.js';
export type { SandboxFiles, SandboxInfo, SandboxUrls } from './runner-files.js';
export { SERVICES, parseFaultSpec, FaultSpecError } from './faults.js';
export type { ServiceName, FaultSpec } from './faults.js';
export { mintIdToken, startOidcProvider, SANDBOX_CLIENT_ID, SANDBOX_CONFIDENTIAL_CLIENT_ID, clientSecretPath } from './oidc/index.js';
export type { MintOptions, OidcProviderOptions, OidcProviderStats, RunningOidcProvider } from './oidc/index.js';
