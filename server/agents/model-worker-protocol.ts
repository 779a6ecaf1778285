/**
 * Messages between the event loop and the model worker (server/agents/model-worker.ts):
 * requests carry an id, every reply names it. Everything is structured-clonable data.
 */
import type { BackendPreference } from "../ml/backend.ts";
import type {
  ChannelPrediction,
  DemandPrediction,
  FlowWindow,
  RadioEnvironment,
  TrafficScenario,
} from "../net/contracts.ts";

/** What the worker loads: the same folders and backend as the in-thread agents. */
export interface ModelWorkerData {
  readonly pgfDir: string;
  readonly ngfDir: string;
  readonly tfBackend: BackendPreference;
}

export type ModelRequest =
  | { readonly id: number; readonly op: "predict"; readonly env: RadioEnvironment }
  | { readonly id: number; readonly op: "predictDemand"; readonly scenario: TrafficScenario }
  | {
      readonly id: number;
      readonly op: "observe";
      readonly windows: readonly FlowWindow[];
      readonly scenario: TrafficScenario;
    };

/** What each request's op answers with. */
export interface ModelResults {
  readonly predict: ChannelPrediction;
  readonly predictDemand: DemandPrediction;
  /** The traffic agent's adaptation report. */
  readonly observe: unknown;
}

/** A model the worker loaded (`ok`) or could not load (`error`: why). */
export type LoadOutcome = { readonly ok: true } | { readonly ok: false; readonly error: string };

export type ModelReply =
  | {
      readonly kind: "ready";
      readonly backend: string;
      readonly skipped: readonly string[];
      readonly channel: LoadOutcome;
      readonly traffic: LoadOutcome;
    }
  | {
      readonly kind: "result";
      readonly id: number;
      readonly ok: true;
      /** `ModelResults[op]` of the request. */
      readonly value: unknown;
    }
  | { readonly kind: "result"; readonly id: number; readonly ok: false; readonly error: string };
