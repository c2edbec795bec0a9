/**
 * Structure-aware fuzzing of what issue 14 hardened: certificate bags in a signature (path
 * search), repeated and oddly shaped identity headers (payload parsing, matchCommitter), and
 * Rekor v2 entries (index and proof). Inputs come from the forged world of
 * test/verify/helpers/forge.ts, so a good verdict is possible and its exact conditions can be
 * stated; the properties say when the verdict is good, that work stays bounded (counted
 * signature checks), and that only GitsealError ever comes out.
 */
import { createHash, sign } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCommit, payloadIdentity } from '../../src/git/object.js';
import { encodeTle } from '../../src/rekor/tle.js';
import { verifySignature } from '../../src/verify/pipeline.js';
import { signatureCheckCount } from '../../src/x509/signature.js';
import { clearMemos } from '../../src/x509/verified-memo.js';
import {
  commitPayload,
  ecKey,
  EXT,
  makeCert,
  makeLeaf,
  makeTsa,
  makeV2Log,
  makeWorld,
  PAYLOAD,
  pemOf,
  sameKeyCas,
  signedAttributes,
  signedCommit,
  signPayload,
  trustWith,
  tsaToken,
  v2Body,
  v2Entry,
  type World,
} from '../verify/helpers/forge.js';
import { onlyGitsealErrors, params } from './budget.js';

let w: World;
let pool: { label: string; der: Buffer }[];
let leaf: ReturnType<typeof makeLeaf>;
let bagLeaf: ReturnType<typeof makeLeaf>;

beforeAll(() => {
  w = makeWorld();
  leaf = makeLeaf(w);
  const bag = sameKeyCas(4);
  const bagNoAki = sameKeyCas(2, { key: bag.key, aki: false });
  bagLeaf = makeLeaf(w, { caKey: bag.key, caName: bag.name });
  const stranger = ecKey('P-384');
  const strangerCa = makeCert({
    issuer: w.rootName,
    subject: w.interName,
    spki: stranger.spki,
    notBefore: new Date('2020-01-01Z'),
    notAfter: new Date('2040-01-01Z'),
    extensions: [EXT.caKeyUsage(), EXT.caBasic(), EXT.ski(stranger.spki), EXT.aki(w.root.spki)],
    signer: stranger.privateKey,
    sha384: true,
  });
  pool = [
    { label: 'inter', der: w.interCert },
    { label: 'root', der: w.rootCert },
    ...bag.certs.map((der, i) => ({ label: `samekey${i}`, der })),
    ...bagNoAki.certs.map((der, i) => ({ label: `samekey-noaki${i}`, der })),
    { label: 'stranger', der: strangerCa },
    { label: 'other-leaf', der: makeLeaf(w).der },
  ];
});

describe('certificate bags (path search)', () => {
  it('any bag of up to 7 certificates around the leaf: good iff the leaf is genuine and at most 4 certificates; checks stay few', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(fc.nat(9), { maxLength: 7 }), fc.nat(7), async (genuine, picks, at) => {
        const signer = genuine ? leaf : bagLeaf;
        const extras = picks.map((i) => pool[i % pool.length].der);
        const certs = [...extras.slice(0, at), signer.der, ...extras.slice(at)];
        const pem = signPayload(w, signer, PAYLOAD, { certs }).pem;
        clearMemos();
        const before = signatureCheckCount();
        const r = await verifySignature({ signature: pem, payload: PAYLOAD, trust: w.trust, offline: true });
        const checks = signatureCheckCount() - before;
        expect(r.code, r.message).not.toBe('INTERNAL');
        expect(r.kind === 'good').toBe(genuine && certs.length <= 4);
        if (certs.length > 4) expect(checks).toBe(0);
        // 1 CMS signature, and the chain's (1 + untrusted) × (trusted + untrusted) at most.
        expect(checks).toBeLessThanOrEqual(1 + 4 * 6);
      }),
      params('verify/cert-bags'),
    );
  });
});

const T = '1748779200 +0000';
const HEADERS = [
  'parent 1111111111111111111111111111111111111111',
  `author Alice <alice@example.com> ${T}`,
  `author Bob <bob@example.com> ${T}`,
  `committer Alice <alice@example.com> ${T}`,
  `committer Bob <bob@example.com> ${T}`,
  `committer Alice <alice@example.com> <bob@example.com> ${T}`,
  `committer Al<ice <bob@example.com> ${T}`,
  `committer Alice\u0000 <bob@example.com> ${T}`,
  'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904',
  'encoding ISO-8859-1',
  'mergetag object 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n type commit\n tag v1\n tagger Bob <bob@example.com> 1 +0000\n \n merged',
  ' continuation of the previous header',
  `committer Eve <eve@example.com> ${T}\r`,
];

/** git's split_ident_line for the e-mail, written out again here (independently of src/). */
function gitEmail(ident: string): string | undefined {
  const nul = ident.indexOf('\u0000');
  const lt = ident.indexOf('<');
  if (lt < 0 || (nul >= 0 && nul < lt)) return undefined;
  const gt = ident.indexOf('>', lt + 1);
  return gt < 0 ? undefined : ident.slice(lt + 1, gt);
}

describe('identity headers (payload parsing, matchCommitter)', () => {
  it('any mix of headers: payload and object parsers agree; repeated identity headers are refused; the e-mail is what git reads', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(HEADERS.length - 1), { minLength: 0, maxLength: 8 }), (picks) => {
        const lines = picks.map((i) => HEADERS[i]);
        const payload = commitPayload(lines);
        const names = ['tree', ...lines.flatMap((l) => l.split('\n')).filter((l) => !l.startsWith(' ')).map((l) => l.split(' ')[0])];
        const repeated = ['tree', 'author', 'committer'].some((n) => names.filter((x) => x === n).length > 1);
        const crlf = lines.some((l) => l.endsWith('\r'));
        let id: ReturnType<typeof payloadIdentity> | 'refused';
        try {
          id = payloadIdentity(payload);
        } catch (e) {
          expect((e as { code?: string }).code).toMatch(/BAD_GIT_OBJECT/);
          id = 'refused';
        }
        expect(id === 'refused').toBe(repeated || crlf);
        // The object with a signature added parses by the same rules (gitseal verify's side).
        const obj = onlyGitsealErrors(() => parseCommit(signedCommit(payload, '-----BEGIN SIGNED MESSAGE-----\nAAAA\n-----END SIGNED MESSAGE-----\n')));
        const missing = !names.includes('author') || !names.includes('committer');
        if (id === 'refused') expect(obj).toBeUndefined();
        else if (!missing) expect(obj?.payload.equals(payload)).toBe(true);
        if (id !== 'refused') {
          const committer = lines.find((l) => l.startsWith('committer '));
          expect(id?.email).toBe(committer ? gitEmail(committer.slice('committer '.length)) : undefined);
        }
      }),
      params('git/ident-headers'),
    );
  });
});

describe('Rekor v2 entries (index, proof, time)', () => {
  it('random entry/proof indexes, tree sizes and token times: good iff the index is the proven one and the token time lies inside the validity', async () => {
    const log = makeV2Log();
    const tsa = makeTsa();
    const { trust } = trustWith(w, { tsas: [tsa], tlogs: [log.trustItem] });
    const v2Leaf = makeLeaf(w);
    const payload = commitPayload([`author A <a@example.com> ${T}`, `committer A <a@example.com> ${T}`]);
    const attrs = signedAttributes(payload, new Date('2025-06-01T12:00:30Z'));
    const signature = sign('sha256', attrs, v2Leaf.key.privateKey);
    const body = v2Body(createHash('sha256').update(attrs).digest(), signature, v2Leaf.der);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 9 }),
        fc.nat(9),
        fc.option(fc.bigInt({ min: 0n, max: 1n << 62n }), { nil: undefined }),
        fc.integer({ min: -30, max: 30 }),
        async (size, idx, claimed, minutes) => {
          const index = idx % size;
          const entry = v2Entry(log, body, { size, index, logIndex: claimed });
          const time = new Date(Date.parse('2025-06-01T12:00:00Z') + minutes * 60_000);
          const pem = pemOf({ signedAttrsSet: attrs, signature, leaf: v2Leaf.der, tle: encodeTle(entry), tst: tsaToken(tsa, signature, time) });
          const r = await verifySignature({ signature: pem, payload, trust, offline: true });
          expect(r.code, r.message).not.toBe('INTERNAL');
          const consistent = claimed === undefined || claimed === BigInt(index);
          const inValidity = minutes >= 0 && minutes <= 10;
          expect(r.kind === 'good', r.message).toBe(consistent && inValidity);
          if (r.kind === 'good') expect(r.logIndex).toBe(BigInt(index));
        },
      ),
      params('verify/v2-entries'),
    );
  });
});
