/**
 * X.501 distinguished names: raw DER kept for comparison, plus a readable
 * RFC 4514-style string (most specific RDN first, as Go's pkix.Name.String()
 * prints it) for people. Never compare names by their string form.
 */
import { GitsealError } from '../errors.js';
import { BytesCache } from '../util/bytes-cache.js';
import { decodeOid, expectChildren, expectTag, TAG, type Tlv } from '../util/der.js';

const SHORT: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'SERIALNUMBER',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.17': 'POSTALCODE',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

function attrValue(t: Tlv): string {
  switch (t.tag) {
    case TAG.UTF8_STRING:
      return t.value.toString('utf8');
    case TAG.PRINTABLE_STRING:
    case TAG.IA5_STRING:
    case 0x14: // TeletexString (treated as latin1, as most libraries do)
      return t.value.toString('latin1');
    case 0x1e: // BMPString: UTF-16BE (an odd length is malformed: shown as hex like unknown types)
      if (t.value.length % 2) return '#' + t.raw.toString('hex');
      return Buffer.from(t.value).swap16().toString('utf16le');
    default:
      return '#' + t.raw.toString('hex');
  }
}

function escape(v: string): string {
  return v
    .replace(/([,+"\\<>;])/g, '\\$1')
    .replace(/^([ #])/, '\\$1')
    .replace(/ $/, '\\ ')
    // Control characters as \XX (RFC 4514 §2.4): names reach one-line error messages.
    .replace(/[\x00-\x1f\x7f]/g, (c) => '\\' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}

/** Strings of names by their DER (every leaf of a history names the same issuer; src/util/bytes-cache.ts). */
const nameCache = new BytesCache<string>(256, 1024);

/** RFC 4514 string of a Name (SEQUENCE OF RDN), last RDN first. */
export function nameToString(name: Tlv): string {
  return nameCache.get(name.raw, () => nameToStringUncached(name));
}

function nameToStringUncached(name: Tlv): string {
  const rdns = expectChildren(name, TAG.SEQUENCE, 'Name').map((rdn) =>
    expectChildren(rdn, TAG.SET, 'RelativeDistinguishedName')
      .map((atv) => {
        const f = expectChildren(atv, TAG.SEQUENCE, 'AttributeTypeAndValue');
        if (f.length !== 2) throw new GitsealError('BAD_DER', 'malformed DER: AttributeTypeAndValue must hold a type and a value');
        const oid = decodeOid(expectTag(f[0], TAG.OID, 'AttributeType').value);
        return `${SHORT[oid] ?? oid}=${escape(attrValue(f[1]))}`;
      })
      .join('+'),
  );
  return rdns.reverse().join(',');
}
