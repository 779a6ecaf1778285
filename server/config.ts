/**
 * Environment → typed configuration. Every rate, timeout and limit of the server is here,
 * with an embedded default that runs on a laptop with no network, GPU or ROS.
 * The README's configuration table is written from this file; keep them in step.
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { type VideoPipelineOptions, videoOptionsFromEnv } from "./media/video/config.ts";
import { VideoConfigError } from "./media/video/errors.ts";

/** Repository root (resolved from this file so the server runs from any cwd). */
export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Where `npm run build:viewer` writes the web viewer by default (relative to the repo root). */
export const DEFAULT_VIEWER_DIR = "node_modules/.cache/agenttwin-viewer";

/** Secret used when AUTH_SECRET is unset. Tokens signed with it are for development only. */
export const DEV_AUTH_SECRET = "agenttwin-dev-secret-do-not-deploy";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");

const num = (min: number, max: number) => z.coerce.number().finite().min(min).max(max);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const EnvSchema = z.object({
  PORT: int(0, 65535).default(2567),
  HOST: z.string().min(1).default("0.0.0.0"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),

  AUTH_SECRET: z.string().min(16, "AUTH_SECRET must be at least 16 characters").optional(),
  AUTH_DEV_TOKENS: bool.optional(),
  TOKEN_TTL_S: int(60, 30 * 24 * 3600).default(12 * 3600),

  ROBOT_DIR: z.string().default("assets/robots/panda"),
  SCENE_FILE: z.string().default("assets/scenes/cell.json"),

  PATCH_RATE_HZ: num(1, 240).default(60),
  SIM_RATE_HZ: num(50, 2000).default(1000),
  MAX_CLIENTS: int(1, 10_000).default(256),
  RECONNECT_S: int(0, 600).default(20),

  MAX_MESSAGE_BYTES: int(1024, 16 * 1024 * 1024).default(64 * 1024),
  RATE_LIMIT_PER_S: num(1, 10_000).default(120),
  RATE_LIMIT_BURST: int(1, 100_000).default(240),

  JOG_DEADMAN_MS: int(20, 5000).default(250),
  JOG_MAX_LINEAR_M_S: num(0.001, 2).default(0.25),
  JOG_MAX_ANGULAR_RAD_S: num(0.001, 6).default(1.0),
  PLAN_TIMEOUT_MS: int(10, 60_000).default(2000),
  PLAN_VELOCITY_SCALE: num(0.01, 1).default(0.5),
  PLAN_HISTORY: int(1, 200).default(20),
  PLAN_START_TOLERANCE_RAD: num(0.0001, 0.5).default(0.01),
  REQUIRE_SECOND_OPERATOR: bool.default(false),
  MAX_OBJECTS: int(1, 1000).default(64),

  ROBOT_LINK: z.enum(["sim", "ros", "inprocess"]).default("sim"),
  ROSBRIDGE_URL: z.url({ protocol: /^wss?$/ }).default("ws://127.0.0.1:9090"),
  ROS_VERSION: z.enum(["1", "2"]).default("2"),
  JOINT_STATES_TOPIC: z
    .string()
    .regex(/^\/[\w/]+$/)
    .default("/joint_states"),
  JOINT_STATES_THROTTLE_MS: int(0, 1000).default(0),
  JOINT_STATES_QUEUE_LENGTH: int(0, 100).default(1),
  ROS_COMPRESSION: z.enum(["none", "cbor"]).default("none"),
  JOINT_NAME_MAP: z.string().default(""),
  PLANNER: z.enum(["cell", "twin"]).optional(),
  MOVEIT_GROUP: z.string().min(1).default("panda_arm"),
  MOVEIT_PLANNER_ID: z.string().default("RRTConnectkConfigDefault"),
  MOVEIT_PLAN_SERVICE: z
    .string()
    .regex(/^\/[\w/]+$/)
    .default("/plan_kinematic_path"),
  ROS_EXECUTE: z.enum(["moveit", "controller"]).default("moveit"),
  ROS_EXECUTE_ACTION: z
    .string()
    .regex(/^\/[\w/]+$/)
    .default("/execute_trajectory"),
  ROS_CONTROLLER_ACTION: z
    .string()
    .regex(/^\/[\w/]+$/)
    .default("/panda_arm_controller/follow_joint_trajectory"),
  ROS_JOG_TOPIC: z
    .string()
    .regex(/^\/[\w/]+$/)
    .default("/servo_node/delta_joint_cmds"),
  ROS_CALL_TIMEOUT_MS: int(100, 120_000).default(10_000),
  ROS_RECONNECT_MIN_MS: int(10, 60_000).default(250),
  ROS_RECONNECT_MAX_MS: int(10, 600_000).default(5000),
  DEVIATION_TOLERANCE_RAD: num(0.001, 1).default(0.05),
  SIM_CELL_RATE_HZ: num(1, 1000).default(100),

  AGENTS: bool.default(true),
  INTENT_MODEL: z.enum(["grammar", "openai"]).default("grammar"),
  INTENT_BASE_URL: z.url({ protocol: /^https?$/ }).default("https://api.openai.com/v1"),
  INTENT_MODEL_NAME: z.string().min(1).default("gpt-4o-mini"),
  INTENT_API_KEY: z.string().default(""),
  INTENT_TIMEOUT_MS: int(10, 60_000).default(3000),
  INTENT_TEMPERATURE: num(0, 2).default(0),
  INTENT_BREAKER_FAILURES: int(1, 100).default(3),
  INTENT_BREAKER_COOLDOWN_MS: int(100, 600_000).default(30_000),
  AGENT_GNB: z
    .string()
    .regex(/^\s*-?[\d.]+\s*,\s*-?[\d.]+\s*,\s*-?[\d.]+\s*$/, "x,y,z in metres")
    .default("-2.7,-2.7,2.75"),
  AGENT_MARGIN: num(0, 0.9).default(0.2),
  PGF_MODEL_DIR: z.string().default("assets/models/pgf"),
  NGF_MODEL_DIR: z.string().default("assets/models/ngf"),
  TF_BACKEND: z.enum(["auto", "node-gpu", "node", "wasm", "cpu"]).default("auto"),

  RECORD: bool.default(true),
  DATA_DIR: z.string().min(1).default("data"),
  RECORDING_MAX_BYTES: int(1024 * 1024, 2 ** 50).default(512 * 1024 * 1024),
  RECORDING_JOINT_HZ: num(1, 10_000).default(100),

  VIEWER_DIR: z.string().min(1).default(DEFAULT_VIEWER_DIR),

  VIDEO: bool.default(true),
  // The video pipeline's own settings, parsed and range-checked by server/media/video/config.ts.
  MEDIA_DIR: z.string().min(1).optional(),
  FFMPEG_PATH: z.string().min(1).optional(),
  FFPROBE_PATH: z.string().min(1).optional(),
  VIDEO_LADDER: z.string().optional(),
  VIDEO_LIVE_LADDER: z.string().optional(),
  VIDEO_MAX_UPLOAD_BYTES: z.string().optional(),
  VIDEO_MAX_CONCURRENT_UPLOADS: z.string().optional(),
  VIDEO_SEGMENT_S: z.string().optional(),
  VIDEO_SEGMENT_FORMAT: z.string().optional(),
  VIDEO_PRESET: z.string().optional(),
  VIDEO_LIVE_PRESET: z.string().optional(),
  VIDEO_CRF: z.string().optional(),
  VIDEO_MAX_FPS: z.string().optional(),
  VIDEO_FOV_DEG: z.string().optional(),
  VIDEO_MAPPING: z.string().optional(),
  VIDEO_MAX_CONCURRENT_JOBS: z.string().optional(),
  VIDEO_MAX_QUEUED_JOBS: z.string().optional(),
  VIDEO_JOB_TIMEOUT_S: z.string().optional(),
  VIDEO_PROBE_TIMEOUT_MS: z.string().optional(),
  VIDEO_MAX_DURATION_S: z.string().optional(),
  VIDEO_CODECS: z.string().optional(),
  VIDEO_AUDIO: z.string().optional(),
  VIDEO_LIVE_MAX_FRAME_BYTES: z.string().optional(),
  VIDEO_LIVE_FPS: z.string().optional(),
  VIDEO_LIVE_WINDOW_SEGMENTS: z.string().optional(),
  VIDEO_LIVE_IDLE_S: z.string().optional(),

  RECONSTRUCTION_MAX_UPLOAD_BYTES: int(1024, 2 ** 31).default(64 * 1024 * 1024),
  RECONSTRUCTION_QUEUE: int(0, 1000).default(4),
  RECONSTRUCTION_TIMEOUT_S: num(1, 3600).default(120),
  SF3D_URL: z.url({ protocol: /^https?$/ }).optional(),

  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  PUBLIC_ADDRESS: z
    .string()
    .regex(/^[\w.-]+(:\d{1,5})?(\/[\w./-]*)?$/, "host[:port][/path] without a scheme")
    .optional(),
});

/** Typed server configuration (SI units unless the name says otherwise). */
export interface Config {
  port: number;
  host: string;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  auth: {
    /** HMAC secret for HS256 join tokens. */
    secret: string;
    /** True when the secret is the documented development default. */
    usingDevSecret: boolean;
    /** Whether `POST /api/dev/token` issues tokens (default: only with the dev secret). */
    devTokens: boolean;
    /** Lifetime of issued tokens, s. */
    tokenTtlS: number;
  };
  robot: { dir: string; sceneFile: string };
  room: {
    /** State patches per second sent to each client, Hz. */
    patchRateHz: number;
    /** Physics steps per second of the twin and the simulated cell, Hz. */
    simRateHz: number;
    maxClients: number;
    /** How long a dropped client keeps its seat and role, s. */
    reconnectS: number;
    /** Per-client token bucket: sustained messages per second and burst size. */
    rateLimitPerS: number;
    rateLimitBurst: number;
    /** Largest websocket frame accepted, bytes (larger frames close the socket). */
    maxMessageBytes: number;
    maxObjects: number;
  };
  link: LinkConfig;
  agents: AgentsConfig;
  motion: {
    /** A jog command stops the arm when no new one arrives within this, ms. */
    jogDeadmanMs: number;
    /** Cartesian jog limits: linear m/s, angular rad/s. */
    jogMaxLinear: number;
    jogMaxAngular: number;
    planTimeoutMs: number;
    /** Default fraction of joint velocity/acceleration limits used by plans, 0..1. */
    planVelocityScale: number;
    /** Plans kept in room state (oldest finished ones are dropped first). */
    planHistory: number;
    /** Max joint deviation between a plan's start and the arm for the plan to execute, rad. */
    planStartToleranceRad: number;
    /** When true, the operator who requested a plan cannot approve it. */
    requireSecondOperator: boolean;
  };
  /** Session recording: one MCAP file per twin session (opens in Foxglove). */
  recording: {
    /** Whether twin sessions are recorded at all. */
    enabled: boolean;
    /** Absolute folder of the `.mcap` files: `DATA_DIR` (relative: to the repo root) + `recordings`. */
    dir: string;
    /** Largest file, bytes: recording of a session stops (file kept, valid) when it is reached. */
    maxBytes: number;
    /** Most joint-state messages written per second, Hz (extra samples are skipped). */
    jointHz: number;
  };
  scaleOut: ScaleOutConfig;
  /** Folder of the built web viewer (`npm run build:viewer` writes it; `npm start` runs that). */
  viewerDir: string;
  media: MediaConfig;
}

/** Video ingest/transcode and 2D→3D reconstruction. */
export interface MediaConfig {
  /** Whether to start the video pipeline (it is skipped, with a warning, without ffmpeg). */
  videoEnabled: boolean;
  /** Options of the video pipeline (checked by server/media/video/config.ts at start). */
  video: VideoPipelineOptions;
  reconstruction: {
    /** Folder of the scene assets, `<dir>/<sceneId>/v<n>.glb`. */
    dir: string;
    /** Largest RGB-D or image upload, bytes. */
    maxUploadBytes: number;
    /** Jobs waiting beyond the running one. */
    maxQueue: number;
    /** Time limit of one job, ms. */
    timeoutMs: number;
    /** SF3D-style single-image service root, or undefined (only RGB-D is accepted). */
    sf3dUrl: string | undefined;
  };
}

/** Several processes sharing matchmaking (Colyseus Redis presence and driver). */
export interface ScaleOutConfig {
  /** Redis that every process shares; undefined: this process matchmakes alone. */
  redisUrl: string | undefined;
  /**
   * `host:port` (optionally `/path`) at which headsets reach this process, without a scheme;
   * seat reservations carry it so a client matchmade by another process connects here.
   * Used only with `redisUrl`; undefined: derived from HOST and PORT (server/scaleout.ts).
   */
  publicAddress: string | undefined;
}

/** How the twin reaches its robot cell. */
export interface LinkConfig {
  /**
   * `sim`: start the simulated cell (ros/sim-cell) on loopback and link to it over rosbridge;
   * `ros`: link to a real rosbridge at `url`; `inprocess`: the simulated arm without a socket.
   */
  mode: "sim" | "ros" | "inprocess";
  url: string;
  rosVersion: 1 | 2;
  jointStatesTopic: string;
  /** rosbridge subscription options for joint states: ms between messages, queue length. */
  throttleMs: number;
  queueLength: number;
  compression: "none" | "cbor";
  /** Twin joint name → cell joint name, for cells whose joints are named differently. */
  jointNameMap: Readonly<Record<string, string>>;
  /** Who plans: the cell's MoveIt (`cell`) or the twin's own planner (`twin`). */
  planner: "cell" | "twin";
  moveitGroup: string;
  moveitPlannerId: string;
  planService: string;
  /** Execution through MoveIt's ExecuteTrajectory or the controller's FollowJointTrajectory. */
  execute: "moveit" | "controller";
  executeAction: string;
  controllerAction: string;
  jogTopic: string;
  /** Timeout for service calls and action acceptance, ms. */
  callTimeoutMs: number;
  /** Reconnection backoff bounds, ms. */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Largest measured-vs-planned joint deviation during execution before it is stopped, rad. */
  deviationToleranceRad: number;
  /** Joint-state rate of the simulated cell, Hz. */
  simCellRateHz: number;
}

/** The agents (AgentNet): models, intent backend, radio geometry. */
export interface AgentsConfig {
  enabled: boolean;
  intent:
    | { kind: "grammar" }
    | {
        kind: "openai";
        baseURL: string;
        model: string;
        apiKey: string;
        timeoutMs: number;
        /** Sampling temperature sent with each request (0: as deterministic as the model gets). */
        temperature: number;
        /** Failures in a row that open the circuit breaker. */
        breakerFailures: number;
        /** First cooldown of the open breaker, ms (doubled per failed probe, ≤ 5 min). */
        breakerCooldownMs: number;
      };
  /** Intent model deadline, ms. */
  intentTimeoutMs: number;
  /** gNB antenna position, `world`, m. */
  gnb: { x: number; y: number; z: number };
  /** Capacity kept free against estimation error, 0..1. */
  margin: number;
  /** Model folders (relative to the repository root unless absolute). */
  pgfDir: string;
  ngfDir: string;
  tfBackend: "auto" | "node-gpu" | "node" | "wasm" | "cpu";
}

/** Error for a bad environment; the message lists every offending variable. */
export class ConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConfigError";
  }
}

/** Parses configuration from an environment map (default `process.env`). */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const clean = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ""),
  );
  const parsed = EnvSchema.safeParse(clean);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join("\n  ")}`, {
      cause: parsed.error,
    });
  }
  const e = parsed.data;
  if (e.ROBOT_LINK === "inprocess" && e.PLANNER === "cell") {
    throw new ConfigError(
      "invalid configuration:\n  PLANNER: cell needs a ROS link (ROBOT_LINK sim or ros)",
    );
  }
  if (e.REDIS_URL !== undefined && e.PORT === 0 && e.PUBLIC_ADDRESS === undefined) {
    throw new ConfigError(
      "invalid configuration:\n  PUBLIC_ADDRESS: needed with REDIS_URL when PORT is 0 (other processes send clients here)",
    );
  }
  const usingDevSecret = e.AUTH_SECRET === undefined;
  const dataDir = resolve(REPO_ROOT, e.DATA_DIR);
  return {
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    auth: {
      secret: e.AUTH_SECRET ?? DEV_AUTH_SECRET,
      usingDevSecret,
      devTokens: e.AUTH_DEV_TOKENS ?? usingDevSecret,
      tokenTtlS: e.TOKEN_TTL_S,
    },
    robot: { dir: e.ROBOT_DIR, sceneFile: e.SCENE_FILE },
    room: {
      patchRateHz: e.PATCH_RATE_HZ,
      simRateHz: e.SIM_RATE_HZ,
      maxClients: e.MAX_CLIENTS,
      reconnectS: e.RECONNECT_S,
      rateLimitPerS: e.RATE_LIMIT_PER_S,
      rateLimitBurst: e.RATE_LIMIT_BURST,
      maxMessageBytes: e.MAX_MESSAGE_BYTES,
      maxObjects: e.MAX_OBJECTS,
    },
    agents: {
      enabled: e.AGENTS,
      intent:
        e.INTENT_MODEL === "openai"
          ? {
              kind: "openai",
              baseURL: e.INTENT_BASE_URL,
              model: e.INTENT_MODEL_NAME,
              apiKey: e.INTENT_API_KEY,
              timeoutMs: e.INTENT_TIMEOUT_MS,
              temperature: e.INTENT_TEMPERATURE,
              breakerFailures: e.INTENT_BREAKER_FAILURES,
              breakerCooldownMs: e.INTENT_BREAKER_COOLDOWN_MS,
            }
          : { kind: "grammar" },
      intentTimeoutMs: e.INTENT_TIMEOUT_MS,
      gnb: parseVec3(e.AGENT_GNB),
      margin: e.AGENT_MARGIN,
      pgfDir: e.PGF_MODEL_DIR,
      ngfDir: e.NGF_MODEL_DIR,
      tfBackend: e.TF_BACKEND,
    },
    link: {
      mode: e.ROBOT_LINK,
      url: e.ROSBRIDGE_URL,
      rosVersion: e.ROS_VERSION === "1" ? 1 : 2,
      jointStatesTopic: e.JOINT_STATES_TOPIC,
      throttleMs: e.JOINT_STATES_THROTTLE_MS,
      queueLength: e.JOINT_STATES_QUEUE_LENGTH,
      compression: e.ROS_COMPRESSION,
      jointNameMap: parseNameMap(e.JOINT_NAME_MAP),
      planner: e.PLANNER ?? (e.ROBOT_LINK === "inprocess" ? "twin" : "cell"),
      moveitGroup: e.MOVEIT_GROUP,
      moveitPlannerId: e.MOVEIT_PLANNER_ID,
      planService: e.MOVEIT_PLAN_SERVICE,
      execute: e.ROS_EXECUTE,
      executeAction: e.ROS_EXECUTE_ACTION,
      controllerAction: e.ROS_CONTROLLER_ACTION,
      jogTopic: e.ROS_JOG_TOPIC,
      callTimeoutMs: e.ROS_CALL_TIMEOUT_MS,
      reconnectMinMs: e.ROS_RECONNECT_MIN_MS,
      reconnectMaxMs: Math.max(e.ROS_RECONNECT_MAX_MS, e.ROS_RECONNECT_MIN_MS),
      deviationToleranceRad: e.DEVIATION_TOLERANCE_RAD,
      simCellRateHz: e.SIM_CELL_RATE_HZ,
    },
    motion: {
      jogDeadmanMs: e.JOG_DEADMAN_MS,
      jogMaxLinear: e.JOG_MAX_LINEAR_M_S,
      jogMaxAngular: e.JOG_MAX_ANGULAR_RAD_S,
      planTimeoutMs: e.PLAN_TIMEOUT_MS,
      planVelocityScale: e.PLAN_VELOCITY_SCALE,
      planHistory: e.PLAN_HISTORY,
      planStartToleranceRad: e.PLAN_START_TOLERANCE_RAD,
      requireSecondOperator: e.REQUIRE_SECOND_OPERATOR,
    },
    recording: {
      enabled: e.RECORD,
      // resolve() keeps an absolute DATA_DIR as is and anchors a relative one at the repo.
      dir: join(dataDir, "recordings"),
      maxBytes: e.RECORDING_MAX_BYTES,
      jointHz: e.RECORDING_JOINT_HZ,
    },
    scaleOut: { redisUrl: e.REDIS_URL, publicAddress: e.PUBLIC_ADDRESS },
    viewerDir: resolve(REPO_ROOT, e.VIEWER_DIR),
    media: {
      videoEnabled: e.VIDEO,
      video: videoOptions(env, dataDir),
      reconstruction: {
        dir: join(dataDir, "media", "scenes"),
        maxUploadBytes: e.RECONSTRUCTION_MAX_UPLOAD_BYTES,
        maxQueue: e.RECONSTRUCTION_QUEUE,
        timeoutMs: e.RECONSTRUCTION_TIMEOUT_S * 1000,
        sf3dUrl: e.SF3D_URL,
      },
    },
  };
}

/** The video pipeline's options from the environment, its errors as configuration errors. */
function videoOptions(
  env: Record<string, string | undefined>,
  dataDir: string,
): VideoPipelineOptions {
  try {
    return videoOptionsFromEnv(env, dataDir);
  } catch (err) {
    if (err instanceof VideoConfigError) {
      throw new ConfigError(`invalid configuration:\n  ${err.message}`);
    }
    throw err;
  }
}

/**
 * `"panda_joint1=fr3_joint1, panda_joint2=fr3_joint2"` → `{ panda_joint1: "fr3_joint1", … }`.
 * @throws ConfigError for a malformed pair
 */
function parseNameMap(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([\w/]+)=([\w/]+)$/.exec(pair);
    if (!m)
      throw new ConfigError(
        `invalid configuration:\n  JOINT_NAME_MAP: "${pair}" is not twin_name=cell_name`,
      );
    out[m[1] as string] = m[2] as string;
  }
  return out;
}

function parseVec3(text: string): { x: number; y: number; z: number } {
  const [x, y, z] = text.split(",").map((v) => Number(v.trim()));
  return { x: x as number, y: y as number, z: z as number };
}
