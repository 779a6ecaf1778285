/**
 * What the viewer does once a room is gone for this seat: the SDK retries a dropped socket
 * on its own (onDrop → onReconnect); when that gives up, or the hosting process shut down or
 * crashed, `onLeave` fires. Then the viewer joins again through matchmaking — same room name
 * and options, so a surviving room is found or a new one is created on a live process — with
 * capped backoff, and says so. A consented leave and a refusal of the token are final.
 * Both views wire each room they hold with {@link followRoom} and leave on closing the tab
 * with {@link leaveOnPageHide}.
 */
import type { Room } from "@colyseus/sdk";
import type { EventLog, StatusLine } from "./panels.ts";
import { describeError } from "./view-context.ts";

/** Close codes after which joining again cannot help: the user left, or was refused. */
const FINAL_CLOSE_CODES = new Set([4000]);
/** Matchmaking answers that joining again cannot change (token refused, forbidden). */
const FINAL_JOIN_CODES = new Set([401, 403, 4215, 525]);

/** First wait before joining again, ms; doubles up to {@link REJOIN_MAX_DELAY_MS}. */
const REJOIN_FIRST_DELAY_MS = 500;
const REJOIN_MAX_DELAY_MS = 8000;

/** The matchmaking error code of a failed join, if it carries one. */
function joinCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/**
 * Calls `join` until it succeeds, waiting {@link REJOIN_FIRST_DELAY_MS} doubling to
 * {@link REJOIN_MAX_DELAY_MS} between attempts; `onRetry` hears each failure and the wait.
 * @throws the error of a join refused for good (token refused or forbidden)
 */
async function rejoin<R>(
  join: () => Promise<R>,
  onRetry: (attempt: number, waitMs: number, err: unknown) => void,
): Promise<R> {
  let wait = REJOIN_FIRST_DELAY_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await join();
    } catch (err) {
      const code = joinCode(err);
      if (code !== undefined && FINAL_JOIN_CODES.has(code)) throw err;
      onRetry(attempt, wait, err);
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, REJOIN_MAX_DELAY_MS);
    }
  }
}

/** What {@link followRoom} needs of a view. */
export interface RoomFollowing<R extends { readonly roomId: string }> {
  /** The room name joined again (`metaverse`, `digital_twin`), for the status line. */
  readonly roomName: string;
  /** Joins a room of that name through matchmaking. */
  join(): Promise<R>;
  readonly status: Pick<StatusLine, "set" | "text">;
  readonly events: Pick<EventLog, "push">;
  /** The role shown in the status line. */
  readonly role: string;
  /** True once the user is leaving (the tab closes): a leave then is final. */
  leaving(): boolean;
  /** Takes the new room: wires its handlers and resets per-room state (status and log follow). */
  adopt(next: R): void;
  /** The view has no room any more: left for good, or joining again was refused. */
  ended?(): void;
  /** The seat's socket is up (true) or not (false): enables or disables the view's controls. */
  connected?(up: boolean): void;
}

/**
 * Wires the connection events of `room` to the view: a drop (the SDK then retries on its
 * own, and the server holds the seat) and the reconnection that follows are told in the
 * status line. A final leave (the user left, or a close code joining again cannot help)
 * ends the connection; any other leave joins again with {@link rejoin}, telling the status
 * line and the event log how it goes. Called again for each room adopted.
 */
export function followRoom<R extends { readonly roomId: string }>(
  room: Pick<Room, "roomId" | "onDrop" | "onReconnect" | "onLeave">,
  h: RoomFollowing<R>,
): void {
  room.onDrop((code) => {
    h.status.set("reconnecting", `connection lost (${code}); reconnecting…`);
    h.connected?.(false);
  });
  room.onReconnect(() => {
    h.status.set("connected", `reconnected as ${h.role}`);
    h.connected?.(true);
  });
  room.onLeave((code, reason) => {
    h.connected?.(false);
    const why = `${code}${reason ? `: ${reason}` : ""}`;
    if (h.leaving() || FINAL_CLOSE_CODES.has(code)) {
      h.ended?.();
      h.status.set("disconnected", `left the room (${why})`);
      return;
    }
    h.status.set(
      "reconnecting",
      `room ${room.roomId} is gone (${why}); joining ${h.roomName} again…`,
    );
    h.events.push("notice", h.status.text);
    void rejoin(
      () => h.join(),
      (attempt, waitMs, err) =>
        h.status.set(
          "reconnecting",
          `join attempt ${attempt} failed (${describeError(err)}); retrying in ${waitMs / 1000} s…`,
        ),
    ).then(
      (next) => {
        h.adopt(next);
        h.status.set("connected", `rejoined as ${h.role} in room ${next.roomId}`);
        h.events.push("notice", `the previous room was gone: rejoined in room ${next.roomId}`);
      },
      (err: unknown) => {
        h.ended?.();
        h.status.set("error", `could not join ${h.roomName} again: ${describeError(err)}`);
        h.events.push("error", h.status.text);
      },
    );
  });
}

/**
 * Closing the tab is leaving: on `pagehide` the room `current()` returns is left with
 * consent, which frees the seat now instead of holding it for a reconnection.
 * @returns whether the user is leaving (for {@link RoomLossHandling.leaving})
 */
export function leaveOnPageHide(current: () => Pick<Room, "leave">): () => boolean {
  let leaving = false;
  window.addEventListener("pagehide", () => {
    leaving = true;
    void current()
      .leave(true)
      .catch(() => undefined);
  });
  return () => leaving;
}
