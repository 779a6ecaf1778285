/**
 * TensorFlow.js backend choice. `auto` tries the native bindings first (`tfjs-node-gpu`,
 * then `tfjs-node`: present only where installed, e.g. the Docker GPU image — they download
 * libtensorflow at install time, so they are never in `dependencies`), then WebAssembly
 * (SIMD where the CPU has it), then the pure-JS CPU backend. Every model in `server/ml`
 * runs unchanged on each; results agree to float32 rounding.
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

export type BackendPreference = "auto" | "node-gpu" | "node" | "wasm" | "cpu";

export interface BackendInfo {
  /** The backend in use: `tensorflow` (native), `wasm` or `cpu`. */
  readonly name: string;
  /** What was tried and why it was passed over. */
  readonly skipped: readonly string[];
}

let chosen: Promise<BackendInfo> | undefined;

/**
 * Selects (once per process) and readies a backend. Later calls return the first choice.
 * @throws Error when an explicitly requested backend cannot start
 */
export function initTf(preference: BackendPreference = "auto"): Promise<BackendInfo> {
  chosen ??= select(preference);
  return chosen;
}

async function select(preference: BackendPreference): Promise<BackendInfo> {
  const skipped: string[] = [];
  // Native bindings replace the JS engine's kernels when imported; they must be present.
  for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"] as const) {
    const wanted =
      preference === "auto" || preference === (pkg.endsWith("gpu") ? "node-gpu" : "node");
    if (!wanted) continue;
    try {
      await import(pkg);
      if (await tf.setBackend("tensorflow")) {
        await tf.ready();
        return { name: "tensorflow", skipped };
      }
      skipped.push(`${pkg}: backend did not start`);
    } catch (err) {
      skipped.push(`${pkg}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
    }
    if (preference !== "auto")
      throw new Error(`TensorFlow.js backend ${preference} unavailable: ${skipped.join("; ")}`);
  }
  if (preference === "auto" || preference === "wasm") {
    try {
      const require = createRequire(import.meta.url);
      const wasmDir = dirname(
        require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm"),
      );
      setWasmPaths(`${wasmDir}/`);
      // The Emscripten module installs process handlers that rethrow every uncaught error
      // and unhandled rejection — that would turn any stray rejection into a crash.
      const before = {
        uncaughtException: process.listeners("uncaughtException"),
        unhandledRejection: process.listeners("unhandledRejection"),
      };
      const ok = await tf.setBackend("wasm");
      if (ok) await tf.ready();
      for (const l of process.listeners("uncaughtException")) {
        if (!before.uncaughtException.includes(l)) process.removeListener("uncaughtException", l);
      }
      for (const l of process.listeners("unhandledRejection")) {
        if (!before.unhandledRejection.includes(l)) process.removeListener("unhandledRejection", l);
      }
      if (ok) return { name: "wasm", skipped };
      skipped.push("wasm: backend did not start");
    } catch (err) {
      skipped.push(`wasm: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (preference === "wasm")
      throw new Error(`TensorFlow.js backend wasm unavailable: ${skipped.join("; ")}`);
  }
  await tf.setBackend("cpu");
  await tf.ready();
  return { name: "cpu", skipped };
}

export { tf };
