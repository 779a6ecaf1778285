/**
 * Environment → typed configuration. Every rate, timeout and limit of the server is here,
 * with an embedded default that runs on a laptop with no network, GPU or ROS.
 * The README's configuration table is written from this file; keep them in step.
 */
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import {
  type VideoPipelineOptions,
  VideoOptionsError,
  videoOptionsFromEnv,
} from "./config-video.ts";

/** Repository root (resolved from this file so the server runs from any cwd). */
export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Where `npm run build:viewer` writes the web viewer by default (relative to the repo root). */
export const DEFAULT_VIEWER_DIR = "node_modules/.cache/agenttwin-viewer";

/** Fewest bytes of `AUTH_SECRET` (HS256 keys shorter than the hash are weak; RFC 7518 §3.2). */
export const MIN_AUTH_SECRET_BYTES = 32;

/** True for a host name or address that only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return (
    h === "localhost" ||
    h === "::1" ||
    /^127(\.\d{1,3}){3}$/.test(h) ||
    /^::ffff:127(\.\d{1,3}){3}$/.test(h)
  );
}

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");

const num = (min: number, max: number) => z.coerce.number().finite().min(min).max(max);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Every environment variable the server reads; described in server/config-docs.ts. */
export const EnvSchema = z.object({
  PORT: int(0, 65535).default(2567),
  HOST: z.string().min(1).default("127.0.0.1"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  LOG_FORMAT: z.enum(["auto", "json", "pretty"]).default("auto"),

  AUTH_SECRET: z
    .string()
    .refine(
      (v) => Buffer.byteLength(v) >= MIN_AUTH_SECRET_BYTES,
      `must be at least ${MIN_AUTH_SECRET_BYTES} bytes (e.g. \`openssl rand -hex 32\`)`,
    )
    .optional(),
  AUTH_DEV_TOKENS: bool.optional(),
  TOKEN_TTL_S: int(60, 7 * 24 * 3600).default(12 * 3600),
  TOKEN_MAX_TTL_S: int(60, 7 * 24 * 3600).default(24 * 3600),
  TOKEN_AUDIENCE: z.string().min(1).max(256).default("agenttwin"),
  TOKEN_ISSUER: z.string().min(1).max(256).default("agenttwin"),
  CORS_ORIGINS: z
    .string()
    .refine(
      (v) =>
        v
          .split(",")
          .map((o) => o.trim())
          .filter(Boolean)
          .every((o) => /^https?:\/\/[^/\s*]+\/?$/.test(o)),
      "comma-separated origins such as https://viewer.example.com (scheme://host[:port], no path, no *)",
    )
    .default(""),
  TLS_CERT: z.string().min(1).optional(),
  TLS_KEY: z.string().min(1).optional(),
  MAX_ROOMS: int(1, 10_000).default(32),
  MAX_ROOMS_PER_USER: int(1, 10_000).default(4),

  ROBOT_DIR: z.string().default("assets/robots/panda"),
  SCENE_FILE: z.string().default("assets/scenes/cell.json"),

  PATCH_RATE_HZ: num(1, 240).default(60),
  REST_TICK_HZ: num(1, 240).default(10),
  SIM_RATE_HZ: num(50, 2000).default(1000),
  PHYSICS_RATE_HZ: num(30, 2000).default(240),
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
  LINK_STALE_MS: int(50, 60_000).default(1000),
  ROS_PING_MS: int(50, 60_000).default(1000),
  ROS_ACTION_ACCEPT_TIMEOUT_MS: int(50, 120_000).default(3000),
  ROS_AUTH_SECRET: z.string().min(16, "must be rosauth's secret (16 characters)").optional(),
  ROS_AUTH_LEVEL: z.string().min(1).max(64).default("admin"),
  ROBOT_CELL_ID: z
    .string()
    .regex(/^[\w.:/@-]{1,200}$/, "letters, digits and . _ : / @ - only")
    .optional(),
  CELL_LEASE_TTL_MS: int(1000, 600_000).default(10_000),

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
  AGENT_WORKER: bool.default(true),
  AGENT_MAX_PENDING_PER_ROOM: int(1, 1000).default(4),
  AGENT_MAX_PENDING_PER_USER: int(1, 1000).default(1),
  AGENT_WORKER_MAX_QUEUE: int(1, 100_000).default(64),
  UTTERANCE_RATE_PER_S: num(0.01, 1000).default(1),
  UTTERANCE_BURST: int(1, 1000).default(3),

  RECORD: bool.default(true),
  DATA_DIR: z.string().min(1).default("data"),
  RECORDING_MAX_BYTES: int(1024 * 1024, 2 ** 50).default(512 * 1024 * 1024),
  RECORDING_JOINT_HZ: num(1, 10_000).default(100),
  RECORDING_FLUSH_MS: int(10, 1000).default(500),
  RETENTION_MAX_AGE_DAYS: num(0, 36_500).default(30),
  RETENTION_RECORDINGS_MAX_BYTES: int(0, 2 ** 52).default(20 * 1024 ** 3),
  RETENTION_STREAMS_MAX_BYTES: int(0, 2 ** 52).default(50 * 1024 ** 3),
  RETENTION_SCENES_MAX_BYTES: int(0, 2 ** 52).default(5 * 1024 ** 3),
  RETENTION_INTERVAL_S: int(10, 7 * 24 * 3600).default(3600),
  MIN_FREE_DISK_BYTES: int(0, 2 ** 52).default(1024 ** 3),

  VIEWER_DIR: z.string().min(1).default(DEFAULT_VIEWER_DIR),

  VIDEO: bool.default(true),
  // The video pipeline's own settings: parsed by server/config-video.ts, range-checked by
  // server/media/video/config.ts.
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
  VIDEO_THREADS: z.string().optional(),
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
  RECONSTRUCTION_UPLOADS_IN_FLIGHT: int(1, 1000).default(2),
  UPLOAD_IDLE_TIMEOUT_S: num(1, 3600).default(30),
  SF3D_URL: z.url({ protocol: /^https?$/ }).optional(),

  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  PUBLIC_ADDRESS: z
    .string()
    .regex(/^[\w.-]+(:\d{1,5})?(\/[\w./-]*)?$/, "host[:port][/path] without a scheme")
    .optional(),
  SCALEOUT_SWEEP_MS: int(250, 60_000).default(2000),
});

/** Typed server configuration (SI units unless the name says otherwise). */
export interface Config {
  port: number;
  host: string;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** `auto`: short coloured lines on a terminal, JSON lines otherwise (server/log.ts). */
  logFormat: "auto" | "json" | "pretty";
  auth: {
    /** HMAC secret for HS256 join tokens (`AUTH_SECRET`, or random bytes made at start). */
    secret: string;
    /**
     * True when `AUTH_SECRET` is unset: the secret is random and dies with the process, the
     * server listens on loopback only and prints a one-time login link for the local viewer.
     */
    ephemeralSecret: boolean;
    /** Whether `POST /api/dev/token` issues tokens to loopback clients (never with `ROBOT_LINK=ros`). */
    devTokens: boolean;
    /** Lifetime of issued tokens, s. */
    tokenTtlS: number;
    /** Longest lifetime (`exp − iat`) a token may have to be accepted, s. */
    maxTokenTtlS: number;
    /** `aud` and `iss` every token must carry. */
    audience: string;
    issuer: string;
  };
  /** Browser and transport security of the one http(s) server. */
  http: {
    /** Origins (`scheme://host[:port]`) allowed to call the API cross-origin; []: same-origin only. */
    corsOrigins: readonly string[];
    /** PEM files for https/wss; undefined: plain http/ws (put a TLS proxy in front). */
    tls: { certFile: string; keyFile: string } | undefined;
  };
  robot: { dir: string; sceneFile: string };
  room: {
    /** State patches per second sent to each client, Hz. */
    patchRateHz: number;
    /**
     * Ticks per second of a room where nothing changed and nobody sent anything for 1 s, Hz
     * (at or above `patchRateHz`: rooms never slow down).
     */
    restTickHz: number;
    /** Controller steps per second of the simulated arm (in-process and the sim cell), Hz. */
    simRateHz: number;
    /**
     * Physics steps per second of the twin world (objects, contacts; the arm's links follow
     * the measured joints), Hz.
     */
    physicsRateHz: number;
    maxClients: number;
    /** Most rooms (both kinds) this process holds; creating one more is refused (503). */
    maxRooms: number;
    /** Most open rooms one user (token `sub`) may have created in this process (429 beyond). */
    maxRoomsPerUser: number;
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
  /** Bounds that keep agent work from starving STOP (see server/agents/work-limiter.ts). */
  agentWork: AgentWorkConfig;
  /** Audit log, crash recovery, retention and disk checks of the data directory. */
  store: StoreConfig;
  /** Folder of the built web viewer (`npm run build:viewer` writes it; `npm start` runs that). */
  viewerDir: string;
  media: MediaConfig;
}

/** How much agent work a room and a user may have pending, and where models run. */
export interface AgentWorkConfig {
  /** Run the TF.js models in a worker thread (off the event loop that serves STOP). */
  worker: boolean;
  /** Agent tasks (decisions, what-ifs) running or queued per room; more are refused `busy`. */
  maxPendingPerRoom: number;
  /** Agent tasks running or queued per user (across their seats); more are refused `busy`. */
  maxPendingPerUser: number;
  /** Model requests waiting in the worker, process-wide; more are refused. */
  workerMaxQueue: number;
  /** Per-user utterance token bucket: sustained utterances per second and burst. */
  utteranceRatePerS: number;
  utteranceBurst: number;
}

/** The data directory's durability and size bounds. */
export interface StoreConfig {
  /** Absolute data directory (`DATA_DIR`). */
  dataDir: string;
  /** Append-only, fsync'd audit log (JSON lines): approvals, stops, refusals. */
  auditFile: string;
  /** Recordings are written to disk at least this often, ms. */
  recordingFlushMs: number;
  /** Files older than this are deleted by retention, days (0: no age limit). */
  retentionMaxAgeDays: number;
  /** Total size kept per kind, bytes (0: no size limit); oldest files go first. */
  retentionRecordingsMaxBytes: number;
  retentionStreamsMaxBytes: number;
  retentionScenesMaxBytes: number;
  /** How often retention runs, s (and once at start). */
  retentionIntervalS: number;
  /** Uploads and new recordings are refused (HTTP 507) below this much free disk, bytes. */
  minFreeDiskBytes: number;
  /** Reconstruction uploads being received at once; more are refused (503). */
  uploadsInFlight: number;
  /** An upload that sends nothing for this long is dropped, ms. */
  uploadIdleTimeoutMs: number;
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
  /**
   * How often each process sweeps the shared listing, ms: it pings Redis (a stalled Redis
   * counts as down), removes a process whose IPC channel is gone on two sweeps in a row
   * with its rooms, and re-lists its own rooms when missing (after a Redis restart).
   */
  sweepMs: number;
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
  /**
   * No fresh `/joint_states` for this long (ms) while the websocket is open → link `stale`:
   * the running plan is aborted and cancelled, motion is refused with `link_stale`.
   */
  staleMs: number;
  /** Websocket ping interval to rosbridge, ms; no pong within 3 intervals closes the socket. */
  pingMs: number;
  /** A trajectory goal that no action server accepts within this (ms) ends "no action server". */
  actionAcceptTimeoutMs: number;
  /** rosauth secret: when set, every connection starts with rosbridge's `auth` op (MAC). */
  authSecret: string | undefined;
  /** `level` sent in the `auth` op. */
  authLevel: string;
  /**
   * Name of the physical cell, shared by every process linked to it: one twin session at a
   * time owns (commands) it. Default: the rosbridge URL.
   */
  cellId: string | undefined;
  /** Lease on the cell's ownership, ms (renewed every third of it; expires when the owner dies). */
  leaseTtlMs: number;
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
  const ephemeralSecret = e.AUTH_SECRET === undefined;
  const security = securityProblems(e, ephemeralSecret);
  if (security.length > 0) {
    throw new ConfigError(`refusing to start:\n  ${security.join("\n  ")}`);
  }
  const dataDir = resolve(REPO_ROOT, e.DATA_DIR);
  return {
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    auth: {
      // Without AUTH_SECRET no token outlives the process: nothing to leak from the source.
      secret: e.AUTH_SECRET ?? randomBytes(32).toString("base64url"),
      ephemeralSecret,
      devTokens: e.AUTH_DEV_TOKENS ?? ephemeralSecret,
      tokenTtlS: e.TOKEN_TTL_S,
      maxTokenTtlS: e.TOKEN_MAX_TTL_S,
      audience: e.TOKEN_AUDIENCE,
      issuer: e.TOKEN_ISSUER,
    },
    http: {
      corsOrigins: e.CORS_ORIGINS.split(",")
        .map((o) => o.trim().replace(/\/$/, ""))
        .filter(Boolean),
      tls: e.TLS_CERT && e.TLS_KEY ? { certFile: e.TLS_CERT, keyFile: e.TLS_KEY } : undefined,
    },
    robot: { dir: e.ROBOT_DIR, sceneFile: e.SCENE_FILE },
    room: {
      patchRateHz: e.PATCH_RATE_HZ,
      restTickHz: e.REST_TICK_HZ,
      simRateHz: e.SIM_RATE_HZ,
      physicsRateHz: e.PHYSICS_RATE_HZ,
      maxClients: e.MAX_CLIENTS,
      maxRooms: e.MAX_ROOMS,
      maxRoomsPerUser: e.MAX_ROOMS_PER_USER,
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
      staleMs: e.LINK_STALE_MS,
      pingMs: e.ROS_PING_MS,
      actionAcceptTimeoutMs: e.ROS_ACTION_ACCEPT_TIMEOUT_MS,
      authSecret: e.ROS_AUTH_SECRET,
      authLevel: e.ROS_AUTH_LEVEL,
      cellId: e.ROBOT_CELL_ID,
      leaseTtlMs: e.CELL_LEASE_TTL_MS,
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
    scaleOut: {
      redisUrl: e.REDIS_URL,
      publicAddress: e.PUBLIC_ADDRESS,
      sweepMs: e.SCALEOUT_SWEEP_MS,
    },
    agentWork: {
      worker: e.AGENT_WORKER,
      maxPendingPerRoom: e.AGENT_MAX_PENDING_PER_ROOM,
      maxPendingPerUser: e.AGENT_MAX_PENDING_PER_USER,
      workerMaxQueue: e.AGENT_WORKER_MAX_QUEUE,
      utteranceRatePerS: e.UTTERANCE_RATE_PER_S,
      utteranceBurst: e.UTTERANCE_BURST,
    },
    store: {
      dataDir,
      auditFile: join(dataDir, "audit.jsonl"),
      recordingFlushMs: e.RECORDING_FLUSH_MS,
      retentionMaxAgeDays: e.RETENTION_MAX_AGE_DAYS,
      retentionRecordingsMaxBytes: e.RETENTION_RECORDINGS_MAX_BYTES,
      retentionStreamsMaxBytes: e.RETENTION_STREAMS_MAX_BYTES,
      retentionScenesMaxBytes: e.RETENTION_SCENES_MAX_BYTES,
      retentionIntervalS: e.RETENTION_INTERVAL_S,
      minFreeDiskBytes: e.MIN_FREE_DISK_BYTES,
      uploadsInFlight: e.RECONSTRUCTION_UPLOADS_IN_FLIGHT,
      uploadIdleTimeoutMs: e.UPLOAD_IDLE_TIMEOUT_S * 1000,
    },
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

/**
 * Settings that would expose the arm or its tokens, each naming the variable to set: the
 * server is closed by default (loopback, random secret) and refuses to be opened half-way.
 */
function securityProblems(e: z.infer<typeof EnvSchema>, ephemeralSecret: boolean): string[] {
  const out: string[] = [];
  const secretHint = `(at least ${MIN_AUTH_SECRET_BYTES} bytes, e.g. \`openssl rand -hex 32\`)`;
  if (ephemeralSecret && !isLoopbackHost(e.HOST)) {
    out.push(`AUTH_SECRET: must be set ${secretHint} to listen on HOST=${e.HOST} (not loopback)`);
  }
  if (ephemeralSecret && e.ROBOT_LINK === "ros") {
    out.push(`AUTH_SECRET: must be set ${secretHint} with ROBOT_LINK=ros (a real arm)`);
  }
  if (ephemeralSecret && e.REDIS_URL !== undefined) {
    out.push(
      `AUTH_SECRET: must be set ${secretHint} with REDIS_URL (every process verifies the others' tokens)`,
    );
  }
  if (e.AUTH_DEV_TOKENS === true && e.ROBOT_LINK === "ros") {
    out.push("AUTH_DEV_TOKENS: development tokens are never on with ROBOT_LINK=ros");
  }
  if ((e.TLS_CERT === undefined) !== (e.TLS_KEY === undefined)) {
    out.push("TLS_CERT, TLS_KEY: set both (PEM files) or neither");
  }
  if (e.TOKEN_TTL_S > e.TOKEN_MAX_TTL_S) {
    out.push(`TOKEN_TTL_S: ${e.TOKEN_TTL_S} exceeds TOKEN_MAX_TTL_S (${e.TOKEN_MAX_TTL_S})`);
  }
  return out;
}

/** The video pipeline's options from the environment, its errors as configuration errors. */
function videoOptions(
  env: Record<string, string | undefined>,
  dataDir: string,
): VideoPipelineOptions {
  try {
    return videoOptionsFromEnv(env, dataDir);
  } catch (err) {
    if (err instanceof VideoOptionsError) {
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
