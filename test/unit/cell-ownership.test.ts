/**
 * Socket-free parts of the robot link's safety: cell ownership leases (one holder at a time,
 * renewal, expiry, release, the refusal text) over the in-memory store and over a presence
 * that behaves as Colyseus's (atomic claim by increment), and the rosbridge `auth` op's MAC
 * as rosauth checks it (the sim cell's verifier is an independent implementation).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { pino } from "pino";
import { verifyAuth } from "../../ros/sim-cell/faults.ts";
import {
  CellLease,
  type LeasePresence,
  type LeaseStore,
  MemoryLeaseStore,
  ownerRefusal,
  PresenceLeaseStore,
} from "../../server/robot/cell-ownership.ts";
import { authOp } from "../../server/robot/ros-connection.ts";

const log = pino({ level: "silent" });

/** A presence with Redis's semantics for the calls a lease makes, on a settable clock. */
class FakePresence implements LeasePresence {
  nowMs = 0;
  readonly #kv = new Map<string, { value: string; untilMs: number }>();
  readonly #hashes = new Map<string, { n: number; untilMs: number }>();
  #live<T extends { untilMs: number }>(m: Map<string, T>, key: string): T | undefined {
    const e = m.get(key);
    if (e && e.untilMs <= this.nowMs) m.delete(key);
    return m.get(key);
  }
  async exists(key: string) {
    return this.#live(this.#kv, key) !== undefined || this.#live(this.#hashes, key) !== undefined;
  }
  async get(key: string) {
    return this.#live(this.#kv, key)?.value ?? null;
  }
  async setex(key: string, value: string, seconds: number) {
    this.#kv.set(key, { value, untilMs: this.nowMs + seconds * 1000 });
  }
  async expire(key: string, seconds: number) {
    const e = this.#live(this.#kv, key) ?? this.#live(this.#hashes, key);
    if (e) e.untilMs = this.nowMs + seconds * 1000;
  }
  async del(key: string) {
    this.#kv.delete(key);
    this.#hashes.delete(key);
  }
  async hincrbyex(key: string, _field: string, value: number, seconds: number) {
    const e = this.#live(this.#hashes, key) ?? { n: 0, untilMs: 0 };
    e.n += value;
    e.untilMs = this.nowMs + seconds * 1000;
    this.#hashes.set(key, e);
    return e.n;
  }
}

for (const [label, make] of [
  ["memory", (clock: { nowMs: number }) => new MemoryLeaseStore(() => clock.nowMs)],
  [
    "presence",
    (clock: { nowMs: number }) => {
      const p = new FakePresence();
      Object.defineProperty(p, "nowMs", { get: () => clock.nowMs });
      return new PresenceLeaseStore(p);
    },
  ],
] as const) {
  describe(`lease store (${label})`, () => {
    it("one holder at a time; renewal; expiry; release", async () => {
      const clock = { nowMs: 1_000_000 };
      const store: LeaseStore = make(clock);
      assert.equal(await store.claim("cell", "a", 3000), "a");
      assert.equal(await store.claim("cell", "b", 3000), "a", "b cannot take a held lease");
      clock.nowMs += 2000;
      assert.equal(await store.claim("cell", "a", 3000), "a", "a renews");
      clock.nowMs += 2000;
      assert.equal(await store.claim("cell", "b", 3000), "a", "renewed: still a's");
      clock.nowMs += 3500;
      assert.equal(await store.claim("cell", "b", 3000), "b", "a's lease expired: b takes it");
      await store.release("cell", "a");
      assert.equal(await store.claim("cell", "a", 3000), "b", "a cannot release b's lease");
      await store.release("cell", "b");
      assert.equal(await store.claim("cell", "a", 3000), "a", "released: free again");
    });
  });
}

describe("CellLease", () => {
  it("the first session owns the cell; the second is refused with the owner named", async () => {
    const store = new MemoryLeaseStore();
    const a = new CellLease({
      store,
      cellId: "ws://cell:9090",
      roomId: "roomA",
      ttlMs: 3000,
      logger: log,
    });
    const b = new CellLease({
      store,
      cellId: "ws://cell:9090",
      roomId: "roomB",
      ttlMs: 3000,
      logger: log,
    });
    await a.start();
    await b.start();
    try {
      assert.equal(a.isMine(), true);
      assert.equal(ownerRefusal(a), null);
      assert.equal(b.isMine(), false);
      assert.match(
        ownerRefusal(b)!,
        /cell ws:\/\/cell:9090 is owned by room roomA; this room sees it read-only/,
      );
      const changed = new Promise<boolean>((resolve) => b.onChange((_o, mine) => resolve(mine)));
      await a.close();
      await b.refresh();
      assert.equal(await changed, true);
      assert.equal(b.isMine(), true);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe("rosbridge auth op (rosauth MAC)", () => {
  it("is SHA-512 of secret+client+dest+rand+t+level+end with whole seconds", () => {
    const op = authOp("0123456789abcdef", {
      client: "10.0.0.2",
      dest: "ros-cell.local",
      level: "admin",
      nowMs: 1_700_000_000_987,
      validS: 60,
    });
    assert.equal(op.t, 1_700_000_000);
    assert.equal(op.end, 1_700_000_060);
    const expected = createHash("sha512")
      .update(`0123456789abcdef10.0.0.2ros-cell.local${op.rand}1700000000admin1700000060`)
      .digest("hex");
    assert.equal(op.mac, expected);
    assert.match(op.mac, /^[0-9a-f]{128}$/);
    // The sim cell's verifier (rosauth's checks) accepts it near t, refuses it otherwise.
    assert.equal(verifyAuth("0123456789abcdef", op, op.t + 1), true);
    assert.equal(verifyAuth("0123456789abcdeX", op, op.t + 1), false);
    assert.equal(verifyAuth("0123456789abcdef", op, op.t + 10), false, "outside 5 s");
    assert.equal(verifyAuth("0123456789abcdef", { ...op, level: "user" }, op.t), false);
  });
});
