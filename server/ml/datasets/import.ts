/**
 * A deployment's own measurements, read for training (`npm run train:pgf -- --data <file>`,
 * `npm run train:ngf -- --from-recordings <dir>`). Formats (README, "Training on your own
 * measurements"):
 *
 * **Channel quality** — JSON lines (`.jsonl`/`.ndjson`), one measurement per line:
 * ```json
 * {"headset":{"x":1.2,"y":0.4,"z":1.6},"scene":"cell-a",
 *  "bands":[{"bandId":"dl-1","capacityBps":3.1e8,"subcarrierSnrDb":[…16 values…]}]}
 * ```
 * `scene` is a scene descriptor or the id of one in the scenes file (`--scenes`); a band
 * needs `capacityBps`, `snrDb` (band mean, capacity then computed flat over the band) or
 * `subcarrierSnrDb`. Or CSV (`.csv`), one row per band measurement, rows of one
 * measurement consecutive: `scene,headset_x,headset_y,headset_z,band,capacity_bps,snr_db`
 * (`snr_db` or `capacity_bps` may be empty).
 *
 * **Scene descriptor** (what the channel agent conditions on), `world` frame, m, rad:
 * ```json
 * {"gnb":{"x":-2.7,"y":-2.7,"z":2.75},
 *  "arms":[{"id":"panda","base":{"position":{"x":0,"y":0,"z":0.8},
 *                                "orientation":{"x":0,"y":0,"z":0,"w":1}},"q":[0,-0.785,0,-2.356,0,1.571,0.785]},
 *          {"id":"rack","links":[{"a":{"x":1,"y":1,"z":0},"b":{"x":1,"y":1,"z":2},"r":0.3}]}]}
 * ```
 * An arm is a Panda given by its base pose and joint values `q` (group order), or any metal
 * body given as capsules (`links`).
 *
 * **Traffic** — the server's traffic meter windows: MCAP files with a `/traffic` topic
 * (JSON messages `{"scenario":{arms,headsets,patchRateHz,videoRung,poseRateHz?,handsShare?},"windows":[FlowWindow…]}`,
 * `videoRung` null or absent for no video; as `SessionRecorder.traffic` writes them), or JSON
 * lines of the same messages (`.jsonl`).
 */
import { readdir, readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { McapStreamReader } from "@mcap/core";
import { z } from "zod";
import type { Pose } from "../../../shared/geometry.ts";
import { armGeometry } from "../../net/arm-geometry.ts";
import { DEFAULT_BANDS } from "../../net/bands.ts";
import { capacityFromSnr } from "../../net/channel-model.ts";
import type {
  ArmGeometry,
  BandChannel,
  FlowWindow,
  RadioEnvironment,
  TrafficScenario,
} from "../../net/contracts.ts";
import type { ArmKinematics } from "../../sim/kinematics.ts";

/** A file that does not follow the documented format. */
export class ImportError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ImportError";
  }
}

const Vec = z.object({ x: z.number(), y: z.number(), z: z.number() });
const Quat = z.object({ x: z.number(), y: z.number(), z: z.number(), w: z.number() });
const Capsule = z.object({ a: Vec, b: Vec, r: z.number().positive() });
const SceneSchema = z.object({
  gnb: Vec,
  arms: z.array(
    z.union([
      z.object({
        id: z.string().default("arm"),
        base: z.object({ position: Vec, orientation: Quat }),
        q: z.array(z.number()),
      }),
      z.object({ id: z.string().default("body"), links: z.array(Capsule).min(1) }),
    ]),
  ),
});
export type SceneDescriptor = z.infer<typeof SceneSchema>;

const BandSchema = z
  .object({
    bandId: z.string(),
    capacityBps: z.number().nonnegative().optional(),
    snrDb: z.number().optional(),
    subcarrierSnrDb: z.array(z.number()).optional(),
  })
  .refine((b) => b.capacityBps !== undefined || b.snrDb !== undefined || b.subcarrierSnrDb, {
    message: "a band needs capacityBps, snrDb or subcarrierSnrDb",
  });
const RecordSchema = z.object({
  headset: Vec,
  scene: z.union([z.string(), SceneSchema]),
  bands: z.array(BandSchema).min(1),
});

/** One imported channel measurement. */
export interface ChannelMeasurement {
  readonly env: RadioEnvironment;
  readonly bands: readonly BandChannel[];
}

/** Parses a scenes file: `{ "<id>": <scene descriptor>, … }`. */
export function parseScenes(text: string): Map<string, SceneDescriptor> {
  const parsed = z.record(z.string(), SceneSchema).safeParse(JSON.parse(text));
  if (!parsed.success) throw new ImportError("scenes file", { cause: parsed.error });
  return new Map(Object.entries(parsed.data));
}

function sceneArms(scene: SceneDescriptor, kin: ArmKinematics): ArmGeometry[] {
  return scene.arms.map((a) => {
    if ("links" in a) {
      const first = a.links[0] as { a: { x: number; y: number; z: number } };
      const base: Pose = { position: first.a, orientation: { x: 0, y: 0, z: 0, w: 1 } };
      return { id: a.id, base, links: a.links };
    }
    if (a.q.length !== kin.jointNames.length)
      throw new ImportError(
        `arm ${a.id}: ${a.q.length} joint values, expected ${kin.jointNames.length}`,
      );
    return armGeometry(kin, a.q, a.base, a.id);
  });
}

function bandOf(b: z.infer<typeof BandSchema>): BandChannel {
  const band = DEFAULT_BANDS.find((x) => x.id === b.bandId);
  const sc = b.subcarrierSnrDb;
  const snr = b.snrDb ?? (sc ? sc.reduce((s, v) => s + v, 0) / sc.length : Number.NaN);
  const cap = b.capacityBps ?? (band ? capacityFromSnr(sc ?? [snr], band.bandwidthHz) : undefined);
  return {
    bandId: b.bandId,
    snrDb: snr,
    capacityBps: cap ?? 0,
    ...(sc && { subcarrierSnrDb: sc }),
  };
}

/**
 * Channel measurements from a JSON-lines or CSV file (see the module comment).
 * @throws ImportError naming the line that does not parse
 */
export function parseChannelMeasurements(
  text: string,
  format: "jsonl" | "csv",
  kin: ArmKinematics,
  scenes: ReadonlyMap<string, SceneDescriptor> = new Map(),
): ChannelMeasurement[] {
  const resolveScene = (s: string | SceneDescriptor, line: number): SceneDescriptor => {
    if (typeof s !== "string") return s;
    const found = scenes.get(s);
    if (!found) throw new ImportError(`line ${line}: scene "${s}" is not in the scenes file`);
    return found;
  };
  const records: { rec: z.infer<typeof RecordSchema>; line: number }[] = [];
  const lines = text.split(/\r?\n/);
  if (format === "jsonl") {
    lines.forEach((l, i) => {
      if (!l.trim()) return;
      let json: unknown;
      try {
        json = JSON.parse(l);
      } catch (err) {
        throw new ImportError(`line ${i + 1}: not JSON`, { cause: err });
      }
      const p = RecordSchema.safeParse(json);
      if (!p.success)
        throw new ImportError(`line ${i + 1}: ${p.error.issues[0]?.message ?? "invalid"}`, {
          cause: p.error,
        });
      records.push({ rec: p.data, line: i + 1 });
    });
  } else {
    const header = (lines[0] ?? "").split(",").map((h) => h.trim());
    const col = (name: string) => header.indexOf(name);
    const need = ["scene", "headset_x", "headset_y", "headset_z", "band"];
    for (const n of need) if (col(n) < 0) throw new ImportError(`CSV header lacks ${n}`);
    let cur: { key: string; rec: z.infer<typeof RecordSchema>; line: number } | null = null;
    lines.slice(1).forEach((l, i) => {
      if (!l.trim()) return;
      const c = l.split(",").map((x) => x.trim());
      const num = (n: string) => {
        const v = c[col(n)];
        return v === undefined || v === "" ? undefined : Number(v);
      };
      const headset = {
        x: num("headset_x") ?? NaN,
        y: num("headset_y") ?? NaN,
        z: num("headset_z") ?? NaN,
      };
      if (![headset.x, headset.y, headset.z].every(Number.isFinite))
        throw new ImportError(`line ${i + 2}: headset position is not numeric`);
      const scene = c[col("scene")] ?? "";
      const key = `${scene}|${headset.x}|${headset.y}|${headset.z}`;
      const capacityBps = col("capacity_bps") >= 0 ? num("capacity_bps") : undefined;
      const snrDb = col("snr_db") >= 0 ? num("snr_db") : undefined;
      const band = BandSchema.safeParse({
        bandId: c[col("band")],
        ...(capacityBps !== undefined && { capacityBps }),
        ...(snrDb !== undefined && { snrDb }),
      });
      if (!band.success)
        throw new ImportError(`line ${i + 2}: ${band.error.issues[0]?.message ?? "invalid band"}`);
      if (!cur || cur.key !== key) {
        cur = { key, rec: { headset, scene, bands: [] }, line: i + 2 };
        records.push(cur);
      }
      cur.rec.bands.push(band.data);
    });
  }
  return records.map(({ rec, line }) => {
    const scene = resolveScene(rec.scene, line);
    return {
      env: { gnb: scene.gnb, headset: rec.headset, arms: sceneArms(scene, kin) },
      bands: rec.bands.map(bandOf),
    };
  });
}

/** Reads a channel measurement file; the format from its extension. */
export async function readChannelMeasurements(
  file: string,
  kin: ArmKinematics,
  scenesFile?: string,
): Promise<ChannelMeasurement[]> {
  const scenes = scenesFile ? parseScenes(await readFile(scenesFile, "utf8")) : new Map();
  const format = extname(file).toLowerCase() === ".csv" ? "csv" : "jsonl";
  return parseChannelMeasurements(await readFile(file, "utf8"), format, kin, scenes);
}

const WindowSchema = z.object({
  flowClass: z.string().regex(/^(twin_state|control|video_.+)$/),
  windowS: z.number().positive(),
  throughputBps: z.number().nonnegative(),
  meanPacketBytes: z.number().nonnegative(),
  meanInterArrivalS: z.number().nonnegative(),
});
const TrafficMessageSchema = z.object({
  scenario: z.object({
    arms: z.number().int().positive(),
    headsets: z.number().int().nonnegative(),
    patchRateHz: z.number().positive(),
    // Absent in session recordings when no video is streamed (their schema has no null).
    videoRung: z.string().nullable().default(null),
    // Absent in recordings made before the server measured them: the Unity bridge defaults.
    poseRateHz: z
      .number()
      .finite()
      .gt(0, "poseRateHz must be in (0, 240] Hz")
      .max(240, "poseRateHz must be in (0, 240] Hz")
      .optional(),
    handsShare: z
      .number()
      .finite()
      .min(0, "handsShare must be in [0, 1]")
      .max(1, "handsShare must be in [0, 1]")
      .optional(),
  }),
  windows: z.array(WindowSchema),
});

/** One recorded batch of metered windows and the scenario they were measured under. */
export interface TrafficRecord {
  readonly source: string;
  readonly scenario: TrafficScenario;
  readonly windows: readonly FlowWindow[];
}

/** The topic the traffic meter's windows are read from in session MCAP files. */
export const TRAFFIC_TOPIC = "/traffic";

function parseTrafficMessage(text: string, where: string): TrafficRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ImportError(`${where}: not JSON`, { cause: err });
  }
  const p = TrafficMessageSchema.safeParse(json);
  if (!p.success) {
    const issue = p.error.issues[0];
    const field = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    throw new ImportError(`${where}: ${field}${issue?.message ?? "invalid"}`, { cause: p.error });
  }
  return { source: where, scenario: p.data.scenario, windows: p.data.windows as FlowWindow[] };
}

/**
 * Every `/traffic` message of the `.mcap` files and every line of the `.jsonl` files in
 * `dir` (not recursive), in file-name order.
 * @throws ImportError naming the file and line (`a.jsonl:3`) or message (`b.mcap#0`) that
 *   is not JSON or not a traffic message
 */
export async function readTrafficRecordings(dir: string): Promise<TrafficRecord[]> {
  const names = (await readdir(dir)).sort();
  const out: TrafficRecord[] = [];
  const decoder = new TextDecoder();
  for (const name of names) {
    const path = join(dir, name);
    const ext = extname(name).toLowerCase();
    if (ext === ".jsonl" || ext === ".ndjson") {
      (await readFile(path, "utf8")).split(/\r?\n/).forEach((l, i) => {
        if (l.trim()) out.push(parseTrafficMessage(l, `${name}:${i + 1}`));
      });
    } else if (ext === ".mcap") {
      const reader = new McapStreamReader({ validateCrcs: true });
      reader.append(await readFile(path));
      const topics = new Map<number, string>();
      let k = 0;
      for (let r = reader.nextRecord(); r; r = reader.nextRecord()) {
        if (r.type === "Channel") topics.set(r.id, r.topic);
        else if (r.type === "Message" && topics.get(r.channelId) === TRAFFIC_TOPIC)
          out.push(parseTrafficMessage(decoder.decode(r.data), `${name}#${k++}`));
      }
    }
  }
  return out;
}
