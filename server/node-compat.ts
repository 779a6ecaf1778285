/**
 * Node 20 compatibility for Colyseus 0.17, which targets Node 22: its reconnection path
 * compares `client.readyState` with the global `WebSocket.OPEN`, and Node 20 has no global
 * `WebSocket`, so every reconnection failed with "WebSocket is not defined". The `ws`
 * class (the same one the transport uses) fills the gap. Remove once Node 22 is required.
 */
import { WebSocket as NodeWebSocket } from "ws";

export function installNodeCompat(): void {
  const g = globalThis as { WebSocket?: unknown };
  g.WebSocket ??= NodeWebSocket;
}
