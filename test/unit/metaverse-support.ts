/**
 * The metaverse session the unit tests of the metaverse room build: a real
 * {@link MetaverseSession} on the shipped Panda, quiet, with the server's rendition playlists.
 */
import { pino } from "pino";
import type { AgentSetup } from "../../server/agents/orchestrator.ts";
import { MetaverseSession, renditionPlaylist } from "../../server/metaverse/metaverse-session.ts";
import type { RobotDescription } from "../../server/sim/robot-description.ts";

/**
 * A fresh session; `robot` from `loadPanda()` (test/unit/support.ts).
 * @param agents its agents (null, the default: none, the lowest rendition is played)
 */
export function testMetaverse(
  robot: RobotDescription,
  agents: AgentSetup | null = null,
): MetaverseSession {
  return new MetaverseSession({
    agents,
    robot,
    gnb: { x: 0, y: 0, z: 3 },
    patchRateHz: 60,
    logger: pino({ level: "silent" }),
    playlistFor: renditionPlaylist,
  });
}

/** A fresh agent-free session (see {@link testMetaverse}). */
export function agentFreeMetaverse(robot: RobotDescription): MetaverseSession {
  return testMetaverse(robot);
}
