/**
 * The sandbox's RFC 3161 timestamp authority and Rekor v2 log, each on its own
 * loopback port, plus what they add to the published files: a
 * `timestampAuthorities[]` and an Ed25519 `tlogs[]` entry for
 * trusted_root.json, and `tsaUrls` / a `majorApiVersion: 2` `rekorTlogUrls`
 * entry for signing_config.json. Started by runner.ts after Rekor v1.
 */
import { createServer, type Server } from 'node:http';
import { createRekorV2Service, type RekorV2Service } from './rekor-v2/service.js';
import { createTsaService, TIMESTAMP_PATH } from './tsa/service.js';

export interface TrustServices {
  servers: Server[];
  urls: { tsa: string; rekorV2: string };
  ports: { tsa: number; rekorV2: number };
  /** Add the TSA and the v2 log to a trustedRootJson() object. */
  addToTrustedRoot(root: object): void;
  /** Add the TSA and the v2 log to a signingConfigJson() object, valid from `since`. */
  addToSigningConfig(config: object, since: Date): void;
  stats(): { tsa: unknown; rekorV2: unknown };
  close(): void;
}

type Listen = (server: Server, port: number | undefined) => Promise<number>;

const OPERATOR = 'gitseal-sandbox';

export async function startTrustServices(o: {
  dir: string;
  /** Binds `server` on the sandbox host (previous port if free). */
  listen: Listen;
  urlOf: (port: number) => string;
  previousPorts: { tsa?: number; rekorV2?: number };
}): Promise<TrustServices> {
  const servers: Server[] = [];
  let rekorV2: RekorV2Service | undefined;
  try {
    const tsaServer = createServer();
    servers.push(tsaServer);
    const tsaPort = await o.listen(tsaServer, o.previousPorts.tsa);
    const tsaBase = o.urlOf(tsaPort);
    const tsa = createTsaService({ dir: o.dir, url: tsaBase });
    tsaServer.on('request', (req, res) => tsa.handle(req, res));

    // The v2 log's name (checkpoint origin, C2SP key name) is its host:port, as v1's checkpoints are.
    const v2Server = createServer();
    servers.push(v2Server);
    const v2Port = await o.listen(v2Server, o.previousPorts.rekorV2);
    const v2Url = o.urlOf(v2Port);
    const v2 = createRekorV2Service({ dir: o.dir, origin: new URL(v2Url).host, url: v2Url });
    rekorV2 = v2;
    v2Server.on('request', (req, res) => v2.handle(req, res));

    return {
      servers,
      urls: { tsa: tsaBase + TIMESTAMP_PATH, rekorV2: v2Url },
      ports: { tsa: tsaPort, rekorV2: v2Port },
      addToTrustedRoot(root) {
        const r = root as { tlogs: unknown[]; timestampAuthorities: unknown[] };
        r.tlogs.push(v2.trustedRootFragment());
        r.timestampAuthorities.push(tsa.trustedRootFragment());
      },
      addToSigningConfig(config, since) {
        const c = config as { rekorTlogUrls: unknown[]; tsaUrls: unknown[] };
        const start = new Date(Math.min(since.getTime(), v2.trust.validFrom.getTime(), tsa.trust.validFrom.getTime())).toISOString();
        c.rekorTlogUrls.push({ url: v2Url, majorApiVersion: 2, validFor: { start }, operator: OPERATOR });
        c.tsaUrls.push({ url: tsaBase + TIMESTAMP_PATH, majorApiVersion: 1, validFor: { start }, operator: OPERATOR });
      },
      stats: () => ({ tsa: tsa.stats(), rekorV2: v2.stats() }),
      close: () => v2.close(),
    };
  } catch (e) {
    rekorV2?.close();
    await Promise.all(servers.map((s) => new Promise<void>((r) => (s.listening ? s.close(() => r()) : r()))));
    throw e;
  }
}
