/**
 * What a live camera stream does to a metaverse room's scene (server/media/live-scene.ts),
 * on a real MetaverseSession without agents: live while it runs, the previous stream back
 * when it ends, a failure shown, and a clip that replaced the live stream left in place.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { liveSceneHooks } from "../../server/metaverse/live-scene.ts";
import type { RobotDescription } from "../../server/sim/robot-description.ts";
import { agentFreeMetaverse } from "./metaverse-support.ts";
import { loadPanda } from "./support.ts";

const LIVE = {
  streamId: "live-1",
  streamUrl: "/media/live/live-1/master.m3u8",
  renditions: [
    { name: "1080p", width: 1920, height: 960, bitrateBps: 8e6, playlistUrl: "/l/1080p.m3u8" },
  ],
};
const CLIP = (id: string) => ({
  streamUrl: `/media/video/${id}/master.m3u8`,
  video: [{ name: "4k", bitrateBps: 20e6, playlistUrl: `/media/video/${id}/4k/index.m3u8` }],
  status: "ready",
  error: "",
});

describe("live scene hooks", () => {
  let robot: RobotDescription;
  before(async () => {
    robot = await loadPanda();
  });
  const room = () => agentFreeMetaverse(robot);

  it("plays the live stream, then puts the room's clip back", () => {
    const session = room();
    session.setScene(CLIP("a"));
    const hooks = liveSceneHooks(new Map([["r", session]]));
    hooks.onLive("r", LIVE);
    assert.equal(session.scene.streamUrl, LIVE.streamUrl);
    assert.equal(session.scene.status, "live");
    assert.deepEqual(session.scene.renditions, ["1080p"]);
    hooks.onEnded("r", "live-1", "stop", null);
    assert.equal(session.scene.streamUrl, CLIP("a").streamUrl);
    assert.equal(session.scene.status, "ready");
    assert.deepEqual(
      session.video().map((v) => v.playlistUrl),
      ["/media/video/a/4k/index.m3u8"],
    );
    assert.equal(session.scene.error, "");
  });

  it("says why when the live stream failed", () => {
    const session = room();
    const hooks = liveSceneHooks(new Map([["r", session]]));
    hooks.onLive("r", LIVE);
    hooks.onEnded("r", "live-1", "failed", "ffmpeg exited with code 1");
    assert.equal(session.scene.streamUrl, "");
    assert.match(session.scene.error, /live stream live-1 failed.*ffmpeg exited/);
  });

  it("leaves a clip that replaced the live stream in place, and ignores other streams", () => {
    const session = room();
    const hooks = liveSceneHooks(new Map([["r", session]]));
    hooks.onLive("r", LIVE);
    hooks.onEnded("r", "another-stream", "stop", null);
    assert.equal(session.scene.status, "live");
    session.setScene(CLIP("b"));
    hooks.onEnded("r", "live-1", "stop", null);
    assert.equal(session.scene.streamUrl, CLIP("b").streamUrl);
    assert.equal(session.scene.status, "ready");
  });
});
