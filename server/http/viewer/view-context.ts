/** What main.ts hands a view: the token, the role it carries, the status line, the hooks. */
import type { Role } from "./api.ts";
import type { ViewerSnapshot } from "./debug-hooks.ts";
import type { StatusLine } from "./panels.ts";

export interface ViewContext {
  token: string;
  /** From the token (display only; the server enforces roles). */
  role: Role;
  /** A room to join by id (from a share link `#…&room=<id>`), or "" to join or create one. */
  roomId: string;
  /**
   * A space to join or reopen by name (share link `#metaverse&space=<name>`; its scene is
   * kept after everyone left), or "".
   */
  space: string;
  status: StatusLine;
  /** Registers the function behind `window.__agenttwin.snapshot()`. */
  expose(snapshot: () => ViewerSnapshot): void;
}

/** Shows a line over the 3D view (no WebGL, room unavailable, …). */
export function stageMessage(text: string): void {
  const p = document.querySelector<HTMLElement>("#stage-message");
  if (!p) return;
  p.textContent = text;
  p.hidden = text === "";
}

/** The message of anything thrown (SDK errors carry a numeric `code`). */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === "number" || typeof code === "string"
      ? `${err.message} (${code})`
      : err.message;
  }
  return String(err);
}

/** Sends at most every `minIntervalMs`; returns whether it sent. */
export function throttle(minIntervalMs: number): (nowMs: number) => boolean {
  let last = -Infinity;
  return (now) => {
    if (now - last < minIntervalMs) return false;
    last = now;
    return true;
  };
}
