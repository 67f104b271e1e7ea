// Worker-thread entry for `tlplab hunt --jobs N` (as src/scenario/worker-entry.js
// for run): Node 20 does not apply the parent's module hooks to worker
// threads, so the worker registers tsx itself before loading the task module.
import { register } from 'tsx/esm/api';

register();
const { huntTask } = await import('./worker.ts');
export default huntTask;
