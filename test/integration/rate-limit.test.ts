/**
 * Per-client rate limiting over the real SDK, in a process of its own: Colyseus keeps its
 * matchmaker in module state, so one process serves one server at a time.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { request, startTestServer } from "../support/server.ts";

describe("rate limit", () => {
  it("rate-limits a flood with one coded notice per second and keeps serving", async () => {
    // 50/s sustained for everyone; a client sending over 1000/s is cut off by Colyseus
    // itself (maxMessagesPerSecond), so this flood stays under that ceiling.
    const limited = await startTestServer({ RATE_LIMIT_PER_S: "50", RATE_LIMIT_BURST: "50" });
    try {
      const c = await limited.join("operator", "flooder");
      const codes: string[] = [];
      c.room.onMessage("error", (e: { code: string }) => codes.push(e.code));
      for (let i = 0; i < 600; i++)
        c.room.send("pose", {
          head: { position: { x: 0, y: 0, z: 1 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
        });
      await new Promise((r) => setTimeout(r, 1500));
      assert.ok(codes.includes("rate_limited"));
      assert.ok(codes.filter((x) => x === "rate_limited").length <= 3, `notices: ${codes.length}`);
      // After the bucket refills, commands work again.
      const ok = await request(c, "stop");
      assert.equal(ok.kind, "ack");
    } finally {
      await limited.close();
    }
  });

  it("never refuses a spoken stop, however much its speaker has talked", async () => {
    const server = await startTestServer({
      AGENTS: "true",
      UTTERANCE_RATE_PER_S: "0.01",
      UTTERANCE_BURST: "1",
    });
    try {
      const host = await server.join("operator", "host");
      const c = await server.join("observer", "talker", host.room.roomId);
      // The one-token per-user bucket is spent by the first utterance; the next is refused.
      await request(c, "utterance", { text: "what is the link doing" });
      const refused = await request(c, "utterance", { text: "what if we add a second arm" });
      assert.equal(refused.body.code, "rate_limited", JSON.stringify(refused.body));
      for (const text of ["stop the arm", "STOP!"]) {
        const reply = await request(c, "utterance", { text });
        assert.equal(reply.kind, "ack", `${text}: ${JSON.stringify(reply.body)}`);
      }
    } finally {
      await server.close();
    }
  });
});
