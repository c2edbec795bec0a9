// Start/stop the project's local Sigstore sandbox (packages/sandbox/bin/gitseal-sandbox, not
// ours) for the benchmarks, and sign payloads against it in-process.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Start `gitseal-sandbox start --dir DIR`; resolves with its environment once it prints "ready". */
export async function startSandbox(root, dir, timeoutMs = 60_000) {
  const proc = spawn(process.execPath, [join(root, 'packages/sandbox/bin/gitseal-sandbox'), 'start', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`sandbox did not start: ${out.slice(-300)}`)), timeoutMs);
    const on = (d) => {
      out += d;
      if (/ready/.test(out)) {
        clearTimeout(t);
        resolve();
      }
    };
    proc.stdout.on('data', on);
    proc.stderr.on('data', (d) => (out += d));
    proc.once('exit', (c) => {
      clearTimeout(t);
      reject(new Error(`sandbox exited (${c}): ${out.slice(-300)}`));
    });
  });
  const env = {};
  for (const m of readFileSync(join(dir, 'env'), 'utf8').matchAll(/^export (\w+)='([^']*)'$/gm)) env[m[1]] = m[2];
  return {
    proc,
    env,
    trustedRoot: join(dir, 'trusted_root.json'),
    token: (email) => execFileSync(process.execPath, [join(root, 'packages/sandbox/bin/gitseal-sandbox'), 'token', '--dir', dir, '--email', email], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim(),
    stop: () => new Promise((resolve) => {
      if (proc.exitCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    }),
  };
}

/** An in-process signer: one Fulcio certificate, then sign + log each payload (as the agent does). */
export async function sandboxSigner(H, sb, email, cwd) {
  const env = { ...sb.env, HOME: cwd, GITSEAL_AGENT: 'off' };
  const config = H.loadConfig({ cwd, env });
  const trust = H.parseTrustedRoot(readFileSync(sb.trustedRoot));
  const raw = sb.token(email);
  const tokenSource = async () => H.toIdentityToken(raw, 'bench');
  const cred = await H.obtainCredential(config, { getToken: tokenSource, trust, env, say: () => {} });
  const signer = H.localSigner(cred);
  return {
    trust,
    sign: async (payload) => (await H.signPayload(payload, { config, signer, tokenSource, trust, env, ui: { say: () => {} } })).pem,
    dispose: () => signer.dispose?.(),
  };
}
