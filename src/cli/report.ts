/**
 * How a command's failure reaches people and programs, shared by the oclif command line
 * (src/cli/run.ts) and the fast entry for `gitseal verify` (src/main-fast-cli-verify.ts): every
 * failure is one line `gitseal: <message>` on stderr (plus `{"error":…}` on stdout under --json),
 * exit 2 for usage errors, 1 otherwise; stack traces only for bugs with GITSEAL_DEBUG=1.
 */
import { describeError, GitsealError, isFsError } from '../errors.js';
import { err as errPaint, getOpenDocument, printJson } from './output.js';
import { redactSecrets } from './redact.js';
import { usageMessage } from './usage-error.js';
import { terminalSafe, terminalSafeJson } from '../util/terminal-text.js';

/**
 * The reader of stdout went away (`gitseal verify --all | head`): stop at once, quietly, with
 * the status a shell reports for a program killed by SIGPIPE, as git does. Node ignores
 * SIGPIPE, so without this a write to the closed pipe failed with EPIPE and a command waiting
 * for 'drain' waited for ever with its workers running.
 */
export function exitOnClosedStdout(stream: NodeJS.WriteStream = process.stdout, exit: (code: number) => void = (c) => process.exit(c)): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return exit(141);
    process.stderr.write(`gitseal: cannot write the output: ${describeError(e)}\n`);
    exit(1);
  });
}

interface OclifErrorShape {
  oclif?: { exit?: number };
  code?: string;
}

/**
 * One line for a person (and the JSON error object under --json, the error line under
 * --json-lines); sets the exit status. `command` names the command for a usage hint.
 */
export function report(e: unknown, { json, jsonLines = false, command }: { json: boolean; jsonLines?: boolean; command?: string }): void {
  const oc = e as OclifErrorShape;
  if (oc && oc.code === 'EEXIT' && typeof oc.oclif?.exit === 'number') {
    process.exitCode = oc.oclif.exit;
    return;
  }
  let code: string;
  let message: string;
  let exit = 1;
  let bug = false;
  if (e instanceof GitsealError) {
    code = e.code;
    message = e.message;
    if (e.code === 'USAGE') exit = 2;
  } else if (oc && typeof oc.oclif?.exit === 'number') {
    // oclif's parser errors (unknown flag, missing argument, bad option value)
    code = 'USAGE';
    message = usageMessage(e) + (command ? ` (see "gitseal ${command} --help")` : '');
    exit = 2;
  } else if (isFsError(e)) {
    // A file the command needed could not be read or written: the machine's state, not a bug.
    code = 'IO';
    message = describeError(e);
  } else {
    code = 'INTERNAL';
    message = describeError(e);
    bug = true;
  }
  // Messages quote file names, refs and values from repositories and signatures.
  message = terminalSafe(redactSecrets(message));
  // A document already streaming on stdout (verify --json, --json-lines) ends with the error.
  const open = getOpenDocument();
  if (open?.fail(code, message)) {
    /* closed with the error */
  } else if (json) printJson({ error: { code, message } });
  else if (jsonLines) process.stdout.write(terminalSafeJson(JSON.stringify({ error: { code, message } })) + '\n');
  process.stderr.write(`${errPaint.red('gitseal:')} ${message}\n`);
  if (bug) {
    if (process.env.GITSEAL_DEBUG && e instanceof Error && e.stack) process.stderr.write(redactSecrets(e.stack) + '\n');
    else process.stderr.write('gitseal: (unexpected error; rerun with GITSEAL_DEBUG=1 for details)\n');
  }
  process.exitCode = exit;
}
