/**
 * The Google metadata server's identity token for the attached service account — what gitsign
 * and cosign call the "google-workload-identity" provider (google.golang.org/api/idtoken on
 * Compute Engine, GKE Workload Identity, Cloud Run, Cloud Build):
 *
 *   GET http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/identity?audience=<aud>&format=full
 *   Metadata-Flavor: Google
 *
 * answers the JWT as the body (cloud.google.com/compute/docs/instances/verifying-instance-identity).
 * `format=full` puts the service account's e-mail in the token, which Fulcio certifies.
 * GCE_METADATA_HOST (host[:port]) names another metadata server, as Google's own client
 * libraries honour it (and tests use it for a local stand-in).
 *
 * The request carries no credential of ours; the answer is bounded, must come from a server
 * that says it is the metadata server (Metadata-Flavor: Google), and is only a token to hand
 * to Fulcio, which checks it.
 */
import { GitsealError } from '../errors.js';
import { request } from '../util/http.js';
import { redactTokens } from './jwt.js';

export const DEFAULT_METADATA_HOST = 'metadata.google.internal';
const IDENTITY_PATH = '/computeMetadata/v1/instance/service-accounts/default/identity';
const MAX_TOKEN_BYTES = 64 * 1024;

/** The metadata server's base URL from GCE_METADATA_HOST (host[:port], or an http:// URL without a path). */
export function metadataBase(env: NodeJS.ProcessEnv): string {
  const raw = (env.GCE_METADATA_HOST ?? '').trim();
  if (!raw) return `http://${DEFAULT_METADATA_HOST}`;
  let u: URL;
  try {
    u = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new GitsealError('CONFIG', 'GCE_METADATA_HOST must be host[:port] of a metadata server');
  }
  if (u.protocol !== 'http:' || (u.pathname !== '/' && u.pathname !== '') || u.search || u.username || u.password) {
    throw new GitsealError('CONFIG', 'GCE_METADATA_HOST must be host[:port] of a metadata server (plain http, no path)');
  }
  return `http://${u.host}`;
}

export async function googleMetadataToken(env: NodeJS.ProcessEnv, audience: string): Promise<string> {
  const base = metadataBase(env);
  const url = `${base}${IDENTITY_PATH}?audience=${encodeURIComponent(audience)}&format=full`;
  const where = `the Google metadata server (${base})`;
  let r;
  try {
    r = await request(url, { method: 'GET', headers: { 'metadata-flavor': 'Google', accept: 'text/plain' } }, {
      service: 'Google metadata server',
      code: 'OIDC',
      timeoutMs: 10_000,
      totalTimeoutMs: 30_000,
      retries: 2,
      maxBytes: MAX_TOKEN_BYTES,
    });
  } catch (e) {
    const why = e instanceof GitsealError ? e.message : String(e);
    throw new GitsealError(
      'NO_TOKEN',
      redactTokens(`tokenProvider is "google-workload-identity" but ${why}; this works on Google Cloud (Compute Engine, GKE with Workload Identity, Cloud Run, Cloud Build), or with GCE_METADATA_HOST set`),
      e,
    );
  }
  if (r.headers.get('metadata-flavor') !== 'Google') {
    throw new GitsealError('NO_TOKEN', `${base} did not answer as a Google metadata server (no "Metadata-Flavor: Google" header); is GCE_METADATA_HOST right?`);
  }
  if (r.status !== 200) {
    const hint =
      r.status === 404
        ? ': no service account is attached to this workload'
        : r.status === 403
          ? ': the metadata server refused (on GKE, is Workload Identity enabled for this service account?)'
          : '';
    throw new GitsealError('NO_TOKEN', `${where} answered HTTP ${r.status}${hint}`);
  }
  const token = r.body.toString('utf8').trim();
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) {
    throw new GitsealError('BAD_TOKEN', `${where} did not answer with an identity token`);
  }
  return token;
}
