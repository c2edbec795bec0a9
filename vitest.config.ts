import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Integration tests start real services and the real git binary; two cores.
    pool: 'forks',
    maxWorkers: 2,
  },
});
