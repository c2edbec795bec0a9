import { X509Certificate, sign as ecdsaSign, verify as ecdsaVerify } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentStart, agentStatus, agentStop, ensureAgent } from '../../src/agent/client.js';
import { type AgentServer, startAgentServer } from '../../src/agent/server.js';
import type { GitsealConfig } from '../../src/config/types.js';
import { GitsealError } from '../../src/errors.js';
import { toIdentityToken } from '../../src/oidc/get-token.js';
import { agentSigner } from '../../src/sign/agent-signer.js';
import type { AttributeSigner, IdentityToken } from '../../src/sign/types.js';
import { type TestCa, buildAgentMain, corpusSignedAttrs, fakeJwt, makeTestCa, privateTmp, removeTempDirs } from './helpers.js';
import { needs } from '../helpers/tools.js';

const attrs = corpusSignedAttrs()[1].attrs;
let ca: TestCa;
let agentMain: string;
beforeAll(async () => {
  ca = makeTestCa();
  agentMain = await buildAgentMain();
});

function cfg(email: string, agent: GitsealConfig['agent'] = 'auto'): GitsealConfig {
  return {
    fulcioURL: 'http://127.0.0.1:9/fulcio',
    rekorURL: 'http://127.0.0.1:9/rekor',
    rekorVersion: 1,
    issuer: 'https://issuer.test',
    clientID: 'sigstore',
    tokenProvider: 'auto',
    offline: false,
    matchCommitter: false,
    agent,
    userEmail: email,
    sources: {},
  };
}

/** The non-agent path: a one-shot credential from the test CA, signing in this process. */
function localPath(counter: { n: number }) {
  return async (getToken: () => Promise<IdentityToken>): Promise<AttributeSigner> => {
    const t = await getToken();
    counter.n++;
    const c = ca.issue(t.email!, new Date(Date.now() + 600_000));
    return { sign: async (a) => ({ signature: ecdsaSign('sha256', a, { key: c.privateKey, dsaEncoding: 'der' }), chain: c.chain }) };
  };
}

function verifies(r: { signature: Buffer; chain: Buffer[] }, data: Buffer): boolean {
  return ecdsaVerify('sha256', data, { key: new X509Certificate(r.chain[0]).publicKey, dsaEncoding: 'der' }, r.signature);
}

function envFor(dir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: dir, XDG_RUNTIME_DIR: join(dir, 'run'), XDG_CACHE_HOME: join(dir, 'cache'), ...extra };
}

const servers: AgentServer[] = [];
const envs: NodeJS.ProcessEnv[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close('test end');
});
afterAll(async () => {
  for (const env of envs) await agentStop({ env }).catch(() => undefined);
  removeTempDirs();
});

needs('openssl').describe('agent process lifecycle (real dist-style agent process)', () => {
  it('starts once for many concurrent callers, reports status, stops', async () => {
    const dir = privateTmp();
    const env = envFor(dir, { SIGSTORE_ID_TOKEN: 'should.not.leak', GITHUB_TOKEN: 'x' });
    envs.push(env);
    expect(await agentStatus({ env })).toBeNull();
    const socks = await Promise.all(Array.from({ length: 8 }, () => ensureAgent('auto', { env, agentMain })));
    const sock = join(dir, 'run', 'gitseal', 'agent.sock');
    expect(new Set(socks)).toEqual(new Set([sock]));
    expect(lstatSync(sock).mode & 0o777).toBe(0o600);
    expect(lstatSync(join(dir, 'run', 'gitseal')).mode & 0o777).toBe(0o700);

    const st = await agentStatus({ env });
    expect(st).not.toBeNull();
    expect(st!.pid).not.toBe(process.pid);
    expect(st!.identities).toEqual([]);
    expect(st!.socket).toBe(sock);
    // Exactly one agent started; it did not inherit identity tokens from the environment.
    const log = readFileSync(join(dir, 'cache', 'gitseal', 'agent.log'), 'utf8');
    expect(log.match(/ start /g)?.length).toBe(1);
    const environ = readFileSync(`/proc/${st!.pid}/environ`, 'latin1');
    expect(environ).not.toContain('should.not.leak');
    expect(environ).not.toContain('GITHUB_TOKEN');
    expect(environ).toContain(`GITSEAL_AGENT_SOCK=${sock}`);

    expect((await agentStart({ env, agentMain })).started).toBe(false);
    expect(await agentStop({ env })).toBe(true);
    expect(await agentStatus({ env })).toBeNull();
    expect(existsSync(sock)).toBe(false);
    expect(await agentStop({ env })).toBe(false);
    expect(readFileSync(join(dir, 'cache', 'gitseal', 'agent.log'), 'utf8')).toMatch(/ stop detail="stop requested"/);
  });

  it('honours GITSEAL_AGENT_SOCK', async () => {
    const dir = privateTmp();
    const env = envFor(dir, { GITSEAL_AGENT_SOCK: join(dir, 'x', 'a.sock') });
    envs.push(env);
    const r = await agentStart({ env, agentMain });
    expect(r).toEqual({ socketPath: join(dir, 'x', 'a.sock'), started: true });
    expect((await agentStatus({ env }))!.socket).toBe(join(dir, 'x', 'a.sock'));
    await agentStop({ env });
  });

  it('"off" never starts an agent', async () => {
    const dir = privateTmp();
    const env = envFor(dir);
    expect(await ensureAgent('off', { env, agentMain })).toBeNull();
    const counter = { n: 0 };
    const said: string[] = [];
    const s = agentSigner({ config: cfg('a@example.com', 'off'), env, repo: '/r', say: (l) => said.push(l), getToken: async () => toIdentityToken(fakeJwt('a@example.com', new Date(Date.now() + 600_000)), 't'), local: localPath(counter), agentMain });
    expect(verifies(await s.sign(attrs), attrs)).toBe(true);
    expect(s.lastMode).toBe('local');
    expect(said).toEqual([]);
    expect(existsSync(join(dir, 'run', 'gitseal', 'agent.sock'))).toBe(false);
  });
});

needs('openssl').describe('agent signer', () => {
  async function inProcessAgent(obtain?: Parameters<typeof startAgentServer>[0]['obtain']) {
    const dir = privateTmp();
    const env = envFor(dir);
    const obtained: string[] = [];
    const server = await startAgentServer({
      socketPath: join(dir, 'run', 'gitseal', 'agent.sock'),
      log: { write() {} },
      version: 't',
      now: () => new Date(),
      parseToken: (r) => toIdentityToken(r, 't'),
      obtain:
        obtain ??
        (async ({ token }) => {
          obtained.push(token.email!);
          return ca.issue(token.email!, new Date(Date.now() + 600_000));
        }),
    });
    servers.push(server);
    return { env, server, obtained };
  }

  it('logs in here only when the agent asks, and only once across processes', async () => {
    const { env, obtained } = await inProcessAgent();
    let logins = 0;
    const getToken = async () => {
      logins++;
      return toIdentityToken(fakeJwt('lee@example.com', new Date(Date.now() + 600_000)), 'test login');
    };
    const counter = { n: 0 };
    for (let i = 0; i < 5; i++) {
      // A new signer per signature, like one gitseal process per commit.
      const s = agentSigner({ config: cfg('lee@example.com'), env, repo: `/r${i}`, say: () => {}, getToken, local: localPath(counter), agentMain });
      const r = await s.sign(attrs);
      expect(verifies(r, attrs)).toBe(true);
      expect(s.lastMode).toBe('agent');
    }
    expect(logins).toBe(1);
    expect(obtained).toEqual(['lee@example.com']);
    expect(counter.n).toBe(0);
  });

  it('still uses the agent for a repository path the protocol would refuse (newline, huge)', async () => {
    const { env } = await inProcessAgent();
    const withToken = { ...env, SIGSTORE_ID_TOKEN: fakeJwt('rae@example.com', new Date(Date.now() + 600_000)) };
    for (const repo of ['/tmp/odd\nname', '/' + 'x'.repeat(10_000)]) {
      const s = agentSigner({ config: cfg('rae@example.com'), env: withToken, repo, say: () => {}, getToken: async () => toIdentityToken(withToken.SIGSTORE_ID_TOKEN!, 'x'), local: localPath({ n: 0 }), agentMain });
      expect(verifies(await s.sign(attrs), attrs)).toBe(true);
      expect(s.lastMode).toBe('agent');
    }
  });

  it('forwards an environment token instead of logging in', async () => {
    const { env, obtained } = await inProcessAgent();
    const withToken = { ...env, SIGSTORE_ID_TOKEN: fakeJwt('mia@example.com', new Date(Date.now() + 600_000)) };
    let logins = 0;
    const s = agentSigner({ config: cfg('mia@example.com'), env: withToken, repo: '/r', say: () => {}, getToken: async () => (logins++, toIdentityToken(withToken.SIGSTORE_ID_TOKEN!, 'x')), local: localPath({ n: 0 }), agentMain });
    expect(verifies(await s.sign(attrs), attrs)).toBe(true);
    expect(logins).toBe(0);
    expect(obtained).toEqual(['mia@example.com']);
  });

  it('falls back to a local credential when the agent cannot start, and says so', async () => {
    const dir = privateTmp();
    const env = envFor(dir);
    const said: string[] = [];
    const counter = { n: 0 };
    const s = agentSigner({
      config: cfg('ned@example.com', 'on'),
      env,
      repo: '/r',
      say: (l) => said.push(l),
      getToken: async () => toIdentityToken(fakeJwt('ned@example.com', new Date(Date.now() + 600_000)), 't'),
      local: localPath(counter),
      agentMain: join(dir, 'no-such-agent.js'),
    });
    const r = await s.sign(attrs);
    expect(verifies(r, attrs)).toBe(true);
    expect(s.lastMode).toBe('local');
    expect(counter.n).toBe(1);
    expect(said.join('\n')).toMatch(/signed with a one-time credential: the signing agent is unavailable \(the agent failed to start .*\)/);
  });

  it('says nothing about the agent when the one-time credential fails too: its error is the real one', async () => {
    const dir = privateTmp();
    const said: string[] = [];
    const s = agentSigner({
      config: cfg('ned@example.com', 'on'),
      env: envFor(dir),
      repo: '/r',
      say: (l) => said.push(l),
      getToken: async () => toIdentityToken(fakeJwt('ned@example.com', new Date(Date.now() + 600_000)), 't'),
      local: async () => {
        throw new GitsealError('FULCIO', 'Fulcio refused the token');
      },
      agentMain: join(dir, 'no-such-agent.js'),
    });
    await expect(s.sign(attrs)).rejects.toThrow('Fulcio refused the token');
    expect(said).toEqual([]);
  });

  it('falls back when the agent dies in the middle of a request', async () => {
    let release!: () => void;
    const hang = new Promise<void>((r) => (release = r));
    const { env, server } = await inProcessAgent(async () => {
      await hang;
      throw new Error('never');
    });
    const said: string[] = [];
    const counter = { n: 0 };
    const token = fakeJwt('ola@example.com', new Date(Date.now() + 600_000));
    const s = agentSigner({ config: cfg('ola@example.com'), env: { ...env, SIGSTORE_ID_TOKEN: token }, repo: '/r', say: (l) => said.push(l), getToken: async () => toIdentityToken(token, 't'), local: localPath(counter), agentMain });
    const pending = s.sign(attrs);
    setTimeout(() => void server.close('killed'), 100);
    const r = await pending;
    release();
    expect(verifies(r, attrs)).toBe(true);
    expect(s.lastMode).toBe('local');
    expect(said.join('\n')).toMatch(/signing agent failed \(the agent closed the connection before answering\)/);
  });

  it('does not talk to an agent whose socket directory or socket is not private to us', async () => {
    const { env, server } = await inProcessAgent();
    const sockDir = join(env.XDG_RUNTIME_DIR!, 'gitseal');
    const token = fakeJwt('quinn@example.com', new Date(Date.now() + 600_000));
    const tryOnce = async () => {
      const said: string[] = [];
      const s = agentSigner({ config: cfg('quinn@example.com'), env: { ...env, SIGSTORE_ID_TOKEN: token }, repo: '/r', say: (l) => said.push(l), getToken: async () => toIdentityToken(token, 't'), local: localPath({ n: 0 }), agentMain });
      expect(verifies(await s.sign(attrs), attrs)).toBe(true);
      return { mode: s.lastMode, said: said.join('\n') };
    };
    chmodSync(sockDir, 0o755);
    const open = await tryOnce();
    expect(open.mode).toBe('local');
    expect(open.said).toMatch(/mode is 0755, it must be 0700/);
    chmodSync(sockDir, 0o700);
    if (process.getuid!() === 0) {
      chownSync(join(sockDir, 'agent.sock'), 65534, 65534);
      const foreign = await tryOnce();
      expect(foreign.mode).toBe('local');
      expect(foreign.said).toMatch(/not a socket owned by you/);
      chownSync(join(sockDir, 'agent.sock'), 0, 0);
    }
    expect((await tryOnce()).mode).toBe('agent');
    void server;
  });

  it('falls back when the agent cannot get a certificate', async () => {
    const { env } = await inProcessAgent(async () => {
      throw new Error('Fulcio is down');
    });
    const said: string[] = [];
    const counter = { n: 0 };
    let logins = 0;
    const s = agentSigner({
      config: cfg('pat@example.com'),
      env,
      repo: '/r',
      say: (l) => said.push(l),
      getToken: async () => (logins++, toIdentityToken(fakeJwt('pat@example.com', new Date(Date.now() + 600_000)), 't')),
      local: localPath(counter),
      agentMain,
    });
    expect(verifies(await s.sign(attrs), attrs)).toBe(true);
    expect(s.lastMode).toBe('local');
    expect(said.join('\n')).toMatch(/Fulcio is down/);
    // The token obtained for the agent is reused by the fallback: one login in total.
    expect(logins).toBe(1);
  });
});

describe('progress lines from the agent', () => {
  /** A stand-in agent on a socket: answers each request frame with what `reply` returns. */
  async function fakeAgent(reply: (req: Record<string, unknown>) => Record<string, unknown>[]): Promise<{ path: string; seen: Record<string, unknown>[]; close(): void }> {
    const { createServer } = await import('node:net');
    const { FrameReader, decodeFrameJson, encodeFrame } = await import('../../src/agent/protocol.js');
    const path = join(privateTmp(), 'a.sock');
    const seen: Record<string, unknown>[] = [];
    const server = createServer((sock) => {
      const r = new FrameReader();
      sock.on('data', (d) => {
        for (const f of r.push(d)) {
          const req = decodeFrameJson(f);
          seen.push(req);
          for (const m of reply(req)) sock.write(encodeFrame(m));
        }
      });
    });
    await new Promise<void>((res) => server.listen(path, res));
    return { path, seen, close: () => server.close() };
  }
  const fields = { identity: { fulcioURL: 'f', issuer: 'i', clientID: 'c' }, config: { fulcioURL: 'f', rekorURL: 'r', issuer: 'i', clientID: 'c' }, signedAttrs: attrs, repo: '/r' };
  const good = (id: unknown) => ({ v: 1, id, result: { signature: Buffer.from([0x30, 0x00]).toString('base64'), chain: [Buffer.from([0x30, 0x00]).toString('base64')] } });

  it('relays them in order, before the answer', async () => {
    const { agentSign } = await import('../../src/agent/client.js');
    const a = await fakeAgent((req) => [
      { v: 1, id: req.id, progress: 'Requesting a certificate from f…' },
      { v: 1, id: req.id, progress: 'second\u001b]0;x\u0007' },
      good(req.id),
    ]);
    const lines: string[] = [];
    await agentSign(a.path, fields, 5000, (l) => lines.push(l));
    a.close();
    expect(a.seen[0]!.progress).toBe(true);
    expect(lines).toEqual(['Requesting a certificate from f…', 'second?]0;x?']);
  });

  it('asks an older agent, which refuses the field, once more without it', async () => {
    const { agentSign } = await import('../../src/agent/client.js');
    const a = await fakeAgent((req) => ('progress' in req ? [{ v: 1, id: req.id, error: { code: 'BAD_REQUEST', message: 'sign: unknown field "progress"' } }] : [good(req.id)]));
    const r = await agentSign(a.path, fields, 5000, () => {});
    a.close();
    expect(r.chain).toHaveLength(1);
    expect(a.seen.map((q) => 'progress' in q)).toEqual([true, false]);
  });

  it('a flood of progress frames is a malformed answer', async () => {
    const { agentSign } = await import('../../src/agent/client.js');
    const a = await fakeAgent((req) => Array.from({ length: 40 }, (_, i) => ({ v: 1, id: req.id, progress: `line ${i}` })));
    await expect(agentSign(a.path, fields, 5000, () => {})).rejects.toThrow(/more than 32 progress lines/);
    a.close();
  });
});
