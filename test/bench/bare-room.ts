/**
 * The load bench's bare room: the minimum a shared twin must do, written straight on
 * Colyseus so the bench can put the `digital_twin` room's cost beside it. Every 60 Hz tick it
 * changes all seven joints of an arm (joint 1 integrates the operator's jog velocity, the
 * others sway a little), stamps them with the wall clock and sends one patch; every
 * headset's head pose is relayed through a map. No auth, no validation beyond types, no
 * agents, no recording, no physics: what is left is Colyseus, the schema encoder and the
 * websockets.
 */
import { Room, type Client } from "@colyseus/core";
import { PoseState } from "../../shared/schema/twin-state.ts";
import { BARE_JOINTS, BareJoint, BareState } from "./bare-state.ts";

export const BARE_ROOM = "bare";

/** Messages the bare rooms of this process took (read by bare-server.ts's `/bench/stats`). */
export const bareCounters = { poses: 0, rejected: 0 };

/** Wall-clock time with sub-millisecond resolution, ms since the Unix epoch. */
const wallMs = () => performance.timeOrigin + performance.now();

interface Vec {
  x: number;
  y: number;
  z: number;
}
interface HeadPose {
  position: Vec;
  orientation: Vec & { w: number };
}

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isVec = (v: unknown): v is Vec =>
  typeof v === "object" &&
  v !== null &&
  isNum((v as Vec).x) &&
  isNum((v as Vec).y) &&
  isNum((v as Vec).z);

function headOf(m: unknown): HeadPose | undefined {
  const head = (m as { head?: unknown } | null)?.head as Partial<HeadPose> | undefined;
  if (!head || !isVec(head.position) || !isVec(head.orientation) || !isNum(head.orientation.w))
    return undefined;
  return head as HeadPose;
}

export class BareRoom extends Room<{ state: BareState }> {
  // Any caller may join: the bare room measures relaying, not auth.
  static override onAuth(): Promise<unknown> {
    return Promise.resolve(true);
  }

  override state = new BareState();
  override maxClients = 1000;
  override maxMessagesPerSecond = 1000;

  #jogVelocity = 0;
  #jogUntilMs = 0;
  #last = performance.now();
  #t0 = performance.now();

  override onCreate(options?: { patchRateHz?: number }): void {
    for (let i = 0; i < BARE_JOINTS; i++) this.state.robot.joints.push(new BareJoint());
    this.patchRate = null;
    this.setSimulationInterval(() => this.tick(), 1000 / (options?.patchRateHz ?? 60));
    this.onMessage("pose", (client: Client, m: unknown) => {
      const head = headOf(m);
      const pose = this.state.heads.get(client.sessionId);
      if (!head || !pose) {
        bareCounters.rejected += 1;
        return;
      }
      bareCounters.poses += 1;
      const p = pose.position;
      const q = pose.orientation;
      p.x = head.position.x;
      p.y = head.position.y;
      p.z = head.position.z;
      q.x = head.orientation.x;
      q.y = head.orientation.y;
      q.z = head.orientation.z;
      q.w = head.orientation.w;
    });
    this.onMessage("jog", (_client: Client, m: unknown) => {
      const { velocity, deadmanMs } = (m ?? {}) as { velocity?: unknown; deadmanMs?: unknown };
      if (!isNum(velocity)) return;
      this.#jogVelocity = velocity;
      this.#jogUntilMs = performance.now() + (isNum(deadmanMs) ? deadmanMs : 300);
    });
    this.onMessage("*", () => undefined);
  }

  tick(): void {
    const now = performance.now();
    const dt = (now - this.#last) / 1000;
    this.#last = now;
    const tS = (now - this.#t0) / 1000;
    const jog = now < this.#jogUntilMs ? this.#jogVelocity : 0;
    const joints = this.state.robot.joints;
    for (let i = 0; i < joints.length; i++) {
      const j = joints[i]!;
      if (i === 0) {
        j.position += jog * dt;
        j.velocity = jog;
      } else {
        // Servo noise: every joint changes every tick, as the bare room does.
        const v = 0.001 * Math.cos(2 * Math.PI * 0.5 * tS + i);
        j.position = 0.01 * Math.sin(2 * Math.PI * 0.5 * tS + i);
        j.velocity = v;
      }
    }
    this.state.robot.stamp = wallMs();
    this.broadcastPatch();
  }

  override onJoin(client: Client): void {
    this.state.heads.set(client.sessionId, new PoseState());
  }

  override onLeave(client: Client): void {
    this.state.heads.delete(client.sessionId);
  }
}
