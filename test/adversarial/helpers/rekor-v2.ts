/**
 * A forged Rekor v2 world (a rekor-tiles log and an RFC 3161 TSA beside the forged Fulcio of
 * makeWorld, all in one trusted root) and the signatures it issues: a v0.0.2 entry with an
 * inclusion proof and a signed checkpoint, and a timestamp token as the only evidence of time.
 */
import { createHash, sign } from 'node:crypto';
import { beforeAll } from 'vitest';
import { encodeTle } from '../../../src/rekor/tle.js';
import type { TrustedRoot } from '../../../src/trust/trusted-root.js';
import {
  makeLeaf,
  makeTsa,
  makeV2Log,
  makeWorld,
  pemOf,
  signedAttributes,
  trustWith,
  tsaToken,
  v2Body,
  v2Entry,
  type Tsa,
  type V2Log,
  type World,
} from '../../verify/helpers/forge.js';

export interface RekorV2World {
  w: World;
  log: V2Log;
  tsa: Tsa;
  /** The trusted root (the forged world's, with `tsa` and `log` added) as JSON and parsed. */
  trustJson: string;
  trust: TrustedRoot;
}

/** A Rekor v2 world for the enclosing suite, made by its beforeAll. Read its fields inside hooks and tests only. */
export function useRekorV2World(logName?: string): Readonly<RekorV2World> {
  const made = {} as RekorV2World;
  beforeAll(() => {
    made.w = makeWorld();
    made.log = makeV2Log(logName);
    made.tsa = makeTsa();
    ({ json: made.trustJson, trust: made.trust } = trustWith(made.w, { tsas: [made.tsa], tlogs: [made.log.trustItem] }));
  });
  return made;
}

/**
 * A Rekor v2 signature over `payload` by a fresh leaf of the world (signed 12:00:30, inside the
 * leaf's 12:00–12:10 validity): a v0.0.2 entry in `o.log` (the world's) shaped by `o.entry`, and
 * a token by `o.tsa` (the world's) at `o.genTime` (12:00:40) with `o.tail` after genTime.
 */
export function rekorV2Signature(
  world: Readonly<RekorV2World>,
  payload: Buffer,
  o: { log?: V2Log; entry?: Parameters<typeof v2Entry>[2]; tsa?: Tsa; genTime?: Date; tail?: Buffer[] } = {},
): string {
  const leaf = makeLeaf(world.w);
  const attrs = signedAttributes(payload, new Date('2025-06-01T12:00:30Z'));
  const signature = sign('sha256', attrs, leaf.key.privateKey);
  const body = v2Body(createHash('sha256').update(attrs).digest(), signature, leaf.der);
  const tle = encodeTle(v2Entry(o.log ?? world.log, body, o.entry));
  const tst = tsaToken(o.tsa ?? world.tsa, signature, o.genTime ?? new Date('2025-06-01T12:00:40Z'), [], o.tail);
  return pemOf({ signedAttrsSet: attrs, signature, leaf: leaf.der, tle, tst });
}
