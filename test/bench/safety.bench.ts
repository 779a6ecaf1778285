/**
 * Safety benchmark: STOP round-trip while a viewer floods the agents.
 *
 * The simulated cell runs in this process (so the cell's cancel and the client's send are
 * read on one clock); the server runs in its own process, linked to the cell over rosbridge
 * (`ROBOT_LINK=ros`). An operator plans to a named pose, approves, and sends `stop` while the
 * arm moves; the round-trip is client send → the cell cancelling the goal (the arm's stop
 * with reason `canceled`). Measured twice: quiet, then while one observer sends "what if we
 * add a second arm" at its message rate limit (`RATE_LIMIT_PER_S`, default 120/s, sent at
 * 110/s) and the agents answer what they accept. Prints p50/p99/max of both and what the
 * flooder's utterances got (answered, `busy`, `rate_limited`).
 */
import { Client, type Room } from "@colyseus/sdk";
import { pino } from "pino";
import { startSimCell } from "../../ros/sim-cell/index.ts";
import { loadRobotDescription } from "../../server/sim/robot-description.ts";
import { TwinState } from "../../shared/schema/twin-state.ts";
import { type ServerHandle, startServerProcess } from "../support/processes.ts";
import { benchTokens } from "./bench-tokens.ts";
import { sleep, withinMs } from "./load-common.ts";
import { latencyFigures, round } from "./stats.ts";

export interface SafetyBenchOptions {
  /** STOPs measured in each phase. */
  stops: number;
  /** Flood rate of the observer, messages/s. */
  floodPerS: number;
}

interface Reply {
  type?: string;
  code?: string;
  requestId?: string;
  message?: string;
}

export async function runSafetyBench(
  options: SafetyBenchOptions = { stops: 30, floodPerS: 110 },
): Promise<Record<string, unknown>> {
  const robot = await loadRobotDescription({
    robot: { dir: "assets/robots/panda", sceneFile: "assets/scenes/cell.json" },
  });
  const cell = await startSimCell({
    robot,
    rosVersion: 2,
    jointStatesHz: 100,
    logger: pino({ level: "warn" }),
  });
  // The cell's cancel: the arm stops with reason `canceled` (ros/sim-cell/actions.ts).
  let onCancel: ((t: number) => void) | null = null;
  const armStop = cell.arm.stop.bind(cell.arm);
  cell.arm.stop = (reason: string) => {
    if (reason === "canceled") onCancel?.(performance.now());
    armStop(reason);
  };
  const { secret, tokens } = benchTokens();
  let server: ServerHandle | undefined;
  const rooms: Room[] = [];
  try {
    server = await startServerProcess({
      AUTH_SECRET: secret,
      ROBOT_LINK: "ros",
      ROSBRIDGE_URL: cell.url,
      PLANNER: "twin",
      RECORD: "false",
    });
    const base = server.url;
    const join = async (role: "operator" | "observer", name: string, roomId?: string) => {
      const client = new Client(base);
      client.auth.token = await tokens.issue({ userId: name, name, role }, 3600);
      const room = roomId
        ? await client.joinById(roomId, {}, TwinState)
        : await client.create("digital_twin", {}, TwinState);
      rooms.push(room);
      return room;
    };
    const op = await join("operator", "bench-operator");
    const opReplies = replyWaiter(op);
    await waitFor(() => op.state.robot?.link === "connected", 15_000, "link up");

    const stops = () =>
      measureStops(op, opReplies, options.stops, (f) => {
        onCancel = f;
      });
    const quiet = await stops();

    const viewer = await join("observer", "bench-flooder", op.roomId);
    const counts: Record<string, number> = { ack: 0 };
    viewer.onMessage("ack", (r: Reply) => {
      if (r.type === "utterance") counts.ack = (counts.ack ?? 0) + 1;
    });
    viewer.onMessage("error", (r: Reply) => {
      const key = r.code ?? "error";
      counts[key] = (counts[key] ?? 0) + 1;
    });
    viewer.onMessage("notice", () => undefined);
    let sent = 0;
    const flood = setInterval(() => {
      // Sent in bursts of ~10 per 100 ms: timers finer than that are not kept under load.
      for (let i = 0; i < options.floodPerS / 10; i++) {
        viewer.send("utterance", { text: "what if we add a second arm", requestId: `f${sent}` });
        sent += 1;
      }
    }, 100);
    const t0 = performance.now();
    let flooded;
    try {
      await sleep(1000);
      flooded = await stops();
    } finally {
      clearInterval(flood);
    }
    const floodS = (performance.now() - t0) / 1000;
    await sleep(500);
    return {
      quiet,
      flood: {
        ...flooded,
        floodPerS: options.floodPerS,
        floodSeconds: round(floodS),
        utterancesSent: sent,
        utteranceReplies: counts,
      },
      targetP99Ms: 50,
    };
  } finally {
    await Promise.allSettled(rooms.map((r) => withinMs(r.leave(true), 2000)));
    await server?.stop();
    await cell.close();
  }
}

/**
 * Plan → approve → stop while moving, `n` times; round-trips to the cell's cancel and to the
 * ack. `onCancel(f)` sets what the cell's cancel calls (with its time), `null` to clear it.
 */
async function measureStops(
  op: Room<unknown, TwinState>,
  replies: ReturnType<typeof replyWaiter>,
  n: number,
  onCancel: (f: ((t: number) => void) | null) => void,
) {
  const toCancel: number[] = [];
  const toAck: number[] = [];
  let missed = 0;
  let failed = 0;
  let target = "left";
  for (let i = 0; i < n; i++) {
    target = target === "left" ? "right" : "left";
    try {
      const plan = await replies.request("plan", { goal: { kind: "named", name: target } }, 60_000);
      if (!plan.id) throw new Error(`plan refused: ${JSON.stringify(plan)}`);
      const ok = await replies.request("approve", { planId: plan.id }, 60_000);
      if (ok.code) throw new Error(`approve refused: ${JSON.stringify(ok)}`);
      await waitFor(() => op.state.robot.mode === "executing", 30_000, "executing");
      await sleep(250 + Math.random() * 250);
    } catch (err) {
      failed += 1;
      console.error(`safety bench: round ${i} skipped: ${String(err)}`);
      await replies.request("stop", {}, 60_000).catch(() => undefined);
      continue;
    }
    if (op.state.robot.mode !== "executing") {
      // The plan finished before the stop: nothing to cancel this round.
      failed += 1;
      continue;
    }
    const cancelled = new Promise<number>((resolve) => onCancel(resolve));
    const t0 = performance.now();
    const ack = replies.request("stop", {}, 60_000).then(() => performance.now());
    const tCancel = await Promise.race([cancelled, sleep(30_000).then(() => NaN)]);
    onCancel(null);
    if (Number.isNaN(tCancel)) missed += 1;
    else toCancel.push(tCancel - t0);
    toAck.push((await ack) - t0);
    // Let the arm come to rest so the next plan starts where it is.
    await sleep(400);
  }
  return {
    stopToCancelMs: latencyFigures(toCancel),
    stopToAckMs: latencyFigures(toAck),
    cancelsMissed: missed,
    roundsFailed: failed,
  };
}

/** Replies to the operator's requests by requestId. */
function replyWaiter(room: Room) {
  const waiting = new Map<string, (r: Reply & { id?: string }) => void>();
  let counter = 0;
  const on = (r: Reply & { id?: string }) => {
    if (!r.requestId) return;
    waiting.get(r.requestId)?.(r);
    waiting.delete(r.requestId);
  };
  room.onMessage("ack", on);
  room.onMessage("error", on);
  room.onMessage("notice", () => undefined);
  return {
    request(type: string, body: Record<string, unknown>, timeoutMs: number) {
      const requestId = `op${++counter}`;
      return new Promise<Reply & { id?: string }>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(requestId);
          reject(new Error(`${type}: no reply within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(requestId, (r) => {
          clearTimeout(timer);
          resolve(r);
        });
        room.send(type, { ...body, requestId });
      });
    },
  };
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
