/**
 * Composition root: one http server carrying express routes and the Colyseus rooms, with
 * every dependency built here and injected (no module singletons of our own).
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "@colyseus/core";
import { Encoder } from "@colyseus/schema";
import { WebSocketTransport } from "@colyseus/ws-transport";
import type { Logger } from "pino";
import { TokenService } from "./auth/tokens.ts";
import type { Config } from "./config.ts";
import { ServerMetrics } from "./http/metrics.ts";
import { attachAgentStream } from "./http/agent-stream.ts";
import { attachLiveIngest } from "./http/live-ingest-stream.ts";
import { createSocketIo } from "./http/socket-io.ts";
import { mountHttpRoutes } from "./http/routes.ts";
import { mountViewer } from "./http/viewer-routes.ts";
import { mountMediaRoutes } from "./http/media-routes.ts";
import { operatorAuth } from "./http/operator-auth.ts";
import { mountReconstructionRoutes } from "./http/reconstruction-routes.ts";
import { openMedia } from "./media/media-service.ts";
import type { SceneJobs } from "./media/reconstruction/scene-jobs.ts";
import { ReconstructionAgent } from "./agents/reconstruction-agent.ts";
import type { Application } from "express";
import { installNodeCompat } from "./node-compat.ts";
import { AgentController } from "./agents/controller.ts";
import { loadAgents } from "./agents/runtime.ts";
import { DEFAULT_BANDS } from "./net/bands.ts";
import { liveSceneHooks } from "./media/live-scene.ts";
import { MetaverseSession, renditionPlaylist } from "./media/metaverse-session.ts";
import { openCellLink } from "./robot/cell-link.ts";
import { createMetaverseRoom, METAVERSE_ROOM } from "./rooms/MetaverseRoom.ts";
import { AgentBridge } from "./twin/agent-bridge.ts";
import { createDigitalTwinRoom, DIGITAL_TWIN_ROOM } from "./rooms/DigitalTwinRoom.ts";
import { TwinRegistry } from "./twin/registry.ts";
import { loadRobotDescription } from "./twin/robot-description.ts";
import { createTwinSession } from "./twin/session-factory.ts";
import { openScaleOut } from "./scaleout.ts";
import type { TwinSession } from "./twin/session.ts";

/** A running server. */
export interface App {
  readonly http: HttpServer;
  /** Port actually bound (useful with PORT=0). */
  readonly port: number;
  readonly metrics: ServerMetrics;
  readonly registry: TwinRegistry;
  /** Metaverse rooms of this process by room id. */
  readonly metaverse: ReadonlyMap<string, MetaverseSession>;
  readonly tokens: TokenService;
  /** Stops accepting, disposes rooms, closes sockets. Idempotent. */
  close(): Promise<void>;
}

/** Builds and starts the server on `config.port` / `config.host`. */
export async function startApp(config: Config, logger: Logger): Promise<App> {
  installNodeCompat();
  // The full state a joining headset receives grows with the people in the room (about
  // 250 bytes each); size the encoder for a full room instead of growing it on the fly.
  Encoder.BUFFER_SIZE = Math.max(Encoder.BUFFER_SIZE, 16 * 1024 + config.room.maxClients * 512);
  let ready = false;
  const metrics = new ServerMetrics();
  const tokens = new TokenService(config.auth.secret);
  const registry = new TwinRegistry();
  const robot = await loadRobotDescription(config);
  // With REDIS_URL: matchmaking shared with the other processes (see scaleout.ts).
  const scaleOut = await openScaleOut(config, logger);
  const cellLink = await openCellLink(config, robot, logger);
  /** Metaverse rooms of this process, by room id (for media hooks and dashboards). */
  const metaverseSessions = new Map<string, MetaverseSession>();
  const agents = config.agents.enabled
    ? await loadAgents(config.agents, logger, { intentMetrics: metrics.intentBackend })
    : null;
  const media = await openMedia(config.media, logger);
  agents?.registry.register(new ReconstructionAgent({ backend: media.reconstructionLabel }));

  if (config.auth.usingDevSecret) {
    logger.warn("AUTH_SECRET is unset: using the development secret; do not expose this server");
  }

  const http = createServer();
  // Colyseus takes every websocket upgrade except socket.io's (the agents' dashboard stream).
  const transport = new WebSocketTransport({
    noServer: true,
    maxPayload: config.room.maxMessageBytes,
  });
  transport.attachToServer(http, { filter: (req) => !(req.url ?? "").startsWith("/socket.io/") });
  const socketIo = createSocketIo(
    http,
    Math.max(16 * 1024, (media.video?.config.liveMaxFrameBytes ?? 0) + 1024),
  );
  const agentStream = attachAgentStream(socketIo.io, {
    tokens,
    logger,
    decisionsOf: (roomId) =>
      registry.get(roomId)?.agents?.decisions() ?? metaverseSessions.get(roomId)?.decisions(),
  });
  attachLiveIngest(socketIo.io, {
    tokens,
    pipeline: media.video,
    videoOff: media.videoOff,
    logger,
    roomExists: (roomId) => metaverseSessions.has(roomId),
    ...liveSceneHooks(metaverseSessions),
  });
  const gameServer = new Server({
    transport,
    gracefullyShutdown: false,
    greet: false,
    ...(scaleOut && {
      presence: scaleOut.presence,
      driver: scaleOut.driver,
      publicAddress: scaleOut.publicAddress,
    }),
    logger,
    express: (app) => {
      mountHttpRoutes(app, {
        config,
        logger,
        metrics,
        tokens,
        registry,
        robot,
        isReady: () => ready,
      });
      mountMedia(app);
      mountViewer(app, { distDir: config.viewerDir });
    },
  });

  /**
   * Video clips (`POST /media/video?room=<metaverse room>`) and scene reconstructions
   * (`POST /media/scenes?sceneId=<metaverse room>`): a finished job becomes that room's
   * stream or 3D asset; a failed one leaves the room's scene as it was and says why.
   */
  let sceneJobs: SceneJobs | undefined;
  function mountMedia(app: Application): void {
    const authorize = operatorAuth(tokens);
    if (media.video) {
      mountMediaRoutes(app, {
        pipeline: media.video,
        logger,
        authorize,
        roomExists: (roomId) => metaverseSessions.has(roomId),
        onJobDone: (job, room) => {
          const session = room === undefined ? undefined : metaverseSessions.get(room);
          if (!session) return;
          if (job.status === "succeeded" && job.streamUrl) {
            session.setScene({
              streamUrl: job.streamUrl,
              video: job.renditions.map((r) => ({
                name: r.name,
                bitrateBps: r.bandwidthBps,
                playlistUrl: r.playlistUrl,
              })),
              status: "ready",
              error: "",
            });
          } else {
            session.setScene({
              error: `video job ${job.id} ${job.status}: ${job.error?.message ?? ""}`,
            });
          }
        },
      });
    } else {
      app.all(["/media/video", "/media/video/*rest", "/media/jobs/*rest"], (_req, res) => {
        res.status(503).json({ error: { code: "video_off", message: media.videoOff } });
      });
    }
    const r = config.media.reconstruction;
    sceneJobs = mountReconstructionRoutes(app, {
      dir: r.dir,
      rgbd: media.rgbd,
      ...(media.image && { image: media.image }),
      maxUploadBytes: r.maxUploadBytes,
      maxQueue: r.maxQueue,
      jobTimeoutMs: r.timeoutMs,
      logger,
      authorize,
      onSceneReady: (sceneId, url, stats) => {
        metaverseSessions.get(sceneId)?.setScene({ assetUrl: url, assetBytes: stats.bytes });
      },
    });
  }

  /** Gives a session its agent controller, panel and decision stream. */
  const attachAgents = (session: TwinSession, roomId: string) => {
    if (!agents) return;
    const log = logger.child({ roomId, component: "agents" });
    const controller = new AgentController({
      registry: agents.registry,
      bands: DEFAULT_BANDS,
      margin: config.agents.margin,
      logger: log,
    });
    controller.onDecision((d) => {
      agentStream.publish(roomId, d);
      session.recordDecision(d);
    });
    const bridge = new AgentBridge({
      session,
      controller,
      intents: agents.intents,
      robot,
      gnb: config.agents.gnb,
      patchRateHz: config.room.patchRateHz,
      intentTimeoutMs: config.agents.intentTimeoutMs,
      agentsLabel: agents.registry
        .list()
        .map((a) => `${a.id} (${a.model})`)
        .join(", "),
      ...(agents.observeTraffic && { observeTraffic: agents.observeTraffic }),
      logger: log,
    });
    session.agents = bridge;
    bridge.start();
  };

  gameServer.define(
    DIGITAL_TWIN_ROOM,
    createDigitalTwinRoom({
      config,
      logger,
      metrics,
      tokens,
      registry,
      createSession: async (roomId) => {
        const { cell, planner, label } = cellLink.connect();
        const session = await createTwinSession({
          config,
          logger,
          metrics,
          robot,
          roomId,
          cell,
          planner,
          cellLabel: label,
        });
        if (agents) attachAgents(session, roomId);
        return session;
      },
    }),
  );

  gameServer.define(
    METAVERSE_ROOM,
    createMetaverseRoom({
      config,
      logger,
      metrics,
      tokens,
      createSession: (roomId) => {
        const session = new MetaverseSession({
          agents: agents && {
            registry: agents.registry,
            intents: agents.intents,
            label: agents.registry
              .list()
              .map((a) => `${a.id} (${a.model})`)
              .join(", "),
          },
          robot,
          gnb: config.agents.gnb,
          margin: config.agents.margin,
          patchRateHz: config.room.patchRateHz,
          intentTimeoutMs: config.agents.intentTimeoutMs,
          logger: logger.child({ room: METAVERSE_ROOM, roomId }),
          playlistFor: renditionPlaylist,
        });
        session.onDecision((d) => agentStream.publish(roomId, d));
        metaverseSessions.set(roomId, session);
        return session;
      },
      disposeSession: (roomId) => metaverseSessions.delete(roomId),
    }),
  );

  await gameServer.listen(config.port, config.host);
  const port = (http.address() as AddressInfo).port;
  ready = true;
  logger.info({ port, host: config.host }, "listening");

  let closing: Promise<void> | undefined;
  return {
    http,
    port,
    metrics,
    registry,
    metaverse: metaverseSessions,
    tokens,
    close() {
      closing ??= (async () => {
        ready = false;
        await socketIo.close();
        await gameServer.gracefullyShutdown(false);
        await sceneJobs?.close();
        await media.close();
        await cellLink.close();
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
        logger.info("closed");
      })();
      return closing;
    },
  };
}
