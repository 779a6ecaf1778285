/**
 * Tolerant reading of chat completion bodies (shape checks, tool calls wherever servers put
 * them, JSON repair, coercion to the tool schemas) and the backend guard (Retry-After window,
 * circuit breaker with a half-open probe). No network: bodies are strings, time is injected.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BackendGuard,
  BackendState,
  retryAfterMs,
} from "../../server/agents/intent/backend-health.ts";
import { hearsStop } from "../../server/agents/intent/grammar-parser.ts";
import { buildIntentTools } from "../../server/agents/intent/openai-model.ts";
import {
  type ParamSchema,
  argumentsObject,
  coerceToSchema,
  matchToolName,
  readCompletionBody,
  repairJson,
} from "../../server/agents/intent/tolerant-reader.ts";
import { INTENT_KINDS } from "../../server/agents/intent/intents.ts";

function completion(message: Record<string, unknown>): string {
  return JSON.stringify({
    id: "x",
    object: "chat.completion",
    choices: [{ index: 0, message: { role: "assistant", ...message }, finish_reason: "stop" }],
  });
}

function calls(body: string): { name: unknown; args: unknown }[] {
  const read = readCompletionBody(body, "application/json");
  assert.ok(read.ok, read.ok ? "" : read.reason);
  return read.calls.map(({ name, args }) => ({ name, args }));
}

describe("readCompletionBody: bodies that are no completion", () => {
  const cases: [string, string, string, RegExp][] = [
    ["empty", "", "application/json", /empty body/],
    ["whitespace", "  \n", "application/json", /empty body/],
    [
      "unasked SSE",
      'data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n',
      "text/event-stream",
      /SSE/,
    ],
    ["SSE with a JSON content type", 'data: {"choices":[]}\n\n', "application/json", /SSE/],
    [
      "HTML",
      "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head></html>",
      "text/html",
      /HTML page.*502 Bad Gateway/,
    ],
    ["HTML sent as JSON", "<html>gateway</html>", "application/json", /HTML page/],
    ["not JSON", "Internal Server Error", "text/plain", /not JSON/],
    [
      "error object",
      '{"error":{"message":"model not loaded"}}',
      "application/json",
      /model not loaded/,
    ],
    ["error string", '{"error":"upstream died"}', "application/json", /upstream died/],
    [
      "vLLM error object",
      '{"object":"error","message":"bad things","type":"BadRequestError","code":400}',
      "application/json",
      /bad things/,
    ],
    ["array", "[1,2]", "application/json", /not a JSON object/],
    ["no choices", '{"id":"x","choices":[]}', "application/json", /no choices/],
    ["choice without message", '{"choices":[{"index":0}]}', "application/json", /no message/],
  ];
  for (const [what, body, type, reason] of cases) {
    it(what, () => {
      const read = readCompletionBody(body, type);
      assert.equal(read.ok, false);
      assert.match(read.ok ? "" : read.reason, reason);
    });
  }
});

describe("readCompletionBody: where tool calls are found", () => {
  it("tool_calls with string, object and null arguments, and without a name", () => {
    const body = completion({
      content: null,
      tool_calls: [
        { id: "a", type: "function", function: { name: "stop", arguments: "{}" } },
        {
          id: "b",
          type: "function",
          function: { name: "move_arm", arguments: { target: "left" } },
        },
        { id: "c", type: "function", function: { name: "stop", arguments: null } },
        { id: "d", type: "function", function: { arguments: "{}" } },
      ],
    });
    assert.deepEqual(calls(body), [
      { name: "stop", args: "{}" },
      { name: "move_arm", args: { target: "left" } },
      { name: "stop", args: null },
      { name: undefined, args: "{}" },
    ]);
  });

  it("a single tool call object instead of an array, and the legacy function_call", () => {
    assert.deepEqual(
      calls(completion({ tool_calls: { function: { name: "stop", arguments: "" } } })),
      [{ name: "stop", args: "" }],
    );
    assert.deepEqual(calls(completion({ function_call: { name: "stop", arguments: "{}" } })), [
      { name: "stop", args: "{}" },
    ]);
  });

  it("JSON in content, bare, fenced, as Llama's name/parameters, as an array", () => {
    assert.deepEqual(
      calls(completion({ content: '{"name": "add_object", "parameters": {"object": "Box"}}' })),
      [{ name: "add_object", args: { object: "Box" } }],
    );
    const fenced = completion({
      content: 'Sure:\n```json\n{"name": "move_arm", "arguments": {"target": "left"}}\n```\nDone.',
    });
    const read = readCompletionBody(fenced);
    assert.ok(read.ok);
    assert.deepEqual(
      read.calls.map((c) => [c.name, c.args, c.source]),
      [["move_arm", { target: "left" }, "content"]],
    );
    assert.equal(read.text, "Sure:\n \nDone.");
    assert.deepEqual(
      calls(
        completion({
          content:
            '[TOOL_CALLS] [{"name": "stop", "arguments": {}}, {"name": "set_resolution", "arguments": {"direction": "raise"}}]',
        }),
      ),
      [
        { name: "stop", args: {} },
        { name: "set_resolution", args: { direction: "raise" } },
      ],
    );
  });

  it("vLLM/Hermes <tool_call> blocks, the last one unclosed", () => {
    const body = completion({
      content:
        '<tool_call>\n{"name": "set_resolution", "arguments": {"direction": "raise", "rung": "4k"}}\n</tool_call>\n<tool_call>\n{"name": "move_arm", "arguments": {"target": "left"}}',
    });
    assert.deepEqual(calls(body), [
      { name: "set_resolution", args: { direction: "raise", rung: "4k" } },
      { name: "move_arm", args: { target: "left" } },
    ]);
  });

  it("content as an array of text parts; plain text gives no call and keeps the text", () => {
    const read = readCompletionBody(
      completion({ content: [{ type: "text", text: "I cannot do that." }] }),
    );
    assert.ok(read.ok);
    assert.deepEqual(read.calls, []);
    assert.equal(read.text, "I cannot do that.");
  });

  it("text that only looks like JSON is not a call", () => {
    const read = readCompletionBody(completion({ content: "set {resolution} to [high]" }));
    assert.ok(read.ok);
    assert.deepEqual(read.calls, []);
  });
});

describe("repairJson", () => {
  it("repairs trailing commas, single quotes, unquoted keys and Python literals", () => {
    assert.deepEqual(repairJson('{"a": 1, "b": [1, 2,],}'), { a: 1, b: [1, 2] });
    assert.deepEqual(repairJson("{'target': 'left', 'execute': True}"), {
      target: "left",
      execute: true,
    });
    assert.deepEqual(repairJson("{target: 'it\\'s \"here\"', rung: None}"), {
      target: 'it\'s "here"',
      rung: null,
    });
    assert.deepEqual(repairJson('{"reason": "don\'t, stop, }"}'), { reason: "don't, stop, }" });
  });

  it("gives up on what is not JSON at all", () => {
    assert.equal(repairJson("{not json"), undefined);
    assert.equal(repairJson(""), undefined);
  });
});

describe("coercion to the tool schemas", () => {
  const schemas = Object.fromEntries(
    buildIntentTools().map((t) => [t.function.name, t.function.parameters as ParamSchema]),
  ) as Record<string, ParamSchema>;

  it("matches enum values regardless of case and converts numbers and booleans", () => {
    assert.deepEqual(coerceToSchema({ direction: "Raise", rung: "4K" }, schemas.set_resolution!), {
      direction: "raise",
      rung: "4k",
    });
    assert.deepEqual(coerceToSchema({ target: "left", execute: "TRUE" }, schemas.move_arm!), {
      target: "left",
      execute: true,
    });
    assert.deepEqual(
      coerceToSchema(
        { Object: "BOX", position: { x: "0.5", y: "-0.2", z: "1e0" } },
        schemas.add_object!,
      ),
      { object: "box", position: { x: 0.5, y: -0.2, z: 1 } },
    );
    assert.deepEqual(
      coerceToSchema(
        { object: "sphere", position: '{"x": 1, "y": 2, "z": 0.5}' },
        schemas.add_object!,
      ),
      { object: "sphere", position: { x: 1, y: 2, z: 0.5 } },
    );
  });

  it("leaves what it cannot convert for strict validation to refuse", () => {
    assert.deepEqual(coerceToSchema({ execute: "now!" }, schemas.move_arm!), { execute: "now!" });
    assert.deepEqual(coerceToSchema({ direction: "up" }, schemas.set_resolution!), {
      direction: "up",
    });
    assert.deepEqual(coerceToSchema({ position: { x: "far" } }, schemas.add_object!), {
      position: { x: "far" },
    });
  });

  it("reads arguments as a string, an object, null, or a JSON string inside a string", () => {
    assert.deepEqual(argumentsObject('{"a": 1,}'), { a: 1 });
    assert.deepEqual(argumentsObject({ a: 1 }), { a: 1 });
    assert.deepEqual(argumentsObject(null), {});
    assert.deepEqual(argumentsObject(undefined), {});
    assert.deepEqual(argumentsObject("  "), {});
    assert.deepEqual(argumentsObject(JSON.stringify(JSON.stringify({ a: 1 }))), { a: 1 });
    assert.equal(argumentsObject("[1]"), null);
    assert.equal(argumentsObject(42), null);
    assert.equal(argumentsObject("{not json"), null);
  });

  it("matches tool names regardless of case and separators", () => {
    for (const name of ["move_arm", "MOVE_ARM", "Move-Arm", "moveArm", "functions.move_arm"]) {
      assert.equal(matchToolName(name, INTENT_KINDS), "move_arm", name);
    }
    assert.equal(matchToolName("launch_rocket", INTENT_KINDS), null);
    assert.equal(matchToolName(undefined, INTENT_KINDS), null);
    assert.equal(matchToolName("", INTENT_KINDS), null);
  });
});

describe("hearsStop", () => {
  it("hears the grammar's stop vocabulary and nothing else", () => {
    for (const s of ["stop", "HALT!", "emergency stop the arm now", "freeze", "e-stop", "Abort."]) {
      assert.ok(hearsStop(s), s);
    }
    for (const s of [
      "move the arm left",
      "raise to 4k",
      "add a box",
      "stopwatch",
      "nonstop video",
    ]) {
      assert.ok(!hearsStop(s), s);
    }
  });
});

describe("BackendGuard", () => {
  function guard(now: { t: number }, states: string[] = []) {
    return new BackendGuard({
      failureThreshold: 3,
      cooldownMs: 1000,
      maxCooldownMs: 4000,
      maxRetryAfterMs: 60_000,
      defaultRetryAfterMs: 5000,
      now: () => now.t,
      onState: (s) => states.push(s),
    });
  }

  it("opens after repeated failures, probes once after the cooldown, closes on success", () => {
    const now = { t: 0 };
    const states: string[] = [];
    const g = guard(now, states);
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(g.admit(), { ok: true, probe: false });
      g.failed("timeout: no answer");
    }
    assert.equal(g.health().state, BackendState.Degraded);
    assert.ok(g.admit().ok);
    g.failed("timeout: no answer");
    assert.equal(g.health().state, BackendState.Open);
    assert.match(g.health().reason, /circuit open after 3 failures: timeout/);
    assert.equal(g.health().blockedUntilMs, 1000);

    now.t = 999;
    const refused = g.admit();
    assert.equal(refused.ok, false);
    assert.equal(refused.ok ? "" : refused.code, "circuit_open");

    now.t = 1000;
    assert.deepEqual(g.admit(), { ok: true, probe: true });
    assert.equal(g.health().state, BackendState.HalfOpen);
    const second = g.admit();
    assert.equal(second.ok, false, "one probe at a time");
    g.succeeded();
    assert.equal(g.health().state, BackendState.Ok);
    assert.equal(g.health().consecutiveFailures, 0);
    assert.deepEqual(g.admit(), { ok: true, probe: false });
    assert.deepEqual(states, ["degraded", "open", "half_open", "ok"]);
  });

  it("a failed probe reopens with a doubled cooldown; an abandoned probe frees the slot", () => {
    const now = { t: 0 };
    const g = guard(now);
    for (let i = 0; i < 3; i++) g.failed("network: ECONNREFUSED");
    now.t = 1000;
    assert.ok(g.admit().ok);
    g.abandoned();
    assert.deepEqual(g.admit(), { ok: true, probe: true });
    g.failed("network: ECONNREFUSED");
    assert.equal(g.health().state, BackendState.Open);
    assert.equal(g.health().blockedUntilMs, 3000);
    now.t = 2999;
    assert.equal(g.admit().ok, false);
    now.t = 3000;
    assert.deepEqual(g.admit(), { ok: true, probe: true });
  });

  it("holds calls back for the Retry-After window without counting a failure", () => {
    const now = { t: 0 };
    const g = guard(now);
    assert.equal(g.rateLimited(12_000, "rate limited: HTTP 429"), 12_000);
    assert.equal(g.health().state, BackendState.RateLimited);
    assert.equal(g.health().consecutiveFailures, 0);
    now.t = 11_999;
    const refused = g.admit();
    assert.equal(refused.ok ? "" : refused.code, "rate_limited");
    assert.match(refused.ok ? "" : refused.detail, /wait 1 s more/);
    now.t = 12_000;
    assert.deepEqual(g.admit(), { ok: true, probe: false });
    assert.equal(g.rateLimited(null, "429"), 5000, "default pause without the header");
    assert.equal(g.rateLimited(10 * 60_000, "429"), 60_000, "capped");
  });

  it("bumps its version only when state or reason change", () => {
    const g = guard({ t: 0 });
    const v0 = g.health().version;
    g.succeeded();
    assert.equal(g.health().version, v0);
    g.failed("x");
    g.failed("x");
    assert.equal(g.health().version, v0 + 1);
    g.failed("y");
    assert.equal(g.health().version, v0 + 2);
  });
});

describe("retryAfterMs", () => {
  const h = (o: Record<string, string>) => new Headers(o);
  it("reads seconds, an HTTP date and OpenAI's retry-after-ms", () => {
    assert.equal(retryAfterMs(h({ "retry-after": "7" })), 7000);
    assert.equal(retryAfterMs(h({ "retry-after-ms": "250", "retry-after": "7" })), 250);
    const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
    assert.equal(retryAfterMs(h({ "retry-after": "Wed, 21 Oct 2015 07:28:30 GMT" }), now), 30_000);
    assert.equal(retryAfterMs(h({})), null);
    assert.equal(retryAfterMs(h({ "retry-after": "soon" })), null);
    assert.equal(retryAfterMs(undefined), null);
  });
});
