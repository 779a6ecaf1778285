/**
 * Prometheus metrics of the process, on a registry of its own (no module-level default
 * registry), exposed as text at `GET /metrics`.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import {
  BACKEND_STATES,
  type BackendState,
  type IntentBackendMetrics,
} from "../agents/intent/backend-health.ts";
import type { RobotLinkMetrics } from "../twin/link-metrics.ts";

/** Every metric the server records; one instance per process, injected where needed. */
export class ServerMetrics {
  readonly registry = new Registry();

  readonly rooms = new Gauge({
    name: "agenttwin_rooms",
    help: "Rooms currently open in this process",
    labelNames: ["room_type"] as const,
    registers: [this.registry],
  });

  readonly clients = new Gauge({
    name: "agenttwin_clients",
    help: "Clients currently joined",
    labelNames: ["room_type", "role"] as const,
    registers: [this.registry],
  });

  readonly tickSeconds = new Histogram({
    name: "agenttwin_room_tick_seconds",
    help: "Duration of one room tick (simulation, state sync), seconds",
    labelNames: ["room_type"] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064],
    registers: [this.registry],
  });

  readonly patchBytes = new Counter({
    name: "agenttwin_patch_bytes_total",
    help: "State patch bytes sent to clients (summed over clients)",
    labelNames: ["room_type"] as const,
    registers: [this.registry],
  });

  readonly messageBytes = new Counter({
    name: "agenttwin_message_bytes_total",
    help: "Bytes of other server→client frames (messages, full states)",
    labelNames: ["room_type"] as const,
    registers: [this.registry],
  });

  readonly messagesReceived = new Counter({
    name: "agenttwin_messages_received_total",
    help: "Client messages accepted, by type",
    labelNames: ["room_type", "type"] as const,
    registers: [this.registry],
  });

  readonly messagesRejected = new Counter({
    name: "agenttwin_messages_rejected_total",
    help: "Client messages refused, by error code",
    labelNames: ["room_type", "code"] as const,
    registers: [this.registry],
  });

  readonly planSeconds = new Histogram({
    name: "agenttwin_plan_seconds",
    help: "Motion planning time, seconds",
    labelNames: ["outcome"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers: [this.registry],
  });

  readonly plans = new Counter({
    name: "agenttwin_plans_total",
    help: "Plans by final status",
    labelNames: ["status"] as const,
    registers: [this.registry],
  });

  readonly intentRequests = new Counter({
    name: "agenttwin_intent_backend_requests_total",
    help: "Calls to the intent model backend, by outcome (ok or the fallback code)",
    labelNames: ["model", "outcome"] as const,
    registers: [this.registry],
  });

  readonly intentRequestSeconds = new Histogram({
    name: "agenttwin_intent_backend_request_seconds",
    help: "Wall time of one call to the intent model backend, seconds",
    labelNames: ["model", "outcome"] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16],
    registers: [this.registry],
  });

  readonly intentFallbacks = new Counter({
    name: "agenttwin_intent_fallbacks_total",
    help: "Utterances the grammar answered instead of the intent model, by reason code",
    labelNames: ["model", "code"] as const,
    registers: [this.registry],
  });

  readonly intentBackendState = new Gauge({
    name: "agenttwin_intent_backend_state",
    help: "State of the intent model backend (1 for the current state, 0 for the others)",
    labelNames: ["model", "state"] as const,
    registers: [this.registry],
  });

  readonly intentBackendUp = new Gauge({
    name: "agenttwin_intent_backend_up",
    help: "1 while the intent model backend is called normally, 0 while degraded or held back",
    labelNames: ["model"] as const,
    registers: [this.registry],
  });

  /** The intent agent's metrics port (see agents/intent/backend-health.ts). */
  readonly intentBackend: IntentBackendMetrics = {
    request: (model, outcome, seconds) => {
      this.intentRequests.inc({ model, outcome });
      this.intentRequestSeconds.observe({ model, outcome }, seconds);
    },
    fallback: (model, code) => this.intentFallbacks.inc({ model, code }),
    state: (model, state: BackendState) => {
      for (const s of BACKEND_STATES) {
        this.intentBackendState.set({ model, state: s }, s === state ? 1 : 0);
      }
      this.intentBackendUp.set({ model }, state === "ok" ? 1 : 0);
    },
  };

  /** Scale-out only: 1 while every Redis connection of the shared matchmaking is ready. */
  readonly presenceUp = new Gauge({
    name: "agenttwin_presence_up",
    help: "1 while the shared matchmaking store (Redis) is reachable, 0 while it is not",
    registers: [this.registry],
  });

  readonly robotLinkUp = new Gauge({
    name: "agenttwin_robot_link_up",
    help: "1 while the room's robot cell link takes motion commands (connected), 0 when stale or down",
    labelNames: ["room"] as const,
    registers: [this.registry],
  });

  readonly robotJointStateAge = new Gauge({
    name: "agenttwin_robot_joint_state_age_seconds",
    help: "Age of the newest joint state the room received from its robot cell (by arrival), seconds",
    labelNames: ["room"] as const,
    registers: [this.registry],
  });

  /** The twin sessions' link metrics port (see twin/link-metrics.ts). */
  readonly robotLink: RobotLinkMetrics = {
    observe: (room, up, ageS) => {
      this.robotLinkUp.set({ room }, up ? 1 : 0);
      this.robotJointStateAge.set({ room }, ageS);
    },
    remove: (room) => {
      this.robotLinkUp.remove({ room });
      this.robotJointStateAge.remove({ room });
    },
  };

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Prometheus text exposition. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
