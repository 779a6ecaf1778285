/**
 * Hostile and broken input through the real SDK: thousands of random and malformed
 * messages (wrong types, NaN and ±Infinity, huge numbers, oversized arrays, deep nesting,
 * binary blobs, `__proto__` keys, unknown message types) and an oversized frame. Each must be answered with an `error` carrying a code, nothing in the twin may
 * change, and afterwards the room must still serve a normal client correctly.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { seededRandom } from "../../server/sim/random.ts";
import { request, startTestServer, type TestServer, waitForState } from "../support/server.ts";

const TYPES = [
  "pose",
  "jog",
  "goal",
  "plan",
  "approve",
  "stop",
  "reset",
  "addObject",
  "removeObject",
  "grab",
  "release",
  "teleport",
  "__proto__",
  "constructor",
  "",
  // Long names: the SDK itself cannot frame a type name much over 100 bytes.
  "x".repeat(90),
];

/** A random value of random shape, biased towards what breaks parsers. */
function randomValue(rnd: () => number, depth = 0): unknown {
  const pick = Math.floor(rnd() * 14);
  switch (pick) {
    case 0:
      return Number.NaN;
    case 1:
      return rnd() < 0.5 ? Infinity : -Infinity;
    case 2:
      return (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40);
    case 3:
      return Math.floor(rnd() * 20) - 5;
    case 4:
      return "s".repeat(Math.floor(rnd() * 200));
    case 5:
      return rnd() < 0.5;
    case 6:
      return null;
    case 7:
      return Array.from(
        { length: Math.floor(rnd() * (rnd() < 0.1 ? 5000 : 10)) },
        () => rnd() * 4 - 2,
      );
    case 8:
      return new Uint8Array(Math.floor(rnd() * 512));
    case 9:
      return { x: rnd(), y: Number.NaN, z: rnd() };
    default: {
      if (depth > 4) return {};
      const keys = [
        "mode",
        "joint",
        "velocity",
        "velocities",
        "goal",
        "kind",
        "positions",
        "pose",
        "position",
        "orientation",
        "head",
        "planId",
        "id",
        "shape",
        "size",
        "radius",
        "hand",
        "objectId",
        "deadmanMs",
        "requestId",
        "__proto__",
        "linear",
        "angular",
      ];
      const o: Record<string, unknown> = {};
      const n = 1 + Math.floor(rnd() * 5);
      for (let i = 0; i < n; i++) {
        // defineProperty, so "__proto__" becomes an own key on the wire (not a prototype).
        const value = randomValue(rnd, depth + 1);
        Object.defineProperty(o, keys[Math.floor(rnd() * keys.length)]!, {
          value,
          enumerable: true,
          configurable: true,
          writable: true,
        });
      }
      return o;
    }
  }
}

/** Near-valid messages: one field broken in an otherwise well-formed command. */
function nearlyValid(rnd: () => number): [string, unknown] {
  const q = { x: 0, y: 0, z: 0, w: 1 };
  const cases: [string, unknown][] = [
    ["jog", { mode: "joint", joint: 0, velocity: Number.NaN }],
    ["jog", { mode: "joint", joint: 99, velocity: 0.1 }],
    ["jog", { mode: "joints", velocities: new Array(7).fill(Infinity) }],
    ["jog", { mode: "joints", velocities: new Array(17).fill(0) }],
    ["jog", { mode: "joints", velocities: [0.1, 0.1] }],
    ["jog", { mode: "joint", joint: 0, velocity: 9.9 }],
    ["jog", { mode: "cartesian", linear: { x: 5, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }],
    ["goal", { goal: { kind: "joints", positions: [0, 0, 0, 0, 0, 0, 99] } }],
    ["goal", { goal: { kind: "joints", positions: [10, 10, 10, 10, 10, 10, 10] } }],
    [
      "plan",
      { goal: { kind: "joints", positions: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] } },
    ],
    [
      "plan",
      { goal: { kind: "pose", pose: { position: { x: 1e9, y: 0, z: 0 }, orientation: q } } },
    ],
    [
      "plan",
      {
        goal: {
          kind: "pose",
          pose: { position: { x: 0, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 0 } },
        },
      },
    ],
    ["plan", { goal: { kind: "named", name: "no-such-pose" } }],
    ["approve", { planId: "plan-999" }],
    ["approve", { planId: "../../etc/passwd" }],
    [
      "addObject",
      {
        shape: { kind: "box", size: { x: -1, y: 1, z: 1 } },
        pose: { position: { x: 0, y: 0, z: 0 }, orientation: q },
      },
    ],
    [
      "addObject",
      {
        shape: { kind: "sphere", radius: 0.1 },
        pose: { position: { x: 0, y: 0, z: 1.2 }, orientation: q },
      },
    ],
    [
      "addObject",
      {
        shape: { kind: "cone", radius: 0.1 },
        pose: { position: { x: 0, y: 0, z: 3 }, orientation: q },
      },
    ],
    ["removeObject", { id: "table" }],
    ["removeObject", { id: "ghost" }],
    ["grab", { objectId: "table", hand: "left" }],
    ["grab", { objectId: "part-1", hand: "tentacle" }],
    ["pose", { head: { position: { x: Number.NaN, y: 0, z: 0 }, orientation: q } }],
    ["pose", { head: { position: { x: 0, y: 0, z: 0 }, orientation: q }, extra: 1 }],
  ];
  return cases[Math.floor(rnd() * cases.length)]!;
}

describe("bad input", () => {
  let server: TestServer;
  before(async () => {
    // A high rate limit here so that the schema checks, not the limiter, see every message.
    server = await startTestServer({ RATE_LIMIT_PER_S: "10000", RATE_LIMIT_BURST: "100000" });
  });
  after(async () => {
    await server.close();
  });

  it("answers thousands of random and malformed messages with coded errors and changes nothing", async () => {
    const fuzzer = await server.join("operator", "fuzzer");
    const watcher = await server.join("observer", "watcher", fuzzer.room.roomId);
    const before = snapshot(watcher.room.state);
    const rnd = seededRandom(42);
    const errors = new Map<string, number>();
    let acks = 0;
    fuzzer.room.onMessage("error", (e: { code: string }) =>
      errors.set(e.code, (errors.get(e.code) ?? 0) + 1),
    );
    fuzzer.room.onMessage("ack", () => (acks += 1));
    const N = 3000;
    for (let i = 0; i < N; i++) {
      const [type, payload] =
        rnd() < 0.5
          ? nearlyValid(rnd)
          : [TYPES[Math.floor(rnd() * TYPES.length)]!, randomValue(rnd)];
      // Some numeric and binary message types too, which Colyseus also routes to "*".
      if (i % 97 === 0) fuzzer.room.send(Math.floor(rnd() * 300), payload);
      else if (i % 89 === 0) fuzzer.room.sendBytes(type || "x", new Uint8Array(64));
      else fuzzer.room.send(type, payload as never);
      if (i % 200 === 0) await new Promise((r) => setImmediate(r));
    }
    // Every message is answered: wait until the replies stop growing.
    let total = -1;
    while (total !== sum(errors) + acks) {
      total = sum(errors) + acks;
      await new Promise((r) => setTimeout(r, 300));
    }
    const codes = [...errors.keys()];
    for (const code of ["invalid_message", "unknown_type"])
      assert.ok(codes.includes(code), `saw ${code}: ${codes}`);
    assert.ok(sum(errors) > N * 0.9, `errors ${sum(errors)} of ${N}`);
    assert.ok(codes.every((c) => /^[a-z_]+$/.test(c)));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(snapshot(watcher.room.state), before, "the twin is unchanged");

    // The room still serves a normal client correctly.
    const op = await server.join("operator", "normal", fuzzer.room.roomId);
    const planned = await request(op, "plan", { goal: { kind: "named", name: "right" } });
    assert.equal(planned.kind, "ack", JSON.stringify(planned.body));
    await request(op, "approve", { planId: planned.body.id! });
    await waitForState(
      op.room,
      (s) => s.plans.get(planned.body.id!)?.status === "succeeded",
      10_000,
    );
    // "right" has joint 1 at -1.2 rad; the plan reports success with the arm measured there.
    const j1 = op.room.state.robot.joints[0]!.position;
    assert.ok(Math.abs(j1 - -1.2) < 1e-3, `joint 1 at ${j1}`);
  });

  it("closes a socket that sends an oversized frame (1009) and the room keeps serving", async () => {
    const big = await server.join("operator", "big-sender");
    const other = await server.join("observer", "bystander", big.room.roomId);
    const closed = new Promise<number>((resolve) => big.room.onLeave((code) => resolve(code)));
    big.room.send("pose", { head: "x".repeat(200_000) } as never);
    assert.equal(await closed, 1009);
    other.room.send("pose", {
      head: { position: { x: 0, y: 1, z: 1.5 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
    });
    await waitForState(
      other.room,
      (s) => s.operators.get(other.room.sessionId)?.head.position.y === 1,
    );
  });
});

function sum(m: Map<string, number>): number {
  let s = 0;
  for (const v of m.values()) s += v;
  return s;
}

/** What must not change: arm, objects, plans (`mode` may: a fuzzed `stop` is valid). */
function snapshot(state: {
  robot: { joints: Iterable<{ position: number }> };
  objects: { keys(): Iterable<string> };
  plans: { size: number };
}) {
  return {
    joints: [...state.robot.joints].map((j) => j.position),
    objects: [...state.objects.keys()].sort(),
    plans: state.plans.size,
  };
}
