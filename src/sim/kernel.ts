/**
 * The discrete-event kernel: an integer-nanosecond clock and a queue of
 * events ordered (time, priority, rank, sequence). Modelled on SimPy's
 * Environment{now, schedule, step, run}; it knows nothing of PCIe.
 */
import { EventQueue, MAX_PRIORITY, MAX_RANK } from './queue.ts';

/** Something that receives events. `name` identifies it in errors and traces. */
export interface EventHandler<P = unknown> {
  readonly name: string;
  handle(payload: P, kernel: Kernel): void;
}

/**
 * Named priorities for events at the same instant (lower runs first).
 * Control changes (a host unmapping a page) land before traffic that
 * arrives at the same nanosecond, and timers (flush-queue drains) after it.
 */
export const Priority = {
  Control: 0,
  Normal: 10,
  Timer: 20,
} as const;

/** Thrown when a handler fails: names the event and the simulated time. */
export class SimulationError extends Error {
  readonly code = 'SIM_HANDLER_FAILED';
  constructor(
    readonly eventName: string,
    readonly time: number,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`event '${eventName}' at t=${time}ns failed: ${reason}`, { cause });
    this.name = 'SimulationError';
  }
}

export class Kernel {
  private readonly queue = new EventQueue<EventHandler<never>, unknown>();
  private clock = 0;
  private handled = 0;

  /** Current simulated time in integer nanoseconds. */
  get now(): number {
    return this.clock;
  }

  /** Events handled so far. */
  get eventsHandled(): number {
    return this.handled;
  }

  /** Events waiting in the queue. */
  get pending(): number {
    return this.queue.size;
  }

  /**
   * Schedules `handler.handle(payload)` after `delay` ns (an integer ≥ 0).
   * Among events at the same time and priority, lower `rank` (0..63) runs
   * first, then insertion order: a caller's arbitration between sources.
   */
  schedule<P>(delay: number, handler: EventHandler<P>, payload: P, priority: number = Priority.Normal, rank = 0): void {
    if (!Number.isSafeInteger(delay) || delay < 0) {
      throw new RangeError(`delay must be a non-negative integer of ns, got ${delay}`);
    }
    if (!Number.isInteger(priority) || priority < 0 || priority > MAX_PRIORITY) {
      throw new RangeError(`priority must be an integer in 0..${MAX_PRIORITY}, got ${priority}`);
    }
    if (!Number.isInteger(rank) || rank < 0 || rank > MAX_RANK) throw new RangeError(`rank must be an integer in 0..${MAX_RANK}, got ${rank}`);
    this.queue.push(this.clock + delay, priority, handler as EventHandler<never>, payload, rank);
  }

  /** Schedules at an absolute time, which must not lie in the past. */
  scheduleAt<P>(time: number, handler: EventHandler<P>, payload: P, priority: number = Priority.Normal): void {
    if (time < this.clock) throw new RangeError(`cannot schedule at t=${time}ns, the clock is at ${this.clock}ns`);
    this.schedule(time - this.clock, handler, payload, priority);
  }

  /** Handles the next event; false when the queue is empty. */
  step(): boolean {
    if (this.queue.size === 0) return false;
    this.dispatch();
    this.handled++;
    return true;
  }

  /**
   * Handles every event with time ≤ `until` (default: until the queue is
   * empty) and returns how many were handled. The clock ends at `until`
   * when it is finite, else at the last event's time.
   */
  run(until: number = Infinity): number {
    const queue = this.queue;
    let handled = 0;
    while (queue.size > 0 && queue.peekTime() <= until) {
      this.dispatch();
      handled++;
    }
    if (until !== Infinity && until > this.clock) this.clock = until;
    this.handled += handled;
    return handled;
  }

  private dispatch(): void {
    const queue = this.queue;
    queue.pop();
    const handler = queue.poppedHandler as EventHandler<unknown>;
    this.clock = queue.poppedTime;
    try {
      handler.handle(queue.poppedPayload, this);
    } catch (error) {
      if (error instanceof SimulationError) throw error;
      throw new SimulationError(eventName(handler, queue.poppedPayload), this.clock, error);
    }
  }
}

/** "handler" or "handler: payload label" when the payload describes itself. */
function eventName(handler: EventHandler<unknown>, payload: unknown): string {
  if (typeof payload === 'object' && payload !== null && 'label' in payload) {
    const label = (payload as { label: unknown }).label;
    if (typeof label === 'string') return `${handler.name}: ${label}`;
  }
  return handler.name;
}
