/**
 * How finely the twin room's state follows its session: a field is assigned (and costs patch
 * bytes) only when its value moved by more than these display epsilons. The room's state sync
 * (`server/rooms/twin-state-sync.ts`) and the generated `twin_state` traces
 * (`server/ml/datasets/twin-state-traces.ts`) read the same numbers.
 */

/** Joint position, rad. */
export const EPS_RAD = 1e-5;
/** Joint velocity, rad/s. */
export const EPS_RAD_S = 1e-4;
/** Lengths (positions, gripper opening), m: 0.05 mm. */
export const EPS_M = 5e-5;
/** Quaternion components. */
export const EPS_QUAT = 1e-5;

/** Max waypoints in a plan preview sent to clients (the full trajectory is on REST). */
export const PREVIEW_POINTS = 32;
