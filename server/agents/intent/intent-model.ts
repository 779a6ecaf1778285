/**
 * The application-layer agent's (aGF) contract: an utterance in, the intents the product acts
 * on out. Implementations: {@link GrammarIntentModel} (embedded, deterministic, offline) and
 * {@link OpenAIIntentModel} (any OpenAI-compatible chat endpoint, with the grammar as fallback).
 */
import { MAX_UTTERANCE_CHARS, type IntentContext, type IntentResult } from "./intents.ts";

export type { IntentContext, IntentResult } from "./intents.ts";

/** Reads what a user wants from what they say. */
export interface IntentModel {
  /** Stable name of the model, reported as {@link IntentResult.model} (e.g. `grammar`). */
  readonly name: string;
  /**
   * Parse one utterance. Never rejects for what the utterance says or for a failing backend
   * (a remote model falls back to the grammar); rejects with {@link IntentError} (code
   * `aborted`) only when `signal` aborts, because the caller no longer wants the answer.
   * Utterances longer than {@link MAX_UTTERANCE_CHARS} give an `unknown` intent, unread.
   * A stop the grammar hears (`hearsStop`) gives that one `stop` intent, no remote model asked.
   */
  parse(utterance: string, ctx: IntentContext, signal?: AbortSignal): Promise<IntentResult>;
  /** The backend's health, for the agent panel; absent for models that cannot degrade. */
  health?(): IntentModelHealth;
}

/** What the agent panel shows of an intent model. */
export interface IntentModelHealth {
  /** `openai:<model>` when healthy, `openai:<model>, degraded: <reason>` when not. */
  readonly label: string;
  /** Bumped whenever `label` changes. */
  readonly version: number;
}

/**
 * `agentsLabel` (the panel's `id (model), …` list) with the intent model's entry showing its
 * present health: `intent (openai:m)` becomes `intent (openai:m, degraded: timeout: …)`.
 */
export function labelWithHealth(agentsLabel: string, model: IntentModel): string {
  const health = model.health?.();
  if (!health || health.label === model.name) return agentsLabel;
  return agentsLabel.replaceAll(`(${model.name})`, `(${health.label})`);
}

/** Why an {@link IntentError} was thrown. */
export const IntentErrorCode = {
  /** The caller's AbortSignal aborted the parse. */
  Aborted: "aborted",
  /** A remote model failed; carried as `cause` of a fallback, logged, never thrown to callers. */
  Backend: "backend",
} as const;
/** One of {@link IntentErrorCode}. */
export type IntentErrorCode = (typeof IntentErrorCode)[keyof typeof IntentErrorCode];

/** A typed failure of the intent layer; the underlying error travels as `cause`. */
export class IntentError extends Error {
  constructor(
    /** What went wrong, see {@link IntentErrorCode}. */
    readonly code: IntentErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "IntentError";
  }
}

/**
 * The answer for an utterance no model should read (empty, or longer than
 * {@link MAX_UTTERANCE_CHARS}), or null when it may be parsed.
 */
export function refuseUtterance(
  utterance: string,
  model: string,
  startedMs: number,
): IntentResult | null {
  let reason: string | null = null;
  if (utterance.length > MAX_UTTERANCE_CHARS) {
    reason = `utterance too long (${utterance.length} > ${MAX_UTTERANCE_CHARS} characters)`;
  } else if (utterance.trim().length === 0) {
    reason = "empty utterance";
  }
  if (reason === null) return null;
  return {
    intents: [{ kind: "unknown", reason }],
    confidence: 0,
    model,
    latencyMs: performance.now() - startedMs,
  };
}

/** Throw an `aborted` {@link IntentError} when `signal` has aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new IntentError(IntentErrorCode.Aborted, "intent parse aborted by caller", {
      cause: signal.reason,
    });
  }
}

/**
 * What a reply adds about how an utterance was read: the grammar standing in for the model
 * (and why), and the model's own free text, quoted and marked as the model's — never
 * presented as the system's words.
 */
export function resultNotes(result: IntentResult): string[] {
  const notes: string[] = [];
  if (result.fallback) notes.push(`(intent model fell back: ${result.fallback})`);
  if (result.modelText) notes.push(`(model said: "${result.modelText}")`);
  return notes;
}
