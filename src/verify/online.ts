/**
 * gitsign "online mode": the CMS carries no log entry; instead gitsign logged a
 * separate hashedrekord over SHA-256 of the final object id string (the commit
 * or tag *with* its signature). To find it we rebuild that object exactly as
 * git writes it (commit.c add_header_signature; tags append the signature).
 */
import { createHash } from 'node:crypto';

/** "commit" or "tag", from the payload's first header. */
export function payloadObjectType(payload: Buffer): 'commit' | 'tag' | undefined {
  if (payload.subarray(0, 5).toString('latin1') === 'tree ') return 'commit';
  if (payload.subarray(0, 7).toString('latin1') === 'object ') return 'tag';
  return undefined;
}

/** The signed object bytes git stores for `payload` signed with armored `signature`. */
export function joinSignedObject(payload: Buffer, signature: string): Buffer | undefined {
  const type = payloadObjectType(payload);
  if (!type) return undefined;
  const sig = signature.endsWith('\n') ? signature : signature + '\n';
  if (type === 'tag') return Buffer.concat([payload, Buffer.from(sig, 'utf8')]);
  // Insert "gpgsig <line1>\n <line2>\n…" at the end of the header block.
  const header = Buffer.from(
    sig
      .slice(0, -1)
      .split('\n')
      .map((l, i) => (i === 0 ? 'gpgsig ' : ' ') + l + '\n')
      .join(''),
    'utf8',
  );
  const end = payload.indexOf('\n\n');
  const at = end < 0 ? payload.length : end + 1;
  return Buffer.concat([payload.subarray(0, at), header, payload.subarray(at)]);
}

/** Hex SHA-1 object id git would give the signed object (SHA-1 repositories). */
export function signedObjectId(payload: Buffer, signature: string): string | undefined {
  const obj = joinSignedObject(payload, signature);
  if (!obj) return undefined;
  const type = payloadObjectType(payload)!;
  return createHash('sha1').update(`${type} ${obj.length}\0`).update(obj).digest('hex');
}
