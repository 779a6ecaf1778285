/**
 * The 3D stage shared by both views: a three.js renderer (when the browser gives WebGL),
 * a camera orbiting the cell on desktops, the `world` root group (z up, see frames.ts),
 * the WebXR "Enter VR" button and the headset poses while in VR.
 *
 * Without WebGL (old GPU, blocked drivers, headless browsers without SwiftShader) the
 * stage still builds its scene graph and runs its frame callbacks on a timer, so joint
 * interpolation, the panels, the controls and the debug hooks keep working; only pixels
 * are missing, and the page says so.
 */
import {
  AmbientLight,
  Color,
  DirectionalLight,
  GridHelper,
  Group,
  HemisphereLight,
  type Object3D,
  PerspectiveCamera,
  Quaternion,
  Scene,
  SRGBColorSpace,
  Vector3,
  WebGLRenderer,
} from "three";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";
import { VRButton } from "three/examples/jsm/webxr/VRButton.js";
import type { Pose } from "../../../shared/geometry.ts";
import { SCENE_FROM_WORLD, sceneToWorld, worldToScene } from "./frames.ts";

export interface HeadsetPoses {
  head: Pose;
  left?: Pose;
  right?: Pose;
}

export interface StageOptions {
  background?: number;
  /** Desktop camera position and orbit target, `world`, m. */
  eye?: { x: number; y: number; z: number };
  target?: { x: number; y: number; z: number };
  /** Where a headset user stands (`world`, on the floor) and the yaw they face (rad, about z). */
  standAt?: { x: number; y: number; yaw: number };
  floorGrid?: boolean;
}

type FrameCallback = (nowMs: number, dtS: number) => void;

export class Stage {
  readonly scene = new Scene();
  readonly camera = new PerspectiveCamera(55, 16 / 9, 0.02, 500);
  /** Parent of everything placed in `world` coordinates (z up). */
  readonly world = new Group();
  /** The headset user's floor origin; the camera moves under it while presenting. */
  readonly rig = new Group();
  readonly renderer: WebGLRenderer | null;
  readonly controls: OrbitControls | null;
  /** Why there is no renderer, when there is none. */
  readonly webglError: string = "";
  frames = 0;
  readonly #container: HTMLElement;
  readonly #callbacks: FrameCallback[] = [];
  readonly #controllers: { grip: Group; hand: "left" | "right" | "" }[] = [];
  #lastMs = performance.now();
  #timer: ReturnType<typeof setInterval> | undefined;
  #desktopEye = { position: new Vector3(), quaternion: new Quaternion() };

  constructor(container: HTMLElement, options: StageOptions = {}) {
    this.#container = container;
    this.scene.background = new Color(options.background ?? 0x1d2229);
    this.world.quaternion.copy(SCENE_FROM_WORLD);
    this.world.name = "world (z up)";
    this.scene.add(this.world, this.rig);
    this.scene.add(new HemisphereLight(0xeef2ff, 0x30302a, 1.6), new AmbientLight(0xffffff, 0.3));
    const sun = new DirectionalLight(0xffffff, 2.2);
    sun.position.copy(worldToScene({ x: 2, y: -1.5, z: 4 }));
    this.scene.add(sun);
    if (options.floorGrid !== false) {
      // The grid lies in three's xz plane: the `world` floor (z = 0).
      const grid = new GridHelper(8, 16, 0x56606c, 0x3a414a);
      this.scene.add(grid);
    }
    const stand = options.standAt ?? { x: 1.6, y: 0, yaw: Math.PI };
    this.rig.position.copy(worldToScene({ x: stand.x, y: stand.y, z: 0 }));
    // Facing world yaw ψ: the rig's −z (WebXR forward) must point along (cos ψ, sin ψ, 0).
    // World yaw about +z is a rotation about scene +y; three's forward at yaw 0 is scene
    // −z = world +y, so subtract a quarter turn.
    this.rig.rotation.y = stand.yaw - Math.PI / 2;

    const eye = worldToScene(options.eye ?? { x: 2.0, y: 1.5, z: 1.8 });
    const target = worldToScene(options.target ?? { x: 0.2, y: 0, z: 1.0 });
    this.camera.position.copy(eye);
    this.camera.lookAt(target);
    this.scene.add(this.camera);

    let renderer: WebGLRenderer | null = null;
    try {
      renderer = new WebGLRenderer({ antialias: true, powerPreference: "high-performance" });
    } catch (err) {
      this.webglError = err instanceof Error ? err.message : String(err);
    }
    this.renderer = renderer;
    if (renderer) {
      renderer.outputColorSpace = SRGBColorSpace;
      renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
      renderer.xr.enabled = true;
      renderer.xr.setReferenceSpaceType("local-floor");
      container.prepend(renderer.domElement);
      const controls = new OrbitControls(this.camera, renderer.domElement);
      controls.target.copy(target);
      controls.enableDamping = true;
      controls.update();
      this.controls = controls;
      this.#setUpXr(renderer);
      new ResizeObserver(() => this.#resize()).observe(container);
      this.#resize();
    } else {
      this.controls = null;
    }
  }

  /** Adds a callback run before each frame (or each timer tick without WebGL). */
  onFrame(cb: FrameCallback): void {
    this.#callbacks.push(cb);
  }

  /** True while a WebXR session shows the scene. */
  get presenting(): boolean {
    return this.renderer?.xr.isPresenting ?? false;
  }

  /** Starts the frame loop (the XR-aware animation loop, or a 30 Hz timer without WebGL). */
  start(): void {
    const frame = () => {
      const now = performance.now();
      const dt = Math.min(0.1, (now - this.#lastMs) / 1000);
      this.#lastMs = now;
      for (const cb of this.#callbacks) cb(now, dt);
      if (this.renderer) {
        if (!this.presenting) this.controls?.update();
        this.renderer.render(this.scene, this.camera);
      }
      this.frames++;
    };
    if (this.renderer) this.renderer.setAnimationLoop(frame);
    else this.#timer ??= setInterval(frame, 33);
  }

  /** Stops the frame loop. */
  stop(): void {
    this.renderer?.setAnimationLoop(null);
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The "Enter VR" button (three's VRButton: it explains when WebXR or HTTPS is missing). */
  addVrButton(): HTMLElement | null {
    if (!this.renderer) return null;
    const button = VRButton.createButton(this.renderer);
    button.id = "enter-vr";
    this.#container.append(button);
    return button;
  }

  /**
   * Head and controller poses in `world` while presenting (one frame old: three copies the
   * XR view pose into the camera when it renders), else null.
   */
  headsetPoses(): HeadsetPoses | null {
    if (!this.presenting) return null;
    const p = new Vector3();
    const q = new Quaternion();
    const poseOf = (o: Object3D) => {
      o.updateWorldMatrix(true, false);
      o.getWorldPosition(p);
      o.getWorldQuaternion(q);
      return sceneToWorld(p, q);
    };
    const out: HeadsetPoses = { head: poseOf(this.camera) };
    for (const c of this.#controllers) {
      if (c.hand && c.grip.visible) out[c.hand] = poseOf(c.grip);
    }
    return out;
  }

  #setUpXr(renderer: WebGLRenderer): void {
    for (let i = 0; i < 2; i++) {
      const grip = renderer.xr.getControllerGrip(i);
      const entry = { grip, hand: "" as "left" | "right" | "" };
      grip.addEventListener("connected", (e) => {
        const handedness = (e as unknown as { data?: XRInputSource }).data?.handedness;
        entry.hand = handedness === "left" || handedness === "right" ? handedness : "";
      });
      grip.addEventListener("disconnected", () => {
        entry.hand = "";
      });
      this.rig.add(grip);
      this.#controllers.push(entry);
    }
    renderer.xr.addEventListener("sessionstart", () => {
      this.#desktopEye.position.copy(this.camera.position);
      this.#desktopEye.quaternion.copy(this.camera.quaternion);
      this.rig.add(this.camera);
      this.camera.position.set(0, 1.6, 0);
      this.camera.quaternion.identity();
    });
    renderer.xr.addEventListener("sessionend", () => {
      this.scene.add(this.camera);
      this.camera.position.copy(this.#desktopEye.position);
      this.camera.quaternion.copy(this.#desktopEye.quaternion);
      this.controls?.update();
      this.#resize();
    });
  }

  #resize(): void {
    if (!this.renderer || this.presenting) return;
    const w = Math.max(1, this.#container.clientWidth);
    const h = Math.max(1, this.#container.clientHeight);
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
  }
}
