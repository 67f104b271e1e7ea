/** `tlplab init NAME`: a commented scenario to start from, written to NAME.yaml (never over an existing file without --force). */
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { ExitCode, UsageError } from '../exit.ts';
import type { Io } from '../io.ts';
import { scenarioTemplate } from '../scenario-template.ts';

export interface InitOptions {
  readonly name: string;
  readonly force?: boolean;
}

export function runInit(io: Io, options: InitOptions): number {
  const path = /\.ya?ml$/i.test(options.name) ? options.name : `${options.name}.yaml`;
  const name = basename(path).replace(/\.ya?ml$/i, '');
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    throw new UsageError(`init ${options.name}: a scenario name is lowercase letters, digits and dashes (e.g. my-attack), not '${name}'`);
  }
  if (existsSync(path)) {
    if (statSync(path).isDirectory()) throw new UsageError(`init ${options.name}: '${path}' is a directory`);
    if (options.force !== true) throw new UsageError(`init ${options.name}: '${path}' exists; refusing to overwrite it (pass --force to replace it)`);
  }
  io.writeFile(path, scenarioTemplate(name));
  io.out(`wrote ${path}: run it with  tlplab run ${path}  and explain a variant with  tlplab explain ${path} --variant iommu.dma-remapping=on`);
  return ExitCode.ok;
}
