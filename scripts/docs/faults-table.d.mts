// Types of faults-table.mjs for test/reliability/faults.test.ts.
export interface FaultOutcome {
  group: string;
  name: string;
  setup: string;
  expected: 'fail' | 'succeed';
  exit: number | null;
  line: string;
  requests?: number;
}
export const BEGIN: string;
export const END: string;
export function normalize(line: string): string;
export function renderFaultsTable(outcomes: FaultOutcome[]): string;
export function currentTable(doc: string): string | undefined;
export function withTable(doc: string, table: string): string;
