/**
 * One `metaverse` room: the people in a 360° scene, the scene (3D asset and video stream),
 * and what each headset streams. Every headset has its own link and its own agent
 * controller: the channel agent predicts that headset's bands where it stands, the traffic
 * agent the demand of each rendition, and the rendition is raised only when the link can
 * sustain it. Quality-of-experience reports close the loop: a draining buffer or a measured
 * throughput below the rendition's bitrate lowers it before the player stalls.
 */
import type { Logger } from "pino";
import type { Pose, Vec3 } from "../../shared/geometry.ts";
import { ErrorCode } from "../../shared/messages/common.ts";
import type { MetaverseCommand } from "../../shared/messages/metaverse.ts";
import type { Decision, DecisionTrigger, LinkSituation } from "../agents/controller.ts";
import type { IntentContext } from "../agents/intent/intent-model.ts";
import type { Intent } from "../agents/intent/intents.ts";
import { type AgentPanel, AgentOrchestrator, type AgentSetup } from "../agents/orchestrator.ts";
import { DEFAULT_LADDER, type Rung } from "../net/allocation.ts";
import { armGeometry } from "../net/arm-geometry.ts";
import type { ArmGeometry } from "../net/contracts.ts";
import type { Actor } from "../twin/actor.ts";
import { COMMAND_REFUSALS, CommandError } from "../twin/errors.ts";
import type { RobotDescription } from "../sim/robot-description.ts";

/** Buffer below which the rendition is lowered to what the measured throughput carries, s. */
const LOW_BUFFER_S = 4;
/** A rendition is chosen to use at most this share of the measured throughput. */
const THROUGHPUT_SAFETY = 0.85;
/** A QoE report older than this no longer constrains decisions, ms. */
const QOE_FRESH_MS = 3000;
/** Headset movement that makes the agents decide again, m. */
const MOVE_THRESHOLD_M = 0.5;
/** Re-decide at least this often while someone streams, ms. */
const MONITOR_MS = 5000;
/**
 * A draining buffer makes the agents decide again at most this often, ms, unless the player
 * stalled since (a report a second saying the same must not mean a decision a second).
 */
const QOE_REDECIDE_MS = 5000;
const DEFAULT_HEADSET: Vec3 = { x: 1.8, y: 0.9, z: 1.7 };
/** The reply to a stop said in this room. */
const NOTHING_MOVES = "nothing moves in the metaverse room; stop applies to the digital twin";

export interface StreamView {
  rendition: string;
  playlistUrl: string;
  /** The rendition's progressive MP4 (VOD only), or "". */
  mp4Url: string;
  bitrateBps: number;
  bands: readonly string[];
  reservedBps: number;
  wantedRendition: string;
  reason: string;
}

export interface QoeView {
  bufferS: number;
  throughputBps: number;
  stalls: number;
  atMs: number;
}

export interface Participant {
  readonly actor: Actor;
  connected: boolean;
  head: Pose | null;
  left: Pose | null;
  right: Pose | null;
  stream: StreamView;
  qoe: QoeView;
  /** Bumped on every change (state sync copies only then). */
  version: number;
}

export interface SceneView {
  version: number;
  assetUrl: string;
  streamUrl: string;
  renditions: readonly string[];
  status: string;
  error: string;
  /** Fraction done of the job `status` names, 0..1 (0: no figure, or no job). */
  progress: number;
  /** What that job is doing, in a few words, or "". */
  detail: string;
}

/** A media job working on the scene, as the room shows it. */
export interface SceneJobView {
  readonly status: "ingesting" | "transcoding" | "reconstructing";
  /** 0..1; 0 when the job gives no figure. */
  readonly progress: number;
  readonly detail: string;
}

/** A rendition of the scene's stream as the video pipeline produced it. */
export interface SceneRendition {
  readonly name: string;
  /** Measured peak bitrate (HLS BANDWIDTH), bit/s. */
  readonly bitrateBps: number;
  /** URL of its media playlist. */
  readonly playlistUrl: string;
  /** URL of the same media as one progressive MP4 (VOD renditions that have one). */
  readonly mp4Url?: string;
}

export interface MetaverseSessionDeps {
  /**
   * The agents (their limiter bounds the decisions people ask for: rendition requests,
   * utterances); null runs the room without them (the lowest rendition is played).
   */
  agents: AgentSetup | null;
  robot: RobotDescription;
  /** gNB antenna, `world`. */
  gnb: Vec3;
  patchRateHz: number;
  logger: Logger;
  /** Playlist of rendition `rung` of the stream at `streamUrl`. */
  playlistFor(streamUrl: string, rung: string): string;
  now?: () => number;
}

/** What the session keeps of one headset's link (its controller is the orchestrator's). */
interface Link {
  /** Where the headset was at the last applied decision. */
  decidedAt: Vec3 | null;
  /** Where it was when the running decision read the situation. */
  readAt: Vec3 | null;
  lastDecisionMs: number;
  /** When a draining buffer last made the agents decide, and the stalls reported then. */
  lastQoeDecision: { atMs: number; stalls: number };
}

export class MetaverseSession {
  readonly scene: SceneView = {
    version: 0,
    assetUrl: "",
    streamUrl: "",
    renditions: [],
    status: "idle",
    error: "",
    progress: 0,
    detail: "",
  };
  /** Media jobs working on the scene now, by key, oldest first (see {@link setJob}). */
  readonly #jobs = new Map<string, SceneJobView>();
  /** Bumped when the scene or the panel changes (see {@link version}). */
  #version = 0;

  /**
   * Changes whenever the scene or the panel does, the intent backend's health included (both
   * counters only grow, so their sum changes when either does).
   */
  get version(): number {
    return this.#version + (this.#agents?.version ?? 0);
  }
  readonly #people = new Map<string, Participant>();
  readonly #links = new Map<string, Link>();
  readonly #d: MetaverseSessionDeps;
  readonly #now: () => number;
  readonly #cellArm: ArmGeometry;
  /** The agents: one link (and controller) per headset, keyed by its session id. */
  readonly #agents: AgentOrchestrator<Actor> | null;
  #closed = false;
  /** The stream's renditions with measured bitrates and playlists, lowest first. */
  #video: SceneRendition[] = [];
  #assetBytes = 0;

  constructor(deps: MetaverseSessionDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
    this.#cellArm = armGeometry(
      deps.robot.kinematics,
      deps.robot.home,
      deps.robot.basePose,
      "panda",
    );
    this.#agents =
      deps.agents &&
      new AgentOrchestrator<Actor>({
        ...deps.agents,
        refusals: COMMAND_REFUSALS,
        context: {
          ladder: () => this.ladder(),
          situation: (link) => this.#situation(link),
          intentContext: (actor) => this.#intentContext(actor),
          spokenStop: () => NOTHING_MOVES,
          carryOut: (actor, intent) => this.#carryOut(actor, intent),
          decided: (link, d, apply) => this.#decided(link, d, apply),
        },
      });
  }

  participants(): IterableIterator<Participant> {
    return this.#people.values();
  }

  /**
   * The ladder the stream offers, lowest first: its renditions at the larger of the product
   * rung's nominal bitrate and the measured one (the product ladder when there is no stream).
   */
  ladder(): readonly Rung[] {
    if (this.#video.length > 0) {
      return this.#video.map((r) => ({
        name: r.name,
        bitrateBps: Math.max(
          r.bitrateBps,
          DEFAULT_LADDER.find((d) => d.name === r.name)?.bitrateBps ?? 0,
        ),
      }));
    }
    const offered = DEFAULT_LADDER.filter((r) => this.scene.renditions.includes(r.name));
    return offered.length > 0 ? offered : DEFAULT_LADDER;
  }

  join(actor: Actor): void {
    const existing = this.#people.get(actor.sessionId);
    if (existing) {
      existing.connected = true;
      existing.version += 1;
      return;
    }
    const lowest = this.ladder()[0]?.name ?? "";
    this.#people.set(actor.sessionId, {
      actor,
      connected: true,
      head: null,
      left: null,
      right: null,
      stream: {
        rendition: "",
        playlistUrl: "",
        mp4Url: "",
        bitrateBps: 0,
        bands: [],
        reservedBps: 0,
        wantedRendition: lowest,
        reason: "",
      },
      qoe: { bufferS: 0, throughputBps: 0, stalls: 0, atMs: 0 },
      version: 1,
    });
    void this.#decide(actor.sessionId, "start");
  }

  setConnected(sessionId: string, connected: boolean): void {
    const p = this.#people.get(sessionId);
    if (p && p.connected !== connected) {
      p.connected = connected;
      p.version += 1;
    }
  }

  leave(sessionId: string): void {
    this.#people.delete(sessionId);
    this.#links.delete(sessionId);
    this.#agents?.forgetLink(sessionId);
  }

  /** Runs one validated command for `actor`. Throws CommandError on refusal. */
  async handle(actor: Actor, cmd: MetaverseCommand): Promise<{ summary?: string } | void> {
    if (this.#closed) throw new CommandError(ErrorCode.Conflict, "session closed");
    const p = this.#people.get(actor.sessionId);
    if (!p) throw new CommandError(ErrorCode.Conflict, "not in this room");
    switch (cmd.type) {
      case "pose": {
        p.head = cmd.body.head;
        if (cmd.body.left) p.left = cmd.body.left;
        if (cmd.body.right) p.right = cmd.body.right;
        p.version += 1;
        const link = this.#links.get(actor.sessionId);
        // A link whose first decision is still under way has not moved (that decision reads
        // the newest pose when it runs).
        const moved = !link
          ? Infinity
          : link.decidedAt
            ? distance(link.decidedAt, cmd.body.head.position)
            : 0;
        if (moved > MOVE_THRESHOLD_M) void this.#decide(actor.sessionId, "environment_change");
        return;
      }
      case "qoe": {
        const b = cmd.body;
        p.qoe = {
          bufferS: b.bufferS,
          throughputBps: b.throughputBps,
          stalls: b.stalls,
          atMs: this.#now(),
        };
        p.version += 1;
        const starving =
          b.bufferS < LOW_BUFFER_S && b.throughputBps < p.stream.bitrateBps / THROUGHPUT_SAFETY;
        const link = this.#links.get(actor.sessionId);
        const stale = !link || this.#now() - link.lastDecisionMs > MONITOR_MS;
        // A buffer that keeps draining is decided on again only after a while or a new stall.
        const last = link?.lastQoeDecision;
        const news = !last || b.stalls > last.stalls || this.#now() - last.atMs > QOE_REDECIDE_MS;
        if (starving && news && link)
          link.lastQoeDecision = { atMs: this.#now(), stalls: b.stalls };
        if ((starving && news) || stale) {
          void this.#decide(actor.sessionId, starving && news ? "qoe" : "monitor");
        }
        return;
      }
      case "requestRendition": {
        const rung = cmd.body.rendition;
        if (!this.ladder().some((r) => r.name === rung)) {
          throw new CommandError(
            ErrorCode.NotFound,
            `no rendition ${rung} (have ${this.ladder()
              .map((r) => r.name)
              .join(", ")})`,
          );
        }
        p.stream.wantedRendition = rung;
        const d = await this.#decide(actor.sessionId, "request");
        return { summary: d?.summary ?? p.stream.reason };
      }
      case "utterance":
        if (!this.#agents)
          throw new CommandError(ErrorCode.Conflict, "the agents are off on this server");
        return this.#agents.utterance(actor, cmd.body.text);
    }
  }

  /** The renditions of the scene's stream, lowest bitrate first (empty without a stream). */
  video(): readonly SceneRendition[] {
    return this.#video;
  }

  /**
   * A new scene asset or stream: every headset's rendition is decided again. `video` gives
   * the stream's renditions as the pipeline measured them (they replace `renditions`);
   * `assetBytes` the size of the 3D asset.
   */
  setScene(
    update: Partial<Omit<SceneView, "version">> & {
      video?: readonly SceneRendition[];
      assetBytes?: number;
    },
  ): void {
    const { video, assetBytes, ...view } = update;
    if (video) {
      this.#video = [...video].sort((a, b) => a.bitrateBps - b.bitrateBps);
      view.renditions = this.#video.map((r) => r.name);
    } else if (view.renditions) this.#video = [];
    if (assetBytes !== undefined) this.#assetBytes = assetBytes;
    Object.assign(this.scene, view);
    // While a job still works on the scene, its status stays shown.
    if (this.#jobs.size > 0) this.#showJobs();
    this.scene.version += 1;
    this.#version += 1;
    if (view.renditions) {
      // The ladder changed: controllers are rebuilt on the new one.
      this.#links.clear();
      this.#agents?.forgetControllers();
      for (const id of this.#people.keys()) void this.#decide(id, "environment_change");
    } else if (view.streamUrl !== undefined) {
      for (const p of this.#people.values()) this.#applyPlaylist(p);
    }
  }

  /**
   * A media job for this scene (key: e.g. `video:<job id>`) was received, queued, moved on
   * (`job`), or ended (`null`; the scene itself changes through {@link setScene}). The scene
   * shows the newest job still working, with its progress; once none is left, `ready` when
   * it has a stream or an asset, `failed` when the last job failed and it has neither, else
   * `idle`. Does not change the scene's version (nothing new to load yet).
   */
  setJob(key: string, job: SceneJobView | null): void {
    if (job) this.#jobs.set(key, job);
    else if (!this.#jobs.delete(key)) return;
    // Bounded: a flood of uploads is refused upstream; keep the newest few all the same.
    while (this.#jobs.size > 32) this.#jobs.delete(this.#jobs.keys().next().value!);
    this.#showJobs();
    this.#version += 1;
  }

  #showJobs(): void {
    const jobs = [...this.#jobs.values()];
    const newest = jobs[jobs.length - 1];
    const sc = this.scene;
    if (newest) {
      sc.status = newest.status;
      sc.progress = newest.progress;
      sc.detail = jobs.length > 1 ? `${newest.detail} (+${jobs.length - 1} more)` : newest.detail;
      return;
    }
    const has = sc.streamUrl !== "" || sc.assetUrl !== "";
    sc.status = has ? "ready" : sc.error ? "failed" : "idle";
    sc.progress = 0;
    sc.detail = "";
  }

  /** Latest decisions of every headset, oldest first (bounded). */
  decisions(): readonly Decision[] {
    return this.#agents?.decisions() ?? [];
  }

  /**
   * The agent panel: the allocation of the headset that was decided on last and the latest
   * decisions of every headset.
   */
  panel(): AgentPanel {
    const empty = { agents: "", wantedRung: null, allocation: null, decisions: [] };
    return { ...(this.#agents?.panel() ?? empty), version: this.version };
  }

  close(): void {
    this.#closed = true;
    this.#agents?.close();
    this.#links.clear();
  }

  /** What the intent model is told for `actor`: the ladder and what they stream. */
  #intentContext(actor: Actor): IntentContext {
    const rendition = this.#people.get(actor.sessionId)?.stream.rendition;
    return {
      namedPoses: [],
      objectIds: [],
      rungs: this.ladder().map((r) => r.name),
      ...(rendition && { currentRung: rendition }),
      role: actor.role,
    };
  }

  /** One intent of `actor`'s utterance, as this room understands it. */
  async #carryOut(actor: Actor, intent: Intent): Promise<string> {
    const p = this.#people.get(actor.sessionId);
    if (!p) throw new CommandError(ErrorCode.Conflict, "not in this room");
    switch (intent.kind) {
      case "set_resolution": {
        const names = this.ladder().map((r) => r.name);
        const from = names.indexOf(p.stream.wantedRendition);
        const step = intent.direction === "raise" ? 1 : -1;
        const next = intent.rung ?? names[Math.max(0, Math.min(names.length - 1, from + step))];
        if (next) p.stream.wantedRendition = next;
        const d = await this.#decide(actor.sessionId, "utterance");
        return d?.summary ?? p.stream.reason;
      }
      case "evaluate_impact": {
        const d = await this.#decide(actor.sessionId, "utterance", false);
        return `what-if: ${d?.summary ?? ""}`;
      }
      case "stop":
        return NOTHING_MOVES;
      case "unknown":
        return `not understood (${intent.reason})`;
      default:
        return `${intent.kind} is for the digital twin room`;
    }
  }

  /**
   * Decides (and by default applies) the rendition of one headset, through the agents. A
   * background one (start, movement, QoE, monitor) is queued and coalesced with any other
   * waiting for the same headset (it resolves null at once); one a person asked for (request,
   * utterance) is answered with its decision, or refused `busy` over the room's bounds.
   */
  #decide(sessionId: string, trigger: DecisionTrigger, apply = true): Promise<Decision | null> {
    const p = this.#people.get(sessionId);
    if (!p) return Promise.resolve(null);
    if (!this.#agents) {
      this.#setStream(
        p,
        this.ladder()[0]?.name ?? "",
        [],
        0,
        "agents off: the lowest rendition plays",
      );
      return Promise.resolve(null);
    }
    if (!this.#links.has(sessionId)) {
      this.#links.set(sessionId, {
        decidedAt: null,
        readAt: null,
        lastDecisionMs: 0,
        lastQoeDecision: { atMs: 0, stalls: 0 },
      });
    }
    if (trigger !== "request" && trigger !== "utterance") {
      this.#agents.redecide(sessionId, trigger);
      return Promise.resolve(null);
    }
    return this.#agents.ask(p.actor, {
      kind: "allocate",
      link: sessionId,
      trigger,
      task: "set_resolution",
      apply,
    });
  }

  /** Headset `sessionId`'s link as it is now; null once it left or the room closed. */
  #situation(sessionId: string): LinkSituation | null {
    const p = this.#people.get(sessionId);
    const link = this.#links.get(sessionId);
    if (this.#closed || !p || !link) return null;
    const headset = p.head?.position ?? DEFAULT_HEADSET;
    link.readAt = { ...headset };
    return {
      radio: { gnb: this.#d.gnb, headset, arms: [this.#cellArm] },
      traffic: { arms: 1, headsets: 1, patchRateHz: this.#d.patchRateHz, videoRung: null },
      wantedRung: p.stream.wantedRendition || null,
      ...(this.scene.streamUrl && {
        scene: { renditions: this.#video, assetBytes: this.#assetBytes },
      }),
    };
  }

  /**
   * A decision for headset `sessionId` was taken: an applied one sets its stream, unless the
   * player's own measurement says its buffer drains (then it is lowered before it stalls).
   */
  #decided(sessionId: string, d: Decision, apply: boolean): void {
    const p = this.#people.get(sessionId);
    const link = this.#links.get(sessionId);
    if (!p || !link) return;
    link.lastDecisionMs = this.#now();
    if (!apply) return;
    link.decidedAt = link.readAt;
    const a = this.#agents?.controller(sessionId).allocation;
    let rung = a?.rung ?? "";
    let reason = d.summary;
    const q = p.qoe;
    if (rung && q.atMs > 0 && this.#now() - q.atMs < QOE_FRESH_MS && q.bufferS < LOW_BUFFER_S) {
      const fits = this.ladder().filter((r) => r.bitrateBps <= THROUGHPUT_SAFETY * q.throughputBps);
      const cap = fits[fits.length - 1]?.name ?? this.ladder()[0]?.name ?? "";
      if (indexOf(this.ladder(), cap) < indexOf(this.ladder(), rung)) {
        reason = `buffer ${q.bufferS.toFixed(1)} s at ${(q.throughputBps / 1e6).toFixed(1)} Mbit/s measured: ${cap} instead of ${rung}`;
        rung = cap;
      }
    }
    this.#setStream(p, rung, a?.bands ?? [], a?.reservedBps ?? 0, reason);
  }

  #setStream(
    p: Participant,
    rung: string,
    bands: readonly string[],
    reservedBps: number,
    reason: string,
  ): void {
    const s = p.stream;
    s.rendition = rung;
    s.bitrateBps = this.ladder().find((r) => r.name === rung)?.bitrateBps ?? 0;
    s.bands = bands;
    s.reservedBps = reservedBps;
    s.reason = reason;
    this.#applyPlaylist(p);
  }

  #applyPlaylist(p: Participant): void {
    const playing = Boolean(this.scene.streamUrl && p.stream.rendition);
    const rendition = playing ? this.#video.find((r) => r.name === p.stream.rendition) : undefined;
    p.stream.playlistUrl = playing
      ? (rendition?.playlistUrl ?? this.#d.playlistFor(this.scene.streamUrl, p.stream.rendition))
      : "";
    p.stream.mp4Url = rendition?.mp4Url ?? "";
    p.version += 1;
  }
}

/**
 * Playlist of rendition `rung` next to a master playlist: `…/<id>/master.m3u8` →
 * `…/<id>/<rung>/index.m3u8` (the layout the video pipeline writes).
 */
export function renditionPlaylist(streamUrl: string, rung: string): string {
  return streamUrl.replace(/[^/]*$/, `${encodeURIComponent(rung)}/index.m3u8`);
}

function indexOf(ladder: readonly Rung[], name: string): number {
  return ladder.findIndex((r) => r.name === name);
}

function distance(a: Vec3, b: Vec3): number {
  return Math.hypot(a.x - b.x, a.y - b.y, a.z - b.z);
}
