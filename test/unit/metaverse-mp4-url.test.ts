/**
 * The progressive MP4 of a headset's rendition reaches the room's state: a VOD scene whose
 * renditions have one sets `participants[id].stream.mp4Url` next to `playlistUrl` (what Unity's
 * VideoPlayer plays); a live stream, which has none, leaves it "". Real MetaverseSession
 * (without agents: the lowest rendition is played) and the real state sync.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { MetaverseStateSync } from "../../server/rooms/metaverse-state-sync.ts";
import type { RobotDescription } from "../../server/sim/robot-description.ts";
import { MetaverseState } from "../../shared/schema/metaverse-state.ts";
import { agentFreeMetaverse } from "./metaverse-support.ts";
import { loadPanda } from "./support.ts";

const VOD = {
  streamUrl: "/media/video/s1/master.m3u8",
  video: [
    {
      name: "1080p",
      bitrateBps: 8e6,
      playlistUrl: "/media/video/s1/1080p/index.m3u8",
      mp4Url: "/media/video/s1/1080p/progressive.mp4",
    },
    {
      name: "4k",
      bitrateBps: 20e6,
      playlistUrl: "/media/video/s1/4k/index.m3u8",
      mp4Url: "/media/video/s1/4k/progressive.mp4",
    },
  ],
  status: "ready",
  error: "",
};
const LIVE = {
  streamUrl: "/media/live/l1/master.m3u8",
  video: [{ name: "1080p", bitrateBps: 8e6, playlistUrl: "/media/live/l1/1080p/index.m3u8" }],
  status: "live",
  error: "",
};

describe("stream.mp4Url", () => {
  let robot: RobotDescription;
  before(async () => {
    robot = await loadPanda();
  });

  const setup = () => {
    const session = agentFreeMetaverse(robot);
    const state = new MetaverseState();
    const sync = new MetaverseStateSync(session, state);
    session.join({ sessionId: "a", userId: "u-a", name: "ann", role: "operator" });
    return { session, state, sync };
  };

  /** Lets the session's (agent-free) decisions settle, then copies it into the state. */
  const settle = async (s: ReturnType<typeof setup>) => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    s.sync.sync();
    const p = s.state.participants.get("a");
    assert.ok(p);
    return p.stream;
  };

  it("names the rendition's MP4 beside its playlist for a VOD scene", async () => {
    const s = setup();
    s.session.setScene(VOD);
    const stream = await settle(s);
    assert.ok(stream.rendition, "a rendition was chosen");
    const r = VOD.video.find((v) => v.name === stream.rendition);
    assert.ok(r);
    assert.equal(stream.playlistUrl, r.playlistUrl);
    assert.equal(stream.mp4Url, r.mp4Url);
    s.session.close();
  });

  it("is empty for a live stream and when there is no stream", async () => {
    const s = setup();
    assert.equal((await settle(s)).mp4Url, "");
    s.session.setScene(VOD);
    assert.notEqual((await settle(s)).mp4Url, "");
    s.session.setScene(LIVE);
    const live = await settle(s);
    assert.equal(live.playlistUrl, LIVE.video[0]?.playlistUrl);
    assert.equal(live.mp4Url, "");
    s.session.close();
  });
});
