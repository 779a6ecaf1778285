/**
 * Agent work in a metaverse room is bounded per user (AgentWorkLimiter), as in the twin: while
 * a person's rendition request waits on the agents, their next one is refused `busy` at once
 * instead of queued, and a request after the answer is accepted again. Real MetaverseSession
 * and controller; the channel agent is the geometric channel model behind a gate the test
 * opens (agent-support.ts), so "the agents are still working" is an event, not a timing. A
 * spoken stop is heard by the agent orchestrator before any model is asked and answered with
 * what stop means here (nothing moves in this room); it decides nothing.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { pino } from "pino";
import { AgentRegistry } from "../../server/agents/agent.ts";
import { GrammarIntentModel } from "../../server/agents/intent/grammar-parser.ts";
import type { AgentSetup } from "../../server/agents/orchestrator.ts";
import { AgentWorkLimiter } from "../../server/agents/work-limiter.ts";
import type { RobotDescription } from "../../server/sim/robot-description.ts";
import { CommandError } from "../../server/twin/errors.ts";
import { gatedRegistry } from "./agent-support.ts";
import { testMetaverse } from "./metaverse-support.ts";
import { loadPanda } from "./support.ts";

/** The agents of a test room: the grammar reads utterances; `registry` decides. */
function agentSetup(registry: AgentRegistry, limiter: AgentWorkLimiter): AgentSetup {
  return {
    registry,
    intents: new GrammarIntentModel(),
    label: "test",
    limiter,
    margin: 0.2,
    intentTimeoutMs: 1000,
    logger: pino({ level: "silent" }),
  };
}

describe("metaverse agents", () => {
  let robot: RobotDescription;
  before(async () => {
    robot = await loadPanda();
  });

  it(
    "refuses a user's second request busy while the first waits on the agents",
    { timeout: 30_000 },
    async () => {
      const gate = gatedRegistry();
      const session = testMetaverse(
        robot,
        agentSetup(gate.registry, new AgentWorkLimiter({ perRoom: 4, perUser: 1 })),
      );
      const ann = { sessionId: "a", userId: "u-a", name: "ann", role: "operator" } as const;
      const predicting = gate.nextCall();
      session.join(ann);
      // The join's own decision is the room's (no user): it does not count against ann.
      await predicting;
      const first = session.handle(ann, { type: "requestRendition", body: { rendition: "4k" } });
      await assert.rejects(
        session.handle(ann, { type: "requestRendition", body: { rendition: "1080p" } }),
        (err) => err instanceof CommandError && err.code === "busy",
      );
      // Let every decision through: the first request is answered, and ann may ask again.
      gate.open();
      const answer = await first;
      assert.ok(answer?.summary, "the first request was decided");
      const again = await session.handle(ann, {
        type: "requestRendition",
        body: { rendition: "1080p" },
      });
      assert.ok(again?.summary);
      assert.ok(
        gate.asked() >= 3,
        `every accepted decision asked the channel agent (${gate.asked()})`,
      );
      session.close();
    },
  );

  it("answers a spoken stop with what stop means here, deciding nothing", async () => {
    // No estimators: a stop that reached the controller would fail.
    const session = testMetaverse(robot, agentSetup(new AgentRegistry(), new AgentWorkLimiter()));
    const bob = { sessionId: "b", userId: "u-b", name: "bob", role: "observer" } as const;
    session.join(bob);
    const reply = await session.handle(bob, {
      type: "utterance",
      body: { text: "STOP! and make it sharper" },
    });
    assert.equal(
      reply?.summary,
      "nothing moves in the metaverse room; stop applies to the digital twin",
    );
    assert.equal(session.decisions().length, 0);
    session.close();
  });
});
