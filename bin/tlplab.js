#!/usr/bin/env node
// Runs the compiled CLI (dist/, built from src/ by `npm run build`, which
// `npm install` and `npm ci` run through the `prepare` script). Development
// without a build: `npm run dev -- <command>` runs the sources through tsx.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/tlplab.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('tlplab: the compiled CLI (dist/) is missing: run `npm run build` (npm install does it) or `npm run dev -- <command>`\n');
  process.exitCode = 3;
} else {
  if (process.env.TLPLAB_DEBUG) process.setSourceMapsEnabled(true);
  await import(entry.href);
}
