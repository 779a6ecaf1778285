/**
 * What the application-layer agent (aGF) can read from an utterance: the intents the product
 * acts on, as one zod discriminated union on `kind`. An intent is a request, never an
 * authorisation: the AgentController checks the speaker's role, and a `move_arm` intent only
 * ever becomes a plan that operators must approve. There is deliberately no intent that
 * changes a role or approves a plan, so no wording of an utterance can produce one.
 */
import { z } from "zod";
import { VIDEO_RUNG_NAMES } from "../../../shared/video-ladder.ts";

/** Longest utterance a model is asked to read, characters; longer ones are refused unread. */
export const MAX_UTTERANCE_CHARS = 500;

/** Longest free text of a model kept in {@link IntentResult.modelText}, characters. */
export const MAX_MODEL_TEXT_CHARS = 200;

/** Most intents one utterance may yield; further ones are dropped (in utterance order). */
export const MAX_INTENTS = 4;

/** The video resolution ladder of the metaverse stream, lowest first (shared/video-ladder.ts). */
export const RESOLUTION_RUNGS = VIDEO_RUNG_NAMES;

/** One rung of {@link RESOLUTION_RUNGS}. */
export const RungSchema = z.enum(RESOLUTION_RUNGS);
/** One rung of {@link RESOLUTION_RUNGS}. */
export type Rung = z.infer<typeof RungSchema>;

/** Every intent kind, in the order tools are offered to a language model. */
export const INTENT_KINDS = [
  "set_resolution",
  "move_arm",
  "add_object",
  "remove_object",
  "evaluate_impact",
  "stop",
  "unknown",
] as const;
/** One of {@link INTENT_KINDS}. */
export type IntentKind = (typeof INTENT_KINDS)[number];

/** Object and pose names: short and printable (same rule as the twin's message ids). */
const Name = z
  .string()
  .min(1)
  .max(48)
  .regex(/^[\w.-]+$/, "letters, digits and . _ - only");

/** Bound on a coordinate an utterance may name, m: far beyond any cell, but finite. */
const MAX_COORD_M = 20;
const Coord = z.number().finite().min(-MAX_COORD_M).max(MAX_COORD_M);

/** A point in the twin's `world` frame (z up), metres. */
export const WorldPointSchema = z.strictObject({ x: Coord, y: Coord, z: Coord });
/** A point in the twin's `world` frame (z up), metres. */
export type WorldPoint = z.infer<typeof WorldPointSchema>;

/**
 * Parameters of each intent kind, without the `kind` tag. Objects strip unknown keys (a
 * language model's extra `approved: true` or `role: "admin"` is discarded, not honoured);
 * the intent schemas below are strict.
 */
export const IntentParamsSchemas = {
  set_resolution: z.object({
    direction: z
      .enum(["raise", "lower"])
      .describe("raise = sharper video (more bandwidth); lower = save bandwidth / stop stutter"),
    rung: RungSchema.optional().describe("an explicit target rung, when the user named one"),
  }),
  move_arm: z.object({
    target: Name.describe(
      'a named pose of the arm (see the list in the system prompt), or "goal" for the goal marker',
    ),
    execute: z
      .boolean()
      .default(true)
      .describe(
        "true: plan the motion and ask the operators to approve it before it runs; " +
          "false: only plan/preview it. The arm never moves without an operator's approval.",
      ),
  }),
  add_object: z.object({
    object: z.enum(["arm", "box", "cylinder", "sphere"]).describe("what to add to the twin"),
    id: Name.optional().describe("an id the user gave the new object"),
    position: WorldPointSchema.optional().describe("where, world frame, metres (z up)"),
    side: z
      .enum(["left", "right", "front", "back"])
      .optional()
      .describe("where relative to the existing arm, when said in words"),
  }),
  remove_object: z.object({
    id: Name.describe("id of a virtual object to remove (see the list in the system prompt)"),
  }),
  evaluate_impact: z.object({
    subject: z
      .enum(["add_arm", "raise_resolution", "current"])
      .describe(
        "add_arm: another robot arm in the cell; raise_resolution: a higher video rung; " +
          "current: how spectrum and network are doing now",
      ),
    rung: RungSchema.optional().describe("the rung asked about, for raise_resolution"),
  }),
  stop: z.object({}),
  unknown: z.object({
    reason: z.string().min(1).max(200).describe("why no other intent fits"),
  }),
} as const satisfies Record<IntentKind, z.ZodObject>;

/** Raise or lower the metaverse video resolution, optionally to a named rung. */
export const SetResolutionIntentSchema = z.strictObject({
  kind: z.literal("set_resolution"),
  ...IntentParamsSchemas.set_resolution.shape,
});
/**
 * Move the arm to a named pose (or `"goal"`, the goal marker). `execute: true` means "plan it
 * and ask the operators to approve it"; `false` means "plan/preview only". Never a direct move.
 */
export const MoveArmIntentSchema = z.strictObject({
  kind: z.literal("move_arm"),
  ...IntentParamsSchemas.move_arm.shape,
});
/** Add a virtual arm or object to the twin; `position` in `world`, m; `side` relative to the arm. */
export const AddObjectIntentSchema = z.strictObject({
  kind: z.literal("add_object"),
  ...IntentParamsSchemas.add_object.shape,
});
/** Remove a virtual object (by id) from the twin. */
export const RemoveObjectIntentSchema = z.strictObject({
  kind: z.literal("remove_object"),
  ...IntentParamsSchemas.remove_object.shape,
});
/** Ask what a change (another arm, a higher rung) or the present state does to spectrum/network. */
export const EvaluateImpactIntentSchema = z.strictObject({
  kind: z.literal("evaluate_impact"),
  ...IntentParamsSchemas.evaluate_impact.shape,
});
/** Stop: halt arm motion and pending plans. Overrides every other intent of an utterance. */
export const StopIntentSchema = z.strictObject({ kind: z.literal("stop") });
/** Nothing the product acts on was understood; `reason` says why (shown to the user). */
export const UnknownIntentSchema = z.strictObject({
  kind: z.literal("unknown"),
  ...IntentParamsSchemas.unknown.shape,
});

/** Any intent, discriminated on `kind`. */
export const IntentSchema = z.discriminatedUnion("kind", [
  SetResolutionIntentSchema,
  MoveArmIntentSchema,
  AddObjectIntentSchema,
  RemoveObjectIntentSchema,
  EvaluateImpactIntentSchema,
  StopIntentSchema,
  UnknownIntentSchema,
]);

/** Any intent, discriminated on `kind`. */
export type Intent = z.infer<typeof IntentSchema>;
/** See {@link SetResolutionIntentSchema}. */
export type SetResolutionIntent = z.infer<typeof SetResolutionIntentSchema>;
/** See {@link MoveArmIntentSchema}. */
export type MoveArmIntent = z.infer<typeof MoveArmIntentSchema>;
/** See {@link AddObjectIntentSchema}. */
export type AddObjectIntent = z.infer<typeof AddObjectIntentSchema>;
/** See {@link RemoveObjectIntentSchema}. */
export type RemoveObjectIntent = z.infer<typeof RemoveObjectIntentSchema>;
/** See {@link EvaluateImpactIntentSchema}. */
export type EvaluateImpactIntent = z.infer<typeof EvaluateImpactIntentSchema>;
/** See {@link StopIntentSchema}. */
export type StopIntent = z.infer<typeof StopIntentSchema>;
/** See {@link UnknownIntentSchema}. */
export type UnknownIntent = z.infer<typeof UnknownIntentSchema>;

/**
 * What a model read from one utterance. `intents` holds 1…{@link MAX_INTENTS} entries in
 * utterance order (`[unknown]` when nothing was understood; `[stop]` alone when a stop was
 * heard). `confidence` is 0…1. `model` names the model that produced the intents (the grammar
 * when a remote model fell back). `latencyMs` is wall time of the whole parse, ms. `fallback`
 * is set when the configured model failed and the grammar answered: `"<code>: <detail>"`, code
 * one of {@link FallbackCode}. `dropped` counts tool calls a remote model returned that failed
 * validation. `modelText` is a remote model's own free text (one line, bounded): words of the
 * model, never of the system; whoever shows it must mark it as the model's.
 */
export const IntentResultSchema = z.strictObject({
  intents: z.array(IntentSchema).min(1).max(MAX_INTENTS),
  confidence: z.number().min(0).max(1),
  model: z.string().min(1),
  latencyMs: z.number().min(0),
  fallback: z.string().optional(),
  dropped: z.number().int().min(0).optional(),
  modelText: z.string().max(MAX_MODEL_TEXT_CHARS).optional(),
});
/** See {@link IntentResultSchema}. */
export type IntentResult = z.infer<typeof IntentResultSchema>;

/** Why a remote model's answer was not used; the prefix of {@link IntentResult.fallback}. */
export const FallbackCode = {
  /** No answer within the configured timeout. */
  Timeout: "timeout",
  /** The endpoint answered with an HTTP error status. */
  HttpError: "http_error",
  /** The endpoint could not be reached (refused, reset, DNS). */
  Network: "network",
  /** The model answered with text only, no tool call. */
  NoToolCall: "no_tool_call",
  /** Every tool call failed validation (unknown tool, bad JSON, bad arguments). */
  InvalidToolCalls: "invalid_tool_calls",
  /** The endpoint answered 200 with no usable completion (HTML, empty, error body, SSE). */
  BadResponse: "bad_response",
  /** The endpoint asked for a pause (HTTP 429 / `Retry-After`); not called during it. */
  RateLimited: "rate_limited",
  /** Repeated failures opened the circuit breaker; not called until its probe succeeds. */
  CircuitOpen: "circuit_open",
  /** Anything else (client error). */
  Error: "error",
} as const;
/** One of {@link FallbackCode}. */
export type FallbackCode = (typeof FallbackCode)[keyof typeof FallbackCode];

/**
 * What the intent layer is told with each utterance. `role` is informational (a model may
 * phrase its reading for an observer differently); the intent layer never grants anything,
 * the controller checks permissions.
 */
export const IntentContextSchema = z.strictObject({
  /** Named poses of the arm, e.g. `ready`, `left`, `right`, `extended`. */
  namedPoses: z.array(Name).max(64),
  /** Ids of objects in the twin (virtual ones can be removed). */
  objectIds: z.array(Name).max(1000),
  /** Video rungs offered now, lowest first. */
  rungs: z.array(z.string().min(1).max(16)).max(16),
  /** The rung streamed now, if any. */
  currentRung: z.string().min(1).max(16).optional(),
  /** The speaker's role, as the controller knows it. */
  role: z.enum(["operator", "observer"]),
});
/** See {@link IntentContextSchema}. */
export type IntentContext = z.infer<typeof IntentContextSchema>;

/**
 * The rules every model's output goes through: a `stop` anywhere makes `[stop]` the whole
 * answer; `unknown` entries are dropped when something was understood; exact duplicates are
 * removed; at most {@link MAX_INTENTS} remain (in order); an empty list becomes `[unknown]`.
 */
export function finaliseIntents(intents: readonly Intent[], emptyReason: string): Intent[] {
  if (intents.some((i) => i.kind === "stop")) return [{ kind: "stop" }];
  const known = intents.filter((i) => i.kind !== "unknown");
  const pool = known.length > 0 ? known : intents.slice(0, 1);
  const seen = new Set<string>();
  const out: Intent[] = [];
  for (const intent of pool) {
    const key = JSON.stringify(intent);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(intent);
    if (out.length === MAX_INTENTS) break;
  }
  return out.length > 0 ? out : [{ kind: "unknown", reason: emptyReason.slice(0, 200) }];
}
