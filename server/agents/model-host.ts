/**
 * The event loop's side of the model worker: starts server/agents/model-worker.ts in a
 * worker thread and forwards predictions to it, so model inference and fine-tuning never
 * delay the rooms' message handling (STOP) or ticks (the deviation monitor).
 *
 * Bounded: at most `maxQueue` requests wait in the worker (more are refused at once with
 * {@link AgentBusyError}); each request times out. A request that timed out still counts
 * until the worker answers it (it is still in the worker's queue); a worker whose queue is
 * full of such requests is stuck and is stopped. A worker that dies fails its pending
 * requests and is started again on the next request (at most once a second).
 */
import { Worker } from "node:worker_threads";
import type { Logger } from "pino";
import type { FlowWindow, RadioEnvironment, TrafficScenario } from "../net/contracts.ts";
import type {
  LoadOutcome,
  ModelReply,
  ModelRequest,
  ModelResults,
  ModelWorkerData,
} from "./model-worker-protocol.ts";
import { AgentBusyError } from "./work-limiter.ts";

/** A request failed in (or because of) the worker. */
export class ModelWorkerError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ModelWorkerError";
  }
}

export interface ModelWorkerOptions extends ModelWorkerData {
  /** Requests waiting in the worker, process-wide. */
  maxQueue: number;
  /** Deadline of one request, ms (default 10 000; fine-tuning: 10 minutes). */
  timeoutMs?: number;
  /** How long to wait for the worker to load its models, ms (default 120 000). */
  startTimeoutMs?: number;
  logger: Logger;
}

/** The request for op `K`, without its id. */
type Op<K extends ModelRequest["op"]> = Omit<Extract<ModelRequest, { op: K }>, "id">;

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
  /** The caller was answered with a timeout; the worker still has the request. */
  timedOut: boolean;
}

export class ModelWorker {
  readonly #o: ModelWorkerOptions;
  #worker: Worker | null = null;
  #ready: Promise<Extract<ModelReply, { kind: "ready" }>> | null = null;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;
  #lastStartMs = 0;
  /** What the last start loaded (the first start's outcome decides which agents register). */
  loaded: { backend: string; channel: LoadOutcome; traffic: LoadOutcome } | null = null;

  private constructor(options: ModelWorkerOptions) {
    this.#o = options;
  }

  /** Starts the worker and waits until its models are loaded (or failed to load). */
  static async start(options: ModelWorkerOptions): Promise<ModelWorker> {
    const host = new ModelWorker(options);
    await host.#start();
    return host;
  }

  /** Requests in the worker now (those whose callers timed out included). */
  get pending(): number {
    return this.#pending.size;
  }

  predict(env: RadioEnvironment): Promise<ModelResults["predict"]> {
    return this.#call<"predict">({ op: "predict", env });
  }

  predictDemand(scenario: TrafficScenario): Promise<ModelResults["predictDemand"]> {
    return this.#call<"predictDemand">({ op: "predictDemand", scenario });
  }

  observe(windows: readonly FlowWindow[], scenario: TrafficScenario): Promise<unknown> {
    return this.#call<"observe">({ op: "observe", windows, scenario }, 600_000);
  }

  /** Fails what is pending and stops the worker. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#failAll(new ModelWorkerError("model worker closed"));
    const w = this.#worker;
    this.#worker = null;
    if (w) await w.terminate();
  }

  #start(): Promise<Extract<ModelReply, { kind: "ready" }>> {
    this.#lastStartMs = performance.now();
    const data: ModelWorkerData = {
      pgfDir: this.#o.pgfDir,
      ngfDir: this.#o.ngfDir,
      tfBackend: this.#o.tfBackend,
    };
    const worker = new Worker(bootstrap(new URL("./model-worker.ts", import.meta.url)), {
      eval: true,
      workerData: data,
    });
    // Never keeps the process alive on its own; the app closes it.
    worker.unref();
    this.#worker = worker;
    const ready = new Promise<Extract<ModelReply, { kind: "ready" }>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new ModelWorkerError("model worker did not start in time")),
        this.#o.startTimeoutMs ?? 120_000,
      );
      timer.unref();
      worker.on("message", (m: ModelReply) => {
        if (m.kind === "ready") {
          clearTimeout(timer);
          this.loaded = { backend: m.backend, channel: m.channel, traffic: m.traffic };
          resolve(m);
          return;
        }
        const p = this.#pending.get(m.id);
        if (!p) return;
        this.#pending.delete(m.id);
        clearTimeout(p.timer);
        if (p.timedOut) return;
        if (m.ok) p.resolve(m.value);
        else p.reject(new ModelWorkerError(m.error));
      });
      let dead = false;
      const died = (why: string, err?: unknown) => {
        // An 'error' event is followed by 'exit': one report.
        if (dead) return;
        dead = true;
        clearTimeout(timer);
        if (this.#worker === worker) {
          this.#worker = null;
          this.#ready = null;
        }
        const e = new ModelWorkerError(`model worker ${why}`, { cause: err });
        reject(e);
        this.#failAll(e);
        if (!this.#closed) this.#o.logger.error({ err }, `model worker ${why}`);
      };
      worker.on("error", (err) => died("failed", err));
      worker.on("exit", (code) => died(`exited (${code})`));
    });
    this.#ready = ready;
    return ready;
  }

  async #call<K extends ModelRequest["op"]>(
    op: Op<K>,
    timeoutMs = this.#o.timeoutMs ?? 10_000,
  ): Promise<ModelResults[K]> {
    if (this.#closed) throw new ModelWorkerError("model worker closed");
    if (this.#pending.size >= this.#o.maxQueue) {
      if ([...this.#pending.values()].every((p) => p.timedOut)) {
        // Nothing it was asked for came back in time: stopped, it restarts on a later call.
        this.#o.logger.error({ pending: this.#pending.size }, "model worker stuck; stopping it");
        void this.#worker?.terminate();
      }
      throw new AgentBusyError(
        `the models are busy (${this.#pending.size} requests waiting); try again shortly`,
        "room",
      );
    }
    if (!this.#ready) {
      // Restart a dead worker, but not in a tight loop.
      if (performance.now() - this.#lastStartMs < 1000)
        throw new ModelWorkerError("model worker is restarting");
      this.#o.logger.warn("restarting the model worker");
      void this.#start().catch(() => undefined);
    }
    await this.#ready;
    const worker = this.#worker;
    if (!worker) throw new ModelWorkerError("model worker is not running");
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const entry: Pending = {
        resolve,
        reject,
        timedOut: false,
        timer: setTimeout(() => {
          entry.timedOut = true;
          reject(new ModelWorkerError(`model worker gave no answer within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      entry.timer.unref();
      this.#pending.set(id, entry);
      worker.postMessage({ id, ...op });
    });
  }

  #failAll(err: Error): void {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(id);
      p.reject(err);
    }
  }
}

/**
 * Worker source that loads a TypeScript entry: Node 20 does not run `--import tsx` (our
 * execArgv) before a worker's entry module, so the worker registers tsx's loader itself.
 */
function bootstrap(entry: URL): string {
  const tsx = import.meta.resolve("tsx/esm/api");
  return `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); });`;
}
