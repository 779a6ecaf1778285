/**
 * State of the bench's bare room (see bare-room.ts): the least a shared twin sends — seven
 * stamped joints and every headset's head pose. Shared by the bare server and the bench's
 * SDK latency samplers, which decode it. Poses reuse the twin's `PoseState` (same encoding,
 * `world` frame, metres and a unit quaternion).
 */
import { schema, type SchemaType } from "@colyseus/schema";
import { PoseState } from "../../shared/schema/twin-state.ts";

export const BareJoint = schema(
  {
    /** rad */
    position: { type: "float32", default: 0 },
    /** rad/s */
    velocity: { type: "float32", default: 0 },
  },
  "BareJoint",
);
export type BareJoint = SchemaType<typeof BareJoint>;

export const BareRobot = schema(
  {
    joints: { array: BareJoint },
    /** When the joints were sampled, ms since the Unix epoch (wall clock, as the twin's). */
    stamp: { type: "float64", default: 0 },
  },
  "BareRobot",
);
export type BareRobot = SchemaType<typeof BareRobot>;

export const BareState = schema(
  {
    robot: BareRobot,
    /** Head pose per session id, `world` frame. */
    heads: { map: PoseState },
  },
  "BareState",
);
export type BareState = SchemaType<typeof BareState>;

/** Joints of the bare arm (a 7-DOF arm, as the twin's). */
export const BARE_JOINTS = 7;
