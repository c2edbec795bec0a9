// Types of fixtures.mjs for the tests that import it (tsc type-checks test/ as part of npm test).
/** A PEM signature, as text or bytes. */
type Signature = string | Buffer;
export function git(dir: string, args: string[], input?: string | Buffer): Buffer;
export function writeLoose(dir: string, type: string, body: Buffer): string;
export function addSignatureHeader(payload: Buffer, signature: Signature, header?: string): Buffer;
export function makeHistory(o: {
  dir: string;
  count: number;
  sign?: (payload: Buffer, i: number) => Signature | undefined | Promise<Signature | undefined>;
  pack?: boolean;
  startTime?: number;
  chains?: number;
}): Promise<{ dir: string; head: string; oids: string[] }>;
