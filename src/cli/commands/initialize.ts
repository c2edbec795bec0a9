import { Flags } from '@oclif/core';
import { readFileSync } from 'node:fs';
import { GitsealError } from '../../errors.js';
import { cachedTrustedRootPath, gitsealCacheDir, tufMetadataDir } from '../../trust/sources.js';
import { parseTrustedRoot } from '../../trust/trusted-root.js';
import { refreshTrustedRoot } from '../../trust/tuf.js';
import { GitsealCommand } from '../base.js';
import { fields, out, withSpinner } from '../output.js';

export const DEFAULT_MIRROR = 'https://tuf-repo-cdn.sigstore.dev';

export interface InitializeResult {
  mirror: string;
  path: string;
  digest: string;
  updated: boolean;
  certificateAuthorities: number;
  tlogs: number;
  ctlogs: number;
  timestampAuthorities: number;
}

export default class Initialize extends GitsealCommand {
  static override summary = 'Refresh the Sigstore trusted root from TUF';
  static override description = `Fetches trusted_root.json (Fulcio CAs, Rekor and CT log keys, timestamp authorities) through The Update Framework from the Sigstore TUF repository (or --mirror), checks every signature on the way, and stores it in the user cache (~/.cache/gitseal/trusted_root.json) for gitseal to verify with.

Trust material is never taken from Fulcio or Rekor themselves. If the refresh fails, the last good copy is kept and used. Without any refresh gitseal uses the public-good root it ships with.

--root gives the initial TUF root.json to trust for a private Sigstore's mirror (the public-good one is built in).`;
  static override examples = [
    { command: '<%= config.bin %> initialize', description: 'Refresh from the public-good TUF repository' },
    { command: '<%= config.bin %> initialize --mirror https://tuf.example.com --root ./root.json', description: "A private Sigstore's TUF repository" },
  ];
  static override enableJsonFlag = true;
  static override flags = {
    mirror: Flags.string({ description: 'TUF repository URL', default: DEFAULT_MIRROR, helpValue: 'URL' }),
    root: Flags.string({ description: 'initial TUF root.json to trust (needed for mirrors other than the public-good one)', helpValue: 'FILE' }),
    timeout: Flags.integer({ description: 'seconds per request', default: 10, min: 1 }),
  };

  async run(): Promise<InitializeResult> {
    const { flags } = await this.parse(Initialize);
    const cacheDir = gitsealCacheDir(this.env);
    if (!cacheDir) throw new GitsealError('CONFIG', 'no cache directory: set HOME or XDG_CACHE_HOME');
    const dest = cachedTrustedRootPath(cacheDir);
    let r;
    try {
      r = await withSpinner(`Refreshing the trusted root from ${flags.mirror}…`, () =>
        refreshTrustedRoot({ mirrorURL: flags.mirror, rootPath: flags.root, cacheDir, tufDir: tufMetadataDir(this.env, cacheDir), fetchTimeout: flags.timeout * 1000 }),
      );
    } catch (e) {
      if (e instanceof GitsealError && e.code === 'TUF') {
        throw new GitsealError('TUF', `${e.message}; gitseal keeps using the public-good root it ships with`, e);
      }
      throw e;
    }
    // The mirror failed but a last good copy exists: it stays in use, and the refresh still failed.
    if (r.warning) throw new GitsealError('TUF', r.warning);
    const root = parseTrustedRoot(readFileSync(r.trustedRootPath));
    const result: InitializeResult = {
      mirror: new URL(flags.mirror).href.replace(/\/+$/, ''),
      path: dest,
      digest: root.digest,
      updated: r.changed === true,
      certificateAuthorities: root.certificateAuthorities.length,
      tlogs: root.tlogs.length,
      ctlogs: root.ctlogs.length,
      timestampAuthorities: root.timestampAuthorities.length,
    };
    this.say(`${out.green(result.updated ? 'updated' : 'up to date')}: trusted root from ${result.mirror}`);
    this.say(
      fields(
        [
          ['Stored in', dest],
          ['SHA-256', root.digest],
          ['Contents', `${result.certificateAuthorities} certificate authorities, ${result.tlogs} Rekor logs, ${result.ctlogs} CT logs, ${result.timestampAuthorities} timestamp authorities`],
        ],
        '  ',
      ),
    );
    return result;
  }
}
