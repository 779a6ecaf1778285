/**
 * Joint-space RRT-Connect (Kuffner & LaValle 2000): two trees, one rooted at the start and
 * one at the goal, grown alternately towards random samples, each new node followed by a
 * greedy "connect" of the other tree. Bounded by iterations, nodes and wall time; seeded,
 * so a query repeats exactly (for a deterministic checker) when it does not hit the clock.
 *
 * Joint vectors are in group order, rad. Step sizes are Euclidean in joint space; edge
 * checks use the max-abs joint step of {@link SegmentChecker}.
 */
import type { ArmCollisionChecker, ArmLimits, CollisionHit } from "../contracts.ts";
import { seededRandom } from "../random.ts";
import {
  assertJointVector,
  findLimitBreach,
  PlannerInputError,
  type LimitBreach,
} from "./joint-space.ts";
import { SegmentChecker } from "./segment-checker.ts";

/** Why a query failed. Stable strings: callers and clients switch on them. */
export const RrtFailure = {
  StartInCollision: "start_in_collision",
  GoalInCollision: "goal_in_collision",
  StartOutOfLimits: "start_out_of_limits",
  GoalOutOfLimits: "goal_out_of_limits",
  Timeout: "timeout",
  IterationsExhausted: "iterations_exhausted",
} as const;
export type RrtFailure = (typeof RrtFailure)[keyof typeof RrtFailure];

export interface RrtConnectOptions {
  /** Wall-clock budget, ms (default 1000). */
  timeoutMs?: number;
  /** Sampling rounds (default 20 000). */
  maxIterations?: number;
  /** Nodes per tree, bounding memory (default 50 000). */
  maxNodes?: number;
  /**
   * Longest tree edge, rad (Euclidean). Default: 0.15 × the diagonal of the joint box, as
   * OMPL does; long edges are cheap here because edges are checked lazily-ordered.
   */
  extendStep?: number;
  /** Largest joint step between collision-checked configurations on an edge, rad (default 0.03). */
  resolution?: number;
  /** Accept start/goal up to this far outside the position limits, rad (default 1e-6). */
  limitTolerance?: number;
  /** Seed for the default PRNG (default 1). Ignored when `random` is given. */
  seed?: number;
  /** Source of randomness in [0, 1). */
  random?: () => number;
  /** Shared checker (to share the query counter with later stages); built when absent. */
  segmentChecker?: SegmentChecker;
}

/** Work done by one query. */
export interface RrtStats {
  iterations: number;
  startTreeNodes: number;
  goalTreeNodes: number;
  /** Collision queries made by this call. */
  collisionChecks: number;
  elapsedMs: number;
  /** True when the straight segment start → goal was free (no tree was grown). */
  direct: boolean;
}

export type RrtResult =
  | {
      readonly ok: true;
      /** start, …, goal (rad); consecutive waypoints are collision-free segments. */
      readonly waypoints: Float64Array[];
      readonly stats: RrtStats;
    }
  | {
      readonly ok: false;
      readonly reason: typeof RrtFailure.StartInCollision | typeof RrtFailure.GoalInCollision;
      readonly hit: CollisionHit;
      readonly stats: RrtStats;
    }
  | {
      readonly ok: false;
      readonly reason: typeof RrtFailure.StartOutOfLimits | typeof RrtFailure.GoalOutOfLimits;
      readonly breach: LimitBreach;
      readonly stats: RrtStats;
    }
  | { readonly ok: false; readonly reason: typeof RrtFailure.Timeout; readonly stats: RrtStats }
  | {
      readonly ok: false;
      readonly reason: typeof RrtFailure.IterationsExhausted;
      /** Which bound ran out. */
      readonly limit: "iterations" | "nodes";
      readonly stats: RrtStats;
    };

/** One tree: nodes in a flat array (node i at `[i*dof, (i+1)*dof)`) and parent indices. */
class Tree {
  nodes: Float64Array;
  parents: Int32Array;
  size = 0;

  constructor(
    readonly dof: number,
    readonly maxNodes: number,
    root: ArrayLike<number>,
  ) {
    const cap = Math.min(maxNodes, 256);
    this.nodes = new Float64Array(cap * dof);
    this.parents = new Int32Array(cap);
    this.add(root, -1);
  }

  /** Appends a node; returns its index, or -1 when the tree is full. */
  add(q: ArrayLike<number>, parent: number): number {
    if (this.size >= this.maxNodes) return -1;
    if (this.size === this.parents.length) {
      const cap = Math.min(this.maxNodes, this.parents.length * 2);
      const nodes = new Float64Array(cap * this.dof);
      nodes.set(this.nodes);
      const parents = new Int32Array(cap);
      parents.set(this.parents);
      this.nodes = nodes;
      this.parents = parents;
    }
    const i = this.size;
    const off = i * this.dof;
    for (let j = 0; j < this.dof; j++) this.nodes[off + j] = q[j] as number;
    this.parents[i] = parent;
    this.size += 1;
    return i;
  }

  /**
   * Index of the node nearest `q` (Euclidean). A linear scan with partial-distance early
   * exit: for the few thousand nodes a query grows, it beats a k-d tree's rebuild costs.
   */
  nearest(q: ArrayLike<number>): number {
    const dof = this.dof;
    const nodes = this.nodes;
    let best = Infinity;
    let bestI = 0;
    for (let i = 0, off = 0; i < this.size; i++, off += dof) {
      let s = 0;
      for (let j = 0; j < dof; j++) {
        const d = (nodes[off + j] as number) - (q[j] as number);
        s += d * d;
        if (s >= best) break;
      }
      if (s < best) {
        best = s;
        bestI = i;
      }
    }
    return bestI;
  }

  node(i: number): Float64Array {
    return this.nodes.subarray(i * this.dof, (i + 1) * this.dof);
  }

  /** Copies of the nodes from `i` up to the root, `i` first. */
  chain(i: number): Float64Array[] {
    const out: Float64Array[] = [];
    for (let k = i; k >= 0; k = this.parents[k] as number) out.push(this.node(k).slice());
    return out;
  }
}

const Grow = { Trapped: 0, Advanced: 1, Reached: 2, Full: 3 } as const;
type Grow = (typeof Grow)[keyof typeof Grow];

/**
 * Plans a collision-free joint-space path from `start` to `goal`.
 * @param start joint positions, rad, group order
 * @param goal joint positions, rad, group order
 * @throws PlannerInputError for vectors of the wrong length, NaN, or bad options
 */
export function rrtConnect(
  start: ArrayLike<number>,
  goal: ArrayLike<number>,
  checker: ArmCollisionChecker,
  limits: Pick<ArmLimits, "lower" | "upper" | "jointNames">,
  options: RrtConnectOptions = {},
): RrtResult {
  const t0 = performance.now();
  const dof = limits.lower.length;
  assertJointVector("start", start, dof);
  assertJointVector("goal", goal, dof);
  const timeoutMs = options.timeoutMs ?? 1000;
  const maxIterations = options.maxIterations ?? 20_000;
  const maxNodes = options.maxNodes ?? 50_000;
  const resolution = options.resolution ?? 0.03;
  const tolerance = options.limitTolerance ?? 1e-6;
  if (!(timeoutMs >= 0) || !(maxIterations >= 0) || !(maxNodes >= 2) || !(tolerance >= 0)) {
    throw new PlannerInputError("rrtConnect: budgets must be non-negative (maxNodes ≥ 2)");
  }
  let diag2 = 0;
  for (let j = 0; j < dof; j++) {
    const r = (limits.upper[j] as number) - (limits.lower[j] as number);
    diag2 += r * r;
  }
  const step = options.extendStep ?? Math.max(0.15 * Math.sqrt(diag2), resolution);
  if (!(step > 0 && Number.isFinite(step))) {
    throw new PlannerInputError(`rrtConnect: extendStep must be positive, got ${step}`);
  }
  const segments = options.segmentChecker ?? new SegmentChecker(checker, dof, resolution);
  const checks0 = segments.checks;
  const random = options.random ?? seededRandom(options.seed ?? 1);
  const deadline = t0 + timeoutMs;

  let startTree: Tree | undefined;
  let goalTree: Tree | undefined;
  let iterations = 0;
  let direct = false;
  const stats = (): RrtStats => ({
    iterations,
    startTreeNodes: startTree?.size ?? 0,
    goalTreeNodes: goalTree?.size ?? 0,
    collisionChecks: segments.checks - checks0,
    elapsedMs: performance.now() - t0,
    direct,
  });

  const startBreach = findLimitBreach(start, limits, tolerance);
  if (startBreach)
    return { ok: false, reason: "start_out_of_limits", breach: startBreach, stats: stats() };
  const goalBreach = findLimitBreach(goal, limits, tolerance);
  if (goalBreach)
    return { ok: false, reason: "goal_out_of_limits", breach: goalBreach, stats: stats() };
  const startHit = segments.checkPoint(start);
  if (startHit) return { ok: false, reason: "start_in_collision", hit: startHit, stats: stats() };
  const goalHit = segments.checkPoint(goal);
  if (goalHit) return { ok: false, reason: "goal_in_collision", hit: goalHit, stats: stats() };

  // Most queries in an uncluttered cell are solved by the straight segment.
  if (segments.segmentFree(start, goal)) {
    direct = true;
    return {
      ok: true,
      waypoints: [Float64Array.from(start), Float64Array.from(goal)],
      stats: stats(),
    };
  }

  startTree = new Tree(dof, maxNodes, start);
  goalTree = new Tree(dof, maxNodes, goal);
  const sample = new Float64Array(dof);
  const target = new Float64Array(dof);
  const lower = limits.lower;
  const upper = limits.upper;

  /** Adds one edge of at most `step` from node `from` towards `to` (rad). */
  const growFrom = (
    tree: Tree,
    from: number,
    to: ArrayLike<number>,
  ): { grow: Grow; node: number } => {
    const near = tree.node(from);
    let d2 = 0;
    for (let j = 0; j < dof; j++) {
      const d = (to[j] as number) - (near[j] as number);
      d2 += d * d;
    }
    const d = Math.sqrt(d2);
    const reach = d <= step;
    const s = reach ? 1 : step / d;
    for (let j = 0; j < dof; j++) {
      const x = near[j] as number;
      target[j] = reach ? (to[j] as number) : x + ((to[j] as number) - x) * s;
    }
    if (!segments.segmentFree(near, target)) return { grow: Grow.Trapped, node: from };
    const node = tree.add(target, from);
    if (node < 0) return { grow: Grow.Full, node: from };
    return { grow: reach ? Grow.Reached : Grow.Advanced, node };
  };

  let ta = startTree;
  let tb = goalTree;
  while (iterations < maxIterations) {
    if (performance.now() > deadline) return { ok: false, reason: "timeout", stats: stats() };
    iterations += 1;
    for (let j = 0; j < dof; j++) {
      const lo = lower[j] as number;
      sample[j] = lo + ((upper[j] as number) - lo) * random();
    }
    const ext = growFrom(ta, ta.nearest(sample), sample);
    if (ext.grow === Grow.Full) {
      return { ok: false, reason: "iterations_exhausted", limit: "nodes", stats: stats() };
    }
    if (ext.grow !== Grow.Trapped) {
      // Greedy connect: keep stepping the other tree from its node nearest the new node.
      const qNew = ta.node(ext.node);
      let con = { grow: Grow.Advanced as Grow, node: tb.nearest(qNew) };
      while (con.grow === Grow.Advanced) {
        if (performance.now() > deadline) return { ok: false, reason: "timeout", stats: stats() };
        con = growFrom(tb, con.node, qNew);
      }
      if (con.grow === Grow.Full) {
        return { ok: false, reason: "iterations_exhausted", limit: "nodes", stats: stats() };
      }
      if (con.grow === Grow.Reached) {
        // qNew is in both trees (tb's last node is an exact copy); keep it once.
        const fromA = ta.chain(ext.node).reverse();
        const toB = tb.chain(con.node).slice(1);
        const waypoints = fromA.concat(toB);
        if (ta !== startTree) waypoints.reverse();
        return { ok: true, waypoints, stats: stats() };
      }
    }
    const swap = ta;
    ta = tb;
    tb = swap;
  }
  return { ok: false, reason: "iterations_exhausted", limit: "iterations", stats: stats() };
}
