/**
 * The metaverse view (`/#metaverse`): joins `metaverse`, plays the 360° video the agents
 * assigned to this headset (`participants[me].stream.playlistUrl`, HLS through hls.js or
 * the browser's own HLS) on the inside of a sphere around the viewer, shows the scene
 * asset reconstructed from the video (`scene.assetUrl`, glTF: y up as glTF specifies, so it
 * goes into the three scene as it is, not under the z-up `world` group), and reports QoE
 * every second: buffer ahead of the playhead (video element), download throughput (hls.js
 * fragment statistics) and stalls (`waiting` events after playback started).
 *
 * Loaded on demand (its own chunk, with hls.js and GLTFLoader). When the server has no
 * metaverse room the view says so and stays usable for navigation.
 */
import { Client, type Room } from "@colyseus/sdk";
import Hls from "hls.js";
import {
  BackSide,
  Euler,
  type Group,
  Mesh,
  MeshBasicMaterial,
  Quaternion,
  SphereGeometry,
  SRGBColorSpace,
  Vector3,
  VideoTexture,
} from "three";
import { GLTFLoader } from "three/examples/jsm/loaders/GLTFLoader.js";
import type { z } from "zod";
import type { AckMessage, ErrorMessage } from "../../../shared/messages/common.ts";
import type { MetaverseMessageSchemas } from "../../../shared/messages/metaverse.ts";
import { MetaverseState, type ParticipantState } from "../../../shared/schema/metaverse-state.ts";
import { idleSnapshot } from "./debug-hooks.ts";
import { $, el, mbps } from "./dom.ts";
import { sceneToWorld } from "./frames.ts";
import { Chat, EventLog, renderAgentPanel, showJob, showSpace } from "./panels.ts";
import { PlaybackCounter } from "./playback-counter.ts";
import { followRoom, leaveOnPageHide } from "./rejoin.ts";
import { Stage } from "./stage.ts";
import { describeError, stageMessage, throttle, type ViewContext } from "./view-context.ts";

type MvBody<K extends keyof typeof MetaverseMessageSchemas> = z.input<
  (typeof MetaverseMessageSchemas)[K]
>;

const QOE_INTERVAL_MS = 1000;
const PANEL_MS = 200;
const POSE_MIN_INTERVAL_MS = 1000 / 60;
/** Radius of the video sphere, m (far enough that the scene asset sits inside it). */
const VIDEO_SPHERE_M = 30;

export async function startMetaverseView(ctx: ViewContext): Promise<void> {
  const { status } = ctx;
  const stage = new Stage($("#stage"), {
    background: 0x000000,
    floorGrid: false,
    eye: { x: 0, y: 0, z: 1.6 },
    target: { x: 0.01, y: 0, z: 1.6 },
    standAt: { x: 0, y: 0, yaw: 0 },
  });
  if (stage.controls) {
    // Look around from the sphere's centre: drag turns the view, no zoom or pan.
    stage.controls.enableZoom = false;
    stage.controls.enablePan = false;
    stage.controls.rotateSpeed = -0.35;
  }
  stage.addVrButton();
  const hint = lookHint(stage);
  // The player comes after joining; until then the snapshot says nothing played.
  let playback = () => ({ loops: 0, stalls: 0, videoTime: 0 });
  const events = new EventLog();
  const snapshot = idleSnapshot("metaverse", "");
  const mv = {
    sceneStatus: "",
    sceneProgress: 0,
    playlistUrl: "",
    assetLoaded: false,
    qoeReports: 0,
    loops: 0,
    hintVisible: false,
  };
  ctx.expose(() => ({
    ...snapshot,
    status: status.status,
    statusText: status.text,
    webgl: stage.renderer !== null,
    frames: stage.frames,
    events: [...events.items],
    metaverse: { ...mv, ...playback(), hintVisible: !hint.hidden },
  }));
  if (!stage.renderer) stageMessage(`No WebGL: ${stage.webglError || "not supported"}.`);

  $("#stop").hidden = true; // nothing moves here
  status.set("connecting", "joining metaverse…");
  const client = new Client(location.origin);
  client.auth.token = ctx.token;
  let room: Room<unknown, MetaverseState>;
  try {
    room = ctx.space
      ? await client.joinOrCreate("metaverse", { space: ctx.space }, MetaverseState)
      : ctx.roomId
        ? await client.joinById(ctx.roomId, {}, MetaverseState)
        : await client.joinOrCreate("metaverse", {}, MetaverseState);
  } catch (err) {
    const why = describeError(err);
    // The matchmaker answers an undefined room name with "… not defined" (4210/4212).
    if (/not defined|no rooms? found|not found|4210|4212/i.test(why)) {
      status.set("unavailable", "the metaverse room is not available on this server");
      stageMessage(`The metaverse room is not available on this server yet (${why}).`);
    } else {
      status.set("error", `could not join metaverse: ${why}`);
      stageMessage(status.text);
    }
    events.push("error", why);
    return;
  }
  status.set("connected", `connected as ${ctx.role}`);
  $("#metaverse-panel").hidden = false;
  let me = room.sessionId;
  snapshot.sessionId = me;
  snapshot.roomId = room.roomId;
  showSpace("metaverse", room.roomId, true, ctx.space);
  snapshot.role = ctx.role;
  const send = <K extends keyof typeof MetaverseMessageSchemas>(type: K, body: MvBody<K>) => {
    room.send(type, body);
  };

  const chat = new Chat((body) => send("utterance", body));
  snapshot.answers = chat.answers;
  const leaving = leaveOnPageHide(() => room);

  const rendition = $<HTMLSelectElement>("#mv-rendition");
  rendition.addEventListener("change", () => {
    if (rendition.value) send("requestRendition", { rendition: rendition.value });
  });

  // --- video sphere and player ----------------------------------------------------------
  const video = el("video", { muted: true, playsinline: true, crossorigin: "anonymous" });
  video.muted = true;
  const texture = new VideoTexture(video);
  texture.colorSpace = SRGBColorSpace;
  const sphere = new Mesh(
    new SphereGeometry(VIDEO_SPHERE_M, 64, 32),
    new MeshBasicMaterial({ map: texture, side: BackSide }),
  );
  // Seen from inside, the equirectangular image must not be mirrored.
  sphere.scale.x = -1;
  // The centre of the equirectangular frame (where the pipeline maps the 2D clip: yaw 0,
  // pitch 0) lies on the sphere's +x axis, which the mirror above turns to −x; a half turn
  // puts it on world +x, the direction the desktop camera and a headset standing at yaw 0
  // face when the view opens.
  sphere.rotation.y = Math.PI;
  sphere.name = "360 video";
  sphere.visible = false;
  stage.scene.add(sphere);
  // Media reads need the token too (Authorization header on every playlist and segment).
  const player = new Player(video, events, ctx.token);
  playback = () => ({ loops: player.loops, stalls: player.stalls, videoTime: video.currentTime });

  // --- scene asset --------------------------------------------------------------------
  let assetKey = "";
  let asset: Group | null = null;
  const loadAsset = (url: string, version: number) => {
    const key = `${version}|${url}`;
    if (key === assetKey) return;
    assetKey = key;
    if (asset) stage.scene.remove(asset);
    asset = null;
    mv.assetLoaded = false;
    if (!url) return;
    new GLTFLoader()
      .setRequestHeader({ Authorization: `Bearer ${ctx.token}` })
      .loadAsync(url)
      .then(
        (gltf) => {
          if (assetKey !== key) return;
          asset = gltf.scene;
          asset.name = "scene asset";
          stage.scene.add(asset);
          mv.assetLoaded = true;
        },
        (err: unknown) => events.push("error", `scene asset ${url}: ${describeError(err)}`),
      );
  };

  // --- state → view ---------------------------------------------------------------------
  let panelTimer: ReturnType<typeof setTimeout> | undefined;
  const mine = (): ParticipantState | undefined => room.state.participants.get(me);
  const update = () => {
    panelTimer = undefined;
    const s = room.state;
    const p = mine();
    const url = p?.stream.playlistUrl || s.scene.streamUrl;
    mv.sceneStatus = s.scene.status;
    mv.sceneProgress = s.scene.progress;
    mv.playlistUrl = url;
    showJob(s.scene.status, s.scene.progress, s.scene.detail);
    player.play(url);
    sphere.visible = url !== "";
    // Nothing to show yet: say why, over the black, instead of a blank view.
    if (!url && stage.renderer) {
      const busy = ["ingesting", "transcoding", "reconstructing"].includes(s.scene.status);
      stageMessage(
        busy
          ? "The video is on its way: see the progress at the top."
          : s.scene.status === "failed"
            ? `No video: ${s.scene.error}`
            : "No video in this space yet: upload a clip to it (see Space).",
      );
    }
    loadAsset(s.scene.assetUrl, s.scene.version);
    let people = 0;
    s.participants.forEach(() => people++);
    fill($("#mv-scene"), [
      ["status", s.scene.status + (s.scene.error ? ` (${s.scene.error})` : "")],
      ["version", String(s.scene.version)],
      ["renditions", s.scene.renditions || "—"],
      ["asset", s.scene.assetUrl || "—"],
      ["people", String(people)],
    ]);
    fill($("#mv-stream"), [
      ["rendition", p?.stream.rendition || "—"],
      ["bitrate", mbps(p?.stream.bitrateBps ?? 0)],
      ["bands", p?.stream.bands || "—"],
      ["reserved", mbps(p?.stream.reservedBps ?? 0)],
      ["wanted", p?.stream.wantedRendition || "—"],
      ["why", p?.stream.reason || "—"],
      ["buffer", `${player.bufferS().toFixed(1)} s`],
      ["throughput", mbps(player.throughputBps())],
      ["stalls", String(player.stalls)],
    ]);
    const options = ["", ...s.scene.renditions.split(",").filter(Boolean)];
    if (rendition.dataset.key !== options.join(",")) {
      rendition.dataset.key = options.join(",");
      rendition.replaceChildren(...options.map((o) => el("option", { value: o }, o || "(choose)")));
    }
    snapshot.decisions = renderAgentPanel($("#mv-agents"), s.agents);
  };
  // --- room events (wired again when the viewer rejoins in a new room) ----------------
  const wire = (r: Room<unknown, MetaverseState>) => {
    r.onMessage("ack", (a: AckMessage) => {
      if (chat.owns(a.requestId)) chat.answer(a.requestId!, a.summary ?? "done", true);
    });
    r.onMessage("error", (e: ErrorMessage) => {
      const text = `${e.type ? `${e.type}: ` : ""}${e.code}: ${e.message}`;
      if (chat.owns(e.requestId)) chat.answer(e.requestId!, text, false);
      events.push("error", text);
    });
    r.onMessage("notice", (n: ErrorMessage) => events.push("notice", `${n.code}: ${n.message}`));
    followRoom(r, {
      roomName: "metaverse",
      join: () =>
        client.joinOrCreate("metaverse", ctx.space ? { space: ctx.space } : {}, MetaverseState),
      status,
      events,
      role: ctx.role,
      leaving,
      adopt: (next) => {
        room = next;
        me = next.sessionId;
        snapshot.sessionId = me;
        snapshot.roomId = next.roomId;
        showSpace("metaverse", next.roomId, true, ctx.space);
        wire(next);
        panelTimer ??= setTimeout(update, PANEL_MS);
      },
      ended: () => clearInterval(qoe),
    });
    r.onStateChange(() => {
      panelTimer ??= setTimeout(update, PANEL_MS);
    });
  };
  update();

  const qoe = setInterval(() => {
    if (!player.attached) return;
    const view = new Quaternion();
    stage.camera.getWorldQuaternion(view);
    const viewport = sceneToWorld(new Vector3(), view).orientation;
    const r = mine()?.stream.rendition ?? "";
    send("qoe", {
      bufferS: Math.min(600, player.bufferS()),
      throughputBps: Math.min(10e9, player.throughputBps()),
      stalls: player.stalls,
      ...(r && r.length <= 16 && { rendition: r }),
      viewport,
    });
    mv.qoeReports++;
  }, QOE_INTERVAL_MS);
  wire(room);

  const camPos = new Vector3();
  const posesDue = throttle(POSE_MIN_INTERVAL_MS);
  stage.onFrame((now) => {
    // The 360° sphere stays centred on the eye (no parallax on a panorama).
    stage.camera.getWorldPosition(camPos);
    sphere.position.copy(camPos);
    const headset = stage.headsetPoses();
    if (headset && posesDue(now)) send("pose", headset);
  });
  stage.start();
}

/**
 * The "drag to look around" hint over the 360° view, gone after the first drag. On a touch
 * device with motion sensors it offers "use motion": the phone's orientation then turns the
 * view (iOS asks for permission on that tap), starting from where the view looks now.
 */
function lookHint(stage: Stage): HTMLElement {
  const hint = $("#look-hint");
  const controls = stage.controls;
  hint.hidden = !controls;
  if (!controls) return hint;
  controls.addEventListener("start", () => {
    hint.hidden = true;
  });
  const motion = typeof DeviceOrientationEvent !== "undefined";
  if (!motion || !matchMedia("(pointer: coarse)").matches) return hint;
  $("#look-hint-gyro").hidden = false;
  $("#gyro").addEventListener("click", () => {
    const ask = (DeviceOrientationEvent as unknown as { requestPermission?: () => Promise<string> })
      .requestPermission;
    void (ask ? ask() : Promise.resolve("granted")).then((answer) => {
      if (answer !== "granted") return;
      hint.hidden = true;
      followDevice(stage);
    });
  });
  return hint;
}

/** Turns the desktop camera with the device's orientation (deviceorientation events). */
function followDevice(stage: Stage): void {
  const controls = stage.controls;
  if (!controls) return;
  const euler = new Euler();
  const device = new Quaternion();
  // The device's camera looks out of its back: −z of the screen, turned a quarter about x.
  const screenToCamera = new Quaternion(-Math.SQRT1_2, 0, 0, Math.SQRT1_2);
  const z = new Vector3(0, 0, 1);
  const screen = new Quaternion();
  const forward = new Vector3();
  let yawOffset: number | null = null;
  const d2r = Math.PI / 180;
  window.addEventListener("deviceorientation", (e) => {
    if (e.alpha === null || e.beta === null || e.gamma === null) return;
    euler.set(e.beta * d2r, e.alpha * d2r, -e.gamma * d2r, "YXZ");
    const orient = (screen_angle() * Math.PI) / 180;
    device
      .setFromEuler(euler)
      .multiply(screenToCamera)
      .multiply(screen.setFromAxisAngle(z, -orient));
    forward.set(0, 0, -1).applyQuaternion(device);
    const yaw = Math.atan2(-forward.x, -forward.z);
    // Start from where the view looks now, not from the compass.
    if (yawOffset === null) {
      const now = controls.target.clone().sub(stage.camera.position);
      yawOffset = Math.atan2(-now.x, -now.z) - yaw;
    }
    forward.applyAxisAngle(new Vector3(0, 1, 0), yawOffset);
    controls.target.copy(stage.camera.position).addScaledVector(forward, 0.01);
  });
}

function screen_angle(): number {
  return screen.orientation?.angle ?? 0;
}

function fill(dl: HTMLElement, facts: [string, string][]): void {
  const key = JSON.stringify(facts);
  if (dl.dataset.key === key) return;
  dl.dataset.key = key;
  dl.replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

/** The HLS player behind the video sphere, with the QoE figures the room wants. */
class Player {
  /** Loops and stalls, from the video element's events. */
  readonly #counter = new PlaybackCounter();
  #url = "";
  #hls: Hls | null = null;
  /** Smoothed fragment download throughput, bit/s. */
  #throughput = 0;
  readonly #video: HTMLVideoElement;
  readonly #events: EventLog;
  readonly #token: string;

  constructor(video: HTMLVideoElement, events: EventLog, token: string) {
    this.#video = video;
    this.#events = events;
    this.#token = token;
    const c = this.#counter;
    video.addEventListener("playing", () => c.playing());
    video.addEventListener("seeking", () => c.seeking(video.loop, video.currentTime));
    video.addEventListener("timeupdate", () => c.timeUpdate(video.currentTime));
    video.addEventListener("waiting", () => c.waiting());
  }

  get stalls(): number {
    return this.#counter.stalls;
  }

  get loops(): number {
    return this.#counter.loops;
  }

  get attached(): boolean {
    return this.#url !== "";
  }

  /** Plays `url` (a playlist on this server); "" stops. Same URL: nothing changes. */
  play(url: string): void {
    if (url === this.#url) return;
    this.#url = url;
    this.#hls?.destroy();
    this.#hls = null;
    stageMessage("");
    const v = this.#video;
    if (!url) {
      v.removeAttribute("src");
      v.load();
      return;
    }
    if (Hls.isSupported()) {
      const hls = new Hls({
        enableWorker: true,
        startLevel: -1,
        xhrSetup: (xhr) => xhr.setRequestHeader("Authorization", `Bearer ${this.#token}`),
      });
      hls.on(Hls.Events.FRAG_LOADED, (_e, data) => {
        const s = data.frag.stats;
        const ms = s.loading.end - s.loading.start;
        if (ms > 0 && s.loaded > 0) {
          const bps = (s.loaded * 8 * 1000) / ms;
          this.#throughput = this.#throughput ? this.#throughput * 0.7 + bps * 0.3 : bps;
        }
      });
      // VOD plays in a loop (a 360° scene has no end); a live stream never ends anyway.
      hls.on(Hls.Events.LEVEL_LOADED, (_e, data) => {
        v.loop = !data.details.live;
      });
      hls.on(Hls.Events.ERROR, (_e, data) => {
        if (!data.fatal) return;
        this.#events.push("error", `video: ${data.type} ${data.details}`);
        stageMessage(`The video cannot be played (${data.details}).`);
      });
      hls.loadSource(url);
      hls.attachMedia(v);
      this.#hls = hls;
    } else if (v.canPlayType("application/vnd.apple.mpegurl")) {
      // Safari / visionOS play HLS natively but cannot send the token with each request.
      this.#events.push("error", "native HLS cannot send the media token: use a browser with MSE");
    } else {
      this.#events.push("error", "this browser cannot play HLS video");
      return;
    }
    v.play().catch(() => {
      // Autoplay may need a gesture; muted video normally starts. Retry on first click.
      window.addEventListener("pointerdown", () => void v.play().catch(() => undefined), {
        once: true,
      });
    });
  }

  /**
   * Seconds buffered ahead of the playhead. A looping VOD whose end is buffered goes on
   * from its start, so what is buffered there counts too: the end of the clip is not a
   * draining buffer (the agents would otherwise lower the rendition at every loop).
   */
  bufferS(): number {
    const v = this.#video;
    const b = v.buffered;
    for (let i = 0; i < b.length; i++) {
      if (b.start(i) <= v.currentTime && v.currentTime <= b.end(i)) {
        let ahead = Math.max(0, b.end(i) - v.currentTime);
        const atEnd = Number.isFinite(v.duration) && v.duration - b.end(i) < 0.25;
        if (v.loop && atEnd && b.start(0) < 0.25) {
          // The wrap continues into the range holding the start (this one, when whole).
          ahead += i === 0 ? v.currentTime : b.end(0);
        }
        return ahead;
      }
    }
    return 0;
  }

  /**
   * Measured download throughput of the fragments, bit/s; 0 until one has loaded (hls.js's
   * `bandwidthEstimate` starts from a configured guess, which is not a measurement).
   */
  throughputBps(): number {
    return this.#throughput;
  }
}
