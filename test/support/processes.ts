/**
 * Real processes for scale-out and crash tests and the benchmarks: Debian's `redis-server` on
 * a loopback port, the server as `npm start` runs it (`node --import tsx server/main.ts`) and
 * other scripts of this repository (the bench's bare server, the simulated cell), each in its
 * own child process. Colyseus's matchmaker is a module singleton, so two servers sharing
 * Redis must be two processes.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../../server/config.ts";

/** True when `redis-server` is on the PATH (CI installs Debian's package). */
export function hasRedisServer(): boolean {
  const r = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
  return r.status === 0;
}

/** A port that was free on 127.0.0.1 a moment ago (the kernel's pick for port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A child process with its output kept for failure messages. */
export interface ChildHandle {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Last lines of stdout and stderr (bounded). */
  readonly output: string[];
  /** Sends `signal` and resolves with the exit code once it exits (SIGKILL after `graceMs`). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

export interface RedisHandle extends ChildHandle {
  port: number;
  url: string;
}

export interface ServerHandle extends ChildHandle {
  port: number;
  /** http://127.0.0.1:port */
  url: string;
}

const OUTPUT_LINES = 200;

/** `afterExit` runs once the process has exited; `stop` resolves after it. */
function handle(
  child: ChildProcess,
  onLine: (line: string) => void,
  afterExit?: () => Promise<unknown>,
): ChildHandle {
  const output: string[] = [];
  let exited: Promise<number | null> | undefined;
  const exit = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    child.once("exit", (code) => resolve(code));
  }).then(async (code) => {
    await afterExit?.().catch(() => undefined);
    return code;
  });
  for (const stream of [child.stdout, child.stderr]) {
    let buf = "";
    stream?.on("data", (chunk: Buffer) => {
      buf += chunk.toString();
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        output.push(line);
        if (output.length > OUTPUT_LINES) output.shift();
        onLine(line);
      }
    });
  }
  return {
    child,
    pid: child.pid ?? -1,
    output,
    stop(signal = "SIGTERM", graceMs = 15_000) {
      exited ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        try {
          return await exit;
        } finally {
          clearTimeout(timer);
        }
      })();
      return exited;
    },
  };
}

/** Waits until `ready` has seen a line, or fails when the process exits or `ms` pass. */
function waitFor<T>(
  child: ChildProcess,
  output: string[],
  what: string,
  ms: number,
  register: (resolve: (v: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const fail = (why: string) =>
      reject(new Error(`${what} ${why}; last output:\n${output.slice(-20).join("\n")}`));
    const timer = setTimeout(() => fail(`not ready within ${ms} ms`), ms);
    const onExit = (code: number | null) => fail(`exited early (${code})`);
    child.once("exit", onExit);
    register((v) => {
      clearTimeout(timer);
      child.off("exit", onExit);
      resolve(v);
    });
  });
}

/**
 * Starts `redis-server` on a loopback port (a free one unless `port` is given, e.g. to
 * restart Redis where the servers expect it) without persistence.
 */
export async function startRedis(port?: number): Promise<RedisHandle> {
  port ??= await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let ready: ((v: true) => void) | undefined;
  const h = handle(child, (line) => {
    if (line.includes("Ready to accept connections")) ready?.(true);
  });
  await waitFor<true>(child, h.output, "redis-server", 10_000, (r) => (ready = r));
  return { ...h, port, url: `redis://127.0.0.1:${port}` };
}

/**
 * Starts the server (`server/main.ts`) in its own process: {@link startScriptProcess} with its
 * quiet defaults. `PORT` should be a real port when REDIS_URL is set (the address other
 * processes send clients to).
 */
export function startServerProcess(
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<ServerHandle> {
  return startScriptProcess("server/main.ts", env, { timeoutMs });
}

/** A development token from `POST /api/dev/token` of the server at `base`. */
export async function devToken(base: string, name: string, role: string): Promise<string> {
  const res = await fetch(`${base}/api/dev/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, role }),
  });
  if (!res.ok) throw new Error(`token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/**
 * Starts a Node script of this repository as `node --import tsx [execArgv] <script>`, with
 * `env` over quiet defaults (loopback, port 0, info logs, and a fresh DATA_DIR, removed once
 * the process has exited, unless `env` names one), and waits for its JSON start-up line: `msg`
 * starting with `ready` (default `listening`: server/main.ts, test/bench/bare-server.ts; the
 * simulated cell's is `sim cell listening`) and carrying its `port` or a `url` with one.
 * `execArgv` comes after tsx, so it may carry flags such as `--cpu-prof` and preloads written
 * in TypeScript (`--import ./test/support/fault-injection.ts`).
 */
export async function startScriptProcess(
  script: string,
  env: Record<string, string>,
  options: { execArgv?: string[]; timeoutMs?: number; ready?: string } = {},
): Promise<ServerHandle> {
  const ownDataDir =
    env.DATA_DIR === undefined ? await mkdtemp(join(tmpdir(), "agenttwin-proc-")) : undefined;
  const child = spawn(process.execPath, ["--import", "tsx", ...(options.execArgv ?? []), script], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      ...(ownDataDir && { DATA_DIR: ownDataDir }),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // `"msg":"listening"` or a longer message starting so (e.g. "listening: viewer …").
  const readyMark = `"msg":"${options.ready ?? "listening"}`;
  let ready: ((port: number) => void) | undefined;
  const h = handle(
    child,
    (line) => {
      if (!line.includes(readyMark)) return;
      const o = JSON.parse(line) as { port?: number; url?: string };
      const port = o.port ?? (o.url ? Number(new URL(o.url).port) : undefined);
      if (port !== undefined) ready?.(port);
    },
    ownDataDir ? () => rm(ownDataDir, { recursive: true, force: true }) : undefined,
  );
  const port = await waitFor<number>(
    child,
    h.output,
    script,
    options.timeoutMs ?? 30_000,
    (r) => (ready = r),
  );
  return { ...h, port, url: `http://127.0.0.1:${port}` };
}
