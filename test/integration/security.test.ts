/**
 * Closed by default (issue 11, item 1), over real sockets:
 *
 * - the process refuses to start when it would be opened half-way (non-loopback HOST,
 *   ROBOT_LINK=ros or REDIS_URL without AUTH_SECRET, a short secret, dev tokens with ROS)
 *   and names the variable; without AUTH_SECRET it listens on loopback only and prints a
 *   one-time login link that the viewer redeems once;
 * - development tokens only for clients on this machine, observer unless asked;
 * - CORS from the allow-list on express routes and Colyseus's /matchmake routes alike;
 * - authentication at matchmaking: no room for an anonymous or observer create, room caps;
 * - every /api and /media read needs a token (401 + WWW-Authenticate: Bearer; 403 for a
 *   role that may not); tokens without exp/iat/aud or living too long are refused;
 *   /metrics from loopback or with a token; the socket.io default namespace refuses;
 * - TLS: https and wss with TLS_CERT/TLS_KEY, joined through @colyseus/sdk.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Client } from "@colyseus/sdk";
import { SignJWT } from "jose";
import { io } from "socket.io-client";
import { REPO_ROOT } from "../../server/config.ts";
import { leaveWithin, startTestServer, type TestServer } from "../support/server.ts";

const SECRET = randomBytes(32).toString("hex");
const QUIET = { ROBOT_LINK: "inprocess", AGENTS: "false", VIDEO: "false", RECORD: "false" };

/** This machine's first non-loopback IPv4 address, if it has one. */
function externalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return undefined;
}

interface MainRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Port of the "listening" line, when it came. */
  port?: number;
  host?: string;
  stop(): Promise<void>;
}

/**
 * Runs `node --import tsx server/main.ts` with `env` over a scrubbed environment; resolves
 * when it exits or logs "listening" (then it is still running: call `stop`).
 */
async function runMain(env: Record<string, string>): Promise<MainRun> {
  const base = { ...process.env };
  for (const k of ["HOST", "PORT", "AUTH_SECRET", "AUTH_DEV_TOKENS", "ROBOT_LINK", "REDIS_URL"]) {
    delete base[k];
  }
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
    cwd: REPO_ROOT,
    env: {
      ...base,
      PORT: "0",
      LOG_LEVEL: "info",
      DATA_DIR: await mkdtemp(join(tmpdir(), "agenttwin-sec-")),
      ...QUIET,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const run: MainRun = {
    code: null,
    stdout: "",
    stderr: "",
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void run.stop();
      reject(new Error(`main.ts neither exited nor listened; stderr:\n${run.stderr}`));
    }, 60_000);
    child.stderr.on("data", (b: Buffer) => (run.stderr += b.toString()));
    child.stdout.on("data", (b: Buffer) => {
      run.stdout += b.toString();
      const line = run.stdout.split("\n").find((l) => l.includes('"msg":"listening"'));
      if (line && run.port === undefined) {
        const { port, host } = JSON.parse(line) as { port: number; host: string };
        run.port = port;
        run.host = host;
        // Without AUTH_SECRET the login link follows on stderr; wait for it (≤ 5 s).
        const started = Date.now();
        const settle = () => {
          if (!run.stderr.includes("#login=") && !env.AUTH_SECRET && Date.now() - started < 5000) {
            setTimeout(settle, 20);
            return;
          }
          clearTimeout(timer);
          resolve(run);
        };
        settle();
      }
    });
    child.once("exit", (code) => {
      run.code = code;
      clearTimeout(timer);
      resolve(run);
    });
  });
}

describe("refusal to start", { timeout: 180_000 }, () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      "a non-loopback HOST without AUTH_SECRET",
      { HOST: "0.0.0.0" },
      /AUTH_SECRET.*HOST=0\.0\.0\.0/,
    ],
    ["ROBOT_LINK=ros without AUTH_SECRET", { ROBOT_LINK: "ros" }, /AUTH_SECRET.*ROBOT_LINK=ros/],
    ["an AUTH_SECRET under 32 bytes", { AUTH_SECRET: "s".repeat(31) }, /AUTH_SECRET.*32 bytes/],
    [
      "development tokens with ROBOT_LINK=ros",
      { ROBOT_LINK: "ros", AUTH_SECRET: SECRET, AUTH_DEV_TOKENS: "true" },
      /AUTH_DEV_TOKENS/,
    ],
    ["TLS_CERT without TLS_KEY", { TLS_CERT: "/nonexistent.pem" }, /TLS_CERT, TLS_KEY/],
  ];
  for (const [what, env, message] of cases) {
    it(`exits 2 naming the variable: ${what}`, async () => {
      const run = await runMain(env);
      await run.stop();
      assert.equal(run.port, undefined, "it must not listen");
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, message);
    });
  }
});

describe("without AUTH_SECRET: loopback only, one-time login link", { timeout: 120_000 }, () => {
  let run: MainRun;
  before(async () => {
    run = await runMain({});
  });
  after(async () => {
    await run.stop();
  });

  it("listens on 127.0.0.1 and nowhere else", async () => {
    assert.equal(run.host, "127.0.0.1", run.stdout);
    const res = await fetch(`http://127.0.0.1:${run.port}/healthz`);
    assert.equal(res.status, 200);
    const ext = externalAddress();
    if (ext) {
      await assert.rejects(fetch(`http://${ext}:${run.port}/healthz`), "refused off loopback");
    }
  });

  it("prints a login link whose code gives an operator token once", async () => {
    const m = /http:\/\/127\.0\.0\.1:(\d+)\/#login=([\w-]+)/.exec(run.stderr);
    assert.ok(m, run.stderr);
    assert.equal(Number(m[1]), run.port);
    assert.doesNotMatch(run.stdout, new RegExp(m[2]!), "the code is not in the JSON log");
    const login = () =>
      fetch(`http://127.0.0.1:${run.port}/api/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ code: m[2] }),
      });
    const first = await login();
    assert.equal(first.status, 200);
    const { token, role } = (await first.json()) as { token: string; role: string };
    assert.equal(role, "operator");
    const robot = await fetch(`http://127.0.0.1:${run.port}/api/robot`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(robot.status, 200);
    const again = await login();
    assert.equal(again.status, 401, "a login code works once");
  });

  it("gives development tokens to loopback clients, observer by default", async () => {
    const res = await fetch(`http://127.0.0.1:${run.port}/api/dev/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "local" }),
    });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { role: string }).role, "observer");
  });
});

/** A raw HTTP request (fetch forbids setting Host), for the DNS-rebinding check. */
function rawPost(port: number, path: string, headers: Record<string, string>, body: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method: "POST", headers }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("a deployment's server (AUTH_SECRET, HOST 0.0.0.0, CORS allow-list)", () => {
  const ALLOWED = "https://viewer.example";
  const FOREIGN = "https://evil.example";
  let server: TestServer;
  let port: number;
  const rooms: { leave(consented?: boolean): Promise<unknown> }[] = [];
  before(async () => {
    server = await startTestServer({
      ...QUIET,
      HOST: "0.0.0.0",
      AUTH_SECRET: SECRET,
      AUTH_DEV_TOKENS: "true",
      CORS_ORIGINS: ALLOWED,
      MAX_ROOMS: "3",
      MAX_ROOMS_PER_USER: "2",
    });
    port = server.app.port;
  });
  after(async () => {
    await Promise.allSettled(rooms.map((r) => leaveWithin(r as never, 2000)));
    await server.close();
  });

  const matchmake = (method: string, room: string, token?: string, origin?: string) =>
    fetch(`${server.url}/matchmake/${method}/${room}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(token && { authorization: `Bearer ${token}` }),
        ...(origin && { origin }),
      },
      body: "{}",
    });
  const listRooms = async () =>
    (await (await server.get("/api/rooms")).json()) as { roomId: string; name: string }[];

  it("creates no room for an anonymous or badly signed matchmaking request", async () => {
    for (let i = 0; i < 5; i++) {
      const res = await matchmake("create", "digital_twin");
      assert.equal(res.status, 401);
      assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
    }
    const forged = await new SignJWT({ role: "operator" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("mallory")
      .setIssuer("agenttwin")
      .setAudience("agenttwin")
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("y".repeat(64)));
    assert.equal((await matchmake("joinOrCreate", "digital_twin", forged)).status, 401);
    assert.equal((await matchmake("create", "metaverse")).status, 401);
    assert.deepEqual(await listRooms(), []);
  });

  it("lets only an operator create a twin room; an observer joins one", async () => {
    const observer = await server.token("observer", "olga");
    const refused = await matchmake("create", "digital_twin", observer);
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /operator/);
    assert.equal((await matchmake("joinOrCreate", "digital_twin", observer)).status, 403);
    assert.deepEqual(await listRooms(), []);

    const op = new Client(server.url);
    op.auth.token = await server.token("operator", "alice");
    const room = await op.create("digital_twin");
    rooms.push(room);
    const obs = new Client(server.url);
    obs.auth.token = observer;
    const joined = await obs.joinOrCreate("digital_twin");
    rooms.push(joined);
    assert.equal(joined.roomId, room.roomId);
    await assert.rejects(obs.create("digital_twin"), (err: { code?: number }) => {
      assert.equal(err.code, 403);
      return true;
    });
  });

  it("caps rooms per user (429) and per process (503) with a clear error", async () => {
    // alice has one room from the test before; MAX_ROOMS_PER_USER=2, MAX_ROOMS=3.
    const alice = new Client(server.url);
    alice.auth.token = await server.token("operator", "alice");
    rooms.push(await alice.create("metaverse"));
    await assert.rejects(alice.create("metaverse"), (err: { code?: number; message?: string }) => {
      assert.equal(err.code, 429);
      assert.match(err.message ?? "", /MAX_ROOMS_PER_USER/);
      return true;
    });
    const bob = new Client(server.url);
    bob.auth.token = await server.token("operator", "bob");
    const bobs = await bob.create("metaverse");
    rooms.push(bobs);
    const carol = new Client(server.url);
    carol.auth.token = await server.token("operator", "carol");
    await assert.rejects(
      carol.create("digital_twin"),
      (err: { code?: number; message?: string }) => {
        assert.equal(err.code, 503);
        assert.match(err.message ?? "", /MAX_ROOMS/);
        return true;
      },
    );
    assert.equal((await listRooms()).length, 3);
    // A disposed room frees its place: wait for the disposal (however long the machine takes).
    await bobs.leave();
    const deadline = Date.now() + 15_000;
    while ((await listRooms()).length > 2) {
      assert.ok(Date.now() < deadline, "bob's room was not disposed within 15 s");
      await new Promise((r) => setTimeout(r, 50));
    }
    rooms.push(await carol.create("metaverse"));
  });

  it("answers CORS only for allowed origins, never with credentials", async () => {
    const allowed = await fetch(`${server.url}/healthz`, { headers: { origin: ALLOWED } });
    assert.equal(allowed.headers.get("access-control-allow-origin"), ALLOWED);
    assert.equal(allowed.headers.get("access-control-allow-credentials"), null);
    const foreign = await server.get("/api/robot", { headers: { origin: FOREIGN } });
    assert.equal(foreign.status, 200, "a non-browser client is not stopped by CORS");
    assert.equal(foreign.headers.get("access-control-allow-origin"), null);
    assert.equal(foreign.headers.get("access-control-allow-credentials"), null);

    for (const origin of [ALLOWED, FOREIGN]) {
      const pre = await fetch(`${server.url}/matchmake/joinOrCreate/digital_twin`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type",
        },
      });
      assert.equal(pre.headers.get("access-control-allow-credentials"), null, origin);
      assert.equal(
        pre.headers.get("access-control-allow-origin"),
        origin === ALLOWED ? ALLOWED : null,
        origin,
      );
    }
    const mm = await matchmake("joinOrCreate", "digital_twin", undefined, FOREIGN);
    assert.equal(mm.status, 401);
    assert.equal(mm.headers.get("access-control-allow-origin"), null);
    const mmOk = await matchmake("joinOrCreate", "digital_twin", undefined, ALLOWED);
    assert.equal(mmOk.headers.get("access-control-allow-origin"), ALLOWED);
  });

  it("needs a token for every /api and /media read: 401 Bearer, 403 for the wrong role", async () => {
    for (const path of [
      "/api/robot",
      "/api/robot/urdf",
      "/api/rooms",
      "/api/recordings",
      "/api/recordings/x.mcap",
      "/api/rooms/x/plans",
      "/api/rooms/x/plans/plan-1",
      "/media/jobs/x",
      "/media/video/s1/master.m3u8",
      "/media/scenes/s1",
    ]) {
      const res = await fetch(server.url + path);
      assert.equal(res.status, 401, path);
      assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer realm="agenttwin"$/, path);
      const bad = await fetch(server.url + path, { headers: { authorization: "Bearer nope" } });
      assert.equal(bad.status, 401, path);
      assert.match(bad.headers.get("www-authenticate") ?? "", /error="invalid_token"/, path);
      const ok = await server.get(path, {}, "observer");
      assert.notEqual(ok.status, 401, path);
      assert.notEqual(ok.status, 403, path);
    }
    // RFC 6750 query token for media players that cannot send headers (not for /api).
    const observer = await server.token("observer", "olga");
    const q = await fetch(`${server.url}/media/scenes/s1?access_token=${observer}`);
    assert.equal(q.status, 404, "past the gate: no such scene");
    assert.equal((await fetch(`${server.url}/api/rooms?access_token=${observer}`)).status, 401);
    // Writes under /media need an operator: an observer's valid token is 403.
    const upload = await fetch(`${server.url}/media/video`, {
      method: "POST",
      headers: { authorization: `Bearer ${observer}`, "content-type": "video/mp4" },
      body: new Uint8Array(1024),
    });
    assert.equal(upload.status, 403);
  });

  it("refuses tokens without exp, iat or audience, or living too long", async () => {
    const key = new TextEncoder().encode(SECRET);
    const base = () =>
      new SignJWT({ role: "operator" })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject("eve")
        .setIssuer("agenttwin");
    const now = Math.floor(Date.now() / 1000);
    const variants: [string, string][] = [
      ["no exp", await base().setAudience("agenttwin").setIssuedAt().sign(key)],
      ["no iat", await base().setAudience("agenttwin").setExpirationTime("1h").sign(key)],
      ["no aud", await base().setIssuedAt().setExpirationTime("1h").sign(key)],
      [
        "other aud",
        await base().setAudience("other").setIssuedAt().setExpirationTime("1h").sign(key),
      ],
      [
        "lifetime over TOKEN_MAX_TTL_S",
        await base()
          .setAudience("agenttwin")
          .setIssuedAt(now)
          .setExpirationTime(now + 2 * 86_400)
          .sign(key),
      ],
    ];
    for (const [what, token] of variants) {
      const res = await fetch(`${server.url}/api/robot`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 401, what);
      assert.equal((await matchmake("joinOrCreate", "metaverse", token)).status, 401, what);
    }
    // The same claims done right verify: an outside identity service can issue tokens.
    const good = await base()
      .setAudience("agenttwin")
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(key);
    const ok = await fetch(`${server.url}/api/robot`, {
      headers: { authorization: `Bearer ${good}` },
    });
    assert.equal(ok.status, 200);
  });

  it("gives development tokens only to loopback clients by a loopback name", async () => {
    const body = JSON.stringify({ name: "dev" });
    const local = await rawPost(
      port,
      "/api/dev/token",
      { "content-type": "application/json", host: `127.0.0.1:${port}` },
      body,
    );
    assert.equal(local.status, 200);
    assert.equal((JSON.parse(local.body) as { role: string }).role, "observer");
    const rebound = await rawPost(
      port,
      "/api/dev/token",
      { "content-type": "application/json", host: `evil.example:${port}` },
      body,
    );
    assert.equal(rebound.status, 403, "DNS rebinding: a foreign Host name");
    const proxied = await rawPost(
      port,
      "/api/dev/token",
      {
        "content-type": "application/json",
        host: `127.0.0.1:${port}`,
        "x-forwarded-for": "203.0.113.7",
      },
      body,
    );
    assert.equal(proxied.status, 403, "behind a proxy");
    const foreignPage = await rawPost(
      port,
      "/api/dev/token",
      {
        "content-type": "application/json",
        host: `127.0.0.1:${port}`,
        origin: "https://evil.example",
      },
      body,
    );
    assert.equal(foreignPage.status, 403, "asked by a foreign web page");
    const ownPage = await rawPost(
      port,
      "/api/dev/token",
      {
        "content-type": "application/json",
        host: `127.0.0.1:${port}`,
        origin: `http://127.0.0.1:${port}`,
      },
      body,
    );
    assert.equal(ownPage.status, 200, "asked by the server's own viewer");
    const ext = externalAddress();
    if (ext) {
      const remote = await fetch(`http://${ext}:${port}/api/dev/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      assert.equal(remote.status, 403, "from a non-loopback address");
    }
  });

  it("serves /metrics to loopback, elsewhere only with a token", async () => {
    assert.equal((await fetch(`${server.url}/metrics`)).status, 200);
    const proxied = await fetch(`${server.url}/metrics`, {
      headers: { "x-forwarded-for": "203.0.113.7" },
    });
    assert.equal(proxied.status, 401);
    assert.match(proxied.headers.get("www-authenticate") ?? "", /^Bearer/);
    const withToken = await server.get(
      "/metrics",
      { headers: { "x-forwarded-for": "203.0.113.7" } },
      "observer",
    );
    assert.equal(withToken.status, 200);
    const ext = externalAddress();
    if (ext) assert.equal((await fetch(`http://${ext}:${port}/metrics`)).status, 401);
  });

  it("refuses connections to the socket.io default namespace", async () => {
    const token = await server.token("operator", "alice");
    const socket = io(server.url, {
      transports: ["websocket"],
      auth: { token },
      reconnection: false,
    });
    try {
      const err = await new Promise<Error>((resolve, reject) => {
        socket.once("connect", () => reject(new Error("the default namespace accepted a socket")));
        socket.once("connect_error", resolve);
      });
      assert.match(err.message, /no namespace/);
    } finally {
      socket.close();
    }
  });
});

const hasOpenssl = spawnSync("openssl", ["version"], { stdio: "ignore" }).status === 0;

describe("TLS_CERT/TLS_KEY: https and wss", { skip: hasOpenssl ? false : "no openssl" }, () => {
  let server: TestServer;
  let cert: string;
  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), "agenttwin-tls-"));
    cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    const made = spawnSync("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-keyout",
      key,
      "-out",
      cert,
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ]);
    assert.equal(made.status, 0, made.stderr.toString());
    server = await startTestServer({ ...QUIET, TLS_CERT: cert, TLS_KEY: key });
  });
  after(async () => {
    await server?.close();
  });

  it("joins a twin room over https + wss with @colyseus/sdk", async () => {
    assert.match(server.url, /^https:\/\//);
    const token = await server.token("operator", "tls-op");
    // A child process trusts the self-signed certificate (NODE_EXTRA_CA_CERTS is read at start).
    const script = `
      import { Client } from "@colyseus/sdk";
      const c = new Client(process.env.URL);
      c.auth.token = process.env.TOKEN;
      const room = await c.joinOrCreate("digital_twin");
      const url = room.connection.transport.ws.url;
      await room.leave();
      console.log(JSON.stringify({ roomId: room.roomId, url }));
      process.exit(0);
    `;
    // Asynchronously: the server runs in this process and must keep answering.
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      cwd: REPO_ROOT,
      env: { ...process.env, URL: server.url, TOKEN: token, NODE_EXTRA_CA_CERTS: cert },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const status = await new Promise<number | null>((r) => child.once("exit", r));
    clearTimeout(timer);
    assert.equal(status, 0, stderr);
    const out = JSON.parse(stdout.trim().split("\n").pop()!) as {
      roomId: string;
      url: string;
    };
    assert.ok(out.roomId);
    assert.match(out.url, /^wss:\/\/127\.0\.0\.1:/);
  });
});
