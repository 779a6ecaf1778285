/**
 * The pGF channel agent's model: a conditional denoising diffusion model (DDPM) over the
 * per-subcarrier channel of every band, conditioned on the environment's features.
 *
 * - Target vector `x₀`: the Shannon spectral efficiency `log2(1 + SNR_k)` (bit/s/Hz) of every
 *   modelled subcarrier of every band, in band order (10 bands × 16 subcarriers = 160
 *   numbers) — a monotone, invertible image of the per-subcarrier SNR (`SNR_k = 2^x − 1`) in
 *   which band capacity is linear (`C = Δf·Σ_k x_k`) — each band normalised by its training
 *   mean and standard deviation (`config.norm`). A sample is one fading realisation of the
 *   channel, so the model learns the distribution, not just its mean.
 * - Residual formulation (as in CorrDiff, Mardani et al. 2023): a conditional-mean network
 *   μ(c) (an {@link Mlp}, MSE on the environment's average over its fading draws) carries
 *   the large-scale part; the diffusion model generates the fading residual
 *   `r = (x₀ − μ(c)) / κ` (κ: per-band fading spread in normalised units) given the condition.
 *   A sample is `μ(c) + κ·r`.
 * - Condition: `encodeEnvironment(env)` (server/net/environments.ts) plus a sinusoidal
 *   embedding of the diffusion step.
 * - Denoiser: an {@link Mlp} on `[r_t, condition, step embedding]` with SiLU hidden layers,
 *   predicting the noise ε (DDPM ε-prediction objective, `‖ε − ε̂(r_t, c, t)‖²`).
 * - Schedule: cosine (Nichol & Dhariwal 2021) with `T` steps; sampling with deterministic
 *   DDIM (η = 0) over `S` evenly spaced steps, `r̂₀` clipped to ±`clipX0`; K samples per
 *   condition from fixed antithetic noise pairs (z, −z), batched in one forward per step.
 * - Training: Adam (tensor implementation, cosine learning-rate decay, warm-up), weight EMA
 *   (the EMA is what gets saved and sampled).
 *
 * Dense layers use {@link linear}, whose gradient multiplies by explicit transposes: the wasm
 * backend's transposed `matMul` (what the default gradient of `tf.matMul` uses) is ~10×
 * slower than a transpose followed by a plain `matMul`.
 */
import { tf } from "./backend.ts";
import { Mlp } from "./mlp.ts";
import { loadWeights, type NamedTensors, saveWeights, type WeightEncoding } from "./weights.ts";
import { z } from "zod";
import { gaussianFrom, seededRandom } from "../sim/random.ts";
import type { Band } from "../net/contracts.ts";

/** The model kind in weight manifests. */
export const PGF_KIND = "pgf-diffusion";

/** Hyper-parameters and normalisation of a pGF model (saved as the manifest's config). */
export interface PgfConfig {
  /** The bands the model predicts, in output order. */
  readonly bands: readonly Band[];
  /** Length of the conditioning vector (`ENV_FEATURES`). */
  readonly condDim: number;
  /** Hidden layer widths of the denoiser. */
  readonly hidden: readonly number[];
  /** Hidden layer widths of the conditional-mean network. */
  readonly meanHidden: readonly number[];
  /**
   * Scale κ of the diffused residual per band, in normalised units (≈ the within-environment
   * standard deviation of the normalised target, i.e. the fading spread).
   */
  readonly residualScale: readonly number[];
  /** Width of the sinusoidal step embedding (even). */
  readonly timeEmbedDim: number;
  /** Diffusion steps T of the training chain. */
  readonly diffusionSteps: number;
  /** Part of the cosine curve the schedule uses (see {@link cosineAlphaBar}); 1 when absent. */
  readonly scheduleEnd?: number;
  /** DDIM steps S at inference. */
  readonly sampleSteps: number;
  /** Samples K per prediction (even: antithetic pairs). */
  readonly samples: number;
  /** Clip of the predicted x̂₀ during sampling, in normalised units. */
  readonly clipX0: number;
  /** Per-band normalisation of the target, bit/s/Hz (mean and standard deviation). */
  readonly norm: { readonly mean: readonly number[]; readonly std: readonly number[] };
  /** Seed of the fixed sampling noise (predictions are deterministic per environment). */
  readonly sampleSeed: number;
}

const positiveInt = z.number().int().positive();
const ConfigSchema = z.object({
  bands: z
    .array(
      z.object({
        id: z.string().min(1),
        direction: z.enum(["uplink", "downlink"]),
        centerHz: z.number().positive(),
        bandwidthHz: z.number().positive(),
        subcarriers: positiveInt,
      }),
    )
    .min(1),
  condDim: positiveInt,
  hidden: z.array(positiveInt).min(1),
  meanHidden: z.array(positiveInt),
  residualScale: z.array(z.number().positive()),
  timeEmbedDim: positiveInt,
  diffusionSteps: positiveInt,
  scheduleEnd: z.number().gt(0).max(1).optional(),
  sampleSteps: positiveInt,
  samples: positiveInt,
  clipX0: z.number().positive(),
  norm: z.object({ mean: z.array(z.number()), std: z.array(z.number().positive()) }),
  sampleSeed: z.number().int(),
});

/** Per-band statistics of a set of samples. */
export interface SampleSummary {
  /** Mean capacity over the samples, bit/s, per band. */
  readonly capacityBps: Float64Array;
  /** Standard deviation of the capacity over the samples, bit/s, per band. */
  readonly capacityStdBps: Float64Array;
  /** Mean of the band-mean SNR over the samples, dB, per band. */
  readonly snrDb: Float64Array;
  /** Standard deviation of the band-mean SNR over the samples, dB, per band. */
  readonly snrStdDb: Float64Array;
  /** Per-subcarrier SNR of the samples' mean spectral efficiency, dB, per band. */
  readonly subcarrierSnrDb: Float64Array[];
}

/** Raised for an unusable model configuration or input. */
export class PgfError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PgfError";
  }
}

/**
 * Dense layer `x·w + b` whose gradient uses explicit transposes (see the module comment).
 * @param x [batch, in]  @param w [in, out]  @param b [out]
 */
export const linear = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor, tf.GradSaveFunc];
  save([x, w]);
  return {
    value: tf.add(tf.matMul(x, w), b) as tf.Tensor2D,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      const g = dy as tf.Tensor2D;
      return [tf.matMul(g, tf.transpose(ws)), tf.matMul(tf.transpose(xs), g), tf.sum(g, 0)];
    },
  };
}) as (x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor) => tf.Tensor2D;

/**
 * ᾱ_t of the cosine schedule for t = 1 … T (index t − 1): `ᾱ(t) = f(u·t/T)/f(0)`,
 * `f(x) = cos²((x + s)/(1 + s)·π/2)`, s = 0.008, with β capped at 0.999.
 * @param end the part `u` of the cosine curve used: 1 is the full curve (ᾱ_T ≈ 6·10⁻⁸);
 *   0.95 ends at ᾱ_T ≈ 6·10⁻³, so the first DDIM step's x̂₀ = (x_T − √(1−ᾱ)·ε̂)/√ᾱ amplifies
 *   the denoiser's error ~13× instead of ~4000× (x_T still holds < 1 % signal power)
 */
export function cosineAlphaBar(steps: number, end = 1): Float64Array {
  const s = 0.008;
  const f = (t: number) => Math.cos((((end * t) / steps + s) / (1 + s)) * (Math.PI / 2)) ** 2;
  const out = new Float64Array(steps);
  let prev = 1;
  for (let t = 1; t <= steps; t++) {
    const beta = Math.min(1 - f(t) / f(t - 1), 0.999);
    prev *= 1 - beta;
    out[t - 1] = prev;
  }
  return out;
}

/** Sinusoidal embedding of diffusion steps `t` (0-based) into `dim` numbers each. */
export function timeEmbedding(t: ArrayLike<number>, dim: number): Float32Array {
  const half = dim / 2;
  const out = new Float32Array(t.length * dim);
  for (let i = 0; i < t.length; i++) {
    const ti = t[i] as number;
    for (let j = 0; j < half; j++) {
      const freq = Math.exp((-Math.log(1000) * j) / half);
      out[i * dim + j] = Math.sin(ti * freq);
      out[i * dim + half + j] = Math.cos(ti * freq);
    }
  }
  return out;
}

/** Spectral efficiency log2(1 + SNR), bit/s/Hz, of an SNR in dB. */
export function snrDbToSe(snrDb: number): number {
  return Math.log2(1 + 10 ** (snrDb / 10));
}

/** SNR, dB, of a spectral efficiency (bit/s/Hz; floored at 1e-4 so the result is finite). */
export function seToSnrDb(se: number): number {
  return 10 * Math.log10(2 ** Math.max(se, 1e-4) - 1);
}

/** Standard normal draws (Box–Muller) from a seeded uniform source. */
export function gaussianSource(seed: number): () => number {
  return gaussianFrom(seededRandom(seed));
}

/** Forward pass of an {@link Mlp} through {@link linear} layers (SiLU between them). */
function forward(mlp: Mlp, x: tf.Tensor2D): tf.Tensor2D {
  const named = mlp.tensors();
  const layers = mlp.sizes.length - 1;
  let h = x;
  for (let i = 0; i < layers; i++) {
    h = linear(h, named[`${mlp.name}/w${i}`] as tf.Tensor, named[`${mlp.name}/b${i}`] as tf.Tensor);
    if (i + 1 < layers) h = tf.mul(h, tf.sigmoid(h));
  }
  return h;
}

/** The conditional diffusion model (weights in TensorFlow.js variables). */
export class PgfDiffusion {
  /** Length of the target vector (Σ subcarriers). */
  readonly targetDim: number;
  /** Start of each band in the target vector. */
  readonly bandOffsets: readonly number[];
  readonly #alphaBar: Float64Array;
  readonly #mean: Mlp;
  readonly #denoiser: Mlp;
  /** Residual scale per target element, [1, D]. */
  readonly #kappa: tf.Tensor2D;
  readonly #noise = new Map<number, tf.Tensor2D>();

  /**
   * @param params existing parameters (`mean/w<i>`, `mean/b<i>`, `denoiser/w<i>`,
   *   `denoiser/b<i>`); fresh He-normal ones (seeded) when absent. The tensors are copied.
   */
  constructor(
    readonly config: PgfConfig,
    params?: NamedTensors,
    seed = 1,
  ) {
    if (config.timeEmbedDim % 2 || config.samples % 2)
      throw new PgfError("timeEmbedDim and samples must be even");
    const nb = config.bands.length;
    if (
      config.norm.mean.length !== nb ||
      config.norm.std.length !== nb ||
      config.residualScale.length !== nb
    )
      throw new PgfError("norm and residualScale need one value per band");
    const offsets: number[] = [];
    let d = 0;
    for (const b of config.bands) {
      offsets.push(d);
      d += b.subcarriers;
    }
    this.targetDim = d;
    this.bandOffsets = offsets;
    this.#alphaBar = cosineAlphaBar(config.diffusionSteps, config.scheduleEnd ?? 1);
    const kappa = new Float32Array(d);
    config.bands.forEach((b, bi) =>
      kappa.fill(
        config.residualScale[bi] as number,
        offsets[bi],
        (offsets[bi] as number) + b.subcarriers,
      ),
    );
    this.#kappa = tf.keep(tf.tensor2d(kappa, [1, d]));
    // Variables outlive the scope; the initial tensors they were made from do not.
    let mean: Mlp | undefined;
    let denoiser: Mlp | undefined;
    tf.tidy(() => {
      const init =
        params && Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v.clone()]));
      mean = new Mlp("mean", [config.condDim, ...config.meanHidden, d], "silu", init, seed);
      denoiser = new Mlp(
        "denoiser",
        [d + config.condDim + config.timeEmbedDim, ...config.hidden, d],
        "silu",
        init,
        seed + 100,
      );
    });
    this.#mean = mean as Mlp;
    this.#denoiser = denoiser as Mlp;
  }

  /** Loads a saved model folder. @throws WeightsError, PgfError */
  static async load(
    dir: string,
  ): Promise<{ model: PgfDiffusion; extras: NamedTensors; metadata: Record<string, unknown> }> {
    const { manifest, tensors } = await loadWeights(dir, PGF_KIND);
    const parsed = ConfigSchema.safeParse(manifest.config);
    if (!parsed.success) {
      for (const t of Object.values(tensors)) t.dispose();
      throw new PgfError(`${dir}: model.json holds no valid pGF config`, { cause: parsed.error });
    }
    const config: PgfConfig = parsed.data;
    const params: NamedTensors = {};
    const extras: NamedTensors = {};
    for (const [k, v] of Object.entries(tensors))
      (k.startsWith("denoiser/") || k.startsWith("mean/") ? params : extras)[k] = v;
    try {
      const model = new PgfDiffusion(config, params);
      return { model, extras, metadata: manifest.metadata };
    } catch (err) {
      for (const t of Object.values(extras)) t.dispose();
      throw new PgfError(`${dir}: not a usable pGF model`, { cause: err });
    } finally {
      for (const t of Object.values(params)) t.dispose();
    }
  }

  /**
   * Saves the model (and `extras`, e.g. the replay conditions) with {@link saveWeights}.
   * @returns bytes of `weights.bin`
   */
  save(
    dir: string,
    options: {
      encoding?: WeightEncoding;
      metadata?: Record<string, unknown>;
      extras?: NamedTensors;
    } = {},
  ): Promise<number> {
    return saveWeights(
      dir,
      PGF_KIND,
      this.config as unknown as Record<string, unknown>,
      { ...this.tensors(), ...options.extras },
      {
        encoding: options.encoding ?? "float32",
        ...(options.metadata && { metadata: options.metadata }),
      },
    );
  }

  /** An independent copy (own variables). */
  clone(): PgfDiffusion {
    return new PgfDiffusion(this.config, this.tensors());
  }

  /** The trainable variables (mean network, then denoiser). */
  variables(): tf.Variable[] {
    return [...this.#mean.variables(), ...this.#denoiser.variables()];
  }

  /** Parameters by name. */
  tensors(): NamedTensors {
    return { ...this.#mean.tensors(), ...this.#denoiser.tensors() };
  }

  /** ᾱ_t for t = 0 … T − 1. */
  get alphaBar(): Float64Array {
    return this.#alphaBar;
  }

  /** Residual scale κ per target element, [1, D] (normalised units). */
  get residualScale(): tf.Tensor2D {
    return this.#kappa;
  }

  /** Conditional mean μ(c) of the normalised target, [n, D], for conditions [n, C]. */
  meanOf(cond: tf.Tensor2D): tf.Tensor2D {
    return forward(this.#mean, cond);
  }

  /** Predicted noise ε̂ for `xt` [n, D] with conditions [n, C] and step embeddings [n, E]. */
  epsilon(xt: tf.Tensor2D, cond: tf.Tensor2D, temb: tf.Tensor2D): tf.Tensor2D {
    return forward(this.#denoiser, tf.concat([xt, cond, temb], 1));
  }

  /** Spectral efficiency (bit/s/Hz) → normalised target, in place over rows of length D. */
  normalise(se: Float32Array): Float32Array {
    return this.#affine(se, false);
  }

  /** Normalised target → spectral efficiency (bit/s/Hz), in place over rows of length D. */
  denormalise(x: Float32Array): Float32Array {
    return this.#affine(x, true);
  }

  #affine(v: Float32Array, inverse: boolean): Float32Array {
    const D = this.targetDim;
    const { mean, std } = this.config.norm;
    for (let row = 0; row + D <= v.length; row += D) {
      this.config.bands.forEach((b, bi) => {
        const m = mean[bi] as number;
        const s = std[bi] as number;
        const o = row + (this.bandOffsets[bi] as number);
        for (let k = 0; k < b.subcarriers; k++) {
          const x = v[o + k] as number;
          v[o + k] = inverse ? x * s + m : (x - m) / s;
        }
      });
    }
    return v;
  }

  /** The fixed sampling noise for `k` samples: antithetic pairs (z, −z), [k, D]. */
  #fixedNoise(k: number): tf.Tensor2D {
    let t = this.#noise.get(k);
    if (!t) {
      const g = gaussianSource(this.config.sampleSeed);
      const D = this.targetDim;
      const v = new Float32Array(k * D);
      for (let i = 0; i < k / 2; i++) {
        for (let j = 0; j < D; j++) {
          const z = g();
          v[2 * i * D + j] = z;
          v[(2 * i + 1) * D + j] = -z;
        }
      }
      t = tf.keep(tf.tensor2d(v, [k, D]));
      this.#noise.set(k, t);
    }
    return t;
  }

  /**
   * Draws `k` samples for each of `n` conditions: μ(c) plus κ times a residual drawn with
   * deterministic DDIM.
   * @param cond n × condDim conditioning vectors, row-major
   * @param k samples per condition (even); `config.samples` by default
   * @param noise starting noise [n·k, D]; the fixed antithetic noise by default
   * @returns n·k × D spectral efficiencies, bit/s/Hz (rows grouped by condition)
   */
  sample(
    cond: Float32Array,
    n: number,
    k = this.config.samples,
    noise?: Float32Array,
  ): Float32Array {
    return this.draw(cond, n, k, noise).samples;
  }

  /**
   * {@link sample}, also returning the conditional mean μ(c) of each condition (n × D
   * spectral efficiencies, bit/s/Hz) from the same forward passes.
   */
  draw(
    cond: Float32Array,
    n: number,
    k = this.config.samples,
    noise?: Float32Array,
  ): { samples: Float32Array; mean: Float32Array } {
    const C = this.config.condDim;
    const D = this.targetDim;
    const E = this.config.timeEmbedDim;
    if (cond.length !== n * C)
      throw new PgfError(`cond has ${cond.length} values, expected ${n}×${C}`);
    if (k % 2 && !noise) throw new PgfError("k must be even (antithetic noise)");
    const out = tf.tidy(() => {
      const c = tf.tensor2d(cond, [n, C]);
      const mu = this.meanOf(c);
      const repeat = (t: tf.Tensor2D, w: number) =>
        tf.reshape(tf.tile(tf.reshape(t, [n, 1, w]), [1, k, 1]), [n * k, w]) as tf.Tensor2D;
      const crep = repeat(c, C);
      let x: tf.Tensor2D = noise
        ? tf.tensor2d(noise, [n * k, D])
        : (tf.tile(this.#fixedNoise(k), [n, 1]) as tf.Tensor2D);
      const T = this.config.diffusionSteps;
      const S = Math.max(1, Math.min(this.config.sampleSteps, T));
      const steps = Array.from({ length: S }, (_, i) =>
        Math.round(((T - 1) * (S - 1 - i)) / Math.max(1, S - 1)),
      );
      const clip = this.config.clipX0;
      for (let i = 0; i < S; i++) {
        const t = steps[i] as number;
        const ab = this.#alphaBar[t] as number;
        const abPrev = i + 1 < S ? (this.#alphaBar[steps[i + 1] as number] as number) : 1;
        const temb = tf.tile(tf.tensor2d(timeEmbedding([t], E), [1, E]), [n * k, 1]);
        const eps = this.epsilon(x, crep, temb as tf.Tensor2D);
        const x0 = tf.clipByValue(
          tf.div(tf.sub(x, tf.mul(eps, Math.sqrt(1 - ab))), Math.sqrt(ab)),
          -clip,
          clip,
        );
        if (abPrev >= 1) {
          x = x0 as tf.Tensor2D;
          break;
        }
        const epsClipped = tf.div(tf.sub(x, tf.mul(x0, Math.sqrt(ab))), Math.sqrt(1 - ab));
        x = tf.add(
          tf.mul(x0, Math.sqrt(abPrev)),
          tf.mul(epsClipped, Math.sqrt(1 - abPrev)),
        ) as tf.Tensor2D;
      }
      return [tf.add(repeat(mu, D), tf.mul(x, this.#kappa)), mu];
    });
    const [samples, mean] = out.map((t) => {
      const v = new Float32Array(t.dataSync() as Float32Array);
      t.dispose();
      return this.denormalise(v);
    }) as [Float32Array, Float32Array];
    return { samples, mean };
  }

  /**
   * The conditional mean μ(c) alone (no DDIM sampling): n × D spectral efficiencies,
   * bit/s/Hz. What the `mean` estimator answers with; one forward pass of the mean network.
   */
  meanOnly(cond: Float32Array, n: number): Float32Array {
    const C = this.config.condDim;
    if (cond.length !== n * C)
      throw new PgfError(`cond has ${cond.length} values, expected ${n}×${C}`);
    const t = tf.tidy(() => this.meanOf(tf.tensor2d(cond, [n, C])));
    const v = new Float32Array(t.dataSync() as Float32Array);
    t.dispose();
    return this.denormalise(v);
  }

  /**
   * Per-band statistics of the samples of one condition.
   * @param samples rows of spectral efficiency (bit/s/Hz) from {@link sample}
   * @param k samples of the condition  @param offset index of its first value in `samples`
   */
  summarise(samples: Float32Array, k: number, offset = 0): SampleSummary {
    const D = this.targetDim;
    const nb = this.config.bands.length;
    const capacityBps = new Float64Array(nb);
    const capacityStdBps = new Float64Array(nb);
    const snrDb = new Float64Array(nb);
    const snrStdDb = new Float64Array(nb);
    const subcarrierSnrDb: Float64Array[] = [];
    this.config.bands.forEach((band, bi) => {
      const o = this.bandOffsets[bi] as number;
      const K = band.subcarriers;
      const df = band.bandwidthHz / K;
      const meanSe = new Float64Array(K);
      let c1 = 0;
      let c2 = 0;
      let s1 = 0;
      let s2 = 0;
      for (let j = 0; j < k; j++) {
        const row = offset + j * D + o;
        let cap = 0;
        let m = 0;
        for (let q = 0; q < K; q++) {
          const se = Math.max(0, samples[row + q] as number);
          cap += df * se;
          m += seToSnrDb(se);
          meanSe[q] = (meanSe[q] as number) + se / k;
        }
        m /= K;
        c1 += cap;
        c2 += cap * cap;
        s1 += m;
        s2 += m * m;
      }
      capacityBps[bi] = c1 / k;
      capacityStdBps[bi] = Math.sqrt(Math.max(0, c2 / k - (c1 / k) ** 2));
      snrDb[bi] = s1 / k;
      snrStdDb[bi] = Math.sqrt(Math.max(0, s2 / k - (s1 / k) ** 2));
      subcarrierSnrDb.push(meanSe.map(seToSnrDb));
    });
    return { capacityBps, capacityStdBps, snrDb, snrStdDb, subcarrierSnrDb };
  }

  dispose(): void {
    this.#mean.dispose();
    this.#denoiser.dispose();
    this.#kappa.dispose();
    for (const t of this.#noise.values()) t.dispose();
    this.#noise.clear();
  }
}

/** Options of a {@link PgfTrainer}. */
export interface TrainerOptions {
  /** Peak learning rate of Adam. */
  readonly learningRate: number;
  /** Steps of the cosine decay (the rate reaches `minLearningRate` there). */
  readonly totalSteps: number;
  /** Floor of the learning rate. */
  readonly minLearningRate?: number;
  /** Linear warm-up steps. */
  readonly warmupSteps?: number;
  /** Decay of the weight EMA (0 disables it). */
  readonly emaDecay?: number;
  /** Seed of the step and noise draws. */
  readonly seed: number;
}

/**
 * Trains a {@link PgfDiffusion} with the DDPM ε-prediction loss (Adam implemented on tensors
 * so the learning rate can follow a schedule; optional weight EMA).
 */
export class PgfTrainer {
  readonly #vars: tf.Variable[];
  readonly #m: tf.Variable[];
  readonly #v: tf.Variable[];
  readonly #ema: tf.Variable[];
  readonly #rand: () => number;
  readonly #gauss: () => number;
  #step = 0;
  #last = { mean: Number.NaN, eps: Number.NaN };

  constructor(
    readonly model: PgfDiffusion,
    readonly options: TrainerOptions,
  ) {
    const vars = model.variables();
    this.#vars = vars;
    const state = (init: (v: tf.Variable) => tf.Tensor) => {
      let out: tf.Variable[] = [];
      tf.tidy(() => {
        out = vars.map((v) => tf.variable(init(v), false));
      });
      return out;
    };
    this.#m = state((v) => tf.zerosLike(v));
    this.#v = state((v) => tf.zerosLike(v));
    this.#ema = (options.emaDecay ?? 0) > 0 ? state((v) => v.clone()) : [];
    this.#rand = seededRandom(options.seed);
    this.#gauss = gaussianSource(options.seed ^ 0x5bd1e995);
  }

  /** Steps taken. */
  get steps(): number {
    return this.#step;
  }

  /** The learning rate of the next step. */
  learningRate(): number {
    const o = this.options;
    const warm = o.warmupSteps ?? 0;
    const min = o.minLearningRate ?? o.learningRate * 0.02;
    if (this.#step < warm) return (o.learningRate * (this.#step + 1)) / warm;
    const p = Math.min(1, (this.#step - warm) / Math.max(1, o.totalSteps - warm));
    return min + 0.5 * (o.learningRate - min) * (1 + Math.cos(Math.PI * p));
  }

  /**
   * One Adam step on a batch: loss = ‖μ(c) − m‖² (conditional mean; m = `meanTarget` or x₀)
   * + ‖ε − ε̂(x_t, c, t)‖²
   * with `x_t = √ᾱ_t·(x₀ − μ(c))/κ + √(1 − ᾱ_t)·ε` (both means over the batch and elements).
   * @param x0 n × D normalised targets  @param cond n × C conditions
   * @param meanTarget n × D target of μ(c) (e.g. the environment's average over its fading
   *   draws: same minimiser, less noise); `x0` when absent
   * @returns the batch loss (sum of both parts; see {@link lastLoss})
   */
  step(x0: Float32Array, cond: Float32Array, n: number, meanTarget?: Float32Array): number {
    const m = this.model;
    const D = m.targetDim;
    const C = m.config.condDim;
    const E = m.config.timeEmbedDim;
    const T = m.config.diffusionSteps;
    const t = new Int32Array(n);
    const sa = new Float32Array(n);
    const sb = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const ti = Math.min(T - 1, Math.floor(this.#rand() * T));
      t[i] = ti;
      sa[i] = Math.sqrt(m.alphaBar[ti] as number);
      sb[i] = Math.sqrt(1 - (m.alphaBar[ti] as number));
    }
    const noise = new Float32Array(n * D);
    for (let i = 0; i < noise.length; i++) noise[i] = this.#gauss();
    const temb = timeEmbedding(t, E);
    const lr = this.learningRate();
    this.#step += 1;
    const b1 = 0.9;
    const b2 = 0.999;
    const c1 = 1 - b1 ** this.#step;
    const c2 = 1 - b2 ** this.#step;
    const decay = this.options.emaDecay ?? 0;
    const losses = tf.tidy(() => {
      const X0 = tf.tensor2d(x0, [n, D]);
      const M = meanTarget ? tf.tensor2d(meanTarget, [n, D]) : X0;
      const eps = tf.tensor2d(noise, [n, D]);
      const c = tf.tensor2d(cond, [n, C]);
      const te = tf.tensor2d(temb, [n, E]);
      // The residual target uses μ(c) as a constant (computed outside the gradient tape).
      const residual = tf.div(tf.sub(X0, m.meanOf(c)), m.residualScale);
      const xt = tf.add(
        tf.mul(residual, tf.tensor2d(sa, [n, 1])),
        tf.mul(eps, tf.tensor2d(sb, [n, 1])),
      ) as tf.Tensor2D;
      let parts: tf.Scalar[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const meanLoss = tf.mean(tf.square(tf.sub(m.meanOf(c), M))) as tf.Scalar;
        const epsLoss = tf.mean(tf.square(tf.sub(m.epsilon(xt, c, te), eps))) as tf.Scalar;
        parts = [tf.keep(meanLoss), tf.keep(epsLoss)];
        return tf.add(meanLoss, epsLoss) as tf.Scalar;
      }, this.#vars);
      this.#vars.forEach((v, i) => {
        const g = grads[v.name] as tf.Tensor;
        const mi = this.#m[i] as tf.Variable;
        const vi = this.#v[i] as tf.Variable;
        mi.assign(tf.add(tf.mul(mi, b1), tf.mul(g, 1 - b1)));
        vi.assign(tf.add(tf.mul(vi, b2), tf.mul(tf.square(g), 1 - b2)));
        const update = tf.div(tf.div(mi, c1), tf.add(tf.sqrt(tf.div(vi, c2)), 1e-8));
        v.assign(tf.sub(v, tf.mul(update, lr)));
        const e = this.#ema[i];
        if (e) e.assign(tf.add(tf.mul(e, decay), tf.mul(v, 1 - decay)));
      });
      const out = tf.stack([value, ...parts]);
      // Kept out of variableGrads' scope to be read here; not tracked by this tidy.
      for (const t of parts) t.dispose();
      return out;
    });
    const [total, meanLoss, epsLoss] = Array.from(losses.dataSync());
    losses.dispose();
    this.#last = { mean: meanLoss as number, eps: epsLoss as number };
    return total as number;
  }

  /** The two parts of the last step's loss: conditional-mean MSE and ε MSE. */
  get lastLoss(): { readonly mean: number; readonly eps: number } {
    return this.#last;
  }

  /** A new model holding the EMA weights (or a copy of the current ones without EMA). */
  emaModel(): PgfDiffusion {
    if (!this.#ema.length) return this.model.clone();
    const names = Object.keys(this.model.tensors());
    const vars = this.model.variables();
    const byName: NamedTensors = {};
    for (const name of names) {
      const v = this.model.tensors()[name] as tf.Variable;
      const i = vars.indexOf(v);
      byName[name] = this.#ema[i] as tf.Variable;
    }
    return new PgfDiffusion(this.model.config, byName);
  }

  /** Frees the optimizer state (not the model). */
  dispose(): void {
    for (const v of [...this.#m, ...this.#v, ...this.#ema]) v.dispose();
  }
}
