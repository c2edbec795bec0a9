/** The key and hash algorithm numbers git reads from `[GNUPG:] SIG_CREATED`. */

/**
 * OpenPGP algorithm ids for SIG_CREATED from the leaf's signatureAlgorithm — how the CA signed
 * it, as gitsign does (Fulcio: ecdsa-with-SHA384 → 19 9). RFC 4880 §9.1, §9.4; RFC 6637.
 */
export function openPgpAlgorithms(sigAlgOid: string): [number, number] {
  const table: Record<string, [number, number]> = {
    '1.2.840.10045.4.3.2': [19, 8],
    '1.2.840.10045.4.3.3': [19, 9],
    '1.2.840.10045.4.3.4': [19, 10],
    '1.2.840.113549.1.1.11': [1, 8],
    '1.2.840.113549.1.1.12': [1, 9],
    '1.2.840.113549.1.1.13': [1, 10],
    '1.2.840.113549.1.1.10': [1, 8],
    '1.3.101.112': [22, 10],
  };
  return table[sigAlgOid] ?? [0, 0];
}
