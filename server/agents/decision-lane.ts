/**
 * One session's agent decisions, run one at a time. Two kinds arrive:
 *
 * - re-decisions the session asks for itself (a join, a change in the cell, a quality report,
 *   a monitor tick): coalesced per link. While a decision runs, any number of causes for the
 *   same link leave ONE pending re-decision (carrying the latest cause), which reads the
 *   session as it is when it starts; an optional settle delay lets a burst of changes go quiet
 *   before even that one is queued;
 * - decisions a person asked for (an utterance, a rendition request): admitted by the room's
 *   {@link AgentWorkLimiter} (over its per-room or per-user bound they are refused with
 *   {@link AgentBusyError} at once, nothing queued) and answered with their result. They run
 *   before pending re-decisions, because someone waits for them.
 *
 * So at any moment at most one decision runs, at most one re-decision per link waits, and
 * asked decisions wait only within the limiter's bounds: there is no unbounded promise chain.
 */
import type { Logger } from "pino";
import type { DecisionTrigger } from "./controller.ts";
import type { AgentWorkLimiter } from "./work-limiter.ts";

export interface DecisionLaneOptions {
  /** Admits the decisions people ask for (per room and per user). */
  limiter: AgentWorkLimiter;
  /** Runs one re-decision of `link`; it reads the session when it is called. */
  redecide(link: string, trigger: DecisionTrigger): Promise<unknown>;
  logger: Logger;
}

export class DecisionLane {
  readonly #o: DecisionLaneOptions;
  #running = false;
  /** Re-decisions waiting, one per link, with the latest cause; oldest link first. */
  readonly #again = new Map<string, DecisionTrigger>();
  /** Asked decisions the limiter let through, waiting (at most its per-room bound). */
  readonly #asked: (() => Promise<void>)[] = [];
  /** Settle timers of re-decisions not queued yet, per link. */
  readonly #settling = new Map<string, NodeJS.Timeout>();
  #idle: (() => void)[] = [];
  #closed = false;

  constructor(options: DecisionLaneOptions) {
    this.#o = options;
  }

  /** Whether a decision runs now. */
  get running(): boolean {
    return this.#running;
  }

  /** Decisions queued behind the running one (re-decisions and asked decisions). */
  get waiting(): number {
    return this.#again.size + this.#asked.length;
  }

  /**
   * Something changed for `link`: decide again (coalesced with any re-decision of `link`
   * already waiting). `settleMs` > 0 waits until no further change for `link` came for that
   * long, ms.
   */
  again(link: string, trigger: DecisionTrigger, settleMs = 0): void {
    if (this.#closed) return;
    if (settleMs <= 0) {
      this.#queueAgain(link, trigger);
      return;
    }
    clearTimeout(this.#settling.get(link));
    const timer = setTimeout(() => {
      this.#settling.delete(link);
      this.#queueAgain(link, trigger);
    }, settleMs);
    timer.unref();
    this.#settling.set(link, timer);
  }

  /**
   * Runs `task` for `userId` once the running decision is done, within the limiter's bounds.
   * @param userId who asked (null: the room itself; counts against the room's bound only)
   * @returns what `task` returns; rejects with AgentBusyError, without running it, when the
   *   room or the user is over the limiter's bound
   */
  ask<T>(userId: string | null, task: () => Promise<T>): Promise<T> {
    return this.#o.limiter.run(
      userId,
      () =>
        new Promise<T>((resolve, reject) => {
          this.#asked.push(() => task().then(resolve, reject));
          this.#pump();
        }),
    );
  }

  /** `link` is gone: its waiting re-decision (if any) is dropped. */
  forget(link: string): void {
    clearTimeout(this.#settling.get(link));
    this.#settling.delete(link);
    this.#again.delete(link);
  }

  /** Resolves once no decision runs or waits (settling ones are not counted). */
  idle(): Promise<void> {
    if (!this.#running && this.waiting === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** No more re-decisions: waiting and settling ones are dropped; asked ones still run. */
  close(): void {
    this.#closed = true;
    for (const timer of this.#settling.values()) clearTimeout(timer);
    this.#settling.clear();
    this.#again.clear();
    if (!this.#running) this.#pump();
  }

  #queueAgain(link: string, trigger: DecisionTrigger): void {
    if (this.#closed) return;
    // A link already waiting keeps its place; the latest cause is the one logged.
    this.#again.set(link, trigger);
    this.#pump();
  }

  /** Starts the next waiting decision unless one runs; wakes `idle()` waiters when none is left. */
  #pump(): void {
    if (this.#running) return;
    const next = this.#asked.shift() ?? this.#nextAgain();
    if (!next) {
      const waiters = this.#idle;
      this.#idle = [];
      for (const wake of waiters) wake();
      return;
    }
    this.#running = true;
    // Started on a later microtask: the caller (a message handler) returns first.
    void Promise.resolve()
      .then(next)
      .catch((err: unknown) => this.#o.logger.error({ err }, "agent decision failed"))
      .finally(() => {
        this.#running = false;
        this.#pump();
      });
  }

  #nextAgain(): (() => Promise<unknown>) | undefined {
    const first = this.#again.entries().next();
    if (first.done) return undefined;
    const [link, trigger] = first.value;
    this.#again.delete(link);
    return () => this.#o.redecide(link, trigger);
  }
}
