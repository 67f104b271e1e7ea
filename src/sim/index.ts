export { Kernel, Priority, SimulationError, type EventHandler } from './kernel.ts';
export { EventQueue } from './queue.ts';
export { Rng } from './rng.ts';
export { Trace, type TraceEvent, type TraceRecord, type TraceListener } from './trace.ts';
export { parseDuration, formatDuration } from './time.ts';
