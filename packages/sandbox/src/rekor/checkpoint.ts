/**
 * Rekor v1 checkpoints: a signed note (C2SP signed-note, tlog-checkpoint) of
 * the form Rekor's pkg/util/checkpoint.go writes:
 *
 *   <origin>\n<tree size>\n<base64 root>\nTimestamp: <unix ns>\n
 *   \n
 *   — <key name> <base64(key hint[4] || ECDSA signature)>\n
 *
 * with origin "<host> - <tree ID>", key name "<host>" and key hint
 * sha256(SPKI)[0:4] = logID[0:4]. Verifiers find the log by hint and by the
 * name appearing in its base URL, so the name is the service's host:port.
 */

export interface CheckpointInput {
  /** host[:port] the log is reached at. */
  name: string;
  treeId: bigint;
  size: number;
  root: Buffer;
  /** Unix time in nanoseconds. */
  timestampNs: bigint;
  logId: Buffer;
  sign: (note: Buffer) => Buffer;
}

export function checkpointNote(c: Omit<CheckpointInput, 'logId' | 'sign'>): string {
  return `${c.name} - ${c.treeId}\n${c.size}\n${c.root.toString('base64')}\nTimestamp: ${c.timestampNs}\n`;
}

export function signedCheckpoint(c: CheckpointInput): string {
  const note = checkpointNote(c);
  const sig = c.sign(Buffer.from(note, 'utf8'));
  const hinted = Buffer.concat([c.logId.subarray(0, 4), sig]).toString('base64');
  return `${note}\n\u2014 ${c.name} ${hinted}\n`;
}
