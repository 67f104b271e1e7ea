/**
 * Trace sink. Emitters guard with `if (trace.enabled)`, so a disabled trace
 * costs one boolean check per call site and builds no record. Records get
 * consecutive ids, which verdicts cite as evidence. The event vocabulary is
 * the caller's (a discriminated union on `type`); the kernel adds none.
 */

export interface TraceEvent {
  readonly type: string;
}

export type TraceRecord<E extends TraceEvent> = E & { readonly id: number; readonly time: number };

export type TraceListener<E extends TraceEvent> = (record: TraceRecord<E>) => void;

export class Trace<E extends TraceEvent> {
  enabled: boolean;
  private readonly log: TraceRecord<E>[] = [];
  private readonly listeners: TraceListener<E>[] = [];

  constructor(
    private readonly clock: { readonly now: number },
    options: { enabled?: boolean } = {},
  ) {
    this.enabled = options.enabled ?? false;
  }

  /** Records `event` at the current time and returns its id (call only when enabled). */
  emit(event: E): number {
    const record = { ...event, id: this.log.length + 1, time: this.clock.now } as TraceRecord<E>;
    this.log.push(record);
    for (const listener of this.listeners) listener(record);
    return record.id;
  }

  get records(): readonly TraceRecord<E>[] {
    return this.log;
  }

  get(id: number): TraceRecord<E> | undefined {
    return this.log[id - 1];
  }

  subscribe(listener: TraceListener<E>): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }
}
