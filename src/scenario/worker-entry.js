// Worker-thread entry for `tlplab run --jobs N`. Node 20 does not apply the
// parent's module hooks to worker threads, so the worker registers tsx
// itself before loading the TypeScript task module.
import { register } from 'tsx/esm/api';

register();
const { runTask } = await import('./worker.ts');
export default runTask;
