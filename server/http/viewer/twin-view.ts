/**
 * The digital-twin view: joins `digital_twin` with the token, draws the twin (TwinScene),
 * keeps the panels current and turns the controls into room messages
 * (shared/messages/twin.ts): jog (held buttons resend every 100 ms; releasing stops
 * resending, and the server's dead-man switch halts the joint), plan to a named pose,
 * approve the newest validated plan, reset, STOP (button or Escape), utterances, and the
 * headset poses while in WebXR.
 */
import { Client, type Room } from "@colyseus/sdk";
import type { z } from "zod";
import type { AckMessage, ErrorMessage } from "../../../shared/messages/common.ts";
import type { TwinMessageSchemas } from "../../../shared/messages/twin.ts";
import { TwinState, type PlanState } from "../../../shared/schema/twin-state.ts";
import { robotInfo, robotUrdf, type RobotInfo } from "./api.ts";
import type { ViewerSnapshot } from "./debug-hooks.ts";
import { $, el, setText } from "./dom.ts";
import { JointInterpolator } from "./interpolation.ts";
import { GoalGizmo } from "./goal-gizmo.ts";
import { Chat, EventLog, renderAgentPanel, showSpace } from "./panels.ts";
import { followRoom, leaveOnPageHide } from "./rejoin.ts";
import { Stage } from "./stage.ts";
import { TwinScene } from "./twin-scene.ts";
import { describeError, stageMessage, throttle, type ViewContext } from "./view-context.ts";

type TwinBody<K extends keyof typeof TwinMessageSchemas> = z.input<(typeof TwinMessageSchemas)[K]>;

/** Jog messages are resent this often while a button is held (the dead-man is 250 ms). */
const JOG_RESEND_MS = 100;
/** Panels refresh at most this often, ms. */
const PANEL_MS = 100;
/** WebXR poses are sent at most at this rate (within the room's per-client budget). */
const POSE_MIN_INTERVAL_MS = 1000 / 60;

export async function startTwinView(ctx: ViewContext): Promise<void> {
  const { status } = ctx;
  status.set("connecting", "loading the robot…");
  const [info, urdf] = await Promise.all([robotInfo(ctx.token), robotUrdf(ctx.token)]);
  const stage = new Stage($("#stage"));
  const twin = new TwinScene(stage, urdf, info);
  if (!stage.renderer) {
    stageMessage(
      `3D view unavailable (no WebGL: ${stage.webglError || "not supported"}). ` +
        "The panels and controls work.",
    );
  }
  stage.addVrButton();
  const events = new EventLog();
  const dof = info.joints.length;

  status.set("connecting", "joining digital_twin…");
  const client = new Client(location.origin);
  client.auth.token = ctx.token;
  let room: Room<unknown, TwinState>;
  try {
    room = ctx.roomId
      ? await client.joinById(ctx.roomId, {}, TwinState)
      : await client.joinOrCreate("digital_twin", {}, TwinState);
  } catch (err) {
    status.set("error", `could not join digital_twin: ${describeError(err)}`);
    events.push("error", status.text);
    return;
  }
  status.set("connected", `connected as ${ctx.role}`);
  $("#twin-panel").hidden = false;
  showSpace("twin", room.roomId, false);
  $("#legend").hidden = !stage.renderer;
  const send = <K extends keyof typeof TwinMessageSchemas>(type: K, body: TwinBody<K>) => {
    room.send(type, body);
  };
  let requests = 0;
  const rid = (prefix: string) => `${prefix}-${++requests}`;

  // --- controls -----------------------------------------------------------------------
  const isOperator = ctx.role === "operator";
  const operatorControls: HTMLButtonElement[] = [];
  const jointCells = buildJointTable(info, isOperator, operatorControls);
  const jog = new JogControl((joint, velocity) => send("jog", { mode: "joint", joint, velocity }));
  const speed = $<HTMLSelectElement>("#jog-speed");
  $("#joints").addEventListener("pointerdown", (e) => {
    const btn = (e.target as HTMLElement).closest<HTMLButtonElement>("button.jog");
    if (!btn || btn.disabled || e.button !== 0) return;
    e.preventDefault();
    btn.setPointerCapture(e.pointerId);
    const j = Number(btn.dataset.joint);
    const v = Number(btn.dataset.dir) * Number(speed.value) * info.joints[j]!.maxVelocity;
    jog.start(btn, j, v);
  });
  for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
    $("#joints").addEventListener(type, () => jog.stop());
  }
  $("#joints").addEventListener("keydown", (e) => {
    const btn = (e.target as HTMLElement).closest<HTMLButtonElement>("button.jog");
    if (!btn || btn.disabled || e.repeat || (e.key !== " " && e.key !== "Enter")) return;
    e.preventDefault();
    const j = Number(btn.dataset.joint);
    jog.start(btn, j, Number(btn.dataset.dir) * Number(speed.value) * info.joints[j]!.maxVelocity);
  });
  $("#joints").addEventListener("keyup", () => jog.stop());
  window.addEventListener("blur", () => jog.stop());
  document.addEventListener("visibilitychange", () => jog.stop());

  const poses = $("#named-poses");
  for (const name of Object.keys(info.namedPoses)) {
    const b = el(
      "button",
      { type: "button", class: "plan-to", "data-pose": name },
      `Plan to ${name}`,
    );
    b.addEventListener("click", () =>
      send("plan", { goal: { kind: "named", name }, requestId: rid("plan") }),
    );
    poses.append(b);
    operatorControls.push(b);
  }
  // --- goal handle: place any tool pose as the goal, then plan to it -----------------
  const linkNames = Object.keys(twin.robot.links);
  const toolLink =
    linkNames.find((n) => /tcp$/i.test(n)) ?? linkNames.find((n) => /hand$/i.test(n)) ?? "";
  const gizmo = new GoalGizmo(
    stage,
    () => twin.robot.links[toolLink],
    (pose) => send("goal", { goal: { kind: "pose", pose }, requestId: rid("goal") }),
  );
  const gizmoButton = $<HTMLButtonElement>("#goal-gizmo");
  const turnButton = $<HTMLButtonElement>("#goal-turn");
  const planGoal = $<HTMLButtonElement>("#plan-goal");
  const setGizmo = (on: boolean) => {
    gizmo.setActive(on);
    gizmoButton.setAttribute("aria-pressed", String(on));
    gizmoButton.textContent = on ? "Done placing" : "Place goal…";
    turnButton.hidden = !on;
    $("#legend-gizmo").hidden = !on;
  };
  const setMode = (mode: "translate" | "rotate") => {
    gizmo.setMode(mode);
    turnButton.textContent = mode === "rotate" ? "Move" : "Turn";
  };
  if (!gizmo.available) gizmoButton.title = "needs the 3D view (WebGL)";
  gizmoButton.addEventListener("click", () => setGizmo(!gizmo.active));
  turnButton.addEventListener("click", () =>
    setMode(gizmo.mode === "rotate" ? "translate" : "rotate"),
  );
  window.addEventListener("keydown", (e) => {
    if (!gizmo.active || (e.target as HTMLElement).closest("input, select, textarea")) return;
    if (e.key === "r" || e.key === "R") setMode("rotate");
    if (e.key === "t" || e.key === "T") setMode("translate");
  });
  planGoal.addEventListener("click", () => send("plan", { requestId: rid("plan") }));
  operatorControls.push(gizmoButton);

  const approve = $<HTMLButtonElement>("#approve");
  approve.addEventListener("click", () => {
    const plan = newestPlan(room.state, "validated");
    if (plan) send("approve", { planId: plan.id, requestId: rid("approve") });
  });
  const reset = $<HTMLButtonElement>("#reset");
  reset.addEventListener("click", () => send("reset", { requestId: rid("reset") }));
  operatorControls.push(reset);
  const stop = $<HTMLButtonElement>("#stop");
  const sendStop = () => {
    jog.stop();
    send("stop", { requestId: rid("stop") });
  };
  stop.addEventListener("click", sendStop);
  window.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !stop.disabled) sendStop();
  });
  const chat = new Chat((body) => send("utterance", body));
  const setConnected = (connected: boolean) => {
    stop.disabled = !connected;
    for (const b of operatorControls) b.disabled = !connected || !isOperator;
    if (!gizmo.available) gizmoButton.disabled = true;
    if (!connected) {
      jog.stop();
      approve.disabled = true;
      planGoal.disabled = true;
      if (gizmo.active) setGizmo(false);
    }
  };
  setConnected(true);

  const leaving = leaveOnPageHide(() => room);

  // --- state → scene and panels ------------------------------------------------------
  const interp = new JointInterpolator();
  const stateQ = new Float64Array(dof);
  const shown = new Float64Array(dof);
  let lastStamp = Number.NaN;
  let panelTimer: ReturnType<typeof setTimeout> | undefined;
  let decisions = 0;
  let me = room.sessionId;
  const updatePanels = () => {
    panelTimer = undefined;
    const s = room.state;
    const r = s.robot;
    r.joints.forEach((j, i) => {
      const cell = jointCells[i];
      if (!cell) return;
      shown[i] = j.position;
      setText(cell, `${((j.position * 180) / Math.PI).toFixed(1)}°`);
    });
    const dev = r.deviation > 0 ? ` · deviation ${r.deviation.toFixed(3)} rad` : "";
    setText($("#robot-status"), `link ${r.link} · ${r.mode} · cell ${r.cell}${dev}`);
    const progress = $<HTMLProgressElement>("#progress");
    progress.hidden = r.activePlanId === "";
    progress.value = r.progress;
    approve.disabled = !isOperator || stop.disabled || !newestPlan(s, "validated");
    planGoal.disabled = !isOperator || stop.disabled || s.goal.kind === "" || !s.goal.valid;
    planGoal.title = s.goal.kind === "" ? "place a goal first" : s.goal.valid ? "" : s.goal.reason;
    renderPlans(s);
    renderPeople(s, me);
    decisions = renderAgentPanel($("#twin-agents"), s.agents);
    twin.syncGoal(s.goal);
    twin.syncPlans(s.plans);
  };
  // --- room events (wired again when the viewer rejoins in a new room) ----------------
  const wire = (r: Room<unknown, TwinState>) => {
    r.onMessage("ack", (a: AckMessage) => {
      if (chat.owns(a.requestId)) chat.answer(a.requestId!, a.summary ?? "done", true);
      else if (a.type === "plan" && a.id) events.push("info", `plan ${a.id} requested`);
      else if (a.type === "approve" || a.type === "reset" || a.type === "stop")
        events.push("info", `${a.type} accepted`);
      else if (a.type === "goal") events.push("info", "goal placed");
    });
    r.onMessage("error", (e: ErrorMessage) => {
      const text = `${e.type ? `${e.type}: ` : ""}${e.code}: ${e.message}`;
      if (chat.owns(e.requestId)) chat.answer(e.requestId!, text, false);
      events.push("error", text);
    });
    r.onMessage("notice", (n: ErrorMessage) => events.push("notice", `${n.code}: ${n.message}`));
    followRoom(r, {
      roomName: "digital_twin",
      join: () => client.joinOrCreate("digital_twin", {}, TwinState),
      status,
      events,
      role: ctx.role,
      leaving,
      connected: setConnected,
      adopt: (next) => {
        room = next;
        me = next.sessionId;
        lastStamp = Number.NaN;
        showSpace("twin", next.roomId, false);
        wire(next);
        setConnected(true);
        panelTimer ??= setTimeout(updatePanels, PANEL_MS);
      },
    });
    r.onError((code, message) => events.push("error", `room error ${code}: ${message ?? ""}`));
    r.onStateChange((s) => {
      const r = s.robot;
      if (r.joints.length >= dof) {
        let changed = false;
        r.joints.forEach((j, i) => {
          if (i >= dof || stateQ[i] === j.position) return;
          stateQ[i] = j.position;
          changed = true;
        });
        // The room stamps the joints only when they move; unstamped joints (no cell sample
        // yet) are shown as they are.
        if (r.stamp <= 0) {
          if (changed || Number.isNaN(lastStamp)) interp.hold(stateQ);
          lastStamp = 0;
        } else if (r.stamp !== lastStamp) {
          lastStamp = r.stamp;
          interp.push(r.stamp, stateQ, performance.now());
        }
      }
      panelTimer ??= setTimeout(updatePanels, PANEL_MS);
    });
  };
  wire(room);

  const q = new Float64Array(dof);
  const posesDue = throttle(POSE_MIN_INTERVAL_MS);
  stage.onFrame((now, dt) => {
    const s = room.state;
    if (interp.sample(now, q)) twin.setArm(q, s.robot.gripper);
    twin.syncObjects(s.objects);
    twin.syncOperators(s.operators, me);
    twin.update(dt);
    const headset = stage.headsetPoses();
    if (headset && posesDue(now)) send("pose", headset);
  });
  stage.start();
  updatePanels();

  ctx.expose((): ViewerSnapshot => ({
    view: "twin",
    status: status.status,
    statusText: status.text,
    webgl: stage.renderer !== null,
    frames: stage.frames,
    roomId: room.roomId,
    sessionId: me,
    role: ctx.role,
    robotLinks: twin.linkCount,
    robotJoints: twin.movableJointCount,
    robotMeshes: twin.meshCount,
    jointNames: twin.jointNames,
    renderedJoints: twin.renderedJoints,
    stateJoints: Array.from(stateQ),
    shownJoints: Array.from(shown),
    mode: room.state.robot.mode,
    link: room.state.robot.link,
    progress: room.state.robot.progress,
    objects: twin.objectCount,
    virtualObjects: twin.virtualObjectCount,
    operators: twin.operatorCount,
    plans: sortedPlans(room.state).map((p) => ({ id: p.id, status: p.status })),
    planPaths: twin.planPathCount,
    goalVisible: twin.goalVisible,
    previewVisible: twin.previewVisible,
    goal: {
      kind: room.state.goal.kind,
      valid: room.state.goal.valid,
      reason: room.state.goal.reason,
      pose: {
        position: { ...room.state.goal.pose.position.toJSON() },
        orientation: { ...room.state.goal.pose.orientation.toJSON() },
      },
    },
    gizmo: {
      available: gizmo.available,
      active: gizmo.active,
      mode: gizmo.mode,
      axis: gizmo.axis,
      placed: gizmo.placed,
      pose: gizmo.pose,
      screen: {
        o: gizmo.screenPoint(),
        x: gizmo.screenPoint("x", 0.05),
        y: gizmo.screenPoint("y", 0.05),
        z: gizmo.screenPoint("z", 0.05),
      },
    },
    decisions,
    answers: [...chat.answers],
    events: [...events.items],
  }));
}

/** Resends a joint jog every {@link JOG_RESEND_MS} while held. */
class JogControl {
  #timer: ReturnType<typeof setInterval> | undefined;
  #button: HTMLElement | undefined;
  readonly #send: (joint: number, velocity: number) => void;

  constructor(send: (joint: number, velocity: number) => void) {
    this.#send = send;
  }

  start(button: HTMLElement, joint: number, velocity: number): void {
    this.stop();
    this.#button = button;
    button.classList.add("active");
    this.#send(joint, velocity);
    this.#timer = setInterval(() => this.#send(joint, velocity), JOG_RESEND_MS);
  }

  /** Stops resending; the server's dead-man switch halts the joint within its timeout. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#button?.classList.remove("active");
    this.#button = undefined;
  }
}

/** One row per joint: name, value, jog −/+. @returns the value cells */
function buildJointTable(
  info: RobotInfo,
  isOperator: boolean,
  operatorControls: HTMLButtonElement[],
): HTMLElement[] {
  const body = $("#joints tbody");
  const cells: HTMLElement[] = [];
  info.joints.forEach((j, i) => {
    const value = el("td", { class: "value" }, "—");
    const jogButton = (dir: -1 | 1) => {
      const b = el(
        "button",
        {
          type: "button",
          class: "jog",
          "data-joint": i,
          "data-dir": dir,
          title: `hold to jog ${j.name} ${dir > 0 ? "+" : "−"}`,
          disabled: !isOperator,
        },
        dir > 0 ? "+" : "−",
      );
      operatorControls.push(b);
      return b;
    };
    body.append(
      el(
        "tr",
        { "data-joint": i },
        el("td", {}, j.name.replace(/^.*_joint/, "J")),
        value,
        el("td", {}, jogButton(-1), " ", jogButton(1)),
      ),
    );
    cells.push(value);
  });
  return cells;
}

function sortedPlans(s: TwinState): PlanState[] {
  const list: PlanState[] = [];
  s.plans.forEach((p) => list.push(p));
  return list.sort((a, b) => b.createdAt - a.createdAt);
}

function newestPlan(s: TwinState, status: string): PlanState | undefined {
  return sortedPlans(s).find((p) => p.status === status);
}

function renderPlans(s: TwinState): void {
  const list = $("#plans");
  const plans = sortedPlans(s).slice(0, 6);
  const key = plans.map((p) => `${p.id}:${p.status}`).join(",");
  if (list.dataset.key === key) return;
  list.dataset.key = key;
  list.replaceChildren(
    ...plans.map((p) =>
      el(
        "li",
        { "data-plan": p.id, "data-status": p.status },
        el("strong", {}, p.status),
        ` ${p.id} · ${p.duration.toFixed(1)} s${p.reason ? ` · ${p.reason}` : ""}`,
      ),
    ),
  );
}

function renderPeople(s: TwinState, me: string): void {
  const list = $("#people");
  const rows: string[] = [];
  s.operators.forEach((o, id) => {
    rows.push(`${o.name} (${o.role})${id === me ? " — you" : ""}${o.connected ? "" : " — away"}`);
  });
  const key = rows.join("\n");
  if (list.dataset.key === key) return;
  list.dataset.key = key;
  list.replaceChildren(...rows.map((r) => el("li", {}, r)));
}
