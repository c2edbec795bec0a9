import { Flags } from '@oclif/core';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GitsealError } from '../../errors.js';
import { configGet, configGetEffective, configSet, configUnset, findGitDir, type ConfigScope, type GitEnv } from '../../git/config-write.js';
import { GitsealCommand } from '../base.js';
import { userConfigDir, writePrivateFile } from '../files.js';
import { err, out, table } from '../output.js';
import { chooseProgram, type ProgramChoice } from '../program-path.js';
import { workTreeTop } from '../doctor-policy.js';
import { addSigner, askSigner, signerLine, signersTarget, undoSigners, type SignersChange, type SignersFileRecord } from '../init-signers.js';
import { homeDir } from '../../util/home.js';

/** What `init` changed, saved so `init --undo` can put the previous values back. */
export interface UndoRecord {
  version: 1;
  scope: ConfigScope;
  createdAt: string;
  /** key → value before the first `gitseal init` (null: it was unset), and the value init set. */
  changes: Array<{ key: string; previous: string | null; value: string }>;
  /** The allowed-signers file init wrote (--signer), if any. */
  signersFile?: SignersFileRecord;
}

export interface InitChange {
  key: string;
  before: string | null;
  after: string | null;
  status: 'set' | 'unchanged' | 'restored' | 'unset' | 'kept';
}

export default class Init extends GitsealCommand {
  static override summary = 'Configure git to sign commits and tags with gitseal';
  static override description = `Sets, in this repository (--local, the default inside a repository) or for your user (--global):

  gpg.format         = x509
  gpg.x509.program   = gitseal    (or this gitseal's absolute path, when "gitseal" on PATH is not this program)
  commit.gpgsign     = true     (skip with --no-commit)
  tag.gpgsign        = true     (skip with --no-tag)
  gitseal.issuer     = <URL>    (only with --issuer, without --signer)

With --signer <identity> --issuer <URL> it also writes who may sign — so git shows their good
signatures as G, and git merge --verify-signatures accepts them — to .gitseal/allowed_signers
(commit it; --global: ~/.config/gitseal/allowed_signers) and sets gitseal.allowedSignersFile.
There --issuer is the OIDC issuer in the signer's certificates (https://github.com/login/oauth,
https://accounts.google.com, …), not the login issuer. On a terminal, with no policy set yet,
init offers to do this and asks.

"gitseal" is written when PATH finds this program, so a reinstall or a Node version switch (nvm) keeps working; otherwise the absolute path, with a warning when it lies in npx's cache or in one Node version's directory.

The previous values are saved (.git/gitseal-init.json, or ~/.config/gitseal/init-undo.json for --global) and "gitseal init --undo" puts them back. Values you changed yourself after init are left alone.`;

  static override examples = [
    { command: '<%= config.bin %> init', description: 'Sign every commit and tag in this repository' },
    { command: '<%= config.bin %> init --global', description: 'Sign in every repository of this user' },
    { command: '<%= config.bin %> init --no-tag --issuer https://token.actions.githubusercontent.com', description: 'Commits only, with another OpenID issuer' },
    { command: '<%= config.bin %> init --signer alice@example.com --issuer https://github.com/login/oauth', description: 'Also say who may sign (git then shows G for them)' },
    { command: '<%= config.bin %> init --undo', description: 'Put back what was there before' },
  ];

  static override enableJsonFlag = true;

  static override flags = {
    global: Flags.boolean({ description: 'write ~/.gitconfig (all repositories) instead of this repository', exclusive: ['local'] }),
    local: Flags.boolean({ description: "write this repository's .git/config (default inside a repository)", exclusive: ['global'] }),
    issuer: Flags.string({ description: 'OpenID issuer to log in with (sets gitseal.issuer); with --signer: the issuer in the signer\'s certificates', helpValue: 'URL' }),
    signer: Flags.string({ description: 'who may sign: e-mail or workflow URI (writes the allowed signers file; needs --issuer)', helpValue: 'IDENTITY' }),
    commit: Flags.boolean({ description: 'sign commits (commit.gpgsign=true)', default: true, allowNo: true }),
    tag: Flags.boolean({ description: 'sign tags (tag.gpgsign=true)', default: true, allowNo: true }),
    undo: Flags.boolean({ description: 'restore the values that were there before gitseal init' }),
    'dry-run': Flags.boolean({ description: 'show what would change without writing anything' }),
  };

  async run(): Promise<{ scope: ConfigScope; undoFile: string; dryRun: boolean; changes: InitChange[]; signers?: SignersChange; program: ProgramChoice }> {
    const { flags } = await this.parse(Init);
    const g: GitEnv = { cwd: this.cwd, env: this.env };
    const gitDir = findGitDir(g);
    const scope: ConfigScope = flags.global ? 'global' : 'local';
    if (scope === 'local' && !gitDir) {
      throw new GitsealError('USAGE', 'not inside a git repository: run this in one, or use --global to configure every repository');
    }
    const undoFile = scope === 'global' ? join(userConfigDir(this.env), 'init-undo.json') : join(gitDir!, 'gitseal-init.json');
    const dryRun = flags['dry-run'];
    let signer = flags.signer !== undefined ? { identity: flags.signer, issuer: flags.issuer ?? '' } : undefined;
    if (signer === undefined && !flags.undo && !dryRun && !this.jsonEnabled() && process.stdin.isTTY && process.stdout.isTTY && !configGetEffective('gitseal.allowedSignersFile', g)) {
      signer = await askSigner({ defaultIdentity: configGetEffective('user.email', g)?.value, input: process.stdin, output: process.stdout });
      if (!signer) this.say(out.dim('No signer policy written; later: gitseal init --signer <identity> --issuer <URL>'));
    }
    const signers: { change?: SignersChange } = {};
    const program = chooseProgram(this.env);
    const changes = flags.undo
      ? this.undo(scope, undoFile, g, dryRun, signers)
      : this.apply(scope, undoFile, g, dryRun, { ...flags, issuer: signer ? undefined : flags.issuer }, program.value, signer, signers);
    this.render(scope, undoFile, dryRun, flags.undo, changes, () => signers.change && this.renderSigners(scope, signers.change));
    if (!flags.undo && program.warning) this.note(`${err.yellow('warning:')} ${program.warning}`);
    else if (!flags.undo && program.note) this.note(`${err.dim('note:')} ${program.note}`);
    return { scope, undoFile, dryRun, changes, ...(signers.change ? { signers: signers.change } : {}), program };
  }

  private renderSigners(scope: ConfigScope, c: SignersChange): void {
    const what = {
      created: `created with ${c.line}`,
      added: `${c.line} added`,
      unchanged: `already allows ${c.line}`,
      restored: 'put back as it was',
      removed: 'removed',
      kept: 'kept (changed since init)',
    }[c.status];
    this.say(`Allowed signers: ${c.path} ${what}`);
    if ((c.status === 'created' || c.status === 'added') && scope === 'local') {
      this.say(`Commit it so everyone verifies alike: git add ${c.path} && git commit -m "Who may sign"`);
    }
    this.say('');
  }

  private apply(
    scope: ConfigScope,
    undoFile: string,
    g: GitEnv,
    dryRun: boolean,
    flags: { commit: boolean; tag: boolean; issuer?: string },
    program: string,
    signer?: { identity: string; issuer: string },
    signers: { change?: SignersChange } = {},
  ): InitChange[] {
    if (flags.issuer !== undefined) {
      let u: URL | undefined;
      try {
        u = new URL(flags.issuer);
      } catch {
        u = undefined;
      }
      if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:')) throw new GitsealError('USAGE', `--issuer must be an http(s) URL, got "${flags.issuer}"`);
    }
    const wanted: Array<[string, string]> = [
      ['gpg.format', 'x509'],
      ['gpg.x509.program', program],
    ];
    if (flags.commit) wanted.push(['commit.gpgsign', 'true']);
    if (flags.tag) wanted.push(['tag.gpgsign', 'true']);
    if (flags.issuer) wanted.push(['gitseal.issuer', flags.issuer]);
    // Checked before anything is written: a bad --signer changes nothing.
    const line = signer ? signerLine(signer.identity, signer.issuer) : undefined;
    const target = line
      ? signersTarget({
          scope,
          topLevel: workTreeTop(g.cwd, g.env),
          configDir: userConfigDir(this.env),
          current: configGet('gitseal.allowedSignersFile', scope, g),
          home: homeDir(this.env),
        })
      : undefined;
    if (target) wanted.push(['gitseal.allowedSignersFile', target.configValue]);

    const record = readUndo(undoFile) ?? { version: 1 as const, scope, createdAt: new Date().toISOString(), changes: [] };
    const changes: InitChange[] = [];
    for (const [key, value] of wanted) {
      const before = configGet(key, scope, g) ?? null;
      const known = record.changes.find((c) => c.key === key);
      // keep the value from before the *first* init, so undo returns to the pre-gitseal state
      if (known) known.value = value;
      else if (before !== value) record.changes.push({ key, previous: before, value });
      if (before === value) {
        changes.push({ key, before, after: value, status: 'unchanged' });
        continue;
      }
      if (!dryRun) configSet(key, value, scope, g);
      changes.push({ key, before, after: value, status: 'set' });
    }
    if (line && target) {
      const known = record.signersFile?.path === target.path ? record.signersFile : undefined;
      const r = addSigner(target.path, line, known, dryRun);
      signers.change = r.change;
      if (r.record) record.signersFile = r.record;
    }
    if (!dryRun && (record.changes.length > 0 || record.signersFile)) writePrivateFile(undoFile, JSON.stringify(record, null, 2) + '\n', { privateDir: scope === 'global' });
    return changes;
  }

  private undo(scope: ConfigScope, undoFile: string, g: GitEnv, dryRun: boolean, signers: { change?: SignersChange } = {}): InitChange[] {
    const record = readUndo(undoFile);
    if (!record) throw new GitsealError('USAGE', `nothing to undo: no ${undoFile} (was "gitseal init${scope === 'global' ? ' --global' : ''}" run here?)`);
    if (record.signersFile) signers.change = undoSigners(record.signersFile, dryRun);
    const changes: InitChange[] = [];
    for (const c of [...record.changes].reverse()) {
      const current = configGet(c.key, scope, g) ?? null;
      if (current !== c.value) {
        // the user changed it since init: theirs now, not ours to revert
        changes.push({ key: c.key, before: current, after: current, status: 'kept' });
        continue;
      }
      if (!dryRun) {
        if (c.previous === null) configUnset(c.key, scope, g);
        else configSet(c.key, c.previous, scope, g);
      }
      changes.push({ key: c.key, before: current, after: c.previous, status: c.previous === null ? 'unset' : 'restored' });
    }
    if (!dryRun) rmSync(undoFile, { force: true });
    return changes.reverse();
  }

  private render(scope: ConfigScope, undoFile: string, dryRun: boolean, undo: boolean, changes: InitChange[], more?: () => void): void {
    const where = scope === 'global' ? 'your global git config (~/.gitconfig)' : "this repository's .git/config";
    const show = (v: string | null) => (v === null ? out.dim('(unset)') : v);
    const verb = dryRun ? 'would change' : undo ? 'restored' : 'configured';
    this.say(`${out.bold('gitseal init')}: ${verb} ${where}${dryRun ? ' (dry run, nothing written)' : ''}`);
    this.say('');
    const rows = changes.map((c) => {
      const what = {
        set: out.green('set'),
        unchanged: out.dim('already set'),
        restored: out.green('restored'),
        unset: out.green('unset'),
        kept: out.yellow('kept (changed since init)'),
      }[c.status];
      return ['  ' + c.key, show(c.before), '→', show(c.after), what];
    });
    this.say(table([['  key', 'before', '', 'after', ''].map((h) => out.dim(h)), ...rows]));
    this.say('');
    more?.();
    if (undo) {
      this.say('git no longer signs with gitseal here (unless configured at another level: see "git config --show-origin gpg.format").');
    } else {
      const flag = scope === 'global' ? ' --global' : '';
      this.say(`Undo with:  gitseal init --undo${flag}   ${out.dim(`(previous values saved in ${undoFile})`)}`);
      this.say('Check with: gitseal doctor');
    }
  }
}

function readUndo(path: string): UndoRecord | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as UndoRecord;
    if (r.version !== 1 || !Array.isArray(r.changes)) throw new Error('bad shape');
    const f = r.signersFile;
    if (f !== undefined && (typeof f !== 'object' || f === null || typeof f.path !== 'string' || typeof f.value !== 'string' || (f.previous !== null && typeof f.previous !== 'string'))) {
      throw new Error('bad shape');
    }
    return r;
  } catch {
    throw new GitsealError('CONFIG', `${path} is damaged; fix or delete it (it holds the values from before gitseal init)`);
  }
}
