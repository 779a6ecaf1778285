/**
 * The simulated-mode motion planner: goal → (IK for pose goals) → RRT-Connect in joint
 * space → shortcut smoothing → time parameterisation within the joint velocity and
 * acceleration limits → replay of the timed motion in the twin. Where a blended corner
 * would touch something, the arm is made to stop exactly at that waypoint and the motion
 * is timed again, so the result is always a motion the replay accepted.
 *
 * Frames: pose goals in `base_link`; joints in group order, rad.
 */
import type { Pose } from "../../shared/geometry.ts";
import { type ArmCollisionChecker, describeHit } from "./contracts.ts";
import type { ArmKinematics } from "./kinematics.ts";
import { pathLength, PlannerInputError } from "./planner/joint-space.ts";
import { rrtConnect, type RrtResult } from "./planner/rrt-connect.ts";
import { SegmentChecker } from "./planner/segment-checker.ts";
import { shortcutPath } from "./planner/shortcut.ts";
import { seededRandom } from "./random.ts";
import { type JointTrajectory, timeParameterize } from "./trajectory.ts";
import { validateTrajectory } from "./trajectory-validation.ts";

/** A goal in joint space (rad) or a tool pose in `base_link`. */
export type PlannerGoal =
  | { readonly kind: "joints"; readonly positions: ArrayLike<number> }
  | { readonly kind: "pose"; readonly pose: Pose };

export interface PlanRequest {
  /** Start configuration, rad (normally the measured arm). */
  readonly start: ArrayLike<number>;
  readonly goal: PlannerGoal;
}

export interface PlanOptions {
  /** Wall-clock budget for the whole query, ms. */
  timeoutMs: number;
  /** Fractions of the joint velocity / acceleration limits, (0, 1]. */
  velocityScale: number;
  accelerationScale: number;
  /** PRNG seed (default: fixed, so a query repeats exactly). */
  seed?: number;
}

/** Stable failure codes, for clients and metrics. */
export const PlanFailure = {
  GoalUnreachable: "goal_unreachable",
  GoalInCollision: "goal_in_collision",
  StartInCollision: "start_in_collision",
  OutOfLimits: "out_of_limits",
  Timeout: "timeout",
  NoPath: "no_path",
  ValidationFailed: "validation_failed",
} as const;
export type PlanFailure = (typeof PlanFailure)[keyof typeof PlanFailure];

/** Where the time of one query went, ms, and how much work it did. */
export interface PlanStats {
  ikMs: number;
  searchMs: number;
  smoothMs: number;
  timingMs: number;
  validateMs: number;
  collisionChecks: number;
  /** Waypoints after smoothing. */
  waypoints: number;
  /** Joint-space length after smoothing, rad. */
  pathLength: number;
  /** True when the straight segment start → goal was free. */
  direct: boolean;
}

export type PlanResult =
  | {
      readonly ok: true;
      readonly trajectory: JointTrajectory;
      /** The joint goal reached (the IK solution for pose goals), rad. */
      readonly goal: Float64Array;
      readonly stats: PlanStats;
    }
  | {
      readonly ok: false;
      readonly reason: PlanFailure;
      readonly message: string;
      readonly stats: PlanStats;
    };

export interface MotionPlannerOptions {
  /** Largest joint step between collision checks on path segments, rad (default 0.015). */
  resolution?: number;
  /** Random shortcut attempts (default 150). */
  shortcutIterations?: number;
}

/** Searches per query when the replay rejects a found path. */
const SEARCH_ATTEMPTS = 3;
/** Wall time for random shortcutting, ms: most of the gain comes in the first few ms. */
const SHORTCUT_BUDGET_MS = 20;

export class MotionPlanner {
  readonly #kin: ArmKinematics;
  readonly #checker: ArmCollisionChecker;
  readonly #resolution: number;
  readonly #shortcutIterations: number;

  constructor(
    kin: ArmKinematics,
    checker: ArmCollisionChecker,
    options: MotionPlannerOptions = {},
  ) {
    this.#kin = kin;
    this.#checker = checker;
    this.#resolution = options.resolution ?? 0.015;
    this.#shortcutIterations = options.shortcutIterations ?? 150;
  }

  /**
   * Plans a collision-free, time-parameterised motion.
   * @throws PlannerInputError (planner/joint-space.ts) for malformed input (wrong vector length, NaN, bad options)
   */
  plan(request: PlanRequest, options: PlanOptions): PlanResult {
    const t0 = performance.now();
    const deadline = t0 + options.timeoutMs;
    const kin = this.#kin;
    if (!(options.timeoutMs > 0))
      throw new PlannerInputError(`timeoutMs must be positive, got ${options.timeoutMs}`);
    const stats: PlanStats = {
      ikMs: 0,
      searchMs: 0,
      smoothMs: 0,
      timingMs: 0,
      validateMs: 0,
      collisionChecks: 0,
      waypoints: 0,
      pathLength: 0,
      direct: false,
    };
    const fail = (reason: PlanFailure, message: string): PlanResult => ({
      ok: false,
      reason,
      message,
      stats,
    });
    const segments = new SegmentChecker(this.#checker, kin.dof, this.#resolution);
    const random = seededRandom(options.seed ?? 1);

    let goal: Float64Array;
    if (request.goal.kind === "pose") {
      const ik = kin.ik(request.goal.pose, request.start, {
        restarts: 16,
        random,
        accept: (q) => segments.checkPoint(q) === null,
      });
      stats.ikMs = performance.now() - t0;
      if (!ik.ok) {
        return fail(
          PlanFailure.GoalUnreachable,
          ik.positionError <= 1e-3
            ? "every IK solution for the goal pose is in collision"
            : `goal pose is out of reach (closest ${(ik.positionError * 1000).toFixed(1)} mm away)`,
        );
      }
      goal = ik.q;
    } else {
      goal = Float64Array.from(request.goal.positions);
    }

    // A straight piece can graze an obstacle between the checks of the search and those of
    // the replay (they sample different points); such a path is searched again.
    let last: PlanResult = fail(PlanFailure.Timeout, "no time left to search");
    for (let attempt = 0; attempt < SEARCH_ATTEMPTS && performance.now() < deadline; attempt++) {
      last = this.#searchAndTime(request.start, goal, options, deadline, segments, random, stats);
      if (last.ok || last.reason !== PlanFailure.ValidationFailed) return last;
    }
    return last;
  }

  #searchAndTime(
    start: ArrayLike<number>,
    goal: Float64Array,
    options: PlanOptions,
    deadline: number,
    segments: SegmentChecker,
    random: () => number,
    stats: PlanStats,
  ): PlanResult {
    const kin = this.#kin;
    const fail = (reason: PlanFailure, message: string): PlanResult => ({
      ok: false,
      reason,
      message,
      stats,
    });
    const tSearch = performance.now();
    const rrt = rrtConnect(start, goal, this.#checker, kin, {
      timeoutMs: Math.max(0, deadline - tSearch),
      resolution: this.#resolution,
      random,
      segmentChecker: segments,
    });
    stats.searchMs += performance.now() - tSearch;
    stats.collisionChecks = segments.checks;
    if (!rrt.ok) return fail(...describeRrtFailure(rrt));
    stats.direct = rrt.stats.direct;

    const tSmooth = performance.now();
    const smooth = shortcutPath(rrt.waypoints, segments, {
      iterations: rrt.stats.direct ? 0 : this.#shortcutIterations,
      timeoutMs: Math.max(2, Math.min(SHORTCUT_BUDGET_MS, deadline - tSmooth)),
      random,
    });
    stats.smoothMs += performance.now() - tSmooth;
    stats.waypoints = smooth.path.length;
    stats.pathLength = pathLength(smooth.path);

    // Time it with blends; stop exactly at any waypoint whose blend touches something.
    const stopAt: number[] = [];
    for (let attempt = 0; attempt <= smooth.path.length; attempt++) {
      const tTiming = performance.now();
      const blend = attempt < smooth.path.length;
      const timed = timeParameterize(smooth.path, kin, {
        velocityScale: options.velocityScale,
        accelerationScale: options.accelerationScale,
        blend,
        stopAt,
      });
      const tValidate = performance.now();
      stats.timingMs += tValidate - tTiming;
      const check = validateTrajectory(timed.trajectory, this.#checker, kin);
      stats.validateMs += performance.now() - tValidate;
      stats.collisionChecks = segments.checks + check.checks;
      if (check.ok) return { ok: true, trajectory: timed.trajectory, goal, stats };
      const corner = timed.waypoints.find(
        (w) => !w.stops && w.start <= check.time && check.time <= w.end,
      );
      if (!blend || corner === undefined) {
        return fail(
          PlanFailure.ValidationFailed,
          `replay of the timed motion failed: ${check.message}`,
        );
      }
      stopAt.push(corner.waypoint);
    }
    return fail(PlanFailure.ValidationFailed, "replay of the timed motion failed");
  }
}

function describeRrtFailure(r: Extract<RrtResult, { ok: false }>): [PlanFailure, string] {
  switch (r.reason) {
    case "start_in_collision":
      return [PlanFailure.StartInCollision, `start is in collision: ${describeHit(r.hit)}`];
    case "goal_in_collision":
      return [PlanFailure.GoalInCollision, `goal is in collision: ${describeHit(r.hit)}`];
    case "start_out_of_limits":
    case "goal_out_of_limits": {
      const b = r.breach;
      const which = r.reason === "start_out_of_limits" ? "start" : "goal";
      return [
        PlanFailure.OutOfLimits,
        `${which}: ${b.jointName} = ${b.value.toFixed(4)} rad outside [${b.lower}, ${b.upper}]`,
      ];
    }
    case "timeout":
      return [
        PlanFailure.Timeout,
        `no path found within the time budget (${r.stats.iterations} iterations)`,
      ];
    case "iterations_exhausted":
      return [PlanFailure.NoPath, `no path found (${r.limit} exhausted)`];
  }
}
