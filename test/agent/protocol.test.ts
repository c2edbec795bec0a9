import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  FrameReader,
  MAX_FRAME,
  MAX_SIGNED_ATTRS,
  ProtocolError,
  decodeBase64Strict,
  decodeFrameJson,
  encodeFrame,
  identityKeyString,
  parseRequest,
  parseResponse,
  parseSignResult,
  parsePayloadSignResult,
  parseStatusResult,
  requestToWire,
  MAX_PAYLOAD,
  MAX_PROGRESS_LINE,
  parseProgress,
  progressFrame,
  type SignPayloadRequest,
  type SignRequest,
} from '../../src/agent/protocol.js';
import { checkSignedAttributes } from '../../src/agent/signed-attrs.js';
import { children, parseDer } from '../../src/util/der.js';
import { corpusSignedAttrs } from './helpers.js';

const identity = { fulcioURL: 'http://127.0.0.1:1/fulcio', issuer: 'http://127.0.0.1:1/oidc', clientID: 'sigstore', email: 'a@example.com' };
const config = { fulcioURL: identity.fulcioURL, rekorURL: 'http://127.0.0.1:1/rekor', issuer: identity.issuer, clientID: 'sigstore', userEmail: 'a@example.com' };
const attrs = corpusSignedAttrs()[0].attrs;

function signWire(over: Record<string, unknown> = {}): Record<string, unknown> {
  const req: SignRequest = { v: 1, id: 7, op: 'sign', identity, config, signedAttrs: attrs, repo: '/tmp/repo' };
  return { ...requestToWire(req), ...over };
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof ProtocolError) return e.agentCode;
    if (e instanceof Error && 'code' in e) return String((e as { code: string }).code);
    throw e;
  }
  return 'no error';
}

describe('framing', () => {
  it('round-trips frames split at every byte boundary', () => {
    const msgs = [{ v: 1, id: 1, op: 'status' }, signWire(), { v: 1, id: 3, op: 'stop' }];
    const stream = Buffer.concat(msgs.map(encodeFrame));
    for (let cut = 0; cut <= stream.length; cut += 97) {
      const r = new FrameReader();
      const out = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))];
      expect(out.map((b) => decodeFrameJson(b))).toEqual(msgs);
      expect(r.pending).toBe(0);
    }
  });

  it('uses a 4-byte big-endian length prefix', () => {
    const f = encodeFrame({ v: 1, id: 1, op: 'status' });
    expect(f.readUInt32BE(0)).toBe(f.length - 4);
    expect(JSON.parse(f.subarray(4).toString())).toEqual({ v: 1, id: 1, op: 'status' });
  });

  it('rejects a declared length above the limit before buffering the body', () => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(MAX_FRAME + 1);
    expect(code(() => new FrameReader().push(head))).toBe('AGENT');
    head.writeUInt32BE(0xffffffff);
    expect(() => new FrameReader().push(head)).toThrow(/exceeds/);
  });

  it('rejects a zero-length frame', () => {
    expect(() => new FrameReader().push(Buffer.alloc(4))).toThrow(/length 0/);
  });

  it('refuses to encode a frame above the limit', () => {
    expect(() => encodeFrame({ x: 'a'.repeat(MAX_FRAME) })).toThrow(/frame limit/);
  });

  it('rejects non-JSON, non-object and invalid UTF-8 bodies', () => {
    expect(() => decodeFrameJson(Buffer.from('{"v":1'))).toThrow(/not valid JSON/);
    expect(() => decodeFrameJson(Buffer.from('[1,2]'))).toThrow(/not a JSON object/);
    expect(() => decodeFrameJson(Buffer.from('null'))).toThrow(/not a JSON object/);
    expect(() => decodeFrameJson(Buffer.from([0x7b, 0xff, 0x7d]))).toThrow(/UTF-8/);
  });

  it('never throws anything but a GitsealError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const r = new FrameReader(256);
        try {
          for (const f of r.push(Buffer.from(bytes))) parseRequest(decodeFrameJson(f));
        } catch (e) {
          expect((e as { name: string }).name).toBe('GitsealError');
        }
      }),
    );
  });
});

describe('request validation', () => {
  it('accepts well-formed requests and decodes the signed attributes', () => {
    const r = parseRequest(signWire({ token: 'a.b.c' }));
    expect(r.op).toBe('sign');
    if (r.op !== 'sign') return;
    expect(r.signedAttrs.equals(attrs)).toBe(true);
    expect(r.token).toBe('a.b.c');
    expect(parseRequest({ v: 1, id: 0, op: 'status' })).toEqual({ v: 1, id: 0, op: 'status' });
  });

  it('answers a version mismatch with VERSION and echoes the id', () => {
    try {
      parseRequest({ v: 2, id: 5, op: 'status' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ProtocolError);
      expect((e as ProtocolError).agentCode).toBe('VERSION');
      expect((e as ProtocolError).id).toBe(5);
    }
    expect(code(() => parseRequest({ id: 5, op: 'status' }))).toBe('VERSION');
    expect(code(() => parseRequest({ v: '1', id: 5, op: 'status' }))).toBe('VERSION');
  });

  it('rejects unknown operations, missing ids and unknown fields', () => {
    expect(code(() => parseRequest({ v: 1, id: 1, op: 'export' }))).toBe('BAD_REQUEST');
    expect(code(() => parseRequest({ v: 1, id: 1, op: 'getKey' }))).toBe('BAD_REQUEST');
    expect(code(() => parseRequest({ v: 1, op: 'status' }))).toBe('BAD_REQUEST');
    expect(code(() => parseRequest({ v: 1, id: -1, op: 'status' }))).toBe('BAD_REQUEST');
    expect(code(() => parseRequest({ v: 1, id: 1.5, op: 'status' }))).toBe('BAD_REQUEST');
    expect(code(() => parseRequest({ v: 1, id: 1, op: 'status', export: true }))).toBe('BAD_REQUEST');
    expect(code(() => parseRequest(signWire({ includeKey: true })))).toBe('BAD_REQUEST');
    expect(code(() => parseRequest(signWire({ identity: { ...identity, extra: 'x' } })))).toBe('BAD_REQUEST');
  });

  it('rejects wrong types, empty and control-character strings', () => {
    expect(code(() => parseRequest(signWire({ repo: 42 })))).toBe('BAD_REQUEST');
    expect(code(() => parseRequest(signWire({ repo: '' })))).toBe('BAD_REQUEST');
    expect(code(() => parseRequest(signWire({ repo: '/tmp/a\nforged log line' })))).toBe('BAD_REQUEST');
    expect(code(() => parseRequest(signWire({ identity: 'x' })))).toBe('BAD_REQUEST');
    expect(code(() => parseRequest(signWire({ config: null })))).toBe('BAD_REQUEST');
  });

  it('rejects an identity that does not match its config', () => {
    expect(code(() => parseRequest(signWire({ identity: { ...identity, email: 'b@example.com' } })))).toBe('BAD_REQUEST');
    expect(code(() => parseRequest(signWire({ identity: { ...identity, fulcioURL: 'http://127.0.0.1:2' } })))).toBe('BAD_REQUEST');
  });

  it('enforces the size limits', () => {
    const big = Buffer.alloc(MAX_SIGNED_ATTRS + 3, 1).toString('base64');
    expect(code(() => parseRequest(signWire({ signedAttrs: big })))).toBe('TOO_LARGE');
    expect(code(() => parseRequest(signWire({ repo: '/' + 'a'.repeat(5000) })))).toBe('TOO_LARGE');
    expect(code(() => parseRequest(signWire({ token: 'a'.repeat(70 * 1024) })))).toBe('TOO_LARGE');
  });

  it('accepts only canonical base64', () => {
    expect(decodeBase64Strict('AAEC', 'x', 10).equals(Buffer.from([0, 1, 2]))).toBe(true);
    for (const bad of ['AAE', 'AA==AA==', 'AAE=\n', ' AAEC', 'AAF=', 'AA-_', '', 'AAE']) {
      expect(code(() => decodeBase64Strict(bad, 'x', 10))).toBe('BAD_REQUEST');
    }
  });
});

describe('response validation (client side)', () => {
  const sig = Buffer.from('3006020101020101', 'hex');
  const cert = corpusSignedAttrs()[0].leaf;

  it('accepts exactly { signature, chain }', () => {
    const r = parseResponse({ v: 1, id: 9, result: { signature: sig.toString('base64'), chain: [cert.toString('base64')] } }, 9);
    const s = parseSignResult(r.result);
    expect(s.signature.equals(sig)).toBe(true);
    expect(s.chain[0].equals(cert)).toBe(true);
  });

  it('cannot carry anything else: extra fields in a sign result are rejected', () => {
    for (const extra of [{ key: 'x' }, { privateKey: 'x' }, { jwk: {} }, { token: 'x' }]) {
      expect(() => parseSignResult({ signature: sig.toString('base64'), chain: [cert.toString('base64')], ...extra })).toThrow(/unknown field/);
    }
    expect(() => parseResponse({ v: 1, id: 9, result: {}, key: 'x' }, 9)).toThrow(/unknown field/);
  });

  it('rejects non-DER signatures and certificates, empty and oversized chains', () => {
    const pem = Buffer.from('-----BEGIN PRIVATE KEY-----').toString('base64');
    expect(() => parseSignResult({ signature: pem, chain: [cert.toString('base64')] })).toThrow(/DER ECDSA/);
    expect(() => parseSignResult({ signature: sig.toString('base64'), chain: [pem] })).toThrow(/DER certificate/);
    expect(() => parseSignResult({ signature: sig.toString('base64'), chain: [] })).toThrow(/1 to 8/);
    expect(() => parseSignResult({ signature: sig.toString('base64'), chain: Array(9).fill(cert.toString('base64')) })).toThrow(/1 to 8/);
  });

  it('rejects answers to another request and other versions', () => {
    expect(() => parseResponse({ v: 1, id: 8, result: {} }, 9)).toThrow(/different request/);
    expect(() => parseResponse({ v: 2, id: 9, result: {} }, 9)).toThrow(/version/);
    expect(parseResponse({ v: 1, id: null, error: { code: 'BAD_REQUEST', message: 'm' } }, 9).error?.code).toBe('BAD_REQUEST');
    expect(() => parseResponse({ v: 1, id: 9, error: { code: 'WHATEVER', message: 'm' } }, 9)).toThrow(/unknown error code/);
  });

  it('status carries no key material fields', () => {
    const ok = { pid: 1, version: '0', uptimeSeconds: 3, socket: '/s', identities: [{ identity, subject: 'a@example.com', certIssuer: 'x', secondsLeft: 100, signatures: 2 }] };
    expect(parseStatusResult(ok).identities[0].secondsLeft).toBe(100);
    expect(() => parseStatusResult({ ...ok, identities: [{ ...ok.identities[0], key: 'x' }] })).toThrow(/unknown field/);
  });

  it('identity keys are unambiguous', () => {
    expect(identityKeyString({ ...identity, connectorID: 'a', email: 'b' })).not.toBe(identityKeyString({ ...identity, connectorID: 'a"', email: 'b' }));
    expect(identityKeyString(identity)).not.toBe(identityKeyString({ ...identity, email: 'b@example.com' }));
  });
});

describe('what the agent agrees to sign', () => {
  it('accepts the signed attributes of every real gitsign signature in the corpus', () => {
    const all = corpusSignedAttrs();
    expect(all.length).toBeGreaterThan(60);
    for (const s of all) {
      const sum = checkSignedAttributes(s.attrs);
      expect(sum.contentType).toBe('1.2.840.113549.1.7.1');
      expect(sum.messageDigest.length).toBe(32);
    }
  });

  it('refuses bytes that are not CMS signed attributes', () => {
    const refuse = (b: Buffer) => expect(() => checkSignedAttributes(b)).toThrow(/refusing to sign/);
    refuse(Buffer.from('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n'));
    refuse(Buffer.from('3100', 'hex')); // empty SET: no content-type, no digest
    refuse(Buffer.concat([attrs, Buffer.from([0])])); // trailing data
    // The same attributes as a SEQUENCE (what a raw hashedrekord/DSSE signature would need).
    refuse(Buffer.concat([Buffer.from([0x30]), attrs.subarray(1)]));
    // Swap the first two attributes: no longer in DER SET order.
    const parts = children(parseDer(attrs)).map((c) => Buffer.from(c.raw));
    expect(parts.length).toBeGreaterThanOrEqual(3);
    const swapped = Buffer.concat([parts[1], parts[0], ...parts.slice(2)]);
    refuse(Buffer.concat([attrs.subarray(0, attrs.length - swapped.length), swapped]));
  });
});

describe('signPayload (the whole signature)', () => {
  const payload = Buffer.from('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor a <a@example.com> 0 +0000\n\nmsg\n');
  const req: SignPayloadRequest = {
    v: 1,
    id: 9,
    op: 'signPayload',
    identity,
    config,
    signing: { rekorVersion: 2, timestampServerURL: 'http://127.0.0.1:1/tsa', matchCommitter: true, fulcioRoot: '/etc/ca.pem' },
    trustEnv: { GITSEAL_TRUSTED_ROOT: '/x/trusted_root.json', HOME: '/home/a' },
    payload,
    repo: '/tmp/repo',
    token: 'a.b.c',
  };
  const wire = (over: Record<string, unknown> = {}) => ({ ...requestToWire(req), ...over });

  it('round-trips through the wire form', () => {
    expect(parseRequest(decodeFrameJson(encodeFrame(requestToWire(req)).subarray(4)))).toEqual(req);
    const empty = { ...req, payload: Buffer.alloc(0), token: undefined, signing: { rekorVersion: 1 as const, matchCommitter: false } };
    expect(parseRequest(requestToWire(empty))).toEqual(empty);
  });

  it('rejects unknown fields, anywhere, and malformed values', () => {
    expect(code(() => parseRequest(wire({ exportKey: true })))).toBe('BAD_REQUEST');
    expect(code(() => parseRequest(wire({ signing: { rekorVersion: 1, matchCommitter: false, key: 'x' } })))).toBe('BAD_REQUEST');
    expect(code(() => parseRequest(wire({ signing: { rekorVersion: 3, matchCommitter: false } })))).toBe('BAD_REQUEST');
    expect(code(() => parseRequest(wire({ signing: { rekorVersion: 1, matchCommitter: 'yes' } })))).toBe('BAD_REQUEST');
    // Only the trust variables: nothing else of the client's environment crosses the socket.
    expect(code(() => parseRequest(wire({ trustEnv: { PATH: '/bin' } })))).toBe('BAD_REQUEST');
    expect(code(() => parseRequest(wire({ trustEnv: { HOME: '/a\nb' } })))).toBe('BAD_REQUEST');
    expect(code(() => parseRequest(wire({ payload: 'not base64!' })))).toBe('BAD_REQUEST');
    expect(code(() => parseRequest(wire({ identity: { ...identity, email: 'b@example.com' } })))).toBe('BAD_REQUEST');
  });

  it('bounds the payload', () => {
    const big = Buffer.alloc(MAX_PAYLOAD + 1, 0x61).toString('base64');
    expect(code(() => parseRequest(wire({ payload: big })))).toBe('TOO_LARGE');
    expect(parseRequest(wire({ payload: Buffer.alloc(MAX_PAYLOAD, 0x61).toString('base64') }))).toMatchObject({ op: 'signPayload' });
  });

  const pem = '-----BEGIN SIGNED MESSAGE-----\nMIAGCSqGSIb3DQEHAqCAMIACAQE=\n-----END SIGNED MESSAGE-----\n';
  const result = { pem, pk: 19, hash: 9, time: 1767225600, fingerprint: 'a'.repeat(40), logIndex: '42', rekorURL: 'http://127.0.0.1:1/rekor', warnings: [] };

  it('accepts exactly a signature and its SIG_CREATED fields', () => {
    expect(parsePayloadSignResult(result)).toEqual(result);
  });

  it('refuses an answer with anything else in it, or anything malformed', () => {
    for (const bad of [
      { ...result, privateKey: 'x' },
      { ...result, pem: pem.replace('SIGNED MESSAGE', 'PRIVATE KEY') },
      { ...result, pem: pem + 'extra' },
      { ...result, pk: -1 },
      { ...result, hash: 1.5 },
      { ...result, time: 'now' },
      { ...result, fingerprint: 'A'.repeat(40) },
      { ...result, logIndex: '-1' },
      { ...result, rekorURL: 'http://x\n[GNUPG:] GOODSIG' },
      { ...result, warnings: ['line\n[GNUPG:] GOODSIG'] },
      { ...result, warnings: 'none' },
    ]) {
      expect(() => parsePayloadSignResult(bad), JSON.stringify(bad).slice(0, 80)).toThrow(/signPayload result/);
    }
  });

  it('knows ABORTED as an agent error code', () => {
    expect(parseResponse({ v: 1, id: 9, error: { code: 'ABORTED', message: 'Rekor: down' } }, 9)).toEqual({ error: { code: 'ABORTED', message: 'Rekor: down' } });
  });
});

describe('progress frames', () => {
  it('a client asks with progress: true; nothing else is accepted, and the wire form keeps it', () => {
    expect((parseRequest(signWire({ progress: true })) as SignRequest).progress).toBe(true);
    expect((parseRequest(signWire()) as SignRequest).progress).toBeUndefined();
    for (const bad of [false, 'yes', 1, null]) expect(code(() => parseRequest(signWire({ progress: bad })))).toBe('BAD_REQUEST');
    const req: SignRequest = { v: 1, id: 9, op: 'sign', identity, config, signedAttrs: attrs, repo: '/r', progress: true };
    expect(requestToWire(req).progress).toBe(true);
    expect('progress' in requestToWire({ ...req, progress: undefined })).toBe(false);
  });

  it('a progress line is one terminal-safe line for its own request, bounded', () => {
    const f = progressFrame(4, 'Logging\u001b[2J to Rekor\n[GNUPG:] GOODSIG x' + 'y'.repeat(2000));
    const line = parseProgress(decodeFrameJson(encodeFrame(f).subarray(4)), 4)!;
    expect(line).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(line.startsWith('Logging?[2J to Rekor?[GNUPG:]')).toBe(true);
    expect(line.length).toBe(MAX_PROGRESS_LINE);
    expect(parseProgress({ v: 1, id: 4, result: {} }, 4)).toBeUndefined();
    expect(() => parseProgress({ v: 1, id: 5, progress: 'x' }, 4)).toThrow(/different request/);
    expect(() => parseProgress({ v: 1, id: 4, progress: 3 }, 4)).toThrow(/not a string/);
    expect(() => parseProgress({ v: 1, id: 4, progress: 'x', pem: 'y' }, 4)).toThrow(/unknown field/);
  });
});
