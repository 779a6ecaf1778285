/**
 * Pieces both load generators share (load.bench.ts's SDK generator and load-thin.ts's thin
 * one): the pool of generator child processes and its IPC, headsets' placement, sway and
 * pose stream, joins with retries, room sizes, and what the bench reads of a server (error
 * lines in its output, its /metrics counters).
 */
import { fork, type ChildProcess } from "node:child_process";

/** Headsets per room. */
export const ROOM_SIZE = 25;

/** Rooms for `n` headsets: ⌈n / ROOM_SIZE⌉ rooms, headsets dealt evenly. */
export function roomSizes(n: number): number[] {
  const rooms = Math.ceil(n / ROOM_SIZE);
  return Array.from({ length: rooms }, (_, r) => Math.floor((n + r) / rooms));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves with `p`, or with undefined after `ms` (e.g. an SDK leave on a dead socket). */
export function withinMs<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([
    p,
    new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref()),
  ]);
}

/** Rejects when `p` has not settled within `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

// --- generator child processes ------------------------------------------------------------

/**
 * Generator child processes (`script` forked with `--import tsx` and `env`), with a queue of
 * each one's replies. Commands carry `cmd`, replies `kind`; every child answers
 * `{ cmd: "leave" }` with `{ kind: "left" }` and exits. Each child is in `registry` while it
 * lives, so the bench can kill what is left if it exits early.
 */
export class ChildPool<To extends { cmd: string }, From extends { kind: string }> {
  readonly procs: ChildProcess[] = [];
  #waiting = new Map<ChildProcess, ((m: From) => void)[]>();
  #closed = false;

  constructor(
    n: number,
    private readonly o: {
      script: string;
      env: Record<string, string>;
      /** Names the processes in errors ("client process"). */
      label: string;
      registry: Set<ChildProcess>;
    },
  ) {
    for (let i = 0; i < n; i++) {
      const child = fork(o.script, [], {
        execArgv: ["--import", "tsx"],
        env: { ...process.env, ...o.env },
        serialization: "advanced",
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      o.registry.add(child);
      child.once("exit", () => o.registry.delete(child));
      this.#waiting.set(child, []);
      child.on("message", (m: From) => this.#waiting.get(child)?.shift()?.(m));
      this.procs.push(child);
    }
  }

  /** Sends one command to every process and waits for each one's reply of `kind`. */
  ask<K extends From["kind"]>(
    kind: K,
    message: (i: number) => To,
    timeoutMs: number,
  ): Promise<Extract<From, { kind: K }>[]> {
    return Promise.all(
      this.procs.map(
        (child, i) =>
          new Promise<Extract<From, { kind: K }>>((resolve, reject) => {
            const timer = setTimeout(
              () => reject(new Error(`${this.o.label}: no ${kind} in ${timeoutMs} ms`)),
              timeoutMs,
            );
            this.#waiting.get(child)!.push((m) => {
              clearTimeout(timer);
              if (m.kind === kind) resolve(m as Extract<From, { kind: K }>);
              else reject(new Error(`${this.o.label} answered ${m.kind}, not ${kind}`));
            });
            child.send(message(i));
          }),
      ),
    );
  }

  /** Sends one command to every process without waiting for replies. */
  tell(message: To): void {
    for (const child of this.procs) child.send(message);
  }

  /** Asks every process to leave and exit; once (a closed channel cannot be sent to). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Every generator's command set has `leave`, answered by `left` (see the class comment).
    const leave = { cmd: "leave" } as To;
    await this.ask("left" as From["kind"], () => leave, 20_000).catch(() => undefined);
    for (const child of this.procs) if (child.exitCode === null) child.kill("SIGKILL");
  }
}

// --- headsets -----------------------------------------------------------------------------

/** Wall-clock time with sub-millisecond resolution, ms since the Unix epoch. */
export const wallMs = () => performance.timeOrigin + performance.now();

/** A head pose swaying a few centimetres and degrees around `base`, `world` frame. */
export function swayingPose(base: { x: number; y: number }, tS: number, phase: number) {
  const s = Math.sin(2 * Math.PI * 0.5 * tS + phase);
  const yaw = 0.15 * Math.sin(2 * Math.PI * 0.2 * tS + phase);
  return {
    head: {
      position: { x: base.x + 0.03 * s, y: base.y + 0.02 * s, z: 1.6 + 0.01 * s },
      orientation: { x: 0, y: 0, z: Math.sin(yaw / 2), w: Math.cos(yaw / 2) },
    },
  };
}

/** A headset sending poses: where it stands, its sway phase and when its next pose is due. */
export interface Poser {
  send(type: string, payload: unknown): void;
  base: { x: number; y: number };
  phase: number;
  /** performance.now() of the next pose. */
  next: number;
}

/** Where seat `index` of a run stands around the cell (spots and phases spread out). */
export function placeOf(index: number): Pick<Poser, "base" | "phase" | "next"> {
  const angle = (index * 2.399) % (2 * Math.PI);
  return { base: { x: 1.5 * Math.cos(angle), y: 1.5 * Math.sin(angle) }, phase: angle, next: 0 };
}

/**
 * One timer for all headsets: each sends its pose when its own period comes round (not in
 * step) and skips what it fell behind on, as a headset would; `onSent` after every pose.
 */
export function startPoseStream(posers: Poser[], hz: number, onSent: () => void): NodeJS.Timeout {
  const period = 1000 / hz;
  const t0 = performance.now();
  posers.forEach((p, i) => (p.next = t0 + (period * i) / posers.length));
  return setInterval(() => {
    const now = performance.now();
    const tS = now / 1000;
    for (const p of posers) {
      if (now < p.next) continue;
      p.next += period;
      if (p.next < now) p.next = now + period; // fell behind: skip, as a headset would
      p.send("pose", swayingPose(p.base, tS, p.phase));
      onSent();
    }
  }, 2);
}

/**
 * Joins `items` with `concurrency` joins in flight, each tried up to 3 times (0.5 s · attempt
 * apart; an attempt fails after `attemptTimeoutMs` when given); counts "join retries" and
 * "failed joins".
 */
export async function joinEach<T>(
  items: readonly T[],
  o: { concurrency: number; attemptTimeoutMs?: number },
  join: (item: T) => Promise<void>,
  count: (what: string) => void,
): Promise<{ joined: number; failed: number; firstError?: string }> {
  let joined = 0;
  let failed = 0;
  let firstError: string | undefined;
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      for (let attempt = 1; ; attempt++) {
        try {
          const joining = join(item);
          await (o.attemptTimeoutMs === undefined
            ? joining
            : withTimeout(joining, o.attemptTimeoutMs, "join"));
          joined += 1;
          break;
        } catch (err) {
          if (attempt < 3) {
            count("join retries");
            await sleep(500 * attempt);
            continue;
          }
          failed += 1;
          count("failed joins");
          firstError ??= err instanceof Error ? err.message : String(err);
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return { joined, failed, ...(firstError && { firstError }) };
}

/**
 * Silences the SDK's per-connection chatter (a closed connection during a join, each
 * reconnection attempt): the generators count those events themselves.
 */
export function quietSdk(): void {
  for (const method of ["warn", "info"] as const) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      const text = String(args[0]);
      if (
        text.startsWith("Room connection was closed") ||
        text.startsWith("[Colyseus reconnection]")
      )
        return;
      original(...args);
    };
  }
}

// --- what the bench reads of a server -----------------------------------------------------

/**
 * Counts error lines a server process writes while `counting()`: pino records at level 50
 * (error) or 60 (fatal) on stdout, and Colyseus's own errors on stderr.
 */
export function countErrorLines(child: ChildProcess, counting: () => boolean): { lines: number } {
  const out = { lines: 0 };
  child.stdout?.on("data", (d: Buffer) => {
    if (counting()) out.lines += d.toString().match(/"level":(50|60)/g)?.length ?? 0;
  });
  child.stderr?.on("data", (d: Buffer) => {
    if (counting()) out.lines += d.toString().match(/^\S.*Error/gm)?.length ?? 0;
  });
  return out;
}

/** Counters and gauges of the product's /metrics (prom-client). */
export interface MetricsSample {
  /** prom-client's event-loop lag p99 since the previous scrape, ms. */
  eventLoopLagP99Ms: number;
  /** Patch and message bytes sent to clients. */
  bytes: number;
  /** Pose messages accepted. */
  poses: number;
  /** Messages refused (any code). */
  rejected: number;
  /** Rooms per room type. */
  rooms: Record<string, number>;
  clients: number;
}

/**
 * Scrapes the product server at `base` (also resets its lag histogram); undefined when
 * /metrics does not answer within `timeoutMs` (a saturated server may not).
 */
export async function scrapeMetrics(
  base: string,
  timeoutMs = 10_000,
): Promise<MetricsSample | undefined> {
  let text: string;
  try {
    const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    text = await res.text();
  } catch {
    return undefined;
  }
  const out: MetricsSample = {
    eventLoopLagP99Ms: Number.NaN,
    bytes: 0,
    poses: 0,
    rejected: 0,
    rooms: {},
    clients: 0,
  };
  for (const line of text.split("\n")) {
    const value = Number(line.split(" ").pop());
    if (/^agenttwin_(patch|message)_bytes_total\{/.test(line)) out.bytes += value;
    else if (/^agenttwin_messages_received_total\{.*type="pose"/.test(line)) out.poses += value;
    else if (line.startsWith("agenttwin_messages_rejected_total{")) out.rejected += value;
    else if (line.startsWith("agenttwin_clients{")) out.clients += value;
    else if (line.startsWith("nodejs_eventloop_lag_p99_seconds "))
      out.eventLoopLagP99Ms = value * 1000;
    else if (line.startsWith("agenttwin_rooms{")) {
      const type = /room_type="([^"]+)"/.exec(line)?.[1] ?? "?";
      out.rooms[type] = value;
    }
  }
  return out;
}
