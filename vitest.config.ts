import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['model/**/*.test.ts', 'properties/**/*.test.ts', 'cli/**/*.test.ts'],
    setupFiles: ['properties/setup.ts'],
    pool: 'forks',
    // Every core (vitest's default leaves one idle), and the model's modules
    // loaded once per worker rather than once per test file: no test relies
    // on fresh module state (the fast-check seed is set again per file).
    maxWorkers: availableParallelism(),
    isolate: false,
    testTimeout: 120_000,
    coverage: {
      provider: 'v8',
      include: ['model/**/*.ts', 'properties/**/*.ts', 'cli/**/*.ts'],
      exclude: ['**/*.test.ts', 'properties/setup.ts', 'cli/fixtures/**'],
      reporter: ['text-summary', 'json-summary'],
      thresholds: {
        'model/**/*.ts': { lines: 90 },
        'properties/invariants/**/*.ts': { lines: 90 },
      },
    },
  },
});
