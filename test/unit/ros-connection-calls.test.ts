/**
 * RosConnection.callService against a real websocket peer that accepts rosbridge ops but
 * never answers `call_service`: the call fails with "no answer within", the rosbridge-side
 * `timeout` (s) travels with the call, and the reply listener roslib registered under the
 * call's id is removed, so calls given up on leave nothing behind on the Ros object. And
 * RosConnection.keepSubscribed against a peer that publishes a `msg` that is no object (null,
 * a number) before a real one: only the object reaches the handler, nothing throws.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { WebSocketServer } from "ws";
import { RosConnection } from "../../server/robot/ros-connection.ts";

describe("RosConnection.callService", () => {
  let wss: WebSocketServer;
  let conn: RosConnection;
  const calls: { id?: string; timeout?: number }[] = [];

  before(async () => {
    wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(wss, "listening");
    wss.on("connection", (ws) =>
      ws.on("message", (data) => {
        const op = JSON.parse(String(data)) as { op: string; id?: string; timeout?: number };
        if (op.op === "call_service") calls.push(op);
        if (op.op === "subscribe")
          for (const msg of [null, 42, "x", { name: ["joint1"] }])
            ws.send(JSON.stringify({ op: "publish", topic: "/joint_states", msg }));
      }),
    );
    const { port } = wss.address() as AddressInfo;
    conn = new RosConnection({
      url: `ws://127.0.0.1:${port}`,
      reconnectMinMs: 50,
      reconnectMaxMs: 200,
      callTimeoutMs: 2000,
      logger: pino({ level: "silent" }),
    });
    const up = once(conn, "up");
    conn.start();
    await up;
  });
  after(async () => {
    conn.close();
    wss.close();
  });

  it("gives up with a clear error and leaves no reply listener behind", async () => {
    const pending = () =>
      conn.ros.eventNames().filter((e) => typeof e === "string" && e.startsWith("call_service:"));
    assert.deepEqual(pending(), []);
    await assert.rejects(
      conn.callService("/never", "std_srvs/Trigger", {}, 150),
      /\/never: no answer within 150 ms/,
    );
    await assert.rejects(conn.callService("/never", "std_srvs/Trigger", {}, 150), /no answer/);
    assert.deepEqual(pending(), [], "reply listeners of abandoned calls are removed");
    assert.equal(calls.length, 2, "both calls reached the peer");
    assert.equal(calls[0]?.timeout, 0.15, "rosbridge is told the same deadline, in seconds");
  });

  it("keepSubscribed hands the handler message objects only", async () => {
    const got: unknown[] = [];
    const names: unknown[] = [];
    const delivered = new Promise<void>((resolve) =>
      conn.keepSubscribed<{ name: string[] }>(
        {
          topic: "/joint_states",
          type: "sensor_msgs/msg/JointState",
          throttleMs: 0,
          queueLength: 1,
          compression: "none",
        },
        (msg) => {
          got.push(msg);
          names.push(msg.name); // throws on null: what a real handler does first
          resolve();
        },
      ),
    );
    await delivered;
    assert.deepEqual(got, [{ name: ["joint1"] }]);
    assert.deepEqual(names, [["joint1"]]);
  });
});
