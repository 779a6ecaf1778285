/**
 * Bounds on agent work, so that a talkative viewer cannot fill a room's event loop (and so
 * delay STOP): a room may have only so many agent tasks running or queued, and a user only so
 * many of those. A task over either bound is refused at once with {@link AgentBusyError} (the
 * room answers `busy`); nothing is queued without limit.
 *
 * One limiter per room, held by the room's AgentOrchestrator (orchestrator.ts): it admits the
 * decisions people ask for, and the orchestrator's DecisionLane (decision-lane.ts) queues the
 * admitted ones and runs them one at a time. The limiter only counts.
 */

/** Refused because the room or the user already has as much agent work as allowed. */
export class AgentBusyError extends Error {
  constructor(
    message: string,
    readonly scope: "room" | "user",
  ) {
    super(message);
    this.name = "AgentBusyError";
  }
}

export interface WorkLimits {
  /** Tasks running or queued in the room (the running one included). */
  readonly perRoom: number;
  /** Tasks running or queued for one user in the room. */
  readonly perUser: number;
}

/** The defaults of `AGENT_MAX_PENDING_PER_ROOM` / `AGENT_MAX_PENDING_PER_USER`. */
export const DEFAULT_WORK_LIMITS: WorkLimits = Object.freeze({ perRoom: 4, perUser: 1 });

export class AgentWorkLimiter {
  readonly limits: WorkLimits;
  #pending = 0;
  readonly #perUser = new Map<string, number>();
  #closed = false;

  constructor(limits: WorkLimits = DEFAULT_WORK_LIMITS) {
    this.limits = limits;
  }

  /** Tasks running or queued now. */
  get pending(): number {
    return this.#pending;
  }

  /** Whether a task for `userId` would be accepted now. */
  canAccept(userId: string | null): boolean {
    if (this.#closed || this.#pending >= this.limits.perRoom) return false;
    return userId === null || (this.#perUser.get(userId) ?? 0) < this.limits.perUser;
  }

  /**
   * Starts `task` now if the room and `userId` are within their bounds; it counts against
   * them until it settles (queueing it is the caller's: the DecisionLane).
   * @param userId who asked (null: the room itself, e.g. a change in the cell; such tasks
   *   count against the room's bound only)
   * @returns what `task` returns; rejects with AgentBusyError, without calling `task`, when
   *   over a bound
   */
  run<T>(userId: string | null, task: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new AgentBusyError("the agents are closed", "room"));
    if (this.#pending >= this.limits.perRoom) {
      return Promise.reject(
        new AgentBusyError(
          `the agents of this room are busy (${this.#pending} tasks pending); try again shortly`,
          "room",
        ),
      );
    }
    if (userId !== null && (this.#perUser.get(userId) ?? 0) >= this.limits.perUser) {
      return Promise.reject(
        new AgentBusyError(
          `you already have ${this.limits.perUser} agent request(s) pending; wait for the answer`,
          "user",
        ),
      );
    }
    this.#pending += 1;
    if (userId !== null) this.#perUser.set(userId, (this.#perUser.get(userId) ?? 0) + 1);
    const release = () => {
      this.#pending -= 1;
      if (userId === null) return;
      const n = (this.#perUser.get(userId) ?? 1) - 1;
      if (n <= 0) this.#perUser.delete(userId);
      else this.#perUser.set(userId, n);
    };
    // Called now (the executor runs synchronously); one that throws is released all the same.
    return new Promise<T>((resolve) => resolve(task())).finally(release);
  }

  /** Refuses every later task; admitted ones still finish. */
  close(): void {
    this.#closed = true;
  }
}
