/**
 * The scene's job status in the `metaverse` room: an upload received (`ingesting`), queued
 * and transcoding with its progress, a reconstruction, several at once, and what the scene
 * says once none is left (`ready` with a stream, `failed` without, `idle`). Jobs do not bump
 * the scene's version (nothing new to load). Real MetaverseSession and state sync.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { MetaverseStateSync } from "../../server/rooms/metaverse-state-sync.ts";
import type { RobotDescription } from "../../server/sim/robot-description.ts";
import { MetaverseState } from "../../shared/schema/metaverse-state.ts";
import { agentFreeMetaverse } from "./metaverse-support.ts";
import { loadPanda } from "./support.ts";

describe("scene job status", () => {
  let robot: RobotDescription;
  before(async () => {
    robot = await loadPanda();
  });

  const setup = () => {
    const session = agentFreeMetaverse(robot);
    const state = new MetaverseState();
    const sync = new MetaverseStateSync(session, state);
    return { session, state, sync };
  };

  it("shows an upload from ingest through transcoding to ready, without new versions", () => {
    const { session, state, sync } = setup();
    sync.sync();
    assert.equal(state.scene.status, "idle");
    session.setJob("video:a", { status: "ingesting", progress: 0, detail: "receiving" });
    sync.sync();
    assert.equal(state.scene.status, "ingesting");
    session.setJob("video:a", { status: "transcoding", progress: 0.42, detail: "job a" });
    sync.sync();
    assert.equal(state.scene.status, "transcoding");
    assert.ok(Math.abs(state.scene.progress - 0.42) < 1e-6);
    assert.equal(state.scene.detail, "job a");
    assert.equal(state.scene.version, 0, "no new scene to load yet");
    session.setJob("video:a", null);
    session.setScene({
      streamUrl: "/media/video/s1/master.m3u8",
      video: [{ name: "1080p", bitrateBps: 8e6, playlistUrl: "/media/video/s1/1080p/index.m3u8" }],
      status: "ready",
      error: "",
    });
    sync.sync();
    assert.equal(state.scene.status, "ready");
    assert.equal(state.scene.progress, 0);
    assert.equal(state.scene.detail, "");
    assert.equal(state.scene.version, 1);
  });

  it("keeps showing a job still running when another ends or the scene changes", () => {
    const { session, state, sync } = setup();
    session.setJob("video:a", { status: "transcoding", progress: 0.1, detail: "job a" });
    session.setJob("scene:b", { status: "reconstructing", progress: 0, detail: "3 frames" });
    sync.sync();
    assert.equal(state.scene.status, "reconstructing");
    assert.equal(state.scene.detail, "3 frames (+1 more)");
    session.setJob("scene:b", null);
    session.setScene({ assetUrl: "/media/scenes/x/v1.glb" });
    sync.sync();
    assert.equal(state.scene.status, "transcoding", "the video job still runs");
    assert.equal(state.scene.assetUrl, "/media/scenes/x/v1.glb");
    session.setJob("video:a", null);
    sync.sync();
    assert.equal(state.scene.status, "ready", "an asset is a scene");
  });

  it("says failed when the only job failed and there is nothing to show, idle when ended", () => {
    const { session, state, sync } = setup();
    session.setJob("video:a", { status: "ingesting", progress: 0, detail: "" });
    session.setJob("video:a", null);
    sync.sync();
    assert.equal(state.scene.status, "idle", "a refused upload leaves the scene as it was");
    session.setJob("video:b", { status: "transcoding", progress: 0.5, detail: "" });
    session.setJob("video:b", null);
    session.setScene({ error: "video job b failed: corrupt", status: "failed" });
    sync.sync();
    assert.equal(state.scene.status, "failed");
    assert.match(state.scene.error, /corrupt/);
    // Ending an unknown job changes nothing.
    const v = session.version;
    session.setJob("video:zzz", null);
    assert.equal(session.version, v);
  });
});
