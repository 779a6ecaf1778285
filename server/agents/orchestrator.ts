/**
 * The agent orchestrator of one session (a twin room or a metaverse room): the one place that
 * turns "utterance → intent → controller decision → allocation → agent panel" into code, so
 * both sessions share it.
 *
 * It owns
 * - the spoken stop: a stop the grammar hears ({@link hearsStop}, the same function the
 *   room's message boundary uses to let it past the rate limits) is handed to the session in
 *   the same turn of the event loop, before anything is awaited; no model, no limiter;
 * - utterance → intents (the session's intent model, with a deadline) → each intent carried
 *   out by the session, with one reply summarising what was done and what was not;
 * - the agent controllers, one per link (the twin has one link for its cell, the metaverse one
 *   per headset), and every decision they take, one at a time through a {@link DecisionLane}
 *   (bounded: re-decisions coalesce per link; asked decisions go through the room's
 *   {@link AgentWorkLimiter});
 * - the agent panel (the agents at work, the shown allocation, the latest decisions) and the
 *   {@link AgentPanelSink} every decision is handed to (socket.io stream, metrics).
 *
 * What differs between sessions (what an intent does, what a link's radio situation is, what
 * an applied allocation changes) comes in through {@link AgentSessionContext}. This module
 * knows no session types: refusals are made and recognised through {@link Refusals}.
 */
import { deadline } from "../deadline.ts";
import type { Logger } from "pino";
import { ErrorCode } from "../../shared/messages/common.ts";
import type { Role } from "../auth/roles.ts";
import { DEFAULT_BANDS } from "../net/bands.ts";
import type { Rung } from "../net/allocation.ts";
import type { AgentRegistry } from "./agent.ts";
import {
  AgentController,
  AgentUnavailableError,
  type Decision,
  type DecisionTask,
  type DecisionTrigger,
  type LinkSituation,
} from "./controller.ts";
import { DecisionLane } from "./decision-lane.ts";
import { hearsStop } from "./intent/grammar-parser.ts";
import {
  type IntentContext,
  type IntentModel,
  labelWithHealth,
  resultNotes,
} from "./intent/intent-model.ts";
import type { Intent } from "./intent/intents.ts";
import { AgentBusyError, type AgentWorkLimiter } from "./work-limiter.ts";

/** What headsets see of the agents (copied into the rooms' schema state). */
export interface AgentPanel {
  /** Changes whenever anything else here does (state sync copies only then). */
  version: number;
  /** `id (model)` of each agent, comma separated, the intent model with its health. */
  agents: string;
  /** The rung the link of the latest decision wants, or null. */
  wantedRung: string | null;
  /** What the link of the latest decision uses. */
  allocation: {
    rung: string | null;
    bands: readonly string[];
    reservedBps: number;
    capacityBps: number;
    plannedDemandBps: number;
  } | null;
  /** The latest decisions, oldest first. */
  decisions: readonly Decision[];
}

/** Where each decision goes besides the panel (socket.io stream, metrics). */
export interface AgentPanelSink {
  decision(d: Decision): void;
}

/** Who speaks or asks: the session's actor (only what the agents need of it). */
export interface Speaker {
  readonly userId: string;
  readonly role: Role;
}

/**
 * The session's refusals (its `CommandError`): how to make one the room answers with `code`,
 * and how to tell one from a bug.
 */
export interface Refusals {
  /** The code of an expected refusal, or null for anything else (a bug: logged). */
  codeOf(err: unknown): ErrorCode | null;
  make(code: ErrorCode, message: string, cause?: unknown): Error;
}

/** The agents of one session as the composition root hands them over. */
export interface AgentSetup {
  registry: AgentRegistry;
  intents: IntentModel;
  /** `id (model)` of the agents, comma separated, for the panel. */
  label: string;
  /** Bounds the decisions people ask for, per room and per user; closed with the session. */
  limiter: AgentWorkLimiter;
  /** Capacity kept free against estimation error, 0..1. */
  margin: number;
  /** Intent model deadline, ms (the parse is abandoned 1 s after it). */
  intentTimeoutMs: number;
  /** Receives every decision (absent: the panel only). */
  sink?: AgentPanelSink;
  logger: Logger;
}

/** What the orchestrator needs of the session it serves. */
export interface AgentSessionContext<S extends Speaker> {
  /** The ladder a new controller of `link` is built on, lowest first. */
  ladder(link: string): readonly Rung[];
  /** `link`'s situation as it is now; null when the link is gone (nothing is decided). */
  situation(link: string): LinkSituation | null;
  /** What the intent model is told for `speaker`. */
  intentContext(speaker: S): IntentContext;
  /**
   * A stop heard in `speaker`'s words: act on it now, synchronously, and return the reply.
   * Throws a refusal (e.g. a role that may not stop).
   */
  spokenStop(speaker: S): string;
  /** Carries out one intent for `speaker`; returns one line for the reply; throws refusals. */
  carryOut(speaker: S, intent: Intent): Promise<string>;
  /**
   * After each decision of `link` (`apply`: it was meant to change what the link uses, not a
   * what-if), with the link's controller.
   */
  decided?(link: string, d: Decision, apply: boolean, controller: AgentController): void;
}

/** A decision a person asked for. Situations are read when it runs, not when it is asked. */
export type DecisionRequest =
  | {
      readonly kind: "allocate";
      readonly link: string;
      readonly trigger: DecisionTrigger;
      readonly task: DecisionTask;
      /** False for a what-if: logged, nothing applied. */
      readonly apply: boolean;
      /** The situation to decide for (default: the context's situation of `link`). */
      readonly situation?: () => LinkSituation | null;
    }
  | {
      readonly kind: "evaluate_add_arm";
      readonly link: string;
      readonly trigger: DecisionTrigger;
      readonly now: () => LinkSituation;
      readonly withArm: () => LinkSituation;
    };

export interface OrchestratorOptions<S extends Speaker> extends AgentSetup {
  context: AgentSessionContext<S>;
  refusals: Refusals;
}

/** Decisions kept (the panel shows the last {@link PANEL_DECISIONS}). */
const HISTORY = 100;
/** Decisions shown in the room state's panel (the full log is on socket.io). */
const PANEL_DECISIONS = 10;

export class AgentOrchestrator<S extends Speaker> {
  readonly #o: OrchestratorOptions<S>;
  readonly #lane: DecisionLane;
  readonly #controllers = new Map<string, AgentController>();
  readonly #decisions: Decision[] = [];
  /** What the panel shows of the link that decided last. */
  #shown: Pick<AgentPanel, "wantedRung" | "allocation"> = { wantedRung: null, allocation: null };
  /** Bumped with every decision. */
  #version = 0;
  #closed = false;

  constructor(options: OrchestratorOptions<S>) {
    this.#o = options;
    this.#lane = new DecisionLane({
      limiter: options.limiter,
      logger: options.logger,
      redecide: (link, trigger) =>
        this.#decide(link, trigger, "allocate", true, () => options.context.situation(link)),
    });
  }

  /** The panel's version: changes with every decision and with the intent model's health. */
  get version(): number {
    // Both counters only grow, so their sum changes whenever either does.
    return this.#version + (this.#o.intents.health?.().version ?? 0);
  }

  /** The scheduling of decisions (for tests and metrics: what runs and waits). */
  get lane(): Pick<DecisionLane, "running" | "waiting" | "idle"> {
    return this.#lane;
  }

  /** The controller of `link` (built on the context's ladder of `link` when first needed). */
  controller(link: string): AgentController {
    let c = this.#controllers.get(link);
    if (!c) {
      const o = this.#o;
      c = new AgentController({
        registry: o.registry,
        bands: DEFAULT_BANDS,
        ladder: o.context.ladder(link),
        margin: o.margin,
        logger: o.logger,
      });
      this.#controllers.set(link, c);
    }
    return c;
  }

  /** `link` is gone (a headset left): its controller and waiting re-decision are dropped. */
  forgetLink(link: string): void {
    this.#controllers.delete(link);
    this.#lane.forget(link);
  }

  /** Every link's controller is rebuilt at its next decision (the ladder changed). */
  forgetControllers(): void {
    this.#controllers.clear();
  }

  /** Latest decisions of every link, oldest first (bounded). */
  decisions(): readonly Decision[] {
    return this.#decisions;
  }

  panel(): AgentPanel {
    const o = this.#o;
    return {
      version: this.version,
      agents: labelWithHealth(o.label, o.intents),
      ...this.#shown,
      decisions: this.#decisions.slice(-PANEL_DECISIONS),
    };
  }

  /**
   * Something changed for `link`: its controller decides again, in the background (nobody
   * waits; bursts coalesce into one pending decision per link).
   * @param settleMs wait until no further change came for that long first, ms
   */
  redecide(link: string, trigger: DecisionTrigger, settleMs = 0): void {
    if (!this.#closed) this.#lane.again(link, trigger, settleMs);
  }

  /**
   * A decision `speaker` asked for, after the running one and within the room's and the
   * speaker's bounds.
   * @returns the decision, or null when the link was gone by the time it ran
   * @throws a refusal `busy` over the bounds, `conflict` when an agent the task needs is
   *   missing
   */
  async ask(speaker: S, request: DecisionRequest): Promise<Decision | null> {
    try {
      return await this.#lane.ask(speaker.userId, () => {
        if (request.kind === "evaluate_add_arm") {
          const c = this.controller(request.link);
          return c
            .evaluateAddArm(request.now(), request.withArm(), request.trigger)
            .then((d) => this.#record(request.link, d, false, c));
        }
        const situation = request.situation ?? (() => this.#o.context.situation(request.link));
        return this.#decide(request.link, request.trigger, request.task, request.apply, situation);
      });
    } catch (err) {
      const r = this.#o.refusals;
      if (err instanceof AgentBusyError) throw r.make(ErrorCode.Busy, err.message, err);
      if (err instanceof AgentUnavailableError) throw r.make(ErrorCode.Conflict, err.message, err);
      throw err;
    }
  }

  /**
   * Carries out what `speaker` said. A stop the grammar hears acts before anything is awaited
   * (the session's own stop, in the same turn of the event loop) and no model is asked.
   * Otherwise the intent model reads the utterance and the session carries out each intent;
   * the summary says what was done, what failed, whether the grammar stood in for the model
   * and, marked as such, what the model itself said. Rejects only when nothing was done
   * (with the first failure's code and every failure in the message).
   */
  async utterance(speaker: S, text: string): Promise<{ summary: string }> {
    const { context, intents, refusals, logger } = this.#o;
    if (hearsStop(text)) return { summary: context.spokenStop(speaker) };
    const limit = deadline(this.#o.intentTimeoutMs + 1000);
    let result: Awaited<ReturnType<typeof intents.parse>>;
    try {
      result = await intents.parse(text, context.intentContext(speaker), limit.signal);
    } finally {
      limit.clear();
    }
    const done: string[] = [];
    const failed: { intent: Intent; err: unknown }[] = [];
    for (const intent of result.intents) {
      try {
        done.push(await context.carryOut(speaker, intent));
      } catch (err) {
        if (refusals.codeOf(err) === null) {
          logger.error({ err, intent: intent.kind }, "intent failed");
        }
        failed.push({ intent, err });
      }
    }
    const notes = resultNotes(result);
    const why = ({ intent, err }: { intent: Intent; err: unknown }) =>
      `${intent.kind}: ${refusals.codeOf(err) !== null ? (err as Error).message : "internal error"}`;
    const first = failed[0];
    if (first !== undefined && done.length === 0) {
      // Nothing happened: the reply is an error, with every failure and the notes in it.
      const code = refusals.codeOf(first.err) ?? ErrorCode.Internal;
      throw refusals.make(code, [...failed.map(why), ...notes].join("; "), first.err);
    }
    const lines = [...done];
    if (failed.length > 0) lines.push(`not done: ${failed.map(why).join("; ")}`);
    return { summary: [...lines, ...notes].join("; ") };
  }

  /** No more decisions are accepted; the one running finishes. */
  close(): void {
    this.#closed = true;
    this.#o.limiter.close();
    this.#lane.close();
  }

  async #decide(
    link: string,
    trigger: DecisionTrigger,
    task: DecisionTask,
    apply: boolean,
    situation: () => LinkSituation | null,
  ): Promise<Decision | null> {
    const now = situation();
    if (now === null) return null;
    const c = this.controller(link);
    const d = await c.allocate(now, trigger, task, apply);
    return this.#record(link, d, apply, c);
  }

  #record(link: string, d: Decision, apply: boolean, c: AgentController): Decision {
    const o = this.#o;
    this.#decisions.push(d);
    if (this.#decisions.length > HISTORY) this.#decisions.shift();
    this.#shown = { wantedRung: c.wantedRung, allocation: c.allocation };
    this.#version += 1;
    o.context.decided?.(link, d, apply, c);
    try {
      o.sink?.decision(d);
    } catch (err) {
      o.logger.error({ err }, "decision sink failed");
    }
    return d;
  }
}
