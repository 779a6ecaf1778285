/** Which capability each twin command needs (see auth/roles.ts for who holds what). */
import type { TwinMessageType } from "../../shared/messages/twin.ts";
import { Capability } from "../auth/roles.ts";

export const REQUIRED_CAPABILITY: Readonly<Record<TwinMessageType, Capability>> = {
  pose: Capability.Presence,
  jog: Capability.Motion,
  goal: Capability.Motion,
  plan: Capability.Motion,
  approve: Capability.Motion,
  stop: Capability.Stop,
  reset: Capability.Motion,
  addObject: Capability.EditScene,
  removeObject: Capability.EditScene,
  addArm: Capability.EditScene,
  // Everyone may talk to the agents; each intent is checked against the speaker's role.
  utterance: Capability.Presence,
  grab: Capability.EditScene,
  release: Capability.EditScene,
};
