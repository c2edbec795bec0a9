/**
 * Signing e2e against the project's Sigstore sandbox (packages/sandbox/bin/gitseal-sandbox:
 * real OpenID provider, Fulcio v2 with proof-of-possession checks and an
 * intermediate CA, Rekor v1 with real Merkle proofs), started per run on
 * 127.0.0.1. Fault injection makes Fulcio and Rekor fail on demand.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { signingSuite } from './sign-suite.js';

const execFileP = promisify(execFile);
const SANDBOX = resolve(__dirname, '..', '..', 'packages', 'sandbox', 'bin', 'gitseal-sandbox');

async function sandbox(dir: string, ...args: string[]): Promise<string> {
  return (await execFileP(SANDBOX, [args[0], '--dir', dir, ...args.slice(1)], { encoding: 'utf8' })).stdout;
}

function startSandbox(dir: string): Promise<ChildProcess> {
  return new Promise((resolveStart, reject) => {
    const child = spawn(SANDBOX, ['start', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`sandbox did not start:\n${out}`)), 30_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      if (/gitseal-sandbox ready/.test(out)) {
        clearTimeout(timer);
        resolveStart(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sandbox exited (${code}):\n${out}`));
    });
  });
}

/** DIR/env: `export NAME='value'` lines. */
function readEnvFile(path: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const m of readFileSync(path, 'utf8').matchAll(/^export ([A-Z0-9_]+)='([^']*)'$/gm)) env[m[1]] = m[2];
  return env;
}

const pem = (der: string) => `-----BEGIN CERTIFICATE-----\n${der.replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;

signingSuite('gitseal sandbox', async (root) => {
  const dir = join(root, 'sandbox');
  mkdirSync(dir);
  const child = await startSandbox(dir);
  const env = readEnvFile(join(dir, 'env'));
  const token = (await sandbox(dir, 'token', '--email', 'dev@example.test')).trim();
  const info = JSON.parse(readFileSync(join(dir, 'sandbox.json'), 'utf8')) as { urls: { tsa?: string; rekorV2?: string } };
  const tr = JSON.parse(readFileSync(env.GITSEAL_TRUSTED_ROOT!, 'utf8')) as {
    certificateAuthorities: Array<{ certChain: { certificates: Array<{ rawBytes: string }> } }>;
  };
  const chain = tr.certificateAuthorities[0].certChain.certificates.map((c) => c.rawBytes);
  return {
    env: { ...env, SIGSTORE_ID_TOKEN: token },
    trustedRootPath: env.GITSEAL_TRUSTED_ROOT!,
    rootPem: pem(chain[chain.length - 1]),
    intermediatesPem: chain.slice(0, -1).map(pem).join(''),
    identity: 'dev@example.test',
    issuer: env.GITSEAL_OIDC_ISSUER,
    tsaURL: info.urls.tsa,
    rekorV2URL: info.urls.rekorV2,
    async breakService(service) {
      if (service === 'Fulcio') {
        await sandbox(dir, 'fault', 'fulcio=503');
        return { env: {}, expect: /gitseal: Fulcio: .+ \(HTTP 503\)/, undo: async () => void (await sandbox(dir, 'fault', 'fulcio=clear')) };
      }
      // Rekor drops the connection without answering.
      await sandbox(dir, 'fault', 'rekor=drop');
      return { env: {}, expect: /gitseal: Rekor: cannot reach http:\/\/127\.0\.0\.1:\d+ \(/, undo: async () => void (await sandbox(dir, 'fault', 'rekor=clear')) };
    },
    async flaky(service, times) {
      await sandbox(dir, 'fault', `${service === 'Fulcio' ? 'fulcio' : 'rekor'}=503x${times}`);
    },
    async close() {
      await sandbox(dir, 'stop').catch(() => undefined);
      if (child.exitCode === null) child.kill('SIGTERM');
    },
  };
});
