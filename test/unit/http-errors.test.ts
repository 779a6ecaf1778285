/**
 * One vocabulary of HTTP error codes: every literal `error.code` the HTTP layer writes
 * (`fail(res, status, "code", …)`, `refusal(…)`, `{ error: { code: "…" } }`) is listed in
 * server/http/errors.ts, and the retired synonym `invalid_request` appears nowhere.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { REPO_ROOT } from "../../server/config.ts";
import { HTTP_ERROR_CODES } from "../../server/http/errors.ts";

const HTTP_DIR = join(REPO_ROOT, "server/http");
const sources = [
  ...readdirSync(HTTP_DIR)
    // socket.io streams answer with the room vocabulary (shared/messages/common.ts).
    .filter((f) => f.endsWith(".ts") && !/^(live-ingest|agent)-stream\.ts$/.test(f))
    .map((f) => join(HTTP_DIR, f)),
  join(REPO_ROOT, "server/app.ts"),
];

/** Literal codes handed to the error helpers or written as `code: "…"` in a JSON error. */
function literalCodes(text: string): string[] {
  const out: string[] = [];
  const patterns = [
    /\b(?:fail|refusal|refuse)\((?:[^"()]|\([^()]*\))*?"([a-z_]+)"/g,
    /error: \{ code: "([a-z_]+)"/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) out.push(m[1]!);
  return out;
}

describe("HTTP error codes", () => {
  it("are all listed in server/http/errors.ts", () => {
    const known = new Set(HTTP_ERROR_CODES);
    let seen = 0;
    for (const file of sources) {
      const text = readFileSync(file, "utf8");
      for (const code of literalCodes(text)) {
        seen++;
        assert.ok(known.has(code), `${file}: "${code}" is not in HTTP_ERROR_CODES`);
      }
    }
    assert.ok(seen >= 20, `found ${seen} literal codes: the scan still sees the helpers`);
  });

  it("has one word per meaning: bad_request, never invalid_request", () => {
    assert.ok(HTTP_ERROR_CODES.includes("bad_request"));
    assert.ok(!HTTP_ERROR_CODES.includes("invalid_request"));
    for (const file of sources) {
      assert.ok(!readFileSync(file, "utf8").includes('"invalid_request"'), file);
    }
  });
});
