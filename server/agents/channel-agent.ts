/**
 * The pGF channel agent: predicts the channel of every band (per-subcarrier SNR, mean SNR,
 * Shannon capacity and their spread over fading) for a radio environment with the
 * conditional diffusion model of server/ml/pgf-diffusion.ts, and keeps learning: measured
 * channels that drift from its predictions trigger a fine-tune on recent measurements mixed
 * with samples it synthesises itself on the training distribution (so that it does not forget
 * the rest of the cell). Weights can be exported quantised (float16 / uint8) for the edge.
 */
import { isAbsolute, resolve } from "node:path";
import { REPO_ROOT } from "../config.ts";
import { initTf, tf } from "../ml/backend.ts";
import {
  gaussianSource,
  PgfDiffusion,
  PgfTrainer,
  type SampleSummary,
  seToSnrDb,
  snrDbToSe,
} from "../ml/pgf-diffusion.ts";
import type { NamedTensors, WeightEncoding } from "../ml/weights.ts";
import type { BandChannel, ChannelPrediction, RadioEnvironment } from "../net/contracts.ts";
import { checkRadioEnvironment } from "../net/channel-model.ts";
import { encodeEnvironment } from "../net/environments.ts";
import { seededRandom } from "../sim/random.ts";

/** Where the shipped float32 model lives, relative to the repository root. */
export const DEFAULT_PGF_DIR = "assets/models/pgf";

/** Source label of predictions made by the conditional-mean head alone (no sampling). */
export const PGF_MEAN_SOURCE = "pgf-mean-head";
/** Source label of predictions formed from the diffusion model's samples. */
export const PGF_SAMPLES_SOURCE = "pgf-diffusion";

/** A prediction, with the spread of the model's samples when it drew any. */
export interface PgfPrediction extends ChannelPrediction {
  /**
   * Per band: standard deviation over the samples of capacity (bit/s) and mean SNR (dB).
   * Absent with the `mean` estimator, which draws no samples.
   */
  readonly spread?: readonly {
    readonly bandId: string;
    readonly capacityStdBps: number;
    readonly snrStdDb: number;
  }[];
  /** Samples drawn per band vector (0 with the `mean` estimator). */
  readonly samples: number;
}

/**
 * How a prediction's capacity and SNR are formed: `samples` — the mean over the K diffusion
 * samples (the default); `mean` — from the conditional-mean head μ(c) alone (the
 * Rao–Blackwellised estimate: the residual the diffusion adds has zero mean by construction,
 * so this drops the sampling noise) — no DDIM sampling is run, predictions are labelled
 * {@link PGF_MEAN_SOURCE} and carry no spread. Distributions (quantiles, coverage) come from
 * {@link ChannelAgent.sampleCapacities} under either estimator.
 */
export type CapacityEstimator = "samples" | "mean";

/** When and how the agent adapts. */
export interface AdaptationOptions {
  /** Observations in the rolling drift window. */
  readonly window: number;
  /** Observations needed before drift may trigger adaptation. */
  readonly minObservations: number;
  /** Adapt when the window's capacity accuracy (1 − NMAE) falls below this. */
  readonly accuracyThreshold: number;
  /** Recent (environment, measurement) pairs kept for fine-tuning (oldest dropped). */
  readonly bufferSize: number;
  /** Fine-tuning steps per adaptation. */
  readonly steps: number;
  /** Batch size of a fine-tuning step. */
  readonly batch: number;
  /** Share of each batch taken from self-synthesised replay samples. */
  readonly replayFraction: number;
  /** Adam learning rate of the fine-tune (cosine-decayed over `steps`). */
  readonly learningRate: number;
  /**
   * Steps run per event-loop turn (the loop yields with setImmediate between chunks; one
   * step of batch 64 takes ~10–20 ms on the wasm backend).
   */
  readonly stepsPerChunk: number;
  /** Seed of the fine-tune's draws. */
  readonly seed: number;
}

export const DEFAULT_ADAPTATION: AdaptationOptions = Object.freeze({
  window: 16,
  minObservations: 8,
  accuracyThreshold: 0.9,
  bufferSize: 256,
  steps: 400,
  batch: 64,
  replayFraction: 0.5,
  learningRate: 5e-4,
  stepsPerChunk: 1,
  seed: 7,
});

/** What one adaptation did. */
export interface AdaptationReport {
  /** Fine-tuning steps run. */
  readonly steps: number;
  /** Wall time, ms. */
  readonly ms: number;
  /** Measurements in the buffer it trained on. */
  readonly measurements: number;
  /** Self-synthesised replay samples mixed in. */
  readonly replaySamples: number;
  /** Mean loss over the first and the last 10 % of the steps. */
  readonly lossStart: number;
  readonly lossEnd: number;
  /** Capacity accuracy (1 − NMAE) on the buffered measurements before and after. */
  readonly accuracyBefore: number;
  readonly accuracyAfter: number;
}

/** Raised when the agent is used after dispose() or given an unusable measurement. */
export class ChannelAgentError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ChannelAgentError";
  }
}

interface Observation {
  readonly cond: Float32Array;
  /** Normalised per-subcarrier target. */
  readonly target: Float32Array;
  /** Measured capacity per band (model band order), bit/s. */
  readonly capacity: Float64Array;
}

export class ChannelAgent {
  #model: PgfDiffusion;
  readonly #replayCond: Float32Array;
  readonly #replayRows: number;
  readonly #metadata: Record<string, unknown>;
  readonly #options: AdaptationOptions;
  readonly #estimator: CapacityEstimator;
  readonly #buffer: Observation[] = [];
  #errors: { abs: number; ref: number }[] = [];
  #adapting: Promise<AdaptationReport> | null = null;
  #adaptations = 0;
  #last: AdaptationReport | Error | null = null;
  #disposed = false;

  private constructor(
    model: PgfDiffusion,
    replay: tf.Tensor | undefined,
    metadata: Record<string, unknown>,
    options: AdaptationOptions,
    estimator: CapacityEstimator,
  ) {
    this.#model = model;
    this.#estimator = estimator;
    this.#metadata = metadata;
    this.#options = options;
    const C = model.config.condDim;
    this.#replayCond = replay
      ? new Float32Array(replay.dataSync() as Float32Array)
      : new Float32Array(0);
    this.#replayRows = Math.floor(this.#replayCond.length / C);
  }

  /**
   * Loads a model folder (relative paths resolve against the repository root).
   * @throws WeightsError when the folder is missing or holds another model
   */
  static async load(
    dir = DEFAULT_PGF_DIR,
    options: { adaptation?: Partial<AdaptationOptions>; estimator?: CapacityEstimator } = {},
  ): Promise<ChannelAgent> {
    await initTf();
    const path = isAbsolute(dir) ? dir : resolve(REPO_ROOT, dir);
    const { model, extras, metadata } = await PgfDiffusion.load(path);
    const replay = extras["replay/cond"];
    const agent = new ChannelAgent(
      model,
      replay,
      metadata,
      { ...DEFAULT_ADAPTATION, ...options.adaptation },
      options.estimator ?? "samples",
    );
    for (const t of Object.values(extras)) t.dispose();
    return agent;
  }

  /** The model's hyper-parameters and normalisation. */
  get config(): PgfDiffusion["config"] {
    return this.#model.config;
  }

  /** Training metadata from the manifest. */
  get metadata(): Readonly<Record<string, unknown>> {
    return this.#metadata;
  }

  /** Adaptations completed since load. */
  get adaptations(): number {
    return this.#adaptations;
  }

  /** The last fine-tune's report, or the error it failed with; null before the first. */
  get lastAdaptation(): AdaptationReport | Error | null {
    return this.#last;
  }

  /** How predictions are formed. */
  get estimator(): CapacityEstimator {
    return this.#estimator;
  }

  /** What answers: {@link PGF_MEAN_SOURCE} or {@link PGF_SAMPLES_SOURCE}. */
  get source(): string {
    return this.#estimator === "mean" ? PGF_MEAN_SOURCE : PGF_SAMPLES_SOURCE;
  }

  /**
   * `k` diffusion samples (fading realisations) of every band's capacity for each
   * environment: result[e][j][b], bit/s. `k` even (antithetic noise pairs).
   */
  sampleCapacities(envs: readonly RadioEnvironment[], k: number): Float64Array[][] {
    this.#alive();
    const m = this.#model;
    const C = m.config.condDim;
    const D = m.targetDim;
    const cond = new Float32Array(envs.length * C);
    envs.forEach((e, i) => cond.set(encodeEnvironment(e), i * C));
    const samples = m.sample(cond, envs.length, k);
    return envs.map((_, i) =>
      Array.from({ length: k }, (_, j) => {
        const row = (i * k + j) * D;
        return Float64Array.from(m.config.bands, (b, bi) => {
          const o = row + (m.bandOffsets[bi] as number);
          let se = 0;
          for (let q = 0; q < b.subcarriers; q++) se += Math.max(0, samples[o + q] as number);
          return (se * b.bandwidthHz) / b.subcarriers;
        });
      }),
    );
  }

  /** Whether a fine-tune is running. */
  get adapting(): boolean {
    return this.#adapting !== null;
  }

  /**
   * Predicted channel of every band for `env`. With the `samples` estimator: K samples of
   * the band vector drawn in one batched DDIM run, capacity the mean of the samples'
   * capacities, plus their spread; with `mean`: one pass of the conditional-mean head, no
   * sampling, no spread (source {@link PGF_MEAN_SOURCE}). Deterministic per environment
   * (fixed antithetic sampling noise). `inferenceMs` covers encoding, inference and summary.
   */
  predict(env: RadioEnvironment): Promise<PgfPrediction> {
    try {
      return Promise.resolve(this.predictSync(env));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** {@link predict}, synchronously. */
  predictSync(env: RadioEnvironment): PgfPrediction {
    return this.predictMany([env])[0] as PgfPrediction;
  }

  /**
   * Predictions for several environments in one batched run (each gets the batch's wall
   * time divided by the batch size as `inferenceMs`).
   */
  predictMany(envs: readonly RadioEnvironment[]): PgfPrediction[] {
    this.#alive();
    for (const env of envs) checkRadioEnvironment(env);
    const t0 = performance.now();
    const m = this.#model;
    const C = m.config.condDim;
    const K = m.config.samples;
    const D = m.targetDim;
    const cond = new Float32Array(envs.length * C);
    envs.forEach((e, i) => cond.set(encodeEnvironment(e), i * C));
    if (this.#estimator === "mean") {
      // The mean head answers: the DDIM samples would be thrown away, so none are drawn.
      const mean = m.meanOnly(cond, envs.length);
      const ms = (performance.now() - t0) / Math.max(1, envs.length);
      return envs.map((_, i) => {
        const s = meanSummary(m, mean, i);
        return {
          bands: m.config.bands.map((b, bi) => ({
            bandId: b.id,
            snrDb: s.snrDb[bi] as number,
            capacityBps: s.capacityBps[bi] as number,
            subcarrierSnrDb: Array.from(s.subcarrierSnrDb[bi] as Float64Array),
          })),
          samples: 0,
          inferenceMs: ms,
          source: PGF_MEAN_SOURCE,
        };
      });
    }
    const { samples } = m.draw(cond, envs.length, K);
    const summaries = envs.map((_, i) => m.summarise(samples, K, i * K * D));
    const ms = (performance.now() - t0) / Math.max(1, envs.length);
    return summaries.map((s) => ({
      bands: m.config.bands.map((b, bi) => ({
        bandId: b.id,
        snrDb: s.snrDb[bi] as number,
        capacityBps: s.capacityBps[bi] as number,
        subcarrierSnrDb: Array.from(s.subcarrierSnrDb[bi] as Float64Array),
      })),
      spread: m.config.bands.map((b, bi) => ({
        bandId: b.id,
        capacityStdBps: s.capacityStdBps[bi] as number,
        snrStdDb: s.snrStdDb[bi] as number,
      })),
      samples: K,
      inferenceMs: ms,
      source: PGF_SAMPLES_SOURCE,
    }));
  }

  /**
   * Feeds one measured channel back. `drift` is the capacity NMAE (Σ|ĉ − c| / Σ|c| over
   * bands) of the rolling window of the last `window` observations; when at least
   * `minObservations` are in and `1 − drift` is below `accuracyThreshold`, a fine-tune starts
   * in the background (`adapted: true` on the call that started it; predictions keep using
   * the old weights until the new ones are swapped in). Bands are matched by id; the
   * fine-tuning target of a band takes its shape across subcarriers from `subcarrierSnrDb`
   * (the model's own prediction when absent) and its level from the measured capacity.
   * @throws ChannelAgentError when no measured band matches the model's bands
   */
  observe(
    env: RadioEnvironment,
    measured: readonly BandChannel[],
  ): { drift: number; adapted: boolean } {
    this.#alive();
    const m = this.#model;
    const byId = new Map(measured.map((b) => [b.bandId, b]));
    const bands = m.config.bands;
    if (!bands.some((b) => byId.has(b.id)))
      throw new ChannelAgentError("the measurement names none of the model's bands");
    const cond = encodeEnvironment(env);
    const pred = this.predictSync(env);
    const target = new Float32Array(m.targetDim);
    const capacity = new Float64Array(bands.length);
    let abs = 0;
    let ref = 0;
    bands.forEach((b, bi) => {
      const o = m.bandOffsets[bi] as number;
      const p = pred.bands[bi] as BandChannel;
      const meas = byId.get(b.id);
      const predSc = p.subcarrierSnrDb ?? [];
      const sc = meas?.subcarrierSnrDb;
      // Shape from the measured subcarriers (else the model's own), level from the measured
      // capacity: the target's Δf·Σ x_k equals the measured capacity exactly.
      const shape = sc && sc.length === b.subcarriers ? sc : predSc;
      let sum = 0;
      for (let k = 0; k < b.subcarriers; k++) {
        const se = snrDbToSe(shape[k] as number);
        target[o + k] = se;
        sum += se;
      }
      const level = meas ? meas.capacityBps / b.bandwidthHz - sum / b.subcarriers : 0;
      for (let k = 0; k < b.subcarriers; k++) target[o + k] = (target[o + k] as number) + level;
      capacity[bi] = meas ? meas.capacityBps : p.capacityBps;
      if (meas) {
        abs += Math.abs(p.capacityBps - meas.capacityBps);
        ref += Math.abs(meas.capacityBps);
      }
    });
    m.normalise(target);
    this.#buffer.push({ cond, target, capacity });
    if (this.#buffer.length > this.#options.bufferSize) this.#buffer.shift();
    this.#errors.push({ abs, ref });
    if (this.#errors.length > this.#options.window) this.#errors.shift();
    const drift = nmae(this.#errors);
    let adapted = false;
    if (
      !this.#adapting &&
      this.#errors.length >= this.#options.minObservations &&
      1 - drift < this.#options.accuracyThreshold
    ) {
      void this.#startAdaptation();
      adapted = true;
    }
    return { drift, adapted };
  }

  /** Starts a fine-tune on the buffered measurements now (or joins the running one). */
  adapt(): Promise<AdaptationReport> {
    this.#alive();
    if (!this.#buffer.length)
      return Promise.reject(new ChannelAgentError("no measurements to adapt to"));
    return this.#adapting ?? this.#startAdaptation();
  }

  /** Resolves when no fine-tune is running (with the last one's report, or null). */
  async whenIdle(): Promise<AdaptationReport | null> {
    return this.#adapting ? this.#adapting : null;
  }

  /**
   * Writes the current weights (adaptations included) quantised for edge deployment.
   * @param dir output folder (relative paths resolve against the repository root)
   * @returns bytes of `weights.bin`
   */
  exportQuantised(
    dir: string,
    encoding: Extract<WeightEncoding, "float16" | "uint8">,
  ): Promise<number> {
    this.#alive();
    const path = isAbsolute(dir) ? dir : resolve(REPO_ROOT, dir);
    const replay = this.#replayRows
      ? {
          "replay/cond": tf.tensor2d(this.#replayCond, [
            this.#replayRows,
            this.#model.config.condDim,
          ]),
        }
      : {};
    return this.#model
      .save(path, {
        encoding,
        metadata: { ...this.#metadata, quantised: encoding, adaptations: this.#adaptations },
        extras: replay as NamedTensors,
      })
      .finally(() => {
        for (const t of Object.values(replay)) t.dispose();
      });
  }

  /** Frees the model; a running fine-tune stops at its next chunk. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#model.dispose();
  }

  #alive(): void {
    if (this.#disposed) throw new ChannelAgentError("the channel agent was disposed");
  }

  #startAdaptation(): Promise<AdaptationReport> {
    const run = this.#runAdaptation().finally(() => {
      this.#adapting = null;
    });
    this.#adapting = run;
    // A failed background fine-tune must not become an unhandled rejection; it is kept in
    // lastAdaptation, and callers that await adapt() or whenIdle() see it too.
    run.then(
      (report) => (this.#last = report),
      (err: unknown) => (this.#last = err instanceof Error ? err : new Error(String(err))),
    );
    return run;
  }

  async #runAdaptation(): Promise<AdaptationReport> {
    // Let the observe() call that triggered this return first.
    await yieldToLoop();
    const t0 = performance.now();
    const o = this.#options;
    const teacher = this.#model;
    const C = teacher.config.condDim;
    const D = teacher.targetDim;

    // Self-synthesised replay on the training distribution: one antithetic pair of samples
    // of the current model per stored training condition.
    const replayRows = Math.min(this.#replayRows, 256);
    let replayTargets: Float32Array = new Float32Array(0);
    let replayConds: Float32Array = new Float32Array(0);
    if (replayRows > 0 && o.replayFraction > 0) {
      replayConds = this.#replayCond.subarray(0, replayRows * C);
      const noise = new Float32Array(replayRows * 2 * D);
      const g = gaussianSource(o.seed ^ 0x2545f491);
      for (let i = 0; i < replayRows; i++) {
        for (let j = 0; j < D; j++) {
          const z = g();
          noise[2 * i * D + j] = z;
          noise[(2 * i + 1) * D + j] = -z;
        }
      }
      // In chunks, yielding between them, so the event loop keeps turning.
      replayTargets = new Float32Array(replayRows * 2 * D);
      for (let r = 0; r < replayRows; r += 8) {
        await yieldToLoop();
        if (this.#disposed) throw new ChannelAgentError("disposed during adaptation");
        const n = Math.min(8, replayRows - r);
        const part = teacher.sample(
          replayConds.subarray(r * C, (r + n) * C),
          n,
          2,
          noise.subarray(r * 2 * D, (r + n) * 2 * D),
        );
        replayTargets.set(teacher.normalise(part), r * 2 * D);
      }
    }
    const replayN = replayTargets.length / D;

    const student = teacher.clone();
    const trainer = new PgfTrainer(student, {
      learningRate: o.learningRate,
      totalSteps: o.steps,
      warmupSteps: Math.min(20, o.steps),
      minLearningRate: o.learningRate * 0.1,
      emaDecay: 0,
      seed: o.seed + this.#adaptations,
    });
    const rand = seededRandom(o.seed * 31 + this.#adaptations);
    const B = o.batch;
    const fromReplay = replayN > 0 ? Math.round(B * o.replayFraction) : 0;
    const x0 = new Float32Array(B * D);
    const cond = new Float32Array(B * C);
    const losses: number[] = [];
    try {
      for (let step = 0; step < o.steps; step++) {
        if (this.#disposed) throw new ChannelAgentError("disposed during adaptation");
        for (let i = 0; i < B; i++) {
          if (i < fromReplay) {
            const r = Math.floor(rand() * replayN);
            x0.set(replayTargets.subarray(r * D, (r + 1) * D), i * D);
            // Rows 2i and 2i+1 of the replay targets share condition i.
            cond.set(replayConds.subarray((r >> 1) * C, ((r >> 1) + 1) * C), i * C);
          } else {
            // The live buffer: measurements that arrive during the fine-tune join it.
            const buffer = this.#buffer;
            const ob = buffer[Math.floor(rand() * buffer.length)] as Observation;
            x0.set(ob.target, i * D);
            cond.set(ob.cond, i * C);
          }
        }
        losses.push(trainer.step(x0, cond, B));
        if ((step + 1) % o.stepsPerChunk === 0) await yieldToLoop();
      }
    } catch (err) {
      trainer.dispose();
      student.dispose();
      throw err instanceof ChannelAgentError
        ? err
        : new ChannelAgentError("adaptation failed", { cause: err });
    }
    trainer.dispose();
    if (this.#disposed) {
      student.dispose();
      throw new ChannelAgentError("disposed during adaptation");
    }
    const buffer = [...this.#buffer];
    let accuracyBefore: number;
    let accuracyAfter: number;
    try {
      accuracyBefore = await this.#bufferAccuracy(teacher, buffer);
      accuracyAfter = await this.#bufferAccuracy(student, buffer);
    } catch (err) {
      student.dispose();
      throw err;
    }
    this.#model = student;
    teacher.dispose();
    this.#adaptations += 1;
    this.#errors = [];
    const tenth = Math.max(1, Math.floor(losses.length / 10));
    return {
      steps: losses.length,
      ms: performance.now() - t0,
      measurements: buffer.length,
      replaySamples: replayN,
      lossStart: avg(losses.slice(0, tenth)),
      lossEnd: avg(losses.slice(-tenth)),
      accuracyBefore,
      accuracyAfter,
    };
  }

  /** Capacity accuracy of `model` on buffered measurements. */
  async #bufferAccuracy(model: PgfDiffusion, buffer: readonly Observation[]): Promise<number> {
    const C = model.config.condDim;
    const K = model.config.samples;
    const D = model.targetDim;
    const cond = new Float32Array(buffer.length * C);
    buffer.forEach((b, i) => cond.set(b.cond, i * C));
    let abs = 0;
    let ref = 0;
    const chunk = 4;
    for (let s = 0; s < buffer.length; s += chunk) {
      if (s > 0) await yieldToLoop();
      if (this.#disposed) throw new ChannelAgentError("disposed during adaptation");
      const n = Math.min(chunk, buffer.length - s);
      const part = cond.subarray(s * C, (s + n) * C);
      const mean = this.#estimator === "mean" ? model.meanOnly(part, n) : null;
      const samples = mean ? null : model.sample(part, n, K);
      for (let i = 0; i < n; i++) {
        const sum = mean
          ? meanSummary(model, mean, i)
          : model.summarise(samples as Float32Array, K, i * K * D);
        const meas = (buffer[s + i] as Observation).capacity;
        meas.forEach((c, bi) => {
          abs += Math.abs((sum.capacityBps[bi] as number) - c);
          ref += Math.abs(c);
        });
      }
    }
    return ref > 0 ? 1 - abs / ref : 1;
  }
}

/** Capacity and SNR of condition `i` from the conditional mean (no spread). */
function meanSummary(
  m: PgfDiffusion,
  mean: Float32Array,
  i: number,
): Pick<SampleSummary, "capacityBps" | "snrDb" | "subcarrierSnrDb"> {
  const D = m.targetDim;
  const capacityBps = new Float64Array(m.config.bands.length);
  const snrDb = new Float64Array(m.config.bands.length);
  const subcarrierSnrDb: Float64Array[] = [];
  m.config.bands.forEach((b, bi) => {
    const o = i * D + (m.bandOffsets[bi] as number);
    const sc = new Float64Array(b.subcarriers);
    let cap = 0;
    let snr = 0;
    for (let k = 0; k < b.subcarriers; k++) {
      const se = Math.max(0, mean[o + k] as number);
      cap += (se * b.bandwidthHz) / b.subcarriers;
      sc[k] = seToSnrDb(se);
      snr += (sc[k] as number) / b.subcarriers;
    }
    capacityBps[bi] = cap;
    snrDb[bi] = snr;
    subcarrierSnrDb.push(sc);
  });
  return { capacityBps, snrDb, subcarrierSnrDb };
}

/** Lets the event loop run (timers, I/O) before continuing. */
function yieldToLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

function nmae(errors: readonly { abs: number; ref: number }[]): number {
  let a = 0;
  let r = 0;
  for (const e of errors) {
    a += e.abs;
    r += e.ref;
  }
  return r > 0 ? a / r : 0;
}

function avg(v: readonly number[]): number {
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN;
}
