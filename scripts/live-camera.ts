/**
 * Streams a camera (or any video ffmpeg reads) into a metaverse room as live 360° video:
 * ffmpeg decodes the input at its own rate (`-re`) and writes JPEG frames, which go one by
 * one to the server's socket.io `/ingest` namespace.
 *
 *   npm run live:camera -- --room <roomId> --input /dev/video0 [--format v4l2] \
 *     [--url http://localhost:2567] [--token <operator token>] [--fps 30] [--size 1280x720]
 *
 * Without --token it asks the server's dev endpoint for an operator token (dev secret only).
 * Frames the server is still busy with are dropped there (back-pressure); at most
 * {@link MAX_IN_FLIGHT} frames are unacknowledged at a time, so a slow link drops frames here
 * (`skipped`) instead of queueing them. The counts are printed every 5 s.
 */
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import { io } from "socket.io-client";

const { values: a } = parseArgs({
  options: {
    room: { type: "string" },
    input: { type: "string" },
    format: { type: "string" },
    url: { type: "string", default: "http://localhost:2567" },
    token: { type: "string" },
    fps: { type: "string", default: "30" },
    size: { type: "string", default: "1280x720" },
  },
});
if (!a.room || !a.input) {
  console.error("usage: npm run live:camera -- --room <roomId> --input <device or file>");
  process.exit(2);
}
const [w, h] = (a.size ?? "").split("x");

async function operatorToken(): Promise<string> {
  if (a.token) return a.token;
  const res = await fetch(`${a.url}/api/dev/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ role: "operator", name: "camera" }),
  });
  if (!res.ok) throw new Error(`no --token and the dev token endpoint said ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

const socket = io(`${a.url}/ingest`, {
  path: "/socket.io",
  transports: ["websocket"],
  auth: { token: await operatorToken() },
  reconnection: false,
});
socket.on("connect_error", (err) => {
  console.error(`refused: ${err.message}`);
  process.exit(1);
});
socket.on("ended", (e: { reason: string; stats: unknown }) => {
  console.log(`live stream ended: ${e.reason} ${JSON.stringify(e.stats)}`);
  process.exit(0);
});
await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
const started = (await socket.emitWithAck("start", { room: a.room, fps: Number(a.fps) })) as {
  ok: boolean;
  streamUrl?: string;
  error?: { message: string };
};
if (!started.ok) {
  console.error(`start refused: ${started.error?.message}`);
  process.exit(1);
}
console.log(`live: ${a.url}${started.streamUrl}`);

const ffmpeg = spawn(
  "ffmpeg",
  [
    "-hide_banner",
    "-loglevel",
    "error",
    "-re",
    ...(a.format ? ["-f", a.format] : []),
    "-i",
    a.input,
    "-vf",
    `fps=${a.fps},scale=${w}:${h}`,
    "-f",
    "image2pipe",
    "-c:v",
    "mjpeg",
    "-q:v",
    "5",
    "-",
  ],
  { stdio: ["ignore", "pipe", "inherit"] },
);
/** Frames sent and not yet acknowledged, at most. */
const MAX_IN_FLIGHT = 2;
const counts = { written: 0, dropped: 0, rejected: 0, skipped: 0 };
let inFlight = 0;
const EOI = Buffer.from([0xff, 0xd9]);
let pending = Buffer.alloc(0);
ffmpeg.stdout.on("data", (chunk: Buffer) => {
  pending = Buffer.concat([pending, chunk]);
  // A JPEG ends at its EOI marker (FF D9); inside the entropy-coded data 0xFF is stuffed.
  for (let end = pending.indexOf(EOI); end >= 0; end = pending.indexOf(EOI)) {
    const frame = pending.subarray(0, end + 2);
    pending = pending.subarray(end + 2);
    if (inFlight >= MAX_IN_FLIGHT) {
      counts.skipped += 1;
      continue;
    }
    inFlight += 1;
    socket.emit("frame", frame, (r: { result?: "written" | "dropped" | "rejected" }) => {
      inFlight -= 1;
      if (r.result) counts[r.result] += 1;
    });
  }
});
const report = setInterval(() => console.log(JSON.stringify(counts)), 5000);
ffmpeg.on("exit", async (code) => {
  clearInterval(report);
  const stopped = (await socket.emitWithAck("stop")) as { stats?: unknown };
  console.log(`ffmpeg exited (${code}); ${JSON.stringify(stopped.stats)}`);
  socket.disconnect();
});
