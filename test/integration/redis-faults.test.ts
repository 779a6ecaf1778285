/**
 * Scale-out faults with real processes: a real `redis-server` and two servers sharing it.
 * A process killed with SIGKILL leaves the listing on its own (no join needed) and the next
 * join is served by the survivor; while Redis is down, matchmaking and listing fail at once
 * with 503 + Retry-After and `/readyz` says not ready; after a Redis restart (without
 * persistence, so it comes back empty) the surviving rooms are listed again and `joinById`
 * reaches them. Durations are printed, not asserted: the test judges events.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Client, type Room } from "@colyseus/sdk";
import { TokenService } from "../../server/auth/tokens.ts";
import { loadConfig } from "../../server/config.ts";
import {
  freePort,
  type RedisHandle,
  type ServerHandle,
  startRedis,
  startServerProcess,
} from "../support/processes.ts";
import { skipWithoutRedis } from "../support/tools.ts";
import { leaveWithin } from "../support/server.ts";

const skip = skipWithoutRedis();

const SECRET = "faults-test-secret-0123456789abcdef-0123456789";

interface Listing {
  roomId: string;
  processId?: string;
}

describe("scale-out faults (two processes, real redis-server)", { skip, timeout: 120_000 }, () => {
  let redis: RedisHandle;
  let a: ServerHandle;
  let b: ServerHandle;
  const open: Room[] = [];
  const config = loadConfig({ AUTH_SECRET: SECRET });
  const tokens = new TokenService(config.auth.secret, {
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    maxTtlS: config.auth.maxTokenTtlS,
  });
  const token = (name: string) => tokens.issue({ userId: name, name, role: "operator" }, 600);

  const startServer = async () =>
    startServerProcess({
      PORT: String(await freePort()),
      REDIS_URL: redis.url,
      AUTH_SECRET: SECRET,
      ROBOT_LINK: "inprocess",
      AGENTS: "false",
      RECORD: "false",
      SCALEOUT_SWEEP_MS: "500",
    });
  const client = async (s: ServerHandle, name: string) => {
    const c = new Client(s.url);
    c.auth.token = await token(name);
    return c;
  };
  const listing = async (s: ServerHandle): Promise<Listing[]> => {
    const res = await fetch(`${s.url}/api/rooms`, {
      headers: { authorization: `Bearer ${await token("lister")}` },
    });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as Listing[];
  };
  const until = async (what: string, check: () => Promise<boolean>, ms = 30_000) => {
    const t0 = Date.now();
    while (!(await check().catch(() => false))) {
      if (Date.now() - t0 > ms) throw new Error(`${what} not reached within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return Date.now() - t0;
  };

  before(async () => {
    redis = await startRedis();
    a = await startServer();
    b = await startServer();
  });
  after(async () => {
    await Promise.allSettled(open.map((r) => leaveWithin(r, 1000)));
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  it("a crashed process's rooms leave the listing without a join, and the next join is served", async () => {
    // Through A: the first room goes to the process with fewer rooms, then the other.
    const r1 = await (await client(a, "ann")).create("digital_twin");
    const r2 = await (await client(a, "bob")).create("digital_twin");
    open.push(r1, r2);
    await until("both rooms listed", async () => (await listing(a)).length === 2);
    const hostedByB = async (roomId: string) =>
      (
        await fetch(`${b.url}/api/rooms/${roomId}/robot`, {
          headers: { authorization: `Bearer ${await token("x")}` },
        })
      ).status === 200;
    const onB = (await hostedByB(r1.roomId)) ? r1 : r2;
    assert.ok(await hostedByB(onB.roomId), "one room is hosted by B");

    await b.stop("SIGKILL");
    const gone = await until(
      "B's room gone from A's listing",
      async () => !(await listing(a)).some((r) => r.roomId === onB.roomId),
    );
    console.log(`# dead process's room left the listing ${gone} ms after SIGKILL`);

    const t0 = Date.now();
    const next = await (await client(a, "carol")).joinOrCreate("digital_twin");
    open.push(next);
    console.log(`# first join after the crash took ${Date.now() - t0} ms`);
    assert.notEqual(next.roomId, onB.roomId);
  });

  it("fails fast with a reason while Redis is down, and lists the rooms again once it is back", async () => {
    const port = redis.port;
    const before = (await listing(a)).map((r) => r.roomId).sort();
    assert.ok(before.length > 0);
    await redis.stop("SIGKILL");

    await until("readyz not ready", async () => (await fetch(`${a.url}/readyz`)).status === 503);
    const t0 = Date.now();
    const res = await fetch(`${a.url}/matchmake/joinOrCreate/digital_twin`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await token("d")}` },
      body: "{}",
    });
    console.log(`# a join during the outage was answered in ${Date.now() - t0} ms`);
    assert.equal(res.status, 503);
    assert.ok(Number(res.headers.get("retry-after")) >= 1);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /Redis/);
    const sdkJoin = await (
      await client(a, "erin")
    )
      .joinOrCreate("digital_twin")
      .then(() => "joined")
      .catch((err: { code?: number }) => err.code);
    assert.equal(sdkJoin, 503);

    redis = await startRedis(port);
    const back = await until("rooms listed again", async () => {
      const now = (await listing(a)).map((r) => r.roomId).sort();
      return JSON.stringify(now) === JSON.stringify(before);
    });
    console.log(`# rooms listed again ${back} ms after Redis restarted`);
    assert.equal((await fetch(`${a.url}/readyz`)).status, 200);
    const again = await (await client(a, "frank")).joinById(before[0]!);
    open.push(again);
    assert.equal(again.roomId, before[0]);
  });

  it("counts a stalled Redis (no connection closed) as down until it answers again", async () => {
    process.kill(redis.pid, "SIGSTOP");
    try {
      const stalled = await until(
        "readyz not ready",
        async () => (await fetch(`${a.url}/readyz`)).status === 503,
      );
      console.log(`# a stalled Redis was noticed after ${stalled} ms`);
      const res = await fetch(`${a.url}/api/rooms`, {
        headers: { authorization: `Bearer ${await token("g")}` },
      });
      assert.equal(res.status, 503);
    } finally {
      process.kill(redis.pid, "SIGCONT");
    }
    await until("ready again", async () => (await fetch(`${a.url}/readyz`)).status === 200);
    assert.ok((await listing(a)).length > 0);
  });
});
