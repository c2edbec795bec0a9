/**
 * C2SP tlog-checkpoint as a C2SP signed note, the form rekor-tiles serves:
 *
 *   <origin>\n<tree size>\n<base64 root hash>\n
 *   \n
 *   — <key name> <base64(key id[0:4] || Ed25519 signature)>\n
 *
 * The origin and the key name are the same string (the log's name).
 */
import { signNote, type V2LogIdentity } from './log-key.js';

export function checkpointBody(origin: string, size: number, root: Buffer): string {
  return `${origin}\n${size}\n${root.toString('base64')}\n`;
}

export function signedCheckpointV2(id: V2LogIdentity, size: number, root: Buffer): string {
  const note = checkpointBody(id.name, size, root);
  const sig = signNote(id, Buffer.from(note, 'utf8'));
  return `${note}\n\u2014 ${id.name} ${Buffer.concat([id.keyId.subarray(0, 4), sig]).toString('base64')}\n`;
}
