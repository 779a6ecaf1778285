/**
 * Client → server messages of the `digital_twin` room. One zod schema per message type;
 * the room validates once at the boundary and hands the domain a {@link TwinCommand}, a
 * discriminated union on `type`. Poses are in the `world` frame (z up) unless noted.
 *
 * Array lengths are bounded here (at most {@link MAX_JOINTS}); the domain then checks them
 * against the arm's actual joint count and limits.
 */
import { z } from "zod";
import { Id, PoseSchema, RequestId, Vec3Schema } from "./common.ts";

/** Upper bound on joint vectors in any message (the arm has 7). */
export const MAX_JOINTS = 16;

/** A joint value (rad or m); bounded to ±4π so nothing absurd reaches the controller. */
const JointValue = z
  .number()
  .min(-4 * Math.PI)
  .max(4 * Math.PI);
const JointVector = z.array(JointValue).min(1).max(MAX_JOINTS);

const base = { requestId: RequestId.optional() };

/** Head and controller poses of an operator's headset, `world` frame, at headset rate. */
export const PoseMessage = z.strictObject({
  head: PoseSchema,
  left: PoseSchema.optional(),
  right: PoseSchema.optional(),
});

/**
 * Jog: velocity command held for `deadmanMs` (or the server default); resend it faster
 * than that to keep moving (a dead-man switch). Joint velocities in rad/s; Cartesian twist
 * of the tool in the `base_link` frame (m/s and rad/s).
 */
export const JogMessage = z.discriminatedUnion("mode", [
  z.strictObject({
    ...base,
    mode: z.literal("joint"),
    joint: z
      .number()
      .int()
      .min(0)
      .max(MAX_JOINTS - 1),
    velocity: z.number().min(-10).max(10),
    deadmanMs: z.number().int().min(20).max(5000).optional(),
  }),
  z.strictObject({
    ...base,
    mode: z.literal("joints"),
    velocities: z.array(z.number().min(-10).max(10)).min(1).max(MAX_JOINTS),
    deadmanMs: z.number().int().min(20).max(5000).optional(),
  }),
  z.strictObject({
    ...base,
    mode: z.literal("cartesian"),
    linear: Vec3Schema,
    angular: Vec3Schema,
    deadmanMs: z.number().int().min(20).max(5000).optional(),
  }),
]);

/** A motion goal: a joint configuration, or a tool (TCP) pose in `world`. */
export const GoalSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("joints"), positions: JointVector }),
  z.strictObject({ kind: z.literal("pose"), pose: PoseSchema }),
  z.strictObject({ kind: z.literal("named"), name: Id }),
]);

/** Set (or clear, with `goal: null`) the shared goal marker that `plan` uses by default. */
export const GoalMessage = z.strictObject({ ...base, goal: GoalSchema.nullable() });

/** Ask for a plan to `goal` (or to the current goal marker). */
export const PlanMessage = z.strictObject({
  ...base,
  goal: GoalSchema.optional(),
  /** Fraction of the joint velocity/acceleration limits to use, 0..1. */
  velocityScale: z.number().min(0.01).max(1).optional(),
});

/** Approve a validated plan; it then executes on the robot cell. */
export const ApproveMessage = z.strictObject({ ...base, planId: Id });

/** Stop all motion now; an executing plan is aborted. */
export const StopMessage = z.strictObject({ ...base });

/** Restore the scene layout and send the arm home (only while nothing moves). */
export const ResetMessage = z.strictObject({ ...base });

const Size = z.number().min(0.005).max(3);
export const ShapeSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("box"), size: z.strictObject({ x: Size, y: Size, z: Size }) }),
  z.strictObject({ kind: z.literal("cylinder"), radius: Size, height: Size }),
  z.strictObject({ kind: z.literal("sphere"), radius: Size }),
]);

/** Add a virtual object (it exists only in the twin) at a `world` pose. */
export const AddObjectMessage = z.strictObject({
  ...base,
  id: Id.optional(),
  shape: ShapeSchema,
  pose: PoseSchema,
  /** When true the object falls under gravity; mass in kg. */
  dynamic: z.boolean().optional(),
  mass: z.number().min(0.01).max(100).optional(),
  color: z
    .string()
    .regex(/^#[0-9a-fA-F]{6}$/, "color: #rrggbb")
    .optional(),
});

export const RemoveObjectMessage = z.strictObject({ ...base, id: Id });

/**
 * Add a virtual arm of the cell's robot type (e.g. a proposed second arm on the line): its
 * base pose in `world` and a named pose (default `ready`) or joint positions, rad.
 */
export const AddArmMessage = z.strictObject({
  ...base,
  id: Id.optional(),
  base: PoseSchema,
  pose: Id.optional(),
  positions: JointVector.optional(),
});

/** Something a person said or typed, for the intent agent (≤ 500 characters). */
export const UtteranceMessage = z.strictObject({ ...base, text: z.string().min(1).max(500) });

/** Pick a virtual object up with a hand controller; it follows that hand until released. */
export const GrabMessage = z.strictObject({
  ...base,
  objectId: Id,
  hand: z.enum(["left", "right"]),
});

/** Drop whatever the given hand (or both) holds. */
export const ReleaseMessage = z.strictObject({
  ...base,
  hand: z.enum(["left", "right"]).optional(),
});

/** Every client → server message type of the twin room and its schema. */
export const TwinMessageSchemas = {
  pose: PoseMessage,
  jog: JogMessage,
  goal: GoalMessage,
  plan: PlanMessage,
  approve: ApproveMessage,
  stop: StopMessage,
  reset: ResetMessage,
  addObject: AddObjectMessage,
  removeObject: RemoveObjectMessage,
  addArm: AddArmMessage,
  utterance: UtteranceMessage,
  grab: GrabMessage,
  release: ReleaseMessage,
} as const;

export type TwinMessageType = keyof typeof TwinMessageSchemas;

/** A validated command: `{ type, body }` discriminated on `type`. */
export type TwinCommand = {
  [K in TwinMessageType]: { type: K; body: z.output<(typeof TwinMessageSchemas)[K]> };
}[TwinMessageType];

export type Goal = z.output<typeof GoalSchema>;
export type Shape = z.output<typeof ShapeSchema>;
export type JogCommand = z.output<typeof JogMessage>;
export type AddObjectCommand = z.output<typeof AddObjectMessage>;
export type AddArmCommand = z.output<typeof AddArmMessage>;
