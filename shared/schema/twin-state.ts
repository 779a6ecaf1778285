/**
 * Colyseus schema of the `digital_twin` room: what every headset sees, delta-encoded.
 * Floats are float32 (sub-millimetre at cell scale) to keep patches small; poses are in
 * the `world` frame (z up, metres, unit quaternions). Field order is the wire order: add
 * new fields at the end of a structure so older clients keep decoding.
 * The Unity bridge's C# classes are generated from this file.
 */
import { schema, type SchemaType } from "@colyseus/schema";

export const Vec3State = schema(
  {
    x: { type: "float32", default: 0 },
    y: { type: "float32", default: 0 },
    z: { type: "float32", default: 0 },
  },
  "Vec3State",
);
export type Vec3State = SchemaType<typeof Vec3State>;

export const QuatState = schema(
  {
    x: { type: "float32", default: 0 },
    y: { type: "float32", default: 0 },
    z: { type: "float32", default: 0 },
    w: { type: "float32", default: 1 },
  },
  "QuatState",
);
export type QuatState = SchemaType<typeof QuatState>;

export const PoseState = schema({ position: Vec3State, orientation: QuatState }, "PoseState");
export type PoseState = SchemaType<typeof PoseState>;

/** One joint of the arm: position (rad) and velocity (rad/s). */
export const JointState = schema(
  {
    name: { type: "string", default: "" },
    position: { type: "float32", default: 0 },
    velocity: { type: "float32", default: 0 },
  },
  "JointState",
);
export type JointState = SchemaType<typeof JointState>;

/** The arm as measured from the robot cell (the physical arm, or the simulated one). */
export const RobotState = schema(
  {
    /** Arm joints in group order. */
    joints: { array: JointState },
    /** Gripper opening between the fingers, m. */
    gripper: { type: "float32", default: 0 },
    /** Tool centre point pose, `world` frame. */
    tcp: PoseState,
    /** idle | jogging | planning | executing | stopped */
    mode: { type: "string", default: "" },
    /** Link to the robot cell: simulated | connected | disconnected */
    link: { type: "string", default: "" },
    /** Plan being executed, or "". */
    activePlanId: { type: "string", default: "" },
    /** Execution progress of the active plan, 0..1. */
    progress: { type: "float32", default: 0 },
    /**
     * When the joints were sampled, ms since the Unix epoch: the cell's joint_states stamp
     * (the cell's clock) or the simulated arm's step time. For interpolation and latency.
     */
    stamp: { type: "float64", default: 0 },
    /** What the twin is linked to: in-process | sim-cell | ros */
    cell: { type: "string", default: "" },
    /** During execution: measured-vs-planned joint deviation, rad (0 otherwise). */
    deviation: { type: "float32", default: 0 },
  },
  "RobotState",
);
export type RobotState = SchemaType<typeof RobotState>;

/** A scene object: from the layout (physical) or added in the twin (virtual). */
export const ObjectState = schema(
  {
    id: { type: "string", default: "" },
    /** box | cylinder | sphere */
    shape: { type: "string", default: "" },
    /** box: edge lengths x,y,z; cylinder: radius, radius, height; sphere: radius ×3; m. */
    size: Vec3State,
    pose: PoseState,
    dynamic: { type: "boolean", default: false },
    /** True when the object exists only in the twin. */
    virtual: { type: "boolean", default: false },
    color: { type: "string", default: "" },
    /** sessionId:hand of the operator holding it, or "". */
    heldBy: { type: "string", default: "" },
  },
  "ObjectState",
);
export type ObjectState = SchemaType<typeof ObjectState>;

/** A connected person: role, display name and headset poses (`world`). */
export const OperatorState = schema(
  {
    name: { type: "string", default: "" },
    /** operator | observer */
    role: { type: "string", default: "" },
    connected: { type: "boolean", default: false },
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
    id: { type: "string", default: "" },
    /** proposed | validated | rejected | approved | executing | succeeded | aborted */
    status: { type: "string", default: "" },
    /** Why it was rejected or aborted (empty otherwise). */
    reason: { type: "string", default: "" },
    requestedBy: { type: "string", default: "" },
    approvedBy: { type: "string", default: "" },
    /** ms since the Unix epoch. */
    createdAt: { type: "float64", default: 0 },
    /** Trajectory duration, s. */
    duration: { type: "float32", default: 0 },
    /** Planning time, ms. */
    planningMs: { type: "float32", default: 0 },
    /** Decimated waypoints, joint-major rows: [q0..q6, q0..q6, ...], rad. */
    preview: { array: "float32" },
    /** Tool path of the preview, `world` frame, [x,y,z, x,y,z, ...], m. */
    previewTcp: { array: "float32" },
  },
  "PlanState",
);
export type PlanState = SchemaType<typeof PlanState>;

/** The shared goal marker (ghost arm) operators place before planning. */
export const GoalState = schema(
  {
    /** "" (none) | joints | pose | named */
    kind: { type: "string", default: "" },
    /** Joint solution for the goal, rad (empty when unreachable). */
    positions: { array: "float32" },
    /** Goal tool pose, `world` frame. */
    pose: PoseState,
    /** True when the goal is reachable and collision-free. */
    valid: { type: "boolean", default: false },
    reason: { type: "string", default: "" },
    setBy: { type: "string", default: "" },
  },
  "GoalState",
);
export type GoalState = SchemaType<typeof GoalState>;

/** One decision of the agent controller, for the agent panel. */
export const DecisionState = schema(
  {
    id: { type: "string", default: "" },
    /** allocate | raise_resolution | … | evaluate_add_arm | … */
    task: { type: "string", default: "" },
    /** utterance | environment_change | monitor | request | start */
    trigger: { type: "string", default: "" },
    summary: { type: "string", default: "" },
    /** Agent ids consulted, comma separated. */
    agents: { type: "string", default: "" },
    applied: { type: "boolean", default: false },
    /** ms */
    latencyMs: { type: "float32", default: 0 },
    /** ms since the Unix epoch */
    atMs: { type: "float64", default: 0 },
  },
  "DecisionState",
);
export type DecisionState = SchemaType<typeof DecisionState>;

/** What the headset link uses now, as the agents decided. */
export const AllocationState = schema(
  {
    /** Video rung, or "" for none. */
    rung: { type: "string", default: "" },
    /** Downlink band ids, comma separated. */
    bands: { type: "string", default: "" },
    /** Reserved bandwidth share, bit/s. */
    reservedBps: { type: "float64", default: 0 },
    /** Estimated capacity of the bands, bit/s. */
    capacityBps: { type: "float64", default: 0 },
    /** Demand planned for, bit/s. */
    demandBps: { type: "float64", default: 0 },
  },
  "AllocationState",
);
export type AllocationState = SchemaType<typeof AllocationState>;

/** The agent panel: the agents at work, the latest decisions, the current allocation. */
export const AgentPanelState = schema(
  {
    /** Agents registered, `id (model)`, comma separated. */
    agents: { type: "string", default: "" },
    /** Rung the user asked for, or "". */
    wantedRung: { type: "string", default: "" },
    allocation: AllocationState,
    /** Latest decisions, newest last (bounded). */
    decisions: { array: DecisionState },
  },
  "AgentPanelState",
);
export type AgentPanelState = SchemaType<typeof AgentPanelState>;

export const TwinState = schema(
  {
    robot: RobotState,
    objects: { map: ObjectState },
    /** Keyed by Colyseus sessionId. */
    operators: { map: OperatorState },
    /** Keyed by plan id; bounded to the configured history. */
    plans: { map: PlanState },
    goal: GoalState,
    /** The agents' panel (empty when the agents are off). */
    agents: AgentPanelState,
  },
  "TwinState",
);
export type TwinState = SchemaType<typeof TwinState>;
