/**
 * `gitseal-sandbox`: run the local Sigstore (OIDC provider, Fulcio, Rekor)
 * for tests, the demo and offline trials, and steer a running one.
 *
 *   start  --dir DIR [--host H] [--oidc-port N] [--fulcio-port N] [--rekor-port N] [--ca genN]
 *   token  --dir DIR [--email E] [--subject S] [--issuer-type email|workflow|uri] [--ttl SECONDS]
 *   fault  --dir DIR SPEC…   (rekor=503, rekor=503x2, fulcio=delay:3000, oidc=drop, rekor=malformed, fulcio=truncate, clear)
 *   stats  --dir DIR
 *   stop   --dir DIR
 *
 * Never loaded by gitseal's signing or verifying code.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeError, GitsealError } from './gitseal/errors.js';
import { FaultSpecError, parseFaultSpec } from './faults.js';
import { controlRequest, isAlive, readSandboxInfo } from './runner-control.js';

const USAGE = `usage: gitseal-sandbox <command> --dir DIR [options]
  start  --dir DIR [--host 127.0.0.1] [--oidc-port N] [--fulcio-port N] [--rekor-port N] [--ca genN]
         run OIDC, Fulcio and Rekor on loopback until SIGINT/SIGTERM; writes DIR/trusted_root.json,
         DIR/signing_config.json, DIR/env and DIR/sandbox.json, then prints one "ready" line
  token  --dir DIR [--email E] [--subject S] [--issuer-type email|workflow|uri] [--ttl SECONDS]
         print a fresh ID token from the running sandbox's provider
  fault  --dir DIR SPEC...   inject faults: rekor=503 | rekor=503x2 | fulcio=delay:3000 | oidc=drop |
         rekor=malformed | fulcio=truncate | rekor=clear | clear   (services: oidc fulcio rekor tsa rekor2)
  stats  --dir DIR           request counters per service and endpoint, as JSON
  stop   --dir DIR           stop the running sandbox`;

function usage(message: string): never {
  throw new GitsealError('USAGE', message);
}

/** Parse `--name VALUE` options (all string-valued) plus `--dir`. */
function parse(argv: string[], names: string[], positionals = false): { values: Record<string, string | undefined>; positionals: string[] } {
  const options = Object.fromEntries(['dir', ...names].map((n) => [n, { type: 'string' as const }]));
  try {
    const r = parseArgs({ args: argv, options, allowPositionals: positionals, strict: true });
    return { values: r.values as Record<string, string | undefined>, positionals: r.positionals };
  } catch (e) {
    // node's messages are multi-line; keep the first.
    return usage(describeError(e).replace(/\.$/, '') + ' (see gitseal-sandbox --help)');
  }
}

function dirOf(values: { dir?: unknown }): string {
  if (typeof values.dir !== 'string' || values.dir === '') usage('--dir DIR is required');
  return resolve(values.dir);
}

function port(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || n < 1 || n > 65535) usage(`--${name} must be a port number (1-65535)`);
  return n;
}

async function start(argv: string[]): Promise<number> {
  const { values } = parse(argv, ['host', 'oidc-port', 'fulcio-port', 'rekor-port', 'ca']);
  const dir = dirOf(values);
  let caGeneration: number | undefined;
  if (values.ca !== undefined) {
    const m = /^(?:gen)?([1-9]\d*)$/.exec(values.ca);
    if (!m) usage(`--ca must name a CA generation such as gen2, not "${values.ca}"`);
    caGeneration = Number(m[1]);
  }
  const { startSandbox } = await import('./runner.js');
  const sandbox = await startSandbox({
    dir,
    host: values.host,
    caGeneration,
    ports: { oidc: port(values['oidc-port'], 'oidc-port'), fulcio: port(values['fulcio-port'], 'fulcio-port'), rekor: port(values['rekor-port'], 'rekor-port') },
  });
  const { urls, files } = sandbox.info;
  process.stdout.write(`gitseal-sandbox ready: oidc=${urls.oidc} fulcio=${urls.fulcio} rekor=${urls.rekor} env=${files.env}\n`);

  let signals = 0;
  const signalled = new Promise<void>((done) => {
    const onSignal = () => {
      if (++signals > 1) process.exit(1); // a second Ctrl-C: give up on a clean stop
      done();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await Promise.race([signalled, sandbox.stopRequested]);
  await sandbox.close();
  // Exit now rather than wait for idle keep-alive sockets or discovery caches in libraries.
  process.exit(0);
}

async function token(argv: string[]): Promise<number> {
  const { values } = parse(argv, ['email', 'subject', 'issuer-type', 'ttl']);
  const dir = dirOf(values);
  const type = values['issuer-type'] ?? 'email';
  if (type !== 'email' && type !== 'workflow' && type !== 'uri') usage(`--issuer-type must be email, workflow or uri, not "${type}"`);
  if (type === 'uri' && !values.subject) usage('--issuer-type uri needs --subject URI');
  if (type === 'uri' && !/^[a-z][a-z0-9+.-]*:\S+$/i.test(values.subject!)) usage('--subject must be a URI for --issuer-type uri');
  let ttl: number | undefined;
  if (values.ttl !== undefined) {
    if (!/^-?\d+$/.test(values.ttl)) usage('--ttl must be a whole number of seconds');
    ttl = Number(values.ttl);
  }
  const info = readSandboxInfo(dir);
  const { WORKFLOW_ISSUER_PATH, URI_ISSUER_PATH } = await import('./runner.js');
  const issuer = type === 'workflow' ? info.urls.oidc + WORKFLOW_ISSUER_PATH : type === 'uri' ? info.urls.oidc + URI_ISSUER_PATH : info.urls.oidc;
  const { mintIdToken } = await import('./oidc/index.js');
  const jwt = await mintIdToken({ dir, issuer, email: values.email, subject: values.subject, type: type === 'workflow' ? 'workflow' : 'email', ttl });
  process.stdout.write(jwt + '\n');
  return 0;
}

async function fault(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, [], true);
  const dir = dirOf(values);
  if (positionals.length === 0) usage('fault needs at least one SPEC, e.g. rekor=503x2, fulcio=delay:3000 or clear');
  for (const p of positionals) {
    try {
      parseFaultSpec(p);
    } catch (e) {
      if (e instanceof FaultSpecError) usage(e.message);
      throw e;
    }
  }
  const active = await controlRequest(dir, 'POST', '/faults', { specs: positionals });
  process.stdout.write(JSON.stringify(active) + '\n');
  return 0;
}

async function stats(argv: string[]): Promise<number> {
  const dir = dirOf(parse(argv, []).values);
  process.stdout.write(JSON.stringify(await controlRequest(dir, 'GET', '/stats'), null, 2) + '\n');
  return 0;
}

async function stop(argv: string[]): Promise<number> {
  const dir = dirOf(parse(argv, []).values);
  const { pid } = readSandboxInfo(dir);
  try {
    await controlRequest(dir, 'POST', '/stop');
  } catch {
    process.kill(pid, 'SIGTERM'); // control endpoint unreachable: fall back to the signal
  }
  const deadline = Date.now() + 15_000;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new GitsealError('INTERNAL', `the sandbox (pid ${pid}) did not stop within 15 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  process.stdout.write(`gitseal-sandbox stopped (pid ${pid})\n`);
  return 0;
}

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = { start, token, fault, stats, stop };

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  try {
    if (command === undefined) usage('a command is required: start, token, fault, stats or stop (see --help)');
    const run = COMMANDS[command];
    if (!run) usage(`unknown command "${command}": expected start, token, fault, stats or stop (see --help)`);
    return await run(rest);
  } catch (e) {
    process.stderr.write(`gitseal-sandbox: ${describeError(e)}\n`);
    return e instanceof GitsealError && e.code === 'USAGE' ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
