/**
 * Client → server messages of the `metaverse` room, one zod schema per type, validated
 * once at the boundary (see twin.ts for the conventions). Poses in `world`.
 */
import { z } from "zod";
import { PoseSchema, RequestId } from "./common.ts";

const base = { requestId: RequestId.optional() };

/** Head and controller poses at headset rate (not acknowledged). */
export const MetaversePoseMessage = z.strictObject({
  head: PoseSchema,
  left: PoseSchema.optional(),
  right: PoseSchema.optional(),
});

/**
 * Quality-of-experience report from the player, about once a second: buffer level (s),
 * measured download throughput (bit/s), stalls since joining, and the rendition playing.
 */
export const QoeMessage = z.strictObject({
  ...base,
  bufferS: z.number().min(0).max(600),
  throughputBps: z.number().min(0).max(10e9),
  stalls: z.number().int().min(0).max(1_000_000),
  rendition: z.string().max(16).optional(),
  /** Viewport direction as a unit quaternion in `world` (optional). */
  viewport: z
    .strictObject({ x: z.number(), y: z.number(), z: z.number(), w: z.number() })
    .optional(),
});

/** Ask for a rendition (the agents grant it only when the link sustains it). */
export const RequestRenditionMessage = z.strictObject({
  ...base,
  rendition: z.string().min(1).max(16),
});

/** Something said to the agents (≤ 500 characters). */
export const MetaverseUtteranceMessage = z.strictObject({
  ...base,
  text: z.string().min(1).max(500),
});

export const MetaverseMessageSchemas = {
  pose: MetaversePoseMessage,
  qoe: QoeMessage,
  requestRendition: RequestRenditionMessage,
  utterance: MetaverseUtteranceMessage,
} as const;

export type MetaverseMessageType = keyof typeof MetaverseMessageSchemas;
export type MetaverseCommand = {
  [K in MetaverseMessageType]: { type: K; body: z.output<(typeof MetaverseMessageSchemas)[K]> };
}[MetaverseMessageType];
