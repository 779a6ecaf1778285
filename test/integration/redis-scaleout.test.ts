/**
 * Scale-out over Redis with real processes: Debian's redis-server on a loopback port and two
 * servers (`server/main.ts`) sharing it through Colyseus's Redis presence and driver.
 * A client matchmade through one process joins a room hosted by the other (its seat
 * reservation names the hosting process's public address), both processes list the same
 * rooms, new rooms spread to the process with fewer rooms, and stopping one process leaves
 * the other serving. Skipped only where `redis-server` is not installed.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Client, type Room, type SeatReservation } from "@colyseus/sdk";
import { TwinState } from "../../shared/schema/twin-state.ts";
import {
  devToken,
  freePort,
  type RedisHandle,
  type ServerHandle,
  startRedis,
  startServerProcess,
} from "../support/processes.ts";
import { skipWithoutRedis } from "../support/tools.ts";
import { leaveWithin, waitForState } from "../support/server.ts";

type TwinRoom = Room<unknown, TwinState>;

interface Listing {
  roomId: string;
  name: string;
  clients: number;
}

const skip = skipWithoutRedis();

describe("scale-out over Redis (two server processes)", { skip, timeout: 60_000 }, () => {
  let redis: RedisHandle;
  let a: ServerHandle;
  let b: ServerHandle;
  const rooms: TwinRoom[] = [];

  const startServer = async () => {
    const port = await freePort();
    return startServerProcess({
      PORT: String(port),
      REDIS_URL: redis.url,
      // Every process verifies the others' tokens: one secret, and dev tokens for the test.
      AUTH_SECRET: "scaleout-test-secret-0123456789abcdef-01234567",
      AUTH_DEV_TOKENS: "true",
      ROBOT_LINK: "inprocess",
      AGENTS: "false",
      RECORD: "false",
    });
  };
  const client = async (base: string, name: string, role: "operator" | "observer") => {
    const c = new Client(base);
    c.auth.token = await devToken(base, name, role);
    return c;
  };
  /** Request options carrying an observer token of `s` (API reads need one). */
  const reader = async (s: ServerHandle) => ({
    headers: { authorization: `Bearer ${await devToken(s.url, "reader", "observer")}` },
  });
  const track = (room: TwinRoom) => {
    rooms.push(room);
    return room;
  };
  const listing = async (s: ServerHandle): Promise<Listing[]> =>
    ((await (await fetch(`${s.url}/api/rooms`, await reader(s))).json()) as Listing[]).sort(
      (x, y) => x.roomId.localeCompare(y.roomId),
    );
  /** Which process hosts a twin room: only the host has its session (robot snapshot). */
  const hosts = async (s: ServerHandle, roomId: string) =>
    (await fetch(`${s.url}/api/rooms/${roomId}/robot`, await reader(s))).status === 200;
  const until = async (what: string, check: () => Promise<boolean>, ms = 5000) => {
    const end = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`${what} not reached within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const pose = (x: number) => ({
    head: { position: { x, y: 0.25, z: 1.6 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
  });

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await Promise.allSettled(rooms.map((r) => leaveWithin(r, 1000)));
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  let shared: TwinRoom;
  let viaB: TwinRoom;

  it("a client matchmade through one process joins a room hosted by the other", async () => {
    // A starts alone, so the first room is certainly hosted by A.
    a = await startServer();
    const ann = await client(a.url, "ann", "operator");
    shared = track(await ann.create("digital_twin", {}, TwinState));
    assert.ok(await hosts(a, shared.roomId), "room hosted by A");

    b = await startServer();
    assert.equal(await hosts(b, shared.roomId), false, "B does not host the room");
    // Matchmaking through B: the reservation points at A's public address and process.
    const bob = await client(b.url, "bob", "observer");
    const res = await fetch(`${b.url}/matchmake/joinById/${shared.roomId}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${bob.auth.token}` },
      body: "{}",
    });
    assert.equal(res.status, 200, await res.clone().text());
    const reservation = (await res.json()) as SeatReservation;
    assert.equal(reservation.roomId, shared.roomId);
    assert.equal(reservation.publicAddress, `127.0.0.1:${a.port}`);
    viaB = track(await bob.consumeSeatReservation(reservation, TwinState));
    assert.equal(viaB.roomId, shared.roomId);

    // Plain SDK matchmaking through B finds the same room too.
    const dave = await client(b.url, "dave", "observer");
    const alsoViaB = track(await dave.joinOrCreate("digital_twin", {}, TwinState));
    assert.equal(alsoViaB.roomId, shared.roomId);
  });

  it("clients on either side see the same state", async () => {
    shared.send("pose", pose(1.25));
    await waitForState(viaB, (s) => s.operators.get(shared.sessionId)?.head.position.x === 1.25);
    viaB.send("pose", pose(-0.5));
    await waitForState(shared, (s) => s.operators.get(viaB.sessionId)?.head.position.x === -0.5);
    assert.deepEqual([...viaB.state.operators.values()].map((o) => o.name).sort(), [
      "ann",
      "bob",
      "dave",
    ]);
  });

  it("both processes list the same rooms with the same client counts", async () => {
    await until("listings agree on 3 clients", async () => {
      const [la, lb] = await Promise.all([listing(a), listing(b)]);
      return JSON.stringify(la) === JSON.stringify(lb) && la[0]?.clients === 3;
    });
    const la = await listing(a);
    assert.deepEqual(
      la.map((r) => r.roomId),
      [shared.roomId],
    );
  });

  let onB: TwinRoom;
  it("a new room asked for through A is placed on B, the process with fewer rooms", async () => {
    const carl = await client(a.url, "carl", "operator");
    onB = track(await carl.create("digital_twin", {}, TwinState));
    assert.ok(await hosts(b, onB.roomId), "second room hosted by B");
    assert.equal(await hosts(a, onB.roomId), false);
    await until("both rooms listed on both", async () => {
      const [la, lb] = await Promise.all([listing(a), listing(b)]);
      return la.length === 2 && JSON.stringify(la) === JSON.stringify(lb);
    });
  });

  it("stopping A leaves B serving: its rooms, health, listing and new rooms", async () => {
    const left = new Promise<number>((resolve) => viaB.onLeave((code) => resolve(code)));
    assert.equal(await a.stop("SIGTERM"), 0, "A exits cleanly");
    // Clients of A's room are told the server shut down (4001), wherever they matchmade.
    assert.equal(await left, 4001);

    assert.deepEqual(await (await fetch(`${b.url}/healthz`)).json(), { status: "ok" });
    assert.deepEqual(
      (await listing(b)).map((r) => r.roomId),
      [onB.roomId],
      "A's room left the shared listing",
    );
    // The room on B (matchmade through A) keeps working.
    onB.send("pose", pose(0.75));
    await waitForState(onB, (s) => s.operators.get(onB.sessionId)?.head.position.x === 0.75);

    const erin = await client(b.url, "erin", "operator");
    const fresh = track(await erin.create("digital_twin", {}, TwinState));
    assert.ok(await hosts(b, fresh.roomId), "new room hosted by B");
    await waitForState(fresh, (s) => s.robot.joints.length === 7);
  });
});
