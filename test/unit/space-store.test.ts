/**
 * One contract for every SpaceStore (server/store/space-store.ts): the JSON files under a
 * folder, and Redis (Debian's redis-server on a loopback port; skipped where it is not
 * installed). Then what only files have: a damaged file is reported and left out of the
 * listing, a creation never replaces a space, and no temporary file is left behind.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import {
  EMPTY_SPACE_SCENE,
  SpaceCorruptError,
  type SpaceScene,
  type SpaceStore,
} from "../../server/store/space-store.ts";
import { KeyedSerial } from "../../server/store/keyed-serial.ts";
import { FileSpaceStore } from "../../server/store/space-store-file.ts";
import { RedisSpaceStore } from "../../server/store/space-store-redis.ts";
import { type RedisHandle, startRedis } from "../support/processes.ts";
import { skipWithoutRedis } from "../support/tools.ts";

const SCENE: SpaceScene = {
  version: 3,
  streamUrl: "/media/video/s1/master.m3u8",
  renditions: [
    { name: "1080p", bitrateBps: 300_000, playlistUrl: "/media/video/s1/1080p/index.m3u8" },
    {
      name: "4k",
      bitrateBps: 800_000,
      playlistUrl: "/media/video/s1/4k/index.m3u8",
      mp4Url: "/media/video/s1/4k.mp4",
    },
  ],
  assetUrl: "/media/scenes/lab/v2.glb",
  assetBytes: 1234,
};

/** The contract, over a store `open()` gives fresh (empty) for each suite. */
function contract(kind: string, open: () => Promise<SpaceStore>, skip: false | string = false) {
  describe(`SpaceStore contract: ${kind}`, { skip }, () => {
    let store: SpaceStore;
    before(async () => {
      store = await open();
    });
    after(() => store?.close());

    it("creates once, reads back, lists by name", async () => {
      const t0 = new Date("2026-01-02T03:04:05.000Z");
      const made = await store.create("lab", EMPTY_SPACE_SCENE, t0);
      assert.deepEqual(made, {
        name: "lab",
        created: t0.toISOString(),
        updated: t0.toISOString(),
        scene: EMPTY_SPACE_SCENE,
      });
      assert.equal(await store.create("lab", SCENE), null, "a creation never replaces");
      assert.deepEqual(await store.get("lab"), made);
      await store.create("another_one-2");
      assert.deepEqual(
        (await store.list()).map((s) => s.name),
        ["another_one-2", "lab"],
      );
    });

    it("updates the scene of an existing space, keeping when it was created", async () => {
      const t1 = new Date("2026-01-03T00:00:00.000Z");
      const stored = await store.update("lab", SCENE, t1);
      assert.equal(stored?.created, "2026-01-02T03:04:05.000Z");
      assert.equal(stored?.updated, t1.toISOString());
      assert.deepEqual((await store.get("lab"))?.scene, SCENE);
    });

    it("does not update or delete what does not exist", async () => {
      assert.equal(await store.update("nobody", SCENE), null);
      assert.equal(await store.get("nobody"), null, "an update did not create it");
      assert.equal(await store.delete("nobody"), false);
    });

    it("deletes", async () => {
      assert.equal(await store.delete("another_one-2"), true);
      assert.equal(await store.get("another_one-2"), null);
      assert.deepEqual(
        (await store.list()).map((s) => s.name),
        ["lab"],
      );
    });

    it("refuses bad names before touching anything", async () => {
      for (const bad of ["", "a/b", "../x", "with space", "x".repeat(65), "é"]) {
        await assert.rejects(store.get(bad), RangeError, bad);
        await assert.rejects(store.create(bad), RangeError, bad);
        await assert.rejects(store.delete(bad), RangeError, bad);
      }
    });
  });
}

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), "agenttwin-spaces-"));
  dirs.push(d);
  return d;
};

contract("files", async () => new FileSpaceStore(join(await tempDir(), "spaces")));

const redisSkip = skipWithoutRedis();
let redis: RedisHandle | undefined;
after(() => redis?.stop());
contract(
  "redis",
  async () => {
    redis = await startRedis();
    return new RedisSpaceStore(redis.url);
  },
  redisSkip,
);

describe("FileSpaceStore on disk", () => {
  it("reports a damaged file and leaves it out of the listing", async () => {
    const dir = join(await tempDir(), "spaces");
    const store = new FileSpaceStore(dir);
    await store.create("good");
    await writeFile(join(dir, "torn.json"), '{"name":"torn","created":');
    await writeFile(
      join(dir, "wrong.json"),
      JSON.stringify({ name: "wrong", created: "yesterday", updated: "", scene: {} }),
    );
    const reported: string[] = [];
    const listed = await store.list((err) => reported.push(err.space));
    assert.deepEqual(
      listed.map((s) => s.name),
      ["good"],
    );
    assert.deepEqual(reported.sort(), ["torn", "wrong"]);
    await assert.rejects(store.get("torn"), SpaceCorruptError);
    // A damaged space can still be replaced by a good scene, or deleted.
    assert.equal((await store.update("torn", SCENE))?.scene.version, 3);
    assert.equal(await store.delete("wrong"), true);
  });

  it("leaves no temporary file behind", async () => {
    const dir = join(await tempDir(), "spaces");
    const store = new FileSpaceStore(dir);
    await Promise.all([store.create("x"), store.create("x"), store.update("x", SCENE)]);
    assert.deepEqual(await readdir(dir), ["x.json"]);
    await store.close();
  });
});

describe("KeyedSerial (the per-space queue of the file store and of SpaceScenes)", () => {
  it("runs one key's tasks in order, past a failure, other keys alongside; forgets idle keys", async () => {
    const serial = new KeyedSerial();
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const a1 = serial.run("a", async () => {
      await gate;
      order.push("a1");
    });
    const a2 = serial.run("a", () => Promise.reject(new Error("a2 failed")));
    const a3 = serial.run("a", async () => {
      order.push("a3");
      return 3;
    });
    const b1 = serial.run("b", async () => {
      order.push("b1");
    });
    await b1;
    assert.deepEqual(order, ["b1"], "b does not wait for a");
    assert.equal(serial.size, 1, "b is forgotten once done");
    release();
    await a1;
    await assert.rejects(a2, /a2 failed/);
    assert.equal(await a3, 3);
    assert.deepEqual(order, ["b1", "a1", "a3"]);
    await serial.idle();
    assert.equal(serial.size, 0);
  });
});

describe("RedisSpaceStore", { skip: redisSkip }, () => {
  it("reports a foreign value under a space key", async () => {
    redis ??= await startRedis();
    const raw = new Redis(redis.url);
    try {
      await raw.hset("agenttwin:space:alien", { created: "x", scene: "not json" });
      const store = new RedisSpaceStore(redis.url);
      const reported: string[] = [];
      const names = (await store.list((err) => reported.push(err.space))).map((s) => s.name);
      assert.ok(!names.includes("alien"));
      assert.deepEqual(reported, ["alien"]);
      await store.close();
    } finally {
      raw.disconnect();
    }
  });
});
