/**
 * The directory of tlplab's package.json, found by walking up from this
 * module: the same answer from the TypeScript sources (src/), the bundled
 * CLI (dist/, whose chunks sit at another depth) and an installed copy.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate) && (JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === 'tlplab') return (root = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`tlplab's package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** Whether this code runs from the TypeScript sources (tests, tsx) rather than the built dist/. */
export const fromSources = import.meta.url.endsWith('.ts');
