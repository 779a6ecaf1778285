/** Seeded random numbers of the traffic generators (deterministic traces, run to run). */
import { gaussianFrom, seededRandom } from "../../sim/random.ts";

/** Seeded uniform [0, 1) plus Gaussian and exponential draws. */
export class Rng {
  readonly #u: () => number;
  readonly #normal: () => number;

  constructor(seed: number) {
    this.#u = seededRandom(seed);
    this.#normal = gaussianFrom(this.#u);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.#u();
  }

  /** Standard normal (Box–Muller; the second value of a pair is kept for the next call). */
  normal(): number {
    return this.#normal();
  }

  /** Exponential with the given mean. */
  exp(mean: number): number {
    return -mean * Math.log(Math.max(1 - this.#u(), 1e-12));
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.min(n - 1, Math.floor(this.#u() * n));
  }

  /** One of `items`, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

/** Mixes integers into one 32-bit seed (deterministic, well spread). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}
