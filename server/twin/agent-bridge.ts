/**
 * A twin session's link to the agents, through the shared {@link AgentOrchestrator} (which
 * reads utterances, schedules decisions and keeps the panel): here is what is the twin's own.
 * Each intent is carried out with the speaker's own rights (an intent never raises a role and
 * never moves the arm: a move becomes a plan that an operator must approve); changes in the
 * cell (an arm added, an object removed) make the controller decide again.
 *
 * The radio environment comes from the twin: the gNB where the cell's config puts it, the
 * headset at the speaker's head (or the first tracked head), the real arm at its measured
 * joints and every virtual arm at its pose.
 */
import type { Pose, Vec3 } from "../../shared/geometry.ts";
import { ErrorCode } from "../../shared/messages/common.ts";
import type { Decision, DecisionTask, LinkSituation } from "../agents/controller.ts";
import type { IntentContext } from "../agents/intent/intent-model.ts";
import type { Intent } from "../agents/intent/intents.ts";
import {
  type AgentPanel,
  type AgentSetup,
  AgentOrchestrator,
  type AgentSessionContext,
} from "../agents/orchestrator.ts";
import { Capability as Cap, can } from "../auth/roles.ts";
import { DEFAULT_LADDER, type Rung } from "../net/allocation.ts";
import { armGeometry } from "../net/arm-geometry.ts";
import type {
  ArmGeometry,
  FlowWindow,
  RadioEnvironment,
  TrafficScenario,
} from "../net/contracts.ts";
import type { RobotDescription } from "../sim/robot-description.ts";
import type { Actor } from "./actor.ts";
import { COMMAND_REFUSALS, CommandError } from "./errors.ts";
import type { SessionAgents, TwinSession } from "./session.ts";

/** The twin's agents as the composition root configures them (the session is added later). */
export interface TwinAgentsSetup extends AgentSetup {
  /** gNB antenna, `world`. */
  gnb: Vec3;
  patchRateHz: number;
  /** Wait after a change in the cell before deciding again, ms (default 200). */
  settleMs?: number;
  /** The traffic agent's life-long adaptation input (absent without a learned model). */
  observeTraffic?: (windows: readonly FlowWindow[], scenario: TrafficScenario) => Promise<unknown>;
  /** How often measured traffic is handed to the traffic agent, ms (default 30 000). */
  observeEveryMs?: number;
}

export interface AgentBridgeOptions extends TwinAgentsSetup {
  session: TwinSession;
  robot: RobotDescription;
}

/** The twin has one link: the cell's downlink, shared by every headset in the room. */
const CELL = "cell";
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

/**
 * The twin session's side of its {@link AgentOrchestrator}: the cell's radio situation, what
 * each intent does in the twin, and the traffic observation loop. Built by the session's
 * constructor (see session-factory.ts); the first decision is queued at once, so the panel is
 * never empty for long.
 */
export class AgentBridge implements SessionAgents, AgentSessionContext<Actor> {
  readonly #o: AgentBridgeOptions;
  readonly #agents: AgentOrchestrator<Actor>;
  #observer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(options: AgentBridgeOptions) {
    this.#o = options;
    this.#agents = new AgentOrchestrator({
      ...options,
      context: this,
      refusals: COMMAND_REFUSALS,
    });
    const observe = options.observeTraffic;
    if (observe) {
      this.#observer = setInterval(() => {
        const windows = options.session.traffic.takeWindows();
        if (windows.length === 0) return;
        // One process-wide agent: a call while another room's adaptation runs is skipped.
        observe(windows, this.#situationFor(null).traffic).catch((err: unknown) =>
          options.logger.debug({ err }, "traffic observation skipped"),
        );
      }, options.observeEveryMs ?? 30_000);
      this.#observer.unref();
    }
    this.#agents.redecide(CELL, "start");
  }

  decisions(): readonly Decision[] {
    return this.#agents.decisions();
  }

  panel(): AgentPanel {
    return this.#agents.panel();
  }

  /** See {@link AgentOrchestrator.utterance}; a spoken stop is `motion.stop`, as STOP is. */
  utterance(actor: Actor, text: string): Promise<{ summary: string }> {
    return this.#agents.utterance(actor, text);
  }

  environmentChanged(reason: string): void {
    if (this.#closed) return;
    this.#o.logger.debug({ reason }, "environment changed; deciding again");
    this.#agents.redecide(CELL, "environment_change", this.#o.settleMs ?? 200);
  }

  close(): void {
    this.#closed = true;
    this.#agents.close();
    if (this.#observer) clearInterval(this.#observer);
  }

  // --- AgentSessionContext -------------------------------------------------------------

  ladder(): readonly Rung[] {
    return DEFAULT_LADDER;
  }

  spokenStop(actor: Actor): string {
    if (!can(actor.role, Cap.Stop)) {
      throw new CommandError(ErrorCode.Forbidden, `role ${actor.role} may not stop the arm`);
    }
    this.#o.session.motion.stop(actor);
    this.#o.logger.info({ sessionId: actor.sessionId }, "spoken stop: arm stopped");
    return "stopped";
  }

  intentContext(actor: Actor): IntentContext {
    const o = this.#o;
    const c = this.#agents.controller(CELL);
    return {
      namedPoses: [...o.robot.namedPoses.keys()],
      objectIds: o.session.objects().map((x) => x.id),
      rungs: c.ladder.map((r) => r.name),
      ...(c.wantedRung !== null && { currentRung: c.wantedRung }),
      role: actor.role,
    };
  }

  decided(_link: string, d: Decision): void {
    this.#o.session.recordDecision(d);
  }

  /** The cell's downlink as the agents see it now (the first tracked head as the headset). */
  situation(): LinkSituation {
    return this.#situationFor(null);
  }

  async carryOut(actor: Actor, intent: Intent): Promise<string> {
    const o = this.#o;
    const s = o.session;
    const agents = this.#agents;
    const c = agents.controller(CELL);
    const need = (capability: Cap, what: string) => {
      if (!can(actor.role, capability)) {
        throw new CommandError(ErrorCode.Forbidden, `role ${actor.role} may not ${what}`);
      }
    };
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
        const rung = intent.rung ?? c.neighbourRung(intent.direction);
        const task = intent.direction === "raise" ? "raise_resolution" : "lower_resolution";
        const d = await this.#allocate(actor, task, true, rung);
        return d?.summary ?? "";
      }
      case "evaluate_impact": {
        if (intent.subject === "add_arm") {
          const arm = armGeometry(
            o.robot.kinematics,
            o.robot.home,
            { position: ARM_SIDES.left!, orientation: UPRIGHT },
            "proposed-arm",
          );
          const d = await agents.ask(actor, {
            kind: "evaluate_add_arm",
            link: CELL,
            trigger: "utterance",
            now: () => this.#situationFor(actor.sessionId),
            withArm: () => this.#situationFor(actor.sessionId, undefined, arm),
          });
          return d?.summary ?? "";
        }
        const rung =
          intent.subject === "raise_resolution"
            ? (intent.rung ?? c.neighbourRung("raise"))
            : undefined;
        const task = intent.subject === "current" ? "evaluate_current" : "evaluate_resolution";
        const d = await this.#allocate(actor, task, false, rung);
        return `what-if: ${d?.summary ?? ""}`;
      }
      case "unknown":
        return `not understood (${intent.reason})`;
    }
  }

  /**
   * An allocation of the cell `actor` asked for by voice, decided for their own head with
   * `rung` wanted (undefined keeps the controller's).
   * @param apply false for a what-if
   */
  #allocate(
    actor: Actor,
    task: DecisionTask,
    apply: boolean,
    rung: string | null | undefined,
  ): Promise<Decision | null> {
    return this.#agents.ask(actor, {
      kind: "allocate",
      link: CELL,
      trigger: "utterance",
      task,
      apply,
      situation: () => this.#situationFor(actor.sessionId, rung),
    });
  }

  /**
   * The link as the agents see it now, with `headsetOf`'s head as the headset (null: the
   * first tracked head). `wanted` overrides the rung (undefined keeps the controller's).
   * @param extraArm a hypothetical arm for what-if questions
   */
  #situationFor(
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
        // What the headsets send, as measured (absent: the Unity bridge's defaults).
        ...s.measuredPoses(),
      },
      wantedRung: wanted === undefined ? this.#agents.controller(CELL).wantedRung : wanted,
    };
  }

  #headset(sessionId: string | null): Vec3 {
    const people = [...this.#o.session.presence.all()];
    const own = sessionId ? people.find((p) => p.actor.sessionId === sessionId)?.head : undefined;
    const any = people.find((p) => p.head)?.head;
    return ((own ?? any) as Pose | undefined)?.position ?? DEFAULT_HEADSET;
  }
}
