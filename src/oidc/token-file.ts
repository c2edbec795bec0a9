/**
 * A token file kept fresh by the platform, e.g. a Kubernetes projected service
 * account token at cosign's path /var/run/sigstore/cosign/oidc-token. Read on
 * every use because the platform rotates it. GITSEAL_TOKEN_FILE overrides the path.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { GitsealError, describeError, fsReason } from '../errors.js';

export const DEFAULT_TOKEN_FILE = '/var/run/sigstore/cosign/oidc-token';
const MAX = 64 * 1024;

export function tokenFilePath(env: NodeJS.ProcessEnv): string {
  return env.GITSEAL_TOKEN_FILE || DEFAULT_TOKEN_FILE;
}

export function tokenFileApplies(env: NodeJS.ProcessEnv): boolean {
  try {
    return statSync(tokenFilePath(env)).isFile();
  } catch {
    return false;
  }
}

export function tokenFromFile(env: NodeJS.ProcessEnv): string {
  const path = tokenFilePath(env);
  let text: string;
  try {
    // At most MAX + 1 bytes whatever the path names: a FIFO or a device (tokenProvider "file"
    // with GITSEAL_TOKEN_FILE=/dev/zero) has no size to check first and may never end.
    const buf = Buffer.allocUnsafe(MAX + 1);
    let n = 0;
    const fd = openSync(path, 'r');
    try {
      for (let k; n <= MAX && (k = readSync(fd, buf, n, MAX + 1 - n, null)) > 0; ) n += k;
    } finally {
      closeSync(fd);
    }
    if (n > MAX) throw new GitsealError('BAD_TOKEN', `the token file ${path} is too large`);
    text = buf.toString('utf8', 0, n).trim();
  } catch (e) {
    if (e instanceof GitsealError) throw e;
    throw new GitsealError('NO_TOKEN', `cannot read the token file ${path}: ${fsReason(e) ?? describeError(e)}`);
  }
  if (!text) throw new GitsealError('NO_TOKEN', `the token file ${path} is empty`);
  return text;
}
