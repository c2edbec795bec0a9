/**
 * The signing agent never substitutes its own identity for an explicit token (issue 14,
 * item 11). With an agent holding a certificate for you@example.test, a commit made with
 * SIGSTORE_ID_TOKEN for someone@else.test used to be signed as you@example.test (the agent
 * matched the request to its held credential by Fulcio URL, issuer, client and user.email, and
 * ignored the token). An explicit token — SIGSTORE_ID_TOKEN, a CI token, a token file, a
 * forced token provider — always decides the identity: the agent uses a credential obtained
 * with a token of the same principal, or obtains one, and an unusable explicit token fails
 * the signature rather than fall back to another identity. Through the real git, the real
 * binary (its fast path dist/fast-sign.cjs and its full path), the real agent and the sandbox.
 * Attacker: a hostile local user or a mix-up of identities — the guarantee is that a signature
 * is made as the identity the signer explicitly chose.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentStatus, agentStop } from '../../src/agent/client.js';
import { startSandbox, type Sandbox } from '../reliability/helpers.js';
import { ensureBuilt, GITSEAL, isolatedEnv, removeSnapshot, runGit, tempDir } from './helpers.js';

let work: string;
let sandbox: Sandbox;
let env: NodeJS.ProcessEnv;
let repo: string;

beforeAll(async () => {
  ensureBuilt();
  work = tempDir('gitseal-adv-agent-');
  sandbox = await startSandbox(join(work, 'sigstore'));
  env = isolatedEnv(join(work, 'home'), { ...sandbox.env, GITSEAL_AGENT: 'auto', GITSEAL_TOKEN_FILE: join(work, 'no-token-file') });
  repo = join(work, 'repo');
  execFileSync('git', ['-c', 'init.defaultBranch=main', 'init', '-q', repo]);
  for (const [k, v] of [['gpg.format', 'x509'], ['gpg.x509.program', GITSEAL], ['user.name', 'You'], ['user.email', 'you@example.test'], ['commit.gpgsign', 'true']]) {
    execFileSync('git', ['-C', repo, 'config', k, v]);
  }
}, 120_000);

afterAll(async () => {
  if (env) await agentStop({ env }).catch(() => undefined);
  await sandbox?.stop();
  removeSnapshot();
});

function commit(e: NodeJS.ProcessEnv, message = 'change'): { status: number | null; stderr: string } {
  const file = join(work, 'message');
  writeFileSync(file, message);
  const r = runGit(repo, ['commit', '-q', '--allow-empty', '-F', file], e);
  return { status: r.status, stderr: r.stderr };
}

function agentLog(): string[] {
  return readFileSync(join(env.XDG_CACHE_HOME!, 'gitseal', 'agent.log'), 'utf8').split('\n');
}

/** The certificate identity git reports for HEAD (%GS), verified against the sandbox root. */
function signer(): string {
  return runGit(repo, ['log', '-1', '--format=%G? %GS'], env).stdout.trim();
}

describe('an agent holding you@example.test', () => {
  it('signs with its held certificate only when no token is given explicitly', async () => {
    expect(commit({ ...env, SIGSTORE_ID_TOKEN: sandbox.token('you@example.test') }).status).toBe(0);
    expect(signer()).toBe('U you@example.test');
    const held = await agentStatus({ env });
    expect(held?.identities.map((i) => i.subject)).toEqual(['you@example.test']);
    // no explicit token: the warm agent's certificate, the fast path
    expect(commit(env).status).toBe(0);
    expect(signer()).toBe('U you@example.test');
  });

  it('SIGSTORE_ID_TOKEN for someone else: signed as someone else (fast path)', async () => {
    const r = commit({ ...env, SIGSTORE_ID_TOKEN: sandbox.token('someone@else.test') });
    expect(r.status, r.stderr).toBe(0);
    expect(signer()).toBe('U someone@else.test');
    expect((await agentStatus({ env }))?.identities.map((i) => i.subject)).toEqual(['someone@else.test']);
    // made by the agent as a whole signature (git's per-commit fast path), as someone else
    expect(agentLog().filter((l) => l.includes(' as someone@else.test"') && l.includes('whole signature'))).toHaveLength(1);
  });

  it('SIGSTORE_ID_TOKEN for a third identity on the full path (a payload too large for the fast path)', () => {
    const big = 'large commit\n\n' + 'x'.repeat(600 * 1024) + '\n';
    const r = commit({ ...env, SIGSTORE_ID_TOKEN: sandbox.token('third@else.test') }, big);
    expect(r.status, r.stderr).toBe(0);
    expect(signer()).toBe('U third@else.test');
    // the full path: the agent signed the signed attributes only, as the third identity
    expect(agentLog().filter((l) => l.includes(' as third@else.test"') && l.includes('outcome="signed"') && !l.includes('whole signature'))).toHaveLength(1);
  });

  it('a token file (cosign\'s path, GITSEAL_TOKEN_FILE) decides too: the fast path steps aside for it', () => {
    const file = join(work, 'oidc-token');
    writeFileSync(file, sandbox.token('filer@example.test'), { mode: 0o600 });
    const r = commit({ ...env, GITSEAL_TOKEN_FILE: file });
    expect(r.status, r.stderr).toBe(0);
    expect(signer()).toBe('U filer@example.test');
  });

  it('an explicit token that cannot be used fails the commit; the agent does not sign as anyone else', () => {
    const before = runGit(repo, ['rev-parse', 'HEAD'], env).stdout;
    const r = commit({ ...env, SIGSTORE_ID_TOKEN: sandbox.token('late@example.test', ['--ttl=-60']) });
    expect(r.status).not.toBe(0);
    expect(runGit(repo, ['rev-parse', 'HEAD'], env).stdout).toBe(before);
  });
});
