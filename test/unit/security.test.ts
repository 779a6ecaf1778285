/**
 * The pieces of "closed by default" without sockets: which configurations refuse to
 * start, loopback names, token claims and lifetimes, one-time login codes, CORS parsing and
 * log redaction. The same behaviour over real sockets is in test/integration/security.test.ts.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { decodeJwt, SignJWT } from "jose";
import { LoginCodes } from "../../server/auth/login-codes.ts";
import { AuthError, TokenService } from "../../server/auth/tokens.ts";
import { ConfigError, isLoopbackHost, loadConfig, REPO_ROOT } from "../../server/config.ts";
import { createLogger, redactUrl } from "../../server/log.ts";

const SECRET = "k".repeat(32);

const refusal = (env: Record<string, string>): string => {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail(`started with ${JSON.stringify(env)}`);
};

describe("configuration: closed by default", () => {
  it("refuses what would open the server half-way, naming the variable", () => {
    assert.match(refusal({ HOST: "0.0.0.0" }), /AUTH_SECRET: must be set .*HOST=0\.0\.0\.0/);
    assert.match(refusal({ HOST: "192.0.2.10" }), /AUTH_SECRET/);
    assert.match(refusal({ HOST: "::" }), /AUTH_SECRET/);
    assert.match(refusal({ ROBOT_LINK: "ros" }), /AUTH_SECRET: .*ROBOT_LINK=ros/);
    assert.match(refusal({ REDIS_URL: "redis://127.0.0.1:6379" }), /AUTH_SECRET: .*REDIS_URL/);
    assert.match(
      refusal({ AUTH_SECRET: "x".repeat(31) }),
      /AUTH_SECRET: must be at least 32 bytes/,
    );
    assert.match(
      refusal({ AUTH_SECRET: SECRET, ROBOT_LINK: "ros", AUTH_DEV_TOKENS: "true" }),
      /AUTH_DEV_TOKENS: development tokens are never on with ROBOT_LINK=ros/,
    );
    assert.match(refusal({ TLS_KEY: "/k.pem" }), /TLS_CERT, TLS_KEY: set both/);
    assert.match(refusal({ TOKEN_TTL_S: "7200", TOKEN_MAX_TTL_S: "3600" }), /TOKEN_TTL_S/);
    assert.match(refusal({ CORS_ORIGINS: "*" }), /CORS_ORIGINS/);
    assert.match(refusal({ CORS_ORIGINS: "https://a.example/path" }), /CORS_ORIGINS/);
  });

  it("opens only what a deployment set", () => {
    const c = loadConfig({
      HOST: "0.0.0.0",
      AUTH_SECRET: SECRET,
      ROBOT_LINK: "ros",
      CORS_ORIGINS: "https://viewer.example, http://localhost:5173/",
      TLS_CERT: "/c.pem",
      TLS_KEY: "/k.pem",
    });
    assert.equal(c.auth.ephemeralSecret, false);
    assert.equal(c.auth.devTokens, false, "never with a ROS link");
    assert.deepEqual(c.http.corsOrigins, ["https://viewer.example", "http://localhost:5173"]);
    assert.deepEqual(c.http.tls, { certFile: "/c.pem", keyFile: "/k.pem" });
    assert.equal(c.room.maxRooms, 32);
    assert.equal(c.room.maxRoomsPerUser, 4);
  });

  it("knows loopback names and addresses", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"]) {
      assert.ok(isLoopbackHost(h), h);
    }
    for (const h of ["0.0.0.0", "::", "192.0.2.1", "localhost.evil.example", "128.0.0.1"]) {
      assert.ok(!isLoopbackHost(h), h);
    }
  });
});

describe("tokens", () => {
  const key = new TextEncoder().encode(SECRET);
  const tokens = new TokenService(SECRET, { maxTtlS: 3600 });

  it("issues iss, aud, iat and exp, and refuses a lifetime over the cap", async () => {
    const claims = decodeJwt(await tokens.issue({ userId: "u", name: "U", role: "observer" }, 60));
    assert.equal(claims.iss, "agenttwin");
    assert.equal(claims.aud, "agenttwin");
    assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 60);
    await assert.rejects(
      tokens.issue({ userId: "u", name: "U", role: "observer" }, 3601),
      AuthError,
    );
    assert.throws(() => new TokenService("short-secret-of-31-bytes-xxxxxx"), AuthError);
  });

  it("refuses tokens without exp or iat, of another audience, or living too long", async () => {
    const now = Math.floor(Date.now() / 1000);
    const base = () =>
      new SignJWT({ role: "operator" })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject("x")
        .setIssuer("agenttwin");
    const cases: [string, string, RegExp][] = [
      ["no exp", await base().setAudience("agenttwin").setIssuedAt().sign(key), /exp/],
      ["no iat", await base().setAudience("agenttwin").setExpirationTime("1h").sign(key), /iat/],
      ["no aud", await base().setIssuedAt().setExpirationTime("1h").sign(key), /aud/],
      [
        "too long",
        await base()
          .setAudience("agenttwin")
          .setIssuedAt(now)
          .setExpirationTime(now + 7200)
          .sign(key),
        /lifetime/,
      ],
      [
        "issued long ago",
        await base()
          .setAudience("agenttwin")
          .setIssuedAt(now - 7200)
          .setExpirationTime(now + 60)
          .sign(key),
        /./,
      ],
    ];
    for (const [what, token, reason] of cases) {
      await assert.rejects(tokens.verify(token), (err: unknown) => {
        assert.ok(err instanceof AuthError, what);
        assert.match(err.message, reason, what);
        return true;
      });
    }
    const ok = await base()
      .setAudience("agenttwin")
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(key);
    assert.equal((await tokens.verify(ok)).role, "operator");
  });
});

describe("one-time login codes", () => {
  it("work once, expire, and stay bounded", () => {
    const codes = new LoginCodes(1000, 2);
    const a = codes.create(0);
    assert.ok(a.length >= 20);
    assert.equal(codes.redeem("nope", 1), false);
    assert.equal(codes.redeem(a, 1), true);
    assert.equal(codes.redeem(a, 2), false, "spent");
    const b = codes.create(0);
    assert.equal(codes.redeem(b, 1001), false, "expired");
    const c1 = codes.create(0);
    codes.create(0);
    codes.create(0);
    assert.equal(codes.redeem(c1, 1), false, "the oldest is dropped beyond the bound");
  });
});

describe("log redaction", () => {
  it("never writes tokens: headers, token fields, URLs", () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger({ logLevel: "info" }, sink);
    const secret = "eyJhbGciOiJIUzI1NiJ9.payload.signature";
    log.info({ headers: { authorization: `Bearer ${secret}` } }, "request");
    log.info({ req: { headers: { authorization: `Bearer ${secret}` } } }, "request");
    log.info({ token: secret, auth: { token: secret } }, "join");
    log.info({ url: `/2/abc?sessionId=s&_authToken=${secret}` }, "upgrade");
    log.info({ url: `/media/x.mp4?access_token=${secret}` }, "media");
    const all = lines.join("");
    assert.equal(lines.length, 5);
    assert.ok(!all.includes(secret), all);
    assert.match(all, /\[Redacted\]/);
    assert.equal(redactUrl("/#login=abc&view=metaverse"), "/#login=[Redacted]&view=metaverse");
  });
});

describe("scripts/token.ts", () => {
  const mint = (env: Record<string, string>, ...args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", "scripts/token.ts", ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? "", ...env },
      encoding: "utf8",
      timeout: 60_000,
    });

  it("mints a token the server verifies, with the server's secret", async () => {
    const r = mint({ AUTH_SECRET: SECRET }, "--name", "ann", "--role", "operator", "--ttl", "600");
    assert.equal(r.status, 0, r.stderr);
    const who = await new TokenService(SECRET).verify(r.stdout.trim());
    assert.deepEqual(who, { userId: "ann", name: "ann", role: "operator" });
  });

  it("refuses without AUTH_SECRET or with a lifetime over TOKEN_MAX_TTL_S", () => {
    const none = mint({}, "--name", "ann");
    assert.equal(none.status, 2);
    assert.match(none.stderr, /AUTH_SECRET/);
    const long = mint({ AUTH_SECRET: SECRET }, "--name", "ann", "--ttl", String(30 * 86_400));
    assert.equal(long.status, 2);
    assert.match(long.stderr, /lifetime/);
  });
});
