/**
 * A twin session's link to the agents: utterances go through the intent agent and each
 * intent is carried out with the speaker's own rights (an intent never raises a role and
 * never moves the arm: a move becomes a plan that an operator must approve); changes in the
 * cell (an arm added, a person moving) make the controller decide again; the agent panel
 * in the room state is built from here.
 *
 * The radio environment comes from the twin: the gNB where the cell's config puts it, the
 * headset at the speaker's head (or the first tracked head), the real arm at its measured
 * joints and every virtual arm at its pose.
 */
import type { Logger } from "pino";
import type { Pose, Vec3 } from "../../shared/geometry.ts";
import { ErrorCode } from "../../shared/messages/common.ts";
import {
  type AgentController,
  AgentUnavailableError,
  type Decision,
  type LinkSituation,
} from "../agents/controller.ts";
import { hearsStop } from "../agents/intent/grammar-parser.ts";
import type { Intent } from "../agents/intent/intents.ts";
import { AgentBusyError, AgentWorkLimiter } from "../agents/work-limiter.ts";
import { type IntentModel, labelWithHealth, resultNotes } from "../agents/intent/intent-model.ts";
import { Capability as Cap, can } from "../auth/roles.ts";
import { armGeometry } from "../net/arm-geometry.ts";
import type {
  ArmGeometry,
  FlowWindow,
  RadioEnvironment,
  TrafficScenario,
} from "../net/contracts.ts";
import type { Actor } from "./actor.ts";
import { CommandError } from "./errors.ts";
import type { RobotDescription } from "../sim/robot-description.ts";
import type { AgentPanel, SessionAgents, TwinSession } from "./session.ts";

export interface AgentBridgeOptions {
  session: TwinSession;
  controller: AgentController;
  intents: IntentModel;
  robot: RobotDescription;
  /** gNB antenna, `world`. */
  gnb: Vec3;
  patchRateHz: number;
  /** Wait after a change before deciding again, ms (bursts of changes give one decision). */
  debounceMs?: number;
  /** Intent model deadline, ms. */
  intentTimeoutMs: number;
  /** `id (model)` of the agents, for the panel. */
  agentsLabel: string;
  /** The traffic agent's life-long adaptation input (absent without a learned model). */
  observeTraffic?: (windows: readonly FlowWindow[], scenario: TrafficScenario) => Promise<unknown>;
  /** How often measured traffic is handed to the traffic agent, ms (default 30 000). */
  observeEveryMs?: number;
  /** Bounds the room's agent work per room and per user (default: DEFAULT_WORK_LIMITS). */
  limiter?: AgentWorkLimiter;
  logger: Logger;
}

/** Where a headset is assumed to be when nobody has sent a head pose yet, `world`. */
const DEFAULT_HEADSET: Vec3 = { x: 1.5, y: 0.6, z: 1.6 };
/** Where "a second arm on the left/right/…" goes: along the line, 1.2 m from the real arm. */
const ARM_SIDES: Record<string, Vec3> = {
  left: { x: 0, y: 1.2, z: 0.8 },
  right: { x: 0, y: -1.2, z: 0.8 },
  front: { x: 1.2, y: 0, z: 0.8 },
  back: { x: -1.2, y: 0, z: 0.8 },
};
const UPRIGHT = { x: 0, y: 0, z: 0, w: 1 };

/** One failed intent for the reply: what was asked and why it failed. */
function failureText({ intent, err }: { intent: Intent; err: unknown }): string {
  const why = err instanceof CommandError ? err.message : "internal error";
  return `${intent.kind}: ${why}`;
}

/** Decisions shown in the room state's panel (the full log is on socket.io and in the recording). */
const PANEL_DECISIONS = 10;

export class AgentBridge implements SessionAgents {
  /** Bumped whenever the panel changes (state sync copies only then). */
  version = 0;
  readonly #o: AgentBridgeOptions;
  #timer: NodeJS.Timeout | null = null;
  #observer: NodeJS.Timeout | null = null;
  #closed = false;
  readonly #limiter: AgentWorkLimiter;

  constructor(options: AgentBridgeOptions) {
    this.#o = options;
    this.#limiter = options.limiter ?? new AgentWorkLimiter();
    options.controller.onDecision(() => (this.version += 1));
  }

  get controller(): AgentController {
    return this.#o.controller;
  }

  decisions(): readonly Decision[] {
    return this.#o.controller.decisions();
  }

  panel(): AgentPanel {
    const c = this.#o.controller;
    // The intent backend's health changes outside decisions: both counters only grow, so
    // their sum changes whenever either does.
    const healthVersion = this.#o.intents.health?.().version ?? 0;
    return {
      version: this.version + healthVersion,
      agents: labelWithHealth(this.#o.agentsLabel, this.#o.intents),
      wantedRung: c.wantedRung,
      allocation: c.allocation,
      decisions: c.decisions().slice(-PANEL_DECISIONS),
    };
  }

  /** The first decision, so the panel is never empty; then the traffic observation loop. */
  start(): void {
    const observe = this.#o.observeTraffic;
    if (observe) {
      this.#observer = setInterval(() => {
        const windows = this.#o.session.traffic.takeWindows();
        if (windows.length === 0) return;
        // One process-wide agent: a call while another room's adaptation runs is skipped.
        observe(windows, this.situation(null).traffic).catch((err: unknown) =>
          this.#o.logger.debug({ err }, "traffic observation skipped"),
        );
      }, this.#o.observeEveryMs ?? 30_000);
      this.#observer.unref();
    }
    this.#background(() => this.#o.controller.allocate(this.situation(null), "start"));
  }

  /**
   * Carries out what `actor` said. A stop the grammar hears acts before anything is awaited
   * (the same `motion.stop` as the STOP message, in the same turn of the event loop) and no
   * model is asked. Otherwise the intent model reads the utterance and each intent is carried
   * out with the speaker's rights; the summary says what was done, what failed, whether the
   * grammar stood in for the model and, marked as such, what the model itself said. Rejects
   * only when nothing was done (with the first failure).
   */
  async utterance(actor: Actor, text: string): Promise<{ summary: string }> {
    const o = this.#o;
    if (hearsStop(text)) {
      if (!can(actor.role, Cap.Stop)) {
        throw new CommandError(ErrorCode.Forbidden, `role ${actor.role} may not stop the arm`);
      }
      o.session.motion.stop(actor);
      o.logger.info({ sessionId: actor.sessionId }, "spoken stop: arm stopped");
      return { summary: "stopped" };
    }
    const ctx = {
      namedPoses: [...o.robot.namedPoses.keys()],
      objectIds: o.session.objects().map((x) => x.id),
      rungs: o.controller.ladder.map((r) => r.name),
      ...(o.controller.wantedRung !== null && { currentRung: o.controller.wantedRung }),
      role: actor.role,
    };
    const result = await o.intents.parse(text, ctx, AbortSignal.timeout(o.intentTimeoutMs + 1000));
    const done: string[] = [];
    const failed: { intent: Intent; err: unknown }[] = [];
    for (const intent of result.intents) {
      try {
        done.push(await this.#carryOut(actor, intent));
      } catch (err) {
        if (!(err instanceof CommandError)) {
          o.logger.error({ err, intent: intent.kind }, "intent failed");
        }
        failed.push({ intent, err });
      }
    }
    const notes = resultNotes(result);
    const first = failed[0];
    if (first !== undefined && done.length === 0) {
      // Nothing happened: the reply is an error, with every failure and the notes in it.
      const code = first.err instanceof CommandError ? first.err.code : ErrorCode.Internal;
      const message = [...failed.map(failureText), ...notes].join("; ");
      throw new CommandError(code, message, { cause: first.err });
    }
    const lines = [...done];
    if (failed.length > 0) lines.push(`not done: ${failed.map(failureText).join("; ")}`);
    return { summary: [...lines, ...notes].join("; ") };
  }

  environmentChanged(reason: string): void {
    if (this.#closed) return;
    const o = this.#o;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      o.logger.debug({ reason }, "environment changed; deciding again");
      this.#background(() => o.controller.allocate(this.situation(null), "environment_change"));
    }, o.debounceMs ?? 200);
    this.#timer.unref();
  }

  close(): void {
    this.#closed = true;
    this.#limiter.close();
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#observer) clearInterval(this.#observer);
  }

  /**
   * The link as the agents see it now. `wanted` overrides the rung (undefined keeps it).
   * @param extraArm a hypothetical arm for what-if questions
   */
  situation(
    headsetOf: string | null,
    wanted?: string | null,
    extraArm?: ArmGeometry,
  ): LinkSituation {
    const o = this.#o;
    const s = o.session;
    const measured = s.robot;
    const arms: ArmGeometry[] = [
      armGeometry(o.robot.kinematics, measured.positions, o.robot.basePose, "panda"),
    ];
    for (const a of s.virtualArms()) arms.push(armGeometry(o.robot.kinematics, a.q, a.base, a.id));
    if (extraArm) arms.push(extraArm);
    const radio: RadioEnvironment = { gnb: o.gnb, headset: this.#headset(headsetOf), arms };
    return {
      radio,
      traffic: {
        arms: arms.length,
        headsets: Math.max(1, s.presence.count()),
        patchRateHz: o.patchRateHz,
        videoRung: null,
      },
      wantedRung: wanted === undefined ? o.controller.wantedRung : wanted,
    };
  }

  async #carryOut(actor: Actor, intent: Intent): Promise<string> {
    const o = this.#o;
    const s = o.session;
    const need = (capability: Cap, what: string) => {
      if (!can(actor.role, capability)) {
        throw new CommandError(ErrorCode.Forbidden, `role ${actor.role} may not ${what}`);
      }
    };
    try {
      switch (intent.kind) {
        case "stop":
          s.motion.stop(actor);
          return "stopped";
        case "move_arm": {
          need(Cap.Motion, "move the arm");
          const plan = await s.motion.plan(
            actor,
            intent.target === "goal" ? undefined : { kind: "named", name: intent.target },
          );
          return intent.execute
            ? `${plan.id} to ${intent.target} validated in the twin; waiting for an operator's approval`
            : `${plan.id} to ${intent.target} previewed (not for execution until approved)`;
        }
        case "add_object": {
          need(Cap.EditScene, "edit the scene");
          const at = intent.position ?? ARM_SIDES[intent.side ?? "left"] ?? ARM_SIDES.left!;
          if (intent.object === "arm") {
            const id = s.addVirtualArm({
              ...(intent.id && { id: intent.id }),
              base: { position: at, orientation: UPRIGHT },
            });
            return `virtual arm ${id} added at (${at.x}, ${at.y}, ${at.z})`;
          }
          const shape =
            intent.object === "box"
              ? { kind: "box" as const, size: { x: 0.1, y: 0.1, z: 0.1 } }
              : intent.object === "cylinder"
                ? { kind: "cylinder" as const, radius: 0.05, height: 0.2 }
                : { kind: "sphere" as const, radius: 0.05 };
          const result = await s.handle(actor, {
            type: "addObject",
            body: {
              shape,
              pose: {
                position: intent.position ?? { x: 0.5, y: 0.3, z: 0.95 },
                orientation: UPRIGHT,
              },
              ...(intent.id && { id: intent.id }),
            },
          });
          return `${intent.object} ${result?.id ?? ""} added`;
        }
        case "remove_object":
          need(Cap.EditScene, "edit the scene");
          await s.handle(actor, { type: "removeObject", body: { id: intent.id } });
          return `${intent.id} removed`;
        case "set_resolution": {
          const rung = intent.rung ?? o.controller.neighbourRung(intent.direction);
          const d = await this.#queue(actor.userId, () =>
            o.controller.allocate(
              this.situation(actor.sessionId, rung),
              "utterance",
              intent.direction === "raise" ? "raise_resolution" : "lower_resolution",
            ),
          );
          return d.summary;
        }
        case "evaluate_impact": {
          if (intent.subject === "add_arm") {
            const now = this.situation(actor.sessionId);
            const side = ARM_SIDES.left!;
            const arm = armGeometry(
              o.robot.kinematics,
              o.robot.home,
              { position: side, orientation: UPRIGHT },
              "proposed-arm",
            );
            const d = await this.#queue(actor.userId, () =>
              o.controller.evaluateAddArm(
                now,
                this.situation(actor.sessionId, undefined, arm),
                "utterance",
              ),
            );
            return d.summary;
          }
          const rung =
            intent.subject === "raise_resolution"
              ? (intent.rung ?? o.controller.neighbourRung("raise"))
              : undefined;
          const d = await this.#queue(actor.userId, () =>
            o.controller.allocate(
              this.situation(actor.sessionId, rung),
              "utterance",
              intent.subject === "current" ? "evaluate_current" : "evaluate_resolution",
              false,
            ),
          );
          return `what-if: ${d.summary}`;
        }
        case "unknown":
          return `not understood (${intent.reason})`;
      }
    } catch (err) {
      if (err instanceof AgentUnavailableError)
        throw new CommandError(ErrorCode.Conflict, err.message, { cause: err });
      if (err instanceof AgentBusyError)
        throw new CommandError(ErrorCode.Busy, err.message, { cause: err });
      throw err;
    }
  }

  /**
   * Queues a decision nobody waits for; when the room's agents are busy it is skipped (the
   * queued decisions see the cell as it is when they run).
   */
  #background(fn: () => Promise<unknown>): void {
    this.#queue(null, fn).catch((err: unknown) => {
      if (err instanceof AgentBusyError) this.#o.logger.debug({ err }, "decision skipped");
    });
  }

  /**
   * Decisions run one at a time from a bounded queue (see AgentWorkLimiter): over the room's
   * or the user's bound the request is refused with AgentBusyError instead of queued.
   */
  #queue<T>(userId: string | null, fn: () => Promise<T>): Promise<T> {
    const next = this.#limiter.run(userId, fn);
    next.catch((err: unknown) => {
      if (!(err instanceof AgentBusyError)) this.#o.logger.error({ err }, "agent decision failed");
    });
    return next;
  }

  #headset(sessionId: string | null): Vec3 {
    const people = [...this.#o.session.presence.all()];
    const own = sessionId ? people.find((p) => p.actor.sessionId === sessionId)?.head : undefined;
    const any = people.find((p) => p.head)?.head;
    return ((own ?? any) as Pose | undefined)?.position ?? DEFAULT_HEADSET;
  }
}
