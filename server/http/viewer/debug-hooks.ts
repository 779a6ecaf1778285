/**
 * What the page exposes as `window.__agenttwin` for end-to-end tests and for people
 * debugging in the browser console. Plain data only (no DOM types), so Node tests can
 * import the types.
 */
import type { Pose } from "../../../shared/geometry.ts";

export type ViewerStatus =
  | "idle"
  | "connecting"
  | "connected"
  | "reconnecting"
  | "disconnected"
  /** The room type does not exist on this server (e.g. no metaverse room yet). */
  | "unavailable"
  | "error";

export interface ViewerSnapshot {
  view: "twin" | "metaverse";
  status: ViewerStatus;
  /** The line shown to the person (why it failed, who is connected). */
  statusText: string;
  /** True when three.js got a WebGL context (otherwise panels and controls only). */
  webgl: boolean;
  /** Frames rendered (or, without WebGL, scene updates). */
  frames: number;
  roomId: string;
  sessionId: string;
  role: string;
  /** Links and movable joints of the arm loaded from `GET /api/robot/urdf`. */
  robotLinks: number;
  robotJoints: number;
  /** Meshes of the arm (primitive visuals). */
  robotMeshes: number;
  jointNames: string[];
  /** Joint values applied to the rendered arm now (interpolated), rad. */
  renderedJoints: number[];
  /** Joint values in the latest room state, rad. */
  stateJoints: number[];
  /** Values shown in the joint table, rad. */
  shownJoints: number[];
  mode: string;
  link: string;
  progress: number;
  /** Scene objects drawn, and those drawn translucent (virtual). */
  objects: number;
  virtualObjects: number;
  /** Other people drawn (heads). */
  operators: number;
  plans: { id: string; status: string }[];
  /** Plan tool paths drawn. */
  planPaths: number;
  goalVisible: boolean;
  previewVisible: boolean;
  /** Decisions listed in the agent panel. */
  decisions: number;
  /** Answers to utterances (ack summaries) shown, oldest first. */
  answers: string[];
  /** Errors and notices shown, oldest first. */
  events: string[];
  /** Twin view only: the shared goal as the room has it. */
  goal?: { kind: string; valid: boolean; pose: Pose; reason: string };
  /** Twin view only: the goal handle (TransformControls). */
  gizmo?: {
    available: boolean;
    active: boolean;
    mode: string;
    /** Axis under the pointer or dragged, or null. */
    axis: string | null;
    /** Goals sent from the handle. */
    placed: number;
    /** The handle's pose, `world`. */
    pose: Pose;
    /** Page coordinates (CSS px) of the handle's origin and of points 5 cm along its x, y, z. */
    screen: { o: Px; x: Px; y: Px; z: Px };
  };
  /** Metaverse view only. */
  metaverse?: {
    sceneStatus: string;
    /** The scene's job progress, 0..1. */
    sceneProgress: number;
    playlistUrl: string;
    assetLoaded: boolean;
    qoeReports: number;
    /** Times the VOD wrapped around. */
    loops: number;
    /** Stalls the player counted (what the QoE reports say). */
    stalls: number;
    /** The video's playhead, s. */
    videoTime: number;
    /** The "drag to look around" hint shown. */
    hintVisible: boolean;
  };
}

export interface Px {
  x: number;
  y: number;
}

export interface ViewerDebugHooks {
  snapshot(): ViewerSnapshot;
}

/** The snapshot before any view started. */
export function idleSnapshot(view: ViewerSnapshot["view"], statusText: string): ViewerSnapshot {
  return {
    view,
    status: "idle",
    statusText,
    webgl: false,
    frames: 0,
    roomId: "",
    sessionId: "",
    role: "",
    robotLinks: 0,
    robotJoints: 0,
    robotMeshes: 0,
    jointNames: [],
    renderedJoints: [],
    stateJoints: [],
    shownJoints: [],
    mode: "",
    link: "",
    progress: 0,
    objects: 0,
    virtualObjects: 0,
    operators: 0,
    plans: [],
    planPaths: 0,
    goalVisible: false,
    previewVisible: false,
    decisions: 0,
    answers: [],
    events: [],
  };
}
