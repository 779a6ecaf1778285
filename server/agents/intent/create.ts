/**
 * Chooses the intent model from configuration: the embedded grammar (default, offline) or an
 * OpenAI-compatible endpoint with the grammar as its fallback.
 */
import type { Logger } from "pino";
import type { IntentBackendMetrics } from "./backend-health.ts";
import { GrammarIntentModel } from "./grammar-parser.ts";
import type { IntentModel } from "./intent-model.ts";
import { OpenAIIntentModel } from "./openai-model.ts";

/** Which intent model to build, and its settings. */
export type IntentModelOptions =
  | { readonly kind: "grammar" }
  | {
      readonly kind: "openai";
      /** Endpoint base URL including the API prefix, e.g. `http://127.0.0.1:11434/v1`. */
      readonly baseURL: string;
      /** Model name sent with each request. */
      readonly model: string;
      /** Bearer key; empty for endpoints that need none. */
      readonly apiKey: string;
      /** Deadline of one request, ms; past it the grammar answers. */
      readonly timeoutMs: number;
      /** Receives fallback warnings and per-call debug lines. */
      readonly logger: Pick<Logger, "warn" | "debug">;
      /** Sampling temperature (default: left out of the request). */
      readonly temperature?: number;
      /** Failures in a row that open the circuit breaker (default 3). */
      readonly breakerFailures?: number;
      /** First cooldown of the open breaker, ms (default 30 000). */
      readonly breakerCooldownMs?: number;
      /** Where backend health and latency are reported. */
      readonly metrics?: IntentBackendMetrics;
    };

/** Build the {@link IntentModel} that `options` names. */
export function createIntentModel(options: IntentModelOptions): IntentModel {
  switch (options.kind) {
    case "grammar":
      return new GrammarIntentModel();
    case "openai":
      return new OpenAIIntentModel({
        baseURL: options.baseURL,
        model: options.model,
        apiKey: options.apiKey,
        timeoutMs: options.timeoutMs,
        logger: options.logger,
        ...(options.temperature !== undefined && { temperature: options.temperature }),
        ...(options.breakerFailures !== undefined && { breakerFailures: options.breakerFailures }),
        ...(options.breakerCooldownMs !== undefined && {
          breakerCooldownMs: options.breakerCooldownMs,
        }),
        ...(options.metrics && { metrics: options.metrics }),
      });
  }
}
