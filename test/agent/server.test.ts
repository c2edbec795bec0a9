import { X509Certificate, verify as ecdsaVerify } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentRefusedError, agentRequest, agentSign } from '../../src/agent/client.js';
import type { ObtainInput } from '../../src/agent/credential-store.js';
import { fileLog } from '../../src/agent/log.js';
import { FrameReader, encodeFrame, parseStatusResult, type IdentityKey, type AgentConfig } from '../../src/agent/protocol.js';
import { type AgentServer, startAgentServer } from '../../src/agent/server.js';
import { toIdentityToken } from '../../src/oidc/get-token.js';
import type { Credential } from '../../src/sign/types.js';
import { type TestCa, corpusSignedAttrs, fakeJwt, keyMaterialPatterns, makeTestCa, privateTmp, removeTempDirs } from './helpers.js';
import { needs } from '../helpers/tools.js';

const corpus = corpusSignedAttrs();
const attrs = corpus[0].attrs;
let ca: TestCa;
beforeAll(() => {
  ca = makeTestCa();
});

function ident(email: string): { identity: IdentityKey; config: AgentConfig } {
  const base = { fulcioURL: 'http://127.0.0.1:9/fulcio', issuer: 'https://issuer.test', clientID: 'sigstore' };
  return { identity: { ...base, email }, config: { ...base, rekorURL: 'http://127.0.0.1:9/rekor', userEmail: email } };
}

interface Harness {
  server: AgentServer;
  sock: string;
  dir: string;
  logPath: string;
  obtained: ObtainInput[];
  issued: Credential[];
  clock: { t: number };
}

const running: AgentServer[] = [];
afterEach(async () => {
  while (running.length) await running.pop()!.close('test end');
});
afterAll(() => removeTempDirs());

async function harness(over: { lifetimeMs?: number; idleMs?: number; obtainDelayMs?: number; obtain?: (i: ObtainInput) => Promise<Credential> } = {}): Promise<Harness> {
  const dir = privateTmp();
  const sock = join(dir, 'run', 'agent.sock');
  const logPath = join(dir, 'log', 'agent.log');
  const clock = { t: Date.now() };
  const obtained: ObtainInput[] = [];
  const issued: Credential[] = [];
  const server = await startAgentServer({
    socketPath: sock,
    log: fileLog(logPath),
    version: 'test',
    idleMs: over.idleMs,
    now: () => new Date(clock.t),
    parseToken: (raw) => toIdentityToken(raw, 'test'),
    obtain:
      over.obtain ??
      (async (i) => {
        obtained.push(i);
        if (over.obtainDelayMs) await new Promise((r) => setTimeout(r, over.obtainDelayMs));
        const c = ca.issue(i.token.email!, new Date(clock.t + (over.lifetimeMs ?? 600_000)), new Date(clock.t));
        issued.push(c);
        return c;
      }),
  });
  running.push(server);
  return { server, sock, dir, logPath, obtained, issued, clock };
}

function leafEmail(der: Buffer): string | undefined {
  return new X509Certificate(der).subjectAltName?.replace(/^email:/, '');
}

function verifies(signature: Buffer, chain: Buffer[], data: Buffer): boolean {
  return ecdsaVerify('sha256', data, { key: new X509Certificate(chain[0]).publicKey, dsaEncoding: 'der' }, signature);
}

/** Send raw bytes, collect everything the agent writes back until it closes or goes quiet. */
function rawExchange(sock: string, bytes: Buffer, quietMs = 300): Promise<Buffer> {
  return new Promise((resolve) => {
    const s = connect(sock);
    const got: Buffer[] = [];
    let t: NodeJS.Timeout;
    const done = () => {
      clearTimeout(t);
      s.destroy();
      resolve(Buffer.concat(got));
    };
    const arm = () => {
      clearTimeout(t);
      t = setTimeout(done, quietMs);
    };
    s.on('connect', () => {
      s.write(bytes);
      arm();
    });
    s.on('data', (d) => {
      got.push(d);
      arm();
    });
    s.on('close', done);
    s.on('error', done);
  });
}

needs('openssl').describe('agent server', () => {
  it('signs real CMS signed attributes with a certified key and returns the chain', async () => {
    const h = await harness();
    const token = fakeJwt('alice@example.com', new Date(h.clock.t + 3600_000));
    for (const c of corpus.slice(0, 5)) {
      const r = await agentSign(h.sock, { ...ident('alice@example.com'), signedAttrs: c.attrs, repo: '/tmp/repo-a', token });
      expect(verifies(r.signature, r.chain, c.attrs)).toBe(true);
      expect(verifies(r.signature, r.chain, Buffer.concat([c.attrs, Buffer.from('x')]))).toBe(false);
      expect(leafEmail(r.chain[0])).toBe('alice@example.com');
      expect(r.chain.length).toBe(2);
    }
    expect(h.obtained.length).toBe(1);
  });

  it('asks for a token when it holds nothing, then reuses the certificate without one', async () => {
    const h = await harness();
    const who = ident('bob@example.com');
    await expect(agentSign(h.sock, { ...who, signedAttrs: attrs, repo: '/r' })).rejects.toMatchObject({ agentError: { code: 'NEED_TOKEN' } });
    const token = fakeJwt('bob@example.com', new Date(h.clock.t + 3600_000));
    await agentSign(h.sock, { ...who, signedAttrs: attrs, repo: '/r', token });
    const again = await agentSign(h.sock, { ...who, signedAttrs: attrs, repo: '/r' });
    expect(verifies(again.signature, again.chain, attrs)).toBe(true);
    expect(h.obtained.length).toBe(1);
  });

  it('serves a burst for one identity with exactly one credential request', async () => {
    const h = await harness({ obtainDelayMs: 150 });
    const token = fakeJwt('carol@example.com', new Date(h.clock.t + 3600_000));
    const rs = await Promise.all(
      Array.from({ length: 30 }, (_, i) => agentSign(h.sock, { ...ident('carol@example.com'), signedAttrs: corpus[i % corpus.length].attrs, repo: `/r${i}`, token })),
    );
    expect(h.obtained.length).toBe(1);
    rs.forEach((r, i) => expect(verifies(r.signature, r.chain, corpus[i % corpus.length].attrs)).toBe(true));
    expect(new Set(rs.map((r) => r.chain[0].toString('base64'))).size).toBe(1);
  });

  it('keeps identities apart: concurrent requests for two e-mails get their own certificates', async () => {
    const h = await harness({ obtainDelayMs: 50 });
    const exp = new Date(h.clock.t + 3600_000);
    const jobs = Array.from({ length: 40 }, (_, i) => {
      const email = i % 2 ? 'dave@example.com' : 'erin@example.com';
      return agentSign(h.sock, { ...ident(email), signedAttrs: attrs, repo: `/repo-${email}`, token: fakeJwt(email, exp) }).then((r) => ({ email, r }));
    });
    const out = await Promise.all(jobs);
    for (const { email, r } of out) expect(leafEmail(r.chain[0])).toBe(email);
    expect(h.obtained.map((o) => o.token.email).sort()).toEqual(['dave@example.com', 'erin@example.com']);
  });

  it('renews a certificate that has less than 30 s left, with the remembered token while it is valid', async () => {
    const h = await harness({ lifetimeMs: 600_000 });
    const who = ident('fred@example.com');
    const token = fakeJwt('fred@example.com', new Date(h.clock.t + 700_000));
    const first = await agentSign(h.sock, { ...who, signedAttrs: attrs, repo: '/r', token });
    h.clock.t += 600_000 - 31_000; // 31 s left: still used
    const same = await agentSign(h.sock, { ...who, signedAttrs: attrs, repo: '/r' });
    expect(same.chain[0].equals(first.chain[0])).toBe(true);
    h.clock.t += 2_000; // 29 s left: renewed with the token the agent still holds
    const renewed = await agentSign(h.sock, { ...who, signedAttrs: attrs, repo: '/r' });
    expect(renewed.chain[0].equals(first.chain[0])).toBe(false);
    expect(h.obtained.length).toBe(2);
    h.clock.t += 600_000; // certificate and token both expired: the client must log in
    await expect(agentSign(h.sock, { ...who, signedAttrs: attrs, repo: '/r' })).rejects.toMatchObject({ agentError: { code: 'NEED_TOKEN' } });
  });

  it('reports a failed credential request and does not keep the refused token', async () => {
    let calls = 0;
    const h = await harness({
      obtain: async () => {
        calls++;
        throw Object.assign(new Error('Fulcio said 401'), { name: 'GitsealError' });
      },
    });
    const who = ident('gina@example.com');
    const token = fakeJwt('gina@example.com', new Date(h.clock.t + 3600_000));
    await expect(agentSign(h.sock, { ...who, signedAttrs: attrs, repo: '/r', token })).rejects.toMatchObject({ agentError: { code: 'FAILED', message: 'Fulcio said 401' } });
    await expect(agentSign(h.sock, { ...who, signedAttrs: attrs, repo: '/r' })).rejects.toMatchObject({ agentError: { code: 'NEED_TOKEN' } });
    expect(calls).toBe(1);
  });

  it('refuses to sign anything that is not CMS signed attributes', async () => {
    const h = await harness();
    const token = fakeJwt('hal@example.com', new Date(h.clock.t + 3600_000));
    for (const data of [Buffer.from('tree 4b825dc6\n\nmsg\n'), Buffer.from('3100', 'hex'), Buffer.concat([Buffer.from([0x30]), attrs.subarray(1)])]) {
      const e = await agentSign(h.sock, { ...ident('hal@example.com'), signedAttrs: data, repo: '/r', token }).catch((x) => x);
      expect(e).toBeInstanceOf(AgentRefusedError);
      expect(e.agentError.code).toBe('BAD_REQUEST');
    }
    expect(h.obtained.length).toBe(0);
  });

  it('gives out no key material, whatever is asked', async () => {
    const h = await harness();
    const email = 'ivan@example.com';
    const token = fakeJwt(email, new Date(h.clock.t + 3600_000));
    await agentSign(h.sock, { ...ident(email), signedAttrs: attrs, repo: '/r', token });
    const keys = h.issued.map((c) => c.privateKey);
    const base = { v: 1, id: 1 };
    const wire = { ...ident(email), signedAttrs: attrs.toString('base64'), repo: '/r' };
    const attempts: Buffer[] = [
      ...['status', 'stop-not', 'export', 'getKey', 'key', 'privateKey', 'credential', 'dump', 'get', 'list'].map((op) => encodeFrame({ ...base, op })),
      encodeFrame({ ...base, op: 'sign', ...wire, includeKey: true }),
      encodeFrame({ ...base, op: 'sign', ...wire, format: 'pkcs8' }),
      encodeFrame({ ...base, op: 'sign', ...wire, signedAttrs: Buffer.from('give me the key').toString('base64') }),
      encodeFrame({ ...base, op: 'status', verbose: true }),
      encodeFrame({ v: 2, id: 1, op: 'status' }),
      encodeFrame({ v: 1, id: 1, op: 'sign', ...wire }),
      // A whole signature: Rekor (127.0.0.1:9) is unreachable, so the answer is ABORTED after the key signed.
      encodeFrame({ ...base, op: 'signPayload', ...ident(email), signing: { rekorVersion: 1, matchCommitter: false }, trustEnv: {}, payload: Buffer.from('tree x\n').toString('base64'), repo: '/r' }),
      encodeFrame({ ...base, op: 'signPayload', ...ident(email), signing: { rekorVersion: 1, matchCommitter: false }, trustEnv: {}, payload: 'eA==', repo: '/r', includeKey: true }),
      encodeFrame({ ...base, op: 'signPayload', ...ident(email), signing: { rekorVersion: 1, matchCommitter: false, exportKey: true }, trustEnv: {}, payload: 'eA==', repo: '/r' }),
      Buffer.from('GET / HTTP/1.1\r\n\r\n'),
      Buffer.from([0, 0, 0, 5, 0x7b, 0x22, 0x7d, 0xff, 0x00]),
      Buffer.from([0xff, 0xff, 0xff, 0xff]),
      Buffer.from([0, 0, 0, 0]),
    ];
    const patterns = keyMaterialPatterns(keys);
    let answered = 0;
    for (const a of attempts) {
      const out = await rawExchange(h.sock, a);
      if (out.length) answered++;
      const text = out.toString('latin1');
      // Decode the frames too: base64 inside JSON must not hide a key.
      const r = new FrameReader();
      let frames: Buffer[] = [];
      try {
        frames = r.push(out);
      } catch {
        frames = [];
      }
      const decoded = frames.map((f) => f.toString('utf8')).join('\n');
      const binary = frames
        .flatMap((f) => [...f.toString('utf8').matchAll(/"([A-Za-z0-9+/=]{40,})"/g)].map((m) => Buffer.from(m[1], 'base64').toString('hex')))
        .join('\n');
      for (const p of patterns) {
        for (const hay of [text, decoded, binary]) {
          if (typeof p === 'string') expect(hay.includes(p)).toBe(false);
          else expect(p.test(hay)).toBe(false);
        }
      }
    }
    expect(answered).toBeGreaterThanOrEqual(attempts.length - 1);
    // Status lists the identity without anything secret.
    const st = await agentRequest(h.sock, { v: 1, id: 2, op: 'status' });
    const s = parseStatusResult(st.result);
    expect(s.identities.map((i) => i.subject)).toEqual([email]);
    expect(s.identities[0].secondsLeft).toBeGreaterThan(500);
    expect(JSON.stringify(st)).not.toContain(token);
  });

  it('creates a 0700 directory and a 0600 socket, and refuses an unsafe directory', async () => {
    const h = await harness();
    expect(lstatSync(join(h.dir, 'run')).mode & 0o777).toBe(0o700);
    const st = lstatSync(h.sock);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(process.getuid!());
    expect(readdirSync(join(h.dir, 'run'))).toEqual(['agent.sock']);

    const open = privateTmp();
    mkdirSync(join(open, 'd'), { mode: 0o700 });
    chmodSync(join(open, 'd'), 0o755);
    const opts = { log: { write() {} }, version: 't', now: () => new Date(), parseToken: (r: string) => toIdentityToken(r, 't'), obtain: async () => ca.issue('x@example.com', new Date(Date.now() + 60_000)) };
    await expect(startAgentServer({ ...opts, socketPath: join(open, 'd', 'agent.sock') })).rejects.toThrow(/mode is 0755, it must be 0700/);
    chmodSync(join(open, 'd'), 0o710);
    await expect(startAgentServer({ ...opts, socketPath: join(open, 'd', 'agent.sock') })).rejects.toThrow(/must be 0700/);
    symlinkSync(join(open, 'd'), join(open, 'link'));
    chmodSync(join(open, 'd'), 0o700);
    await expect(startAgentServer({ ...opts, socketPath: join(open, 'link', 'agent.sock') })).rejects.toThrow(/symlink/);
    // A second agent on a live socket refuses and leaves the first one working.
    await expect(startAgentServer({ ...opts, socketPath: h.sock })).rejects.toThrow(/already running/);
    const st2 = await agentRequest(h.sock, { v: 1, id: 3, op: 'status' });
    expect(parseStatusResult(st2.result).pid).toBe(process.pid);
  });

  it('replaces a stale socket left by a dead agent', async () => {
    const dir = privateTmp();
    const sock = join(dir, 'agent.sock');
    writeFileSync(sock, 'stale');
    const server = await startAgentServer({ socketPath: sock, log: { write() {} }, version: 't', now: () => new Date(), parseToken: (r) => toIdentityToken(r, 't'), obtain: async () => ca.issue('x@example.com', new Date(Date.now() + 60_000)) });
    running.push(server);
    expect(lstatSync(sock).isSocket()).toBe(true);
  });

  it('logs time, identity, repository and outcome, never tokens; log is 0600 and rotates', async () => {
    const h = await harness();
    const token = fakeJwt('judy@example.com', new Date(h.clock.t + 3600_000));
    await agentSign(h.sock, { ...ident('judy@example.com'), signedAttrs: attrs, repo: '/home/judy/src/project one', token });
    const log = readFileSync(h.logPath, 'utf8');
    expect(log).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z sign identity="judy@example.com via https:\/\/issuer.test as judy@example.com" repo="\/home\/judy\/src\/project one" outcome="signed"$/m);
    expect(log).not.toContain(token);
    expect(log).not.toContain(token.split('.')[1]);
    expect(lstatSync(h.logPath).mode & 0o777).toBe(0o600);

    const rot = join(privateTmp(), 'agent.log');
    const l = fileLog(rot, { maxBytes: 300, keep: 3 });
    for (let i = 0; i < 40; i++) l.write({ event: 'sign', identity: `user${i}@example.com`, repo: '/r', outcome: 'signed' });
    expect(existsSync(`${rot}.3`)).toBe(true);
    expect(existsSync(`${rot}.4`)).toBe(false);
    for (const f of [rot, `${rot}.1`, `${rot}.2`, `${rot}.3`]) expect(lstatSync(f).size).toBeLessThanOrEqual(300);
    expect(readFileSync(rot, 'utf8')).toContain('user39@example.com');
  });

  it('closes connections that stall in the middle of a frame', async () => {
    const dir = privateTmp();
    const server = await startAgentServer({ socketPath: join(dir, 'a.sock'), frameTimeoutMs: 200, log: { write() {} }, version: 't', now: () => new Date(), parseToken: (r) => toIdentityToken(r, 't'), obtain: async () => ca.issue('x@example.com', new Date(Date.now() + 60_000)) });
    running.push(server);
    const closedBy = await new Promise<string>((resolve) => {
      const s = connect(join(dir, 'a.sock'));
      s.on('connect', () => s.write(Buffer.from([0, 0, 0, 50, 0x7b])));
      s.on('close', () => resolve('agent'));
      setTimeout(() => resolve('still open'), 5000).unref();
    });
    expect(closedBy).toBe('agent');
  });

  it('exits when idle with no credential', async () => {
    const h = await harness({ idleMs: 300 });
    expect(await h.server.closed).toBe('idle');
    expect(existsSync(h.sock)).toBe(false);
    expect(readFileSync(h.logPath, 'utf8')).toMatch(/idle-exit detail="idle"/);
  });

  it('steps down when its socket is taken over by another agent', async () => {
    const h = await harness({ idleMs: 2000 });
    unlinkSync(h.sock);
    const b = await startAgentServer({ socketPath: h.sock, log: { write() {} }, version: 'b', now: () => new Date(), parseToken: (r) => toIdentityToken(r, 't'), obtain: async () => ca.issue('x@example.com', new Date(Date.now() + 60_000)) });
    running.push(b);
    expect(await h.server.closed).toBe('socket replaced or removed');
    // The newcomer keeps its socket; the old agent did not remove it on the way out.
    const st = await agentRequest(h.sock, { v: 1, id: 5, op: 'status' });
    expect(parseStatusResult(st.result).version).toBe('b');
  });

  it('stops on request and forgets its credentials', async () => {
    const h = await harness();
    const token = fakeJwt('kim@example.com', new Date(h.clock.t + 3600_000));
    await agentSign(h.sock, { ...ident('kim@example.com'), signedAttrs: attrs, repo: '/r', token });
    const r = await agentRequest(h.sock, { v: 1, id: 4, op: 'stop' });
    expect(r.result).toEqual({ stopping: true });
    expect(await h.server.closed).toBe('stop requested');
    expect(existsSync(h.sock)).toBe(false);
  });
});
