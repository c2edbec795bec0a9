/**
 * Command ids and one-line summaries, without loading oclif or any command:
 * the overview help, topic listings and "did you mean" run from this alone,
 * so `gitseal`, `gitseal --help` and typos start as fast as bare node.
 * test/cli/catalog.test.ts keeps it equal to the command classes.
 */
export const CATALOG: Record<string, string> = {
  init: 'Configure git to sign commits and tags with gitseal',
  initialize: 'Refresh the Sigstore trusted root from TUF',
  doctor: 'Check the setup and say how to fix each problem',
  version: 'Show the version, runtime and the configuration in effect',
  login: 'Log in to the OpenID issuer now and cache the identity token',
  logout: 'Forget cached logins (keyring entries and cache files)',
  whoami: 'Show the cached identity and how long it stays valid',
  verify: 'Verify the signatures of commits (one, several, or a range)',
  'verify-tag': 'Verify the signature of an annotated tag',
  show: "Show a commit's or tag's signature: certificate, identity, log entry",
  'agent:start': 'Start the signing agent (if it is not running)',
  'agent:stop': 'Stop the signing agent (its keys are forgotten)',
  'agent:status': 'Show whether the agent runs and which identities it holds',
  completion: 'Print a shell completion script (bash, zsh, fish)',
};
