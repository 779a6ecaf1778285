/**
 * The twin sessions open in this process, by room id, so that HTTP routes can read a
 * room's robot and plans without reaching into Colyseus internals.
 */
import type { TwinSession } from "./session.ts";

export class TwinRegistry {
  readonly #sessions = new Map<string, TwinSession>();

  add(roomId: string, session: TwinSession): void {
    this.#sessions.set(roomId, session);
  }

  remove(roomId: string): void {
    this.#sessions.delete(roomId);
  }

  get(roomId: string): TwinSession | undefined {
    return this.#sessions.get(roomId);
  }

  ids(): string[] {
    return [...this.#sessions.keys()];
  }
}
