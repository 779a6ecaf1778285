/**
 * What each environment variable of server/config.ts means, kept beside the schema: the
 * README's configuration table is generated from `EnvSchema` (names, defaults) and these
 * lines by `scripts/config-table.ts`, and test/unit/config-table.test.ts fails when they
 * drift. The type makes a variable without a line (or a line without a variable) an error.
 * `default` overrides the default read from the schema where that one is computed or lives
 * elsewhere (the video pipeline's own settings, parsed in server/config-video.ts).
 */
import type { z } from "zod";
import { formatLadderSpec, VIDEO_LADDER } from "../shared/video-ladder.ts";
import type { EnvSchema } from "./config.ts";

export type EnvVariable = keyof z.input<typeof EnvSchema>;

export interface VariableDoc {
  /** One line for the table: what it sets, units, what it enables or refuses. */
  readonly meaning: string;
  /** The default as people read it, when the schema's own is not that. */
  readonly default?: string;
}

export const CONFIG_DOCS: Record<EnvVariable, VariableDoc> = {
  PORT: {
    meaning: "listen port of the one http server for REST and websockets (0: any free port)",
  },
  HOST: {
    meaning:
      "listen address; a non-loopback `HOST` needs `AUTH_SECRET` (the server refuses to start without it)",
  },
  LOG_LEVEL: { meaning: "pino level; routine agent decisions are logged at `debug`" },
  LOG_FORMAT: {
    meaning:
      "`auto`: short coloured lines on a terminal (pino-pretty, when installed), JSON lines with ISO times otherwise; `json`; `pretty`",
  },
  AUTH_SECRET: {
    meaning:
      "HS256 secret for join tokens, at least 32 bytes (`openssl rand -hex 32`). Unset: local mode — a random secret per start, loopback only, a one-time login link on stderr. Required with a non-loopback `HOST`, `ROBOT_LINK=ros` or `REDIS_URL`",
    default: "random per start",
  },
  AUTH_DEV_TOKENS: {
    meaning:
      "enables `POST /api/dev/token` for clients on this machine (never with `ROBOT_LINK=ros`: refused at start)",
    default: "on only without `AUTH_SECRET`",
  },
  TOKEN_TTL_S: { meaning: "lifetime of tokens this server issues, s" },
  TOKEN_MAX_TTL_S: { meaning: "longest `exp − iat` a token may have to be accepted, s" },
  TOKEN_AUDIENCE: { meaning: "`aud` every token must carry" },
  TOKEN_ISSUER: { meaning: "`iss` every token must carry" },
  CORS_ORIGINS: {
    meaning:
      "comma-separated web origins (`https://viewer.example.com`) allowed to call the API and `/matchmake` from a browser; never `*`",
    default: "(empty: same-origin only)",
  },
  TLS_CERT: { meaning: "PEM certificate: serve https and wss directly (with `TLS_KEY`)" },
  TLS_KEY: { meaning: "PEM private key of `TLS_CERT`" },
  MAX_ROOMS: { meaning: "rooms this process holds (503 beyond)" },
  MAX_ROOMS_PER_USER: {
    meaning: "open rooms one user (token `sub`) may have created here (429 beyond)",
  },
  ROBOT_DIR: { meaning: "folder with one `.urdf` and its `robot.json`" },
  SCENE_FILE: { meaning: "cell layout" },
  PATCH_RATE_HZ: { meaning: "state patches per second sent to each client" },
  REST_TICK_HZ: {
    meaning:
      "ticks per second of a room quiet for 1 s (no change, no message); the next message or change restores `PATCH_RATE_HZ` at once; ≥ `PATCH_RATE_HZ`: never slower",
  },
  SIM_RATE_HZ: { meaning: "the simulated arm controller's steps per second" },
  PHYSICS_RATE_HZ: {
    meaning: "the twin world's physics steps per second while something moves (objects, contacts)",
  },
  MAX_CLIENTS: { meaning: "seats per room" },
  RECONNECT_S: { meaning: "how long a dropped headset keeps its seat and role, s" },
  MAX_MESSAGE_BYTES: {
    meaning: "largest websocket frame; larger frames close the socket with 1009",
  },
  RATE_LIMIT_PER_S: { meaning: "per-client token bucket: sustained messages per second" },
  RATE_LIMIT_BURST: { meaning: "per-client token bucket: burst size" },
  JOG_DEADMAN_MS: { meaning: "a jog stops when not renewed within this, ms" },
  JOG_MAX_LINEAR_M_S: { meaning: "Cartesian jog limit, m/s" },
  JOG_MAX_ANGULAR_RAD_S: { meaning: "Cartesian jog limit, rad/s" },
  PLAN_TIMEOUT_MS: { meaning: "planner budget per request, ms" },
  PLAN_VELOCITY_SCALE: { meaning: "default fraction of the joint velocity/acceleration limits" },
  PLAN_HISTORY: { meaning: "plans kept per room (finished ones evicted first)" },
  PLAN_START_TOLERANCE_RAD: { meaning: "a plan whose start is further from the arm is stale, rad" },
  REQUIRE_SECOND_OPERATOR: { meaning: "the operator who asked for a plan may not approve it" },
  MAX_OBJECTS: { meaning: "objects per scene" },
  ROBOT_LINK: {
    meaning:
      "`sim` (simulated cell on loopback, over rosbridge), `ros` (real rosbridge), `inprocess` (no socket)",
  },
  ROSBRIDGE_URL: { meaning: "rosbridge of a real cell (`ROBOT_LINK=ros`)" },
  ROS_VERSION: {
    meaning:
      "`2`: ROS 2 type names and rosbridge action ops; `1`: ROS 1 names, actionlib over topics",
  },
  JOINT_STATES_TOPIC: { meaning: "measured joints (sensor_msgs/JointState)" },
  JOINT_STATES_THROTTLE_MS: { meaning: "rosbridge subscription `throttle_rate`, ms" },
  JOINT_STATES_QUEUE_LENGTH: { meaning: "rosbridge subscription `queue_length`" },
  ROS_COMPRESSION: {
    meaning:
      "`cbor` for binary joint states (ROS 2 rosbridge; ROS 1's 0.11 cannot, the server then falls back to JSON)",
  },
  JOINT_NAME_MAP: {
    meaning: "`panda_joint1=fr3_joint1,…` when the cell names joints differently",
    default: "(empty)",
  },
  PLANNER: {
    meaning: "who plans: the cell's MoveIt (`cell`) or the twin's own planner (`twin`)",
    default: "`cell` with a ROS link, else `twin`",
  },
  MOVEIT_GROUP: { meaning: "MoveIt planning group" },
  MOVEIT_PLANNER_ID: { meaning: "MoveIt planner id" },
  MOVEIT_PLAN_SERVICE: { meaning: "MoveIt planning service" },
  ROS_EXECUTE: {
    meaning:
      "`moveit` (ExecuteTrajectory at `ROS_EXECUTE_ACTION`) or `controller` (FollowJointTrajectory at `ROS_CONTROLLER_ACTION`)",
  },
  ROS_EXECUTE_ACTION: { meaning: "MoveIt's ExecuteTrajectory action" },
  ROS_CONTROLLER_ACTION: { meaning: "the controller's FollowJointTrajectory action" },
  ROS_JOG_TOPIC: { meaning: "MoveIt Servo JointJog input" },
  ROS_CALL_TIMEOUT_MS: { meaning: "service calls, action acceptance, connection attempts, ms" },
  ROS_RECONNECT_MIN_MS: { meaning: "first reconnection delay, ms (doubles up to the maximum)" },
  ROS_RECONNECT_MAX_MS: { meaning: "longest reconnection delay, ms" },
  DEVIATION_TOLERANCE_RAD: {
    meaning: "measured-vs-planned joint deviation that stops an execution, rad",
  },
  SIM_CELL_RATE_HZ: { meaning: "joint-state rate of the simulated cell (up to 1000)" },
  LINK_STALE_MS: {
    meaning:
      "no fresh joint state for this long → link `stale`: plan aborted and cancelled, motion refused (`link_stale`), ms",
  },
  ROS_PING_MS: {
    meaning:
      "websocket ping to rosbridge; no pong for 3 intervals cuts the socket (then reconnects), ms",
  },
  ROS_ACTION_ACCEPT_TIMEOUT_MS: {
    meaning: 'a goal no action server takes up within this ends "no action server at <name>", ms',
  },
  ROS_AUTH_SECRET: {
    meaning: "rosauth secret: every rosbridge connection starts with the `auth` op (rosauth MAC)",
  },
  ROS_AUTH_LEVEL: { meaning: "`level` sent in the rosauth `auth` op" },
  ROBOT_CELL_ID: {
    meaning: "the cell's name: one twin room at a time (across processes with Redis) owns it",
    default: "`ROSBRIDGE_URL`",
  },
  CELL_LEASE_TTL_MS: {
    meaning:
      "lifetime of that ownership lease (renewed every third of it; expires with its process), ms",
  },
  AGENTS: {
    meaning: "run the agents (intent, channel, traffic) and their controller in every room",
  },
  INTENT_MODEL: {
    meaning: "`grammar` (offline parser) or `openai` (any OpenAI-compatible endpoint)",
  },
  INTENT_BASE_URL: { meaning: "the OpenAI-compatible endpoint; on any failure the parser answers" },
  INTENT_MODEL_NAME: { meaning: "model name sent to that endpoint" },
  INTENT_API_KEY: { meaning: "its API key", default: "(empty)" },
  INTENT_TIMEOUT_MS: { meaning: "intent model deadline, ms" },
  INTENT_TEMPERATURE: { meaning: "sampling temperature sent with each request" },
  INTENT_BREAKER_FAILURES: { meaning: "failures in a row that open the circuit breaker" },
  INTENT_BREAKER_COOLDOWN_MS: {
    meaning: "first cooldown of the open breaker, ms (doubled per failed probe, ≤ 5 min)",
  },
  AGENT_GNB: { meaning: "gNB antenna position, `world`, m (`x,y,z`)" },
  AGENT_MARGIN: { meaning: "capacity kept free against channel estimation error, 0..1" },
  PGF_MODEL_DIR: {
    meaning: "channel model weights (`-f16` / `-u8` folders hold quantised copies)",
  },
  NGF_MODEL_DIR: { meaning: "traffic model weights" },
  TF_BACKEND: {
    meaning:
      "`auto` (tfjs-node-gpu, tfjs-node when installed, else wasm, else cpu), or one of them",
  },
  AGENT_WORKER: {
    meaning: "run the models in a worker thread, off the event loop that serves STOP",
  },
  AGENT_MAX_PENDING_PER_ROOM: { meaning: "agent tasks running or queued per room (more: `busy`)" },
  AGENT_MAX_PENDING_PER_USER: { meaning: "agent tasks running or queued per user (more: `busy`)" },
  AGENT_WORKER_MAX_QUEUE: { meaning: "model requests waiting in the worker, process-wide" },
  UTTERANCE_RATE_PER_S: { meaning: "per-user utterances per second, sustained" },
  UTTERANCE_BURST: { meaning: "per-user utterance burst" },
  RECORD: { meaning: "record each twin session to MCAP (`DATA_DIR/recordings`)" },
  DATA_DIR: { meaning: "recordings, audit log, media (relative: to the repository root)" },
  RECORDING_MAX_BYTES: { meaning: "largest recording file, bytes (recording stops, file kept)" },
  RECORDING_JOINT_HZ: { meaning: "joint states written per second" },
  RECORDING_FLUSH_MS: { meaning: "recordings reach the disk at least this often, ms" },
  RETENTION_MAX_AGE_DAYS: { meaning: "files older than this are deleted, days (0: no age limit)" },
  RETENTION_RECORDINGS_MAX_BYTES: {
    meaning: "recordings kept, bytes (0: no limit; oldest go first)",
  },
  RETENTION_STREAMS_MAX_BYTES: { meaning: "video streams kept, bytes (0: no limit)" },
  RETENTION_SCENES_MAX_BYTES: { meaning: "scene versions kept, bytes (0: no limit)" },
  RETENTION_INTERVAL_S: { meaning: "how often retention runs (and once at start), s" },
  MIN_FREE_DISK_BYTES: {
    meaning: "uploads and new recordings are refused (507) below this free disk",
  },
  VIEWER_DIR: {
    meaning:
      "the built web viewer that `/` serves (`npm run build:viewer` writes the default; the image sets `/app/viewer`)",
  },
  VIDEO: {
    meaning:
      "start the video pipeline (without a usable ffmpeg it stays off with one warning line; video routes answer 503)",
  },
  MEDIA_DIR: { meaning: "streams (`video/`, `live/`) and scenes", default: "`DATA_DIR/media`" },
  FFMPEG_PATH: {
    meaning: "ffmpeg (Debian's package has libx264, aac, v360, hls)",
    default: "`ffmpeg` on `PATH`",
  },
  FFPROBE_PATH: { meaning: "ffprobe", default: "`ffprobe` on `PATH`" },
  VIDEO_LADDER: {
    meaning:
      "the 360° rungs, `name:WxH:bitrate`, comma-separated; a clip gets only the rungs its own resolution fills (never scaled up; `stream.json` lists the rest under `skipped`)",
    default: `\`${formatLadderSpec(VIDEO_LADDER)}\``,
  },
  VIDEO_LIVE_LADDER: { meaning: "rungs of live camera streams", default: "the first two rungs" },
  VIDEO_MAX_UPLOAD_BYTES: { meaning: "largest clip upload, bytes", default: "536870912 (512 MiB)" },
  VIDEO_MAX_CONCURRENT_UPLOADS: {
    meaning: "clip uploads received at once (503 beyond)",
    default: "4",
  },
  VIDEO_SEGMENT_S: { meaning: "HLS segment length, s", default: "2" },
  VIDEO_SEGMENT_FORMAT: { meaning: "`fmp4` or `mpegts` segments", default: "`fmp4`" },
  VIDEO_PRESET: { meaning: "x264 preset of uploaded clips", default: "`veryfast`" },
  VIDEO_LIVE_PRESET: { meaning: "x264 preset of live streams", default: "`ultrafast`" },
  VIDEO_CRF: { meaning: "x264 CRF (capped at the rung's bitrate)", default: "23" },
  VIDEO_MAX_FPS: { meaning: "highest output frame rate", default: "60" },
  VIDEO_FOV_DEG: {
    meaning: "horizontal field of view the 2D clip covers in the 360° frame, degrees",
    default: "90",
  },
  VIDEO_MAPPING: {
    meaning: "`flat` (v360 projection) or `pad` (clip pasted into the frame)",
    default: "`flat`",
  },
  VIDEO_MAX_CONCURRENT_JOBS: { meaning: "transcodes running at once", default: "1" },
  VIDEO_THREADS: {
    meaning:
      "threads of one transcode's ffmpeg (decoder, filters, encoder each; bounds its memory on many-core hosts)",
    default: "0 (ffmpeg's choice)",
  },
  VIDEO_MAX_QUEUED_JOBS: { meaning: "transcodes waiting (503 beyond)", default: "8" },
  VIDEO_JOB_TIMEOUT_S: { meaning: "time limit of one transcode, s", default: "1800" },
  VIDEO_PROBE_TIMEOUT_MS: { meaning: "time limit of ffprobe on an upload, ms", default: "30000" },
  VIDEO_MAX_DURATION_S: { meaning: "longest clip accepted, s", default: "600" },
  VIDEO_CODECS: {
    meaning: "input codecs accepted",
    default: "`h264,hevc,vp8,vp9,av1,mpeg4,mjpeg`",
  },
  VIDEO_AUDIO: { meaning: "keep the clip's audio (AAC)", default: "`true`" },
  VIDEO_LIVE_MAX_FRAME_BYTES: {
    meaning: "largest live JPEG frame (also the socket.io message limit), bytes",
    default: "2097152 (2 MiB)",
  },
  VIDEO_LIVE_FPS: { meaning: "live output frame rate", default: "30" },
  VIDEO_LIVE_WINDOW_SEGMENTS: { meaning: "segments in a live playlist", default: "6" },
  VIDEO_LIVE_IDLE_S: { meaning: "seconds without frames before a live stream ends", default: "30" },
  RECONSTRUCTION_MAX_UPLOAD_BYTES: { meaning: "largest RGB-D capture or image upload, bytes" },
  RECONSTRUCTION_QUEUE: {
    meaning: "reconstruction jobs waiting beyond the running one (503 beyond)",
  },
  RECONSTRUCTION_TIMEOUT_S: { meaning: "time limit of one reconstruction job, s" },
  RECONSTRUCTION_UPLOADS_IN_FLIGHT: {
    meaning: "reconstruction uploads received at once (503 beyond)",
  },
  UPLOAD_IDLE_TIMEOUT_S: { meaning: "an upload that sends nothing for this long is dropped, s" },
  SF3D_URL: {
    meaning: "SF3D-style single-image-to-3D service; unset: only RGB-D captures are accepted",
  },
  REDIS_URL: {
    meaning: "share matchmaking with other processes (Colyseus Redis presence and driver)",
  },
  PUBLIC_ADDRESS: {
    meaning:
      "`host:port` headsets reach this process at, sent in seat reservations with `REDIS_URL`",
    default: "`HOST:PORT` (host name for a wildcard `HOST`)",
  },
  SCALEOUT_SWEEP_MS: {
    meaning:
      "with `REDIS_URL`: how often each process pings Redis, removes processes that stopped answering and re-lists its missing rooms, ms",
  },
};
