/**
 * Composition root: one http server carrying express routes and the Colyseus rooms, with
 * every dependency built here and injected (no module singletons of our own).
 */
import { readFileSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { type Room, Server } from "@colyseus/core";
import { Encoder } from "@colyseus/schema";
import { WebSocketTransport } from "@colyseus/ws-transport";
import type { Logger } from "pino";
import { LoginCodes } from "./auth/login-codes.ts";
import { TokenService } from "./auth/tokens.ts";
import { installCors } from "./http/cors.ts";
import { listenUrls } from "./log.ts";
import { RecordingStore } from "./store/recording-store.ts";
import { RoomQuota } from "./rooms/room-auth.ts";
import type { Config } from "./config.ts";
import { ServerMetrics } from "./http/metrics.ts";
import { attachAgentStream } from "./http/agent-stream.ts";
import { attachLiveIngest } from "./http/live-ingest-stream.ts";
import { createSocketIo } from "./http/socket-io.ts";
import { mountHttpRoutes } from "./http/routes.ts";
import {
  type ColyseusRouter,
  dropColyseusReference,
  type MountedRoute,
  mountFallbacks,
  mountedRoutes,
} from "./http/openapi-routes.ts";
import { mountViewer } from "./http/viewer-routes.ts";
import { mountMediaRoutes } from "./http/media-routes.ts";
import { mountReconstructionRoutes } from "./http/reconstruction-routes.ts";
import { openMedia } from "./media/media-service.ts";
import type { SceneJobs } from "./media/reconstruction/scene-jobs.ts";
import { ReconstructionAgent } from "./agents/reconstruction-agent.ts";
import type { Application } from "express";
import { installNodeCompat } from "./node-compat.ts";
import { loadAgents } from "./agents/runtime.ts";
import type { AgentSetup } from "./agents/orchestrator.ts";
import { AgentWorkLimiter } from "./agents/work-limiter.ts";
import { openDataDir } from "./store/data-dir.ts";
import type { RetentionRule } from "./store/retention.ts";
import { join } from "node:path";
import { liveSceneHooks } from "./metaverse/live-scene.ts";
import { mediaSceneHooks } from "./metaverse/media-scene.ts";
import { SpaceScenes, withSpaces } from "./metaverse/space-scenes.ts";
import { spaceRouter } from "./http/space-routes.ts";
import { FileSpaceStore } from "./store/space-store-file.ts";
import { RedisSpaceStore } from "./store/space-store-redis.ts";
import type { SpaceStore } from "./store/space-store.ts";
import { MetaverseSession, renditionPlaylist } from "./metaverse/metaverse-session.ts";
import { openCellLink } from "./robot/cell-link.ts";
import { type SimCell, startSimCell } from "../ros/sim-cell/index.ts";
import { createMetaverseRoom, METAVERSE_ROOM } from "./rooms/MetaverseRoom.ts";
import { createDigitalTwinRoom, DIGITAL_TWIN_ROOM } from "./rooms/DigitalTwinRoom.ts";
import { TwinRegistry } from "./twin/registry.ts";
import { loadRobotDescription, type RobotDescription } from "./sim/robot-description.ts";
import { createTwinSession } from "./twin/session-factory.ts";
import { openScaleOut } from "./scaleout.ts";
import { guardMatchmaking } from "./scaleout-health.ts";

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
  /** `https` with TLS_CERT/TLS_KEY, else `http` (websockets: wss / ws). */
  readonly scheme: "http" | "https";
  /** Every HTTP route the server answers (express's and Colyseus's), for the API description. */
  routes(): MountedRoute[];
  /**
   * A fresh one-time login link for the local viewer (`<scheme>://<host>:<port>/#login=<code>`),
   * or undefined when `AUTH_SECRET` is set (a deployment's identity service issues tokens).
   */
  loginLink(): string | undefined;
  /**
   * Fatal-error path: stops every twin session's arm now (the cancel is sent synchronously)
   * and writes the audit log to disk. Never throws.
   */
  emergencyStop(reason: string): void;
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
  const tokens = new TokenService(config.auth.secret, {
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    maxTtlS: config.auth.maxTokenTtlS,
  });
  const loginCodes = config.auth.ephemeralSecret ? new LoginCodes() : undefined;
  const quota = new RoomQuota(config.room.maxRooms, config.room.maxRoomsPerUser);
  const registry = new TwinRegistry();
  const robot = await loadRobotDescription(config);
  // With REDIS_URL: matchmaking shared with the other processes (see scaleout.ts).
  const scaleOut = await openScaleOut(config, logger, (up) => metrics.presenceUp.set(up ? 1 : 0));
  // ROBOT_LINK=sim: the simulated cell runs beside the server, on loopback, until close().
  const simCell =
    config.link.mode === "sim" ? await startLoopbackSimCell(config, robot, logger) : null;
  // Cell ownership leases live in the shared presence when scaled out (one arm, one owner).
  const cellLink = openCellLink(config, robot, logger, {
    rosbridgeUrl: simCell?.url ?? config.link.url,
    presence: scaleOut?.presence,
  });
  /** Metaverse rooms of this process, by room id (for media hooks and dashboards). */
  const metaverseSessions = new Map<string, MetaverseSession>();
  // Spaces (named scenes that outlive rooms) are shared through Redis when scaled out.
  const spaceStore: SpaceStore =
    scaleOut && config.scaleOut.redisUrl
      ? new RedisSpaceStore(config.scaleOut.redisUrl, `redis ${scaleOut.redisLabel}`)
      : new FileSpaceStore(join(config.store.dataDir, "spaces"));
  const spaces = new SpaceScenes({
    store: spaceStore,
    sessions: metaverseSessions,
    streamsDir: join(config.media.video.mediaDir, "video"),
    scenesDir: config.media.reconstruction.dir,
    logger: logger.child({ component: "spaces" }),
    // Scaled out, a room on a space hears of changes made through other processes.
    ...(scaleOut && { news: scaleOut.presence }),
  });
  // Audit log, recordings a crash left (.part), retention (server/store/data-dir.ts), which
  // keeps the media stored spaces show.
  const dataDir = await openDataDir({
    store: config.store,
    recordingsDir: config.recording.dir,
    retention: mediaRetention(config, () => spaces.mediaInUse()),
    logger,
  });
  const agents = config.agents.enabled
    ? await loadAgents(
        config.agents,
        logger,
        { intentMetrics: metrics.intentBackend },
        // Models off the event loop: a what-if never delays a STOP (server/agents/model-host.ts).
        config.agentWork.worker ? { worker: { maxQueue: config.agentWork.workerMaxQueue } } : {},
      )
    : null;
  const media = await openMedia(config.media, logger);
  if (media.video) metrics.watchVideoQueue(media.video.queue);
  // One store for the routes and the metrics, so its summary cache spares re-reading
  // every recording's MCAP summary on each scrape.
  const recordings = new RecordingStore(config.recording.dir);
  metrics.watchRecordings(() => recordings.list());
  agents?.registry.register(new ReconstructionAgent({ backend: media.reconstructionLabel }));
  /** The agents as rooms show them: `id (model)`, comma-separated. */
  const agentsLabel = agents?.registry
    .list()
    .map((a) => `${a.id} (${a.model})`)
    .join(", ");

  if (config.auth.ephemeralSecret) {
    logger.info(
      "AUTH_SECRET is unset: local mode (loopback only, a random secret for this run, tokens die with the process)",
    );
  }

  const tls = config.http.tls;
  const http: HttpServer = tls
    ? createHttpsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) })
    : createServer();
  // CORS from the allow-list on every route, Colyseus's /matchmake ones included.
  installCors(config.http.corsOrigins);
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
  let expressApp: Application | undefined;
  /** Routes Colyseus answers before express sees the request (matchmaking). */
  const colyseusRoutes = (): MountedRoute[] =>
    Object.values(
      gameServer.router.endpoints as Record<
        string,
        { path: string; options: { method?: unknown } }
      >,
    ).flatMap((e) =>
      [e.options.method ?? "GET"].flat().map((m) => ({ method: String(m), path: e.path })),
    );
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
        loginCodes,
        registry,
        robot,
        recordings,
        isReady: () => ready && (scaleOut?.health.up ?? true),
      });
      app.use("/api", spaceRouter({ spaces, tokens, logger }));
      mountMedia(app);
      if (sceneJobs) metrics.watchReconstructionQueue(sceneJobs);
      mountViewer(app, { distDir: config.viewerDir });
      // Last: 404/405 (with Allow) and request errors as JSON, for every route above.
      mountFallbacks(app, logger, colyseusRoutes);
      expressApp = app;
    },
  });

  /**
   * Video clips (`POST /media/video?room=<metaverse room or space>`) and scene reconstructions
   * (`POST /media/scenes?sceneId=<metaverse room or space>`) show in that room's scene
   * (server/metaverse/media-scene.ts) and are kept by its space (space-scenes.ts).
   */
  let sceneJobs: SceneJobs | undefined;
  function mountMedia(app: Application): void {
    const sceneHooks = withSpaces(mediaSceneHooks({ get: (t) => spaces.session(t) }), spaces);
    if (media.video) {
      mountMediaRoutes(app, {
        pipeline: media.video,
        logger,
        roomExists: (target) => spaces.exists(target),
        minFreeBytes: config.store.minFreeDiskBytes,
        ...sceneHooks.video,
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
      maxInFlight: config.store.uploadsInFlight,
      idleTimeoutMs: config.store.uploadIdleTimeoutMs,
      minFreeBytes: config.store.minFreeDiskBytes,
      logger,
      metrics: metrics.reconstruction,
      ...sceneHooks.reconstruction,
    });
  }

  /**
   * The agents of one room's session (null when they are off): its own work limiter, and a
   * sink that streams each decision on socket.io and counts it in /metrics.
   */
  const agentSetup = (roomId: string, log: Logger): AgentSetup | null =>
    agents && {
      registry: agents.registry,
      intents: agents.intents,
      label: agentsLabel ?? "",
      limiter: new AgentWorkLimiter({
        perRoom: config.agentWork.maxPendingPerRoom,
        perUser: config.agentWork.maxPendingPerUser,
      }),
      margin: config.agents.margin,
      intentTimeoutMs: config.agents.intentTimeoutMs,
      sink: {
        decision: (d) => {
          metrics.agentDecision(d);
          agentStream.publish(roomId, d);
        },
      },
      logger: log,
    };

  const twinHandler = gameServer.define(
    DIGITAL_TWIN_ROOM,
    createDigitalTwinRoom({
      config,
      logger,
      metrics,
      tokens,
      quota,
      registry,
      createSession: async (roomId) => {
        const { cell, planner, label, lease } = cellLink.connect(roomId);
        const setup = agentSetup(roomId, logger.child({ roomId, component: "agents" }));
        return createTwinSession({
          config,
          logger,
          metrics,
          robot,
          roomId,
          cell,
          planner,
          cellLabel: label,
          lease,
          audit: dataDir.audit,
          agents: setup && {
            ...setup,
            gnb: config.agents.gnb,
            patchRateHz: config.room.patchRateHz,
            ...(agents?.observeTraffic && { observeTraffic: agents.observeTraffic }),
          },
        });
      },
    }),
  );

  const metaverseHandler = gameServer
    .define(
      METAVERSE_ROOM,
      createMetaverseRoom({
        config,
        logger,
        metrics,
        tokens,
        quota,
        createSession: async (roomId, opening) => {
          // A room created with the join option `space` opens that space (restored scene).
          const space =
            opening.space === undefined
              ? undefined
              : await spaces.open(opening.space, opening.creator.role === "operator");
          const log = logger.child({ room: METAVERSE_ROOM, roomId });
          const session = new MetaverseSession({
            agents: agentSetup(roomId, log),
            robot,
            gnb: config.agents.gnb,
            patchRateHz: config.room.patchRateHz,
            logger: log,
            playlistFor: renditionPlaylist,
          });
          metaverseSessions.set(roomId, session);
          if (space) spaces.attach(roomId, space, session);
          return session;
        },
        disposeSession: (roomId) => {
          spaces.detach(roomId);
          metaverseSessions.delete(roomId);
        },
      }),
    )
    .filterBy(["space"]); // joinOrCreate with `space` finds the room open on that space

  if (scaleOut) {
    // Rooms of this process, re-listed by the health keeper when Redis loses them.
    for (const handler of [twinHandler, metaverseHandler]) {
      handler.on("create", (room: Room) => scaleOut.health.track(room));
      handler.on("dispose", (room: Room) => scaleOut.health.untrack(room));
    }
  }

  await gameServer.listen(config.port, config.host);
  challengeMatchmaking401(http);
  dropColyseusReference(gameServer.router as unknown as ColyseusRouter);
  if (scaleOut) {
    guardMatchmaking(http, scaleOut.health, Math.ceil(config.scaleOut.sweepMs / 1000));
    scaleOut.health.start();
  }
  const port = (http.address() as AddressInfo).port;
  ready = true;
  const scheme = tls ? "https" : "http";
  const urls = listenUrls(scheme, config.host, port);
  // Machines match `"msg":"listening"` and read `port`; people read the URLs (log.ts
  // prints this record as one line: viewer and headset URLs).
  logger.info(
    { port, host: config.host, scheme, ...urls, ...(loginCodes && { signIn: "one-time link" }) },
    "listening",
  );

  let closing: Promise<void> | undefined;
  return {
    http,
    port,
    metrics,
    registry,
    metaverse: metaverseSessions,
    tokens,
    scheme,
    routes: () => [...(expressApp ? mountedRoutes(expressApp) : []), ...colyseusRoutes()],
    loginLink() {
      if (!loginCodes) return undefined;
      const host = config.host.includes(":") ? `[${config.host}]` : config.host;
      return `${scheme}://${host}:${port}/#login=${loginCodes.create()}`;
    },
    emergencyStop(reason) {
      for (const id of registry.ids()) registry.get(id)?.emergencyStop(reason);
      dataDir.audit.append({ kind: "fatal", message: reason });
      dataDir.flushSync();
    },
    close() {
      closing ??= (async () => {
        ready = false;
        scaleOut?.health.stop();
        await socketIo.close();
        await gameServer.gracefullyShutdown(false);
        await sceneJobs?.close();
        await media.close();
        await agents?.close();
        await simCell?.close();
        spaces.close();
        await spaceStore.close();
        dataDir.close();
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
        logger.info("closed");
      })();
      return closing;
    },
  };
}

/**
 * Colyseus answers a refused matchmaking request (static onAuth threw 401) without the
 * RFC 6750 challenge our own routes send; add it, so every 401 of the server says Bearer.
 */
function challengeMatchmaking401(http: HttpServer): void {
  http.prependListener("request", (req, res) => {
    if (!(req.url ?? "").startsWith("/matchmake/")) return;
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => typeof res;
    res.writeHead = ((status: number, ...rest: unknown[]) => {
      if (status === 401 && !res.hasHeader("www-authenticate")) {
        res.setHeader("WWW-Authenticate", 'Bearer realm="agenttwin"');
      }
      return writeHead(status, ...rest);
    }) as typeof res.writeHead;
  });
}

/**
 * The simulated robot cell (ros/sim-cell) for `ROBOT_LINK=sim`: a rosbridge server on an
 * ephemeral loopback port, publishing joint states at `link.simCellRateHz` (Hz) with its arm
 * controller at `room.simRateHz` (Hz). The caller closes it. Rejects with the cell's
 * SimCellStartError when it cannot listen.
 */
async function startLoopbackSimCell(
  config: Config,
  robot: RobotDescription,
  logger: Logger,
): Promise<SimCell> {
  const sim = await startSimCell({
    robot,
    rosVersion: config.link.rosVersion,
    host: "127.0.0.1",
    port: 0,
    jointStatesHz: config.link.simCellRateHz,
    controllerHz: config.room.simRateHz,
    logger: logger.child({ component: "sim-cell" }),
  });
  logger.info({ url: sim.url }, "simulated cell listening (rosbridge protocol)");
  return sim;
}

/**
 * Retention of streams and scene versions (recordings: server/store/data-dir.ts); `inUse`
 * names the media that must stay (what stored spaces show).
 */
function mediaRetention(config: Config, inUse: () => Promise<string[]>): RetentionRule[] {
  const maxAgeMs = config.store.retentionMaxAgeDays * 86_400_000;
  const mediaDir = config.media.video.mediaDir;
  return [
    {
      name: "streams",
      dir: join(mediaDir, "video"),
      maxAgeMs,
      maxBytes: config.store.retentionStreamsMaxBytes,
      keep: inUse,
    },
    {
      name: "scenes",
      dir: config.media.reconstruction.dir,
      maxAgeMs,
      maxBytes: config.store.retentionScenesMaxBytes,
      nested: true,
      keep: inUse,
    },
  ];
}
