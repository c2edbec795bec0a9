// What the benchmarks call from gitseal's source, bundled on the fly by
// scripts/bench/run.mjs (so the bench does not depend on which modules the
// product entries happen to import).
export { readRange, readObjects, revList } from '../../src/git/reader.js';
export { parseCommit, parseSignedObject } from '../../src/git/object.js';
export { verifyRange, verifyRangeAll, summarize } from '../../src/verify/batch.js';
export { VerifiedCache } from '../../src/verify/cache.js';
export { verifySignature } from '../../src/verify/pipeline.js';
export { parseTrustedRoot } from '../../src/trust/trusted-root.js';
export { cryptoFloorOps, cryptoFloorInputs } from './floor.js';
export { clearMemos as clearVerifyMemos } from '../../src/x509/verified-memo.js';
// Signing against the local sandbox, for fixtures with real, distinct signatures.
export { signPayload } from '../../src/sign/sign-payload.js';
export { obtainCredential } from '../../src/sign/credential.js';
export { localSigner } from '../../src/sign/local-signer.js';
export { loadConfig } from '../../src/config/load.js';
export { toIdentityToken } from '../../src/oidc/get-token.js';
export { signatureCheckCount } from '../../src/x509/signature.js';
