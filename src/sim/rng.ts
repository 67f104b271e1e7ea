/**
 * The only source of randomness in the simulation (DESIGN.md §1): a seeded
 * generator, so the same inputs and seed give the same trace.
 */
import seedrandom from 'seedrandom';

export class Rng {
  private generator: seedrandom.PRNG | undefined;

  constructor(readonly seed: number | string) {}

  /** Keyed on first use: most runs never draw a number, and ARC4's key schedule is not free. */
  private get prng(): seedrandom.PRNG {
    return (this.generator ??= seedrandom(String(this.seed)));
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.prng.quick();
  }

  /** Uniform integer in [0, bound). */
  int(bound: number): number {
    if (!Number.isSafeInteger(bound) || bound <= 0) throw new RangeError(`bound must be a positive integer, got ${bound}`);
    return Math.floor(this.prng.quick() * bound);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('cannot pick from an empty list');
    return items[this.int(items.length)]!;
  }

  /** A child generator whose stream depends only on this seed and `name`. */
  fork(name: string): Rng {
    return new Rng(`${this.seed}/${name}`);
  }
}
