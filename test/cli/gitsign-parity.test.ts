/**
 * gitsign settings and token providers through the real binary, real git and the sandbox
 * (bin/gitseal-sandbox as a child process):
 *   - settings gitseal does not apply (rekorMode, enableSigstoreGo, GITSIGN_CREDENTIAL_CACHE):
 *     one note each the first time git signs (full path and the agent's fast path), never on
 *     git's --verify path, always in `gitseal doctor` and `gitseal version`;
 *   - timestampCertChain / GITSIGN_ / SIGSTORE_TIMESTAMP_CERT_CHAIN: the TSA chain it names is
 *     trusted, for signing (the entry is checked before it is written, also by the agent) and
 *     for verifying, where the base trusted root has no timestamp authority;
 *   - tokenProvider google-workload-identity: the identity token of a Google metadata server
 *     (a small stand-in started here, serving a token the sandbox's OpenID provider minted for a
 *     service account) is accepted by the sandbox Fulcio;
 *   - spiffe and google-impersonation: refused, naming what works.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, Sandbox } from './helpers.js';
import { startSandbox, type RunningSandbox } from './sandbox.js';

const sb = new Sandbox('gitseal-parity-');
let sigstore: RunningSandbox;
let info: { urls: { tsa: string; rekorV2: string } };

beforeAll(async () => {
  sigstore = await startSandbox(join(sb.dir, 'sigstore'));
  info = JSON.parse(readFileSync(join(sb.dir, 'sigstore', 'sandbox.json'), 'utf8'));
}, 120_000);
afterAll(async () => {
  for (const h of homes) spawnSync(process.execPath, [BIN, 'agent', 'stop'], { env: h });
  await sigstore?.stop();
  sb.cleanup();
});

const homes: NodeJS.ProcessEnv[] = [];
/** A fresh user (HOME, cache, agent socket) pointed at the sandbox; the agent off unless asked. */
function user(name: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = join(sb.dir, name);
  mkdirSync(home, { recursive: true });
  const env = {
    ...sb.env,
    ...sigstore.env,
    HOME: home,
    XDG_CACHE_HOME: join(home, '.cache'),
    GITSEAL_AGENT_SOCK: join(home, 'agent', 'agent.sock'),
    GITSEAL_AGENT: 'off',
    ...extra,
  };
  homes.push(env);
  return env;
}

function repoFor(env: NodeJS.ProcessEnv, name: string): { dir: string; git(args: string[], input?: string): ReturnType<typeof spawnSync> } {
  const dir = join(sb.dir, name);
  spawnSync('git', ['init', '-q', dir], { env });
  const git = (args: string[], input?: string) => spawnSync('git', args, { cwd: dir, env, encoding: 'utf8', input });
  for (const [k, v] of [
    ['user.email', 'dev@example.test'],
    ['user.name', 'Dev'],
    ['gpg.format', 'x509'],
    ['gpg.x509.program', BIN],
  ]) git(['config', k, v]);
  return { dir, git };
}

const gitseal = (args: string[], cwd: string, env: NodeJS.ProcessEnv, input?: string | Buffer) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd, env, encoding: 'utf8', input });

/** Like spawnSync, without blocking this process (the metadata stand-in below answers from it). */
function run(cmd: string, args: string[], o: { cwd: string; env: NodeJS.ProcessEnv; input?: string }): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const cp = spawn(cmd, args, { cwd: o.cwd, env: o.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    cp.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    cp.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    cp.on('close', (code) => resolve({ status: code ?? -1, stdout, stderr }));
    cp.stdin.end(o.input ?? '');
  });
}

describe('gitsign settings gitseal does not apply: said once, where it helps', () => {
  // Log lines start with the time and the process id (src/gpg/log-file.ts).
  const notes = (log: string) =>
    log
      .split('\n')
      .map((l) => l.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z \[\d+\] /, ''))
      .filter((l) => l.startsWith('gitseal: note: '));

  it('the first signature names each one; later signatures and every verification stay quiet', () => {
    const env = user('notes', { SIGSTORE_ID_TOKEN: sigstore.token('dev@example.test'), GITSIGN_CREDENTIAL_CACHE: '/tmp/gitsign-cache.sock' });
    const r = repoFor(env, 'notes-repo');
    const log = join(sb.dir, 'notes.log');
    r.git(['config', 'gitsign.logPath', log]); // gitsign's name for the log file: applied
    r.git(['config', 'gitsign.rekorMode', 'online']);
    r.git(['config', 'gitsign.enableSigstoreGo', 'false']);

    let c = r.git(['commit', '-S', '-q', '--allow-empty', '-m', 'one']);
    expect(c.status, String(c.stderr)).toBe(0);
    const first = notes(readFileSync(log, 'utf8'));
    expect(first).toHaveLength(3);
    expect(first[0]).toMatch(/^gitseal: note: gitsign\.rekorMode=online is not applied: gitseal always embeds the Rekor proof in the signature/);
    expect(first[1]).toMatch(/^gitseal: note: gitsign\.enableSigstoreGo=false is not applied/);
    expect(first[2]).toMatch(/^gitseal: note: GITSIGN_CREDENTIAL_CACHE is not applied: gitseal's signing agent replaces gitsign-credential-cache/);
    for (const n of first) expect(n).toMatch(/\(shown once; "gitseal doctor" lists it again\)$/);
    expect(statSync(join(env.XDG_CACHE_HOME!, 'gitseal', 'notices-shown')).mode & 0o777).toBe(0o600);

    for (const m of ['two', 'three']) expect(r.git(['commit', '-S', '-q', '--allow-empty', '-m', m]).status).toBe(0);
    expect(notes(readFileSync(log, 'utf8'))).toHaveLength(3);

    // git's verification path: never.
    const v = r.git(['verify-commit', 'HEAD']);
    expect(v.status, String(v.stderr)).toBe(0);
    expect(String(v.stderr)).not.toMatch(/rekorMode|enableSigstoreGo|CREDENTIAL_CACHE/);
    const l = r.git(['log', '--show-signature', '-3']);
    expect(String(l.stdout) + String(l.stderr)).not.toMatch(/rekorMode|enableSigstoreGo|CREDENTIAL_CACHE/);
    expect(notes(readFileSync(log, 'utf8'))).toHaveLength(3);

    // doctor and version: every time.
    for (let i = 0; i < 2; i++) {
      const d = gitseal(['doctor', '--offline', '--json'], r.dir, env);
      const check = JSON.parse(d.stdout).checks.find((x: { id: string }) => x.id === 'gitsign-settings');
      expect(check).toMatchObject({ status: 'warn', details: { settings: ['gitsign.rekorMode', 'gitsign.enableSigstoreGo', 'GITSIGN_CREDENTIAL_CACHE'] } });
      expect(check.fix).toContain('git config --unset gitsign.rekorMode');
      const ver = gitseal(['version'], r.dir, env);
      expect(ver.stderr).toMatch(/warning: gitsign\.rekorMode=online is not applied/);
      expect(ver.stderr).toMatch(/warning: GITSIGN_CREDENTIAL_CACHE is not applied/);
    }

    // A new value is a new note, once.
    r.git(['config', 'gitsign.rekorMode', 'offline']);
    c = r.git(['commit', '-S', '-q', '--allow-empty', '-m', 'four']);
    expect(c.status).toBe(0);
    r.git(['commit', '-S', '-q', '--allow-empty', '-m', 'five']);
    const after = notes(readFileSync(log, 'utf8'));
    expect(after).toHaveLength(4);
    expect(after[3]).toMatch(/^gitseal: note: gitsign\.rekorMode=offline is what gitseal always does: every signature embeds its Rekor proof/);
  });

  it('the fast signing path with a warm agent says it once too', () => {
    const env = user('notes-agent', { SIGSTORE_ID_TOKEN: sigstore.token('dev@example.test'), GITSEAL_AGENT: 'on' });
    const r = repoFor(env, 'notes-agent-repo');
    const log = join(sb.dir, 'notes-agent.log');
    r.git(['config', 'gitseal.logPath', log]);
    r.git(['config', 'gitsign.enableSigstoreGo', 'true']);
    expect(gitseal(['agent', 'start'], r.dir, env).status).toBe(0);
    for (const m of ['one', 'two', 'three']) {
      const c = r.git(['commit', '-S', '-q', '--allow-empty', '-m', m]);
      expect(c.status, String(c.stderr)).toBe(0);
    }
    const all = notes(readFileSync(log, 'utf8'));
    expect(all).toEqual([
      'gitseal: note: gitsign.enableSigstoreGo=true is not applied: gitseal has one signer and one verifier (rekorVersion works without it) ' +
        `(${join(r.dir, '.git', 'config')}) (shown once; "gitseal doctor" lists it again)`,
    ]);
    expect(gitseal(['agent', 'stop'], r.dir, env).status).toBe(0);
  });
});

describe('timestampCertChain: the TSA chain it names is trusted', () => {
  let env: NodeJS.ProcessEnv;
  let r: ReturnType<typeof repoFor>;
  let chainFile: string;

  beforeAll(() => {
    // The base trusted root (here: the TUF-cache layer) is the sandbox's without its timestamp
    // authority, as for a deployment whose TSA is named only by gitsign.timestampCertChain.
    env = user('tsa', { SIGSTORE_ID_TOKEN: sigstore.token('dev@example.test'), GITSEAL_AGENT: 'auto', GITSEAL_REKOR_URL: info.urls.rekorV2 });
    delete env.GITSEAL_TRUSTED_ROOT;
    const root = JSON.parse(readFileSync(sigstore.env.GITSEAL_TRUSTED_ROOT!, 'utf8'));
    const pems = root.timestampAuthorities[0].certChain.certificates.map(
      (c: { rawBytes: string }) => `-----BEGIN CERTIFICATE-----\n${c.rawBytes.replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`,
    );
    root.timestampAuthorities = [];
    mkdirSync(join(env.XDG_CACHE_HOME!, 'gitseal'), { recursive: true, mode: 0o700 });
    writeFileSync(join(env.XDG_CACHE_HOME!, 'gitseal', 'trusted_root.json'), JSON.stringify(root));
    chainFile = join(sb.dir, 'tsa-chain.pem');
    writeFileSync(chainFile, pems.join(''));
    r = repoFor(env, 'tsa-repo');
    r.git(['config', 'gitseal.rekorVersion', '2']);
    r.git(['config', 'gitsign.timestampServerURL', info.urls.tsa]);
    r.git(['config', 'gitseal.logPath', join(sb.dir, 'tsa.log')]);
  });

  it('without it, gitseal refuses to write a signature whose timestamp it cannot trust', () => {
    const c = r.git(['commit', '-S', '-q', '--allow-empty', '-m', 'no chain']);
    expect(c.status).not.toBe(0);
    expect(readFileSync(join(sb.dir, 'tsa.log'), 'utf8')).toContain('gitseal: the timestamp is not signed by a trusted timestamp authority');
    expect(r.git(['rev-parse', '-q', '--verify', 'HEAD']).status).not.toBe(0); // nothing committed
  });

  it('with gitsign.timestampCertChain: signs (the full path, then the agent), and git verifies', () => {
    r.git(['config', 'gitsign.timestampCertChain', chainFile]);
    for (const m of ['with chain', 'again, through the warm agent']) {
      const c = r.git(['commit', '-S', '-q', '--allow-empty', '-m', m]);
      expect(c.status, readFileSync(join(sb.dir, 'tsa.log'), 'utf8')).toBe(0);
    }
    for (const rev of ['HEAD', 'HEAD~1']) {
      const v = r.git(['verify-commit', rev]);
      expect(v.status, String(v.stderr)).toBe(0);
      expect(String(v.stderr)).toContain('gitseal: Good signature from dev@example.test');
    }
    const j = JSON.parse(gitseal(['verify', 'HEAD~1..HEAD', '--json', '--no-cache'], r.dir, env).stdout);
    expect(j).toMatchObject({ ok: true, total: 1 });
    const d = JSON.parse(gitseal(['doctor', '--offline', '--json'], r.dir, env).stdout);
    expect(d.checks.find((x: { id: string }) => x.id === 'trust-root').summary).toContain(`git config gitsign.timestampCertChain ${chainFile} (timestamp authorities)`);
  });

  it('verification uses it: without it the same commits are not verified; either variable brings it back', () => {
    r.git(['config', '--unset', 'gitsign.timestampCertChain']);
    const v = r.git(['verify-commit', 'HEAD']);
    expect(v.status).toBe(1);
    expect(String(v.stderr)).toContain('signature not verified (tlog check failed): the timestamp is not signed by a trusted timestamp authority');
    for (const name of ['GITSIGN_TIMESTAMP_CERT_CHAIN', 'SIGSTORE_TIMESTAMP_CERT_CHAIN']) {
      const ok = spawnSync('git', ['verify-commit', 'HEAD'], { cwd: r.dir, env: { ...env, [name]: chainFile }, encoding: 'utf8' });
      expect(ok.status, `${name}: ${ok.stderr}`).toBe(0);
    }
    expect(gitseal(['agent', 'stop'], r.dir, env).status).toBe(0);
  });
});

describe('token providers', () => {
  let metadata: Server;
  let port: number;
  let seen: Array<{ url: string; flavor?: string }> = [];
  let answer: { status: number; body: string } = { status: 200, body: '' };
  const SA = 'signer@project-1.iam.gserviceaccount.com';

  beforeAll(async () => {
    // A stand-in for the Google metadata server: the real one's path, query, header rule and answer.
    metadata = createServer((req, res) => {
      seen.push({ url: req.url ?? '', flavor: req.headers['metadata-flavor'] as string | undefined });
      res.setHeader('Metadata-Flavor', 'Google');
      if (req.headers['metadata-flavor'] !== 'Google') {
        res.writeHead(403).end('Missing required header "Metadata-Flavor": "Google"');
        return;
      }
      const u = new URL(req.url ?? '/', 'http://x');
      if (u.pathname !== '/computeMetadata/v1/instance/service-accounts/default/identity' || !u.searchParams.get('audience')) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'text/html' }).end(answer.body);
    });
    await new Promise<void>((resolve) => metadata.listen(0, '127.0.0.1', resolve));
    port = (metadata.address() as AddressInfo).port;
  });
  afterAll(async () => new Promise<void>((resolve) => metadata.close(() => resolve())));

  it('google-workload-identity: the metadata server token, which the sandbox Fulcio certifies', async () => {
    const env = user('gce', { GCE_METADATA_HOST: `127.0.0.1:${port}` });
    delete env.SIGSTORE_ID_TOKEN;
    const r = repoFor(env, 'gce-repo');
    r.git(['config', 'gitsign.tokenProvider', 'google-workload-identity']);
    r.git(['config', 'user.email', SA]);
    answer = { status: 200, body: sigstore.token(SA) };
    seen = [];
    const c = await run('git', ['commit', '-S', '-q', '--allow-empty', '-m', 'signed as the VM'], { cwd: r.dir, env });
    expect(c.status, c.stderr).toBe(0);
    expect(seen).toEqual([{ url: '/computeMetadata/v1/instance/service-accounts/default/identity?audience=sigstore&format=full', flavor: 'Google' }]);
    const show = JSON.parse(gitseal(['show', '--json'], r.dir, env).stdout);
    expect(show.certificate.identity).toBe(SA);
    expect(show.certificate.oidcIssuer).toBe(sigstore.issuer);
    expect(r.git(['verify-commit', 'HEAD']).status).toBe(0);
  });

  it('google-workload-identity: a refusal or no metadata server is one clear line, nothing signed', async () => {
    const env = user('gce-bad', { GCE_METADATA_HOST: `127.0.0.1:${port}`, GITSEAL_TOKEN_PROVIDER: 'google-workload-identity' });
    delete env.SIGSTORE_ID_TOKEN;
    answer = { status: 404, body: 'no service account' };
    let s = await run(process.execPath, [BIN, '--status-fd=2', '-bsau', 'dev@example.test'], { cwd: sb.dir, env, input: 'payload\n' });
    expect(s.status).toBe(1);
    expect(s.stdout).toBe('');
    expect(s.stderr).toContain(`gitseal: the Google metadata server (http://127.0.0.1:${port}) answered HTTP 404: no service account is attached to this workload`);
    s = await run(process.execPath, [BIN, '--status-fd=2', '-bsau', 'dev@example.test'], { cwd: sb.dir, env: { ...env, GCE_METADATA_HOST: '127.0.0.1:1' }, input: 'payload\n' });
    expect(s.status).toBe(1);
    expect(s.stderr).toMatch(/gitseal: tokenProvider is "google-workload-identity" but Google metadata server: cannot reach http:\/\/127\.0\.0\.1:1 \(connection refused\); this works on Google Cloud/);
    expect(s.stderr.trim().split('\n').filter((l) => l.startsWith('gitseal:'))).toHaveLength(1);
  });

  it.each([
    ['spiffe', /^gitseal: tokenProvider "spiffe" is not implemented by gitseal: have the SPIRE agent \(or spiffe-helper\) write a JWT-SVID for audience "sigstore" to a file and set GITSEAL_TOKEN_FILE to it with tokenProvider "file", or pass the JWT-SVID in SIGSTORE_ID_TOKEN$/m],
    ['google-impersonation', /^gitseal: tokenProvider "google-impersonation" is not implemented by gitseal: get the service account's token with SIGSTORE_ID_TOKEN=\$\(gcloud auth print-identity-token --impersonate-service-account="\$GOOGLE_SERVICE_ACCOUNT_NAME" --audiences=sigstore --include-email\)/m],
    ['google-impersonate', /^gitseal: tokenProvider "google-impersonation" is not implemented by gitseal/m],
  ])('%s is refused when a token is needed, naming what works; verifying is unaffected', (name, want) => {
    const env = user(`refuse-${name}`, { GITSIGN_TOKEN_PROVIDER: name });
    delete env.SIGSTORE_ID_TOKEN;
    const s = gitseal(['--status-fd=2', '-bsau', 'dev@example.test'], sb.dir, env, 'payload\n');
    expect(s.status).toBe(1);
    expect(s.stdout).toBe('');
    expect(s.stderr).toMatch(want);
    // the setting does not get in the way of git's verification
    const v = gitseal(['version', '--json'], sb.dir, env);
    expect(v.status).toBe(0);
  });
});
