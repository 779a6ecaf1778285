/**
 * The public face of the simulation core for programs beside the server — the simulated
 * robot cell (`ros/sim-cell`) reaches kinematics, planning, the arm controller and the twin
 * world only through this module, so the core's file layout can change without touching it.
 */
export {
  type ArmCollisionChecker,
  type ArmLimits,
  type CollisionHit,
  describeHit,
} from "./contracts.ts";
export type { ArmKinematics } from "./kinematics.ts";
export { composePoses } from "./math.ts";
export {
  MotionPlanner,
  PlanFailure,
  type PlannerGoal,
  type PlanOptions,
  type PlanRequest,
  type PlanResult,
} from "./motion-planner.ts";
export { maxAbsDiff, PlannerInputError } from "./planner/joint-space.ts";
export { seededRandom } from "./random.ts";
export { loadRobotDescription, type RobotDescription } from "./robot-description.ts";
export { SimulatedArm, type TrajectoryOutcome } from "./simulated-arm.ts";
export { newSample, sampleTrajectory, type TrajectorySample } from "./trajectory-sample.ts";
export type { JointTrajectory, TrajectoryPoint } from "./trajectory.ts";
export { createTwinWorld } from "./world.ts";
