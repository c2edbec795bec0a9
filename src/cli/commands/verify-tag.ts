import { Args } from '@oclif/core';
import { argsAsTyped, insecureFlags, outputFlags, policyFlags, VerifyBase } from './verify.js';

export default class VerifyTag extends VerifyBase {
  static override summary = 'Verify the signature of an annotated tag';
  static override description = `Like "gitseal verify", for annotated tags (the signature is in the tag object; lightweight tags carry none). Exits 1 if the signature or the policy fails.

POLICY: without identity flags, the repository's git policy applies (gitseal.allowedSignersFile, gitseal.matchCommitter). Regular expressions must match the whole value.`;
  static override examples = [
    { command: '<%= config.bin %> verify-tag v1.2.0', description: 'With the repository policy' },
    { command: '<%= config.bin %> verify-tag v1.2.0 --certificate-identity release@example.com --certificate-oidc-issuer https://accounts.google.com', description: 'A release signed by a known identity' },
    { command: '<%= config.bin %> verify-tag v1.2.0 --json', description: 'Machine-readable (schema: gitseal help json, "verify")' },
  ];
  static override enableJsonFlag = true;
  static override strict = false;
  static override args = {
    tags: Args.string({ description: 'annotated tag name(s)', required: true, ignoreStdin: true }),
  };
  static override flags = { ...policyFlags, ...insecureFlags, ...outputFlags };

  async run(): Promise<undefined> {
    const { raw, flags } = await this.parse(VerifyTag);
    // refs/tags/<name> first so a branch of the same name cannot stand in for the tag
    const revs = argsAsTyped(raw).map((t) => (t.startsWith('refs/') || /^[0-9a-f]{40,64}$/.test(t) ? t : `refs/tags/${t}`));
    return this.verifyRevs(revs, flags, 'tag');
  }
}
