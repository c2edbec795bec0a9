/** Shared helpers for the sandbox Fulcio/CT tests: temp dirs, openssl, HTTP. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { encodePem } from '../../src/util/pem.js';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A maker of fresh temporary directories `prefix…`; call at the top of a test file: they are removed after all its tests. */
export function tempDirsRemovedAfterAll(prefix: string): () => string {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  return () => {
    const d = tempDir(prefix);
    dirs.push(d);
    return d;
  };
}

/** Write DER certificates as PEM files in `dir`; returns their paths. */
export function writePems(dir: string, certs: Record<string, Buffer>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, der] of Object.entries(certs)) {
    out[name] = join(dir, `${name}.pem`);
    writeFileSync(out[name], encodePem('CERTIFICATE', der));
  }
  return out;
}

export function openssl(args: string[], input?: string | Buffer): string {
  return execFileSync('openssl', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

/** `openssl x509 -text` of a PEM file. */
export function x509Text(pemFile: string): string {
  return openssl(['x509', '-in', pemFile, '-noout', '-text']);
}

/** Run `openssl verify`; returns [ok, combined output]. */
export function opensslVerify(args: string[]): [boolean, string] {
  try {
    return [true, execFileSync('openssl', ['verify', ...args], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] })];
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return [false, `${err.stdout ?? ''}${err.stderr ?? ''}`];
  }
}

export async function listen(handler: (req: any, res: any) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export function close(server: Server | undefined): Promise<void> {
  return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
}
