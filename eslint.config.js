// Lint: typescript-eslint recommended, plus the determinism rule of DESIGN.md §1:
// simulation code takes time and randomness only from the kernel and its seeded RNG.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nondeterminism = [
  { object: 'Math', property: 'random', message: 'Use the seeded RNG from src/sim/rng.ts (same seed => same trace).' },
  { object: 'Date', property: 'now', message: 'Simulated time comes from the kernel clock; wall-clock time belongs to src/cli only.' },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'coverage/**', 'dist/**', 'out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Plain Node scripts (the bin shim, the build): Node's globals.
    files: ['bin/**/*.js', 'scripts/**/*.mjs', 'src/**/*.js'],
    languageOptions: { globals: { process: 'readonly', URL: 'readonly', console: 'readonly', Buffer: 'readonly' } },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: { 'no-restricted-properties': ['error', ...nondeterminism] },
  },
);
