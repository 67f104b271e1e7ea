// Builds the shipped CLI: src/ bundled by esbuild into dist/ — one entry
// for the command line, one for worker threads, one for the memory
// benchmark's child process, and shared chunks that commands load only
// when they run. A bundle starts in a fraction of the time Node needs to
// load the ~200 separate modules of src/ and its dependencies (figures in
// BENCHMARKS.md). Run by `npm run build`, and by `npm install` / `npm ci`
// through the `prepare` script. Type checking is `npm run typecheck`.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

const outdir = new URL('../dist/', import.meta.url).pathname;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { tlplab: 'src/cli/bin.ts', worker: 'src/scenario/worker.ts', 'memory-child': 'src/bench/memory-child.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: true,
  logLevel: 'warning',
  // tinypool starts its workers from its own files; cli-progress is loaded on demand (a terminal only).
  external: ['tinypool', 'cli-progress'],
  // Bundled CommonJS dependencies (cli-table3, seedrandom) call require().
  banner: { js: "import { createRequire as __tlplabRequire } from 'node:module'; const require = __tlplabRequire(import.meta.url);" },
});
