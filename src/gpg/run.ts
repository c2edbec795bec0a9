/**
 * git's gpg-style entry: sign (`--status-fd=2 -bsau KEY`) or verify
 * (`--status-fd=1 --verify SIGFILE -`). On the sign side the contract with git
 * is (gitsign-protocol.md §1.2): the PEM signature alone on stdout, then
 * `[GNUPG:] BEGIN_SIGNING` and `[GNUPG:] SIG_CREATED …` on the status fd, exit 0.
 * Any failure: nothing on stdout, one `gitseal: <message>` line on stderr (and
 * the terminal), exit 1 — git then aborts and keeps .git/COMMIT_EDITMSG.
 * Signing code (asn1js, Fulcio, Rekor, OIDC) is imported only when signing.
 */
import { createReadStream } from 'node:fs';
import { describeError, fsReason, GitsealError } from '../errors.js';
import { loadConfig } from '../config/load.js';
import { showNoticesOnce } from '../config/notices.js';
import type { GitsealConfig } from '../config/types.js';
import type { FetchLike } from '../util/http.js';
import { parseGpgArgs, type GpgArgs } from './args.js';
import { openStatus, writeAllSync } from './status.js';
import { openTerminal, reportFailure, type Terminal } from './tty.js';
import { openPgpAlgorithms } from './algorithms.js';
import { terminalSafe } from '../util/terminal-text.js';
import { withTrustHint } from '../verify/trust-hint.js';

/** Largest payload we sign or verify: far above any real commit or tag. */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

export interface GpgRunIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdin: AsyncIterable<Buffer | string>;
  /** Write to a file descriptor (1 stdout, 2 stderr, N status). */
  write(fd: number, data: Buffer | string): void;
  now(): Date;
  /** Terminal device for human output; default /dev/tty. */
  ttyPath?: string;
  fetch?: FetchLike;
}

function defaultIo(): GpgRunIo {
  return {
    env: process.env,
    cwd: process.cwd(),
    stdin: process.stdin,
    write: writeAllSync,
    now: () => new Date(),
  };
}

export async function readAllLimited(src: AsyncIterable<Buffer | string>, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of src) {
    const b = typeof c === 'string' ? Buffer.from(c) : c;
    total += b.length;
    if (total > MAX_PAYLOAD_BYTES) throw new GitsealError('INPUT_TOO_LARGE', `${what} is larger than ${MAX_PAYLOAD_BYTES} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

function readFileLimited(path: string, what: string): Promise<Buffer> {
  return readAllLimited(createReadStream(path), what).catch((e) => {
    if (e instanceof GitsealError) throw e;
    throw new GitsealError('USAGE', `cannot read ${what} ${path}: ${fsReason(e) ?? describeError(e)}`);
  });
}

async function runSign(args: GpgArgs, config: GitsealConfig, io: GpgRunIo, term: Terminal): Promise<number> {
  const payload = args.payloadFile ? await readFileLimited(args.payloadFile, 'the payload file') : await readAllLimited(io.stdin, 'the payload');
  // With a warm agent no token and no local credential are needed: load those only on demand.
  const [{ signPayload }, { agentSigner }, { parseCertificate, fingerprintSha1 }] = await Promise.all([
    import('../sign/sign-payload.js'),
    import('../sign/agent-signer.js'),
    import('../x509/certificate.js'),
  ]);
  const say = (l: string) => term.say(l);
  const { trustForConfig } = await import('../trust/load.js');
  const loadedTrust = trustForConfig(config, io.env);
  for (const w of loadedTrust.warnings) say(`gitseal: warning: ${w}`);
  const trust = loadedTrust.root;
  const tokenSource = async () => (await import('../oidc/get-token.js')).getIdentityToken(config, { env: io.env, say, terminal: term.isTty });
  const signer =
    config.agent === 'off'
      ? undefined
      : agentSigner({
          config,
          env: io.env,
          repo: io.cwd,
          say,
          getToken: tokenSource,
          local: async (getToken) => {
            const [{ localSigner }, { obtainCredential }] = await Promise.all([import('../sign/local-signer.js'), import('../sign/credential.js')]);
            return localSigner(await obtainCredential(config, { getToken, fetch: io.fetch, now: io.now, env: io.env, say, trust }), io.now);
          },
        });
  const result = await signPayload(payload, { config, signer, tokenSource, now: io.now, ui: term, fetch: io.fetch, env: io.env, trust }).catch((e: unknown) => {
    // Fulcio's chain or Rekor's entry did not check out: say against which trusted root.
    if (e instanceof GitsealError) throw new GitsealError(e.code, withTrustHint(e.code, e.message, loadedTrust.source), e);
    throw e;
  });

  const status = openStatus(args.statusFd, io.write);
  const leaf = parseCertificate(result.leaf);
  const [pk, hash] = openPgpAlgorithms(leaf.signatureAlgorithm);
  // Older git looks for "\n[GNUPG:] SIG_CREATED ", so one status line must come first.
  status.emit('BEGIN_SIGNING');
  io.write(1, result.pem);
  status.emit('SIG_CREATED', args.detach ? 'D' : 'S', pk, hash, '00', Math.floor(result.signingTime.getTime() / 1000), fingerprintSha1(leaf));
  return 0;
}

async function runVerify(args: GpgArgs, config: GitsealConfig, io: GpgRunIo, payload: Buffer): Promise<number> {
  const [{ runGpgVerify }, { trustForConfig }, { repositoryPolicy }] = await Promise.all([
    import('../verify/gpg-verify.js'),
    import('../trust/load.js'),
    import('../verify/policy-sources.js'),
  ]);
  // The repository's signer policy for git's own verification (gitseal.allowedSignersFile, matchCommitter).
  const { policy } = repositoryPolicy(config);
  const loaded = trustForConfig(config, io.env);
  for (const w of loaded.warnings) io.write(2, terminalSafe(`gitseal: warning: ${w}`) + '\n');
  const trust = loaded.root;
  const rekorSearch = config.offline ? undefined : (await import('../rekor/search.js')).createRekorSearch(config.rekorURL, { timeoutMs: config.rekorSearchTimeoutMs });
  return runGpgVerify({
    sigfile: args.signatureFile,
    payload,
    trust,
    policy,
    offline: config.offline,
    rekorSearch,
    now: io.now(),
    trustSource: loaded.source,
    statusOut: (line) => {
      if (args.statusFd >= 0) io.write(args.statusFd, line + '\n');
    },
    // git shows the program's stderr for verification (log --show-signature, verify-commit).
    humanOut: (line) => io.write(2, line + '\n'),
  });
}

/**
 * git's --verify call, failing as a verification: a configuration that cannot be used (a
 * missing or malformed allowed-signers file, a bad regular expression, an unreadable trusted
 * root, an empty policy value) still answers git with ERRSIG, so `%G?` is E and `git
 * verify-commit` fails — never the bare exit of a program that printed no status (N), which
 * git reads as "no signature" — and says why in one line on stderr.
 */
async function runVerifyCall(args: GpgArgs, io: GpgRunIo, term: Terminal): Promise<number> {
  try {
    // The payload first: git writes it whatever we answer, and a closed pipe is not an answer.
    const payload =
      args.dataFile && args.dataFile !== '-' ? await readFileLimited(args.dataFile, 'the signed data file') : await readAllLimited(io.stdin, 'the signed data');
    const config = loadConfig({ cwd: io.cwd, env: io.env });
    if (config.logPath) term.tee(config.logPath);
    for (const w of config.warnings ?? []) {
      // The ownership warning belongs to this verdict: on stderr, which git shows with it.
      if (config.untrustedRepository && w.startsWith('ignoring the repository')) io.write(2, terminalSafe(`gitseal: warning: ${w}`) + '\n');
      else term.say(`gitseal: warning: ${w}`);
    }
    return await runVerify(args, config, io, payload);
  } catch (e) {
    const { statusLines } = await import('../verify/gpg-verify.js');
    const message = `signature not verified: ${describeError(e)}`;
    if (args.statusFd >= 0) for (const l of statusLines({ ok: false, kind: 'error', failedCheck: 'parse', message }, false)) io.write(args.statusFd, l + '\n');
    reportFailure(term, io, message);
    if (io.env.GITSEAL_DEBUG && e instanceof Error && !(e instanceof GitsealError) && e.stack) io.write(2, e.stack + '\n');
    return 1;
  }
}

export async function runGpg(argv: string[], ioIn: Partial<GpgRunIo> = {}): Promise<number> {
  const io: GpgRunIo = { ...defaultIo(), ...ioIn };
  const term = openTerminal({ ttyPath: io.ttyPath, writeStderr: (s) => io.write(2, s) });
  try {
    const args = parseGpgArgs(argv);
    for (const n of args.notes) term.say(`gitseal: ${n}`);
    if (args.mode === 'version') {
      io.write(1, `gitseal ${process.env.GITSEAL_BUILD_VERSION ?? '0.0.0'}\n`);
      return 0;
    }
    if (args.mode === 'none') throw new GitsealError('USAGE', 'expected --sign/-s or --verify (git calls: -bsau KEY, --verify FILE -)');
    if (args.mode === 'verify') return await runVerifyCall(args, io, term);
    const config = loadConfig({ cwd: io.cwd, env: io.env });
    if (config.logPath) term.tee(config.logPath);
    for (const w of config.warnings ?? []) term.say(`gitseal: warning: ${w}`);
    showNoticesOnce(config, io.env, (l) => term.say(l));
    return await runSign(args, config, io, term);
  } catch (e) {
    reportFailure(term, io, describeError(e));
    if (io.env.GITSEAL_DEBUG && e instanceof Error && !(e instanceof GitsealError) && e.stack) io.write(2, e.stack + '\n');
    return 1;
  } finally {
    term.close();
  }
}
