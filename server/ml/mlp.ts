/**
 * A plain multilayer perceptron on TensorFlow.js core ops: the building block of the
 * denoiser (pGF) and of the generators and discriminator (nGF). Parameters are named
 * variables (`<name>/w<i>`, `<name>/b<i>`) so {@link saveWeights} and {@link loadWeights}
 * can round-trip them, and optimizers can train them.
 */
import { tf } from "./backend.ts";
import type { NamedTensors } from "./weights.ts";

export type Activation = "relu" | "silu" | "leakyRelu" | "tanh";

export class Mlp {
  readonly #w: tf.Variable[] = [];
  readonly #b: tf.Variable[] = [];

  /**
   * @param sizes layer widths, input first (e.g. `[in, 128, 128, out]`)
   * @param init existing parameters by name (loaded weights); fresh He-normal otherwise
   */
  constructor(
    readonly name: string,
    readonly sizes: readonly number[],
    readonly activation: Activation = "silu",
    init?: NamedTensors,
    seed = 1,
  ) {
    for (let i = 0; i + 1 < sizes.length; i++) {
      const fanIn = sizes[i] as number;
      const fanOut = sizes[i + 1] as number;
      const w =
        init?.[`${name}/w${i}`] ??
        tf.randomNormal([fanIn, fanOut], 0, Math.sqrt(2 / fanIn), "float32", seed + i);
      const b = init?.[`${name}/b${i}`] ?? tf.zeros([fanOut]);
      if (w.shape.join() !== `${fanIn},${fanOut}` || b.shape.join() !== `${fanOut}`) {
        throw new Error(
          `${name}: layer ${i} has shape ${w.shape}/${b.shape}, expected ${fanIn}x${fanOut}`,
        );
      }
      // Engine variable names are process-global, so they stay anonymous; ours are in tensors().
      this.#w.push(tf.variable(w, true));
      this.#b.push(tf.variable(b, true));
    }
  }

  /** Forward pass; the last layer is linear. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    let h = x;
    for (let i = 0; i < this.#w.length; i++) {
      h = tf.add(tf.matMul(h, this.#w[i] as tf.Variable), this.#b[i] as tf.Variable);
      if (i + 1 < this.#w.length) h = act(h, this.activation);
    }
    return h;
  }

  /** The trainable variables. */
  variables(): tf.Variable[] {
    return [...this.#w, ...this.#b];
  }

  /** Parameters by name (`<name>/w<i>`, `<name>/b<i>`), for saving. */
  tensors(): NamedTensors {
    const out: NamedTensors = {};
    this.#w.forEach((v, i) => (out[`${this.name}/w${i}`] = v));
    this.#b.forEach((v, i) => (out[`${this.name}/b${i}`] = v));
    return out;
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
  }
}

function act(x: tf.Tensor2D, a: Activation): tf.Tensor2D {
  switch (a) {
    case "relu":
      return tf.relu(x);
    case "silu":
      return tf.mul(x, tf.sigmoid(x));
    case "leakyRelu":
      return tf.leakyRelu(x, 0.2);
    case "tanh":
      return tf.tanh(x);
  }
}
