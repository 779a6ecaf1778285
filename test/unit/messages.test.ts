/**
 * The room boundary: every message type has a schema, and non-finite numbers, oversized
 * arrays, extra keys and unknown types are refused with a code and a readable reason.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseMessage } from "../../shared/messages/parse.ts";
import { TwinMessageSchemas } from "../../shared/messages/twin.ts";
import { REQUIRED_CAPABILITY } from "../../server/twin/permissions.ts";

const pose = { position: { x: 0, y: 0, z: 1 }, orientation: { x: 0, y: 0, z: 0, w: 1 } };

describe("twin message contracts", () => {
  it("accepts a well-formed command of each kind", () => {
    const good: [string, unknown][] = [
      ["pose", { head: pose, right: pose }],
      ["jog", { mode: "joint", joint: 2, velocity: -0.3 }],
      [
        "jog",
        { mode: "cartesian", linear: { x: 0, y: 0, z: 0.05 }, angular: { x: 0, y: 0, z: 0 } },
      ],
      ["goal", { goal: null }],
      ["plan", { goal: { kind: "named", name: "ready" }, velocityScale: 0.3, requestId: "a-1" }],
      ["approve", { planId: "plan-1" }],
      ["stop", {}],
      ["reset", undefined],
      [
        "addObject",
        {
          shape: { kind: "box", size: { x: 0.1, y: 0.1, z: 0.1 } },
          pose,
          dynamic: true,
          color: "#ff0000",
        },
      ],
      ["removeObject", { id: "obj-1" }],
      ["grab", { objectId: "obj-1", hand: "left" }],
      ["release", {}],
    ];
    for (const [type, body] of good) {
      const r = parseMessage(TwinMessageSchemas, type, body);
      assert.ok(r.ok, `${type}: ${JSON.stringify(r)}`);
    }
  });

  it("refuses NaN, infinities, oversized arrays, extra keys and non-unit quaternions", () => {
    const bad: [string, unknown][] = [
      ["jog", { mode: "joint", joint: 0, velocity: Number.NaN }],
      ["jog", { mode: "joints", velocities: [Infinity, 0, 0, 0, 0, 0, 0] }],
      ["jog", { mode: "joints", velocities: new Array(17).fill(0) }],
      ["goal", { goal: { kind: "joints", positions: new Array(1000).fill(0) } }],
      ["pose", { head: { ...pose, position: { x: 1e6, y: 0, z: 0 } } }],
      ["pose", { head: { ...pose, orientation: { x: 0, y: 0, z: 0, w: 0.5 } } }],
      ["stop", { force: true }],
      ["approve", { planId: "a/b" }],
      ["plan", { requestId: "x".repeat(65) }],
    ];
    for (const [type, body] of bad) {
      const r = parseMessage(TwinMessageSchemas, type, body);
      assert.equal(r.ok, false, type);
      if (!r.ok) {
        assert.equal(r.code, "invalid_message");
        assert.ok(r.message.startsWith(`${type}: `), r.message);
      }
    }
  });

  it("refuses unknown and prototype message types", () => {
    for (const type of ["teleport", "__proto__", "constructor", "toString", 7, null]) {
      const r = parseMessage(TwinMessageSchemas, type, {});
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.code, "unknown_type");
    }
  });

  it("echoes a valid requestId on refusal so the client can correlate it", () => {
    const r = parseMessage(TwinMessageSchemas, "jog", {
      mode: "joint",
      joint: 0,
      velocity: Number.NaN,
      requestId: "req-7",
    });
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.requestId, "req-7");
  });

  it("names a required capability for every message type", () => {
    assert.deepEqual(
      Object.keys(REQUIRED_CAPABILITY).sort(),
      Object.keys(TwinMessageSchemas).sort(),
    );
  });
});
