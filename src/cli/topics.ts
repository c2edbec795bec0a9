/**
 * `gitseal help <topic>`: the documentation that ships in the package (README.md and docs/*.md,
 * package.json `files`), printed from the installed copy, so help never points at a file a user
 * does not have. Topic names must not be command names: `gitseal help <command>` is the
 * command's help (test/cli/help.test.ts checks both, and that every file is in the package).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GitsealError } from '../errors.js';

export interface DocTopic {
  name: string;
  /** Relative to the package root. */
  file: string;
  /** A heading of `file` ("## Configuration"): the topic is that section alone. */
  section?: string;
  summary: string;
}

export const TOPICS: DocTopic[] = [
  { name: 'guide', file: 'README.md', summary: 'the whole guide: set-up, verifying, logging in, the agent, CI, configuration' },
  { name: 'configuration', file: 'README.md', section: '## Configuration', summary: 'every git config key and environment variable, and their precedence' },
  { name: 'ci', file: 'README.md', section: '## Teams and CI', summary: 'signing and verifying in GitHub Actions and GitLab CI; the pre-receive hook' },
  { name: 'library', file: 'README.md', section: '### Library', summary: 'the Node.js API, isomorphic-git included' },
  { name: 'trust', file: 'docs/trust.md', summary: 'trusted roots, private Sigstore instances, TUF' },
  { name: 'cli', file: 'docs/cli.md', summary: 'every command in detail' },
  { name: 'json', file: 'docs/json-schema.md', summary: 'the --json output of each command' },
  { name: 'security', file: 'docs/security.md', summary: 'what a good verdict means, and what is not protected' },
  { name: 'reliability', file: 'docs/reliability.md', summary: 'what happens when Fulcio, Rekor or the OpenID provider fail' },
  { name: 'architecture', file: 'docs/architecture.md', summary: 'module map and contracts, for contributors' },
];

export function findTopic(name: string): DocTopic | undefined {
  return TOPICS.find((t) => t.name === name);
}

/** The lines of `text` under `heading`, up to the next heading of the same or a higher level. */
export function markdownSection(text: string, heading: string): string | undefined {
  const level = /^#+/.exec(heading)![0].length;
  const lines = text.split('\n');
  let inFence = false;
  let start = -1;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (/^(```|~~~)/.test(l)) inFence = !inFence;
    if (inFence) continue;
    const m = /^(#+)\s/.exec(l);
    if (start === -1) {
      if (l.trimEnd() === heading) start = i;
    } else if (m && m[1]!.length <= level) {
      return lines.slice(start, i).join('\n').trimEnd() + '\n';
    }
  }
  return start === -1 ? undefined : lines.slice(start).join('\n').trimEnd() + '\n';
}

/**
 * The text of a topic, read from the package at `root` (or with `read`: the single-file
 * executable carries the files, src/sea/embedded.ts).
 */
export function readTopic(root: string, topic: DocTopic, read: (file: string) => string = (f) => readFileSync(join(root, f), 'utf8')): string {
  let text: string;
  try {
    text = read(topic.file);
  } catch (e) {
    throw new GitsealError('INTERNAL', `the documentation file ${topic.file} is missing from this installation (${root}): reinstall gitseal`, e);
  }
  if (!topic.section) return text;
  const s = markdownSection(text, topic.section);
  if (s === undefined) throw new GitsealError('INTERNAL', `${topic.file} has no section "${topic.section}"`);
  return s;
}
