/**
 * nGF traffic model: a conditional multi-generator GAN (MGAN, Hoang et al., ICLR 2018).
 *
 * K generators share every layer but their input layer; one network D/C shares its trunk
 * between a discriminator head (real vs synthetic) and a classifier head that tells which
 * generator made a synthetic sample. The generators are trained to fool D and to stay
 * recognisable to C (loss = GAN loss + β · cross-entropy of C), so they specialise on
 * different modes of a flow's window distribution (idle vs executing arms, windows with or
 * without an I frame, scene-cut bursts) instead of collapsing on one.
 *
 * A sample is one {@link FlowWindow} as three features — ln throughput (bit/s), ln mean
 * packet size (bytes), ln mean inter-arrival (s) — z-scored per flow class with statistics
 * of the training set (kept in the manifest). Generators and D/C are conditioned on the
 * flow class (one-hot) and on the scenario features that drive it: arms, headsets and patch
 * rate for `twin_state`, the headsets' pose rate and hands share for `twin_state` and
 * `control`, the rung for video (zeros where a class does not depend on them).
 *
 * Training tricks: non-saturating generator loss, one-sided label smoothing (0.9), instance
 * noise on D's inputs annealed to zero, Adam (β1 = 0.5), and an exponential moving average
 * of the generator weights, which is the generator that is saved and sampled.
 */
import { z } from "zod";
import {
  type FlowClass,
  type FlowWindow,
  poseFeatures,
  type TrafficScenario,
} from "../net/contracts.ts";
import { seededRandom } from "../sim/random.ts";
import { tf } from "./backend.ts";
import { Mlp } from "./mlp.ts";
import { loadWeights, type NamedTensors, saveWeights, type WeightEncoding } from "./weights.ts";

/** Manifest kind of nGF weights. */
export const NGF_KIND = "ngf-mgan";

/** Features per window: ln throughput, ln mean packet size, ln mean inter-arrival. */
export const NGF_FEATURES = 3;

/**
 * Scenario features after the class one-hot: arms; headsets and patch rate both linear and
 * logarithmic (throughput is close to a product of rate and per-patch size, so in ln units
 * the log features make it a sum); the rung; the pose rate (linear and logarithmic, for the
 * same reason) and the hands share. Models saved before the pose features had 6.
 */
const SCENARIO_FEATURES = 9;

/** Normalisers of the scenario features (the trained envelope's upper ends). */
const ARMS_SCALE = 4;
const HEADSETS_SCALE = 8;
const PATCH_RATE_SCALE = 90;
const POSE_RATE_SCALE = 90;

/** Architecture and loss weights of an {@link NgfMgan}. */
export interface NgfConfig {
  /** Flow classes in one-hot order. */
  readonly classes: readonly FlowClass[];
  /** Video rung names in ladder order (for the rung feature). */
  readonly rungs: readonly string[];
  /** Number of generators, K. */
  readonly generators: number;
  /** Noise dimension per sample. */
  readonly noiseDim: number;
  /** Width of the generators' hidden layers. */
  readonly genHidden: number;
  /** Width of the discriminator/classifier trunk. */
  readonly discHidden: number;
  /** Weight β of the classifier's cross-entropy in D's and G's losses. */
  readonly beta: number;
  /** Window length the model describes, s. */
  readonly windowS: number;
}

/** Per-class z-score statistics of the three features (natural-log units). */
export interface ClassStats {
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

const ConfigSchema = z.object({
  classes: z.array(z.string().regex(/^(twin_state|control|video_.+)$/)).min(1),
  rungs: z.array(z.string()),
  generators: z.number().int().min(1).max(64),
  noiseDim: z.number().int().min(1),
  genHidden: z.number().int().min(1),
  discHidden: z.number().int().min(1),
  beta: z.number().min(0),
  windowS: z.number().positive(),
});

const Triple = z.tuple([z.number(), z.number(), z.number()]);
const StatsSchema = z.array(
  z.object({
    mean: Triple,
    std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
  }),
);

/** A flow class or scenario the model cannot express. */
export class NgfError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NgfError";
  }
}

/** ln features of a window (throughput and sizes must be positive). */
export function windowFeatures(w: FlowWindow): [number, number, number] {
  return [Math.log(w.throughputBps), Math.log(w.meanPacketBytes), Math.log(w.meanInterArrivalS)];
}

/** True when a window can be a training sample (it carried packets). */
export function usableWindow(w: FlowWindow): boolean {
  return w.throughputBps > 0 && w.meanPacketBytes > 0 && w.meanInterArrivalS > 0;
}

/** One batch: normalised features (n × 3, row-major) and conditions (n × conditionDim). */
export interface NgfBatch {
  readonly x: Float32Array;
  readonly c: Float32Array;
  readonly n: number;
}

/** Loss values of one training step (mean over the batch). */
export interface NgfLosses {
  /** Discriminator BCE (real + synthetic). */
  readonly d: number;
  /** Generator non-saturating GAN loss. */
  readonly g: number;
  /** Classifier cross-entropy on synthetic samples (lower: generators more distinct). */
  readonly c: number;
}

/** Seeded standard normals for noise (the same seed gives the same synthetic windows). */
export function gaussian(n: number, seed: number): Float32Array {
  const next = seededRandom(seed >>> 0 || 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(next(), 1e-12);
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** The conditional MGAN. Owns its tf variables: call {@link dispose}. */
export class NgfMgan {
  readonly #genIn: Mlp[] = [];
  readonly #genBody: Mlp;
  readonly #emaIn: Mlp[] = [];
  readonly #emaBody: Mlp;
  readonly #trunk: Mlp;
  readonly #dHead: Mlp;
  readonly #cHead: Mlp;
  readonly #classIndex: Map<FlowClass, number>;

  private constructor(
    readonly config: NgfConfig,
    /** Feature statistics per class, in {@link NgfConfig.classes} order. */
    readonly stats: readonly ClassStats[],
    init: NamedTensors | undefined,
    seed: number,
  ) {
    const { generators: k, noiseDim, genHidden: h, discHidden: dh } = config;
    if (stats.length !== config.classes.length)
      throw new NgfError(`${stats.length} class statistics for ${config.classes.length} classes`);
    this.#classIndex = new Map(config.classes.map((c, i) => [c, i]));
    const cd = this.conditionDim;
    for (let i = 0; i < k; i++) {
      this.#genIn.push(new Mlp(`gen/in${i}`, [noiseDim + cd, h], "leakyRelu", init, seed + 10 * i));
      this.#emaIn.push(new Mlp(`gen/in${i}`, [noiseDim + cd, h], "leakyRelu", init, seed + 10 * i));
    }
    this.#genBody = new Mlp("gen/body", [h, h, h, NGF_FEATURES], "leakyRelu", init, seed + 100);
    this.#emaBody = new Mlp("gen/body", [h, h, h, NGF_FEATURES], "leakyRelu", init, seed + 100);
    this.#trunk = new Mlp("disc/trunk", [NGF_FEATURES + cd, dh, dh], "leakyRelu", init, seed + 200);
    this.#dHead = new Mlp("disc/d", [dh, 1], "leakyRelu", init, seed + 300);
    this.#cHead = new Mlp("disc/c", [dh, k], "leakyRelu", init, seed + 400);
    if (!init) this.syncAverage(0);
  }

  /** A freshly initialised model. */
  static create(config: NgfConfig, stats: readonly ClassStats[], seed = 1): NgfMgan {
    return new NgfMgan(config, stats, undefined, seed);
  }

  /**
   * Loads a model folder written by {@link save} (any weight encoding).
   * @throws WeightsError for a missing or foreign folder; NgfError for a bad config
   */
  static async load(dir: string): Promise<{ model: NgfMgan; metadata: Record<string, unknown> }> {
    const { manifest, tensors } = await loadWeights(dir, NGF_KIND);
    try {
      const config = ConfigSchema.safeParse(manifest.config.model);
      const stats = StatsSchema.safeParse(manifest.config.stats);
      if (!config.success || !stats.success)
        throw new NgfError(`${dir}: manifest lacks a valid model config or class statistics`, {
          cause: config.error ?? stats.error,
        });
      const cfg = { ...config.data, classes: config.data.classes as FlowClass[] };
      // Weights from before a change of the condition (e.g. the pose features) have another
      // input width: say so instead of failing on a layer shape.
      const width = tensors["gen/in0/w0"]?.shape[0];
      const expected = cfg.noiseDim + cfg.classes.length + SCENARIO_FEATURES;
      if (width !== expected)
        throw new NgfError(
          `${dir}: generator input is ${width ?? "missing"} wide, this code conditions on ` +
            `${expected} (noise ${cfg.noiseDim}, ${cfg.classes.length} classes, ` +
            `${SCENARIO_FEATURES} scenario features): weights of an older condition; ` +
            `retrain with npm run train:ngf`,
        );
      const model = new NgfMgan(cfg, stats.data, tensors, 1);
      return { model, metadata: manifest.metadata };
    } finally {
      for (const t of Object.values(tensors)) t.dispose();
    }
  }

  /**
   * Writes the averaged generator and D/C into `dir` with the given weight encoding.
   * @returns bytes of `weights.bin`
   */
  async save(
    dir: string,
    encoding: WeightEncoding = "float32",
    metadata: Record<string, unknown> = {},
  ): Promise<number> {
    return saveWeights(
      dir,
      NGF_KIND,
      { model: this.config, stats: this.stats, features: ["ln_bps", "ln_bytes", "ln_s"] },
      this.#savedTensors(),
      { encoding, metadata },
    );
  }

  /** Length of a condition vector: class one-hot + 9 scenario features. */
  get conditionDim(): number {
    return this.config.classes.length + SCENARIO_FEATURES;
  }

  /** True when the model knows the class. */
  has(flowClass: FlowClass): boolean {
    return this.#classIndex.has(flowClass);
  }

  /**
   * The condition vector of a flow class under a scenario. Only the features that drive
   * the class are set: arms, headsets, patch rate for `twin_state`; pose rate and hands
   * share (defaults when the scenario has none) for `twin_state` and `control`; the rung
   * for video.
   * @throws NgfError for a class the model was not trained on
   */
  condition(flowClass: FlowClass, scenario: TrafficScenario): Float32Array {
    const ci = this.#classIndex.get(flowClass);
    if (ci === undefined) throw new NgfError(`flow class ${flowClass} is not modelled`);
    const n = this.config.classes.length;
    const c = new Float32Array(this.conditionDim);
    c[ci] = 1;
    if (flowClass === "twin_state") {
      c[n] = scenario.arms / ARMS_SCALE;
      c[n + 1] = scenario.headsets / HEADSETS_SCALE;
      c[n + 2] = Math.log1p(scenario.headsets) / Math.log1p(HEADSETS_SCALE);
      c[n + 3] = scenario.patchRateHz / PATCH_RATE_SCALE;
      c[n + 4] = Math.log(scenario.patchRateHz) / Math.log(PATCH_RATE_SCALE);
    } else if (flowClass.startsWith("video_")) {
      const r = this.config.rungs.indexOf(flowClass.slice("video_".length));
      c[n + 5] = r / Math.max(1, this.config.rungs.length - 1);
    }
    if (flowClass === "twin_state" || flowClass === "control") {
      const { poseRateHz, handsShare } = poseFeatures(scenario);
      c[n + 6] = poseRateHz / POSE_RATE_SCALE;
      c[n + 7] = Math.log(poseRateHz) / Math.log(POSE_RATE_SCALE);
      c[n + 8] = handsShare;
    }
    return c;
  }

  /** Normalised features of a window of `flowClass`. */
  normalise(flowClass: FlowClass, w: FlowWindow): [number, number, number] {
    const s = this.#stats(flowClass);
    const f = windowFeatures(w);
    return [
      (f[0] - s.mean[0]) / s.std[0],
      (f[1] - s.mean[1]) / s.std[1],
      (f[2] - s.mean[2]) / s.std[2],
    ];
  }

  /** The window of normalised features `v` (bit/s, bytes, s). */
  denormalise(flowClass: FlowClass, v: ArrayLike<number>, offset = 0): FlowWindow {
    const s = this.#stats(flowClass);
    const f = (i: number): number => Math.exp((v[offset + i] ?? 0) * s.std[i]! + s.mean[i]!);
    return {
      flowClass,
      windowS: this.config.windowS,
      throughputBps: f(0),
      meanPacketBytes: f(1),
      meanInterArrivalS: f(2),
    };
  }

  /**
   * Synthesises `n` windows of one flow class under `scenario` with the averaged generator;
   * samples are split evenly over the K generators (uniform mixture). Deterministic for a
   * given `seed`.
   */
  synthesize(flowClass: FlowClass, scenario: TrafficScenario, n: number, seed = 1): FlowWindow[] {
    const c = this.condition(flowClass, scenario);
    const v = this.sampleNormalised(c, n, seed);
    const out: FlowWindow[] = [];
    for (let i = 0; i < n; i++) out.push(this.denormalise(flowClass, v, i * NGF_FEATURES));
    return out;
  }

  /** Normalised synthetic features (n × 3) for one condition vector; averaged generator. */
  sampleNormalised(condition: Float32Array, n: number, seed = 1, averaged = true): Float32Array {
    const cd = this.conditionDim;
    const c = new Float32Array(n * cd);
    for (let i = 0; i < n; i++) c.set(condition, i * cd);
    return this.generate(c, n, seed, averaged);
  }

  /** Normalised synthetic features (n × 3) for per-sample conditions (n × conditionDim). */
  generate(conditions: Float32Array, n: number, seed = 1, averaged = true): Float32Array {
    const z = gaussian(n * this.config.noiseDim, seed);
    const out = tf.tidy(() => {
      const zt = tf.tensor2d(z, [n, this.config.noiseDim]);
      const ct = tf.tensor2d(conditions, [n, this.conditionDim]);
      return this.#generator(zt, ct, averaged);
    });
    const values = out.dataSync() as Float32Array;
    out.dispose();
    return values;
  }

  /** Generator forward pass: samples split into K contiguous, near-equal chunks. */
  #generator(z: tf.Tensor2D, c: tf.Tensor2D, averaged: boolean): tf.Tensor2D {
    const n = z.shape[0];
    const ins = averaged ? this.#emaIn : this.#genIn;
    const body = averaged ? this.#emaBody : this.#genBody;
    const input = tf.concat([z, c], 1);
    const parts: tf.Tensor2D[] = [];
    for (const [k, [start, size]] of chunks(n, ins.length).entries()) {
      if (size === 0) continue;
      const xi = tf.slice(input, [start, 0], [size, -1]);
      parts.push(tf.leakyRelu((ins[k] as Mlp).apply(xi), 0.2));
    }
    const h = parts.length === 1 ? (parts[0] as tf.Tensor2D) : tf.concat(parts, 0);
    return body.apply(h);
  }

  /** D and C logits ([n, 1], [n, K]) of features x under conditions c. */
  #discriminate(x: tf.Tensor2D, c: tf.Tensor2D): { d: tf.Tensor2D; c: tf.Tensor2D } {
    const h = tf.leakyRelu(this.#trunk.apply(tf.concat([x, c], 1)), 0.2);
    return { d: this.#dHead.apply(h), c: this.#cHead.apply(h) };
  }

  /** Trainable variables of the generators (not the average). */
  generatorVariables(): tf.Variable[] {
    return [...this.#genIn.flatMap((m) => m.variables()), ...this.#genBody.variables()];
  }

  /** Trainable variables of the discriminator/classifier. */
  discriminatorVariables(): tf.Variable[] {
    return [...this.#trunk.variables(), ...this.#dHead.variables(), ...this.#cHead.variables()];
  }

  /**
   * Moves the averaged generator toward the trained one: avg ← decay · avg + (1 − decay) ·
   * current (decay 0 copies).
   */
  syncAverage(decay: number): void {
    const cur = this.generatorVariables();
    const avg = [...this.#emaIn.flatMap((m) => m.variables()), ...this.#emaBody.variables()];
    tf.tidy(() => {
      avg.forEach((a, i) => {
        const v = cur[i] as tf.Variable;
        a.assign(decay === 0 ? v.clone() : tf.add(tf.mul(a, decay), tf.mul(v, 1 - decay)));
      });
    });
  }

  /** Copies the averaged generator into the trained one (start of a fine-tune). */
  resetToAverage(): void {
    const cur = this.generatorVariables();
    const avg = [...this.#emaIn.flatMap((m) => m.variables()), ...this.#emaBody.variables()];
    tf.tidy(() => cur.forEach((v, i) => v.assign((avg[i] as tf.Variable).clone())));
  }

  /** Copies of every saved parameter (caller disposes), e.g. a best-so-far checkpoint. */
  snapshot(): NamedTensors {
    const out: NamedTensors = {};
    for (const [name, t] of Object.entries(this.#savedTensors())) out[name] = t.clone();
    return out;
  }

  /** Restores a {@link snapshot} into both the averaged and the trained generator and D/C. */
  restore(snap: NamedTensors): void {
    const assign = (m: Mlp): void => {
      for (const [name, v] of Object.entries(m.tensors())) {
        const t = snap[name];
        if (!t) throw new NgfError(`snapshot lacks ${name}`);
        (v as tf.Variable).assign(t);
      }
    };
    tf.tidy(() => {
      for (const m of [...this.#emaIn, this.#emaBody, this.#trunk, this.#dHead, this.#cHead])
        assign(m);
    });
    this.resetToAverage();
  }

  #savedTensors(): NamedTensors {
    return Object.assign(
      {},
      ...this.#emaIn.map((m) => m.tensors()),
      this.#emaBody.tensors(),
      this.#trunk.tensors(),
      this.#dHead.tensors(),
      this.#cHead.tensors(),
    ) as NamedTensors;
  }

  /** Parameters in the saved set. */
  parameterCount(): number {
    return Object.values(this.#savedTensors()).reduce((s, t) => s + t.size, 0);
  }

  #stats(flowClass: FlowClass): ClassStats {
    const i = this.#classIndex.get(flowClass);
    const s = i === undefined ? undefined : this.stats[i];
    if (!s) throw new NgfError(`flow class ${flowClass} is not modelled`);
    return s;
  }

  /**
   * One MGAN step on a batch of real samples: a D/C update, then a G update, both on the
   * batch's conditions. Returns the losses when `read` (a device sync), else null.
   */
  trainStep(
    batch: NgfBatch,
    opt: { d: tf.Optimizer; g: tf.Optimizer },
    step: { seed: number; noiseStd: number; read: boolean; emaDecay: number },
  ): NgfLosses | null {
    const { n } = batch;
    const k = this.config.generators;
    const beta = this.config.beta;
    const nd = this.config.noiseDim;
    const z1 = gaussian(n * nd, step.seed);
    const z2 = gaussian(n * nd, step.seed ^ 0x5bd1e995);
    const inst =
      step.noiseStd > 0 ? gaussian(2 * n * NGF_FEATURES, step.seed ^ 0x27d4eb2f) : undefined;
    const losses = tf.tidy(() => {
      const x = tf.tensor2d(batch.x, [n, NGF_FEATURES]);
      const c = tf.tensor2d(batch.c, [n, this.conditionDim]);
      const labels = tf.oneHot(tf.tensor1d(generatorLabels(n, k), "int32"), k);
      const noise = inst
        ? tf.mul(tf.tensor2d(inst, [2 * n, NGF_FEATURES]), step.noiseStd)
        : tf.zeros([2 * n, NGF_FEATURES]);
      const noiseReal = tf.slice(noise, [0, 0], [n, -1]) as tf.Tensor2D;
      const noiseFake = tf.slice(noise, [n, 0], [n, -1]) as tf.Tensor2D;
      const zt1 = tf.tensor2d(z1, [n, nd]);
      const fakeFixed = tf.add(this.#generator(zt1, c, false), noiseFake) as tf.Tensor2D;
      const realIn = tf.add(x, noiseReal) as tf.Tensor2D;
      let dVal: tf.Tensor = tf.scalar(0);
      let cVal: tf.Tensor = tf.scalar(0);
      const dGrads = tf.variableGrads(() => {
        const real = this.#discriminate(realIn, c);
        const fake = this.#discriminate(fakeFixed, c);
        // One-sided label smoothing: real target 0.9.
        const lReal = tf.mean(
          tf.add(tf.mul(tf.softplus(tf.neg(real.d)), 0.9), tf.mul(tf.softplus(real.d), 0.1)),
        );
        const lFake = tf.mean(tf.softplus(fake.d));
        const lD = tf.add(lReal, lFake);
        const lC = tf.losses.softmaxCrossEntropy(labels, fake.c);
        dVal = tf.keep(lD);
        cVal = tf.keep(lC);
        return tf.add(lD, tf.mul(lC, beta)) as tf.Scalar;
      }, this.discriminatorVariables());
      opt.d.applyGradients(dGrads.grads);
      let gVal: tf.Tensor = tf.scalar(0);
      const gGrads = tf.variableGrads(() => {
        const zt2 = tf.tensor2d(z2, [n, nd]);
        const fake = tf.add(this.#generator(zt2, c, false), noiseFake) as tf.Tensor2D;
        const out = this.#discriminate(fake, c);
        const lG = tf.mean(tf.softplus(tf.neg(out.d)));
        const lC = tf.losses.softmaxCrossEntropy(labels, out.c);
        gVal = tf.keep(lG);
        return tf.add(lG, tf.mul(lC, beta)) as tf.Scalar;
      }, this.generatorVariables());
      opt.g.applyGradients(gGrads.grads);
      return [dVal, gVal, cVal] as const;
    });
    this.syncAverage(step.emaDecay);
    let result: NgfLosses | null = null;
    if (step.read) {
      const [d, g, c] = losses.map((t) => (t.dataSync() as Float32Array)[0] ?? Number.NaN);
      result = { d: d as number, g: g as number, c: c as number };
    }
    for (const t of losses) t.dispose();
    return result;
  }

  /** Frees every tf variable of the model. */
  dispose(): void {
    for (const m of [
      ...this.#genIn,
      this.#genBody,
      ...this.#emaIn,
      this.#emaBody,
      this.#trunk,
      this.#dHead,
      this.#cHead,
    ])
      m.dispose();
  }
}

/** [start, size] of K contiguous near-equal chunks of n samples (generator k's share). */
function chunks(n: number, k: number): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  for (let i = 0; i < k; i++) {
    const size = Math.floor((n * (i + 1)) / k) - Math.floor((n * i) / k);
    out.push([start, size]);
    start += size;
  }
  return out;
}

/** Generator index of every sample of an n-batch (the chunk it falls in). */
function generatorLabels(n: number, k: number): Int32Array {
  const out = new Int32Array(n);
  chunks(n, k).forEach(([start, size], i) => out.fill(i, start, start + size));
  return out;
}

// ---------------------------------------------------------------------------------------
// Data set and trainer

/** One training sample: class, scenario and the window. */
export interface NgfSample {
  readonly flowClass: FlowClass;
  readonly scenario: TrafficScenario;
  readonly window: FlowWindow;
}

/** Per-class feature statistics of a sample set (std floored at 0.05 ln units). */
export function classStats(
  classes: readonly FlowClass[],
  samples: readonly NgfSample[],
): ClassStats[] {
  return classes.map((cls) => {
    const fs = samples
      .filter((s) => s.flowClass === cls && usableWindow(s.window))
      .map((s) => windowFeatures(s.window));
    if (fs.length === 0) throw new NgfError(`no training windows of class ${cls}`);
    const m = (i: number): number => fs.reduce((a, f) => a + f[i]!, 0) / fs.length;
    const mean: [number, number, number] = [m(0), m(1), m(2)];
    const sd = (i: number): number =>
      Math.max(0.05, Math.sqrt(fs.reduce((a, f) => a + (f[i]! - mean[i]!) ** 2, 0) / fs.length));
    return { mean, std: [sd(0), sd(1), sd(2)] };
  });
}

/** Anything that yields training batches. */
export interface BatchSource {
  batch(n: number, rand: () => number): NgfBatch;
}

/** Samples held as model inputs, drawn class-balanced. */
export class NgfDataset implements BatchSource {
  readonly x: Float32Array;
  readonly c: Float32Array;
  readonly size: number;
  readonly #byClass: number[][];
  readonly #weights: number[];

  /**
   * @param classWeights relative draw weight per class (default 1 each); unusable windows
   *   (no packets) are skipped
   */
  constructor(
    readonly model: NgfMgan,
    samples: readonly NgfSample[],
    classWeights: Partial<Record<FlowClass, number>> = {},
  ) {
    const usable = samples.filter((s) => usableWindow(s.window) && model.has(s.flowClass));
    const cd = model.conditionDim;
    this.size = usable.length;
    this.x = new Float32Array(usable.length * NGF_FEATURES);
    this.c = new Float32Array(usable.length * cd);
    const classes = model.config.classes;
    this.#byClass = classes.map(() => []);
    usable.forEach((s, i) => {
      this.x.set(model.normalise(s.flowClass, s.window), i * NGF_FEATURES);
      this.c.set(model.condition(s.flowClass, s.scenario), i * cd);
      this.#byClass[classes.indexOf(s.flowClass)]?.push(i);
    });
    this.#weights = classes.map((cls, i) =>
      (this.#byClass[i]?.length ?? 0) > 0 ? (classWeights[cls] ?? 1) : 0,
    );
    if (this.size === 0) throw new NgfError("no usable training windows");
  }

  /** A class-balanced batch of n samples drawn with `rand` (uniform [0, 1)). */
  batch(n: number, rand: () => number): NgfBatch {
    const cd = this.model.conditionDim;
    const x = new Float32Array(n * NGF_FEATURES);
    const c = new Float32Array(n * cd);
    const total = this.#weights.reduce((a, b) => a + b, 0);
    for (let i = 0; i < n; i++) {
      let u = rand() * total;
      let cls = 0;
      while (cls < this.#weights.length - 1 && u >= (this.#weights[cls] as number)) {
        u -= this.#weights[cls] as number;
        cls++;
      }
      const idx = this.#byClass[cls] as number[];
      const j = idx[Math.min(idx.length - 1, Math.floor(rand() * idx.length))] as number;
      x.set(this.x.subarray(j * NGF_FEATURES, (j + 1) * NGF_FEATURES), i * NGF_FEATURES);
      c.set(this.c.subarray(j * cd, (j + 1) * cd), i * cd);
    }
    return { x, c, n };
  }
}

/**
 * Batches whose rows come from `b` with probability `fraction`, else from `a`, row by row
 * (so every generator's share of a batch sees both sources).
 */
export class MixedSource implements BatchSource {
  constructor(
    readonly a: BatchSource,
    readonly b: BatchSource,
    readonly fraction: number,
  ) {}

  batch(n: number, rand: () => number): NgfBatch {
    const fromB = Array.from({ length: n }, () => rand() < this.fraction);
    const nb = fromB.filter(Boolean).length;
    const ba = this.a.batch(n - nb, rand);
    const bb = this.b.batch(nb, rand);
    const cd = ba.c.length / Math.max(1, ba.n) || bb.c.length / Math.max(1, bb.n);
    const x = new Float32Array(n * NGF_FEATURES);
    const c = new Float32Array(n * cd);
    let ia = 0;
    let ib = 0;
    fromB.forEach((useB, i) => {
      const [src, j] = useB ? [bb, ib++] : [ba, ia++];
      x.set(src.x.subarray(j * NGF_FEATURES, (j + 1) * NGF_FEATURES), i * NGF_FEATURES);
      c.set(src.c.subarray(j * cd, (j + 1) * cd), i * cd);
    });
    return { x, c, n };
  }
}

/** Options of an {@link NgfTrainer}. */
export interface NgfTrainerOptions {
  /** Adam learning rates of D/C and G. */
  readonly lrD?: number;
  readonly lrG?: number;
  readonly batchSize?: number;
  /** Initial instance-noise σ (normalised units), annealed linearly to 0 over `steps`. */
  readonly instanceNoise?: number;
  /** Decay of the generator weight average per step. */
  readonly emaDecay?: number;
  readonly seed?: number;
}

/** Runs MGAN steps on a data set; owns its optimizers (call {@link dispose}). */
export class NgfTrainer {
  readonly #opt: { d: tf.Optimizer; g: tf.Optimizer };
  readonly #rand: () => number;
  readonly #o: Required<NgfTrainerOptions>;
  #step = 0;

  constructor(
    readonly model: NgfMgan,
    options: NgfTrainerOptions = {},
  ) {
    this.#o = {
      lrD: options.lrD ?? 1e-3,
      lrG: options.lrG ?? 1e-3,
      batchSize: options.batchSize ?? 256,
      instanceNoise: options.instanceNoise ?? 0.1,
      emaDecay: options.emaDecay ?? 0.995,
      seed: options.seed ?? 1,
    };
    this.#opt = {
      d: tf.train.adam(this.#o.lrD, 0.5, 0.999),
      g: tf.train.adam(this.#o.lrG, 0.5, 0.999),
    };
    this.#rand = seededRandom(this.#o.seed);
  }

  /** Steps run so far. */
  get steps(): number {
    return this.#step;
  }

  /**
   * Runs `steps` steps on `data`; instance noise anneals over `horizon` steps (default
   * `steps`). Reports mean losses of the last `readEvery`-th steps through `onLosses`.
   */
  run(
    data: BatchSource,
    steps: number,
    opts: {
      horizon?: number;
      readEvery?: number;
      onLosses?: (step: number, l: NgfLosses) => void;
    } = {},
  ): void {
    const horizon = opts.horizon ?? steps;
    const readEvery = opts.readEvery ?? 0;
    for (let i = 0; i < steps; i++) this.step(data, horizon, readEvery, opts.onLosses);
  }

  /** One step (see {@link run}). */
  step(
    data: BatchSource,
    horizon: number,
    readEvery = 0,
    onLosses?: (step: number, l: NgfLosses) => void,
  ): NgfLosses | null {
    const frac = Math.min(1, this.#step / Math.max(1, horizon));
    const read = readEvery > 0 && (this.#step + 1) % readEvery === 0;
    const l = this.model.trainStep(data.batch(this.#o.batchSize, this.#rand), this.#opt, {
      seed: Math.floor(this.#rand() * 2 ** 31) + 1,
      noiseStd: this.#o.instanceNoise * (1 - frac),
      read,
      emaDecay: this.#o.emaDecay,
    });
    this.#step++;
    if (l && onLosses) onLosses(this.#step, l);
    return l;
  }

  /** Frees the optimizers' state (the model stays). */
  dispose(): void {
    this.#opt.d.dispose();
    this.#opt.g.dispose();
  }
}
