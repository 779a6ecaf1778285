/**
 * The data directory's safety parts on real files and real processes: the audit log is on
 * disk the moment a record is appended; retention deletes by age and by total size but
 * never a folder's newest unit; ffmpeg-style children die with their whole process group,
 * and orphans a killed server left (pid files) are killed at the next start; the free-disk
 * check refuses when the minimum cannot be met.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import {
  killGroup,
  setPidDir,
  spawnGrouped,
  sweepOrphans,
} from "../../server/media/video/process-group.ts";
import { AuditLog } from "../../server/store/audit-log.ts";
import { hasRoom } from "../../server/store/disk.ts";
import { runRetention } from "../../server/store/retention.ts";
import { until } from "../support/until.ts";

const log = pino({ level: "silent" });

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("data directory safety", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "agenttwin-store-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("puts each audit record on disk when it is appended", () => {
    const file = join(dir, "audit", "audit.jsonl");
    const audit = AuditLog.open({ file, logger: log });
    audit.append({ kind: "approve", room: "r1", user: "ann", planId: "plan-1" });
    audit.append({ kind: "refusal", room: "r1", user: "bob", code: "forbidden" });
    // Read back without closing: what a SIGKILL right now would leave.
    const lines = readFileSync(file, "utf8").trim().split("\n");
    assert.equal(lines.length, 2);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(first.kind, "approve");
    assert.equal(first.planId, "plan-1");
    assert.match(String(first.at), /^\d{4}-\d\d-\d\dT/);
    audit.close();
    // Reopened, it appends (never truncates).
    const again = AuditLog.open({ file, logger: log });
    again.append({ kind: "stop", room: "r1" });
    again.close();
    assert.equal(readFileSync(file, "utf8").trim().split("\n").length, 3);
  });

  it("deletes by age and by total size, keeping each folder's newest", async () => {
    const root = join(dir, "scenes");
    const now = Date.now();
    const file = (scene: string, name: string, bytes: number, ageH: number) => {
      mkdirSync(join(root, scene), { recursive: true });
      const p = join(root, scene, name);
      writeFileSync(p, Buffer.alloc(bytes));
      const t = (now - ageH * 3_600_000) / 1000;
      utimesSync(p, t, t);
    };
    file("a", "v1.glb", 100, 24 * 40); // older than 30 days
    file("a", "v2.glb", 100, 10);
    file("a", "v3.glb", 100, 5);
    file("b", "v1.glb", 100, 8);
    file("b", "v2.glb", 100, 2); // b's newest
    const removed = await runRetention(
      [{ name: "scenes", dir: root, maxAgeMs: 30 * 86_400_000, maxBytes: 250, nested: true }],
      log,
      now,
    );
    const byReason = (r: string) =>
      removed
        .filter((x) => x.reason === r)
        .map((x) => x.path.slice(root.length + 1))
        .sort();
    assert.deepEqual(byReason("age"), ["a/v1.glb"]);
    // 400 bytes left over 250: the oldest non-newest go first (a/v2 at 10 h, then b/v1 at 8 h).
    assert.deepEqual(byReason("size"), ["a/v2.glb", "b/v1.glb"]);
    assert.deepEqual((await readdir(join(root, "a"))).sort(), ["v3.glb"]);
    assert.deepEqual((await readdir(join(root, "b"))).sort(), ["v2.glb"]);
  });

  it("never deletes what a rule's keep names, and deletes nothing when keep fails", async () => {
    const root = join(dir, "streams");
    const now = Date.now();
    const stream = (id: string, bytes: number, ageH: number) => {
      mkdirSync(join(root, id), { recursive: true });
      const p = join(root, id, "master.m3u8");
      writeFileSync(p, Buffer.alloc(bytes));
      const t = (now - ageH * 3_600_000) / 1000;
      utimesSync(join(root, id), t, t);
    };
    stream("space-clip", 100, 24 * 40); // older than 30 days, shown by a stored space
    stream("old", 100, 24 * 40);
    stream("mid", 100, 10);
    stream("new", 100, 2);
    const rule = {
      name: "streams",
      dir: root,
      maxAgeMs: 30 * 86_400_000,
      maxBytes: 150,
    };
    const failed = await runRetention(
      [{ ...rule, keep: () => Promise.reject(new Error("store down")) }],
      log,
      now,
    );
    assert.deepEqual(failed, [], "unknown what is in use: nothing deleted");
    const removed = await runRetention(
      [{ ...rule, keep: async () => [join(root, "space-clip")] }],
      log,
      now,
    );
    assert.deepEqual(removed.map((r) => r.path.slice(root.length + 1)).sort(), ["mid", "old"]);
    assert.deepEqual(readdirSync(root).sort(), ["new", "space-clip"]);
  });

  it("asks a keep function that rules share once per sweep", async () => {
    let asked = 0;
    const keep = async () => {
      asked += 1;
      return [];
    };
    const rule = (name: string) => ({ name, dir: join(dir, name), maxAgeMs: 1, maxBytes: 1, keep });
    await runRetention([rule("shared-a"), rule("shared-b")], log);
    assert.equal(asked, 1, "one answer for both rules");
    await runRetention([rule("shared-a")], log);
    assert.equal(asked, 2, "asked again in the next sweep");
  });

  it("kills a child's whole process group", async () => {
    const pids = join(dir, "run1");
    setPidDir(pids);
    // A shell with a grandchild, as ffmpeg filters/encoders may have.
    const child = spawnGrouped("sh", ["-c", "sleep 60 & echo $!; wait"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    const grandchild = await new Promise<number>((resolve) =>
      child.stdout!.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))),
    );
    assert.ok(alive(grandchild));
    assert.deepEqual(await readdir(pids), [`${child.pid}.json`]);
    killGroup(child, "SIGKILL");
    await until("grandchild killed with the group", () => !alive(grandchild), 5000);
    await until("child exit", () => child.exitCode !== null || child.signalCode !== null, 5000);
    await until("pid file removed", () => readFileSyncSafe(pids).length === 0, 5000);
  });

  it("kills the orphans a killed server left and reports them", async () => {
    const pids = join(dir, "run2");
    mkdirSync(pids, { recursive: true });
    // What a SIGKILLed server leaves: a detached child in its own group, and its pid file.
    const orphan = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
    orphan.unref();
    const pid = orphan.pid!;
    writeFileSync(
      join(pids, `${pid}.json`),
      JSON.stringify({ pid, file: "sleep", startedAt: "x", tags: { stream: "s1" } }),
    );
    assert.ok(alive(pid));
    const found = sweepOrphans(pids);
    assert.deepEqual(
      found.map((r) => [r.pid, r.tags?.stream]),
      [[pid, "s1"]],
    );
    await until("orphan", () => orphan.exitCode !== null || orphan.signalCode !== null, 5000);
    assert.deepEqual(await readdir(pids), []);
  });

  it("refuses when the disk cannot keep the minimum free", async () => {
    assert.equal(await hasRoom(dir, 2 ** 60), false);
    assert.equal(await hasRoom(dir, 1), true);
  });
});

function readFileSyncSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
