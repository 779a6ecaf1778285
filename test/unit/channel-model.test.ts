/**
 * The radio channel model (server/net/channel-model.ts, bands.ts, arm-geometry.ts,
 * environments.ts): free-space path loss grows with distance and frequency exactly as Friis
 * says; an arm between the gNB and the headset drops the mean SNR of every band by more than
 * 5 dB; a second arm changes the channel; the model is deterministic per seed; capacity of a
 * flat channel is Δf·K·log2(1 + SNR); the arm's capsules follow its base pose; the
 * environment generator is deterministic and its held-out set differs from training; the
 * feature vector has a fixed length and finite entries.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { armGeometry } from "../../server/net/arm-geometry.ts";
import {
  DEFAULT_BANDS,
  SPEED_OF_LIGHT,
  subcarrierSpacingHz,
  unitGainSnrDb,
} from "../../server/net/bands.ts";
import {
  capacityFromSnr,
  computeChannel,
  FREE_SPACE_ROOM,
  measureChannel,
  segmentSegmentDistance2,
} from "../../server/net/channel-model.ts";
import type { ArmGeometry, Band, RadioEnvironment } from "../../server/net/contracts.ts";
import {
  encodeEnvironment,
  ENV_FEATURE_NAMES,
  ENV_FEATURES,
  generateEnvironments,
  GNB_POSITION,
  HELD_OUT_SEED,
  TRAIN_SEED,
} from "../../server/net/environments.ts";
import type { RobotDescription } from "../../server/sim/robot-description.ts";
import { loadPanda } from "./support.ts";

const UPRIGHT = { x: 0, y: 0, z: 0, w: 1 };

/** A headset on the line from the gNB through `p`, continued down to height `z`. */
function behind(p: { x: number; y: number; z: number }, z: number) {
  const g = GNB_POSITION;
  const s = (g.z - z) / (g.z - p.z);
  return { x: g.x + (p.x - g.x) * s, y: g.y + (p.y - g.y) * s, z };
}

describe("channel model", () => {
  let robot: RobotDescription;
  let arm: ArmGeometry;
  before(async () => {
    robot = await loadPanda();
    arm = armGeometry(robot.kinematics, robot.home, robot.basePose, "panda");
  });

  it("has 5 uplink and 5 downlink bands that do not overlap", () => {
    assert.equal(DEFAULT_BANDS.filter((b) => b.direction === "uplink").length, 5);
    assert.equal(DEFAULT_BANDS.filter((b) => b.direction === "downlink").length, 5);
    const spans = [...DEFAULT_BANDS]
      .map((b) => [b.centerHz - b.bandwidthHz / 2, b.centerHz + b.bandwidthHz / 2] as const)
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++)
      assert.ok((spans[i]?.[0] ?? 0) >= (spans[i - 1]?.[1] ?? 0), "bands overlap");
  });

  it("free-space path loss grows with distance and frequency (Friis)", () => {
    const band = (hz: number): Band => ({
      id: `b${hz}`,
      direction: "downlink",
      centerHz: hz,
      bandwidthHz: 40e6,
      subcarriers: 16,
    });
    const bands = [band(3.5e9), band(6e9)];
    // Headsets straight along the gNB's boresight so the antenna pattern is the same.
    const aim = FREE_SPACE_ROOM.gnbAimAt;
    const g = GNB_POSITION;
    const dir = { x: aim.x - g.x, y: aim.y - g.y, z: aim.z - g.z };
    const n = Math.hypot(dir.x, dir.y, dir.z);
    const at = (d: number) => ({
      x: g.x + (dir.x / n) * d,
      y: g.y + (dir.y / n) * d,
      z: g.z + (dir.z / n) * d,
    });
    const snr = (d: number) =>
      computeChannel({ gnb: g, headset: at(d), arms: [] }, bands, {
        seed: 1,
        fading: false,
        room: FREE_SPACE_ROOM,
      });
    const near = snr(2);
    const far = snr(4);
    for (const [i, b] of bands.entries()) {
      const fspl = 20 * Math.log10((4 * Math.PI * 2 * b.centerHz) / SPEED_OF_LIGHT);
      const expected = unitGainSnrDb(b, FREE_SPACE_ROOM.interferenceDb) - fspl;
      assert.ok(Math.abs((near[i]?.snrDb ?? 0) - expected) < 1e-6, `Friis at 2 m, ${b.id}`);
      // Doubling the distance costs 6.02 dB.
      assert.ok(Math.abs((near[i]?.snrDb ?? 0) - (far[i]?.snrDb ?? 0) - 6.0206) < 1e-3);
    }
    // 3.5 → 6 GHz costs 20·log10(6/3.5) = 4.68 dB at any distance.
    assert.ok(
      Math.abs((near[0]?.snrDb ?? 0) - (near[1]?.snrDb ?? 0) - 20 * Math.log10(6 / 3.5)) < 1e-6,
    );
    // In the default room too, the mean SNR falls with distance (averaged over fading).
    const room = (d: number) =>
      measureChannel({ gnb: g, headset: at(d), arms: [] }, DEFAULT_BANDS, {
        seed: 3,
        snapshots: 16,
      });
    const r2 = room(2.5);
    const r5 = room(5);
    DEFAULT_BANDS.forEach((b, i) =>
      assert.ok((r2[i]?.snrDb ?? 0) > (r5[i]?.snrDb ?? 0) + 2, `${b.id} falls with distance`),
    );
  });

  it("blockage by an arm between the gNB and the headset drops every band by more than 5 dB", () => {
    // Put the head behind the arm's upper arm (link 3 of the home pose), as seen from the gNB.
    const l = arm.links[3] as ArmGeometry["links"][number];
    const mid = { x: (l.a.x + l.b.x) / 2, y: (l.a.y + l.b.y) / 2, z: (l.a.z + l.b.z) / 2 };
    const headset = behind(mid, 1.2);
    const open = measureChannel({ gnb: GNB_POSITION, headset, arms: [] }, DEFAULT_BANDS, {
      seed: 5,
      snapshots: 32,
    });
    const blocked = measureChannel({ gnb: GNB_POSITION, headset, arms: [arm] }, DEFAULT_BANDS, {
      seed: 5,
      snapshots: 32,
    });
    DEFAULT_BANDS.forEach((b, i) => {
      const drop = (open[i]?.snrDb ?? 0) - (blocked[i]?.snrDb ?? 0);
      assert.ok(drop > 5, `${b.id}: SNR drop ${drop.toFixed(1)} dB`);
      assert.ok((blocked[i]?.capacityBps ?? 0) < (open[i]?.capacityBps ?? 0));
    });
    // In free space, without fading, the LoS through the link's axis loses A_max(f) ≈ 23–26 dB;
    // the link's own scattered path (≈ 19 dB down) keeps the total drop above 10 dB.
    const los = (arms: ArmGeometry[]) =>
      computeChannel({ gnb: GNB_POSITION, headset, arms }, DEFAULT_BANDS, {
        seed: 1,
        fading: false,
        room: FREE_SPACE_ROOM,
      });
    const a = los([]);
    const b = los([{ ...arm, links: [l] }]);
    DEFAULT_BANDS.forEach((band, i) =>
      assert.ok((a[i]?.snrDb ?? 0) - (b[i]?.snrDb ?? 0) > 10, `${band.id} LoS blockage`),
    );
  });

  it("a second arm in the line changes the channel", () => {
    const arm2 = armGeometry(
      robot.kinematics,
      robot.home,
      { position: { x: 0.1, y: -1.2, z: 0.8 }, orientation: UPRIGHT },
      "arm-2",
    );
    const headset = { x: 1.0, y: -2.0, z: 1.5 };
    const one = computeChannel({ gnb: GNB_POSITION, headset, arms: [arm] }, DEFAULT_BANDS, {
      seed: 1,
      fading: false,
    });
    const two = computeChannel({ gnb: GNB_POSITION, headset, arms: [arm, arm2] }, DEFAULT_BANDS, {
      seed: 1,
      fading: false,
    });
    const changes = one.map((c, i) => Math.abs(c.snrDb - (two[i]?.snrDb ?? 0)));
    assert.ok(Math.max(...changes) > 1, `largest change ${Math.max(...changes).toFixed(2)} dB`);
    assert.ok(changes.filter((c) => c > 0.5).length >= 3, "several bands change");
  });

  it("is deterministic per seed", () => {
    const env: RadioEnvironment = {
      gnb: GNB_POSITION,
      headset: { x: 1.2, y: 0.8, z: 1.6 },
      arms: [arm],
    };
    const a = computeChannel(env, DEFAULT_BANDS, { seed: 42, fading: true });
    const b = computeChannel(env, DEFAULT_BANDS, { seed: 42, fading: true });
    const c = computeChannel(env, DEFAULT_BANDS, { seed: 43, fading: true });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    // Without fading the seed does not matter.
    assert.deepEqual(
      computeChannel(env, DEFAULT_BANDS, { seed: 1, fading: false }),
      computeChannel(env, DEFAULT_BANDS, { seed: 2, fading: false }),
    );
    for (const ch of a) {
      assert.equal(ch.subcarrierSnrDb?.length, 16);
      assert.ok(Number.isFinite(ch.snrDb) && ch.capacityBps > 0);
    }
  });

  it("capacity of a flat channel is Δf·K·log2(1 + SNR)", () => {
    const env = { gnb: GNB_POSITION, headset: { x: 1, y: 1, z: 1.6 }, arms: [] };
    const ch = computeChannel(env, DEFAULT_BANDS, {
      seed: 1,
      fading: false,
      room: FREE_SPACE_ROOM,
    });
    DEFAULT_BANDS.forEach((b, i) => {
      const c = ch[i];
      assert.ok(c?.subcarrierSnrDb);
      const first = c.subcarrierSnrDb[0] ?? 0;
      for (const v of c.subcarrierSnrDb) assert.ok(Math.abs(v - first) < 1e-9, "flat");
      const expected = subcarrierSpacingHz(b) * b.subcarriers * Math.log2(1 + 10 ** (first / 10));
      assert.ok(Math.abs(c.capacityBps - expected) / expected < 1e-12);
      assert.ok(Math.abs(c.snrDb - first) < 1e-9);
    });
    assert.equal(capacityFromSnr([0, 0], 2e6), 2e6);
  });

  it("segment distances and arm capsules follow the geometry", () => {
    const d2 = segmentSegmentDistance2(0, 0, 0, 1, 0, 0, 0.5, 1, -1, 0.5, 1, 1);
    assert.ok(Math.abs(d2 - 1) < 1e-12);
    assert.ok(Math.abs(segmentSegmentDistance2(0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0) - 1) < 1e-12);
    const moved = armGeometry(
      robot.kinematics,
      robot.home,
      { position: { x: 1, y: 2, z: 0.8 }, orientation: UPRIGHT },
      "moved",
    );
    assert.equal(moved.links.length, arm.links.length);
    assert.ok(arm.links.length >= 5);
    moved.links.forEach((l, i) => {
      const o = arm.links[i] as ArmGeometry["links"][number];
      assert.ok(Math.abs(l.a.x - o.a.x - 1) < 1e-9 && Math.abs(l.a.y - o.a.y - 2) < 1e-9);
      assert.ok(l.r > 0.03 && l.r < 0.1);
    });
    assert.deepEqual(arm.links[0]?.a, robot.basePose.position);
  });

  it("generates seeded environments and encodes them into a fixed-length vector", () => {
    const a = generateEnvironments(robot.kinematics, 30, { seed: TRAIN_SEED });
    const b = generateEnvironments(robot.kinematics, 30, { seed: TRAIN_SEED });
    const held = generateEnvironments(robot.kinematics, 30, { seed: HELD_OUT_SEED });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a[0]?.headset, held[0]?.headset);
    assert.equal(ENV_FEATURE_NAMES.length, ENV_FEATURES);
    for (const env of [...a, ...held]) {
      assert.ok(env.arms.length >= 1 && env.arms.length <= 3);
      assert.ok(env.headset.z >= 1.2 && env.headset.z <= 1.9);
      assert.deepEqual(env.arms[0]?.base.position, { x: 0, y: 0, z: 0.8 });
      const f = encodeEnvironment(env);
      assert.equal(f.length, ENV_FEATURES);
      for (const v of f) assert.ok(Number.isFinite(v) && Math.abs(v) < 20);
    }
    // Environment i of a set does not depend on how many were generated before it.
    const tail = generateEnvironments(robot.kinematics, 5, { seed: TRAIN_SEED, start: 25 });
    assert.deepEqual(tail, a.slice(25));
  });
});
