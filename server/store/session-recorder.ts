/**
 * Records one twin session to one MCAP file that Foxglove opens: joint states, accepted
 * and refused commands, plan changes, agent decisions and events, each on its own JSON
 * channel (topics and message shapes in `recording-schemas.ts`).
 *
 * This module turns the twin's calls into channel messages (and decides which joint
 * samples are worth keeping); writing them — queue, journal, chunks, size limit, crash
 * safety, failures — is `recording-writer.ts`. The record methods are called from a room's
 * tick, so they are synchronous, cheap and never throw; what cannot be recorded is counted
 * in {@link SessionRecorder.stats} and logged once, and the session goes on.
 */
import { resolve } from "node:path";
import type { Logger } from "pino";
import type { FlowWindow, TrafficScenario } from "../net/contracts.ts";
import type { TrafficMeter } from "../net/traffic-meter.ts";
import { RecordingError, RecordingErrorCode } from "./errors.ts";
import {
  CHANNELS,
  type CommandMessage,
  type DecisionMessage,
  type EventMessage,
  type JointStateMessage,
  type PlanMessage,
  type RejectionMessage,
  ROBOT_DESCRIPTION_CHANNEL,
  RecordingTopic,
  type StampJson,
  type TrafficMessage,
} from "./recording-schemas.ts";
import { type RecorderStats, RecordingWriter, recordingBaseName } from "./recording-writer.ts";

export type { RecorderStats } from "./recording-writer.ts";

/** Options of {@link SessionRecorder.open}. */
export interface SessionRecorderOptions {
  /** Folder of the recordings; created when missing. */
  dir: string;
  /** Session (room) name; sanitised to `[A-Za-z0-9._-]` for the file name. */
  sessionName: string;
  /** Largest file, bytes: recording stops (the file stays valid) before exceeding it. */
  maxBytes: number;
  /** Most `/joint_states` messages written per second, Hz. */
  jointHz: number;
  logger: Logger;
  /** Clock for the file name and for stamps that are not finite, ms since the Unix epoch. */
  now?: () => number;
  /** Messages waiting to be written at most; newer ones are dropped (default 10 000). */
  queueCapacity?: number;
  /** The robot's URDF; when given it is written once on `/robot_description`. */
  robotDescription?: string;
  /** Longest time a recorded message waits before it is on disk (journal), ms (default 1000). */
  flushMs?: number;
  /**
   * An unchanged joint state is written again after this long, ms (default 1000: 1 Hz), so
   * a reader still sees an arm at rest without one message per tick.
   */
  jointKeepAliveMs?: number;
  /**
   * Largest difference of every position (rad, m) and velocity (rad/s, m/s) from the last
   * written sample for a sample to count as unchanged (default 1e-6: float noise).
   */
  jointEpsilon?: number;
}

/** A plan as the recorder needs it (a `PlanRecord` fits). */
export interface RecordedPlan {
  id: string;
  status: string;
  reason: string;
  requestedBy: string;
  approvedBy: string;
  trajectory: {
    jointNames: readonly string[];
    /** s */
    duration: number;
    points: readonly { timeFromStart: number; positions: ArrayLike<number> }[];
  } | null;
}

/** Plans whose last recorded status is remembered (far more than a plan book keeps). */
const PLAN_MEMORY = 1000;
const DEFAULT_JOINT_KEEP_ALIVE_MS = 1000;
const DEFAULT_JOINT_EPSILON = 1e-6;
/** How often {@link SessionRecorder.followTraffic} writes the meter's windows, ms. */
const DEFAULT_TRAFFIC_EVERY_MS = 30_000;
/** The meter reader a recording takes windows as (the traffic agent's are its own). */
const TRAFFIC_READER = "recording";

/** The last joint sample written, to skip unchanged ones. */
interface WrittenJoints {
  /** ms since the Unix epoch */
  stampMs: number;
  names: readonly string[];
  positions: Float64Array;
  velocities: Float64Array;
}

/** Writes one twin session to `<dir>/<sessionName>-<UTC time>.mcap`. */
export class SessionRecorder {
  /** Absolute path of the finished file (it is `<file>.part` until {@link close}). */
  readonly file: string;
  readonly #out: RecordingWriter;
  readonly #now: () => number;
  readonly #jointIntervalMs: number;
  readonly #jointKeepAliveMs: number;
  readonly #jointEpsilon: number;
  #lastWrittenJoints: WrittenJoints | null = null;
  #closed: Promise<void> | undefined;
  /** The followed meter and its timer (see {@link followTraffic}). */
  #traffic: { write: () => void; timer: NodeJS.Timeout } | null = null;
  readonly #plans = new Map<string, string>();
  readonly #plansWithPoints = new Set<string>();

  /** Stamp of the last joint state kept, ms. */
  #lastJointMs = Number.NEGATIVE_INFINITY;
  /**
   * The joint-state grid: slot k is due at anchor + k / jointHz, ms. Computed from the
   * anchor, not accumulated, so rounding cannot drift the grid off the samples.
   */
  #jointAnchorMs = Number.NEGATIVE_INFINITY;
  #jointSlot = 0;

  private constructor(out: RecordingWriter, options: SessionRecorderOptions, now: () => number) {
    this.file = out.file;
    this.#out = out;
    this.#now = now;
    this.#jointIntervalMs = 1000 / options.jointHz;
    this.#jointKeepAliveMs = options.jointKeepAliveMs ?? DEFAULT_JOINT_KEEP_ALIVE_MS;
    this.#jointEpsilon = options.jointEpsilon ?? DEFAULT_JOINT_EPSILON;
  }

  /**
   * Creates the folder and the file, writes the MCAP header and registers the channels.
   * @throws RecordingError (`invalid_options`, `open_failed`) with the cause, e.g. when
   *   the folder cannot be created or written
   */
  static async open(options: SessionRecorderOptions): Promise<SessionRecorder> {
    const bad = (what: string) =>
      new RecordingError(
        RecordingErrorCode.InvalidOptions,
        resolve(options.dir),
        `invalid recorder option: ${what}`,
      );
    if (!(Number.isFinite(options.jointHz) && options.jointHz > 0))
      throw bad(`jointHz ${options.jointHz}`);
    const keepAlive = options.jointKeepAliveMs;
    if (keepAlive !== undefined && !(keepAlive > 0)) throw bad(`jointKeepAliveMs ${keepAlive}`);
    const eps = options.jointEpsilon;
    if (eps !== undefined && !(eps >= 0 && Number.isFinite(eps))) throw bad(`jointEpsilon ${eps}`);
    const now = options.now ?? Date.now;
    const out = await RecordingWriter.open({
      dir: options.dir,
      baseName: recordingBaseName(options.sessionName, now()),
      channels:
        options.robotDescription === undefined
          ? CHANNELS
          : [...CHANNELS, ROBOT_DESCRIPTION_CHANNEL],
      library: "agenttwin",
      maxBytes: options.maxBytes,
      logger: options.logger,
      ...(options.queueCapacity !== undefined && { queueCapacity: options.queueCapacity }),
      ...(options.flushMs !== undefined && { flushMs: options.flushMs }),
    });
    const recorder = new SessionRecorder(out, options, now);
    if (options.robotDescription !== undefined) {
      out.write(RecordingTopic.RobotDescription, now(), { data: options.robotDescription });
    }
    return recorder;
  }

  /**
   * Records a joint sample, at most {@link SessionRecorderOptions.jointHz} per second of
   * stamp time on average. Kept samples follow a grid of 1/jointHz s; a sample up to a
   * quarter interval early fills its slot, so a jittery source at exactly jointHz keeps
   * every sample (two kept samples are at least 3/4 of an interval apart). After a pause,
   * or when the stamps go back (a restarted source), the grid restarts at the sample.
   *
   * Only changes are written: a sample whose names are those of the last written one and
   * whose positions and velocities are all within `jointEpsilon` of it is skipped, unless
   * `jointKeepAliveMs` passed since that one (an arm at rest costs 1 message/s, not one a
   * tick). Slow drift is not lost: it is compared with the last written sample, not the
   * last seen.
   * @param stampMs measurement time, ms since the Unix epoch
   * @param positions rad (m for prismatic joints), in `names` order (copied)
   * @param velocities rad/s (m/s), in `names` order (copied)
   */
  jointState(
    stampMs: number,
    names: readonly string[],
    positions: ArrayLike<number>,
    velocities: ArrayLike<number>,
  ): void {
    try {
      const stamp = this.#stamp(stampMs);
      const interval = this.#jointIntervalMs;
      const due = this.#jointAnchorMs + this.#jointSlot * interval;
      const forward = stamp >= this.#lastJointMs;
      if (forward && stamp < due - interval / 4) return;
      if (forward && stamp - due <= interval) {
        this.#jointSlot += 1;
      } else {
        this.#jointAnchorMs = stamp;
        this.#jointSlot = 1;
      }
      this.#lastJointMs = stamp;
      const last = this.#lastWrittenJoints;
      if (
        forward &&
        last !== null &&
        stamp - last.stampMs < this.#jointKeepAliveMs &&
        this.#sameJoints(last, names, positions, velocities)
      )
        return;
      this.#lastWrittenJoints = {
        stampMs: stamp,
        names: Array.from(names),
        positions: Float64Array.from(positions),
        velocities: Float64Array.from(velocities),
      };
      const msg: JointStateMessage = {
        timestamp: toStamp(stamp),
        name: Array.from(names),
        position: Array.from(positions),
        velocity: Array.from(velocities),
        effort: [],
      };
      this.#out.write(RecordingTopic.JointStates, stamp, msg, "jointState");
    } catch (err) {
      this.#out.lost("jointState", err);
    }
  }

  /**
   * Records an accepted operator command.
   * @param stampMs when it was accepted, ms since the Unix epoch
   */
  command(
    stampMs: number,
    entry: { sessionId: string; userId: string; role: string; type: string; body: unknown },
  ): void {
    try {
      const stamp = this.#stamp(stampMs);
      const msg: CommandMessage = {
        timestamp: toStamp(stamp),
        sessionId: entry.sessionId,
        userId: entry.userId,
        role: entry.role,
        type: entry.type,
        body: asObject(entry.body),
      };
      this.#out.write(RecordingTopic.Commands, stamp, msg, "command");
    } catch (err) {
      this.#out.lost("command", err);
    }
  }

  /**
   * Records a refused command.
   * @param stampMs when it was refused, ms since the Unix epoch
   */
  rejection(
    stampMs: number,
    entry: { sessionId: string; type: string; code: string; message: string },
  ): void {
    try {
      const stamp = this.#stamp(stampMs);
      const msg: RejectionMessage = {
        timestamp: toStamp(stamp),
        sessionId: entry.sessionId,
        type: entry.type,
        code: entry.code,
        message: entry.message,
      };
      this.#out.write(RecordingTopic.Rejections, stamp, msg, "rejection");
    } catch (err) {
      this.#out.lost("rejection", err);
    }
  }

  /**
   * Records a plan after a change. Calls that change nothing since the plan's last
   * recorded message (status, reason, approver, trajectory presence) are ignored, so it is
   * safe to call on every version bump. The full trajectory goes into the first message in
   * which the plan has one; later ones carry empty `jointNames` and `points`.
   * @param stampMs when it changed, ms since the Unix epoch
   */
  plan(stampMs: number, plan: RecordedPlan): void {
    try {
      const traj = plan.trajectory;
      const key = `${plan.status}\u0000${plan.reason}\u0000${plan.approvedBy}\u0000${traj ? 1 : 0}`;
      if (this.#plans.get(plan.id) === key) return;
      this.#plans.delete(plan.id); // re-insert: the map's order is least recently changed first
      this.#plans.set(plan.id, key);
      if (this.#plans.size > PLAN_MEMORY) {
        const oldest = this.#plans.keys().next().value;
        if (oldest !== undefined) {
          this.#plans.delete(oldest);
          this.#plansWithPoints.delete(oldest);
        }
      }
      const withPoints = traj !== null && !this.#plansWithPoints.has(plan.id);
      if (withPoints) this.#plansWithPoints.add(plan.id);
      const stamp = this.#stamp(stampMs);
      const msg: PlanMessage = {
        timestamp: toStamp(stamp),
        id: plan.id,
        status: plan.status,
        reason: plan.reason,
        requestedBy: plan.requestedBy,
        approvedBy: plan.approvedBy,
        durationS: traj?.duration ?? 0,
        jointNames: withPoints ? Array.from(traj.jointNames) : [],
        points: withPoints
          ? traj.points.map((p) => ({ t: p.timeFromStart, positions: Array.from(p.positions) }))
          : [],
      };
      this.#out.write(RecordingTopic.Plans, stamp, msg, "plan");
    } catch (err) {
      this.#out.lost("plan", err);
    }
  }

  /**
   * Records an agent decision.
   * @param stampMs when it was decided, ms since the Unix epoch
   */
  decision(stampMs: number, entry: { agent: string; inputs: unknown; outputs: unknown }): void {
    try {
      const stamp = this.#stamp(stampMs);
      const msg: DecisionMessage = {
        timestamp: toStamp(stamp),
        agent: entry.agent,
        inputs: asObject(entry.inputs),
        outputs: asObject(entry.outputs),
      };
      this.#out.write(RecordingTopic.Decisions, stamp, msg, "decision");
    } catch (err) {
      this.#out.lost("decision", err);
    }
  }

  /**
   * Records an event (link status change, alert).
   * @param stampMs when it happened, ms since the Unix epoch
   */
  event(
    stampMs: number,
    entry: { level: "info" | "warn" | "error"; message: string; data?: unknown },
  ): void {
    try {
      const stamp = this.#stamp(stampMs);
      const msg: EventMessage = {
        timestamp: toStamp(stamp),
        level: entry.level,
        message: entry.message,
        data: asObject(entry.data),
      };
      this.#out.write(RecordingTopic.Events, stamp, msg, "event");
    } catch (err) {
      this.#out.lost("event", err);
    }
  }

  /**
   * Records metered traffic windows with the scenario they were measured under, on
   * `/traffic` (the format `train:ngf --from-recordings` reads). Nothing is written when
   * every window is empty: an idle room costs nothing.
   * @param stampMs when the windows were taken, ms since the Unix epoch
   * @param windows closed windows of the server's flows (copied)
   */
  traffic(stampMs: number, scenario: TrafficScenario, windows: readonly FlowWindow[]): void {
    try {
      if (!windows.some((w) => w.throughputBps > 0)) return;
      const stamp = this.#stamp(stampMs);
      const msg: TrafficMessage = {
        timestamp: toStamp(stamp),
        scenario: {
          arms: scenario.arms,
          headsets: scenario.headsets,
          patchRateHz: scenario.patchRateHz,
          ...(scenario.videoRung !== null && { videoRung: scenario.videoRung }),
          ...(scenario.poseRateHz !== undefined && { poseRateHz: scenario.poseRateHz }),
          ...(scenario.handsShare !== undefined && { handsShare: scenario.handsShare }),
        },
        windows: windows.map((w) => ({
          flowClass: w.flowClass,
          windowS: w.windowS,
          throughputBps: w.throughputBps,
          meanPacketBytes: w.meanPacketBytes,
          meanInterArrivalS: w.meanInterArrivalS,
        })),
      };
      this.#out.write(RecordingTopic.Traffic, stamp, msg, "traffic");
    } catch (err) {
      this.#out.lost("traffic", err);
    }
  }

  /**
   * Writes the windows `meter` closed since the last time on `/traffic` every `everyMs`
   * and once more at {@link close}, each with `scenario()` as it is then. The recording
   * takes windows as its own meter reader, so the traffic agent still gets every window.
   * A second call replaces the first; a call after {@link close} does nothing (no timer
   * would stop).
   * @param everyMs ms (default 30 000)
   */
  followTraffic(
    meter: Pick<TrafficMeter, "takeWindows">,
    scenario: () => TrafficScenario,
    everyMs: number = DEFAULT_TRAFFIC_EVERY_MS,
  ): void {
    if (this.#closed) return;
    if (this.#traffic) clearInterval(this.#traffic.timer);
    const write = (): void => {
      try {
        this.traffic(this.#now(), scenario(), meter.takeWindows(TRAFFIC_READER));
      } catch (err) {
        this.#out.lost("traffic", err);
      }
    };
    const timer = setInterval(write, everyMs);
    timer.unref();
    this.#traffic = { write, timer };
  }

  /**
   * Puts every message recorded so far into the journal file (the `.part` file has the
   * rest). Called every `flushMs`; resolves when the journal is written. Never rejects.
   */
  flush(): Promise<void> {
    return this.#out.flush();
  }

  /**
   * Writes what is queued, the summary and index, closes the file and renames it from
   * `.mcap.part` to `.mcap`. Idempotent (every call returns the same promise); never
   * rejects: a failure is logged and leaves the `.part` file and its journal behind (for
   * recovery at the next start).
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    const traffic = this.#traffic;
    this.#traffic = null;
    if (traffic) {
      clearInterval(traffic.timer);
      traffic.write();
    }
    await this.#out.close();
  }

  /** Counters so far (see {@link RecorderStats}). */
  stats(): RecorderStats {
    return this.#out.stats();
  }

  /** Whether a sample is the last written one, within `jointEpsilon`. */
  #sameJoints(
    last: WrittenJoints,
    names: readonly string[],
    positions: ArrayLike<number>,
    velocities: ArrayLike<number>,
  ): boolean {
    const eps = this.#jointEpsilon;
    if (
      names.length !== last.names.length ||
      positions.length !== last.positions.length ||
      velocities.length !== last.velocities.length
    )
      return false;
    for (let i = 0; i < names.length; i++) if (names[i] !== last.names[i]) return false;
    for (let i = 0; i < positions.length; i++)
      if (!(Math.abs((positions[i] as number) - (last.positions[i] as number)) <= eps))
        return false;
    for (let i = 0; i < velocities.length; i++)
      if (!(Math.abs((velocities[i] as number) - (last.velocities[i] as number)) <= eps))
        return false;
    return true;
  }

  #stamp(stampMs: number): number {
    return Number.isFinite(stampMs) && stampMs >= 0 ? stampMs : this.#now();
  }
}

/** ms since the epoch → `{sec, nsec}`. */
function toStamp(ms: number): StampJson {
  let sec = Math.floor(ms / 1000);
  let nsec = Math.round((ms - sec * 1000) * 1e6);
  if (nsec >= 1e9) {
    sec += 1;
    nsec -= 1e9;
  }
  return { sec, nsec };
}

/** Free-form values are JSON objects in the schemas: wrap anything else. */
function asObject(value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    return value as Record<string, unknown>;
  }
  return { value };
}
