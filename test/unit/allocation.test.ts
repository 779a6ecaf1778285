/**
 * Resource orchestration: the coordinated allocator takes the fewest best bands that carry
 * the demand with the margin, never raises the rung beyond what fits, and the window
 * outcome measures what the link really carried; the controller logs every decision.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { AgentRegistry, Capability } from "../../server/agents/agent.ts";
import { AgentController } from "../../server/agents/controller.ts";
import { allocateCoordinated, DEFAULT_LADDER, playWindow } from "../../server/net/allocation.ts";
import type { Band, BandChannel, TrafficScenario } from "../../server/net/contracts.ts";

const channel: BandChannel[] = [
  { bandId: "dl-1", snrDb: 20, capacityBps: 30e6 },
  { bandId: "dl-2", snrDb: 25, capacityBps: 50e6 },
  { bandId: "dl-3", snrDb: 10, capacityBps: 10e6 },
  { bandId: "ul-1", snrDb: 30, capacityBps: 90e6 },
];
const downlink = new Set(["dl-1", "dl-2", "dl-3"]);
const video = Object.fromEntries(DEFAULT_LADDER.map((r) => [r.name, r.bitrateBps]));

describe("allocateCoordinated", () => {
  it("uses the fewest, best downlink bands that carry the wanted rung with the margin", () => {
    const a = allocateCoordinated({
      channel,
      downlink,
      baseDemandBps: 1e6,
      videoDemandBps: video,
      ladder: DEFAULT_LADDER,
      wantedRung: "4k",
      margin: 0.2,
    });
    assert.equal(a.rung, "4k");
    assert.deepEqual(a.bands, ["dl-2"]); // (25 + 1) / 0.8 = 32.5 Mbit/s ≤ 50
    assert.ok(Math.abs(a.reservedBps - 26e6 * 1.1) < 1, "p95 demand plus the share headroom");
  });

  it("steps the rung down until it fits, and never uses uplink bands", () => {
    const a = allocateCoordinated({
      channel,
      downlink,
      baseDemandBps: 1e6,
      videoDemandBps: video,
      ladder: DEFAULT_LADDER,
      wantedRung: "8k",
      margin: 0.2,
    });
    assert.equal(a.rung, "6k"); // 8k needs 101 Mbit/s > 90 of all downlink; 6k needs 57.5
    assert.deepEqual(a.bands, ["dl-2", "dl-1"]);
  });

  it("gives the base traffic everything and no video when nothing fits", () => {
    const poor = channel.map((b) => ({ ...b, capacityBps: b.capacityBps / 100 }));
    const a = allocateCoordinated({
      channel: poor,
      downlink,
      baseDemandBps: 5e6,
      videoDemandBps: video,
      ladder: DEFAULT_LADDER,
      wantedRung: "1080p",
      margin: 0.2,
    });
    assert.equal(a.rung, null);
    assert.equal(a.bands.length, 3);
  });

  it("plays a window: carried is bounded by capacity and share; a shortfall is a stall", () => {
    const a = {
      bands: ["dl-2"],
      capacityBps: 50e6,
      rung: "4k",
      reservedBps: 30e6,
      plannedDemandBps: 26e6,
    };
    const ok = playWindow(a, 26e6, 50e6);
    assert.equal(ok.stalled, false);
    assert.ok(
      Math.abs(ok.spectrumUtilisation - 0.52) < 1e-9 &&
        Math.abs(ok.bandwidthUtilisation - 26 / 30) < 1e-9,
    );
    const faded = playWindow(a, 26e6, 20e6);
    assert.equal(faded.stalled, true);
    assert.equal(faded.carriedBps, 20e6);
  });
});

describe("AgentController", () => {
  const bands: Band[] = ["dl-1", "dl-2", "dl-3", "ul-1"].map((id) => ({
    id,
    direction: id.startsWith("dl") ? "downlink" : "uplink",
    centerHz: 3.5e9,
    bandwidthHz: 20e6,
    subcarriers: 16,
  }));
  const traffic: TrafficScenario = { arms: 1, headsets: 3, patchRateHz: 60, videoRung: null };
  const radio = { gnb: { x: 2, y: -2, z: 2.8 }, headset: { x: 1, y: 0, z: 1.6 }, arms: [] };

  const make = (armLoss = 0) => {
    const registry = new AgentRegistry();
    registry.register({
      info: {
        id: "pgf",
        layer: "physical",
        capabilities: [Capability.ChannelPrediction],
        model: "fixed",
      },
      predict: async (env) => ({
        bands: channel.map((b) => ({
          ...b,
          capacityBps: b.capacityBps * (1 - armLoss * env.arms.length),
        })),
        inferenceMs: 1,
        source: "fixed",
      }),
    });
    registry.register({
      info: {
        id: "ngf",
        layer: "network",
        capabilities: [Capability.TrafficPrediction],
        model: "fixed",
      },
      predictDemand: async (s) => {
        const v = s.videoRung ? (video[s.videoRung] ?? 0) : 0;
        const base = 0.5e6 * s.arms * s.headsets;
        return {
          meanBps: base + v,
          p95Bps: base + v,
          perClass: [],
          inferenceMs: 1,
          source: "fixed",
        };
      },
    });
    return new AgentController({ registry, bands, logger: pino({ level: "silent" }) });
  };

  it("allocates and returns the decision with the agents consulted", async () => {
    const c = make();
    const d = await c.allocate({ radio, traffic, wantedRung: "4k" }, "request");
    assert.equal(c.allocation?.rung, "4k");
    assert.deepEqual(d.agents, ["pgf", "ngf"]);
    assert.equal(d.applied, true);
    const again = await c.allocate({ radio, traffic, wantedRung: "4k" }, "monitor");
    assert.equal(again.applied, false, "the same allocation is not re-applied");
  });

  it("evaluates adding an arm without applying it", async () => {
    const c = make(0.3);
    await c.allocate({ radio, traffic, wantedRung: "4k" }, "request");
    const arm = {
      id: "arm-2",
      base: { position: { x: 0, y: 1, z: 0.8 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
      links: [],
    };
    const d = await c.evaluateAddArm(
      { radio, traffic, wantedRung: "4k" },
      { radio: { ...radio, arms: [arm] }, traffic: { ...traffic, arms: 2 }, wantedRung: "4k" },
      "utterance",
    );
    assert.equal(d.applied, false);
    assert.match(d.summary, /adding an arm/);
    assert.equal(c.allocation?.bands.join(), "dl-2");
  });

  it("names the neighbouring rungs", () => {
    const c = make();
    assert.equal(c.neighbourRung("raise", "4k"), "6k");
    assert.equal(c.neighbourRung("raise", "8k"), "8k");
    assert.equal(c.neighbourRung("lower", "1080p"), null);
  });
});
