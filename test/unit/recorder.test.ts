/**
 * Session recording: a synthetic session written through SessionRecorder and read back
 * with both MCAP readers (indexed, through the summary; streaming, record by record), plus
 * the limits: joint-state rate, file size, queue bound, unwritable folders, close failures.
 */
import assert from "node:assert/strict";
import { mkdtemp, open, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { McapIndexedReader, McapStreamReader, type McapTypes } from "@mcap/core";
import { pino, type Logger } from "pino";
import { readTrafficRecordings } from "../../server/ml/datasets/import.ts";
import { TrafficMeter } from "../../server/net/traffic-meter.ts";
import { RecordingError } from "../../server/store/errors.ts";
import { FileHandleReadable } from "../../server/store/file-io.ts";
import { RecordingTopic } from "../../server/store/recording-schemas.ts";
import { recordingBaseName, RECORDING_NAME } from "../../server/store/recording-writer.ts";
import { SessionRecorder } from "../../server/store/session-recorder.ts";

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
const JOINTS = Array.from({ length: 7 }, (_, i) => `panda_joint${i + 1}`);
const decoder = new TextDecoder();

/** A pino logger whose JSON lines land in `lines`. */
function captureLogger(): { logger: Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  return { logger: pino({ level: "debug" }, stream), lines };
}

interface ReadBack {
  header: McapTypes.Header;
  reader: McapIndexedReader;
  /** topic → channel */
  channels: Map<string, McapTypes.Channel>;
  schemas: Map<number, McapTypes.Schema>;
  messages: {
    topic: string;
    logTime: bigint;
    publishTime: bigint;
    sequence: number;
    json: unknown;
  }[];
}

async function readIndexed(file: string): Promise<ReadBack> {
  const handle = await open(file, "r");
  try {
    const reader = await McapIndexedReader.Initialize({ readable: new FileHandleReadable(handle) });
    const channels = new Map([...reader.channelsById.values()].map((c) => [c.topic, c]));
    const messages: ReadBack["messages"] = [];
    for await (const m of reader.readMessages()) {
      messages.push({
        topic: reader.channelsById.get(m.channelId)!.topic,
        logTime: m.logTime,
        publishTime: m.publishTime,
        sequence: m.sequence,
        json: JSON.parse(decoder.decode(m.data)),
      });
    }
    return {
      header: reader.header,
      reader,
      channels,
      schemas: new Map(reader.schemasById),
      messages,
    };
  } finally {
    await handle.close();
  }
}

/** Every record of the file, parsed as a stream (no index, no seeking). */
async function readStream(file: string): Promise<{ records: McapTypes.TypedMcapRecord[] }> {
  const reader = new McapStreamReader();
  reader.append(await readFile(file));
  const records: McapTypes.TypedMcapRecord[] = [];
  for (let r; (r = reader.nextRecord());) records.push(r);
  assert.ok(reader.done(), "stream reader reached the footer");
  return { records };
}

type Schema = Record<string, unknown>;

/** Foxglove's JSON Schema reader rejects anything but these shapes (see recording-schemas.ts). */
function assertFoxgloveReadable(schema: Schema, path: string): void {
  assert.equal(schema.type, "object", `${path} is an object`);
  const props = schema.properties as Record<string, Schema> | undefined;
  assert.ok(props && typeof props === "object", `${path} has properties`);
  for (const [key, field] of Object.entries(props)) {
    const p = `${path}.${key}`;
    if (field.type === "object") assertFoxgloveReadable(field, p);
    else if (field.type === "array") {
      const items = field.items as Schema;
      assert.ok(
        ["boolean", "string", "number", "integer", "object"].includes(String(items.type)),
        p,
      );
      if (items.type === "object") assertFoxgloveReadable(items, `${p}[]`);
    } else assert.ok(["boolean", "string", "number", "integer"].includes(String(field.type)), p);
  }
}

/** Validates `value` against the subset of JSON Schema the recording schemas use. */
function validate(value: unknown, schema: Schema, path = "$"): void {
  switch (schema.type) {
    case "object": {
      assert.ok(value !== null && typeof value === "object" && !Array.isArray(value), path);
      const obj = value as Record<string, unknown>;
      for (const key of (schema.required as string[] | undefined) ?? []) {
        assert.ok(key in obj, `${path}.${key} present`);
      }
      const props = schema.properties as Record<string, Schema>;
      for (const [key, sub] of Object.entries(props)) {
        if (key in obj) validate(obj[key], sub, `${path}.${key}`);
      }
      if (schema.additionalProperties !== true) {
        for (const key of Object.keys(obj)) assert.ok(key in props, `${path}.${key} declared`);
      }
      return;
    }
    case "array":
      assert.ok(Array.isArray(value), path);
      (value as unknown[]).forEach((v, i) => validate(v, schema.items as Schema, `${path}[${i}]`));
      return;
    case "integer":
      assert.ok(Number.isInteger(value), `${path} integer`);
      return;
    case "number":
      assert.equal(typeof value, "number", path);
      return;
    case "string":
      assert.equal(typeof value, "string", path);
      if (Array.isArray(schema.enum)) assert.ok(schema.enum.includes(value), `${path} in enum`);
      return;
    default:
      assert.fail(`${path}: unexpected schema type ${String(schema.type)}`);
  }
}

const trajectory = {
  jointNames: JOINTS,
  duration: 1.5,
  points: [0, 0.5, 1.5].map((t) => ({
    timeFromStart: t,
    positions: JOINTS.map((_, j) => t * (j + 1) * 0.1),
    velocities: JOINTS.map(() => 0),
    accelerations: JOINTS.map(() => 0),
  })),
};

describe("SessionRecorder", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "agenttwin-rec-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("records a session that both MCAP readers read back, channel by channel", async () => {
    const { logger } = captureLogger();
    const rec = await SessionRecorder.open({
      dir,
      sessionName: "cell A/room:1",
      maxBytes: 64 * 1024 * 1024,
      jointHz: 100,
      logger,
      now: () => T0,
    });
    assert.equal(basename(rec.file), "cell_A_room_1-20250102T030405.678Z.mcap");
    assert.match(basename(rec.file), RECORDING_NAME);
    assert.ok((await readdir(dir)).includes(`${basename(rec.file)}.part`), "written as .part");

    // 1 s of joint states at 1 kHz through one reused buffer, as a controller would.
    const pos = new Float64Array(7);
    const vel = new Float64Array(7);
    for (let i = 0; i < 1000; i++) {
      pos.fill(i / 1000);
      vel.fill(1);
      rec.jointState(T0 + i, JOINTS, pos, vel);
    }
    const base = { sessionId: "s1", userId: "ann", role: "operator" };
    rec.command(T0 + 100, {
      ...base,
      type: "goal",
      body: { goal: { kind: "named", name: "ready" } },
    });
    rec.command(T0 + 200, { ...base, type: "plan", body: {} });
    rec.command(T0 + 300, { ...base, type: "stop", body: undefined });
    rec.rejection(T0 + 150, {
      sessionId: "s2",
      type: "approve",
      code: "forbidden",
      message: "observers cannot approve",
    });
    const plan = {
      id: "plan-1",
      status: "proposed",
      reason: "",
      requestedBy: "ann",
      approvedBy: "",
      trajectory: null as typeof trajectory | null,
    };
    rec.plan(T0 + 200, plan);
    plan.status = "validated";
    plan.trajectory = trajectory;
    rec.plan(T0 + 210, plan);
    rec.plan(T0 + 211, plan); // nothing changed: not recorded again
    plan.status = "approved";
    plan.approvedBy = "bob";
    rec.plan(T0 + 400, plan);
    plan.status = "executing";
    rec.plan(T0 + 401, plan);
    plan.status = "succeeded";
    rec.plan(T0 + 900, plan);
    rec.event(T0 + 500, { level: "warn", message: "link down", data: { link: "down" } });
    rec.decision(T0 + 600, {
      agent: "traffic",
      inputs: { bandwidthMbps: 40 },
      outputs: ["1080p"], // not an object: wrapped
    });
    // A stamp from a source behind the others: log time stays monotonic, payload keeps it.
    rec.event(T0 + 50, { level: "info", message: "late" });

    await rec.close();
    const files = await readdir(dir);
    assert.ok(files.includes(basename(rec.file)), "renamed to .mcap");
    assert.ok(!files.some((f) => f.endsWith(".part")), "no .part left");

    const back = await readIndexed(rec.file);
    assert.equal(back.header.profile, "");
    assert.equal(back.header.library, "agenttwin");
    assert.deepEqual([...back.channels.keys()].sort(), [
      "/commands",
      "/decisions",
      "/events",
      "/joint_states",
      "/plans",
      "/rejections",
      "/traffic",
    ]);
    for (const ch of back.channels.values()) {
      assert.equal(ch.messageEncoding, "json");
      const schema = back.schemas.get(ch.schemaId);
      assert.ok(schema, `schema of ${ch.topic}`);
      assert.equal(schema.encoding, "jsonschema");
      assertFoxgloveReadable(JSON.parse(decoder.decode(schema.data)) as Schema, ch.topic);
    }
    assert.equal(
      back.schemas.get(back.channels.get("/joint_states")!.schemaId)!.name,
      "sensor_msgs/JointState",
    );

    const byTopic = (t: string) => back.messages.filter((m) => m.topic === t);
    const joints = byTopic(RecordingTopic.JointStates);
    assert.ok(
      joints.length >= 99 && joints.length <= 101,
      `~100 joint states, got ${joints.length}`,
    );
    assert.equal(byTopic("/commands").length, 3);
    assert.equal(byTopic("/rejections").length, 1);
    assert.equal(byTopic("/plans").length, 5);
    assert.equal(byTopic("/events").length, 2);
    assert.equal(byTopic("/decisions").length, 1);

    // Statistics agree with what was read, and with the recorder's own count.
    const stats = back.reader.statistics!;
    assert.equal(Number(stats.messageCount), back.messages.length);
    assert.equal(rec.stats().messages, back.messages.length);
    assert.equal(rec.stats().dropped, 0);
    assert.equal(rec.stats().bytes, (await stat(rec.file)).size);
    for (const [topic, ch] of back.channels) {
      // A channel nothing was written on (here /traffic) has no count.
      const count = stats.channelMessageCounts.get(ch.id) ?? 0n;
      assert.equal(Number(count), byTopic(topic).length, topic);
    }

    // Log times never go back; per channel, sequences count up from 0.
    for (let i = 1; i < back.messages.length; i++) {
      assert.ok(back.messages[i]!.logTime >= back.messages[i - 1]!.logTime, `log time ${i}`);
    }
    for (const topic of back.channels.keys()) {
      assert.deepEqual(
        byTopic(topic).map((m) => m.sequence),
        byTopic(topic).map((_, i) => i),
      );
    }
    assert.equal(stats.messageStartTime, BigInt(T0) * 1_000_000n);

    // Every message matches its channel's schema.
    for (const m of back.messages) {
      const schema = back.schemas.get(back.channels.get(m.topic)!.schemaId)!;
      validate(m.json, JSON.parse(decoder.decode(schema.data)) as Schema, m.topic);
    }

    // Content: joint samples copied at call time (the buffer was reused), ~10 ms apart.
    const j0 = joints[0]!.json as { timestamp: { sec: number; nsec: number }; position: number[] };
    assert.deepEqual(j0.timestamp, { sec: Math.floor(T0 / 1000), nsec: 678_000_000 });
    assert.deepEqual(j0.position, Array(7).fill(0));
    const gaps = joints
      .slice(1)
      .map((m, i) => Number(m.publishTime - joints[i]!.publishTime) / 1e6);
    assert.ok(
      Math.min(...gaps) >= 7.5,
      `joint states at least 3/4 interval apart: ${Math.min(...gaps)}`,
    );
    for (const m of joints) {
      const j = m.json as {
        name: string[];
        position: number[];
        velocity: number[];
        effort: number[];
      };
      const i = Number(m.publishTime / 1_000_000n) - T0;
      assert.deepEqual(j.name, JOINTS);
      assert.deepEqual(j.position, Array(7).fill(i / 1000));
      assert.deepEqual(j.velocity, Array(7).fill(1));
      assert.deepEqual(j.effort, []);
    }

    const cmds = byTopic("/commands").map(
      (m) => m.json as { type: string; body: unknown; userId: string },
    );
    assert.deepEqual(
      cmds.map((c) => c.type),
      ["goal", "plan", "stop"],
    );
    assert.deepEqual(cmds[0]!.body, { goal: { kind: "named", name: "ready" } });
    assert.deepEqual(cmds[2]!.body, {});
    assert.equal(cmds[0]!.userId, "ann");
    assert.deepEqual(byTopic("/rejections")[0]!.json, {
      timestamp: { sec: Math.floor(T0 / 1000), nsec: 828_000_000 },
      sessionId: "s2",
      type: "approve",
      code: "forbidden",
      message: "observers cannot approve",
    });

    const plans = byTopic("/plans").map(
      (m) =>
        m.json as {
          status: string;
          approvedBy: string;
          durationS: number;
          jointNames: string[];
          points: { t: number; positions: number[] }[];
        },
    );
    assert.deepEqual(
      plans.map((p) => p.status),
      ["proposed", "validated", "approved", "executing", "succeeded"],
    );
    assert.deepEqual(plans[0]!.points, []);
    assert.equal(plans[1]!.points.length, 3, "full trajectory the first time");
    assert.deepEqual(plans[1]!.jointNames, JOINTS);
    assert.deepEqual(plans[1]!.points[2], { t: 1.5, positions: trajectory.points[2]!.positions });
    assert.equal(plans[1]!.durationS, 1.5);
    for (const p of plans.slice(2)) {
      assert.deepEqual(p.points, [], "later updates without points");
      assert.equal(p.durationS, 1.5);
    }
    assert.equal(plans[2]!.approvedBy, "bob");

    const events = byTopic("/events").map((m) => ({ ...m, json: m.json as { message: string } }));
    const late = events.find((e) => e.json.message === "late")!;
    assert.equal(late.publishTime, BigInt(T0 + 50) * 1_000_000n, "payload keeps the source stamp");
    assert.ok(late.logTime >= joints.at(-1)!.logTime, "log time clamped forward");
    assert.deepEqual((events[0]!.json as unknown as { data: unknown }).data, { link: "down" });
    assert.deepEqual(byTopic("/decisions")[0]!.json, {
      timestamp: { sec: Math.floor(T0 / 1000) + 1, nsec: 278_000_000 },
      agent: "traffic",
      inputs: { bandwidthMbps: 40 },
      outputs: { value: ["1080p"] },
    });

    // The streaming reader sees the same messages in the same order.
    const { records } = await readStream(rec.file);
    const streamed = records.filter((r) => r.type === "Message");
    assert.equal(streamed.length, back.messages.length);
    assert.deepEqual(
      streamed.map((m) => m.logTime),
      back.messages.map((m) => m.logTime),
    );
    const header = records.find((r) => r.type === "Header");
    assert.deepEqual(header && { profile: header.profile, library: header.library }, {
      profile: "",
      library: "agenttwin",
    });
    assert.ok(records.some((r) => r.type === "Statistics"));
    assert.ok(records.some((r) => r.type === "ChunkIndex"));
  });

  it("rate-limits joint states to jointHz without drifting off a source at that rate", async () => {
    const kept = async (jointHz: number, stepMs: (i: number) => number, n: number) => {
      const rec = await SessionRecorder.open({
        dir,
        sessionName: `rate-${jointHz}`,
        maxBytes: 1 << 26,
        jointHz,
        logger: pino({ level: "silent" }),
        queueCapacity: 100_000,
      });
      let t = T0 + 0.37;
      for (let i = 0; i < n; i++) {
        rec.jointState(t, JOINTS, [i], [0]);
        t += stepMs(i);
      }
      await rec.close();
      return rec.stats().messages;
    };
    // 1 kHz source for 10 s at 100 Hz: one per 10 ms (plus the fencepost).
    assert.ok(Math.abs((await kept(100, () => 1, 10_000)) - 1000) <= 1);
    // A source at exactly the limit keeps every sample, even when 1/jointHz is not exact.
    assert.equal(await kept(60, () => 1000 / 60, 5000), 5000);
    assert.equal(await kept(10_000, () => 0.1, 20_000), 20_000);
    // Timer jitter of ±2 ms at 100 Hz (deterministic): nearly every sample kept.
    const jitter = (i: number) => 10 + 2 * Math.sin(i * 12.9898);
    assert.ok((await kept(100, jitter, 2000)) >= 1900);
    // A source twice too fast keeps half.
    assert.ok(Math.abs((await kept(50, () => 10, 2000)) - 1000) <= 1);
  });

  it("writes only changes of the joint state, and an arm at rest once per keep-alive", async () => {
    const record = async (samples: (i: number) => number[], n: number, stepMs: number) => {
      const rec = await SessionRecorder.open({
        dir,
        sessionName: "on-change",
        maxBytes: 1 << 26,
        jointHz: 100,
        logger: pino({ level: "silent" }),
        queueCapacity: 100_000,
      });
      for (let i = 0; i < n; i++) {
        const q = samples(i);
        rec.jointState(
          T0 + i * stepMs,
          JOINTS,
          q,
          q.map(() => 0),
        );
      }
      await rec.close();
      const back = await readIndexed(rec.file);
      return back.messages
        .filter((m) => m.topic === "/joint_states")
        .map((m) => m.json as { timestamp: { sec: number; nsec: number }; position: number[] });
    };
    const rest = JOINTS.map((_, j) => 0.1 * j);
    // 10 s at rest at 100 Hz, with float noise far below the epsilon: one message per second
    // (the first sample, then the 1 Hz keep-alive) instead of 1000.
    const atRest = await record((i) => rest.map((q) => q + (i % 2) * 1e-9), 1000, 10);
    assert.equal(atRest.length, 10, `${atRest.length} messages at rest`);
    const gaps = atRest.slice(1).map((m, k) => {
      const prev = atRest[k]!.timestamp;
      return m.timestamp.sec - prev.sec + (m.timestamp.nsec - prev.nsec) / 1e9;
    });
    for (const gap of gaps) assert.ok(Math.abs(gap - 1) < 1e-6, `keep-alive gap ${gap} s`);
    // A moving arm (1 mrad per sample): every sample is a change and is written.
    const moving = await record((i) => rest.map((q) => q + i * 1e-3), 300, 10);
    assert.equal(moving.length, 300);
    // Moving, then stopped: every moving sample, the pose it stopped at, then only keep-alives.
    const stopAt = 50;
    const stops = await record((i) => rest.map((q) => q + Math.min(i, stopAt) * 1e-3), 300, 10);
    assert.equal(stops.length, stopAt + 1 + 2, "51 moving samples + 2 keep-alives in 2.5 s");
    assert.deepEqual(
      stops.at(-1)!.position,
      rest.map((q) => q + stopAt * 1e-3),
    );
    // Drift below the epsilon per sample is compared with the last written sample, so it is
    // written once it adds up (0.4 µrad per sample: every 3rd sample crosses 1 µrad).
    const drift = await record((i) => rest.map((q) => q + i * 4e-7), 90, 10);
    assert.equal(drift.length, 30);
  });

  it("writes the traffic meter's windows on /traffic in the format train:ngf reads", async () => {
    const trafficDir = join(dir, "traffic");
    // On a whole second, so 3 s of traffic are 3 of the meter's clock-aligned windows.
    const start = Date.UTC(2025, 0, 2, 3, 4, 6);
    let clock = start;
    const meter = new TrafficMeter({ now: () => clock });
    const rec = await SessionRecorder.open({
      dir: trafficDir,
      sessionName: "traffic",
      maxBytes: 1 << 22,
      jointHz: 100,
      logger: pino({ level: "silent" }),
      now: () => clock,
    });
    // A 30 Hz head-only client as measured: the pose features go through to the importer.
    const scenario = {
      arms: 2,
      headsets: 1,
      patchRateHz: 30,
      videoRung: null,
      poseRateHz: 30,
      handsShare: 0,
    };
    rec.followTraffic(meter, () => scenario, 60_000);
    // 3 s of a headset: 30 patches/s of 200 B down, 72 poses/s of 90 B up.
    for (let ms = 0; ms < 3000; ms += 1) {
      clock = start + ms;
      if (ms % 33 === 0) meter.record("twin_state", 200, clock, "h1");
      if (ms % 14 === 0) meter.record("control", 90, clock, "h1");
    }
    clock = start + 3500;
    // The traffic agent's own hand-over is not affected by the recording's.
    const agentWindows = meter.takeWindows();
    // An idle stretch writes nothing; what closed since is written at close.
    rec.traffic(clock, scenario, []);
    await rec.close();

    const records = await readTrafficRecordings(trafficDir);
    assert.equal(records.length, 1, "one /traffic message (written at close)");
    const [record] = records;
    assert.deepEqual(record!.scenario, scenario, "no video: videoRung absent, read as null");
    assert.deepEqual(record!.windows, agentWindows, "the same windows the agent got");
    assert.deepEqual(
      record!.windows.map((w) => w.flowClass),
      ["twin_state", "twin_state", "twin_state", "control", "control", "control"],
    );
    const patches = record!.windows[0]!;
    assert.equal(patches.windowS, 1);
    assert.equal(patches.meanPacketBytes, 200);
    assert.equal(patches.throughputBps, 31 * 200 * 8, "31 patches in the first second");
    const back = await readIndexed(rec.file);
    const ch = back.channels.get("/traffic")!;
    const schema = JSON.parse(decoder.decode(back.schemas.get(ch.schemaId)!.data)) as Schema;
    for (const m of back.messages.filter((x) => x.topic === "/traffic")) validate(m.json, schema);
    assert.ok(meter.takeWindows("recording").length === 0, "each window recorded once");
  });

  it("writes the URDF on /robot_description when given one", async () => {
    const urdf = '<robot name="panda"><link name="panda_link0"/></robot>';
    const rec = await SessionRecorder.open({
      dir,
      sessionName: "urdf",
      maxBytes: 1024 * 1024,
      jointHz: 100,
      logger: pino({ level: "silent" }),
      robotDescription: urdf,
    });
    await rec.close();
    const back = await readIndexed(rec.file);
    const ch = back.channels.get("/robot_description");
    assert.ok(ch);
    assert.equal(back.schemas.get(ch.schemaId)!.name, "std_msgs/String");
    assert.deepEqual(
      back.messages.map((m) => m.json),
      [{ data: urdf }],
    );
  });

  it("stops at maxBytes without throwing, warns once, and leaves a valid file within the limit", async () => {
    const { logger, lines } = captureLogger();
    const maxBytes = 64 * 1024;
    const rec = await SessionRecorder.open({
      dir,
      sessionName: "small",
      maxBytes,
      jointHz: 100,
      logger,
    });
    // 3000 samples 10 ms apart of a moving arm: all pass the rate limit and the change
    // filter; the queue drains between batches.
    for (let batch = 0; batch < 30; batch++) {
      for (let i = 0; i < 100; i++) {
        const pos = JOINTS.map(() => 0.123456789 + (batch * 100 + i) * 1e-3);
        rec.jointState(T0 + (batch * 100 + i) * 10, JOINTS, pos, pos);
      }
      await new Promise((r) => setImmediate(r));
    }
    rec.event(T0 + 40_000, { level: "info", message: "after the limit" });
    await rec.close();
    const s = rec.stats();
    assert.ok(s.messages > 50, `some written: ${s.messages}`);
    assert.equal(s.messages + s.dropped, 3001);
    const size = (await stat(rec.file)).size;
    assert.ok(size <= maxBytes, `file ${size} B within ${maxBytes} B`);
    assert.ok(size > maxBytes * 0.8, `file ${size} B uses most of the limit`);
    assert.equal(s.bytes, size);
    const back = await readIndexed(rec.file);
    assert.equal(back.messages.length, s.messages);
    const warnings = lines.filter((l) => l.level === 40 && /size limit/.test(l.msg));
    assert.equal(warnings.length, 1, "warned once");
  });

  it("bounds its queue: calls beyond 10 000 waiting messages are dropped and counted", async () => {
    const rec = await SessionRecorder.open({
      dir,
      sessionName: "flood",
      maxBytes: 64 * 1024 * 1024,
      jointHz: 100,
      logger: pino({ level: "silent" }),
    });
    // Synchronous calls: the writer loop gets no turn in between, as in one long tick.
    for (let i = 0; i < 10_500; i++) rec.event(T0 + i, { level: "info", message: `e${i}` });
    assert.equal(rec.stats().dropped, 500);
    await rec.close();
    assert.equal(rec.stats().messages, 10_000);
    const back = await readIndexed(rec.file);
    assert.equal(back.messages.length, 10_000);
    assert.equal((back.messages.at(-1)!.json as { message: string }).message, "e9999");
    // After close, record methods neither throw nor write.
    rec.event(T0, { level: "info", message: "too late" });
    rec.jointState(T0 + 1e6, JOINTS, [1], [1]);
    assert.equal(rec.stats().dropped, 502);
  });

  it("never throws into the caller on bad input", async () => {
    const { logger, lines } = captureLogger();
    const rec = await SessionRecorder.open({
      dir,
      sessionName: "bad",
      maxBytes: 1 << 20,
      jointHz: 100,
      logger,
    });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    rec.command(T0, { sessionId: "s", userId: "u", role: "operator", type: "x", body: circular });
    rec.command(T0, { sessionId: "s", userId: "u", role: "operator", type: "y", body: circular });
    rec.decision(Number.NaN, {
      agent: "a",
      inputs: { big: 10n, arr: new Float32Array([0.5]) },
      outputs: null,
    });
    rec.jointState(T0, JOINTS, null as unknown as number[], []);
    await rec.close();
    assert.equal(rec.stats().dropped, 3);
    assert.equal(rec.stats().messages, 1);
    assert.equal(
      lines.filter((l) => /could not record a command/.test(l.msg)).length,
      1,
      "warned once per kind",
    );
    const back = await readIndexed(rec.file);
    assert.deepEqual((back.messages[0]!.json as { inputs: unknown }).inputs, {
      big: "10",
      arr: [0.5],
    });
  });

  it("picks a fresh name when the same session opens twice in one millisecond", async () => {
    const opts = {
      dir,
      sessionName: "twin",
      maxBytes: 1 << 20,
      jointHz: 100,
      logger: pino({ level: "silent" }),
      now: () => T0,
    };
    const a = await SessionRecorder.open(opts);
    const b = await SessionRecorder.open(opts);
    assert.notEqual(a.file, b.file);
    assert.match(basename(b.file), /^twin-20250102T030405\.678Z-1\.mcap$/);
    await Promise.all([a.close(), b.close(), a.close()]);
    assert.equal(a.close(), a.close(), "close returns one promise");
  });

  it("sanitises session names to [A-Za-z0-9._-], never hidden", () => {
    assert.equal(recordingBaseName("../../etc/passwd", T0), "etc_passwd-20250102T030405.678Z");
    assert.equal(recordingBaseName(".hidden", T0), "hidden-20250102T030405.678Z");
    assert.equal(recordingBaseName("", T0), "session-20250102T030405.678Z");
    assert.equal(recordingBaseName("ümlaut räum", T0), "mlaut_r_um-20250102T030405.678Z");
  });

  it("fails open with a RecordingError naming the folder when it cannot be created", async () => {
    const blocker = join(dir, "not-a-folder");
    await writeFile(blocker, "x");
    await assert.rejects(
      SessionRecorder.open({
        dir: join(blocker, "recordings"),
        sessionName: "s",
        maxBytes: 1 << 20,
        jointHz: 100,
        logger: pino({ level: "silent" }),
      }),
      (err: unknown) => {
        assert.ok(err instanceof RecordingError);
        assert.equal(err.code, "open_failed");
        assert.match(err.message, /cannot create the recording folder .*not-a-folder/);
        assert.ok(err.cause instanceof Error);
        return true;
      },
    );
    await assert.rejects(
      SessionRecorder.open({
        dir,
        sessionName: "s",
        maxBytes: 1 << 20,
        jointHz: 0,
        logger: pino({ level: "silent" }),
      }),
      (err: unknown) => err instanceof RecordingError && err.code === "invalid_options",
    );
  });

  it("logs, and does not throw, when the file vanished before close", async () => {
    const { logger, lines } = captureLogger();
    const rec = await SessionRecorder.open({
      dir,
      sessionName: "gone",
      maxBytes: 1 << 20,
      jointHz: 100,
      logger,
    });
    rec.event(T0, { level: "info", message: "x" });
    await rm(`${rec.file}.part`);
    await rec.close();
    assert.ok(
      lines.some((l) => l.level === 50 && /renaming the finished recording failed/.test(l.msg)),
    );
  });
});
