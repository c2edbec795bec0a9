/**
 * Start the whole local Sigstore — OpenID provider, Fulcio (with its CT log)
 * and Rekor — as real HTTP services on the loopback interface, over one
 * state directory, and publish what clients need to find and trust them
 * (see runner-files.ts). `bin/gitseal-sandbox start` runs this in the
 * foreground; tests may also call `startSandbox` in process.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GitsealError } from './gitseal/errors.js';
import { FaultTable, interposeOnServer, parseFaultSpec, RequestCounters, withFaults, type ServiceName } from './faults.js';
import { createRekorService, type RekorService } from './rekor/service.js';
import { ensurePrivateDir, writeFileAtomic } from './shared/private-files.js';
import { isAlive, startControlServer } from './runner-control.js';
import { envFile, sandboxFiles, signingConfigJson, trustedRootJson, type SandboxInfo, type SandboxUrls } from './runner-files.js';
import { onFirstRequestTo } from './runner-oidc-server.js';
import { startTrustServices, type TrustServices } from './runner-trust-services.js';

export interface SandboxOptions {
  dir: string;
  /** Loopback address to bind (default 127.0.0.1). */
  host?: string;
  /** Fixed ports; otherwise the ports of the previous run on this directory if free, else any free port. */
  ports?: Partial<Record<ServiceName, number>>;
  /** Fulcio CA generation to issue from (`--ca gen2`); older generations stay in the trusted root. */
  caGeneration?: number;
}

export interface SandboxStats {
  requests: Partial<Record<ServiceName, Record<string, number>>>;
  faultsInjected: Partial<Record<ServiceName, number>>;
  activeFaults: unknown;
  oidc: unknown;
  fulcio: unknown;
  rekor: unknown;
}

export interface RunningSandbox {
  info: SandboxInfo;
  urls: SandboxUrls;
  /** Issuer URLs for `mintIdToken`: `email` is the provider itself; `workflow` and `uri` share its keys. */
  issuers: { email: string; workflow: string; uri: string };
  stats(): SandboxStats;
  applyFaults(specs: string[]): unknown;
  /** Resolves once the sandbox has been asked to stop (control endpoint) — the runner's cue to close. */
  stopRequested: Promise<void>;
  close(): Promise<void>;
}

const PORTS_FILE = 'ports.json';

/** Issuer URL paths (under the provider) for workload identities; Fulcio maps issuer → identity type. */
export const WORKFLOW_ISSUER_PATH = '/actions';
export const URI_ISSUER_PATH = '/workload';

function rememberedPorts(dir: string): Partial<Record<ServiceName, number>> {
  try {
    return JSON.parse(readFileSync(`${dir}/${PORTS_FILE}`, 'utf8')) as Partial<Record<ServiceName, number>>;
  } catch {
    return {};
  }
}

async function listen(server: Server, host: string, port: number | undefined, fixed: boolean): Promise<number> {
  const attempt = (p: number) =>
    new Promise<void>((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      server.once('error', onError);
      server.listen(p, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
  try {
    await attempt(port ?? 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || fixed || port === undefined) {
      throw new GitsealError('USAGE', `cannot listen on ${host}:${port ?? 0}: ${(e as Error).message}`);
    }
    await attempt(0);
  }
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

const urlOf = (host: string, port: number) => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

export async function startSandbox(opts: SandboxOptions): Promise<RunningSandbox> {
  const dir = opts.dir;
  const host = opts.host ?? '127.0.0.1';
  if (!/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(host)) {
    throw new GitsealError('USAGE', `the sandbox only listens on loopback addresses, not ${host}`);
  }
  ensurePrivateDir(dir);
  const files = sandboxFiles(dir);
  if (existsSync(files.sandbox)) {
    let old: Partial<SandboxInfo> = {};
    try {
      old = JSON.parse(readFileSync(files.sandbox, 'utf8')) as SandboxInfo;
    } catch {
      /* unreadable: stale */
    }
    if (old.pid && old.pid !== process.pid && isAlive(old.pid)) {
      throw new GitsealError('USAGE', `a sandbox is already running in ${dir} (pid ${old.pid}); stop it with: gitseal-sandbox stop --dir ${dir}`);
    }
    rmSync(files.sandbox, { force: true });
  }
  const previous = rememberedPorts(dir);
  const portFor = (s: ServiceName) => opts.ports?.[s] ?? previous[s];
  const fixed = (s: ServiceName) => opts.ports?.[s] !== undefined;

  const faults = new FaultTable();
  const counters = new RequestCounters();
  const servers: Server[] = [];
  let rekor: RekorService | undefined;
  let trustServices: TrustServices | undefined;
  let oidc: { issuer: string; port: number; close(): Promise<void>; stats(): unknown } | undefined;
  let releaseOidcHook = () => {};
  let stopRequested!: () => void;
  const stopPromise = new Promise<void>((r) => (stopRequested = r));

  const cleanup = async () => {
    releaseOidcHook();
    await Promise.all(servers.map(closeServer));
    if (oidc) await oidc.close();
    rekor?.close();
    trustServices?.close();
  };

  try {
    // Rekor: its checkpoints are named after host:port, so bind first, then create.
    const rekorServer = createServer();
    servers.push(rekorServer);
    const rekorPort = await listen(rekorServer, host, portFor('rekor'), fixed('rekor'));
    const rekorUrl = urlOf(host, rekorPort);
    rekor = createRekorService({ dir, url: rekorUrl });
    const rekorHandle = rekor.handle;
    rekorServer.on('request', withFaults((req, res) => rekorHandle(req, res), 'rekor', faults, counters));

    // OIDC provider (heavy npm packages: loaded only here).
    const { startOidcProvider } = await import('./oidc/index.js');
    try {
      oidc = await startOidcProvider({ dir, host, port: portFor('oidc') });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || fixed('oidc') || portFor('oidc') === undefined) throw e;
      oidc = await startOidcProvider({ dir, host });
    }
    // Fault injection in front of the provider's own server (see runner-oidc-server.ts).
    const exposed = (oidc as { server?: Server }).server;
    if (exposed) interposeOnServer(exposed, 'oidc', faults, counters);
    else releaseOidcHook = onFirstRequestTo(oidc.port, (s) => interposeOnServer(s, 'oidc', faults, counters));
    const issuer = oidc.issuer;
    const jwksUri = await discoverJwksUri(issuer);

    // Fulcio trusts the provider for e-mail identities, and — under two extra
    // issuer URLs that share its keys — for GitHub-Actions-like and URI workload identities.
    const issuers = { email: issuer, workflow: issuer + WORKFLOW_ISSUER_PATH, uri: issuer + URI_ISSUER_PATH };
    const { createFulcioService } = await import('./fulcio/service.js');
    const fulcio = createFulcioService({
      dir,
      caGeneration: opts.caGeneration,
      issuers: [
        // The confidential client too: a private Fulcio is configured with the client ID its Dex uses.
        { issuerURL: issuers.email, audience: ['sigstore', 'sigstore-confidential'], type: 'email' },
        { issuerURL: issuers.workflow, audience: 'sigstore', type: 'github-workflow', jwksURI: jwksUri },
        { issuerURL: issuers.uri, audience: 'sigstore', type: 'uri', jwksURI: jwksUri },
      ],
    });
    const fulcioServer = createServer();
    servers.push(fulcioServer);
    const fulcioPort = await listen(fulcioServer, host, portFor('fulcio'), fixed('fulcio'));
    const fulcioUrl = urlOf(host, fulcioPort);
    fulcioServer.on('request', withFaults((req: IncomingMessage, res: ServerResponse) => fulcio.handle(req, res), 'fulcio', faults, counters));

    // RFC 3161 TSA and Rekor v2 log on their own ports (runner-trust-services.ts).
    const extra = await startTrustServices({
      dir,
      listen: (s, p) => listen(s, host, p, false),
      urlOf: (p) => urlOf(host, p),
      previousPorts: previous as { tsa?: number; rekorV2?: number },
    });
    trustServices = extra;
    servers.push(...extra.servers);
    for (const server of extra.servers) {
      const port = (server.address() as AddressInfo).port;
      const name: ServiceName | undefined = port === extra.ports.tsa ? 'tsa' : port === extra.ports.rekorV2 ? 'rekor2' : undefined;
      if (name) interposeOnServer(server, name, faults, counters);
    }

    const urls: SandboxUrls = { oidc: issuer, fulcio: fulcioUrl, rekor: rekorUrl, ...extra.urls };
    const ports = { oidc: oidc.port, fulcio: fulcioPort, rekor: rekorPort, ...extra.ports };

    const stats = (): SandboxStats => ({
      requests: counters.counts,
      faultsInjected: counters.faultsInjected,
      activeFaults: faults.snapshot(),
      oidc: oidc?.stats(),
      fulcio: fulcio.stats(),
      rekor: rekor?.stats(),
      ...extra.stats(),
    });
    const applyFaults = (specs: string[]) => {
      const parsed = specs.map(parseFaultSpec); // all or nothing
      for (const p of parsed) faults.apply(p);
      return faults.snapshot();
    };

    const token = randomBytes(24).toString('base64url');
    const control = await startControlServer(host, token, {
      stats,
      faults: applyFaults,
      listFaults: () => faults.snapshot(),
      stop: () => stopRequested(),
    });
    servers.push(control.server);

    // Publish: trust material and config first, sandbox.json last (it means "ready").
    const fragment = fulcio.trustedRootFragment({ fulcioURL: fulcioUrl });
    const tlog = { baseUrl: rekorUrl, publicKeyDer: rekor.trust.publicKeyDer, logId: rekor.trust.logId, validFrom: rekor.trust.validFrom };
    const since = new Date(Math.min(rekor.trust.validFrom.getTime(), ...fragment.certificateAuthorities.map((c) => Date.parse(c.validFor.start))));
    const trustedRoot = trustedRootJson(fragment, tlog);
    extra.addToTrustedRoot(trustedRoot);
    floorValidityStarts(trustedRoot);
    const signingConfig = signingConfigJson(urls, since);
    extra.addToSigningConfig(signingConfig, since);
    writeFileAtomic(files.trustedRoot, JSON.stringify(trustedRoot, null, 2) + '\n');
    writeFileAtomic(files.signingConfig, JSON.stringify(signingConfig, null, 2) + '\n');
    writeFileAtomic(files.env, envFile(urls, files.trustedRoot));
    writeFileAtomic(`${dir}/${PORTS_FILE}`, JSON.stringify(ports) + '\n');
    const info: SandboxInfo = { pid: process.pid, dir, host, urls, ports, files, control: { url: control.url, token }, startedAt: new Date().toISOString() };
    writeFileAtomic(files.sandbox, JSON.stringify(info, null, 2) + '\n');

    let closed: Promise<void> | undefined;
    return {
      info,
      urls,
      issuers,
      stats,
      applyFaults,
      stopRequested: stopPromise,
      close() {
        closed ??= (async () => {
          try {
            const current = JSON.parse(readFileSync(files.sandbox, 'utf8')) as SandboxInfo;
            if (current.pid === process.pid && current.control.token === token) rmSync(files.sandbox, { force: true });
          } catch {
            /* already gone */
          }
          await cleanup();
        })();
        return closed;
      },
    };
  } catch (e) {
    await cleanup().catch(() => {});
    throw e;
  }
}

/** The provider's jwks_uri (OpenID Connect Discovery 1.0 §3), shared by the workload issuers. */
async function discoverJwksUri(issuer: string): Promise<string> {
  const res = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(10_000) });
  const doc = (await res.json()) as { jwks_uri?: string };
  if (!res.ok || typeof doc.jwks_uri !== 'string') throw new GitsealError('OIDC', `the sandbox OpenID provider at ${issuer} has no usable discovery document`);
  return doc.jwks_uri;
}

/**
 * Rekor's integrated time and RFC 3161 times are whole seconds, but the sandbox's keys
 * are made at some millisecond: an entry logged in the same second as a key was made
 * would fall "before" that key's validFor.start and fail. Publish starts floored to
 * the second (the keys did exist then, within the second).
 */
function floorValidityStarts(node: unknown): void {
  if (Array.isArray(node)) {
    for (const n of node) floorValidityStarts(n);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  const vf = o.validFor as { start?: string } | undefined;
  if (vf && typeof vf.start === 'string') vf.start = new Date(Math.floor(Date.parse(vf.start) / 1000) * 1000).toISOString();
  for (const v of Object.values(o)) floorValidityStarts(v);
}
