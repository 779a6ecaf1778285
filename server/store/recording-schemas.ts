/**
 * What a session recording contains: its topics, the JSON shape of each topic's messages
 * and the JSON Schema written into the file for it (schema encoding `jsonschema`, message
 * encoding `json`, as Foxglove reads them).
 *
 * The schemas use only what Foxglove's JSON Schema reader understands: every property has
 * one `type` of boolean, string, number, integer, object (with `properties`) or array (with
 * typed `items`). Free-form values (a command body, agent inputs) are objects without
 * declared properties; a value that is not an object is wrapped as `{ "value": … }`.
 *
 * Times: every message carries `timestamp: { sec, nsec }` (the source's stamp, since the
 * Unix epoch), Foxglove's time shape. The MCAP publish time is the same instant in ns;
 * the MCAP log time is that stamp clamped to never go backwards within a file, so the file
 * is in log-time order even when sources' clocks interleave.
 */

/** Topic of each channel of a recording. */
export const RecordingTopic = {
  /** Measured joints, rate-limited ({@link JointStateMessage}). */
  JointStates: "/joint_states",
  /** Every operator command the twin accepted ({@link CommandMessage}). */
  Commands: "/commands",
  /** Every command the twin refused ({@link RejectionMessage}). */
  Rejections: "/rejections",
  /** Every change of a plan's status ({@link PlanMessage}). */
  Plans: "/plans",
  /** Agent decisions ({@link DecisionMessage}). */
  Decisions: "/decisions",
  /** Link status changes, alerts ({@link EventMessage}). */
  Events: "/events",
  /** The server's metered traffic windows and their scenario ({@link TrafficMessage}). */
  Traffic: "/traffic",
  /** The robot's URDF, once at the start when given ({@link RobotDescriptionMessage}). */
  RobotDescription: "/robot_description",
} as const;
export type RecordingTopic = (typeof RecordingTopic)[keyof typeof RecordingTopic];

/** Foxglove's time: whole seconds and nanoseconds since the Unix epoch. */
export interface StampJson {
  sec: number;
  /** 0 … 999 999 999. */
  nsec: number;
}

/**
 * `/joint_states`: the arrays of ROS `sensor_msgs/JointState` (which is also the schema
 * name, so Foxglove's 3D panel moves a URDF with it), with `timestamp` in place of
 * `header.stamp`. `velocity` may be empty; `effort` is empty (not measured).
 */
export interface JointStateMessage {
  timestamp: StampJson;
  /** Joint names; the arrays below are in this order. */
  name: string[];
  /** Joint positions, rad (m for prismatic joints). */
  position: number[];
  /** Joint velocities, rad/s (m/s). */
  velocity: number[];
  /** Joint efforts, N·m (N); empty when not measured. */
  effort: number[];
}

/** `/commands`: one accepted operator command. */
export interface CommandMessage {
  timestamp: StampJson;
  /** Colyseus session id of the client that sent it. */
  sessionId: string;
  userId: string;
  /** `operator` or `observer`. */
  role: string;
  /** Message type (`jog`, `plan`, `approve`, …). */
  type: string;
  /** The validated message body (free-form). */
  body: Record<string, unknown>;
}

/** `/rejections`: one refused command. */
export interface RejectionMessage {
  timestamp: StampJson;
  sessionId: string;
  type: string;
  /** Error code sent to the client (`forbidden`, `collision`, …). */
  code: string;
  message: string;
}

/** One point of a recorded trajectory. */
export interface PlanPointJson {
  /** Time from the trajectory's start, s. */
  t: number;
  /** Joint positions, rad, in the message's `jointNames` order. */
  positions: number[];
}

/**
 * `/plans`: a plan's status after a change. The trajectory (`jointNames`, `points`) is
 * written with the first message in which the plan has one; later messages for the same
 * plan carry empty arrays (the trajectory of a plan never changes).
 */
export interface PlanMessage {
  timestamp: StampJson;
  id: string;
  /** `proposed`, `validated`, `rejected`, `approved`, `executing`, `succeeded`, `aborted`. */
  status: string;
  /** Why it was rejected or aborted; "" otherwise. */
  reason: string;
  requestedBy: string;
  approvedBy: string;
  /** Trajectory duration, s (0 while there is none). */
  durationS: number;
  jointNames: string[];
  points: PlanPointJson[];
}

/** `/decisions`: one decision of an agent, with what it saw and what it chose. */
export interface DecisionMessage {
  timestamp: StampJson;
  agent: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
}

/** `/events`: a link status change, an alert, anything worth a line in the log. */
export interface EventMessage {
  timestamp: StampJson;
  level: "info" | "warn" | "error";
  message: string;
  data: Record<string, unknown>;
}

/** The traffic scenario a batch of windows was measured under (`TrafficScenario`). */
export interface TrafficScenarioJson {
  /** Arms in the twin (the real one and virtual ones). */
  arms: number;
  /** Headsets in the room. */
  headsets: number;
  /** State patch rate, Hz. */
  patchRateHz: number;
  /** Video rung each headset streams; absent when none (the schema has no null). */
  videoRung?: string;
  /** Pose messages per headset per second as measured, Hz; absent: none measured (72). */
  poseRateHz?: number;
  /** Share of pose messages with hand controllers, 0..1; absent: none measured (1). */
  handsShare?: number;
}

/** One closed metering window of one flow (`FlowWindow` of `net/contracts.ts`). */
export interface TrafficWindowJson {
  /** `twin_state`, `control` or `video_<rung>`. */
  flowClass: string;
  /** Window length, s. */
  windowS: number;
  /** bytes · 8 / window length, bit/s. */
  throughputBps: number;
  /** bytes / packets, bytes (0 without packets). */
  meanPacketBytes: number;
  /** window length / packets, s (the window length without packets). */
  meanInterArrivalS: number;
}

/**
 * `/traffic`: windows of the server's traffic meter that closed since the last message,
 * every flow's oldest first, with the scenario they were measured under — what
 * `npm run train:ngf -- --from-recordings <dir>` reads (server/ml/datasets/import.ts).
 */
export interface TrafficMessage {
  timestamp: StampJson;
  scenario: TrafficScenarioJson;
  windows: TrafficWindowJson[];
}

/** `/robot_description`: the URDF, `std_msgs/String` shaped as Foxglove's 3D panel reads it. */
export interface RobotDescriptionMessage {
  data: string;
}

type JsonSchema = Record<string, unknown>;

const STAMP: JsonSchema = {
  type: "object",
  title: "time",
  description: "Source time since the Unix epoch",
  properties: {
    sec: { type: "integer", minimum: 0 },
    nsec: { type: "integer", minimum: 0, maximum: 999_999_999 },
  },
  required: ["sec", "nsec"],
};

const str = (description?: string): JsonSchema =>
  description === undefined ? { type: "string" } : { type: "string", description };
const numbers = (description: string): JsonSchema => ({
  type: "array",
  items: { type: "number" },
  description,
});
const strings = (description: string): JsonSchema => ({
  type: "array",
  items: { type: "string" },
  description,
});
const freeForm = (description: string): JsonSchema => ({
  type: "object",
  properties: {},
  additionalProperties: true,
  description: `${description} (free-form; a non-object value is wrapped as {"value": …})`,
});

const message = (
  title: string,
  properties: Record<string, JsonSchema>,
  description: string,
): JsonSchema => ({
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title,
  description,
  type: "object",
  properties,
  required: Object.keys(properties),
});

/** One channel: its topic, schema name and JSON Schema. */
export interface ChannelSpec {
  topic: RecordingTopic;
  schemaName: string;
  schema: JsonSchema;
}

/** The channels every recording has, in channel-id order. */
export const CHANNELS: readonly ChannelSpec[] = [
  {
    topic: RecordingTopic.JointStates,
    schemaName: "sensor_msgs/JointState",
    schema: message(
      "sensor_msgs/JointState",
      {
        timestamp: STAMP,
        name: strings("Joint names; the arrays below are in this order"),
        position: numbers("Joint positions, rad (m for prismatic joints)"),
        velocity: numbers("Joint velocities, rad/s (m/s)"),
        effort: numbers("Joint efforts, N·m (N); empty when not measured"),
      },
      "Measured joint state of the arm (sensor_msgs/JointState arrays, timestamp for header.stamp)",
    ),
  },
  {
    topic: RecordingTopic.Commands,
    schemaName: "agenttwin.Command",
    schema: message(
      "agenttwin.Command",
      {
        timestamp: STAMP,
        sessionId: str("Client session id"),
        userId: str(),
        role: str("operator or observer"),
        type: str("Message type"),
        body: freeForm("Validated message body"),
      },
      "An operator command the twin accepted",
    ),
  },
  {
    topic: RecordingTopic.Rejections,
    schemaName: "agenttwin.Rejection",
    schema: message(
      "agenttwin.Rejection",
      {
        timestamp: STAMP,
        sessionId: str("Client session id"),
        type: str("Message type"),
        code: str("Error code sent to the client"),
        message: str(),
      },
      "A command the twin refused",
    ),
  },
  {
    topic: RecordingTopic.Plans,
    schemaName: "agenttwin.Plan",
    schema: message(
      "agenttwin.Plan",
      {
        timestamp: STAMP,
        id: str(),
        status: str("proposed, validated, rejected, approved, executing, succeeded, aborted"),
        reason: str("Why it was rejected or aborted"),
        requestedBy: str(),
        approvedBy: str(),
        durationS: { type: "number", description: "Trajectory duration, s" },
        jointNames: strings("Joint order of points[].positions"),
        points: {
          type: "array",
          description: "Full trajectory, only in the first message of a plan that has one",
          items: {
            type: "object",
            properties: {
              t: { type: "number", description: "Time from start, s" },
              positions: numbers("Joint positions, rad"),
            },
            required: ["t", "positions"],
          },
        },
      },
      "A plan after a change of status",
    ),
  },
  {
    topic: RecordingTopic.Decisions,
    schemaName: "agenttwin.Decision",
    schema: message(
      "agenttwin.Decision",
      {
        timestamp: STAMP,
        agent: str("Agent name"),
        inputs: freeForm("What the agent decided from"),
        outputs: freeForm("What it decided"),
      },
      "A decision of an agent",
    ),
  },
  {
    topic: RecordingTopic.Events,
    schemaName: "agenttwin.Event",
    schema: message(
      "agenttwin.Event",
      {
        timestamp: STAMP,
        level: { type: "string", enum: ["info", "warn", "error"] },
        message: str(),
        data: freeForm("Details"),
      },
      "A link status change or an alert",
    ),
  },
  {
    topic: RecordingTopic.Traffic,
    schemaName: "agenttwin.Traffic",
    schema: message(
      "agenttwin.Traffic",
      {
        timestamp: STAMP,
        scenario: {
          type: "object",
          description: "What the windows were measured under",
          properties: {
            arms: { type: "integer", description: "Arms in the twin" },
            headsets: { type: "integer", description: "Headsets in the room" },
            patchRateHz: { type: "number", description: "State patch rate, Hz" },
            videoRung: { type: "string", description: "Video rung streamed; absent when none" },
            poseRateHz: {
              type: "number",
              description:
                "Pose messages per headset per second as measured, Hz; absent when none were (72)",
            },
            handsShare: {
              type: "number",
              description:
                "Share of pose messages with hand controllers, 0..1; absent when none were (1)",
            },
          },
          required: ["arms", "headsets", "patchRateHz"],
        },
        windows: {
          type: "array",
          description: "Metering windows closed since the last message, per flow oldest first",
          items: {
            type: "object",
            properties: {
              flowClass: str("twin_state, control or video_<rung>"),
              windowS: { type: "number", description: "Window length, s" },
              throughputBps: { type: "number", description: "Throughput, bit/s" },
              meanPacketBytes: { type: "number", description: "Mean packet size, bytes" },
              meanInterArrivalS: { type: "number", description: "Mean inter-arrival, s" },
            },
            required: [
              "flowClass",
              "windowS",
              "throughputBps",
              "meanPacketBytes",
              "meanInterArrivalS",
            ],
          },
        },
      },
      "The server's metered traffic windows (train:ngf --from-recordings reads them)",
    ),
  },
];

/** The optional `/robot_description` channel (written only when a URDF is given). */
export const ROBOT_DESCRIPTION_CHANNEL: ChannelSpec = {
  topic: RecordingTopic.RobotDescription,
  schemaName: "std_msgs/String",
  schema: message(
    "std_msgs/String",
    { data: str("URDF (XML) of the robot") },
    "The robot's URDF, for Foxglove's 3D panel",
  ),
};
