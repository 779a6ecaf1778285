/**
 * Fault modes of the simulated cell, so that tests (and anyone trying a client against it)
 * can reproduce what a real rosbridge does when things go wrong:
 *
 * - **freeze** — a rosbridge process that stopped (SIGSTOP, a hung Python thread) without
 *   closing its sockets: nothing is read from or written to any client (websocket pings go
 *   unanswered), new connections hang in the handshake, and the arm's controller keeps
 *   running whatever trajectory it had, as a real controller behind a hung rosbridge does.
 *   `thaw` resumes reading, so frames sent meanwhile are handled then (as the kernel's
 *   socket buffer would deliver them).
 * - **dropJointStates** — `/joint_states` stops (a dead driver or `joint_state_broadcaster`)
 *   while the rosbridge itself keeps answering.
 * - **goalAcceptDelayMs** — an action goal is accepted only after this delay (ROS 1
 *   rosbridge loads action message classes lazily: the first goal after a start took about
 *   0.5 s to reach the controller).
 * - **quirks `rosbridge-0.11`** (ROS 1 only) — the behaviour of rosbridge_suite 0.11.17:
 *   a CBOR subscription to a message with a `string[]` field sends nothing (the server logs
 *   `AttributeError: 'str' object has no attribute '__slots__'` for every message), and a
 *   ROS 2 type string (`sensor_msgs/msg/JointState`) is refused with `… is not a valid type
 *   string`.
 * - **authSecret** — rosbridge started with `authenticate:=true` and rosauth's
 *   `ros_mac_authentication` node holding this secret: the first frame of a client must be
 *   an `auth` op whose MAC verifies, else the connection is closed.
 */
import { AUTH_ALLOWED_TIME_DELTA_S, type AuthOp, rosauthMac } from "../../shared/rosauth.ts";

export type SimCellQuirks = "none" | "rosbridge-0.11";

/** Faults switched at run time (test-only controls of {@link SimCell}). */
export interface SimCellFaults {
  frozen: boolean;
  dropJointStates: boolean;
  /** ms; 0 = goals are accepted at once. */
  goalAcceptDelayMs: number;
}

export function noFaults(): SimCellFaults {
  return { frozen: false, dropJointStates: false, goalAcceptDelayMs: 0 };
}

/** Message types (of what the cell publishes) that carry a `string[]` field. */
const STRING_ARRAY_TYPES = [
  /(^|\/)JointState$/,
  /FollowJointTrajectoryActionFeedback$/,
  /FollowJointTrajectoryFeedback$/,
];

/** True when rosbridge 0.11 cannot CBOR-encode a message of this type (a `string[]` field). */
export function cborFailsOn(type: string): boolean {
  return STRING_ARRAY_TYPES.some((re) => re.test(type));
}

/** A ROS 2 spelling (`pkg/msg/Type`, `pkg/srv/Type`, `pkg/action/Type`). */
export function isRos2TypeString(type: string): boolean {
  return /^[^/]+\/(msg|srv|action)\/[^/]+$/.test(type);
}

/**
 * What rosauth's `authenticate` service answers: the MAC matches and the request time is
 * within {@link AUTH_ALLOWED_TIME_DELTA_S} of now and its end is in the future.
 */
export function verifyAuth(secret: string, raw: unknown, nowS: number): boolean {
  if (typeof raw !== "object" || raw === null) return false;
  const a = raw as Partial<AuthOp>;
  if (a.op !== "auth") return false;
  const strings = [a.mac, a.client, a.dest, a.rand, a.level];
  if (!strings.every((s) => typeof s === "string")) return false;
  if (typeof a.t !== "number" || typeof a.end !== "number") return false;
  if (!(Math.abs(nowS - a.t) < AUTH_ALLOWED_TIME_DELTA_S && a.end > nowS)) return false;
  return rosauthMac(secret, a as AuthOp) === a.mac;
}
