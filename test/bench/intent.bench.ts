/**
 * Spoken stop versus the STOP message, with the intent model on an OpenAI-compatible
 * endpoint (the local stub) that hangs: a real server (in this process, port 0), a real
 * `@colyseus/sdk` operator, the arm executing an approved plan each time. For each stop the
 * figures are client send → `ack` and client send → the room state showing the arm `stopped`
 * (its plan aborted), ms; for the spoken stop an earlier utterance keeps a model call hanging,
 * so a stop that waited for the model would show it. Also counted: model calls made by the
 * spoken stops (expected 0) and hanging calls still unanswered at each spoken-stop ack.
 */
import { StubEndpoint, completion } from "../support/openai-stub.ts";
import { request, startTestServer, type TwinClient, waitForState } from "../support/server.ts";
import { type Summary, summarize } from "./stats.ts";

/** {@link waitForState} whose timeout says what was awaited. */
function until<S>(
  what: string,
  room: Parameters<typeof waitForState<S>>[0],
  predicate: (s: S) => boolean,
  timeoutMs = 5000,
): Promise<S> {
  return waitForState(room, predicate, timeoutMs).catch((err: unknown) => {
    throw new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  });
}

export interface IntentBenchOptions {
  /** Stops of each kind. */
  stops: number;
  /** The intent model's deadline, ms (a spoken stop that waited for the model would take it). */
  intentTimeoutMs: number;
}

export interface IntentBenchResult {
  stops: number;
  intentTimeoutMs: number;
  stopMessage: { ackMs: Summary; stoppedMs: Summary };
  spokenStop: { ackMs: Summary; stoppedMs: Summary };
  /** Model calls made by spoken stops (the stop is local: expected 0). */
  modelCallsBySpokenStops: number;
  /** Spoken-stop acks that arrived while an earlier utterance's model call still hung. */
  acksWhileModelHung: number;
  /** Runs on this machine's one process: client and server share the CPU. */
  note: string;
}

/**
 * Waits for the arm to rest, clears the stop latch, plans to `ready` or `left` (whichever is
 * further), approves and waits until the plan is a tenth under way; returns its id.
 */
async function executing(op: TwinClient): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    await until("arm at rest", op.room, (s) => [...s.robot.joints].every((j) => j.velocity === 0));
    // Joint states sampled before the stop may still arrive: let the arm settle.
    await new Promise((r) => setTimeout(r, 200));
    if (op.room.state.robot.mode === "stopped") await request(op, "reset");
    const j1 = op.room.state.robot.joints[0]?.position ?? 0;
    const name = j1 > 0.6 ? "ready" : "left";
    const planned = await request(op, "plan", { goal: { kind: "named", name } });
    if (planned.kind !== "ack") throw new Error(`plan refused: ${JSON.stringify(planned.body)}`);
    const planId = planned.body.id!;
    const approved = await request(op, "approve", { planId });
    if (approved.kind !== "ack") {
      // A plan made while the arm still drifted is stale: plan again.
      if (attempt < 5 && /stale/.test(approved.body.message ?? "")) continue;
      throw new Error(`approve refused: ${JSON.stringify(approved.body)}`);
    }
    await until(
      `${planId} under way`,
      op.room,
      (s) => s.robot.mode === "executing" && s.robot.progress > 0.1,
    );
    return planId;
  }
}

/** Sends `send()`, returns ms to its ack and ms until the state shows the plan aborted. */
async function timeStop(
  op: TwinClient,
  planId: string,
  send: () => Promise<unknown>,
): Promise<{ ackMs: number; stoppedMs: number }> {
  const t0 = performance.now();
  let stoppedMs = Number.NaN;
  const stopped = until(
    `${planId} aborted`,
    op.room,
    (s) => s.robot.mode === "stopped" && s.plans.get(planId)?.status === "aborted",
    10_000,
  ).then(() => (stoppedMs = performance.now() - t0));
  // Awaited below; a failed send must not leave it rejecting unobserved.
  stopped.catch(() => undefined);
  await send();
  const ackMs = performance.now() - t0;
  await stopped;
  return { ackMs, stoppedMs };
}

export async function runIntentBench(
  options: IntentBenchOptions = { stops: 10, intentTimeoutMs: 10_000 },
): Promise<IntentBenchResult> {
  const stub = new StubEndpoint();
  await stub.start();
  const server = await startTestServer({
    INTENT_MODEL: "openai",
    INTENT_BASE_URL: stub.url,
    INTENT_MODEL_NAME: "hanging-model",
    INTENT_TIMEOUT_MS: String(options.intentTimeoutMs),
    UTTERANCE_RATE_PER_S: "100",
    UTTERANCE_BURST: "100",
  });
  const message = { ack: [] as number[], stopped: [] as number[] };
  const spoken = { ack: [] as number[], stopped: [] as number[] };
  let modelCalls = 0;
  let acksWhileHung = 0;
  try {
    const op = await server.join("operator", "bench-intent");
    for (let i = 0; i < options.stops; i++) {
      let planId = await executing(op);
      const m = await timeStop(op, planId, async () => {
        const r = await request(op, "stop");
        if (r.kind !== "ack") throw new Error(`stop refused: ${JSON.stringify(r.body)}`);
      });
      message.ack.push(m.ackMs);
      message.stopped.push(m.stoppedMs);

      planId = await executing(op);
      stub.reset();
      stub.next({ kind: "hang" });
      op.room.send("utterance", { text: "raise the resolution", requestId: `slow-${i}` });
      const slow = op.replies.forRequest(`slow-${i}`, options.intentTimeoutMs + 5000);
      slow.catch(() => undefined);
      while (stub.hanging === 0) await new Promise((r) => setTimeout(r, 2));
      const s = await timeStop(op, planId, async () => {
        const r = await request(op, "utterance", { text: "stop the arm" });
        if (r.kind !== "ack") throw new Error(`spoken stop refused: ${JSON.stringify(r.body)}`);
        if (stub.hanging > 0) acksWhileHung += 1;
      });
      modelCalls += stub.received.length - 1;
      spoken.ack.push(s.ackMs);
      spoken.stopped.push(s.stoppedMs);
      stub.answerHanging(completion([{ name: "set_resolution", args: { direction: "raise" } }]));
      await slow;
    }
  } finally {
    await server.close();
    await stub.close();
  }
  return {
    stops: options.stops,
    intentTimeoutMs: options.intentTimeoutMs,
    stopMessage: { ackMs: summarize(message.ack), stoppedMs: summarize(message.stopped) },
    spokenStop: { ackMs: summarize(spoken.ack), stoppedMs: summarize(spoken.stopped) },
    modelCallsBySpokenStops: modelCalls,
    acksWhileModelHung: acksWhileHung,
    note: "server and client in one process on this machine",
  };
}
