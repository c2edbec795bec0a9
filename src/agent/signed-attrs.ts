/**
 * What the agent agrees to sign: only DER-encoded CMS signed attributes (RFC 5652 §5.3, §5.4),
 * i.e. `SET OF Attribute { attrType OID, attrValues SET }` that contains a content-type
 * (§11.1) and a message-digest (§11.2) attribute, each once.
 *
 * Why: a process that reaches the socket can ask the agent to sign. Restricting the input to
 * CMS signed attributes means it can only produce CMS signatures over some content digest (which
 * is what git signing needs), not an arbitrary ECDSA signature over bytes of its choosing (for
 * instance a raw hashedrekord or DSSE payload under the certified key).
 */
import { GitsealError } from '../errors.js';
import { TAG, expectChildren, parseDer, readOid } from '../util/der.js';

const CONTENT_TYPE = '1.2.840.113549.1.9.3';
const MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
const SIGNING_TIME = '1.2.840.113549.1.9.5';

export interface SignedAttrsSummary {
  contentType: string;
  messageDigest: Buffer;
  attributes: string[];
}

function bad(msg: string): never {
  throw new GitsealError('BAD_CMS', `refusing to sign: ${msg}`);
}

/** Check that `der` is CMS signed attributes; returns what they say (for the log and tests). */
export function checkSignedAttributes(der: Buffer): SignedAttrsSummary {
  let attrs;
  try {
    attrs = expectChildren(parseDer(der), TAG.SET, 'signed attributes');
  } catch (e) {
    return bad(`the data is not a DER SET of attributes (${e instanceof Error ? e.message : String(e)})`);
  }
  const seen = new Set<string>();
  let contentType: string | undefined;
  let messageDigest: Buffer | undefined;
  let prev: Buffer | undefined;
  for (const a of attrs) {
    // X.690 §11.6: the elements of a DER SET OF appear in ascending order of their encodings.
    if (prev && Buffer.compare(prev, a.raw) > 0) bad('the attributes are not in DER SET order');
    prev = a.raw;
    let type: string;
    let values;
    try {
      const parts = expectChildren(a, TAG.SEQUENCE, 'attribute');
      if (parts.length !== 2) bad('an attribute is not { type, values }');
      type = readOid(parts[0], 'attribute type');
      values = expectChildren(parts[1], TAG.SET, 'attribute values');
    } catch (e) {
      if (e instanceof GitsealError && e.code === 'BAD_CMS') throw e;
      return bad(`malformed attribute (${e instanceof Error ? e.message : String(e)})`);
    }
    if (seen.has(type)) bad(`attribute ${type} appears twice`);
    seen.add(type);
    if (type === CONTENT_TYPE || type === MESSAGE_DIGEST || type === SIGNING_TIME) {
      // RFC 5652 §11.1–§11.3: these attributes are single-valued.
      if (values.length !== 1) bad(`attribute ${type} must have exactly one value`);
    }
    if (type === CONTENT_TYPE) {
      if (values[0].tag !== TAG.OID) bad('content-type is not an OID');
      contentType = readOid(values[0], 'content type');
    } else if (type === MESSAGE_DIGEST) {
      if (values[0].tag !== TAG.OCTET_STRING) bad('message-digest is not an OCTET STRING');
      messageDigest = Buffer.from(values[0].value);
      if (messageDigest.length < 20 || messageDigest.length > 64) bad('message-digest has an implausible length');
    }
  }
  if (!contentType) bad('no content-type attribute');
  if (!messageDigest) bad('no message-digest attribute');
  return { contentType, messageDigest, attributes: [...seen] };
}
