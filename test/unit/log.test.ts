/**
 * Logs for people and machines: JSON lines with ISO times when not on a terminal, one short
 * pretty line per record when asked (or on a terminal), the start-up line as the URLs a
 * person opens, and the URLs themselves for wildcard, IPv6 and TLS listeners.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { createLogger, listenUrls, prettyMessage, wantsPretty } from "../../server/log.ts";

function sink(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

describe("logger", () => {
  it("writes JSON lines with ISO-8601 times for machines", () => {
    const { lines, stream } = sink();
    const log = createLogger({ logLevel: "info", logFormat: "json" }, stream);
    log.info({ port: 1 }, "listening");
    log.debug("not at info");
    assert.equal(lines.length, 1);
    const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(rec.msg, "listening");
    assert.equal(rec.port, 1);
    assert.match(String(rec.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("writes one short line per record for people, the start-up line as URLs", () => {
    const { lines, stream } = sink();
    const log = createLogger({ logLevel: "info", logFormat: "pretty" }, stream);
    log.info(
      { port: 2567, host: "127.0.0.1", scheme: "http", ...listenUrls("http", "127.0.0.1", 2567) },
      "listening",
    );
    log.warn("video is off: ffmpeg not found: install it (Debian: apt-get install ffmpeg)");
    assert.equal(lines.length, 2, lines.join("\n"));
    assert.match(
      lines[0]!,
      /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: listening: viewer http:\/\/127\.0\.0\.1:2567\/ · headsets ws:\/\/127\.0\.0\.1:2567/,
    );
    assert.ok(!lines[0]!.includes('"viewer"'), "the URLs are said once");
    assert.match(lines[1]!, /WARN: video is off: .*apt-get install ffmpeg\)$/);
  });

  it("is pretty on a terminal only when asked automatically", () => {
    assert.equal(wantsPretty("auto", true), true);
    assert.equal(wantsPretty("auto", false), false);
    assert.equal(wantsPretty("json", true), false);
    assert.equal(wantsPretty("pretty", false), true);
  });

  it("names URLs a person can open", () => {
    assert.deepEqual(listenUrls("https", "0.0.0.0", 443, "cell-7"), {
      viewer: "https://cell-7:443/",
      websocket: "wss://cell-7:443",
    });
    assert.deepEqual(listenUrls("http", "::1", 2567), {
      viewer: "http://[::1]:2567/",
      websocket: "ws://[::1]:2567",
    });
    assert.equal(prettyMessage({ msg: "scene reset" }, "msg"), "scene reset");
    assert.match(
      prettyMessage({ msg: "listening", viewer: "v", websocket: "w", signIn: "x" }, "msg"),
      /one-time link/,
    );
  });
});
