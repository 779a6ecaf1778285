/**
 * Trajectory action clients over rosbridge, one per connection and action name (the cell
 * creates them on first use and disposes them when the connection is lost or replaced):
 *
 * - ROS 2: rosbridge's `send_action_goal` / `cancel_action_goal` ops, answered by
 *   `action_feedback` and `action_result` with the goal's op id. roslib's `Action` leaves a
 *   listener behind per goal, so the ops are sent here directly and every listener is removed
 *   when its goal ends. Cancel-all (and the proof that the cell heard it) is the action's
 *   `_action/cancel_goal` service with a zero goal id.
 * - ROS 1: actionlib over topics with roslib's `ActionClient` (goal, cancel, status,
 *   feedback, result); one client per action, never one per goal (each client holds three
 *   subscriptions and two advertisements).
 *
 * A goal is "active" when the action server took it up: ROS 2 on its first feedback; ROS 1
 * when its status says ACTIVE or on its first feedback.
 */
import { ActionClient, Goal } from "roslib";
import { GoalStatusCode, type RosVersion } from "../../shared/ros-msgs.ts";
import type { RosConnection } from "./ros-connection.ts";

/** What a goal reports back. */
export interface GoalHandlers<F, R> {
  active(): void;
  feedback(f: F): void;
  /** The action server finished the goal: `ok` for success, else `reason`. */
  result(r: R | undefined, ok: boolean, reason: string): void;
}

export interface ActionChannel<G, F, R> {
  readonly name: string;
  /** Sends a goal; returns its id. */
  send(goal: G, handlers: GoalHandlers<F, R>): string;
  /** Asks the server to cancel one goal (no answer expected). */
  cancel(goalId: string): void;
  /**
   * Cancels every goal of the action and resolves true once the cell shows it heard it
   * (ROS 2: the cancel service answered; ROS 1: a status no longer lists `goalId` as
   * running), false after `timeoutMs`.
   */
  cancelAll(goalId: string | null, timeoutMs: number): Promise<boolean>;
  /** Forgets a goal's listeners (it ended, or the execution gave up on it). */
  forget(goalId: string): void;
  dispose(): void;
}

/** GoalStatus values of a goal still pending or running (actionlib). */
const RUNNING_ROS1: ReadonlySet<number> = new Set([
  GoalStatusCode.PENDING,
  GoalStatusCode.ACTIVE,
  GoalStatusCode.PREEMPTING,
  GoalStatusCode.RECALLING,
]);

let nextId = 0;

export function openActionChannel<G, F, R>(
  version: RosVersion,
  connection: RosConnection,
  name: string,
  type: string,
): ActionChannel<G, F, R> {
  return version === 2
    ? new Ros2Channel<G, F, R>(connection, name, type)
    : new Ros1Channel<G, F, R>(connection, name, type);
}

type RosEventListener = (m: unknown) => void;

class Ros2Channel<G, F, R> implements ActionChannel<G, F, R> {
  readonly #goals = new Map<string, RosEventListener>();
  readonly #ros;
  constructor(
    readonly connection: RosConnection,
    readonly name: string,
    readonly type: string,
  ) {
    this.#ros = connection.ros;
  }

  send(goal: G, h: GoalHandlers<F, R>): string {
    nextId += 1;
    const id = `send_action_goal:${this.name}:${nextId}`;
    let active = false;
    const listener: RosEventListener = (raw) => {
      const m = raw as {
        op?: string;
        values?: unknown;
        status?: number;
        result?: boolean;
      };
      if (m.op === "action_feedback") {
        if (!active) {
          active = true;
          h.active();
        }
        h.feedback(m.values as F);
      } else if (m.op === "action_result") {
        this.forget(id);
        if (m.result === true && m.status === 4 /* SUCCEEDED */) h.result(m.values as R, true, "");
        else {
          const detail = typeof m.values === "string" ? m.values : JSON.stringify(m.values);
          h.result(
            m.result === true ? (m.values as R) : undefined,
            false,
            `${this.name} ended the goal with status ${m.status ?? "?"}: ${(detail ?? "").slice(0, 200)}`,
          );
        }
      }
    };
    this.#goals.set(id, listener);
    (this.#ros as unknown as { on(e: string, l: RosEventListener): void }).on(id, listener);
    this.connection.send({
      op: "send_action_goal",
      id,
      action: this.name,
      action_type: this.type,
      args: goal,
      feedback: true,
    });
    return id;
  }

  cancel(goalId: string): void {
    if (!this.connection.isUp) return;
    this.connection.send({ op: "cancel_action_goal", id: goalId, action: this.name });
  }

  async cancelAll(_goalId: string | null, timeoutMs: number): Promise<boolean> {
    try {
      await this.connection.callService(
        `${this.name}/_action/cancel_goal`,
        "action_msgs/srv/CancelGoal",
        {
          goal_info: {
            goal_id: { uuid: new Array<number>(16).fill(0) },
            stamp: { sec: 0, nanosec: 0 },
          },
        },
        timeoutMs,
      );
      return true;
    } catch {
      return false;
    }
  }

  forget(goalId: string): void {
    const l = this.#goals.get(goalId);
    if (!l) return;
    this.#goals.delete(goalId);
    (this.#ros as unknown as { off(e: string, l: RosEventListener): void }).off(goalId, l);
  }

  dispose(): void {
    for (const id of [...this.#goals.keys()]) this.forget(id);
  }
}

class Ros1Channel<G, F, R> implements ActionChannel<G, F, R> {
  readonly #client: ActionClient<G, F, R>;
  readonly #goals = new Map<string, Goal<G>>();
  /** Listeners on every status message (cancel confirmations). */
  readonly #statusWatchers = new Set<(list: { id: string; status: number }[]) => void>();
  constructor(
    readonly connection: RosConnection,
    readonly name: string,
    type: string,
  ) {
    this.#client = new ActionClient<G, F, R>({
      ros: connection.ros,
      serverName: name,
      actionName: type,
    });
    this.#client.statusListener.subscribe((msg) => {
      const list = (msg.status_list ?? []).map((s) => ({ id: s.goal_id.id, status: s.status }));
      for (const w of [...this.#statusWatchers]) w(list);
    });
  }

  send(goal: G, h: GoalHandlers<F, R>): string {
    const g = new Goal<G>({ actionClient: this.#client, goalMessage: goal });
    const id = g.goalID;
    let active = false;
    const activate = () => {
      if (active) return;
      active = true;
      h.active();
    };
    g.on("status", (s: { status: number }) => {
      if (s.status === GoalStatusCode.ACTIVE) activate();
    });
    g.on("feedback", (f) => {
      activate();
      h.feedback(f as F);
    });
    g.on("result", (r) => {
      const status = g.status as { status?: number; text?: string } | undefined;
      this.forget(id);
      if (status?.status === GoalStatusCode.SUCCEEDED) h.result(r as R, true, "");
      else
        h.result(
          r as R,
          false,
          `${this.name}: goal ended with status ${status?.status ?? "?"}${status?.text ? ` (${status.text})` : ""}`,
        );
    });
    this.#goals.set(id, g);
    g.send();
    return id;
  }

  cancel(goalId: string): void {
    if (!this.connection.isUp) return;
    this.#client.cancelTopic.publish({ id: goalId });
  }

  cancelAll(goalId: string | null, timeoutMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      let lastSent = 0;
      const publish = () => {
        if (!this.connection.isUp) return;
        lastSent = Date.now();
        // An empty id with a zero stamp cancels every goal (actionlib); the goal's own id too.
        this.#client.cancelTopic.publish({});
        if (goalId) this.#client.cancelTopic.publish({ id: goalId });
      };
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.#statusWatchers.delete(watch);
        resolve(ok);
      };
      const watch = (list: { id: string; status: number }[]) => {
        const mine = goalId ? list.find((s) => s.id === goalId) : undefined;
        const running = goalId
          ? mine !== undefined && RUNNING_ROS1.has(mine.status)
          : list.some((s) => RUNNING_ROS1.has(s.status));
        if (!running) done(true);
        // ROS 1 may drop what is published right after advertising: say it again.
        else if (Date.now() - lastSent > 200) publish();
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.#statusWatchers.add(watch);
      publish();
    });
  }

  forget(goalId: string): void {
    const g = this.#goals.get(goalId);
    if (!g) return;
    g.removeAllListeners();
    this.#goals.delete(goalId);
    delete this.#client.goals[goalId];
  }

  dispose(): void {
    for (const id of [...this.#goals.keys()]) this.forget(id);
    this.#statusWatchers.clear();
    this.#client.dispose();
  }
}
