/**
 * Import of a deployment's own measurements (server/ml/datasets/import.ts): channel quality
 * as JSON lines and CSV with a scene descriptor (a Panda by joint values, a body by
 * capsules), line numbers in errors; traffic meter windows from a session MCAP's /traffic
 * topic and from JSON lines.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { McapWriter } from "@mcap/core";
import {
  ImportError,
  parseChannelMeasurements,
  parseScenes,
  readTrafficRecordings,
  TRAFFIC_TOPIC,
} from "../../server/ml/datasets/import.ts";
import type { RobotDescription } from "../../server/sim/robot-description.ts";
import { loadPanda } from "./support.ts";

const SCENE = {
  gnb: { x: -2.7, y: -2.7, z: 2.75 },
  arms: [
    {
      id: "panda",
      base: { position: { x: 0, y: 0, z: 0.8 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
      q: [0, -0.785, 0, -2.356, 0, 1.571, 0.785],
    },
    { id: "rack", links: [{ a: { x: 1, y: 1, z: 0 }, b: { x: 1, y: 1, z: 2 }, r: 0.3 }] },
  ],
};

describe("own-data import", () => {
  let robot: RobotDescription;
  let dir: string;
  before(async () => {
    robot = await loadPanda();
    dir = await mkdtemp(join(tmpdir(), "agenttwin-import-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("reads JSON lines with an inline scene and a scene id", () => {
    const scenes = parseScenes(JSON.stringify({ cell: SCENE }));
    const text = [
      JSON.stringify({
        headset: { x: 1, y: 0.5, z: 1.6 },
        scene: SCENE,
        bands: [{ bandId: "dl-1", capacityBps: 3e8 }],
      }),
      "",
      JSON.stringify({
        headset: { x: 1.2, y: 0.5, z: 1.6 },
        scene: "cell",
        bands: [{ bandId: "dl-2", snrDb: 20 }],
      }),
    ].join("\n");
    const m = parseChannelMeasurements(text, "jsonl", robot.kinematics, scenes);
    assert.equal(m.length, 2);
    assert.equal(m[0]?.env.arms.length, 2);
    assert.ok((m[0]?.env.arms[0]?.links.length ?? 0) >= 5, "the Panda becomes capsules");
    assert.equal(m[0]?.env.arms[1]?.links[0]?.r, 0.3);
    // Capacity from a flat SNR over the band: 40 MHz × log2(1 + 100).
    assert.ok(Math.abs((m[1]?.bands[0]?.capacityBps ?? 0) - 40e6 * Math.log2(101)) < 1);
  });

  it("reads CSV rows grouped per measurement", () => {
    const scenes = parseScenes(JSON.stringify({ cell: SCENE }));
    const csv = [
      "scene,headset_x,headset_y,headset_z,band,capacity_bps,snr_db",
      "cell,1,0.5,1.6,dl-1,300000000,",
      "cell,1,0.5,1.6,dl-2,,18",
      "cell,1.5,0.5,1.6,dl-1,250000000,17",
    ].join("\n");
    const m = parseChannelMeasurements(csv, "csv", robot.kinematics, scenes);
    assert.equal(m.length, 2);
    assert.equal(m[0]?.bands.length, 2);
    assert.equal(m[1]?.env.headset.x, 1.5);
  });

  it("names the line that does not parse", () => {
    assert.throws(
      () =>
        parseChannelMeasurements(
          `${JSON.stringify({ headset: { x: 1, y: 1, z: 1 }, scene: "nowhere", bands: [{ bandId: "dl-1", capacityBps: 1 }] })}`,
          "jsonl",
          robot.kinematics,
        ),
      (e: unknown) => e instanceof ImportError && /line 1/.test(e.message),
    );
    assert.throws(
      () => parseChannelMeasurements("{", "jsonl", robot.kinematics),
      (e: unknown) => e instanceof ImportError && /line 1: not JSON/.test(e.message),
    );
  });

  it("reads /traffic messages from MCAP and JSON lines", async () => {
    const msg = {
      scenario: { arms: 1, headsets: 2, patchRateHz: 30, videoRung: "4k" },
      windows: [
        {
          flowClass: "video_4k",
          windowS: 1,
          throughputBps: 2.5e7,
          meanPacketBytes: 1200,
          meanInterArrivalS: 0.0004,
        },
      ],
    };
    const chunks: Uint8Array[] = [];
    let pos = 0n;
    const writer = new McapWriter({
      writable: {
        position: () => pos,
        write: (b: Uint8Array) => {
          chunks.push(b.slice());
          pos += BigInt(b.length);
          return Promise.resolve();
        },
      },
    });
    await writer.start({ profile: "", library: "test" });
    const schemaId = await writer.registerSchema({
      name: "Traffic",
      encoding: "jsonschema",
      data: new TextEncoder().encode("{}"),
    });
    const channelId = await writer.registerChannel({
      topic: TRAFFIC_TOPIC,
      schemaId,
      messageEncoding: "json",
      metadata: new Map(),
    });
    const other = await writer.registerChannel({
      topic: "/events",
      schemaId,
      messageEncoding: "json",
      metadata: new Map(),
    });
    for (const [ch, body] of [
      [other, { kind: "x" }],
      [channelId, msg],
    ] as const)
      await writer.addMessage({
        channelId: ch,
        sequence: 0,
        logTime: 1n,
        publishTime: 1n,
        data: new TextEncoder().encode(JSON.stringify(body)),
      });
    await writer.end();
    await writeFile(join(dir, "a.mcap"), Buffer.concat(chunks));
    await writeFile(join(dir, "b.jsonl"), `${JSON.stringify(msg)}\n`);
    const recs = await readTrafficRecordings(dir);
    assert.equal(recs.length, 2);
    assert.equal(recs[0]?.windows[0]?.flowClass, "video_4k");
    assert.equal(recs[1]?.scenario.headsets, 2);
    await writeFile(join(dir, "c.jsonl"), `${JSON.stringify(msg)}\n{"scenario":\n`);
    await assert.rejects(
      readTrafficRecordings(dir),
      (e: unknown) => e instanceof ImportError && /c\.jsonl:2: not JSON/.test(e.message),
    );
  });

  it("reads the measured pose rate and hands share of /traffic scenarios and checks them", async () => {
    const window = {
      flowClass: "control",
      windowS: 1,
      throughputBps: 23_000,
      meanPacketBytes: 96,
      meanInterArrivalS: 1 / 30,
    };
    const line = (scenario: Record<string, unknown>) =>
      `${JSON.stringify({ scenario: { arms: 1, headsets: 4, patchRateHz: 60, ...scenario }, windows: [window] })}\n`;
    const ok = join(dir, "pose-ok");
    await mkdir(ok);
    await writeFile(join(ok, "a.jsonl"), line({ poseRateHz: 29.5, handsShare: 0 }) + line({}));
    const [measured, old] = await readTrafficRecordings(ok);
    assert.equal(measured?.scenario.poseRateHz, 29.5);
    assert.equal(measured?.scenario.handsShare, 0);
    // Recordings from before the features: absent, so the defaults apply.
    assert.equal(old?.scenario.poseRateHz, undefined);
    assert.equal(old?.scenario.handsShare, undefined);
    for (const [bad, why] of [
      [{ poseRateHz: 0 }, /a\.jsonl:1: scenario\.poseRateHz: poseRateHz must be in \(0, 240\] Hz/],
      [{ poseRateHz: 300 }, /scenario\.poseRateHz: poseRateHz must be in \(0, 240\] Hz/],
      [{ poseRateHz: "30" }, /scenario\.poseRateHz/],
      [{ handsShare: -0.1 }, /scenario\.handsShare: handsShare must be in \[0, 1\]/],
      [{ handsShare: 1.2 }, /scenario\.handsShare: handsShare must be in \[0, 1\]/],
    ] as const) {
      const d = await mkdtemp(join(dir, "pose-bad-"));
      await writeFile(join(d, "a.jsonl"), line(bad));
      await assert.rejects(
        readTrafficRecordings(d),
        (e: unknown) => e instanceof ImportError && why.test(e.message),
        JSON.stringify(bad),
      );
    }
  });
});
