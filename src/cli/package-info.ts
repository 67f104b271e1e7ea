/** The package's own facts, read from its package.json. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-root.ts';

let cached: { readonly name: string; readonly version: string } | undefined;

export function packageInfo(): { readonly name: string; readonly version: string } {
  cached ??= JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { name: string; version: string };
  return cached;
}
