/** One unit of parallel hunting: a shard of one configuration's batches, explored in a worker thread. */
import { exploreConfiguration, type Exploration, type Shard } from './hunt.ts';
import { loadHuntInput, type InputSpec } from './input.ts';
import type { HuntOptions } from './model.ts';

export interface HuntTask {
  readonly input: InputSpec;
  /** Index into the input's configurations. */
  readonly configuration: number;
  readonly shard: Shard | null;
  readonly options: HuntOptions;
}

export function huntTask(task: HuntTask): Exploration {
  const input = loadHuntInput(task.input);
  return exploreConfiguration(input.configurations[task.configuration]!, task.options, task.shard);
}

export default huntTask;
