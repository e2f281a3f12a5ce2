import { defineConfig } from 'vitest/config';

// Tests mirror src/ (STYLE.md §5.5). TF.js tests are CPU-bound on a 2-core machine, so files run
// in forked processes (each gets its own TF.js engine) with at most two at a time.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
