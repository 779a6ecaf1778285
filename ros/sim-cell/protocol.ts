/**
 * The rosbridge v2 wire protocol as the cell speaks it
 * (https://github.com/RobotWebTools/rosbridge_suite/blob/ros2/ROSBRIDGE_PROTOCOL.md):
 * incoming ops as one zod discriminated union on `op`, validated once per frame, and the
 * outgoing ops as plain types. Message contents (`msg`, `args`) stay `unknown` here; the
 * handler of each topic, service or action validates them against its message schema.
 */
import { z } from "zod";
import { ProtocolError } from "./errors.ts";
import { describeIssues } from "../../shared/messages/common.ts";

/** An op id: rosbridge clients send strings; numbers are accepted and echoed as sent. */
const OpId = z.union([z.string().max(512), z.number()]);
export type OpId = z.output<typeof OpId>;

const Name = z.string().min(1, "must not be empty").max(256);
/** Largest fragment size a client may ask for, characters (rosbridge has no cap). */
const MAX_FRAGMENT_SIZE = 1 << 30;

export const StatusLevel = z.enum(["info", "warning", "error", "none"]);
export type StatusLevel = z.output<typeof StatusLevel>;

const Advertise = z.object({
  op: z.literal("advertise"),
  id: OpId.optional(),
  topic: Name,
  type: Name,
  latch: z.boolean().optional(),
  queue_size: z.number().int().min(0).optional(),
});
const Unadvertise = z.object({ op: z.literal("unadvertise"), id: OpId.optional(), topic: Name });
const Publish = z.object({
  op: z.literal("publish"),
  id: OpId.optional(),
  topic: Name,
  msg: z.unknown().optional(),
  latch: z.boolean().optional(),
});
const Subscribe = z.object({
  op: z.literal("subscribe"),
  id: OpId.optional(),
  topic: Name,
  type: Name.optional(),
  /** Minimum interval between messages, ms. */
  throttle_rate: z.number().min(0).max(3_600_000).optional(),
  queue_length: z.number().int().min(0).optional(),
  fragment_size: z.number().int().min(1).max(MAX_FRAGMENT_SIZE).optional(),
  compression: z.string().max(32).optional(),
});
const Unsubscribe = z.object({ op: z.literal("unsubscribe"), id: OpId.optional(), topic: Name });
const CallService = z.object({
  op: z.literal("call_service"),
  id: OpId.optional(),
  service: Name,
  type: Name.optional(),
  args: z.unknown().optional(),
  fragment_size: z.number().int().min(1).max(MAX_FRAGMENT_SIZE).optional(),
  compression: z.string().max(32).optional(),
  /** s; the cell answers every call synchronously, so it is not used. */
  timeout: z.number().optional(),
});
const SendActionGoal = z.object({
  op: z.literal("send_action_goal"),
  id: OpId,
  action: Name,
  action_type: Name,
  args: z.unknown().optional(),
  feedback: z.boolean().optional(),
  fragment_size: z.number().int().min(1).max(MAX_FRAGMENT_SIZE).optional(),
  compression: z.string().max(32).optional(),
});
const CancelActionGoal = z.object({
  op: z.literal("cancel_action_goal"),
  id: OpId,
  action: Name,
});
const SetLevel = z.object({ op: z.literal("set_level"), id: OpId.optional(), level: StatusLevel });
const Fragment = z.object({
  op: z.literal("fragment"),
  id: OpId,
  data: z.string(),
  num: z.number().int().min(0),
  total: z.number().int().min(1),
});

/** Every op the cell handles. */
export const IncomingOpSchema = z.discriminatedUnion("op", [
  Advertise,
  Unadvertise,
  Publish,
  Subscribe,
  Unsubscribe,
  CallService,
  SendActionGoal,
  CancelActionGoal,
  SetLevel,
  Fragment,
]);
export type IncomingOp = z.output<typeof IncomingOpSchema>;
export type OpName = IncomingOp["op"];
export type OpOf<K extends OpName> = Extract<IncomingOp, { op: K }>;

const HANDLED_OPS: ReadonlySet<string> = new Set<OpName>([
  "advertise",
  "unadvertise",
  "publish",
  "subscribe",
  "unsubscribe",
  "call_service",
  "send_action_goal",
  "cancel_action_goal",
  "set_level",
  "fragment",
]);

/** Rosbridge ops the cell knows but does not offer, with the reason given to the client. */
const UNSUPPORTED_OPS: Readonly<Record<string, string>> = {
  auth: "the sim cell does not require authentication",
  png: "png-compressed input is not supported",
  advertise_service: "clients cannot provide services to the sim cell",
  unadvertise_service: "clients cannot provide services to the sim cell",
  service_response: "clients cannot provide services to the sim cell",
  advertise_action: "clients cannot provide actions to the sim cell",
  unadvertise_action: "clients cannot provide actions to the sim cell",
  action_feedback: "clients cannot provide actions to the sim cell",
  action_result: "clients cannot provide actions to the sim cell",
  status: "status is sent by the server, not by clients",
};

/**
 * Validates one decoded frame as a rosbridge op.
 * @throws ProtocolError for a non-object, a missing or unknown op, or a bad field
 */
export function parseOp(raw: unknown): IncomingOp {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ProtocolError("a rosbridge message must be a JSON object");
  }
  const obj = raw as Record<string, unknown>;
  const id = typeof obj.id === "string" || typeof obj.id === "number" ? obj.id : undefined;
  if (!("op" in obj)) throw new ProtocolError("message has no op field", id);
  const op = obj.op;
  if (typeof op !== "string") throw new ProtocolError("op must be a string", id);
  if (!HANDLED_OPS.has(op)) {
    const why = UNSUPPORTED_OPS[op];
    throw new ProtocolError(why ? `op "${op}" is not supported: ${why}` : `unknown op "${op}"`, id);
  }
  const parsed = IncomingOpSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ProtocolError(`${op}: ${describeIssues(parsed.error)}`, id, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

/** Ranks of the status levels; a client sees statuses at or above its level. */
export const STATUS_RANK: Readonly<Record<StatusLevel, number>> = {
  info: 0,
  warning: 1,
  error: 2,
  none: 3,
};

// Outgoing ops.

export interface StatusMessage {
  op: "status";
  id?: OpId;
  level: Exclude<StatusLevel, "none">;
  msg: string;
}
export interface PublishMessage {
  op: "publish";
  topic: string;
  msg: unknown;
}
export type ServiceResponseMessage =
  | { op: "service_response"; id?: OpId; service: string; result: true; values: unknown }
  | { op: "service_response"; id?: OpId; service: string; result: false; values: string };
export interface ActionFeedbackMessage {
  op: "action_feedback";
  id: OpId;
  action: string;
  values: unknown;
}
export type ActionResultMessage =
  | { op: "action_result"; id: OpId; action: string; status: number; result: true; values: unknown }
  | {
      op: "action_result";
      id: OpId;
      action: string;
      status: number;
      result: false;
      values: string;
    };
export interface FragmentMessage {
  op: "fragment";
  id: string;
  data: string;
  num: number;
  total: number;
}
export type OutgoingMessage =
  | StatusMessage
  | PublishMessage
  | ServiceResponseMessage
  | ActionFeedbackMessage
  | ActionResultMessage
  | FragmentMessage;
