/**
 * Collision checks of straight joint-space segments at a fixed resolution, shared by the
 * RRT, the shortcutter and the planner so they all sample segments the same way (a segment
 * accepted by one is accepted by the others) and count their queries in one place.
 */
import type { ArmCollisionChecker, CollisionHit } from "../contracts.ts";
import { PlannerInputError } from "./joint-space.ts";

/** A collision found on a segment. */
export interface SegmentHit {
  readonly hit: CollisionHit;
  /** Where along the segment, 0 (start) … 1 (end). */
  readonly fraction: number;
}

/**
 * Checks configurations and straight segments against an {@link ArmCollisionChecker}.
 * A segment `a → b` is split into `n = ceil(maxAbs(b - a) / resolution)` equal steps and
 * every step end is checked, so no joint moves more than `resolution` rad between two
 * checked configurations. The start `a` is assumed already checked (it is a tree node or a
 * waypoint), which halves the work along a chain of segments.
 */
export class SegmentChecker {
  /** Collision queries made so far. */
  checks = 0;
  readonly #checker: ArmCollisionChecker;
  readonly #q: Float64Array;
  readonly #resolution: number;

  /**
   * @param dof joints in the group
   * @param resolution largest joint step between checked configurations, rad (> 0)
   */
  constructor(checker: ArmCollisionChecker, dof: number, resolution: number) {
    if (!(resolution > 0 && Number.isFinite(resolution))) {
      throw new PlannerInputError(`resolution must be a positive number of rad, got ${resolution}`);
    }
    this.#checker = checker;
    this.#q = new Float64Array(dof);
    this.#resolution = resolution;
  }

  /** Largest joint step between checked configurations, rad. */
  get resolution(): number {
    return this.#resolution;
  }

  /** Checks one configuration (rad). */
  checkPoint(q: ArrayLike<number>): CollisionHit | null {
    this.checks += 1;
    return this.#checker.checkArm(q);
  }

  /** Number of steps a segment is split into (≥ 1). */
  steps(a: ArrayLike<number>, b: ArrayLike<number>): number {
    let m = 0;
    for (let j = 0; j < this.#q.length; j++) {
      const d = Math.abs((b[j] as number) - (a[j] as number));
      if (d > m) m = d;
    }
    return Math.max(1, Math.ceil(m / this.#resolution - 1e-9));
  }

  /**
   * True when every step end of `a → b` (excluding `a`, including `b`) is collision-free.
   * The end is checked first (new territory is the likeliest to collide), then the inner
   * points in bisection order, so a blocked segment is usually rejected after few queries.
   */
  segmentFree(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
    return this.firstHit(a, b, false) === null;
  }

  /**
   * A collision on `a → b` (excluding `a`, including `b`), or null.
   * @param inOrder when true the step ends are tested from `a` towards `b`, so the hit
   *   returned is the one nearest `a` (slower on blocked segments, used for diagnostics)
   */
  firstHit(a: ArrayLike<number>, b: ArrayLike<number>, inOrder = false): SegmentHit | null {
    const n = this.steps(a, b);
    if (inOrder) {
      for (let i = 1; i <= n; i++) {
        const h = this.#at(a, b, i / n);
        if (h !== null) return { hit: h, fraction: i / n };
      }
      return null;
    }
    const end = this.#at(a, b, 1);
    if (end !== null) return { hit: end, fraction: 1 };
    // Every i in 1..n-1 is visited once: at the level of its largest power-of-two divisor.
    let stride = 1;
    while (stride * 2 < n) stride *= 2;
    for (; stride >= 1; stride >>= 1) {
      for (let i = stride; i < n; i += 2 * stride) {
        const h = this.#at(a, b, i / n);
        if (h !== null) return { hit: h, fraction: i / n };
      }
    }
    return null;
  }

  #at(a: ArrayLike<number>, b: ArrayLike<number>, s: number): CollisionHit | null {
    const q = this.#q;
    for (let j = 0; j < q.length; j++) {
      const x = a[j] as number;
      q[j] = s === 1 ? (b[j] as number) : x + ((b[j] as number) - x) * s;
    }
    this.checks += 1;
    return this.#checker.checkArm(q);
  }
}
