/** Collects positioned diagnostics during the semantic pass, with helpers for units and references. */
import { tryParseBdf } from '../pcie/bdf.ts';
import { parseDuration } from '../sim/time.ts';
import { didYouMean, type Diagnostic } from './diagnostics.ts';
import type { Path } from './source.ts';
import { quantityProblem, readQuantity, readRequestAddress } from './units.ts';
import type { Locate } from './validate.ts';

export class Checker {
  readonly diagnostics: Diagnostic[] = [];

  constructor(private readonly locate: Locate) {}

  get failed(): boolean {
    return this.diagnostics.length > 0;
  }

  error(path: Path, message: string, code: string, key = false): void {
    this.diagnostics.push(this.locate(path, message, code, key));
  }

  /** A byte count or address, read exactly (units.ts); reports and returns 0 when malformed, past 64 bits or not exact. */
  quantity(value: unknown, path: Path, what: string): number {
    const n = readQuantity(value);
    if (!n.ok) {
      this.error(path, `${what} '${String(value)}' ${quantityProblem(n)}`, n.reason === 'malformed' ? 'bad-quantity' : n.reason === 'over-64-bit' ? 'address-over-64-bit' : 'address-not-exact');
      return 0;
    }
    return n.value;
  }

  /** A device's request address: any 64-bit value, exact (units.ts readRequestAddress). */
  requestAddress(value: unknown, path: Path, what: string): { readonly address: number; readonly exact: string | null } {
    const n = readRequestAddress(value);
    if (!n.ok) {
      this.error(path, `${what} '${String(value)}' ${quantityProblem(n)}`, n.reason === 'malformed' ? 'bad-quantity' : 'address-over-64-bit');
      return { address: 0, exact: null };
    }
    return { address: n.value, exact: n.exact };
  }

  /** A duration in ns; reports and returns 0 when malformed. */
  duration(value: unknown, path: Path, what: string): number {
    const n = typeof value === 'number' || typeof value === 'string' ? parseDuration(value) : undefined;
    if (n === undefined) {
      this.error(path, `${what} '${String(value)}' is not a duration (write 100ns, 1us, 2.5us or 10ms)`, 'bad-duration');
      return 0;
    }
    return n;
  }

  /** A BDF in the machine's one segment (0000); reports and returns undefined when malformed. */
  bdf(text: string, path: Path): { bus: number; device: number; fn: number } | undefined {
    const bdf = tryParseBdf(text);
    if (bdf === undefined) {
      this.error(path, `'${text}' is not a BDF (write BB:DD.F or DDDD:BB:DD.F, e.g. "03:00.0")`, 'bad-bdf');
      return undefined;
    }
    if (bdf.domain !== 0) this.error(path, `BDF '${text}' names PCI segment ${bdf.domain.toString(16)}; a scenario machine has one segment, 0000`, 'bad-bdf');
    return bdf;
  }

  /** True when `name` is among `known`; otherwise reports "unknown WHAT 'x' — did you mean 'y'?". */
  known(name: string, known: Iterable<string>, path: Path, what: string, code = `unknown-${what.replace(/ /g, '-')}`): boolean {
    const list = [...known];
    if (list.includes(name)) return true;
    this.error(path, `unknown ${what} '${name}'${didYouMean(name, list)}`, code);
    return false;
  }
}
