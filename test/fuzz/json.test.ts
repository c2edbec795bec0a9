/**
 * Service responses and trust material gitseal reads as JSON: Rekor's log
 * entry answer (entryFromResponse), Fulcio's signing-certificate answer
 * (parseSigningCertResponse) and the TrustedRoot. Inputs: arbitrary JSON, and
 * structure-aware mutations of real-shaped answers built from public-good data
 * (the corpus entries and certificates). Only GitsealError; a Rekor answer is
 * accepted only for exactly the body we sent.
 */
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findSignerCertificate, parseSignedData } from '../../src/cms/parse.js';
import { parseSigningCertResponse } from '../../src/fulcio/client.js';
import { canonicalBody, hashedRekordV001 } from '../../src/rekor/body.js';
import { entryFromResponse } from '../../src/rekor/client-v1.js';
import { decodeTle } from '../../src/rekor/tle.js';
import { parseTrustedRoot } from '../../src/trust/trusted-root.js';
import { encodePem } from '../../src/util/pem.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { mutatedText, onlyGitsealErrors, params } from './budget.js';
import { CORPUS, loadSample, OFFLINE } from './corpus.js';

/** Replace the value at a random path of a JSON value with `v`. */
function setAt(root: unknown, pick: number, v: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(root));
  const slots: Array<[Record<string, unknown> | unknown[], string | number]> = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach((c, i) => (slots.push([x, i]), walk(c)));
    else if (x && typeof x === 'object') for (const [k, c] of Object.entries(x)) (slots.push([x as Record<string, unknown>, k]), walk(c));
  };
  walk(copy);
  if (!slots.length) return v;
  const [obj, key] = slots[pick % slots.length];
  if (v === undefined) {
    if (Array.isArray(obj)) obj.splice(key as number, 1);
    else delete (obj as Record<string, unknown>)[key as string];
  } else (obj as Record<string | number, unknown>)[key] = v;
  return copy;
}

const weird = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.constantFrom('', 'AA==', 'zz', '-1', '1e309', '9007199254740993', 'not base64!', '0'.repeat(64)),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant([]),
  fc.constant({}),
  fc.jsonValue({ maxDepth: 2 }),
);

function rekorAnswer(dir: string): { json: Record<string, unknown>; body: Buffer } {
  const s = loadSample(dir);
  const sd = parseSignedData(s.der);
  const si = sd.signerInfos[0];
  const leaf = findSignerCertificate(si, sd.certificates.map((c) => parseCertificate(c)))!;
  const body = canonicalBody(hashedRekordV001(createHash('sha256').update(si.signedAttrsSet!).digest(), si.signature, leaf.der));
  const e = decodeTle(s.tle);
  const p = e.inclusionProof!;
  const uuid = createHash('sha256').update(body).digest('hex');
  return {
    body,
    json: {
      [uuid]: {
        body: body.toString('base64'),
        integratedTime: Number(e.integratedTime),
        logID: e.logId.toString('hex'),
        logIndex: Number(e.logIndex),
        verification: {
          signedEntryTimestamp: e.signedEntryTimestamp!.toString('base64'),
          inclusionProof: {
            logIndex: Number(p.logIndex),
            rootHash: p.rootHash.toString('hex'),
            treeSize: Number(p.treeSize),
            hashes: p.hashes.map((h) => h.toString('hex')),
            checkpoint: p.checkpoint,
          },
        },
      },
    },
  };
}

describe('Rekor log entry answers', () => {
  const answers = OFFLINE.slice(0, 4).map(rekorAnswer);
  it('the real-shaped answers parse', () => {
    for (const a of answers) expect(entryFromResponse(a.json, a.body).logIndex).toBeGreaterThan(0n);
  });
  it('mutated answers: only GitsealError; accepted only for the body we sent', () => {
    fc.assert(
      fc.property(fc.nat(answers.length - 1), fc.nat(), weird, fc.nat(answers.length - 1), (i, pick, v, j) => {
        const json = setAt(answers[i].json, pick, v);
        const e = onlyGitsealErrors(() => entryFromResponse(json, answers[j].body));
        // Another signature's entry (i ≠ j) is never accepted as ours.
        if (e) expect(e.canonicalizedBody!.equals(answers[j].body)).toBe(true);
        onlyGitsealErrors(() => entryFromResponse(json as never, answers[i].body));
      }),
      params('json/rekor'),
    );
  });
});

describe('Fulcio signing-certificate answers', () => {
  const leafPem = readFileSync(join(CORPUS, OFFLINE[0], 'leaf.pem'), 'utf8');
  const tr = JSON.parse(readFileSync(join(CORPUS, 'trusted_root.json'), 'utf8'));
  const caPem = encodePem('CERTIFICATE', Buffer.from(tr.certificateAuthorities[1].certChain.certificates[0].rawBytes, 'base64'));
  const answer = { signedCertificateEmbeddedSct: { chain: { certificates: [leafPem, caPem] } } };
  it('the real-shaped answer parses', () => {
    expect(parseSigningCertResponse(answer).chain).toHaveLength(2);
  });
  it('mutated answers and mutated PEM: only GitsealError', () => {
    fc.assert(
      fc.property(fc.nat(), weird, mutatedText(leafPem), (pick, v, pem) => {
        onlyGitsealErrors(() => parseSigningCertResponse(setAt(answer, pick, v)));
        onlyGitsealErrors(() => parseSigningCertResponse({ signedCertificateDetachedSct: { chain: { certificates: [pem] }, signedCertificateTimestamp: v } }));
      }),
      params('json/fulcio'),
    );
  });
});

describe('TrustedRoot', () => {
  const text = readFileSync(join(CORPUS, 'trusted_root.json'), 'utf8');
  const root = JSON.parse(text);
  it('mutated trusted roots: only GitsealError', () => {
    fc.assert(
      fc.property(fc.nat(), weird, (pick, v) => {
        onlyGitsealErrors(() => parseTrustedRoot(JSON.stringify(setAt(root, pick, v))));
      }),
      params('json/trusted-root'),
    );
  });
});
