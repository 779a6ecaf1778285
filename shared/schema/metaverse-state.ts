/**
 * Colyseus schema of the `metaverse` room: a 360° scene built from a user's 2D video, the
 * people in it, and what each headset streams (rendition, bitrate, bands) as the agents
 * decided. Poses in the `world` frame (z up, metres). Add fields at the end of a structure
 * so older clients keep decoding. The Unity bridge's C# classes are generated from here.
 */
import { schema, type SchemaType } from "@colyseus/schema";
import { AgentPanelState, PoseState } from "./twin-state.ts";

/** What one headset is told to play, and why. */
export const StreamState = schema(
  {
    /** Rendition (rung) to play, e.g. `4k`; "" when there is no video. */
    rendition: { type: "string", default: "" },
    /** Playlist of that rendition (relative URL on this server). */
    playlistUrl: { type: "string", default: "" },
    /** Nominal bitrate of the rendition, bit/s. */
    bitrateBps: { type: "float64", default: 0 },
    /** Downlink bands allocated to this headset, comma separated. */
    bands: { type: "string", default: "" },
    /** Bandwidth share reserved, bit/s. */
    reservedBps: { type: "float64", default: 0 },
    /** Rung the user asked for (the agents may grant less), or "". */
    wantedRendition: { type: "string", default: "" },
    /** Why the rendition is what it is (the latest decision's summary). */
    reason: { type: "string", default: "" },
    /**
     * The same rendition as one progressive MP4 (H.264, index first; relative URL), for players
     * without HLS such as Unity's VideoPlayer; "" when there is none (live streams).
     */
    mp4Url: { type: "string", default: "" },
  },
  "StreamState",
);
export type StreamState = SchemaType<typeof StreamState>;

/** The client's latest quality-of-experience report. */
export const QoeState = schema(
  {
    /** Seconds of video buffered. */
    bufferS: { type: "float32", default: 0 },
    /** Measured download throughput, bit/s. */
    throughputBps: { type: "float64", default: 0 },
    /** Stalls since joining. */
    stalls: { type: "uint32", default: 0 },
    /** ms since the Unix epoch. */
    atMs: { type: "float64", default: 0 },
  },
  "QoeState",
);
export type QoeState = SchemaType<typeof QoeState>;

/** A person in the 360° scene. */
export const ParticipantState = schema(
  {
    name: { type: "string", default: "" },
    /** operator | observer */
    role: { type: "string", default: "" },
    connected: { type: "boolean", default: false },
    head: PoseState,
    left: PoseState,
    right: PoseState,
    stream: StreamState,
    qoe: QoeState,
  },
  "ParticipantState",
);
export type ParticipantState = SchemaType<typeof ParticipantState>;

/** The shared scene: a 3D asset reconstructed from the video and the 360° stream. */
export const SceneState = schema(
  {
    /** Bumped whenever the asset or the stream changes. */
    version: { type: "uint32", default: 0 },
    /** GLB of the reconstructed scene (relative URL), or "". */
    assetUrl: { type: "string", default: "" },
    /** HLS master playlist of the 360° video (relative URL), or "". */
    streamUrl: { type: "string", default: "" },
    /** Renditions the stream offers, comma separated, lowest first. */
    renditions: { type: "string", default: "" },
    /** idle | ingesting | transcoding | reconstructing | ready | failed */
    status: { type: "string", default: "idle" },
    /** Why the last job failed (the previous scene stays), or "". */
    error: { type: "string", default: "" },
    /**
     * Fraction done of the job `status` names (ingesting, transcoding, reconstructing),
     * 0..1; 0 when that job gives no figure (reconstruction) or none runs.
     */
    progress: { type: "float32", default: 0 },
    /** What that job is doing in a few words (e.g. "queued", "2 jobs"), or "". */
    detail: { type: "string", default: "" },
  },
  "SceneState",
);
export type SceneState = SchemaType<typeof SceneState>;

export const MetaverseState = schema(
  {
    scene: SceneState,
    /** Keyed by Colyseus sessionId. */
    participants: { map: ParticipantState },
    agents: AgentPanelState,
  },
  "MetaverseState",
);
export type MetaverseState = SchemaType<typeof MetaverseState>;
