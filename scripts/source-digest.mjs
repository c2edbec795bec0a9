// The identity of a build's code: SHA-256 over every file under src/ (sorted relative path, a NUL,
// the bytes, a NUL). The builds define it as process.env.GITSEAL_SOURCE_DIGEST, and the
// verified-signature cache keys its records with it (src/verify/cache.ts VERIFIER_BUILD): a
// verdict cached by one build of the verifier is never handed out by another, even of the same
// version (issue 14 changed what the verifier accepts without a version change).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? files(p) : e.isFile() ? [p] : [];
  });
}

/** Hex SHA-256 of the source tree under `srcDir`. */
export function sourceDigest(srcDir) {
  const h = createHash('sha256');
  for (const f of files(srcDir).map((p) => relative(srcDir, p).split('\\').join('/')).sort()) {
    h.update(f).update('\0').update(readFileSync(join(srcDir, f))).update('\0');
  }
  return h.digest('hex');
}
