/**
 * The text and framing formats gitseal reads from outside: git objects
 * (commits and tags: duplicate/missing headers, CRLF, huge headers,
 * gpgsig-sha256), git config syntax, JWTs, the allowed-signers file and the
 * agent protocol frames/requests/responses. Random inputs and mutations of
 * real ones; only GitsealError, and the documented refusals for the cases
 * that matter for signatures.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFrameJson, encodeFrame, FrameReader, MAX_FRAME, parseRequest, parseResponse, parseSignResult, parseStatusResult, requestToWire } from '../../src/agent/protocol.js';
import { parseGitConfig } from '../../src/config/git-config-syntax.js';
import { DEFAULT_LIMITS, parseCommit, parseSignedObject, parseTag } from '../../src/git/object.js';
import { checkIdTokenClaims, parseJwtClaims } from '../../src/oidc/jwt.js';
import { evaluatePolicy, parseAllowedSigners } from '../../src/verify/policy.js';
import { isGitsealError } from '../../src/errors.js';
import { mutated, mutatedText, onlyGitsealErrors, params, text } from './budget.js';
import { INDEX, loadSample } from './corpus.js';

const commits = INDEX.filter((e) => e.type === 'commit').slice(0, 6).map((e) => loadSample(e.dir));
const tags = INDEX.filter((e) => e.type === 'tag').slice(0, 3).map((e) => loadSample(e.dir));

describe('git objects', () => {
  it('real objects split into exactly the payload and signature git hands the verifier', () => {
    for (const s of commits) {
      const o = parseCommit(s.object);
      expect(o.payload.equals(s.payload)).toBe(true);
      expect(o.signature!.toString('latin1')).toBe(s.pem);
    }
    for (const s of tags) expect(parseTag(s.object).payload.equals(s.payload)).toBe(true);
  });
  it('random bytes: only GitsealError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.constantFrom('commit', 'tag', 'blob'), fc.constantFrom('sha1', 'sha256'), (b, t, a) => {
        onlyGitsealErrors(() => parseSignedObject(t, Buffer.from(b), a as 'sha1'));
        onlyGitsealErrors(() => parseSignedObject(t, Buffer.from(`tree x\nauthor a\ncommitter c\n${Buffer.from(b).toString('latin1')}`, 'latin1'), a as 'sha1'));
      }),
      params('git/random'),
    );
  });
  it('mutated real commits and tags: only GitsealError; a signature is never part of its own payload', () => {
    const objs = [...commits, ...tags];
    fc.assert(
      fc.property(fc.nat(objs.length - 1).chain((i) => fc.tuple(fc.constant(objs[i]), fc.oneof(mutated(objs[i].object), mutatedText(objs[i].object.toString('latin1')).map((t) => Buffer.from(t, 'latin1'))))), ([s, m]) => {
        for (const algo of ['sha1', 'sha256'] as const) {
          const o = onlyGitsealErrors(() => parseSignedObject(s.type, m, algo));
          if (o?.signature && o.signature.length > 40) expect(o.payload.includes(o.signature)).toBe(false);
        }
      }),
      params('git/mutated'),
    );
  });
  it('duplicate, missing and CRLF headers, huge headers and gpgsig-sha256 are handled as documented', () => {
    const s = commits[0];
    const raw = s.object.toString('latin1');
    const sigBlock = raw.slice(raw.indexOf('gpgsig '), raw.indexOf('-----END SIGNED MESSAGE-----') + 29);
    const code = (b: Buffer | string, algo: 'sha1' | 'sha256' = 'sha1') => {
      try {
        parseCommit(Buffer.from(b as string, 'latin1'), algo);
        return 'ok';
      } catch (e) {
        expect(isGitsealError(e)).toBe(true);
        return (e as { code: string }).code;
      }
    };
    // Two gpgsig headers: ambiguous, refused.
    expect(code(raw.replace(sigBlock, `${sigBlock}${sigBlock}`))).toBe('BAD_GIT_OBJECT');
    // Missing tree/author/committer.
    for (const h of ['tree', 'author', 'committer']) expect(code(raw.replace(new RegExp(`^${h} .*\\n`, 'm'), ''))).toBe('BAD_GIT_OBJECT');
    // CRLF header lines: git never writes them.
    expect(code(raw.replace(/\n/g, '\r\n'))).toBe('BAD_GIT_OBJECT');
    // A header block over the limit.
    expect(code(raw.replace('\n\n', `\nx-huge ${'a'.repeat(DEFAULT_LIMITS.maxHeaderBytes)}\n\n`))).toBe('BAD_GIT_OBJECT');
    // A SHA-256 repository signs with gpgsig-sha256; the same bytes under the SHA-1 name are not its signature.
    const sha256 = raw.replace('gpgsig ', 'gpgsig-sha256 ');
    expect(parseCommit(Buffer.from(sha256, 'latin1'), 'sha256').signature!.toString('latin1')).toBe(s.pem);
    const asSha1 = parseCommit(Buffer.from(sha256, 'latin1'), 'sha1');
    expect(asSha1.signature).toBeUndefined();
    expect(asSha1.payload.equals(s.payload)).toBe(true); // git drops both signature headers from the payload
  });
});

describe('git config syntax', () => {
  const real = '[user]\n\tname = Alice\n\temail = alice@example.com\n[gpg]\n\tformat = x509\n[gpg "x509"]\n\tprogram = gitseal\n[gitseal]\n\tfulcio = "http://127.0.0.1:1" ; comment\n\tagent\n[includeIf "gitdir:~/w/"]\n\tpath = x\n';
  it('random text: only GitsealError', () => {
    fc.assert(
      fc.property(text(200), (t) => {
        onlyGitsealErrors(() => parseGitConfig(t, 'fuzz'));
      }),
      params('config/random'),
    );
  });
  it('mutated real config: only GitsealError; keys stay canonical', () => {
    fc.assert(
      fc.property(mutatedText(real), (t) => {
        const entries = onlyGitsealErrors(() => parseGitConfig(t, 'fuzz')) ?? [];
        // git accepts a variable before any section header (`git config -f` lists it as "name").
        for (const e of entries) expect(e.key).toMatch(/^([a-z0-9-]+(\..*)?\.)?[a-z][a-z0-9-]*$/s);
      }),
      params('config/mutated'),
    );
  });
});

describe('JWT', () => {
  const b64u = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const real = `${b64u({ alg: 'RS256', kid: 'k' })}.${b64u({ iss: 'http://127.0.0.1:1', aud: 'sigstore', sub: 's', email: 'a@b', email_verified: true, exp: 2e9, iat: 1e9 })}.c2lnbmF0dXJl`;
  it('random strings and mutated tokens: only GitsealError', () => {
    fc.assert(
      fc.property(fc.oneof(text(200), mutatedText(real)), (t) => {
        onlyGitsealErrors(() => parseJwtClaims(t, 'fuzz'));
      }),
      params('jwt/random'),
    );
  });
  it('arbitrary claims: the claim checks throw only GitsealError and never pass a wrong issuer or audience', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('iss', 'aud', 'exp', 'iat', 'nbf', 'nonce', 'sub', 'email'), fc.jsonValue({ maxDepth: 1 })), (claims) => {
        const want = { issuer: 'http://127.0.0.1:1', audience: 'sigstore', now: 1.5e12 };
        let passed = false;
        onlyGitsealErrors(() => {
          checkIdTokenClaims(claims, want, 'fuzz');
          passed = true;
        });
        if (passed) {
          expect(claims.iss).toBe(want.issuer);
          expect(Array.isArray(claims.aud) ? (claims.aud as unknown[]).includes('sigstore') : claims.aud === 'sigstore').toBe(true);
        }
      }),
      params('jwt/claims'),
    );
  });
});

describe('allowed-signers file', () => {
  const real = '# team\nalice@example.com https://accounts.google.com\nre:.*@example\\.com re:https://github\\.com/login/oauth\n\nhttps://github.com/o/r/.github/workflows/release.yml@refs/heads/main https://token.actions.githubusercontent.com\n';
  it('random and mutated files: only GitsealError; a parsed policy evaluates without crashing', () => {
    fc.assert(
      fc.property(fc.oneof(text(200), mutatedText(real)), fc.oneof(fc.constant('alice@example.com'), text(30)), (t, who) => {
        const signers = onlyGitsealErrors(() => parseAllowedSigners(t, 'fuzz'));
        if (signers) {
          onlyGitsealErrors(() =>
            evaluatePolicy({ allowedSigners: signers }, { identity: who, issuer: 'https://accounts.google.com', claims: {}, payload: Buffer.from('tree x\n\nmsg') }),
          );
        }
      }),
      params('policy/allowed-signers'),
    );
  });
});

describe('agent protocol', () => {
  const sign = requestToWire({
    v: 1,
    id: 7,
    op: 'sign',
    identity: { fulcioURL: 'http://f', issuer: 'http://i', clientID: 'sigstore' },
    config: { fulcioURL: 'http://f', rekorURL: 'http://r', issuer: 'http://i', clientID: 'sigstore' },
    signedAttrs: Buffer.from([0x31, 0x03, 0x02, 0x01, 0x00]),
    repo: '/tmp/r',
  });
  it('frames: any byte stream in any chunking yields frames or a GitsealError, never an oversized buffer', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), fc.boolean(), (chunks, prefixReal) => {
        const r = new FrameReader();
        const all = [...(prefixReal ? [encodeFrame(sign)] : []), ...chunks.map((c) => Buffer.from(c))];
        onlyGitsealErrors(() => {
          for (const c of all) for (const f of r.push(c)) onlyGitsealErrors(() => parseRequest(decodeFrameJson(f)));
        });
        expect(r.pending).toBeLessThanOrEqual(4 + MAX_FRAME);
      }),
      params('agent/frames'),
    );
  });
  it('requests and responses: mutated real messages and arbitrary JSON only raise GitsealError', () => {
    const wire = JSON.stringify(sign);
    fc.assert(
      fc.property(fc.oneof(mutatedText(wire), fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v))), (t) => {
        const o = onlyGitsealErrors(() => decodeFrameJson(Buffer.from(t, 'utf8')));
        if (!o) return;
        onlyGitsealErrors(() => parseRequest(o));
        onlyGitsealErrors(() => parseResponse(o, 7));
        onlyGitsealErrors(() => parseSignResult(o.result ?? o));
        onlyGitsealErrors(() => parseStatusResult(o.result ?? o));
      }),
      params('agent/requests'),
    );
  });
});
