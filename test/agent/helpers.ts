/**
 * Test helpers for the agent: a throwaway CA made with the real openssl binary (for unit tests
 * that must not depend on the sandbox), and signed attributes taken from real gitsign
 * signatures in the vendored corpus.
 */
import { execFileSync } from 'node:child_process';
import { type KeyObject, X509Certificate, generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync, symlinkSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { children, parseDer } from '../../src/util/der.js';
import { decodePem } from '../../src/util/pem.js';
import type { Credential } from '../../src/sign/types.js';

export const CORPUS = fileURLToPath(new URL('../fixtures/gitsign-corpus/', import.meta.url));

export interface TestCa {
  dir: string;
  issue(email: string, notAfter: Date, now?: Date): Credential;
}

/** A P-256 CA on disk (test-only key), issuing code-signing leaves with an e-mail SAN. */
export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'gitseal-agent-ca-'));
  created.push(dir);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem'), '-subj', '/O=gitseal-test/CN=agent test CA', '-days', '2'], { stdio: 'pipe' });
  const caDer = new X509Certificate(readFileSync(join(dir, 'ca.pem'))).raw;
  let serial = 1;
  return {
    dir,
    issue(email, notAfter, now = new Date()) {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      // Test-only key: written 0600 for openssl to make the CSR, removed right after.
      const keyFile = join(dir, `leaf${serial}.key`);
      writeFileSync(keyFile, keyPem, { mode: 0o600 });
      const csr = execFileSync('openssl', ['req', '-new', '-key', keyFile, '-subj', '/'], { stdio: ['pipe', 'pipe', 'pipe'] });
      rmSync(keyFile);
      const ext = join(dir, `ext${serial}`);
      writeFileSync(ext, `subjectAltName=email:${email}\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n`);
      const leafPem = execFileSync('openssl', ['x509', '-req', '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca.key'), '-set_serial', String(serial++), '-days', '1', '-extfile', ext], { input: csr, stdio: ['pipe', 'pipe', 'pipe'] });
      const leaf = new X509Certificate(leafPem);
      return { privateKey, chain: [leaf.raw, caDer], notBefore: now, notAfter, identity: email, issuer: 'https://issuer.test' };
    },
  };
}

/** A syntactically valid unsigned JWT for `email` expiring at `exp`. */
export function fakeJwt(email: string, exp: Date, iss = 'https://issuer.test'): string {
  const b = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b({ alg: 'RS256' })}.${b({ iss, sub: email, email, exp: Math.floor(exp.getTime() / 1000) })}.c2ln`;
}

/** The DER signed attributes (re-tagged as SET, RFC 5652 §5.4) of a CMS SignedData in PEM. */
export function signedAttrsOf(pem: string): Buffer {
  const ci = children(parseDer(decodePem(pem, 'SIGNED MESSAGE')));
  const sd = children(children(ci[1])[0]);
  const signerInfos = children(sd[sd.length - 1]);
  const si = children(signerInfos[0]);
  const attrs = si.find((t) => t.tag === 0xa0);
  if (!attrs) throw new Error('no signed attributes');
  return Buffer.concat([Buffer.from([0x31]), attrs.raw.subarray(1)]);
}

/** Signed attributes of every gitsign-made signature in the corpus. */
export function corpusSignedAttrs(): { name: string; attrs: Buffer; leaf: Buffer; payload: Buffer }[] {
  return readdirSync(CORPUS)
    .filter((d) => d.startsWith('sigstore_'))
    .map((d) => ({
      name: d,
      attrs: signedAttrsOf(readFileSync(join(CORPUS, d, 'signature.pem'), 'utf8')),
      leaf: new X509Certificate(readFileSync(join(CORPUS, d, 'leaf.pem'))).raw,
      payload: readFileSync(join(CORPUS, d, 'payload.bin')),
    }));
}

/** Every private-key serialisation we know, as text patterns a response must never contain. */
export function keyMaterialPatterns(keys: KeyObject[]): (string | RegExp)[] {
  const out: (string | RegExp)[] = [/PRIVATE KEY/, /"d"\s*:/, /BEGIN EC/];
  for (const k of keys) {
    const jwk = k.export({ format: 'jwk' }) as { d?: string };
    const pkcs8 = k.export({ type: 'pkcs8', format: 'der' }) as Buffer;
    const sec1 = k.export({ type: 'sec1', format: 'der' }) as Buffer;
    if (jwk.d) {
      out.push(jwk.d);
      const raw = Buffer.from(jwk.d, 'base64url');
      out.push(raw.toString('base64'), raw.toString('hex'));
    }
    out.push(pkcs8.toString('base64'), sec1.toString('base64'));
  }
  return out;
}

/**
 * Bundle our entry points into a private dist/ (the shared one is rebuilt, i.e. deleted, by
 * other engineers' builds at any moment). node_modules is linked so npm imports resolve.
 * With `sandbox`, the sandbox package's own build goes to <root>/dist/sandbox (main.js there).
 */
export async function buildPrivateDist(o: { entries?: string[]; sandbox?: boolean } = {}): Promise<string> {
  const entries = o.entries ?? ['src/main.ts', 'src/agent/main.ts'];
  const { build } = await import('esbuild');
  const root = mkdtempSync(join(tmpdir(), 'gitseal-agent-build-'));
  created.push(root);
  const src = fileURLToPath(new URL('../../', import.meta.url));
  symlinkSync(join(src, 'node_modules'), join(root, 'node_modules'));
  writeFileSync(join(root, 'package.json'), readFileSync(join(src, 'package.json')));
  await build({
    absWorkingDir: src,
    entryPoints: entries.filter((e) => existsSync(join(src, e))),
    outdir: join(root, 'dist'),
    outbase: 'src',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'silent',
  });
  if (o.sandbox) {
    execFileSync(process.execPath, [join(src, 'packages', 'sandbox', 'scripts', 'build.mjs')], {
      env: { ...process.env, GITSEAL_SANDBOX_OUTDIR: join(root, 'dist', 'sandbox') },
      stdio: 'pipe',
    });
  }
  return root;
}

export async function buildAgentMain(): Promise<string> {
  return join(await buildPrivateDist({ entries: ['src/agent/main.ts'] }), 'dist', 'agent', 'main.js');
}

/** A short private directory for sockets (sun_path is only 108 bytes). */
export function privateTmp(prefix = 'gsa-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, 0o700);
  created.push(d);
  return d;
}

const created: string[] = [];

/** Remove every temporary directory this test file made (CAs, builds, homes). */
export function removeTempDirs(): void {
  for (const d of created.splice(0)) rmSync(d, { recursive: true, force: true });
}
