/**
 * The agent orchestrator both sessions use: decisions are bounded (a burst of causes while a
 * decision runs leaves one pending re-decision, not a queue), asked decisions are admitted by
 * the work limiter and run before pending re-decisions, a spoken stop is handed to the session
 * in the same turn without asking the intent model or waiting for agent work, and an
 * utterance's reply says what was done and what was not. A real AgentController decides; the
 * channel agent is the geometric channel model behind a gate the test opens (agent-support.ts),
 * so "a decision is still running" is an event, not a timing.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { ErrorCode } from "../../shared/messages/common.ts";
import type { AgentRegistry } from "../../server/agents/agent.ts";
import type { Decision, DecisionTrigger, LinkSituation } from "../../server/agents/controller.ts";
import { GrammarIntentModel } from "../../server/agents/intent/grammar-parser.ts";
import type { IntentModel } from "../../server/agents/intent/intent-model.ts";
import type { Intent } from "../../server/agents/intent/intents.ts";
import {
  AgentOrchestrator,
  type AgentSessionContext,
  type DecisionRequest,
  type Refusals,
} from "../../server/agents/orchestrator.ts";
import { AgentWorkLimiter } from "../../server/agents/work-limiter.ts";
import { DEFAULT_LADDER } from "../../server/net/allocation.ts";
import { gatedRegistry } from "./agent-support.ts";

interface Who {
  readonly userId: string;
  readonly role: "operator" | "observer";
}

/** The refusal a test session throws. */
class Refused extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}
const refusals: Refusals = {
  codeOf: (err) => (err instanceof Refused ? err.code : null),
  make: (code, message) => new Refused(code, message),
};

const SITUATION: LinkSituation = {
  radio: { gnb: { x: 0, y: 0, z: 3 }, headset: { x: 1.5, y: 0.6, z: 1.6 }, arms: [] },
  traffic: { arms: 1, headsets: 1, patchRateHz: 60, videoRung: null },
  wantedRung: "1080p",
};

/** A session context that records what the orchestrator hands it. */
function testContext(over: Partial<AgentSessionContext<Who>> = {}) {
  const stops: Who[] = [];
  const decided: Decision[] = [];
  const context: AgentSessionContext<Who> = {
    ladder: () => DEFAULT_LADDER,
    situation: () => SITUATION,
    intentContext: (who) => ({ namedPoses: [], objectIds: [], rungs: ["1080p"], role: who.role }),
    spokenStop: (who) => {
      stops.push(who);
      return "stopped";
    },
    carryOut: (_who, intent) => Promise.resolve(`did ${intent.kind}`),
    decided: (_link, d) => decided.push(d),
    ...over,
  };
  return { context, stops, decided };
}

function orchestrator(
  registry: AgentRegistry,
  context: AgentSessionContext<Who>,
  opts: { limiter?: AgentWorkLimiter; intents?: IntentModel } = {},
) {
  const sunk: Decision[] = [];
  const agents = new AgentOrchestrator<Who>({
    registry,
    intents: opts.intents ?? new GrammarIntentModel(),
    label: "channel-model (gated)",
    limiter: opts.limiter ?? new AgentWorkLimiter({ perRoom: 4, perUser: 1 }),
    margin: 0.2,
    intentTimeoutMs: 1000,
    sink: { decision: (d) => sunk.push(d) },
    logger: pino({ level: "silent" }),
    context,
    refusals,
  });
  return { agents, sunk };
}

/** A plain allocation of the cell someone asks for. */
const PLAIN: DecisionRequest = {
  kind: "allocate",
  link: "cell",
  trigger: "request",
  task: "allocate",
  apply: true,
};

const ann: Who = { userId: "u-ann", role: "operator" };
const bob: Who = { userId: "u-bob", role: "observer" };

describe("agent orchestrator", () => {
  it("coalesces a burst of causes into one running and one pending decision", async () => {
    const gate = gatedRegistry();
    const { context, decided } = testContext();
    const { agents, sunk } = orchestrator(gate.registry, context);
    const running = gate.nextCall();
    agents.redecide("cell", "start");
    await running;
    const causes: DecisionTrigger[] = ["environment_change", "qoe", "monitor"];
    for (let i = 0; i < 50; i++) agents.redecide("cell", causes[i % 3]!);
    assert.equal(agents.lane.running, true);
    assert.equal(agents.lane.waiting, 1, "fifty causes, one pending re-decision");
    gate.open();
    await agents.lane.idle();
    assert.equal(gate.asked(), 2, "the running decision and one more");
    assert.deepEqual(
      decided.map((d) => d.trigger),
      ["start", causes[49 % 3]],
      "the pending one carries the latest cause",
    );
    assert.deepEqual(sunk, decided, "every decision reached the sink");
    const panel = agents.panel();
    assert.equal(panel.decisions.length, 2);
    assert.ok(panel.allocation && panel.allocation.bands.length > 0);
    assert.equal(panel.wantedRung, "1080p");
    agents.close();
  });

  it("keeps one pending re-decision per link, not per cause", async () => {
    const gate = gatedRegistry();
    const { context } = testContext();
    const { agents } = orchestrator(gate.registry, context);
    const running = gate.nextCall();
    agents.redecide("a", "start");
    await running;
    for (let i = 0; i < 20; i++) for (const link of ["a", "b", "c"]) agents.redecide(link, "qoe");
    assert.equal(agents.lane.waiting, 3);
    gate.open();
    await agents.lane.idle();
    assert.equal(gate.asked(), 4);
    agents.close();
  });

  it("runs asked decisions in order before pending re-decisions, and refuses busy over the bound", async () => {
    const gate = gatedRegistry();
    const { context, decided } = testContext();
    const { agents } = orchestrator(gate.registry, context);
    const running = gate.nextCall();
    agents.redecide("cell", "start");
    await running;
    agents.redecide("cell", "environment_change");
    const asked = agents.ask(ann, {
      kind: "allocate",
      link: "cell",
      trigger: "utterance",
      task: "raise_resolution",
      apply: true,
      situation: () => ({ ...SITUATION, wantedRung: "4k" }),
    });
    await assert.rejects(
      agents.ask(ann, PLAIN),
      (err) => err instanceof Refused && err.code === ErrorCode.Busy,
      "ann already has one request pending",
    );
    const bobs = agents.ask(bob, PLAIN);
    assert.equal(agents.lane.waiting, 3, "one re-decision and both asked decisions wait");
    gate.open();
    const d = await asked;
    assert.equal(d?.task, "raise_resolution");
    assert.equal((await bobs)?.task, "allocate");
    await agents.lane.idle();
    assert.deepEqual(
      decided.map((x) => x.trigger),
      ["start", "utterance", "request", "environment_change"],
    );
    agents.close();
  });

  it("hands a spoken stop to the session at once, asking no model and waiting for no agent", async () => {
    const gate = gatedRegistry();
    const { context, stops } = testContext();
    let parsed = 0;
    const intents: IntentModel = {
      name: "never",
      parse: () => {
        parsed += 1;
        return new Promise(() => undefined);
      },
    };
    // The room's bound is full: one decision runs and bob's own request waits.
    const limiter = new AgentWorkLimiter({ perRoom: 1, perUser: 1 });
    const { agents } = orchestrator(gate.registry, context, { limiter, intents });
    const running = gate.nextCall();
    const waiting = agents.ask(bob, PLAIN);
    await running;
    assert.equal(limiter.canAccept(bob.userId), false);
    const reply = agents.utterance(bob, "STOP! and make it sharper");
    assert.deepEqual(stops, [bob], "stopped in the same turn, before anything was awaited");
    assert.deepEqual(await reply, { summary: "stopped" });
    assert.equal(parsed, 0, "no model was asked");
    assert.equal(agents.lane.running, true, "the agent work is still running");
    gate.open();
    await waiting;
    agents.close();
  });

  it("says what was done and what was not; rejects only when nothing was done", async () => {
    const gate = gatedRegistry();
    gate.open();
    const carryOut = (_who: Who, intent: Intent): Promise<string> =>
      intent.kind === "add_object"
        ? Promise.reject(new Refused(ErrorCode.Forbidden, "may not edit the scene"))
        : intent.kind === "remove_object"
          ? Promise.reject(new Error("a bug"))
          : Promise.resolve(`did ${intent.kind}`);
    const { context } = testContext({ carryOut });
    const { agents } = orchestrator(gate.registry, context);
    const some = await agents.utterance(ann, "add a box and make it sharper");
    assert.match(some.summary, /did set_resolution/);
    assert.match(some.summary, /not done: add_object: may not edit the scene/);
    await assert.rejects(
      agents.utterance(ann, "add a box"),
      (err) => err instanceof Refused && err.code === ErrorCode.Forbidden,
    );
    await assert.rejects(
      agents.utterance(ann, "remove box-1"),
      (err) =>
        err instanceof Refused &&
        err.code === ErrorCode.Internal &&
        /remove_object: internal error/.test(err.message),
    );
    agents.close();
  });

  it("decides nothing once closed", async () => {
    const gate = gatedRegistry();
    gate.open();
    const { context } = testContext();
    const { agents } = orchestrator(gate.registry, context);
    agents.close();
    agents.redecide("cell", "environment_change");
    await agents.lane.idle();
    await assert.rejects(
      agents.ask(ann, PLAIN),
      (err) => err instanceof Refused && err.code === ErrorCode.Busy,
    );
    assert.equal(gate.asked(), 0);
  });
});
