import { Args, Flags } from '@oclif/core';
import { GitsealCommand } from '../base.js';
import { readNamedObject, remoteUrl, requireRepo } from '../objects.js';
import { fields, out, printJson } from '../output.js';
import { gitsignStatement, goJson } from '../in-toto.js';
import { signatureInfo, type SignatureInfo } from '../signature-info.js';
import { terminalSafe, terminalSafeJson } from '../../util/terminal-text.js';

export default class Show extends GitsealCommand {
  static override summary = "Show a commit's or tag's signature: certificate, identity, log entry";
  static override description = `Prints what the signature of <rev> (default HEAD) claims: who signed (certificate identity and OpenID issuer), when the certificate was valid, CI claims for workload identities, the embedded certificate timestamps (SCT) and the Rekor log entry embedded in the signature.

Nothing is verified here: use "gitseal verify" for that.

--format=in-toto prints exactly what "gitsign show" prints: an in-toto Statement v1 for the commit (predicate type https://gitsign.sigstore.dev/predicate/git/v0.1) or annotated tag (…/predicate/tag/v0.1), with the URL of --remote as the subject name, so "gitsign show | jq" pipelines keep working.`;

  static override examples = [
    { command: '<%= config.bin %> show', description: 'The signature on HEAD' },
    { command: '<%= config.bin %> show v1.2.0', description: 'The signature on an annotated tag' },
    { command: '<%= config.bin %> show HEAD~3 --json', description: 'Machine-readable (schema: gitseal help json, "show")' },
    { command: '<%= config.bin %> show --format=in-toto > statement.json', description: "gitsign's in-toto statement" },
  ];

  static override enableJsonFlag = true;

  static override args = {
    // ignoreStdin: not a piped stdin's text in place of the default (see verify.ts).
    rev: Args.string({ description: 'commit or annotated tag (default HEAD)', default: 'HEAD', ignoreStdin: true }),
  };

  static override flags = {
    format: Flags.string({ description: 'output format', options: ['text', 'json', 'in-toto'], default: 'text' }),
    remote: Flags.string({ char: 'r', description: 'remote whose URL names the in-toto subject', default: 'origin' }),
  };

  async run(): Promise<SignatureInfo | undefined> {
    const { args, flags } = await this.parse(Show);
    const repo = requireRepo(this.cwd);
    const obj = await readNamedObject(repo, args.rev);
    if (flags.format === 'in-toto') {
      // gitsign's bytes; C1 and format characters (only an attacker's object has them) become \u escapes
      process.stdout.write(terminalSafeJson(goJson(gitsignStatement(obj.oid, obj.type, obj.raw, remoteUrl(repo, flags.remote)))));
      return undefined;
    }
    const info = signatureInfo(obj.oid, obj.parsed);
    if (flags.format === 'json' && !this.jsonEnabled()) {
      printJson(info);
      return undefined;
    }
    if (!this.jsonEnabled()) this.render(args.rev, info);
    return info;
  }

  private render(rev: string, s: SignatureInfo): void {
    this.say(`${out.bold(s.type)} ${s.oid}${rev !== s.oid ? out.dim(` (${terminalSafe(rev)})`) : ''}`);
    if (!s.signed) {
      this.say(out.yellow('not signed'));
      return;
    }
    const c = s.certificate;
    this.say('');
    this.say(out.bold('Certificate'));
    if (!c) {
      this.say(out.red('  the signature does not include its signer certificate'));
    } else {
      const mins = Math.round((Date.parse(c.notAfter) - Date.parse(c.notBefore)) / 60000);
      this.say(
        fields(
          [
            // Everything here comes from an unverified signature: escaped for the terminal.
            ['Identity', c.identity !== null ? terminalSafe(c.identity) : out.red('(none)')],
            ['OIDC issuer', c.oidcIssuer !== null ? terminalSafe(c.oidcIssuer) : out.red('(none)')],
            ['Valid', `${c.notBefore} → ${c.notAfter} (${mins} min)`],
            ['Issued by', terminalSafe(c.issuer)],
            ['Serial', c.serial],
            ['Fingerprint', `${c.fingerprintSha1} (SHA-1, the key id git shows)`],
            ['Code signing', c.codeSigning ? 'yes' : out.red('no')],
          ],
          '  ',
        ),
      );
      const claims = Object.entries(c.claims);
      if (claims.length) {
        this.say('  Claims:');
        this.say(fields(claims.map(([k, v]) => [terminalSafe(k), terminalSafe(v)]), '    '));
      }
      for (const sct of c.scts) this.say(`  SCT:          log ${sct.logId.slice(0, 16)}… at ${sct.timestamp}`);
      if (c.scts.length === 0) this.say(`  SCT:          ${out.yellow('none embedded')}`);
    }
    this.say('');
    this.say(out.bold('Transparency log'));
    if (s.tlog) {
      const p = s.tlog.inclusionProof;
      this.say(
        fields(
          [
            ['Log index', s.tlog.logIndex],
            ['Integrated', s.tlog.integratedTime ?? '(none: Rekor v2 entry, time from a timestamp)'],
            ['Log ID', s.tlog.logId],
            ['Entry kind', terminalSafe(s.tlog.kind)],
            ['Promise', s.tlog.hasSignedEntryTimestamp ? 'signed entry timestamp present' : 'none'],
            ['Proof', p ? `inclusion at ${p.logIndex} of ${p.treeSize} (${p.hashes} hashes)${p.checkpoint ? ', signed checkpoint' : ''}` : 'none'],
          ],
          '  ',
        ),
      );
    } else {
      this.say('  ' + out.yellow('no log entry embedded') + ' (gitsign online mode: the proof lives only in Rekor)');
    }
    this.say('');
    this.say(
      fields([
        ['Signed at', s.signingTime ? `${s.signingTime} (signer's clock, not trusted)` : undefined],
        ['Content', s.messageDigestMatches === null ? undefined : s.messageDigestMatches ? 'digest matches the object' : out.red('digest does NOT match the object')],
        ['Timestamp', s.timestamped ? 'RFC 3161 timestamp present' : undefined],
      ]),
    );
    const cmd = rev === 'HEAD' ? 'gitseal verify' : `gitseal verify ${terminalSafe(rev)}`;
    this.say(out.dim(`Not verified: run "${cmd}" to check it.`));
  }
}
