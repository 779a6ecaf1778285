/**
 * STOP is never starved: while an observer floods the agents with what-if utterances, an
 * operator's STOP is acknowledged and the cell (a simulated cell over rosbridge, in this
 * process) receives the goal cancel; the observer's excess utterances are refused with
 * `rate_limited` (per-user utterance bucket) or `busy` (per-user agent work bound), each
 * answer naming its request. Events are judged, never timings.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { rosLinkEnv, startTestCell, type TestCell } from "../support/cell.ts";
import {
  request,
  startTestServer,
  type TestServer,
  type TwinClient,
  waitForState,
} from "../support/server.ts";

const WHAT_IF = "what if we add a second arm";

describe("STOP under an utterance flood", () => {
  let cell: TestCell;
  let server: TestServer;

  before(async () => {
    cell = await startTestCell();
    server = await startTestServer({
      ...rosLinkEnv(cell.url),
      PLANNER: "twin",
      AUTH_SECRET: "stop-priority-test-secret-0123456789abcdef",
      UTTERANCE_RATE_PER_S: "1",
      UTTERANCE_BURST: "3",
      AGENT_MAX_PENDING_PER_USER: "1",
    });
  });

  after(async () => {
    await server?.close();
    await cell?.close();
  });

  /** Sends `n` utterances back to back; resolves with each one's reply, in request order. */
  async function flood(c: TwinClient, n: number, tag: string) {
    const ids = Array.from({ length: n }, (_, i) => `${tag}${i}`);
    for (const requestId of ids) c.room.send("utterance", { text: WHAT_IF, requestId });
    return Promise.all(ids.map((id) => c.replies.forRequest(id, 30_000)));
  }

  it("refuses excess utterances with busy and rate_limited, answering each", async () => {
    const op = await server.join("operator", "ann");
    const viewer = await server.join("observer", "bob", op.room.roomId);
    const replies = await flood(viewer, 5, "burst");
    // The first is answered by the agents; the next two find bob's one agent task pending;
    // the last two are over bob's utterance bucket (burst 3).
    assert.equal(replies[0]!.kind, "ack", JSON.stringify(replies[0]));
    assert.match(replies[0]!.body.summary ?? "", /adding an arm/);
    assert.deepEqual(
      replies.slice(1).map((r) => r.body.code),
      ["busy", "busy", "rate_limited", "rate_limited"],
    );
    for (const r of replies.slice(1)) assert.equal(r.body.type, "utterance");
    // One answer per request, nothing else (notices about the link are not answers).
    viewer.replies.expectDrained((r) => r.kind === "notice");
    // Another user is not held up by bob's bound (their own bucket and task).
    const other = await server.join("observer", "cy", op.room.roomId);
    const mine = await request(other, "utterance", { text: WHAT_IF }, 30_000);
    assert.equal(mine.kind, "ack", JSON.stringify(mine));
    await Promise.all([op.room.leave(), viewer.room.leave(), other.room.leave()]);
  });

  it("acknowledges an operator's stop and cancels the cell's goal while an observer floods", async () => {
    const op = await server.join("operator", "dee");
    const viewer = await server.join("observer", "eve", op.room.roomId);
    const plan = await request(op, "plan", { goal: { kind: "named", name: "left" } }, 30_000);
    assert.equal(plan.kind, "ack", JSON.stringify(plan));
    const approved = await request(op, "approve", { planId: plan.body.id }, 30_000);
    assert.equal(approved.kind, "ack", JSON.stringify(approved));
    await waitForState(op.room, (s) => s.robot.mode === "executing", 10_000);

    // The flood: 100 what-ifs at once (under the per-client message bucket), then STOP.
    const flooded = flood(viewer, 100, "flood");
    flooded.catch(() => undefined);
    const stopsBefore = cell.stops.length;
    const stop = await request(op, "stop", {}, 30_000);
    assert.equal(stop.kind, "ack", JSON.stringify(stop));
    await waitForState(op.room, (s) => s.robot.mode === "stopped", 10_000);
    const p = await waitForState(
      op.room,
      (s) => s.plans.get(plan.body.id!)?.status === "aborted",
      10_000,
    );
    assert.match(p.plans.get(plan.body.id!)!.reason, /stopped by dee/);
    // The cell got the cancel (its arm stopped for the canceled goal).
    await cell.stopped("canceled", stopsBefore);

    const codes = (await flooded).map((r) => r.body.code ?? r.kind);
    assert.ok(codes.includes("rate_limited"), codes.join(","));
    assert.ok(
      codes.every((c) => c === "ack" || c === "busy" || c === "rate_limited"),
      codes.join(","),
    );
    viewer.replies.expectDrained((r) => r.kind === "notice");
    await Promise.all([op.room.leave(), viewer.room.leave()]);
  });
});
