/**
 * One contract suite for every `IntentModel`: the embedded grammar parser, and the
 * OpenAI-compatible backend (the real `openai` SDK) against the local OpenAI-compatible stub
 * on a real loopback socket — the one permitted stand-in, as the real backend is a remote
 * paid API. For the backend, each utterance's stub answer is the tool call a model makes of
 * it; what is checked is what the implementation turns it into. Each model must read the
 * same intents from the same utterances (plans to a named pose, previews, quality requests,
 * impact questions), answer text it cannot act on (jogging by voice included) with one clear
 * `unknown`, hear a stop itself — no remote model asked — and honour an aborted signal.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { pino } from "pino";
import { GrammarIntentModel } from "../../server/agents/intent/grammar-parser.ts";
import { IntentError, type IntentModel } from "../../server/agents/intent/intent-model.ts";
import {
  type Intent,
  type IntentContext,
  type IntentResult,
  IntentResultSchema,
} from "../../server/agents/intent/intents.ts";
import { OpenAIIntentModel } from "../../server/agents/intent/openai-model.ts";
import { type Answer, completion, StubEndpoint } from "../support/openai-stub.ts";

const ctx: IntentContext = {
  namedPoses: ["ready", "left", "right", "extended"],
  objectIds: ["obj-1"],
  rungs: ["1080p", "1440p", "4k", "6k", "8k"],
  currentRung: "1440p",
  role: "operator",
};

/** An utterance, what every model must read from it, and what a chat model answers to it. */
interface Case {
  readonly utterance: string;
  readonly intents: readonly Intent[];
  readonly modelAnswer: Answer;
}

const UNDERSTOOD: readonly Case[] = [
  {
    utterance: "move the arm to the left",
    intents: [{ kind: "move_arm", target: "left", execute: true }],
    modelAnswer: completion([{ name: "move_arm", args: { target: "left", execute: true } }]),
  },
  {
    utterance: "plan a move to the ready pose",
    intents: [{ kind: "move_arm", target: "ready", execute: true }],
    modelAnswer: completion([{ name: "move_arm", args: { target: "ready" } }]),
  },
  {
    utterance: "show me how the arm would move to extended",
    intents: [{ kind: "move_arm", target: "extended", execute: false }],
    modelAnswer: completion([{ name: "move_arm", args: { target: "extended", execute: false } }]),
  },
  {
    utterance: "raise the resolution to 4k",
    intents: [{ kind: "set_resolution", direction: "raise", rung: "4k" }],
    modelAnswer: completion([{ name: "set_resolution", args: { direction: "raise", rung: "4k" } }]),
  },
  {
    utterance: "the video is stuttering",
    intents: [{ kind: "set_resolution", direction: "lower" }],
    modelAnswer: completion([{ name: "set_resolution", args: { direction: "lower" } }]),
  },
  {
    utterance: "what if we add another arm",
    intents: [{ kind: "evaluate_impact", subject: "add_arm" }],
    modelAnswer: completion([{ name: "evaluate_impact", args: { subject: "add_arm" } }]),
  },
];

/** Text no model should act on; a chat model says so with the `unknown` tool or in words. */
const NOT_UNDERSTOOD: readonly Omit<Case, "intents">[] = [
  {
    utterance: "sing me a song",
    modelAnswer: completion([{ name: "unknown", args: { reason: "not a request for the cell" } }]),
  },
  {
    // Jogging is the controllers' job (the `jog` message), not something said.
    utterance: "jog the arm",
    modelAnswer: completion([{ name: "unknown", args: { reason: "jogging is not an intent" } }]),
  },
  {
    // Not a plan to the named pose `left`.
    utterance: "jog joint 1 left",
    modelAnswer: completion([{ name: "unknown", args: { reason: "jogging is not an intent" } }]),
  },
  { utterance: "blorp zzz", modelAnswer: completion([], "I am not sure what you mean.") },
];

const STOPS = ["stop", "halt!", "emergency stop the arm now", "stop the arm and raise the video"];

interface Implementation {
  /** True when the model asks a remote endpoint (once per utterance it reads). */
  readonly remote: boolean;
  readonly make: () => IntentModel;
  /** Has the stub answer the next remote request with `answer` (no-op for local models). */
  readonly script: (answer: Answer) => void;
  /** Remote requests made since the last `reset` (always 0 for local models). */
  readonly asked: () => number;
}

const stub = new StubEndpoint();
const implementations: Record<string, Implementation> = {
  grammar: {
    remote: false,
    make: () => new GrammarIntentModel(),
    script: () => undefined,
    asked: () => 0,
  },
  openai: {
    remote: true,
    make: () =>
      new OpenAIIntentModel({
        baseURL: stub.url,
        model: "contract-model",
        apiKey: "sk-contract",
        timeoutMs: 5000,
        logger: pino({ level: "silent" }),
      }),
    script: (answer) => stub.next(answer),
    asked: () => stub.received.length,
  },
};

before(() => stub.start());
after(() => stub.close());
beforeEach(() => stub.reset());

/** A result that passes the schema every consumer relies on. */
function valid(result: IntentResult): IntentResult {
  return IntentResultSchema.parse(result);
}

for (const [name, impl] of Object.entries(implementations)) {
  describe(`IntentModel contract: ${name}`, () => {
    for (const c of UNDERSTOOD) {
      it(`reads "${c.utterance}" as ${c.intents.map((i) => i.kind).join(", ")}`, async () => {
        const model = impl.make();
        impl.script(c.modelAnswer);
        const result = valid(await model.parse(c.utterance, ctx));
        assert.deepEqual(result.intents, c.intents);
        assert.equal(result.model, model.name);
        assert.equal(result.fallback, undefined);
        assert.ok(result.confidence >= 0.5, `confident: ${result.confidence}`);
        assert.equal(impl.asked(), impl.remote ? 1 : 0, "remote models ask once per utterance");
      });
    }

    for (const c of NOT_UNDERSTOOD) {
      it(`answers "${c.utterance}" with one clear 'not understood'`, async () => {
        impl.script(c.modelAnswer);
        const result = valid(await impl.make().parse(c.utterance, ctx));
        assert.equal(result.intents.length, 1);
        const [only] = result.intents;
        assert.equal(only?.kind, "unknown");
        assert.ok(only?.kind === "unknown" && only.reason.trim().length > 0, "says why");
        assert.ok(result.confidence < 0.5, `not confident: ${result.confidence}`);
      });
    }

    it("refuses an empty or over-long utterance unread", async () => {
      for (const utterance of ["   ", "raise the resolution ".repeat(40)]) {
        const result = valid(await impl.make().parse(utterance, ctx));
        assert.equal(result.intents[0]?.kind, "unknown", utterance.slice(0, 20));
        assert.equal(result.intents.length, 1);
      }
      assert.equal(impl.asked(), 0, "no remote model asked");
    });

    for (const utterance of STOPS) {
      it(`hears the stop in "${utterance}" itself, over everything else`, async () => {
        const result = valid(await impl.make().parse(utterance, ctx));
        assert.deepEqual(result.intents, [{ kind: "stop" }]);
        assert.equal(result.fallback, undefined);
        assert.ok(result.confidence >= 0.9, `confident: ${result.confidence}`);
        assert.equal(impl.asked(), 0, "no remote model asked for a stop");
      });
    }

    it("rejects with an 'aborted' IntentError when the caller aborts", async () => {
      const ctl = new AbortController();
      ctl.abort();
      await assert.rejects(
        impl.make().parse("raise the resolution", ctx, ctl.signal),
        (err: unknown) => err instanceof IntentError && err.code === "aborted",
      );
    });
  });
}
