import { Args } from '@oclif/core';
import type { Command } from '@oclif/core';
import { GitsealCommand } from '../base.js';
import { bashCompletion, fishCompletion, zshCompletion, type CommandSpec } from '../completion.js';
import { commands } from './index.js';

export function commandSpecs(map: Record<string, Command.Class>): CommandSpec[] {
  return Object.entries(map).map(([id, c]) => ({
    id: id.replace(/:/g, ' '),
    summary: c.summary ?? c.description?.split('\n')[0] ?? '',
    flags: Object.entries({ ...(c.flags ?? {}), ...(c.enableJsonFlag ? { json: { type: 'boolean', description: 'print JSON' } } : {}) })
      .filter(([, f]) => !(f as { hidden?: boolean }).hidden)
      .flatMap(([name, f]) => {
        const flag = f as { type: string; char?: string; description?: string; summary?: string; options?: readonly string[]; allowNo?: boolean };
        const spec = {
          name,
          char: flag.char,
          description: flag.summary ?? flag.description ?? '',
          takesValue: flag.type === 'option',
          options: flag.options ? [...flag.options] : undefined,
        };
        return flag.allowNo ? [spec, { name: `no-${name}`, description: `not: ${spec.description}`, takesValue: false }] : [spec];
      }),
  }));
}

export default class Completion extends GitsealCommand {
  static override summary = 'Print a shell completion script (bash, zsh, fish)';
  static override description = 'The script is generated from the command list, so it always matches this version of gitseal. Revisions are completed from your branches and tags.';
  static override examples = [
    { command: '<%= config.bin %> completion bash > ~/.local/share/bash-completion/completions/gitseal', description: 'bash' },
    { command: '<%= config.bin %> completion zsh > "${fpath[1]}/_gitseal"', description: 'zsh (restart the shell afterwards)' },
    { command: '<%= config.bin %> completion fish > ~/.config/fish/completions/gitseal.fish', description: 'fish' },
    { command: 'source <(<%= config.bin %> completion bash)', description: 'try it in the current bash session' },
  ];
  static override args = {
    shell: Args.string({ description: 'which shell', required: true, options: ['bash', 'zsh', 'fish'], ignoreStdin: true }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(Completion);
    const specs = commandSpecs(commands);
    const script = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion }[args.shell as 'bash' | 'zsh' | 'fish'](specs);
    process.stdout.write(script);
  }
}
