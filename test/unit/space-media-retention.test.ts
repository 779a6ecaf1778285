/**
 * What retention keeps for spaces (SpaceScenes.mediaInUse over a real file store): the
 * stream folder and the model file each stored space shows, nothing for an empty space,
 * and a damaged space record left out without failing the listing.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { SpaceScenes } from "../../server/metaverse/space-scenes.ts";
import { FileSpaceStore } from "../../server/store/space-store-file.ts";
import { EMPTY_SPACE_SCENE } from "../../server/store/space-store.ts";

describe("media of stored spaces, for retention", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "agenttwin-space-media-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("names each space's stream folder and model file", async () => {
    const store = new FileSpaceStore(join(dir, "spaces"));
    await store.create("lab-1", {
      ...EMPTY_SPACE_SCENE,
      version: 3,
      streamUrl: "/media/video/clip_42/master.m3u8",
      assetUrl: "/media/scenes/lab-1/v3.glb",
      assetBytes: 1000,
    });
    await store.create("empty", EMPTY_SPACE_SCENE);
    await writeFile(join(dir, "spaces", "broken.json"), "{ not json");
    const spaces = new SpaceScenes({
      store,
      sessions: new Map(),
      streamsDir: join(dir, "video"),
      scenesDir: join(dir, "scenes"),
      logger: pino({ level: "silent" }),
    });
    assert.deepEqual((await spaces.mediaInUse()).sort(), [
      join(dir, "scenes", "lab-1", "v3.glb"),
      join(dir, "video", "clip_42"),
    ]);
  });
});
