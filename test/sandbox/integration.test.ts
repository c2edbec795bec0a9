// The sandbox end to end, as clients see it: packages/sandbox/bin/gitseal-sandbox started as a
// child process; an ID token from its provider; a Fulcio certificate for a
// node:crypto key with a proof of possession; a hashedrekord logged in Rekor;
// a restart on the same directory; and @sigstore/verify — code we did not
// write — checking certificate profile, SCT, SET, checkpoint and inclusion
// proof against DIR/trusted_root.json.
import { createHash, createPublicKey, verify, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  certify as certifyAt,
  escape,
  hashedRekord,
  logEntry as logEntryAt,
  sigstoreVerify as verifyWith,
  token as tokenFor,
  type Identity,
} from './integration-client.js';
import { rootFromInclusion } from './rfc9162.js';
import { sandboxCli, startSandboxProcess, stopSandboxProcess, type SandboxProcess } from './runner-helpers.js';

const EMAIL = 'dev@example.test';
let dir: string;
let sb: SandboxProcess | undefined;

const token = (args: string[] = ['--email', EMAIL]) => tokenFor(dir, args);
const certify = (jwt: string, challenge: string) => certifyAt(sb!.info.urls.fulcio, jwt, challenge);
const logEntry = (proposal: unknown) => logEntryAt(sb!.info.urls.rekor, proposal);
const sigstoreVerify = (...a: [Buffer, Identity, Buffer, Buffer, any, object]) => verifyWith(dir, ...a);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gitseal-sandbox-it-'));
  sb = await startSandboxProcess(dir);
}, 60_000);
afterAll(async () => {
  await stopSandboxProcess(dir, sb);
  rmSync(dir, { recursive: true, force: true });
});

describe('a running sandbox', () => {
  it('publishes a ready line, sandbox.json, env, trusted root and signing config', () => {
    const { urls } = sb!.info;
    for (const u of [urls.oidc, urls.fulcio, urls.rekor]) expect(u).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sb!.readyLine).toContain(urls.rekor);
    expect(sb!.info.pid).toBe(sb!.child.pid);
    const env = readFileSync(join(dir, 'env'), 'utf8');
    expect(env).toContain(`export GITSEAL_FULCIO_URL='${urls.fulcio}'`);
    expect(env).toContain(`export GITSEAL_REKOR_URL='${urls.rekor}'`);
    expect(env).toContain(`export GITSEAL_OIDC_ISSUER='${urls.oidc}'`);
    expect(env).toContain(`export GITSEAL_OIDC_CLIENT_ID='sigstore'`);
    expect(env).toContain(`export GITSEAL_TRUSTED_ROOT='${join(dir, 'trusted_root.json')}'`);
    const sc = JSON.parse(readFileSync(join(dir, 'signing_config.json'), 'utf8'));
    expect(sc.mediaType).toBe('application/vnd.dev.sigstore.signingconfig.v0.2+json');
    expect(sc.caUrls[0].url).toBe(urls.fulcio);
    expect(sc.rekorTlogUrls[0]).toMatchObject({ url: urls.rekor, majorApiVersion: 1 });
    expect(sc.oidcUrls[0].url).toBe(urls.oidc);
    // parsable as the protobuf-specs types
    const root = TrustedRoot.fromJSON(JSON.parse(readFileSync(join(dir, 'trusted_root.json'), 'utf8')));
    expect(root.tlogs[0].baseUrl).toBe(urls.rekor);
    expect(root.certificateAuthorities.length).toBeGreaterThan(0);
    expect(root.ctlogs.length).toBeGreaterThan(0);
    for (const f of ['sandbox.json', 'env', 'trusted_root.json']) expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  let first: { artifact: Buffer; id: Identity; digest: Buffer; signature: Buffer; uuid: string; entry: any };

  it('issues a certificate and logs an entry that @sigstore/verify accepts against trusted_root.json', async () => {
    const id = await certify(token(), EMAIL);
    expect(id.chain.length).toBeGreaterThanOrEqual(2);
    const artifact = Buffer.from('an artifact signed in the sandbox\n');
    const { digest, signature, proposal } = hashedRekord(artifact, id);
    const r = await logEntry(proposal);
    expect(r.status).toBe(201);
    const [uuid] = Object.keys(r.json);
    first = { artifact, id, digest, signature, uuid, entry: r.json[uuid] };
    const signer = sigstoreVerify(artifact, id, digest, signature, first.entry, {
      subjectAlternativeName: `^${escape(EMAIL)}$`,
      extensions: { issuer: sb!.info.urls.oidc },
    });
    expect(signer.identity?.subjectAlternativeName).toBe(EMAIL);
    expect(signer.identity?.extensions?.issuer).toBe(sb!.info.urls.oidc);
    // and the verifier is not a rubber stamp: another artifact fails
    expect(() => sigstoreVerify(Buffer.from('other'), id, digest, signature, first.entry, {})).toThrow();
    // nor a wrong identity
    expect(() => sigstoreVerify(artifact, id, digest, signature, first.entry, { subjectAlternativeName: '^someone@else\\.test$' })).toThrow();
  });

  it('issues workload-identity certificates for GitHub-Actions-like and URI tokens', async () => {
    const wf = await certify(token(['--issuer-type', 'workflow']), 'repo:sandbox-org/sandbox-repo:ref:refs/heads/main');
    const wfCert = new X509Certificate(wf.leafDer);
    expect(wfCert.subjectAltName).toContain('URI:https://github.com/sandbox-org/sandbox-repo/.github/workflows/ci.yml@refs/heads/main');
    const subject = 'https://ci.example.test/pipelines/7';
    const uri = await certify(token(['--issuer-type', 'uri', '--subject', subject]), subject);
    expect(new X509Certificate(uri.leafDer).subjectAltName).toBe(`URI:${subject}`);
  });

  it('answers bad requests with the right status and message', async () => {
    const id = first.id;
    const bad = hashedRekord(Buffer.from('x'), id);
    bad.proposal.spec.data.hash.value = createHash('sha256').update('y').digest('hex');
    const badSig = await logEntry(bad.proposal);
    expect(badSig.status).toBe(400);
    expect(badSig.json).toMatchObject({ code: 400, message: expect.stringMatching(/^verifying signature/) });
    const garbage = await fetch(`${sb!.info.urls.rekor}/api/v1/log/entries`, { method: 'POST', body: 'not json {' });
    expect(garbage.status).toBe(400);
    expect(await garbage.json()).toEqual({ code: 400, message: 'the request body is not valid JSON' });
    const dup = await logEntry(hashedRekord(first.artifact, id).proposal);
    expect(dup.status).toBe(201); // ECDSA is randomized: a new signature is a new entry
    const again = await logEntry(JSON.parse(Buffer.from(first.entry.body, 'base64').toString()));
    expect(again.status).toBe(409);
    expect(again.json.code).toBe(409);
    expect(again.headers.get('location')).toBe(`/api/v1/log/entries/${first.uuid}`);
    const missing = await fetch(`${sb!.info.urls.rekor}/api/v1/log/entries/${'1'.repeat(80)}`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: number }).code).toBe(404);
    const badToken = await fetch(`${sb!.info.urls.fulcio}/api/v2/signingCert`, { method: 'POST', body: '{}' });
    expect(badToken.status).toBeGreaterThanOrEqual(400);
  });

  it('counts requests per service and endpoint (stats)', () => {
    const r = sandboxCli(['stats', '--dir', dir]);
    expect(r.status, r.stderr).toBe(0);
    const stats = JSON.parse(r.stdout);
    expect(stats.requests.fulcio['POST /api/v2/signingCert']).toBe(4);
    expect(stats.fulcio.signingCert).toBe(3);
    expect(stats.requests.rekor['POST /api/v1/log/entries']).toBe(5);
    expect(stats.requests.rekor['GET /api/v1/log/entries/{id}']).toBe(1);
    expect(stats.rekor.treeSize).toBe(2);
    expect(stats.requests.oidc['GET /.well-known/openid-configuration']).toBeGreaterThanOrEqual(1);
  });

  it('keeps the log across a restart on the same directory; old proofs check against the new checkpoint', async () => {
    const id = first.id;
    const oldLog = (await (await fetch(`${sb!.info.urls.rekor}/api/v1/log`)).json()) as { treeSize: number };
    const oldUrls = sb!.info.urls;
    await stopSandboxProcess(dir, sb);
    expect(await sb!.exited).toBe(0);
    expect(existsSync(join(dir, 'sandbox.json'))).toBe(false);

    sb = await startSandboxProcess(dir);
    expect(sb.info.urls).toEqual(oldUrls); // same ports again, so checkpoint names keep matching the trust root
    for (let i = 0; i < 6; i++) expect((await logEntry(hashedRekord(Buffer.from(`later ${i}`), id).proposal)).status).toBe(201);

    const res = await fetch(`${sb.info.urls.rekor}/api/v1/log/entries/${first.uuid}`);
    expect(res.status).toBe(200);
    const now = ((await res.json()) as any)[first.uuid];
    expect(now.body).toBe(first.entry.body);
    expect(now.logIndex).toBe(first.entry.logIndex);
    const p = now.verification.inclusionProof;
    expect(p.treeSize).toBe(oldLog.treeSize + 6);

    // The checkpoint verifies with the Rekor key from trusted_root.json …
    const root = JSON.parse(readFileSync(join(dir, 'trusted_root.json'), 'utf8'));
    const rekorKey = createPublicKey({ key: Buffer.from(root.tlogs[0].publicKey.rawBytes, 'base64'), format: 'der', type: 'spki' });
    const [note, sigLine] = p.checkpoint.split('\n\n');
    const sig = Buffer.from(sigLine.trim().split(' ')[2], 'base64');
    expect(verify('sha256', Buffer.from(note + '\n'), rekorKey, sig.subarray(4))).toBe(true);
    const [, size, rootB64] = note.split('\n');
    expect(Number(size)).toBe(p.treeSize);
    // … and the old entry's proof leads to its root.
    const leaf = createHash('sha256').update(Buffer.from([0])).update(Buffer.from(now.body, 'base64')).digest();
    expect(rootFromInclusion(p.logIndex, p.treeSize, leaf, p.hashes.map((h: string) => Buffer.from(h, 'hex'))).toString('base64')).toBe(rootB64);
    // @sigstore/verify agrees, with the fresh proof
    const signer = sigstoreVerify(first.artifact, id, first.digest, first.signature, now, { subjectAlternativeName: `^${escape(EMAIL)}$` });
    expect(signer.identity?.subjectAlternativeName).toBe(EMAIL);
  }, 60_000);
});

describe('fault injection', () => {
  const rekor = () => sb!.info.urls.rekor;
  const control = async (path: string) =>
    (await (await fetch(sb!.info.control.url + path, { headers: { authorization: `Bearer ${sb!.info.control.token}` } })).json()) as any;
  const fault = (...specs: string[]) => {
    const r = sandboxCli(['fault', '--dir', dir, ...specs]);
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  };

  it('fails with a status, count-limited, then recovers', async () => {
    expect(fault('rekor=503x2')).toEqual({ rekor: { action: { kind: 'status', status: 503 }, remaining: 2 } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${rekor()}/api/v1/log`)).status);
    expect(statuses).toEqual([503, 503, 200]);
    fault('rekor=429');
    const r = await fetch(`${rekor()}/api/v1/log`);
    expect(r.status).toBe(429);
    expect(await r.json()).toEqual({ code: 429, message: 'sandbox fault injected: rekor answers 429' });
    fault('rekor=clear');
    expect((await fetch(`${rekor()}/api/v1/log`)).status).toBe(200);
  });

  it('delays a response: a later request overtakes the delayed one', async () => {
    fault('rekor=delay:3000');
    const order: string[] = [];
    const slow = fetch(`${rekor()}/api/v1/log`).then((r) => { order.push('delayed'); return r.status; });
    // Wait (by state, not time) until the sandbox has applied the delay to that request, then clear it.
    while (((await control('/stats')).faultsInjected.rekor ?? 0) < 4) await new Promise((r) => setTimeout(r, 20));
    fault('rekor=clear');
    const fast = fetch(`${rekor()}/api/v1/log`).then((r) => { order.push('normal'); return r.status; });
    expect(await Promise.all([slow, fast])).toEqual([200, 200]);
    expect(order).toEqual(['normal', 'delayed']);
  });

  it('drops the connection (here: the OIDC provider)', async () => {
    fault('oidc=dropx1');
    await expect(fetch(`${sb!.info.urls.oidc}/.well-known/openid-configuration`)).rejects.toThrow();
    const ok = await fetch(`${sb!.info.urls.oidc}/.well-known/openid-configuration`);
    expect(ok.status).toBe(200);
  });

  it('returns a malformed body with the real status', async () => {
    fault('rekor=malformedx1');
    const r = await fetch(`${rekor()}/api/v1/log`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    await expect(r.json()).rejects.toThrow(SyntaxError);
  });

  it('truncates a response (Fulcio): the body ends before its Content-Length', async () => {
    fault('fulcio=truncatex1');
    const r = await fetch(`${sb!.info.urls.fulcio}/api/v2/trustBundle`);
    expect(r.status).toBe(200);
    await expect(r.text()).rejects.toThrow();
    const ok = await fetch(`${sb!.info.urls.fulcio}/api/v2/trustBundle`);
    expect(((await ok.json()) as { chains: unknown[] }).chains.length).toBeGreaterThan(0);
  });

  it('covers the TSA and the Rekor v2 log as well', async () => {
    const { tsa, rekorV2 } = sb!.info.urls;
    expect(tsa && rekorV2).toBeTruthy();
    fault('tsa=503x1', 'rekor2=504x1');
    expect((await fetch(tsa!, { method: 'POST', body: '{}' })).status).toBe(503);
    expect((await fetch(`${rekorV2}/api/v2/log/entries`, { method: 'POST', body: '{}' })).status).toBe(504);
    expect((await fetch(tsa!, { method: 'POST', body: '{}' })).status).not.toBe(503);
  });

  it('clears all faults, counts injections, and rejects bad specs with exit 2', async () => {
    fault('rekor=503', 'fulcio=500');
    expect(fault('clear')).toEqual({});
    expect((await fetch(`${rekor()}/api/v1/log`)).status).toBe(200);
    const stats = JSON.parse(sandboxCli(['stats', '--dir', dir]).stdout);
    expect(stats.faultsInjected).toMatchObject({ rekor: 5, oidc: 1, fulcio: 1, tsa: 1, rekor2: 1 });
    for (const bad of ['rekor=200', 'ct=503', 'rekor=delay:x', 'rekor=503x0', 'nonsense']) {
      const r = sandboxCli(['fault', '--dir', dir, bad]);
      expect(r.status, bad).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^gitseal-sandbox: /);
    }
  });
});

describe('command line', () => {
  it('rejects bad usage with one line and exit 2', () => {
    for (const args of [[], ['frobnicate'], ['start'], ['start', '--dir', dir, '--rekor-port', 'x'], ['start', '--dir', dir, '--bogus'], ['token', '--dir', dir, '--issuer-type', 'martian']]) {
      const r = sandboxCli(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
  });

  it('refuses a second sandbox on the same directory, and reports a stopped one', async () => {
    const r = sandboxCli(['start', '--dir', dir]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/already running/);
    const empty = mkdtempSync(join(tmpdir(), 'gitseal-sandbox-none-'));
    const s = sandboxCli(['stats', '--dir', empty]);
    expect(s.status).toBe(1);
    expect(s.stderr).toMatch(/no sandbox is running/);
    rmSync(empty, { recursive: true });
  });
});
