/**
 * When git's signing call takes the fast path (src/main-fast-sign.ts) and when it steps aside.
 * A real agent server (src/agent/server.ts) on a private socket, with certificates from a
 * throwaway openssl CA; whole signatures against the sandbox are in
 * test/agent/git-integration.test.ts and test/reliability/faults.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fileLog } from '../../src/agent/log.js';
import { MAX_PAYLOAD } from '../../src/agent/protocol.js';
import { type AgentServer, startAgentServer } from '../../src/agent/server.js';
import { runFastSign } from '../../src/main-fast-sign.js';
import { toIdentityToken } from '../../src/oidc/get-token.js';
import { type TestCa, fakeJwt, makeTestCa, privateTmp, removeTempDirs } from '../agent/helpers.js';

const SIGN = ['--status-fd=2', '-bsau', 'a@example.com'];
const payload = Buffer.from('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@example.com> 1767225600 +0000\ncommitter A <a@example.com> 1767225600 +0000\n\nfast\n');

let ca: TestCa;
beforeAll(() => {
  ca = makeTestCa();
});
const servers: AgentServer[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close('test end');
});
afterAll(() => removeTempDirs());

interface Setup {
  env: NodeJS.ProcessEnv;
  sock: string;
  logPath: string;
  out: { fd: number; text: string }[];
  reads: { n: number };
}

function setup(extra: NodeJS.ProcessEnv = {}): Setup {
  const dir = privateTmp('gs-fast-sign-');
  const sock = join(dir, 'run', 'agent.sock');
  return {
    env: {
      HOME: dir,
      XDG_CACHE_HOME: join(dir, 'cache'),
      GIT_CONFIG_NOSYSTEM: '1',
      GITSEAL_AGENT_SOCK: sock,
      GITSEAL_FULCIO_URL: 'http://127.0.0.1:9/fulcio',
      GITSEAL_REKOR_URL: 'http://127.0.0.1:9/rekor',
      GITSEAL_OIDC_ISSUER: 'https://issuer.test',
      ...extra,
    },
    sock,
    logPath: join(dir, 'agent.log'),
    out: [],
    reads: { n: 0 },
  };
}

/** stdin that counts whether anyone read it. */
function stdinOf(s: Setup, bytes: Buffer): AsyncIterable<Buffer> {
  return {
    async *[Symbol.asyncIterator]() {
      s.reads.n++;
      yield bytes;
    },
  };
}

async function agent(s: Setup, obtain: 'ca' | 'fail' = 'ca'): Promise<void> {
  servers.push(
    await startAgentServer({
      socketPath: s.sock,
      log: fileLog(s.logPath),
      version: 'test',
      now: () => new Date(),
      parseToken: (raw) => toIdentityToken(raw, 'test'),
      obtain: async (i) => {
        if (obtain === 'fail') throw new Error('Fulcio: connection refused');
        return ca.issue(i.token.email!, new Date(Date.now() + 600_000));
      },
    }),
  );
}

function run(s: Setup, argv = SIGN, bytes = payload) {
  return runFastSign(argv, {
    env: s.env,
    cwd: s.env.HOME!,
    stdin: stdinOf(s, bytes),
    write: (fd, d) => s.out.push({ fd, text: d.toString() }),
    ttyPath: '/nonexistent/tty',
  });
}

describe('the fast signing path steps aside, stdin untouched', () => {
  it('for calls that are not git signing calls', async () => {
    const s = setup();
    await agent(s);
    for (const argv of [['version'], ['--status-fd=1', '--verify', 'sig', '-'], ['--version'], ['-bsau', 'k', 'payload-file']]) {
      expect(await run(s, argv)).toBeUndefined();
    }
    expect(s.reads.n).toBe(0);
  });

  it('when gitseal.agent is off, or no agent listens', async () => {
    const off = setup({ GITSEAL_AGENT: 'off' });
    await agent(off);
    expect(await run(off)).toBeUndefined();
    const none = setup();
    expect(await run(none)).toBeUndefined();
    expect(off.reads.n + none.reads.n).toBe(0);
  });

  it('when the configuration is one the full path must report', async () => {
    const s = setup({ GITSEAL_REKOR_VERSION: '2' }); // v2 without a timestamp authority
    await agent(s);
    expect(await run(s)).toBeUndefined();
    expect(s.reads.n).toBe(0);
  });
});

describe('the fast signing path hands the payload to the full path', () => {
  it('when the agent needs a token (a login belongs to the full path)', async () => {
    const s = setup();
    await agent(s);
    const r = await run(s);
    expect(r).toEqual({ fallback: payload });
    expect(s.out).toEqual([]);
    expect(readFileSync(s.logPath, 'utf8')).toContain('outcome="need-token"');
  });

  it('when the agent cannot get a certificate', async () => {
    const s = setup({ SIGSTORE_ID_TOKEN: fakeJwt('a@example.com', new Date(Date.now() + 3600_000)) });
    await agent(s, 'fail');
    expect(await run(s)).toEqual({ fallback: payload });
    expect(s.out).toEqual([]);
  });

  it('when the trusted root it names cannot be read where the agent runs (a forwarded agent)', async () => {
    const s = setup({ GITSEAL_TRUSTED_ROOT: '/nonexistent/trusted_root.json', SIGSTORE_ID_TOKEN: fakeJwt('a@example.com', new Date(Date.now() + 3600_000)) });
    await agent(s);
    expect(await run(s)).toEqual({ fallback: payload });
    const log = readFileSync(s.logPath, 'utf8');
    expect(log).toMatch(/outcome="refused"[^\n]*trusted_root\.json/);
    expect(log).not.toContain('outcome="signed"');
  });

  it('when the payload is too large for one request, without asking the agent', async () => {
    const s = setup();
    await agent(s);
    const big = Buffer.alloc(MAX_PAYLOAD + 1, 0x61);
    expect(await run(s, SIGN, big)).toEqual({ fallback: big });
    expect(readFileSync(s.logPath, 'utf8')).not.toContain(' sign ');
  });
});

describe('the fast signing path reports what any path would hit', () => {
  it('ABORTED (the key signed, the signature could not be completed): one line, nothing on stdout, exit 1', async () => {
    // The throwaway CA is not in the trusted root, so the agent's check of its own chain fails.
    const s = setup({ SIGSTORE_ID_TOKEN: fakeJwt('a@example.com', new Date(Date.now() + 3600_000)) });
    await agent(s);
    expect(await run(s)).toBe(1);
    expect(s.out.filter((o) => o.fd === 1)).toEqual([]);
    const err = s.out.filter((o) => o.fd === 2).map((o) => o.text).join('');
    expect(err.split('\n').filter((l) => l.startsWith('gitseal: '))).toEqual([expect.stringMatching(/^gitseal: Fulcio returned a certificate that does not check out/)]);
    expect(err).not.toContain('one-time credential');
    expect(readFileSync(s.logPath, 'utf8')).toContain('outcome="aborted"');
  });
});
