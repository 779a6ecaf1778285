/**
 * People in a twin room: identity, role, connection, and their latest headset poses
 * (`world` frame). Hands matter to the domain because grabbed virtual objects follow them.
 */
import type { Pose } from "../../shared/geometry.ts";
import type { Role } from "../auth/roles.ts";
import type { Actor } from "./actor.ts";

export type Hand = "left" | "right";

export interface PersonRecord {
  readonly actor: Actor;
  connected: boolean;
  head: Pose | null;
  left: Pose | null;
  right: Pose | null;
  /** Bumped on every change so the state sync copies only what changed. */
  version: number;
}

/** The room's people keyed by session id. */
export class Presence {
  readonly #people = new Map<string, PersonRecord>();

  join(actor: Actor): PersonRecord {
    const existing = this.#people.get(actor.sessionId);
    if (existing) {
      existing.connected = true;
      existing.version += 1;
      return existing;
    }
    const person: PersonRecord = {
      actor,
      connected: true,
      head: null,
      left: null,
      right: null,
      version: 1,
    };
    this.#people.set(actor.sessionId, person);
    return person;
  }

  leave(sessionId: string): void {
    this.#people.delete(sessionId);
  }

  setConnected(sessionId: string, connected: boolean): void {
    const p = this.#people.get(sessionId);
    if (p && p.connected !== connected) {
      p.connected = connected;
      p.version += 1;
    }
  }

  /** Stores headset poses; a hand omitted from the message keeps its last pose. */
  setPoses(sessionId: string, poses: { head: Pose; left?: Pose; right?: Pose }): void {
    const p = this.#people.get(sessionId);
    if (!p) return;
    p.head = poses.head;
    if (poses.left) p.left = poses.left;
    if (poses.right) p.right = poses.right;
    p.version += 1;
  }

  hand(sessionId: string, hand: Hand): Pose | null {
    return this.#people.get(sessionId)?.[hand] ?? null;
  }

  get(sessionId: string): PersonRecord | undefined {
    return this.#people.get(sessionId);
  }

  all(): IterableIterator<PersonRecord> {
    return this.#people.values();
  }

  count(role?: Role): number {
    let n = 0;
    for (const p of this.#people.values()) if (!role || p.actor.role === role) n += 1;
    return n;
  }
}
