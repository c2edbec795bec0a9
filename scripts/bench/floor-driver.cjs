'use strict';
// The crypto floor's operations (scripts/bench/floor.ts cryptoFloorOps) run from their raw
// inputs (cryptoFloorInputs, as JSON) with node:crypto alone, in a process of its own, so any
// Node binary can run them:
//   node floor-driver.cjs none|load|ops|time INPUTS.json
// none: read and decode the inputs; load: also require('node:crypto'); ops: also every operation
// once, every key imported (scripts/bench/instructions.mjs counts these under callgrind);
// time: every operation timed as run.mjs's floorOf/timeFn times the in-process ones (CA, CT and
// log keys imported once, the leaf key per call; 50 warm-up calls, then 9 samples of 200 calls,
// median CPU ms per call), printed as a JSON array of ms in cryptoFloorOps' order.
const { readFileSync } = require('node:fs');
const mode = process.argv[2];
const j = JSON.parse(readFileSync(process.argv[3], 'utf8'));
const b = (s) => Buffer.from(s, 'base64');
const x = {
  payload: b(j.payload), digest: Buffer.from(j.digest, 'hex'),
  signedAttrs: b(j.signedAttrs), leafSpki: b(j.leafSpki), cmsSignature: b(j.cmsSignature),
  leafTbs: b(j.leafTbs), leafSignature: b(j.leafSignature), issuerSpki: b(j.issuerSpki),
  sctSigned: b(j.sctSigned), sctSignature: b(j.sctSignature), ctSpki: b(j.ctSpki),
  setPayload: b(j.setPayload), setSignature: b(j.setSignature), tlogSpki: b(j.tlogSpki),
  body: b(j.body), logIndex: BigInt(j.logIndex), proofHashes: j.proofHashes.map(b),
  checkpointNote: b(j.checkpointNote), checkpointSignature: b(j.checkpointSignature),
};
if (mode !== 'none' && mode !== 'load' && mode !== 'ops' && mode !== 'time') throw new Error('mode: none, load, ops or time');
if (mode !== 'none') {
  const { createHash, createPublicKey, verify } = require('node:crypto');
  if (mode === 'ops' || mode === 'time') {
    const must = (ok, what) => { if (!ok) { process.stderr.write(what + ' does not verify\n'); process.exit(1); } };
    const key = (spki) => createPublicKey({ key: spki, format: 'der', type: 'spki' });
    const tlogAlg = j.tlogEd25519 ? null : 'sha256';
    const issuerKey = key(x.issuerSpki);
    const ctKey = key(x.ctSpki);
    const tlogKey = key(x.tlogSpki);
    // Same order and work as cryptoFloorOps.
    const ops = [
      ['sha256(payload) = messageDigest', () => createHash('sha256').update(x.payload).digest().equals(x.digest)],
      ['ECDSA over the signed attributes', () => verify('sha256', x.signedAttrs, key(x.leafSpki), x.cmsSignature)],
      ['leaf certificate by its CA', () => verify(j.leafHashAlg, x.leafTbs, issuerKey, x.leafSignature)],
      ['SCT signature', () => verify('sha256', x.sctSigned, ctKey, x.sctSignature)],
      ['Rekor SET signature', () => verify(tlogAlg, x.setPayload, tlogKey, x.setSignature)],
      ['Merkle leaf + audit path', () => {
        let h = createHash('sha256').update(Buffer.from([0])).update(x.body).digest();
        let idx = x.logIndex;
        for (const p of x.proofHashes) {
          h = idx & 1n ? createHash('sha256').update(Buffer.from([1])).update(p).update(h).digest() : createHash('sha256').update(Buffer.from([1])).update(h).update(p).digest();
          idx >>= 1n;
        }
        return h.length === 32;
      }],
      ['checkpoint signature', () => verify(tlogAlg, x.checkpointNote, tlogKey, x.checkpointSignature)],
    ];
    for (const [what, run] of ops) must(run(), what);
    if (mode === 'time') {
      // run.mjs's timeFn itself (it awaits each call).
      const { timeFn } = require('./time-fn.cjs');
      (async () => {
        const ms = [];
        for (const [, run] of ops) ms.push(await timeFn(run, { n: 200 }));
        process.stdout.write(JSON.stringify(ms) + '\n');
      })();
    }
  }
}
