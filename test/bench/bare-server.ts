/**
 * The load bench's bare server process (`node --import tsx test/bench/bare-server.ts`): one
 * Colyseus server (the same `@colyseus/core` and `@colyseus/ws-transport` as the product)
 * serving only {@link BareRoom}, plus `GET /bench/stats`: this process's CPU time, RSS and
 * event-loop delay p99 since the previous call, poses accepted and messages refused (`monitorEventLoopDelay` at prom-client's
 * default 10 ms resolution, so it reads like the product's `nodejs_eventloop_lag_p99_seconds`).
 * Prints `{"msg":"listening","port":…}` once it listens on `PORT` (0: any) at `HOST`.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Server } from "@colyseus/core";
import { WebSocketTransport } from "@colyseus/ws-transport";
import { BARE_ROOM, BareRoom, bareCounters } from "./bare-room.ts";

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? "127.0.0.1";
const eld = monitorEventLoopDelay({ resolution: 10 });
eld.enable();

const http = createServer();
const transport = new WebSocketTransport({ noServer: true });
transport.attachToServer(http);
const gameServer = new Server({
  transport,
  gracefullyShutdown: false,
  greet: false,
  express: (app) => {
    app.get("/bench/stats", (_req, res) => {
      const cpu = process.cpuUsage();
      res.json({
        cpuS: (cpu.user + cpu.system) / 1e6,
        rssMiB: process.memoryUsage.rss() / 2 ** 20,
        eventLoopLagP99Ms: eld.percentile(99) / 1e6,
        eventLoopLagMeanMs: eld.mean / 1e6,
        posesAccepted: bareCounters.poses,
        messagesRejected: bareCounters.rejected,
      });
      eld.reset();
    });
  },
});
gameServer.define(BARE_ROOM, BareRoom);
await gameServer.listen(port, host);
console.log(JSON.stringify({ msg: "listening", port: (http.address() as AddressInfo).port, host }));
const stop = () => {
  void gameServer.gracefullyShutdown(false).finally(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
