/**
 * The metaverse session the unit tests of the metaverse room build: a real
 * {@link MetaverseSession} on the shipped Panda, without agents (the lowest rendition is
 * played), quiet, with the server's rendition playlists.
 */
import { pino } from "pino";
import { MetaverseSession, renditionPlaylist } from "../../server/metaverse/metaverse-session.ts";
import type { RobotDescription } from "../../server/sim/robot-description.ts";

/** A fresh agent-free session; `robot` from `loadPanda()` (test/unit/support.ts). */
export function agentFreeMetaverse(robot: RobotDescription): MetaverseSession {
  return new MetaverseSession({
    agents: null,
    robot,
    gnb: { x: 0, y: 0, z: 3 },
    patchRateHz: 60,
    logger: pino({ level: "silent" }),
    playlistFor: renditionPlaylist,
  });
}
