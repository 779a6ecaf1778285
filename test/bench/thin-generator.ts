/**
 * A load-generator child process of `npm run bench:load` (forked by load-thin.ts with
 * `--import tsx`; commands over IPC). It plays headsets in two ways:
 *  - thin: {@link ThinClient}s on raw websockets — hold a seat, send the head pose at the
 *    pose rate, count bytes and patches, decode nothing;
 *  - sampler: full `@colyseus/sdk` clients that decode the state (`TwinState` or the bare
 *    room's `BareState`) and record change→client latency: receive time − `robot.stamp`
 *    (both the server's and this process's wall clock, same machine, so no offset).
 * The bench runs samplers in a process of their own, so their latency is not the thin
 * clients' queueing.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Client, type Room } from "@colyseus/sdk";
import { TwinState } from "../../shared/schema/twin-state.ts";
import { BareState } from "./bare-state.ts";
import { thinJoin, type ThinClient } from "./thin-client.ts";

/** One headset to play. */
export interface GenHeadset {
  /** http://host:port of the server. */
  base: string;
  roomId: string;
  token: string;
  /** Decode state with the SDK and sample latency (else a thin client). */
  sampler: boolean;
  /** Which state class a sampler decodes. */
  state: "twin" | "bare";
  /** Seat index in the whole run: spreads standing spots and pose phases. */
  index: number;
}

export type ToGenerator =
  | { cmd: "join"; headsets: GenHeadset[]; concurrency: number }
  | { cmd: "poses"; hz: number }
  | { cmd: "record"; on: boolean }
  | { cmd: "report" }
  | { cmd: "leave" };

export interface GeneratorReport {
  thin: number;
  samplers: number;
  /** Thin clients: bytes, patches received while recording. */
  bytes: number;
  patches: number;
  /** Samplers: latency samples (one per distinct stamp), ms. */
  latencyMs: Float64Array;
  /** Samplers: distinct stamps seen while recording. */
  updates: number;
  posesSent: number;
  errors: Record<string, number>;
  cpuS: number;
  eventLoopDelayP99Ms: number;
}

export type FromGenerator =
  | { kind: "joined"; joined: number; failed: number; firstError?: string }
  | ({ kind: "report" } & GeneratorReport)
  | { kind: "left" };

/** Wall-clock time with sub-millisecond resolution, ms since the Unix epoch. */
const wallMs = () => performance.timeOrigin + performance.now();

/** A head pose swaying a few centimetres and degrees around `base`, `world` frame. */
export function swayingPose(base: { x: number; y: number }, tS: number, phase: number) {
  const s = Math.sin(2 * Math.PI * 0.5 * tS + phase);
  const yaw = 0.15 * Math.sin(2 * Math.PI * 0.2 * tS + phase);
  return {
    head: {
      position: { x: base.x + 0.03 * s, y: base.y + 0.02 * s, z: 1.6 + 0.01 * s },
      orientation: { x: 0, y: 0, z: Math.sin(yaw / 2), w: Math.cos(yaw / 2) },
    },
  };
}

/** Silences the SDK's per-connection chatter; the generator counts those events itself. */
function quietSdk(): void {
  for (const method of ["warn", "info"] as const) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      const text = String(args[0]);
      if (
        text.startsWith("Room connection was closed") ||
        text.startsWith("[Colyseus reconnection]")
      )
        return;
      original(...args);
    };
  }
}

interface Headset {
  send(type: string, payload: unknown): void;
  leave(): Promise<unknown>;
  base: { x: number; y: number };
  phase: number;
  next: number;
}

async function generator(): Promise<void> {
  const headsets: Headset[] = [];
  const thin: ThinClient[] = [];
  const latency: number[] = [];
  const errors: Record<string, number> = {};
  const count = (what: string) => (errors[what] = (errors[what] ?? 0) + 1);
  let samplers = 0;
  let recording = false;
  let leaving = false;
  let updates = 0;
  let posesSent = 0;
  let base0 = { bytes: 0, patches: 0, errorReplies: 0 };
  let base1 = base0;
  let cpu0 = process.cpuUsage();
  let cpuWindow = { user: 0, system: 0 };
  const eld = monitorEventLoopDelay({ resolution: 5 });
  let poseTimer: NodeJS.Timeout | undefined;
  const reply = (m: FromGenerator) => process.send?.(m);
  process.on("disconnect", () => process.exit(0));
  quietSdk();

  const thinTotals = () => {
    const t = { bytes: 0, patches: 0, errorReplies: 0 };
    for (const c of thin) {
      t.bytes += c.counters.bytes;
      t.patches += c.counters.patches;
      t.errorReplies += c.counters.errorReplies;
    }
    return t;
  };

  const place = (h: GenHeadset) => {
    const angle = (h.index * 2.399) % (2 * Math.PI);
    return { base: { x: 1.5 * Math.cos(angle), y: 1.5 * Math.sin(angle) }, phase: angle, next: 0 };
  };

  const joinThin = async (h: GenHeadset) => {
    const c = await thinJoin(h.base, "joinById", h.roomId, h.token);
    c.onClose = (code) => {
      if (!leaving) count(`thin closed ${code}`);
    };
    thin.push(c);
    headsets.push({ send: (t, p) => c.send(t, p), leave: () => c.leave(), ...place(h) });
  };

  const joinSampler = async (h: GenHeadset) => {
    const client = new Client(h.base);
    client.auth.token = h.token;
    const room: Room<unknown, { robot: { stamp: number } }> =
      h.state === "twin"
        ? await client.joinById(h.roomId, {}, TwinState)
        : await client.joinById(h.roomId, {}, BareState);
    samplers += 1;
    let last = 0;
    room.onStateChange((s) => {
      const stamp = s.robot.stamp;
      if (!recording || stamp === last) return;
      last = stamp;
      updates += 1;
      latency.push(wallMs() - stamp);
    });
    room.onMessage("*", (type) => {
      if (type === "error" && recording) count("sampler error replies");
    });
    room.onDrop(() => count("sampler drops"));
    room.onLeave(() => {
      if (!leaving) count("sampler unexpected leaves");
    });
    headsets.push({
      send: (t, p) => room.send(t, p),
      leave: () => room.leave(true),
      ...place(h),
    });
  };

  /** One timer for all headsets: each sends when its own period comes round (not in step). */
  const startPoses = (hz: number) => {
    if (hz <= 0 || poseTimer) return;
    const period = 1000 / hz;
    const t0 = performance.now();
    headsets.forEach((p, i) => (p.next = t0 + (period * i) / headsets.length));
    poseTimer = setInterval(() => {
      const now = performance.now();
      const tS = now / 1000;
      for (const p of headsets) {
        if (now < p.next) continue;
        p.next += period;
        if (p.next < now) p.next = now + period; // fell behind: skip, as a headset would
        p.send("pose", swayingPose(p.base, tS, p.phase));
        if (recording) posesSent += 1;
      }
    }, 2);
  };

  process.on("message", (m: ToGenerator) => {
    void (async () => {
      if (m.cmd === "join") {
        let joined = 0;
        let failed = 0;
        let firstError: string | undefined;
        const queue = [...m.headsets];
        const worker = async () => {
          for (let h = queue.shift(); h; h = queue.shift()) {
            for (let attempt = 1; ; attempt++) {
              try {
                await (h.sampler ? joinSampler(h) : joinThin(h));
                joined += 1;
                break;
              } catch (err) {
                if (attempt < 3) {
                  count("join retries");
                  await new Promise((r) => setTimeout(r, 500 * attempt));
                  continue;
                }
                failed += 1;
                count("failed joins");
                firstError ??= err instanceof Error ? err.message : String(err);
                break;
              }
            }
          }
        };
        await Promise.all(Array.from({ length: m.concurrency }, worker));
        reply({ kind: "joined", joined, failed, ...(firstError && { firstError }) });
      } else if (m.cmd === "poses") {
        startPoses(m.hz);
      } else if (m.cmd === "record") {
        recording = m.on;
        if (m.on) {
          cpu0 = process.cpuUsage();
          base0 = thinTotals();
          latency.length = 0;
          updates = 0;
          posesSent = 0;
          eld.reset();
          eld.enable();
        } else {
          // The window ends here, not at "report".
          eld.disable();
          base1 = thinTotals();
          cpuWindow = process.cpuUsage(cpu0);
        }
      } else if (m.cmd === "report") {
        const cpu = cpuWindow;
        const t = base1;
        if (t.errorReplies > base0.errorReplies)
          errors["thin error replies"] = t.errorReplies - base0.errorReplies;
        reply({
          kind: "report",
          thin: thin.length,
          samplers,
          bytes: t.bytes - base0.bytes,
          patches: t.patches - base0.patches,
          latencyMs: Float64Array.from(latency),
          updates,
          posesSent,
          errors,
          cpuS: (cpu.user + cpu.system) / 1e6,
          eventLoopDelayP99Ms: eld.percentile(99) / 1e6,
        });
      } else {
        leaving = true;
        clearInterval(poseTimer);
        await Promise.allSettled(
          headsets.map((h) =>
            Promise.race([h.leave(), new Promise((r) => setTimeout(r, 2000).unref())]),
          ),
        );
        reply({ kind: "left" });
        process.exit(0);
      }
    })();
  });
}

if (process.env.AGENTTWIN_THIN_GENERATOR === "1") await generator();
