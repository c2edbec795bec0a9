/**
 * Device login (RFC 8628): ask for a device code (§3.1), show the verification
 * URL and user code on the terminal (§3.3), poll the token endpoint honouring
 * `interval` and `slow_down` (§3.4, §3.5 — openid-client does both).
 */
import { GitsealError } from '../errors.js';
import { acceptIdToken, loginError, type OidcClient } from './client.js';

export interface DeviceLoginOptions {
  say(line: string): void;
  now(): number;
  /** Give up sooner than the device code's own expiry. */
  timeoutMs?: number;
  connectorID?: string;
}

/** The longest a device login waits for approval, whatever the issuer's expires_in says. */
export const MAX_DEVICE_LOGIN_MS = 30 * 60_000;

export async function deviceLogin(client: OidcClient, o: DeviceLoginOptions): Promise<string> {
  const { oc, config } = client;
  if (!config.serverMetadata().device_authorization_endpoint) {
    throw new GitsealError('LOGIN_FAILED', `the issuer ${client.issuer} does not offer device login (RFC 8628); use the browser login`);
  }
  const params: Record<string, string> = { scope: 'openid email' };
  if (o.connectorID) params.connector_id = o.connectorID;
  let da: Awaited<ReturnType<typeof oc.initiateDeviceAuthorization>>;
  try {
    da = await oc.initiateDeviceAuthorization(config, params);
  } catch (e) {
    throw loginError(e, client.issuer);
  }
  o.say(`To sign in, open ${da.verification_uri} and enter the code ${da.user_code}`);
  if (da.verification_uri_complete) o.say(`  or open ${da.verification_uri_complete}`);

  // expires_in is the issuer's word: a huge or fractional one made AbortSignal.timeout throw a
  // RangeError (an "internal error"), and a person could be left polling for days.
  if (!Number.isFinite(da.expires_in) || da.expires_in <= 0) {
    throw new GitsealError('LOGIN_FAILED', `the issuer ${client.issuer} gave a device code without a usable lifetime (expires_in)`);
  }
  const limitMs = Math.max(1000, Math.floor(Math.min(da.expires_in * 1000, o.timeoutMs ?? MAX_DEVICE_LOGIN_MS)));
  const signal = AbortSignal.timeout(limitMs);
  try {
    const tokens = await oc.pollDeviceAuthorizationGrant(config, da, undefined, { signal });
    return acceptIdToken(client, tokens, undefined, o.now());
  } catch (e) {
    if (signal.aborted) {
      throw new GitsealError('LOGIN_TIMEOUT', `the device code was not approved within ${Math.round(limitMs / 1000)} s; run the command again`);
    }
    const code = (e as { error?: string }).error;
    if (code === 'access_denied') throw new GitsealError('LOGIN_FAILED', 'the device login was refused in the browser');
    if (code === 'expired_token') throw new GitsealError('LOGIN_TIMEOUT', 'the device code expired before it was approved; run the command again');
    throw loginError(e, client.issuer);
  }
}
