/**
 * Validation at the room boundary: a message type plus an untrusted payload in, either a
 * typed command or a refusal (code + readable reason) out. Never throws.
 */
import type { z } from "zod";
import { describeIssues, ErrorCode } from "./common.ts";

export type ParseResult<C> =
  { ok: true; command: C } | { ok: false; code: ErrorCode; message: string; requestId?: string };

/**
 * Validates `payload` against the schema registered for `type`.
 * @param schemas map of message type → zod schema
 */
export function parseMessage<S extends Record<string, z.ZodType>>(
  schemas: S,
  type: unknown,
  payload: unknown,
): ParseResult<{ [K in keyof S & string]: { type: K; body: z.output<S[K]> } }[keyof S & string]> {
  if (typeof type !== "string" || !Object.hasOwn(schemas, type)) {
    const shown = typeof type === "string" ? JSON.stringify(type.slice(0, 40)) : typeof type;
    return { ok: false, code: ErrorCode.UnknownType, message: `unknown message type ${shown}` };
  }
  const schema = schemas[type] as z.ZodType;
  const parsed = schema.safeParse(payload ?? {});
  if (!parsed.success) {
    return {
      ok: false,
      code: ErrorCode.InvalidMessage,
      message: `${type}: ${describeIssues(parsed.error)}`,
      ...requestIdOf(payload),
    };
  }
  // The cast restates what the lookup above established: body matches schemas[type].
  return { ok: true, command: { type, body: parsed.data } as never };
}

/** Best-effort requestId from an invalid payload so the client can correlate the error. */
function requestIdOf(payload: unknown): { requestId?: string } {
  if (payload && typeof payload === "object" && "requestId" in payload) {
    const id = (payload as { requestId: unknown }).requestId;
    if (typeof id === "string" && id.length <= 64 && /^[\w.:-]+$/.test(id))
      return { requestId: id };
  }
  return {};
}
