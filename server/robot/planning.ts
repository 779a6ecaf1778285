/**
 * Where plans come from: the twin's own planner (RRT-Connect on the twin, which knows the
 * virtual objects) or the cell's MoveIt (`plan_kinematic_path`, which knows only the real
 * cell). Either way the trajectory is then replayed in the twin before anyone may approve
 * it, so a MoveIt plan through a virtual second arm is refused with the reason.
 */
import type { MotionPlanner, PlanOptions, PlanRequest } from "../sim/motion-planner.ts";
import type { JointTrajectory } from "../sim/trajectory.ts";

export type PlanOutcome =
  | { readonly ok: true; readonly trajectory: JointTrajectory }
  | { readonly ok: false; readonly message: string };

/** A source of time-parameterised joint trajectories (joint goals in rad, pose goals in `base_link`). */
export interface PlannerBackend {
  /** `twin` or `moveit`: recorded with each plan. */
  readonly name: string;
  plan(request: PlanRequest, options: PlanOptions): Promise<PlanOutcome>;
}

/** The twin's planner behind the async interface (it runs synchronously on this thread). */
export function twinPlanner(planner: MotionPlanner): PlannerBackend {
  return {
    name: "twin",
    plan: (request, options) => {
      const r = planner.plan(request, options);
      return Promise.resolve(
        r.ok ? { ok: true, trajectory: r.trajectory } : { ok: false, message: r.message },
      );
    },
  };
}
