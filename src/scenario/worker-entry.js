// Worker-thread entry for `tlplab run --jobs N` when tlplab runs from its
// TypeScript sources (tests, `npm run dev`). Node 20 does not apply the
// parent's module hooks to worker threads, so the worker registers tsx
// itself. The built CLI (dist/) loads dist/scenario/worker.js directly.
import { register } from 'tsx/esm/api';

register();
const { runBatch } = await import('./worker.ts');
export default runBatch;
