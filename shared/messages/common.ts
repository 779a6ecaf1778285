/**
 * Building blocks of every message contract: bounded geometry schemas and the error
 * message a server sends back when it refuses something.
 * zod 4 numbers are finite (NaN and ±Infinity fail), and every number here is also bounded
 * so a hostile client cannot push values that overflow physics or encodings.
 */
import { z } from "zod";

/** Largest coordinate accepted anywhere, m. A robot cell is a few metres across. */
export const MAX_COORD_M = 100;

/** A finite, bounded coordinate, m. */
export const Coord = z.number().min(-MAX_COORD_M).max(MAX_COORD_M);

export const Vec3Schema = z.strictObject({ x: Coord, y: Coord, z: Coord });

const unit = z.number().min(-1.01).max(1.01);

/** A quaternion whose norm is within 1 % of 1; receivers renormalise it. */
export const QuatSchema = z
  .strictObject({ x: unit, y: unit, z: unit, w: unit })
  .refine((q) => Math.abs(Math.hypot(q.x, q.y, q.z, q.w) - 1) < 0.01, {
    message: "quaternion must be unit length (|q| within 0.01 of 1)",
  });

/** A rigid pose: position (m) and unit quaternion; the frame is named by the field using it. */
export const PoseSchema = z.strictObject({ position: Vec3Schema, orientation: QuatSchema });

/** Optional client correlation id, echoed in `ack` and `error` replies. */
export const RequestId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[\w.:-]+$/, "requestId: letters, digits and . _ : - only");

/** Object and plan ids: short, printable, safe in URLs and logs. */
export const Id = z
  .string()
  .min(1)
  .max(48)
  .regex(/^[\w.-]+$/, "id: letters, digits and . _ - only");

/** Why the server refused a message. Stable strings: clients switch on them. */
export const ErrorCode = {
  /** Payload failed its schema (wrong shape, NaN, out of range, too many items). */
  InvalidMessage: "invalid_message",
  /** No handler for this message type. */
  UnknownType: "unknown_type",
  /** Payload larger than the per-message limit. */
  PayloadTooLarge: "payload_too_large",
  /** Client exceeded its message rate. */
  RateLimited: "rate_limited",
  /** The room or the user already has as much agent work pending as allowed; try later. */
  Busy: "busy",
  /** The client's role does not allow this. */
  Forbidden: "forbidden",
  /** Referenced object/plan does not exist. */
  NotFound: "not_found",
  /** The command conflicts with the current state (arm busy, plan not validated, ...). */
  Conflict: "conflict",
  /** A joint or pose target lies outside the arm's limits or reach. */
  OutOfRange: "out_of_range",
  /** The motion would hit the arm itself or an object in the twin. */
  Collision: "collision",
  /** The planner or the twin refused the motion (collision, unreachable, timeout). */
  PlanFailed: "plan_failed",
  /** The robot cell is not reachable. */
  LinkDown: "link_down",
  /**
   * The robot cell's link is open but its joint states stopped arriving (older than
   * `LINK_STALE_MS`): the twin cannot show where the arm is, so it may not move it.
   */
  LinkStale: "link_stale",
  /** Unexpected server fault; the room keeps running. */
  Internal: "internal",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Server → client `error` message. */
export interface ErrorMessage {
  code: ErrorCode;
  /** Human-readable explanation, safe to show an operator. */
  message: string;
  /** The client message type that caused it, when known. */
  type?: string;
  requestId?: string;
}

/** Server → client `ack` message for an accepted command. */
export interface AckMessage {
  type: string;
  requestId?: string;
  /** Id of what the command created (plan id, object id), when it created something. */
  id?: string;
  /** What happened, for people (e.g. the agents' answer to an utterance). */
  summary?: string;
}

/** Renders zod issues as one short line per issue, for an `error` message. */
export function describeIssues(error: z.ZodError, maxIssues = 3): string {
  const lines = error.issues.slice(0, maxIssues).map((i) => {
    const path = i.path.length ? i.path.join(".") : "(root)";
    return `${path}: ${i.message}`;
  });
  const more = error.issues.length - maxIssues;
  return more > 0 ? `${lines.join("; ")}; and ${more} more` : lines.join("; ");
}
