/**
 * ROS 1 trajectory actions: actionlib over topics, as roslib's `ActionClient` and `Goal` use
 * them. Clients advertise and publish `<action>/goal` (`…ActionGoal`: goal_id + goal) and
 * `<action>/cancel` (actionlib_msgs/GoalID); the cell publishes `<action>/status`
 * (GoalStatusArray, at 5 Hz and on every change), `<action>/feedback` and `<action>/result`
 * (`{header, status, feedback|result}`). Goals run on the shared {@link TrajectoryExecutor}.
 *
 * GoalStatus: ACTIVE 1 while running; SUCCEEDED 3; PREEMPTED 2 when canceled or replaced by a
 * newer goal (as SimpleActionServer does); ABORTED 4 when the controller stopped otherwise;
 * REJECTED 5 (reason in `text`) for a goal that is not playable.
 */
import {
  fromRosTime,
  type GoalStatusArrayMsg,
  GoalStatusCode,
  type GoalStatusMsg,
  type GoalIdMsg,
} from "../../shared/ros-msgs.ts";
import {
  type GoalSink,
  type TrajectoryExecutor,
  type TrajectoryGoal,
  trajectoryOf,
} from "./actions.ts";
import type { ActionSpec } from "./catalog.ts";
import type { SimCellCore } from "./cell.ts";
import { stampedHeader } from "./conversions.ts";
import { GoalRejectedError, ProtocolError, RequestRefusedError } from "./errors.ts";
import { describeIssues } from "../../shared/messages/common.ts";
import { type RosSchemas } from "../../shared/ros-schemas.ts";

/** Where actionlib publishes: the server's topic fan-out. */
export interface TopicBus {
  publish(topic: string, msg: unknown): void;
  hasSubscribers(topic: string): boolean;
}

/** How long a finished goal stays in the status list, ms (actionlib's status_list_timeout). */
const STATUS_LIST_TIMEOUT_MS = 5000;
/** Most goals kept in the status list. */
const MAX_STATUS_LIST = 64;

interface StatusEntry {
  msg: GoalStatusMsg;
  endedMs: number | null;
}

/** ROS 1: one actionlib action server over its five topics. */
export class ActionlibServer {
  readonly action: ActionSpec;
  readonly #executor: TrajectoryExecutor;
  readonly #schemas: RosSchemas;
  readonly #bus: TopicBus;
  readonly #cell: SimCellCore;
  readonly #now: () => number;
  readonly #statuses = new Map<string, StatusEntry>();
  readonly #seq = { status: 0, feedback: 0, result: 0 };
  #current: { goal: TrajectoryGoal; id: string; stampS: number } | null = null;
  #generated = 0;

  constructor(options: {
    action: ActionSpec;
    executor: TrajectoryExecutor;
    schemas: RosSchemas;
    bus: TopicBus;
    cell: SimCellCore;
    now: () => number;
  }) {
    this.action = options.action;
    this.#executor = options.executor;
    this.#schemas = options.schemas;
    this.#bus = options.bus;
    this.#cell = options.cell;
    this.#now = options.now;
  }

  /**
   * A message on `<action>/goal`.
   * @throws ProtocolError for a malformed goal message
   * @throws RequestRefusedError for a goal id already used
   */
  onGoal(raw: unknown): void {
    const parsed = this.#schemas.ActionGoalEnvelope.safeParse(raw ?? {});
    const goal = parsed.success ? trajectoryOf(this.action, this.#schemas, parsed.data.goal) : null;
    if (!parsed.success || !goal?.ok) {
      const reason = parsed.success
        ? (goal as { reason: string }).reason
        : describeIssues(parsed.error);
      throw new ProtocolError(`${this.action.name}/goal: ${reason}`, undefined, {
        cause: parsed.success ? undefined : parsed.error,
      });
    }
    const data = parsed.data;
    this.#generated += 1;
    const id =
      data.goal_id.id || `${this.action.name}-${this.#generated}-${this.#cell.stampS.toFixed(6)}`;
    if (this.#statuses.has(id)) throw new RequestRefusedError(`goal id "${id}" was already used`);
    const goalId = { stamp: data.goal_id.stamp, id };
    const status: GoalStatusMsg = { goal_id: goalId, status: GoalStatusCode.PENDING, text: "" };
    this.#remember(id, status);
    const trajectory = goal.trajectory;
    const sink: GoalSink = {
      feedback: (values) => {
        this.#bus.publish(`${this.action.name}/feedback`, {
          header: this.#header("feedback"),
          status,
          feedback: values,
        });
      },
      end: (end, result) => {
        status.status =
          end.kind === "succeeded"
            ? GoalStatusCode.SUCCEEDED
            : end.kind === "aborted"
              ? GoalStatusCode.ABORTED
              : GoalStatusCode.PREEMPTED;
        status.text =
          end.kind === "succeeded" ? "" : end.kind === "canceled" ? "canceled" : end.reason;
        this.#ended(id, status, result);
      },
    };
    try {
      const goal = this.#executor.start(this.action, trajectory, sink);
      this.#current = { goal, id, stampS: timeOf(goalId) };
      status.status = GoalStatusCode.ACTIVE;
      this.publishStatus();
    } catch (err) {
      if (!(err instanceof GoalRejectedError)) throw err;
      status.status = GoalStatusCode.REJECTED;
      status.text = err.message;
      this.#ended(id, status, this.#executor.rejectionResult(this.action, err));
    }
  }

  /**
   * A message on `<action>/cancel` (actionlib_msgs/GoalID): an empty id with a zero stamp
   * cancels every goal; an id cancels that goal; a stamp cancels goals sent at or before it.
   * @throws ProtocolError for a malformed message
   */
  onCancel(raw: unknown): void {
    const parsed = this.#schemas.GoalId.safeParse(raw ?? {});
    if (!parsed.success) {
      throw new ProtocolError(
        `${this.action.name}/cancel: ${describeIssues(parsed.error)}`,
        undefined,
        {
          cause: parsed.error,
        },
      );
    }
    const current = this.#current;
    if (!current || current.goal.ended) return;
    const stampS = timeOf(parsed.data);
    const { id } = parsed.data;
    const all = id === "" && stampS === 0;
    if (all || id === current.id || (stampS !== 0 && current.stampS <= stampS)) {
      this.#executor.cancel(current.goal);
    }
  }

  /** Publishes `<action>/status` (when anyone listens); also called at 5 Hz by the server. */
  publishStatus(): void {
    const topic = `${this.action.name}/status`;
    if (!this.#bus.hasSubscribers(topic)) return;
    const now = this.#now();
    for (const [id, e] of this.#statuses) {
      if (e.endedMs !== null && now - e.endedMs > STATUS_LIST_TIMEOUT_MS) this.#statuses.delete(id);
    }
    const msg: GoalStatusArrayMsg = {
      header: this.#header("status"),
      status_list: [...this.#statuses.values()].map((e) => e.msg),
    };
    this.#bus.publish(topic, msg);
  }

  #ended(id: string, status: GoalStatusMsg, result: unknown): void {
    const entry = this.#statuses.get(id);
    if (entry) entry.endedMs = this.#now();
    if (this.#current?.id === id) this.#current = null;
    this.#bus.publish(`${this.action.name}/result`, {
      header: this.#header("result"),
      status,
      result,
    });
    this.publishStatus();
  }

  #remember(id: string, msg: GoalStatusMsg): void {
    this.#statuses.set(id, { msg, endedMs: null });
    if (this.#statuses.size <= MAX_STATUS_LIST) return;
    for (const [k, e] of this.#statuses) {
      if (e.endedMs !== null) {
        this.#statuses.delete(k);
        return;
      }
    }
  }

  #header(topic: "status" | "feedback" | "result") {
    this.#seq[topic] += 1;
    return stampedHeader(this.#cell.stampS, 1, "", this.#seq[topic]);
  }
}

/** Stamp of a goal id, s. */
function timeOf(g: Pick<GoalIdMsg, "stamp">): number {
  return fromRosTime(g.stamp);
}
