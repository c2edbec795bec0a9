/**
 * Last line of defence against secrets in anything the CLI prints: JWTs (OIDC
 * identity tokens), PEM private keys, and the values of token-bearing
 * environment variables. Engines should never put them in messages; this
 * catches it if one does.
 */

/** Environment variables whose values are credentials. */
export function isSecretEnvName(name: string): boolean {
  return /TOKEN|SECRET|PASSWORD|PASSPHRASE|PRIVATE|CREDENTIAL|_KEY$/i.test(name);
}

const JWT = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;
const PRIVATE_PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g;

export function redactSecrets(text: string): string {
  return text.replace(JWT, '[redacted token]').replace(PRIVATE_PEM, '[redacted private key]');
}

/** "eyJh…(1234 chars)" style description that proves presence without revealing. */
export function describeSecret(value: string | undefined): string {
  if (value === undefined) return 'unset';
  return `set (${value.length} characters, hidden)`;
}
