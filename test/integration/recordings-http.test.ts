/**
 * Recordings over HTTP: a real express app on a loopback port with the recording routes
 * under `/api`, serving a folder holding a real recording, a file still being written
 * (`.part`), a corrupt `.mcap` and an unrelated file.
 */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, describe, it } from "node:test";
import express from "express";
import { pino } from "pino";
import { mountRecordingRoutes } from "../../server/http/recordings.ts";
import { RecordingStore } from "../../server/store/recording-store.ts";
import { SessionRecorder } from "../../server/store/session-recorder.ts";

const T0 = Date.UTC(2025, 5, 1, 12, 0, 0, 0);
const MAGIC = Buffer.from([0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a]); // \x89MCAP0\r\n

/** GET with a raw, unnormalised path (fetch would resolve `..` before sending). */
function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method: "GET" }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("recordings over http", () => {
  let dir: string;
  let outside: string;
  let name: string;
  let file: string;
  let messages: number;
  let server: ReturnType<express.Application["listen"]>;
  let base: string;
  let port: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "agenttwin-rec-http-"));
    outside = await mkdtemp(join(tmpdir(), "agenttwin-outside-"));
    const rec = await SessionRecorder.open({
      dir,
      sessionName: "room-1",
      maxBytes: 1 << 24,
      jointHz: 50,
      logger: pino({ level: "silent" }),
      now: () => T0,
    });
    for (let i = 0; i < 500; i++) rec.jointState(T0 + i * 2, ["j1", "j2"], [i, -i], [0, 0]);
    rec.event(T0 + 999, { level: "info", message: "done" });
    await rec.close();
    file = rec.file;
    name = basename(file);
    messages = rec.stats().messages;

    await writeFile(join(dir, "room-2-20250601T120001.000Z.mcap.part"), "being written");
    await writeFile(join(dir, "corrupt.mcap"), "not an mcap file at all");
    await writeFile(join(dir, "notes.txt"), "hello");
    await writeFile(join(outside, "secret.mcap"), "secret");
    await symlink(join(outside, "secret.mcap"), join(dir, "link.mcap"));

    const app = express();
    const api = express.Router();
    mountRecordingRoutes(api, new RecordingStore(dir), pino({ level: "silent" }));
    api.use((_req, res) => {
      res.status(404).json({ error: { code: "not_found", message: "no such endpoint" } });
    });
    app.use("/api", api);
    server = app.listen(0, "127.0.0.1");
    await new Promise<void>((r) => server.once("listening", () => r()));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}/api`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await rm(dir, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it("lists finished recordings with size, time span and message count", async () => {
    const res = await fetch(`${base}/recordings`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const list = (await res.json()) as {
      name: string;
      bytes: number;
      modified: string;
      startTime?: string;
      endTime?: string;
      messageCount?: number;
    }[];
    assert.deepEqual(
      list.map((r) => r.name).sort(),
      ["corrupt.mcap", name],
      "no .part, .txt or links",
    );
    const rec = list.find((r) => r.name === name)!;
    assert.equal(rec.bytes, (await stat(file)).size);
    assert.equal(rec.messageCount, messages);
    assert.ok(messages > 40 && messages < 60, `about 50 joint states + 1 event: ${messages}`);
    assert.equal(rec.startTime, new Date(T0).toISOString());
    assert.equal(rec.endTime, new Date(T0 + 999).toISOString());
    assert.ok(!Number.isNaN(Date.parse(rec.modified)));
    const corrupt = list.find((r) => r.name === "corrupt.mcap")!;
    assert.equal(corrupt.messageCount, undefined, "unreadable summary: listed without counts");
  });

  it("downloads a recording byte for byte as an attachment", async () => {
    const res = await fetch(`${base}/recordings/${name}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/octet-stream");
    // RFC 6266: a token-only file name may go unquoted (and `content-disposition` does so).
    assert.equal(
      res.headers.get("content-disposition")?.replace(/"/g, ""),
      `attachment; filename=${name}`,
    );
    assert.equal(res.headers.get("accept-ranges"), "bytes");
    const body = Buffer.from(await res.arrayBuffer());
    assert.ok(body.equals(await readFile(file)));
  });

  it("answers a Range request with 206 and the MCAP magic", async () => {
    const res = await fetch(`${base}/recordings/${name}`, { headers: { Range: "bytes=0-7" } });
    assert.equal(res.status, 206);
    const size = (await stat(file)).size;
    assert.equal(res.headers.get("content-range"), `bytes 0-7/${size}`);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(MAGIC));

    // The footer magic, as a reader seeking to the summary asks for it.
    const tail = await fetch(`${base}/recordings/${name}`, { headers: { Range: "bytes=-8" } });
    assert.equal(tail.status, 206);
    assert.ok(Buffer.from(await tail.arrayBuffer()).equals(MAGIC));

    const beyond = await fetch(`${base}/recordings/${name}`, {
      headers: { Range: `bytes=${size + 10}-` },
    });
    assert.equal(beyond.status, 416);
    assert.equal(
      ((await beyond.json()) as { error: { code: string } }).error.code,
      "range_not_satisfiable",
    );
  });

  it("answers unknown names, unsafe names and traversal attempts with 404 JSON", async () => {
    const attempts = [
      "nope.mcap",
      "..%2F..%2Fetc%2Fpasswd",
      "..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
      "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      "..%5C..%5Cwindows%5Cwin.ini",
      "%2e%2e",
      ".hidden.mcap",
      "room-2-20250601T120001.000Z.mcap.part",
      "notes.txt",
      "link.mcap",
      "corrupt.mcap%00.txt",
      `${encodeURIComponent(join(dir, name))}`,
      `x/${name}`,
    ];
    for (const a of attempts) {
      const res = await fetch(`${base}/recordings/${a}`);
      assert.equal(res.status, 404, a);
      assert.match(res.headers.get("content-type") ?? "", /application\/json/, a);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, "not_found", a);
      assert.equal(res.headers.get("content-disposition"), null, a);
    }
    for (const raw of [
      "/api/recordings/../../etc/passwd",
      "/api/recordings/..%2f..%2fetc%2fpasswd",
    ]) {
      const res = await rawGet(port, raw);
      assert.equal(res.status, 404, raw);
      assert.equal(
        (JSON.parse(res.body) as { error: { code: string } }).error.code,
        "not_found",
        raw,
      );
    }
  });
});
