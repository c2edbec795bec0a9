/**
 * The sandbox OpenID provider's persistent secrets: one RSA signing key (RS256,
 * what Dex and Fulcio use by default) and the cookie-signing keys. They live in
 * DIR/oidc/keys.json (0600 in a 0700 directory) so a restarted provider keeps
 * its JWKS and tokens minted earlier (or by `mintIdToken`) stay valid.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { GitsealError } from '../gitseal/errors.js';

export interface ProviderKeys {
  /** Private JWK with `kid`, `alg`, `use`. */
  signingKey: JWK & { kid: string; alg: string };
  cookieKeys: string[];
}

export function oidcDir(dir: string): string {
  return join(dir, 'oidc');
}

/** Load DIR/oidc/keys.json, creating it on first use (race-free: link(2) refuses to overwrite). */
export async function loadOrCreateKeys(dir: string): Promise<ProviderKeys> {
  const d = oidcDir(dir);
  mkdirSync(d, { recursive: true, mode: 0o700 });
  chmodSync(d, 0o700);
  const file = join(d, 'keys.json');
  const existing = readKeys(file);
  if (existing) return existing;

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  // RFC 7638 thumbprint as kid: stable, and derived from the public part only.
  const kid = await calculateJwkThumbprint({ kty: jwk.kty, n: jwk.n, e: jwk.e });
  const keys: ProviderKeys = {
    signingKey: { ...jwk, kid, alg: 'RS256', use: 'sig' },
    cookieKeys: [randomBytes(32).toString('base64url')],
  };
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, JSON.stringify(keys), { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
  // Whoever linked first wins; everyone uses the file's content.
  const stored = readKeys(file);
  if (!stored) throw new GitsealError('OIDC', `cannot read the sandbox OpenID keys in ${file}`);
  return stored;
}

function readKeys(file: string): ProviderKeys | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const k = JSON.parse(text) as ProviderKeys;
    if (!k.signingKey?.kid || !k.signingKey.d || !Array.isArray(k.cookieKeys)) throw new Error('incomplete');
    return k;
  } catch {
    throw new GitsealError('OIDC', `the sandbox OpenID key file ${file} is damaged; delete it to start over`);
  }
}

/** The public half of the signing key, as served in the JWKS. */
export function publicJwk(k: ProviderKeys['signingKey']): JWK {
  return { kty: k.kty, n: k.n, e: k.e, kid: k.kid, alg: k.alg, use: 'sig' };
}
