/**
 * Environment → config: the embedded defaults `npm start` runs on, and one readable error
 * listing every bad variable.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../server/config.ts";

describe("loadConfig", () => {
  it("runs on embedded defaults with an empty environment", () => {
    const c = loadConfig({});
    assert.equal(c.port, 2567);
    assert.equal(c.room.patchRateHz, 60);
    assert.equal(c.room.simRateHz, 1000);
    assert.equal(c.room.physicsRateHz, 240);
    // Closed by default: loopback, a random secret per start, dev tokens for local clients.
    assert.equal(c.host, "127.0.0.1");
    assert.equal(c.auth.ephemeralSecret, true);
    assert.ok(Buffer.byteLength(c.auth.secret) >= 32);
    assert.notEqual(c.auth.secret, loadConfig({}).auth.secret, "a new secret each start");
    assert.equal(c.auth.devTokens, true);
    assert.deepEqual(c.http.corsOrigins, []);
    assert.equal(c.http.tls, undefined);
    assert.equal(c.robot.dir, "assets/robots/panda");
  });

  it("reads overrides and turns dev tokens off with a real secret", () => {
    const c = loadConfig({
      PORT: "0",
      PATCH_RATE_HZ: "90",
      AUTH_SECRET: "s".repeat(32),
      REQUIRE_SECOND_OPERATOR: "yes",
      EMPTY: "",
    });
    assert.equal(c.port, 0);
    assert.equal(c.room.patchRateHz, 90);
    assert.equal(c.auth.ephemeralSecret, false);
    assert.equal(c.auth.secret, "s".repeat(32));
    assert.equal(c.auth.devTokens, false);
    assert.equal(c.motion.requireSecondOperator, true);
  });

  it("names every offending variable in one ConfigError", () => {
    assert.throws(
      () =>
        loadConfig({
          PORT: "70000",
          PATCH_RATE_HZ: "NaN",
          AUTH_SECRET: "short",
          LOG_LEVEL: "loud",
        }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        for (const name of ["PORT", "PATCH_RATE_HZ", "AUTH_SECRET", "LOG_LEVEL"])
          assert.match(err.message, new RegExp(name));
        return true;
      },
    );
  });
});

describe("loadConfig: robot link", () => {
  it("links to the simulated cell over rosbridge by default, with MoveIt planning", () => {
    const c = loadConfig({});
    assert.equal(c.link.mode, "sim");
    assert.equal(c.link.planner, "cell");
    assert.equal(c.link.rosVersion, 2);
    assert.equal(c.link.executeAction, "/execute_trajectory");
  });

  it("plans in the twin for the in-process cell and refuses a cell planner there", () => {
    assert.equal(loadConfig({ ROBOT_LINK: "inprocess" }).link.planner, "twin");
    assert.throws(() => loadConfig({ ROBOT_LINK: "inprocess", PLANNER: "cell" }), ConfigError);
  });

  it("parses a joint name map and refuses malformed pairs and URLs", () => {
    const c = loadConfig({ JOINT_NAME_MAP: "panda_joint1=fr3_joint1, panda_joint2=fr3_joint2" });
    assert.deepEqual(c.link.jointNameMap, {
      panda_joint1: "fr3_joint1",
      panda_joint2: "fr3_joint2",
    });
    assert.throws(() => loadConfig({ JOINT_NAME_MAP: "panda_joint1:fr3" }), /JOINT_NAME_MAP/);
    assert.throws(() => loadConfig({ ROSBRIDGE_URL: "http://example.org" }), /ROSBRIDGE_URL/);
  });
});
