/**
 * Plan lifecycle: the only place a plan changes status, so the safety rule "only a plan
 * that passed in the twin and that an operator approved may move the arm" is enforced by
 * construction. History is bounded: the oldest finished plans are dropped first.
 *
 *   proposed ──► validated ──► approved ──► executing ──► succeeded
 *       │            │            │             └──────► aborted
 *       └► rejected ◄┘            └──► aborted
 */
import type { JointTrajectory } from "../sim/trajectory.ts";
import type { Goal } from "../../shared/messages/twin.ts";

export const PlanStatus = {
  Proposed: "proposed",
  Validated: "validated",
  Rejected: "rejected",
  Approved: "approved",
  Executing: "executing",
  Succeeded: "succeeded",
  Aborted: "aborted",
} as const;
export type PlanStatus = (typeof PlanStatus)[keyof typeof PlanStatus];

const NEXT: Record<PlanStatus, readonly PlanStatus[]> = {
  proposed: ["validated", "rejected"],
  validated: ["approved", "rejected"],
  approved: ["executing", "aborted"],
  executing: ["succeeded", "aborted"],
  rejected: [],
  succeeded: [],
  aborted: [],
};

/** True for statuses a plan never leaves. */
export function isFinal(status: PlanStatus): boolean {
  return NEXT[status].length === 0;
}

/** A motion plan and everything needed to audit it. */
export interface PlanRecord {
  readonly id: string;
  status: PlanStatus;
  /** Why it was rejected or aborted; "" otherwise. */
  reason: string;
  readonly goal: Goal;
  /** userId (name) of the operator who asked for it. */
  readonly requestedBy: string;
  readonly requestedBySession: string;
  approvedBy: string;
  /** ms since the Unix epoch. */
  readonly createdAt: number;
  /** Start configuration the plan was made from, rad. */
  start: Float64Array;
  /** Time-parameterised trajectory (present once planning succeeded). */
  trajectory: JointTrajectory | null;
  /** Planning wall time, ms. */
  planningMs: number;
  /** Monotonic counter bumped on every change, so state sync copies only what changed. */
  version: number;
}

/** Raised for an illegal status change: a bug in the caller, never a user error. */
export class PlanTransitionError extends Error {
  constructor(id: string, from: PlanStatus, to: PlanStatus) {
    super(`plan ${id}: illegal transition ${from} → ${to}`);
    this.name = "PlanTransitionError";
  }
}

/** The plans of one twin session, oldest first. */
export class PlanBook {
  readonly #plans = new Map<string, PlanRecord>();
  #counter = 0;

  /** @param capacity plans kept; finished ones are evicted first when full */
  constructor(readonly capacity: number) {}

  /** Creates a plan in status `proposed`. */
  create(input: {
    goal: Goal;
    requestedBy: string;
    requestedBySession: string;
    start: Float64Array;
    nowMs: number;
  }): PlanRecord {
    this.#evict();
    this.#counter += 1;
    const plan: PlanRecord = {
      id: `plan-${this.#counter}`,
      status: PlanStatus.Proposed,
      reason: "",
      goal: input.goal,
      requestedBy: input.requestedBy,
      requestedBySession: input.requestedBySession,
      approvedBy: "",
      createdAt: input.nowMs,
      start: input.start,
      trajectory: null,
      planningMs: 0,
      version: 1,
    };
    this.#plans.set(plan.id, plan);
    return plan;
  }

  get(id: string): PlanRecord | undefined {
    return this.#plans.get(id);
  }

  /** Plans oldest first. */
  all(): IterableIterator<PlanRecord> {
    return this.#plans.values();
  }

  /** The plan currently approved or executing, if any. */
  active(): PlanRecord | undefined {
    for (const p of this.#plans.values()) {
      if (p.status === PlanStatus.Approved || p.status === PlanStatus.Executing) return p;
    }
    return undefined;
  }

  /** Moves `plan` to `to`; throws {@link PlanTransitionError} if the lifecycle forbids it. */
  transition(plan: PlanRecord, to: PlanStatus, reason = ""): void {
    if (!NEXT[plan.status].includes(to)) throw new PlanTransitionError(plan.id, plan.status, to);
    plan.status = to;
    plan.reason = reason;
    plan.version += 1;
  }

  /** Rejects every plan still waiting (proposed/validated), e.g. after the scene changed. */
  rejectPending(reason: string): number {
    let n = 0;
    for (const p of this.#plans.values()) {
      if (p.status === PlanStatus.Validated || p.status === PlanStatus.Proposed) {
        this.transition(p, PlanStatus.Rejected, reason);
        n += 1;
      }
    }
    return n;
  }

  clear(): void {
    this.#plans.clear();
  }

  #evict(): void {
    while (this.#plans.size >= this.capacity) {
      const victim = this.#oldest(isFinal) ?? this.#oldest(isWaiting);
      // Only an approved/executing plan is left: it is never dropped (there is at most one).
      if (victim === undefined) return;
      this.#plans.delete(victim);
    }
  }

  #oldest(pred: (s: PlanStatus) => boolean): string | undefined {
    for (const p of this.#plans.values()) if (pred(p.status)) return p.id;
    return undefined;
  }
}

function isWaiting(status: PlanStatus): boolean {
  return status === PlanStatus.Proposed || status === PlanStatus.Validated;
}
