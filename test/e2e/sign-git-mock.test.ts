/**
 * Signing e2e against @sigstore/mock (sigstore-js's Fulcio v2 / Rekor v1 mock,
 * real cryptography, mounted on 127.0.0.1): an independent peer to the
 * project's sandbox, so our client is not only tested against our own servers.
 */
import { deadPort, startMockSigstore, testToken } from '../sign/mock-sigstore.js';
import { signingSuite } from './sign-suite.js';

signingSuite('@sigstore/mock', async (dir) => {
  const mock = await startMockSigstore(dir);
  return {
    env: {
      GITSEAL_FULCIO_URL: mock.url,
      GITSEAL_REKOR_URL: mock.url,
      GITSEAL_OIDC_ISSUER: mock.url,
      GITSEAL_TRUSTED_ROOT: mock.trustedRootPath,
      SIGSTORE_ID_TOKEN: testToken(mock.url, 'dev@example.test'),
    },
    trustedRootPath: mock.trustedRootPath,
    rootPem: mock.rootPem,
    intermediatesPem: '',
    identity: 'dev@example.test', // the mock puts the e-mail in a URI SAN
    async breakService(service) {
      const dead = `http://127.0.0.1:${await deadPort()}`;
      return {
        env: service === 'Fulcio' ? { GITSEAL_FULCIO_URL: dead } : { GITSEAL_REKOR_URL: dead },
        expect: new RegExp(`gitseal: ${service}: cannot reach ${dead.replace(/[.]/g, '\\.')} \\(connection refused\\)`),
        undo: async () => {},
      };
    },
    async flaky(service, times) {
      mock.failNext(service === 'Fulcio' ? '/api/v2/signingCert' : '/api/v1/log/entries', 503, times, { 'retry-after': '0' });
    },
    close: () => mock.close(),
  };
});
