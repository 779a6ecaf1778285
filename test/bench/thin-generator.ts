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
import {
  joinEach,
  placeOf,
  type Poser,
  quietSdk,
  startPoseStream,
  wallMs,
  withinMs,
} from "./load-common.ts";

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

interface Headset extends Poser {
  leave(): Promise<unknown>;
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

  const joinThin = async (h: GenHeadset) => {
    const c = await thinJoin(h.base, "joinById", h.roomId, h.token);
    c.onClose = (code) => {
      if (!leaving) count(`thin closed ${code}`);
    };
    thin.push(c);
    headsets.push({ send: (t, p) => c.send(t, p), leave: () => c.leave(), ...placeOf(h.index) });
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
      ...placeOf(h.index),
    });
  };

  process.on("message", (m: ToGenerator) => {
    void (async () => {
      if (m.cmd === "join") {
        const joins = await joinEach(
          m.headsets,
          { concurrency: m.concurrency },
          (h) => (h.sampler ? joinSampler(h) : joinThin(h)),
          count,
        );
        reply({ kind: "joined", ...joins });
      } else if (m.cmd === "poses") {
        if (m.hz > 0 && !poseTimer) {
          poseTimer = startPoseStream(headsets, m.hz, () => {
            if (recording) posesSent += 1;
          });
        }
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
        await Promise.allSettled(headsets.map((h) => withinMs(h.leave(), 2000)));
        reply({ kind: "left" });
        process.exit(0);
      }
    })();
  });
}

if (process.env.AGENTTWIN_THIN_GENERATOR === "1") await generator();
