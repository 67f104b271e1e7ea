import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'threads',
    // Whole-library and whole-process tests on a loaded 2-core CI machine: correctness, not speed, is tested.
    testTimeout: 30_000,
  },
});
