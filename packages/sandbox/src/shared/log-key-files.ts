/**
 * The on-disk identity of the sandbox's transparency logs (rekor/log-key.ts, rekor-v2/log-key.ts):
 * DIR/key.pem (PKCS#8, 0600) and DIR/log.json (metadata, at least `createdAt`), persisted so a
 * restart on the same directory serves the same log.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './private-files.js';

export interface LogKeyFiles {
  privateKey: KeyObject;
  /** The parsed log.json: the caller checks its fields (a damaged file must not start a log). */
  meta: Record<string, unknown>;
  metaPath: string;
}

/**
 * Load the log key and metadata from `dir`, or on first use make the key with `generate`
 * and the metadata with `meta(createdAt)`, where createdAt is `now` in whole seconds (trusted
 * roots carry RFC 3339 times, SETs second-resolution integratedTime) and a minute back.
 */
export function loadOrCreateLogKey(dir: string, o: { now: Date; generate(): KeyObject; meta(createdAt: string): Record<string, unknown> }): LogKeyFiles {
  const keyPath = join(dir, 'key.pem');
  const metaPath = join(dir, 'log.json');
  if (existsSync(keyPath) && existsSync(metaPath)) {
    return { privateKey: createPrivateKey(readFileSync(keyPath)), meta: JSON.parse(readFileSync(metaPath, 'utf8')) as Record<string, unknown>, metaPath };
  }
  const privateKey = o.generate();
  const createdAt = new Date(Math.floor(o.now.getTime() / 1000) * 1000 - 60_000);
  const meta = o.meta(createdAt.toISOString());
  writeFileAtomic(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  writeFileAtomic(metaPath, JSON.stringify(meta, null, 2) + '\n');
  return { privateKey, meta, metaPath };
}
