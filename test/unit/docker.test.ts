/**
 * The Docker images and compose files stay in step with the code they package: the start
 * command is the README's, the exposed and published ports are the default PORT, the
 * health checks call a route the server has, every variable compose sets on the servers is
 * one that server/config.ts reads (and parses), and what the server imports is installed by
 * `npm ci --omit=dev`. No Docker engine is needed (none runs in CI): `docker build` and
 * `docker compose config` are not run here.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { builtinModules } from "node:module";
import { dirname, join, relative } from "node:path";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { ConfigError, loadConfig, REPO_ROOT } from "../../server/config.ts";
import { freePort } from "../support/processes.ts";

const read = (path: string) => readFileSync(join(REPO_ROOT, path), "utf8");

// --- Dockerfiles -------------------------------------------------------------------------

interface Instruction {
  op: string;
  args: string;
  /** 0-based index of the stage (FROM) the instruction belongs to. */
  stage: number;
}

/** Instructions of a Dockerfile: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!pending && (line === "" || line.startsWith("#"))) continue;
    if (pending && line.startsWith("#")) continue;
    if (line.endsWith("\\")) {
      pending += line.slice(0, -1) + " ";
      continue;
    }
    const full = (pending + line).trim();
    pending = "";
    const m = /^(\w+)\s+([\s\S]*)$/.exec(full);
    if (!m) continue;
    const op = m[1]!.toUpperCase();
    if (op === "FROM") stage += 1;
    out.push({ op, args: m[2]!.trim(), stage });
  }
  return out;
}

/** `KEY=value KEY2=value2` of ENV instructions (of the last stage). */
function envOf(instructions: Instruction[]): Record<string, string> {
  const last = Math.max(...instructions.map((i) => i.stage));
  const env: Record<string, string> = {};
  for (const i of instructions.filter((x) => x.op === "ENV" && x.stage === last)) {
    for (const m of i.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[m[1]!] = m[2]!.replace(/"/g, "");
  }
  return env;
}

/** The JSON (exec) form of CMD/HEALTHCHECK CMD as an argument list. */
function execForm(args: string): string[] {
  const json = args.replace(/^.*?CMD\s+/, "");
  const parsed: unknown = JSON.parse(json);
  assert.ok(Array.isArray(parsed) && parsed.every((a) => typeof a === "string"), args);
  return parsed as string[];
}

/** Names of the variables EnvSchema in server/config.ts declares. */
function configVariables(): Set<string> {
  const src = read("server/config.ts");
  const start = src.indexOf("const EnvSchema = z.object({");
  const end = src.indexOf("\n});", start);
  assert.ok(start >= 0 && end > start, "EnvSchema found in server/config.ts");
  return new Set(
    [...src.slice(start, end).matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]!),
  );
}

const CONFIG_VARS = configVariables();
/** Variables images may set that are not the server's: Node's own. */
const RUNTIME_VARS = new Set(["NODE_ENV"]);
const DEFAULT_PORT = loadConfig({}).port;
/** What a deployment must set (a 32-byte secret). */
const DEPLOYMENT = { AUTH_SECRET: "a-deployment-secret-of-32-chars!" };

/** The README's start command: the one in its first shell block. */
function readmeStartCommand(): string {
  const block = /```sh\n([\s\S]*?)```/.exec(read("README.md"))?.[1] ?? "";
  const m = /\b(npm start)\b/.exec(block);
  assert.ok(m, "README's first shell block starts the server");
  return m[1]!;
}

const SERVER_IMAGES = ["docker/Dockerfile", "docker/Dockerfile.gpu"];

describe("server images", () => {
  for (const file of SERVER_IMAGES) {
    describe(file, () => {
      const ins = parseDockerfile(read(file));
      const last = Math.max(...ins.map((i) => i.stage));
      const final = ins.filter((i) => i.stage === last);

      it("runs what the README's `npm start` runs, with node directly (no npm, no prestart)", () => {
        const cmd = final.filter((i) => i.op === "CMD");
        assert.equal(cmd.length, 1);
        const argv = execForm(cmd[0]!.args);
        assert.equal(argv[0], "node", "npm's prestart would rebuild the viewer as non-root");
        assert.equal(readmeStartCommand(), "npm start");
        const pkg = JSON.parse(read("package.json")) as { scripts: Record<string, string> };
        assert.equal(`node ${argv.slice(1).join(" ")}`, pkg.scripts.start);
      });

      it("builds the viewer into VIEWER_DIR, outside node_modules", () => {
        const built = ins.filter((i) => i.op === "RUN" && i.stage < last).map((i) => i.args);
        assert.ok(
          built.some((r) => /npm run build:viewer\b.*mv \S+ viewer\b/.test(r)),
          "built",
        );
        assert.ok(final.some((i) => i.op === "COPY" && /--from=build \/app\/viewer /.test(i.args)));
        const env = envOf(ins);
        assert.equal(env.VIEWER_DIR, "/app/viewer");
        assert.ok(!env.VIEWER_DIR.includes("node_modules"));
        assert.equal(loadConfig({ ...env, ...DEPLOYMENT }).viewerDir, "/app/viewer");
      });

      it("bases on a supported Node, every base pinned by tag and digest", () => {
        const text = read(file);
        const node = /^ARG NODE_IMAGE=(\S+)$/m.exec(text)?.[1] ?? "";
        const major = Number(/^node:(\d+)/.exec(node)?.[1]);
        assert.ok(major >= 22 && major % 2 === 0, `${node}: an LTS line that is not end of life`);
        for (const m of text.matchAll(/^ARG (\w+_IMAGE)=(\S+)$/gm)) {
          assert.match(m[2]!, /:[\w.-]+@sha256:[0-9a-f]{64}$/, `${m[1]}: exact tag and digest`);
        }
      });

      it("is multi-stage (npm ci, then production dependencies only), runs as non-root", () => {
        assert.ok(last >= 1, "at least two stages");
        const built = ins.filter((i) => i.op === "RUN" && i.stage < last).map((i) => i.args);
        assert.ok(built.some((r) => /\bnpm ci\b/.test(r)));
        assert.ok(built.some((r) => /npm prune --omit=dev/.test(r)));
        assert.ok(
          final.some((i) => i.op === "COPY" && /--from=build \S*node_modules/.test(i.args)),
        );
        const user = final.filter((i) => i.op === "USER").pop()?.args;
        assert.ok(user && user !== "root" && user !== "0", `USER ${user}`);
        assert.ok(
          final.some((i) => i.op === "RUN" && /apt-get install[^&]*\bffmpeg\b/.test(i.args)),
        );
      });

      it("exposes the default PORT and checks health at /healthz with node", () => {
        assert.deepEqual(
          final.filter((i) => i.op === "EXPOSE").map((i) => i.args),
          [String(DEFAULT_PORT)],
        );
        const env = envOf(ins);
        assert.equal(env.PORT, String(DEFAULT_PORT));
        const hc = final.find((i) => i.op === "HEALTHCHECK");
        assert.ok(hc, "HEALTHCHECK");
        const argv = execForm(hc.args);
        assert.equal(argv[0], "node", "no curl in the image");
        assert.match(argv.join(" "), /\/healthz/);
        assert.match(read("server/http/routes.ts"), /app\.get\("\/healthz"/);
      });

      it("sets only variables that server/config.ts reads (or Node's and npm's own)", () => {
        const env = envOf(ins);
        for (const key of Object.keys(env)) {
          assert.ok(CONFIG_VARS.has(key) || RUNTIME_VARS.has(key), `${key} is not read`);
        }
        const config = loadConfig({ ...env, ...DEPLOYMENT });
        assert.equal(config.port, DEFAULT_PORT);
      });

      it("listens on every interface, so it refuses to start without AUTH_SECRET", () => {
        const env = envOf(ins);
        assert.equal(env.HOST, "0.0.0.0");
        assert.throws(
          () => loadConfig(env),
          (err: unknown) => err instanceof ConfigError && /AUTH_SECRET/.test(err.message),
        );
      });
    });
  }

  it("the GPU image adds tfjs-node-gpu of the tfjs version in package.json", () => {
    const ins = parseDockerfile(read("docker/Dockerfile.gpu"));
    const pkg = JSON.parse(read("package.json")) as { dependencies: Record<string, string> };
    const tfjs = (pkg.dependencies["@tensorflow/tfjs"] ?? "").replace(/^\D*/, "");
    const arg = ins.find((i) => i.op === "ARG" && i.args.startsWith("TFJS_VERSION="));
    assert.equal(arg?.args, `TFJS_VERSION=${tfjs}`);
    assert.ok(
      ins.some(
        (i) => i.op === "RUN" && i.args.includes('"@tensorflow/tfjs-node-gpu@${TFJS_VERSION}"'),
      ),
    );
    assert.equal(loadConfig({ ...envOf(ins), ...DEPLOYMENT }).agents.tfBackend, "node-gpu");
    assert.ok(!("@tensorflow/tfjs-node-gpu" in pkg.dependencies), "never a dependency");
  });

  it("the ROS 2 image launches the project's launch file with rosbridge on 9090", () => {
    const ins = parseDockerfile(read("docker/ros2/Dockerfile"));
    assert.match(ins[0]!.args, /^ros:humble-[\w.-]+@sha256:[0-9a-f]{64}$/, "tag and digest");
    const install = ins
      .filter((i) => i.op === "RUN")
      .map((i) => i.args)
      .join(" ");
    for (const p of ["rosbridge-server", "moveit", "moveit-resources-panda-moveit-config"]) {
      assert.match(install, new RegExp(`ros-humble-${p}\\b`));
    }
    const copy = ins.find((i) => i.op === "COPY")!.args.split(/\s+/);
    assert.ok(existsSync(join(REPO_ROOT, copy[0]!)), copy[0]);
    const cmd = execForm(ins.find((i) => i.op === "CMD")!.args);
    const launch = cmd.find((a) => a.endsWith(".launch.py"))!;
    const inRepo = join(copy[0]!, relative(copy[1]!, launch));
    assert.ok(existsSync(join(REPO_ROOT, inRepo)), `${launch} is ${inRepo} in the repository`);
    assert.match(read(inRepo), /"port", default_value="9090"/);
    assert.deepEqual(
      ins.filter((i) => i.op === "EXPOSE").map((i) => i.args),
      ["9090"],
    );
  });

  it(".dockerignore keeps host installs and data out but the server's files in", () => {
    const ignored = read(".dockerignore")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    for (const p of ["node_modules", ".git", "data", "results"]) assert.ok(ignored.includes(p), p);
    for (const p of ["server", "shared", "ros", "assets", "package.json", "package-lock.json"]) {
      assert.ok(!ignored.includes(p), `${p} must reach the image`);
    }
  });

  it("everything the server process imports is a production dependency (dev is pruned)", () => {
    const pkg = JSON.parse(read("package.json")) as { dependencies: Record<string, string> };
    // Native TensorFlow bindings are optional: only the GPU image installs one.
    const optional = new Set(["@tensorflow/tfjs-node", "@tensorflow/tfjs-node-gpu"]);
    const { packages } = importGraph(["server/main.ts", "ros/sim-cell/main.ts"]);
    const missing = [...packages].filter(
      ([name]) => !(name in pkg.dependencies) && !optional.has(name),
    );
    assert.deepEqual(missing, []);
    assert.ok(packages.has("@colyseus/core") && packages.has("@colyseus/redis-driver"));
  });
});

/**
 * Follows the relative imports (static, `export … from`, literal dynamic `import()`; not
 * `import type`) from `entries` and collects the packages they name, each with the first
 * file naming it.
 */
function importGraph(entries: string[]): { files: Set<string>; packages: Map<string, string> } {
  const builtins = new Set(builtinModules);
  const files = new Set<string>();
  const packages = new Map<string, string>();
  const queue = entries.map((e) => join(REPO_ROOT, e));
  const statement = /^\s*(?:import|export)\s+(type\s+)?(?:[^"';]*?\s+from\s+)?"([^"]+)"/gm;
  const dynamic = /\bimport\(\s*"([^"]+)"\s*\)/g;
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const src = readFileSync(file, "utf8");
    const specs = [
      ...[...src.matchAll(statement)].filter((m) => !m[1]).map((m) => m[2]!),
      ...[...src.matchAll(dynamic)].map((m) => m[1]!),
    ];
    for (const spec of specs) {
      if (spec.startsWith(".")) {
        const target = join(dirname(file), spec);
        if (target.endsWith(".ts") && existsSync(target)) queue.push(target);
        continue;
      }
      if (spec.startsWith("node:") || builtins.has(spec)) continue;
      const name = spec.startsWith("@")
        ? spec.split("/").slice(0, 2).join("/")
        : spec.split("/")[0]!;
      if (!packages.has(name)) packages.set(name, relative(REPO_ROOT, file));
    }
  }
  return { files, packages };
}

// --- compose -----------------------------------------------------------------------------

interface ComposeService {
  build?: { context: string; dockerfile: string };
  image?: string;
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  expose?: (string | number)[];
  profiles?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  command?: string[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
}

function loadCompose(path: string): ComposeFile {
  const doc = parseYaml(read(path), { merge: true }) as ComposeFile;
  assert.ok(doc && typeof doc.services === "object", `${path} has services`);
  return doc;
}

/**
 * Compose interpolation of `${VAR}`, `${VAR:-default}` and `${VAR:?error}` from `vars`
 * (the error form takes the value in `vars`, as a deployment must set it).
 */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::?([-?])([^}]*))?\}/g, (_, name: string, kind, rest) => {
    const v = vars[name];
    if (v !== undefined && v !== "") return v;
    if (kind === "-") return rest as string;
    assert.fail(`${name} must be set (${String(rest ?? "")})`);
  });
}

const SERVERS = ["agenttwin-a", "agenttwin-b"];

describe("compose", () => {
  const compose = loadCompose("docker/compose.yaml");
  const env = (name: string) =>
    Object.fromEntries(
      Object.entries(compose.services[name]?.environment ?? {}).map(([k, v]) => [
        k,
        interpolate(String(v), DEPLOYMENT),
      ]),
    );

  it("has two server replicas, Redis, rosbridge, Prometheus and Grafana; no placeholder image", () => {
    assert.deepEqual(Object.keys(compose.services).sort(), [
      ...SERVERS,
      "grafana",
      "prometheus",
      "redis",
      "rosbridge",
    ]);
    assert.match(compose.services.redis!.image ?? "", /^redis:7/);
    for (const [name, s] of Object.entries(compose.services)) {
      // Either built here, or a public image at an exact tag (no variable naming an image).
      if (s.build) continue;
      assert.match(s.image ?? "", /^[\w./-]+:[\w.-]+$/, `${name}: ${s.image}`);
      assert.doesNotMatch(s.image ?? "", /:latest$|\$\{/, name);
    }
  });

  it("provisions Prometheus (scraping both replicas) and Grafana with the dashboard", () => {
    const prom = parseYaml(read("docker/prometheus/prometheus.yml")) as {
      scrape_configs: {
        metrics_path: string;
        authorization?: { credentials_file: string };
        static_configs: { targets: string[] }[];
      }[];
    };
    const job = prom.scrape_configs[0]!;
    assert.equal(job.metrics_path, "/metrics");
    assert.deepEqual(
      job.static_configs.flatMap((c) => c.targets),
      SERVERS.map((s) => `${s}:${DEFAULT_PORT}`),
    );
    assert.ok(job.authorization?.credentials_file, "a token: /metrics needs one off-host");
    assert.match(read("server/http/routes.ts"), /app\.get\("\/metrics"/);
    const grafana = compose.services.grafana!;
    const volumes = (grafana as { volumes?: string[] }).volumes ?? [];
    assert.ok(volumes.some((v) => v.startsWith("./grafana/provisioning:")));
    assert.ok(volumes.some((v) => v.startsWith("./grafana/dashboards:")));
    const dash = JSON.parse(read("docker/grafana/dashboards/agenttwin.json")) as {
      panels: { targets: { expr: string }[] }[];
    };
    const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr)).join("\n");
    for (const metric of [
      "agenttwin_video_jobs",
      "agenttwin_video_job_duration_seconds_bucket",
      "agenttwin_video_job_failures_total",
      "agenttwin_reconstruction_jobs",
      "agenttwin_agent_decision_seconds_bucket",
      "agenttwin_recordings_bytes",
      "agenttwin_robot_link_up",
    ]) {
      assert.ok(exprs.includes(metric), metric);
    }
  });

  it("sets on the servers only variables server/config.ts reads, and they parse", () => {
    for (const name of SERVERS) {
      const vars = env(name);
      for (const key of Object.keys(vars)) assert.ok(CONFIG_VARS.has(key), `${name}: ${key}`);
      const config = loadConfig(vars);
      assert.equal(config.link.mode, "ros");
      assert.equal(config.auth.ephemeralSecret, false);
      assert.equal(config.auth.devTokens, false);
    }
  });

  it("refuses to interpolate without AUTH_SECRET, naming its minimum size", () => {
    const raw = String(compose.services["agenttwin-a"]?.environment?.AUTH_SECRET ?? "");
    assert.throws(() => interpolate(raw, {}), /AUTH_SECRET must be set .*32 bytes/);
  });

  it("does not publish rosbridge (no authentication) on the host", () => {
    const ros = compose.services.rosbridge!;
    assert.equal(ros.ports, undefined, "rosbridge must stay inside the compose network");
    for (const [name, service] of Object.entries(compose.services)) {
      for (const p of service.ports ?? []) assert.doesNotMatch(String(p), /9090/, name);
    }
  });

  it("points the servers at the redis and rosbridge services on their ports", () => {
    for (const name of SERVERS) {
      const config = loadConfig(env(name));
      const redis = new URL(config.scaleOut.redisUrl ?? "");
      assert.equal(redis.hostname, "redis");
      assert.equal(redis.port || "6379", "6379");
      const ros = new URL(config.link.url);
      assert.equal(ros.hostname, "rosbridge");
      // Reachable inside the compose network only (expose, never ports).
      assert.ok(compose.services.rosbridge!.expose!.map(String).includes(ros.port));
      assert.equal(compose.services[name]!.depends_on?.redis?.condition, "service_healthy");
    }
  });

  it("publishes each replica on its own host port, advertised as its PUBLIC_ADDRESS", () => {
    const advertised = new Set<string>();
    for (const name of SERVERS) {
      const service = compose.services[name]!;
      assert.equal(service.ports?.length, 1);
      const [hostPort, containerPort] = service.ports![0]!.split(":");
      assert.equal(containerPort, String(DEFAULT_PORT));
      const address = loadConfig(env(name)).scaleOut.publicAddress ?? "";
      assert.equal(address.split(":").pop(), hostPort, `${name} advertises its host port`);
      advertised.add(address);
    }
    assert.equal(advertised.size, SERVERS.length, "distinct public addresses");
  });

  it("health-checks the servers at /healthz on the default PORT", () => {
    for (const name of SERVERS) {
      const test = compose.services[name]!.healthcheck!.test.join(" ");
      assert.match(test, new RegExp(`127\\.0\\.0\\.1:${DEFAULT_PORT}/healthz`));
      assert.match(test, /^CMD node /);
    }
    for (const [name, s] of Object.entries(compose.services)) assert.ok(s.healthcheck, name);
  });

  it("builds from files that exist, and the GPU override uses the GPU image", () => {
    const gpu = loadCompose("docker/compose.gpu.yaml");
    for (const file of [compose, gpu]) {
      for (const [name, s] of Object.entries(file.services)) {
        if (!s.build) continue;
        const context = join(REPO_ROOT, "docker", s.build.context);
        assert.ok(existsSync(join(context, s.build.dockerfile)), `${name}: ${s.build.dockerfile}`);
      }
    }
    // One GPU in all: replica A on the CUDA image; B stays on the CPU image.
    assert.deepEqual(Object.keys(gpu.services), ["agenttwin-a"]);
    assert.equal(gpu.services["agenttwin-a"]!.build?.dockerfile, "docker/Dockerfile.gpu");
    for (const name of SERVERS) {
      assert.equal(compose.services[name]!.build?.dockerfile, "docker/Dockerfile");
    }
    const gpus = [compose, gpu]
      .flatMap((f) => Object.values(f.services))
      .flatMap(
        (s) =>
          (s as { deploy?: { resources?: { reservations?: { devices?: { count?: number }[] } } } })
            .deploy?.resources?.reservations?.devices ?? [],
      )
      .reduce((n, d) => n + (d.count ?? 0), 0);
    assert.equal(gpus, 1);
  });
});

// --- the image's command, run as the container runs it ----------------------------------

/** Owner root, directories 755 and files 644, as `COPY` leaves the install in the image. */
function rootOwned(dir: string): void {
  chownSync(dir, 0, 0);
  chmodSync(dir, 0o755);
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) rootOwned(path);
    else {
      chownSync(path, 0, 0);
      chmodSync(path, 0o644);
    }
  }
}

const NOBODY = 65534;
const canDropPrivileges =
  process.getuid?.() === 0 && spawnSync("setpriv", ["--version"]).status === 0;

describe("the image's command as non-root over a root-owned install", () => {
  it(
    "starts, answers /healthz and serves the viewer built at image time",
    {
      skip: canDropPrivileges ? false : "needs root and setpriv to run the command as nobody",
      timeout: 180_000,
    },
    async () => {
      const ins = parseDockerfile(read("docker/Dockerfile"));
      const last = Math.max(...ins.map((i) => i.stage));
      const argv = execForm(ins.filter((i) => i.op === "CMD" && i.stage === last)[0]!.args);
      // /app of the image: what `COPY . .` brings (.dockerignore), the production
      // node_modules (here: the checkout's, root-owned) and the viewer built at image time.
      const app = mkdtempSync(join(tmpdir(), "agenttwin-image-"));
      try {
        for (const p of ["server", "shared", "ros", "assets", "package.json", "tsconfig.json"]) {
          cpSync(join(REPO_ROOT, p), join(app, p), { recursive: true });
        }
        mkdirSync(join(app, "viewer"));
        writeFileSync(join(app, "viewer", "index.html"), "<!doctype html><title>built</title>\n");
        rootOwned(app);
        symlinkSync(join(REPO_ROOT, "node_modules"), join(app, "node_modules"));
        const data = mkdtempSync(join(tmpdir(), "agenttwin-image-data-"));
        chownSync(data, NOBODY, NOBODY);
        const port = await freePort();
        const env = {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: "/nonexistent",
          ...envOf(ins),
          ...DEPLOYMENT,
          PORT: String(port),
          DATA_DIR: data,
          VIEWER_DIR: join(app, "viewer"),
          AGENTS: "false",
        };
        let output = "";
        const child = spawn(
          "setpriv",
          [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--", ...argv],
          { cwd: app, env, stdio: ["ignore", "pipe", "pipe"] },
        );
        child.stdout.on("data", (b: Buffer) => (output += b.toString()));
        child.stderr.on("data", (b: Buffer) => (output += b.toString()));
        const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
        try {
          const deadline = Date.now() + 150_000;
          let health = 0;
          while (Date.now() < deadline && child.exitCode === null) {
            health = await fetch(`http://127.0.0.1:${port}/healthz`).then(
              (r) => r.status,
              () => 0,
            );
            if (health === 200) break;
            await new Promise((r) => setTimeout(r, 500));
          }
          assert.equal(health, 200, `no /healthz; output:\n${output}`);
          const page = await fetch(`http://127.0.0.1:${port}/`);
          assert.equal(page.status, 200);
          assert.match(await page.text(), /<title>built<\/title>/);
          assert.doesNotMatch(output, /EACCES|permission denied/i);
        } finally {
          child.kill("SIGTERM");
          const code = await exited;
          assert.equal(code, 0, `clean shutdown on SIGTERM; output:\n${output}`);
        }
        rmSync(data, { recursive: true, force: true });
      } finally {
        rmSync(app, { recursive: true, force: true });
      }
    },
  );
});
