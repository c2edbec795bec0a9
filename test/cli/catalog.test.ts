import { describe, expect, it } from 'vitest';
import { CATALOG } from '../../src/cli/catalog.js';
import { commands } from '../../src/cli/commands/index.js';

describe('command catalog', () => {
  it('lists exactly the commands, with their summaries (the overview help uses it without loading oclif)', () => {
    expect(Object.keys(CATALOG).sort()).toEqual(Object.keys(commands).sort());
    for (const [id, c] of Object.entries(commands)) expect(CATALOG[id], id).toBe(c.summary);
  });

  it('every command has examples and a description', () => {
    for (const [id, c] of Object.entries(commands)) {
      expect(c.examples?.length ?? 0, id).toBeGreaterThan(0);
      expect((c.description ?? '').length, id).toBeGreaterThan(20);
    }
  });
});
