/**
 * Copies a {@link MetaverseSession} into the `metaverse` room's schema state, touching only
 * what changed since the last tick (participants and the scene carry versions).
 */
import type { Pose } from "../../shared/geometry.ts";
import { type MetaverseState, ParticipantState } from "../../shared/schema/metaverse-state.ts";
import type { PoseState } from "../../shared/schema/twin-state.ts";
import type { MetaverseSession } from "../metaverse/metaverse-session.ts";
import { syncAgentPanel } from "./agent-panel-sync.ts";

export class MetaverseStateSync {
  readonly #seen = new Map<string, number>();
  #sessionVersion = -1;

  constructor(
    private readonly session: MetaverseSession,
    private readonly state: MetaverseState,
  ) {}

  sync(): void {
    const { session, state } = this;
    const live = new Set<string>();
    for (const p of session.participants()) {
      const id = p.actor.sessionId;
      live.add(id);
      if (this.#seen.get(id) === p.version) continue;
      this.#seen.set(id, p.version);
      let s = state.participants.get(id);
      if (!s) {
        s = new ParticipantState({
          name: p.actor.name,
          role: p.actor.role,
          connected: p.connected,
        });
        state.participants.set(id, s);
      }
      s.connected = p.connected;
      if (p.head) setPose(s.head, p.head);
      if (p.left) setPose(s.left, p.left);
      if (p.right) setPose(s.right, p.right);
      const st = s.stream;
      st.rendition = p.stream.rendition;
      st.playlistUrl = p.stream.playlistUrl;
      st.mp4Url = p.stream.mp4Url;
      st.bitrateBps = p.stream.bitrateBps;
      st.bands = p.stream.bands.join(",");
      st.reservedBps = p.stream.reservedBps;
      st.wantedRendition = p.stream.wantedRendition;
      st.reason = p.stream.reason.slice(0, 300);
      s.qoe.bufferS = p.qoe.bufferS;
      s.qoe.throughputBps = p.qoe.throughputBps;
      s.qoe.stalls = p.qoe.stalls;
      s.qoe.atMs = p.qoe.atMs;
    }
    for (const id of [...state.participants.keys()]) {
      if (!live.has(id)) {
        state.participants.delete(id);
        this.#seen.delete(id);
      }
    }
    if (this.#sessionVersion === session.version) return;
    this.#sessionVersion = session.version;
    const sc = state.scene;
    const v = session.scene;
    sc.version = v.version;
    sc.assetUrl = v.assetUrl;
    sc.streamUrl = v.streamUrl;
    sc.renditions = v.renditions.join(",");
    sc.status = v.status;
    sc.error = v.error.slice(0, 300);
    sc.progress = v.progress;
    sc.detail = v.detail.slice(0, 120);
    syncAgentPanel(state.agents, session.panel());
  }
}

function setPose(s: PoseState, p: Pose): void {
  s.position.x = p.position.x;
  s.position.y = p.position.y;
  s.position.z = p.position.z;
  s.orientation.x = p.orientation.x;
  s.orientation.y = p.orientation.y;
  s.orientation.z = p.orientation.z;
  s.orientation.w = p.orientation.w;
}
