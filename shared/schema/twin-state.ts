/**
 * Colyseus schema of the `digital_twin` room: what every headset sees, delta-encoded.
 * Floats are float32 (sub-millimetre at cell scale) to keep patches small; poses are in
 * the `world` frame (z up, metres, unit quaternions). Field order is the wire order: add
 * new fields at the end of a structure so older clients keep decoding.
 * The Unity bridge's C# classes are generated from this file.
 */
import { schema, t, type SchemaType } from "@colyseus/schema";

export const Vec3State = schema(
  { x: t.float32().default(0), y: t.float32().default(0), z: t.float32().default(0) },
  "Vec3State",
);
export type Vec3State = SchemaType<typeof Vec3State>;

export const QuatState = schema(
  {
    x: t.float32().default(0),
    y: t.float32().default(0),
    z: t.float32().default(0),
    w: t.float32().default(1),
  },
  "QuatState",
);
export type QuatState = SchemaType<typeof QuatState>;

export const PoseState = schema({ position: Vec3State, orientation: QuatState }, "PoseState");
export type PoseState = SchemaType<typeof PoseState>;

/** One joint of the arm: position (rad) and velocity (rad/s). */
export const JointState = schema(
  {
    name: t.string().default(""),
    position: t.float32().default(0),
    velocity: t.float32().default(0),
  },
  "JointState",
);
export type JointState = SchemaType<typeof JointState>;

/** The arm as measured from the robot cell (the physical arm, or the simulated one). */
export const RobotState = schema(
  {
    /** Arm joints in group order. */
    joints: t.array(JointState),
    /** Gripper opening between the fingers, m. */
    gripper: t.float32().default(0),
    /** Tool centre point pose, `world` frame. */
    tcp: PoseState,
    /** idle | jogging | planning | executing | stopped */
    mode: t.string().default(""),
    /** Link to the robot cell: simulated | connected | disconnected */
    link: t.string().default(""),
    /** Plan being executed, or "". */
    activePlanId: t.string().default(""),
    /** Execution progress of the active plan, 0..1. */
    progress: t.float32().default(0),
    /**
     * When the joints were sampled, ms since the Unix epoch: the cell's joint_states stamp
     * (the cell's clock) or the simulated arm's step time. For interpolation and latency.
     */
    stamp: t.float64().default(0),
    /** What the twin is linked to: in-process | sim-cell | ros */
    cell: t.string().default(""),
    /** During execution: measured-vs-planned joint deviation, rad (0 otherwise). */
    deviation: t.float32().default(0),
  },
  "RobotState",
);
export type RobotState = SchemaType<typeof RobotState>;

/** A scene object: from the layout (physical) or added in the twin (virtual). */
export const ObjectState = schema(
  {
    id: t.string().default(""),
    /** box | cylinder | sphere */
    shape: t.string().default(""),
    /** box: edge lengths x,y,z; cylinder: radius, radius, height; sphere: radius ×3; m. */
    size: Vec3State,
    pose: PoseState,
    dynamic: t.boolean().default(false),
    /** True when the object exists only in the twin. */
    virtual: t.boolean().default(false),
    color: t.string().default(""),
    /** sessionId:hand of the operator holding it, or "". */
    heldBy: t.string().default(""),
  },
  "ObjectState",
);
export type ObjectState = SchemaType<typeof ObjectState>;

/** A connected person: role, display name and headset poses (`world`). */
export const OperatorState = schema(
  {
    name: t.string().default(""),
    /** operator | observer */
    role: t.string().default(""),
    connected: t.boolean().default(false),
    head: PoseState,
    left: PoseState,
    right: PoseState,
  },
  "OperatorState",
);
export type OperatorState = SchemaType<typeof OperatorState>;

/** A motion plan and where it is in its lifecycle. */
export const PlanState = schema(
  {
    id: t.string().default(""),
    /** proposed | validated | rejected | approved | executing | succeeded | aborted */
    status: t.string().default(""),
    /** Why it was rejected or aborted (empty otherwise). */
    reason: t.string().default(""),
    requestedBy: t.string().default(""),
    approvedBy: t.string().default(""),
    /** ms since the Unix epoch. */
    createdAt: t.float64().default(0),
    /** Trajectory duration, s. */
    duration: t.float32().default(0),
    /** Planning time, ms. */
    planningMs: t.float32().default(0),
    /** Decimated waypoints, joint-major rows: [q0..q6, q0..q6, ...], rad. */
    preview: t.array("float32"),
    /** Tool path of the preview, `world` frame, [x,y,z, x,y,z, ...], m. */
    previewTcp: t.array("float32"),
  },
  "PlanState",
);
export type PlanState = SchemaType<typeof PlanState>;

/** The shared goal marker (ghost arm) operators place before planning. */
export const GoalState = schema(
  {
    /** "" (none) | joints | pose | named */
    kind: t.string().default(""),
    /** Joint solution for the goal, rad (empty when unreachable). */
    positions: t.array("float32"),
    /** Goal tool pose, `world` frame. */
    pose: PoseState,
    /** True when the goal is reachable and collision-free. */
    valid: t.boolean().default(false),
    reason: t.string().default(""),
    setBy: t.string().default(""),
  },
  "GoalState",
);
export type GoalState = SchemaType<typeof GoalState>;

/** One decision of the agent controller, for the agent panel. */
export const DecisionState = schema(
  {
    id: t.string().default(""),
    /** allocate | raise_resolution | … | evaluate_add_arm | … */
    task: t.string().default(""),
    /** utterance | environment_change | monitor | request | start */
    trigger: t.string().default(""),
    summary: t.string().default(""),
    /** Agent ids consulted, comma separated. */
    agents: t.string().default(""),
    applied: t.boolean().default(false),
    /** ms */
    latencyMs: t.float32().default(0),
    /** ms since the Unix epoch */
    atMs: t.float64().default(0),
  },
  "DecisionState",
);
export type DecisionState = SchemaType<typeof DecisionState>;

/** What the headset link uses now, as the agents decided. */
export const AllocationState = schema(
  {
    /** Video rung, or "" for none. */
    rung: t.string().default(""),
    /** Downlink band ids, comma separated. */
    bands: t.string().default(""),
    /** Reserved bandwidth share, bit/s. */
    reservedBps: t.float64().default(0),
    /** Estimated capacity of the bands, bit/s. */
    capacityBps: t.float64().default(0),
    /** Demand planned for, bit/s. */
    demandBps: t.float64().default(0),
  },
  "AllocationState",
);
export type AllocationState = SchemaType<typeof AllocationState>;

/** The agent panel: the agents at work, the latest decisions, the current allocation. */
export const AgentPanelState = schema(
  {
    /** Agents registered, `id (model)`, comma separated. */
    agents: t.string().default(""),
    /** Rung the user asked for, or "". */
    wantedRung: t.string().default(""),
    allocation: AllocationState,
    /** Latest decisions, newest last (bounded). */
    decisions: t.array(DecisionState),
  },
  "AgentPanelState",
);
export type AgentPanelState = SchemaType<typeof AgentPanelState>;

export const TwinState = schema(
  {
    robot: RobotState,
    objects: t.map(ObjectState),
    /** Keyed by Colyseus sessionId. */
    operators: t.map(OperatorState),
    /** Keyed by plan id; bounded to the configured history. */
    plans: t.map(PlanState),
    goal: GoalState,
    /** The agents' panel (empty when the agents are off). */
    agents: AgentPanelState,
  },
  "TwinState",
);
export type TwinState = SchemaType<typeof TwinState>;
