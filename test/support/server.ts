/**
 * Test harness: a real server on a loopback port (port 0), real tokens, real
 * `@colyseus/sdk` clients, and helpers that wait on state or read replies through a
 * queue so a test never sleeps blindly.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, type Room } from "@colyseus/sdk";
import { type App, startApp } from "../../server/app.ts";
import type { Role } from "../../server/auth/roles.ts";
import { loadConfig } from "../../server/config.ts";
import { createLogger } from "../../server/log.ts";
import { TwinState } from "../../shared/schema/twin-state.ts";

export interface TestServer {
  app: App;
  /** http://127.0.0.1:port */
  url: string;
  token(role: Role, name?: string): Promise<string>;
  /** `fetch` of `url + path` with an operator token (reads under /api and /media need one). */
  get(path: string, init?: RequestInit, role?: Role): Promise<Response>;
  /**
   * Joins (or creates) the twin room as `role` and waits until the robot is measured (link
   * up), unless `waitForLink` is false.
   */
  join(role: Role, name?: string, roomId?: string, waitForLink?: boolean): Promise<TwinClient>;
  /**
   * {@link ReplyQueue.expectNoUnexpected} on the replies of every client `join` made since the
   * last call (then forgets them, so one leftover fails one test): in `afterEach` of suites
   * where every request is awaited, a double answer or a stray error fails the test.
   */
  expectNoUnexpectedReplies(kinds?: readonly Reply["kind"][]): void;
  close(): Promise<void>;
}

/** An SDK room plus a queue of the replies (`ack`, `error`, `notice`) it received. */
export interface TwinClient {
  client: Client;
  room: Room<unknown, TwinState>;
  replies: ReplyQueue;
}

export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    // Recordings of test sessions go to a fresh temporary folder, never into the checkout.
    DATA_DIR: await mkdtemp(join(tmpdir(), "agenttwin-test-")),
    // A real ROS link refuses to start without a secret (closed by default); tests give one.
    ...(env.ROBOT_LINK === "ros" && { AUTH_SECRET: randomBytes(32).toString("hex") }),
    ...env,
  });
  const app = await startApp(config, createLogger(config));
  const url = `${app.scheme}://127.0.0.1:${app.port}`;
  const open = new Set<Room>();
  /** Remembers a room until it leaves, so `close` can leave what tests left open. */
  const track = (room: Room) => {
    open.add(room);
    room.onLeave(() => open.delete(room));
  };
  /** Reply queues of the clients joined since the last expectNoUnexpectedReplies. */
  let unchecked: { name: string; replies: ReplyQueue }[] = [];
  const token = (role: Role, name: string = role) =>
    app.tokens.issue({ userId: name, name, role }, config.auth.tokenTtlS);
  return {
    app,
    url,
    token,
    async get(path, init = {}, role = "operator") {
      const headers = new Headers(init.headers);
      if (!headers.has("authorization"))
        headers.set("authorization", `Bearer ${await token(role)}`);
      return fetch(url + path, { ...init, headers });
    },
    async join(role, name, roomId, waitForLink = true) {
      const client = new Client(url);
      client.auth.token = await token(role, name);
      const room = roomId
        ? await client.joinById(roomId, {}, TwinState)
        : await client.joinOrCreate("digital_twin", {}, TwinState);
      track(room);
      const replies = new ReplyQueue(room);
      unchecked.push({ name: name ?? role, replies });
      await waitForState(
        room,
        (s) => s.robot.joints.length > 0 && (!waitForLink || s.robot.link !== "disconnected"),
        10_000,
      );
      return { client, room, replies };
    },
    expectNoUnexpectedReplies(kinds) {
      const queues = unchecked;
      unchecked = [];
      const problems: string[] = [];
      for (const q of queues) {
        try {
          q.replies.expectNoUnexpected(kinds);
        } catch (err) {
          problems.push(`${q.name}: ${(err as Error).message}`);
        }
      }
      if (problems.length > 0) throw new Error(problems.join("\n"));
    },
    async close() {
      await Promise.allSettled([...open].map((r) => leaveWithin(r, 2000)));
      await app.close();
    },
  };
}

/** Leaves a room, giving up after `ms` (the SDK's leave never settles on a dead socket). */
export function leaveWithin(room: Room, ms: number): Promise<unknown> {
  return Promise.race([room.leave(true), new Promise((r) => setTimeout(r, ms).unref())]);
}

export interface Reply {
  kind: "ack" | "error" | "notice";
  body: {
    type?: string;
    code?: string;
    message?: string;
    requestId?: string;
    id?: string;
    summary?: string;
  };
}

/**
 * Collects server replies in arrival order; `next` waits for one matching a filter and skips
 * (keeps queued) the others. Leftovers never fail a test by themselves: a test that asserts a
 * conversation says so with {@link ReplyQueue.expectNoUnexpected} (typically in `afterEach`)
 * or {@link ReplyQueue.expectDrained}.
 */
export class ReplyQueue {
  readonly items: Reply[] = [];
  #waiters: { match: (r: Reply) => boolean; resolve: (r: Reply) => void }[] = [];
  /** Request ids whose answer (ack or error) a test has taken. */
  readonly #answered = new Set<string>();

  constructor(room: Room) {
    for (const kind of ["ack", "error", "notice"] as const) {
      room.onMessage(kind, (body: Reply["body"]) => this.#push({ kind, body }));
    }
  }

  #push(r: Reply): void {
    const i = this.#waiters.findIndex((w) => w.match(r));
    if (i >= 0) {
      const [w] = this.#waiters.splice(i, 1);
      this.#taken(r);
      w!.resolve(r);
    } else this.items.push(r);
  }

  #taken(r: Reply): void {
    if (r.kind !== "notice" && r.body.requestId !== undefined) this.#answered.add(r.body.requestId);
  }

  /** Resolves with the first (queued or future) reply matching `match`, removing it. */
  next(match: (r: Reply) => boolean = () => true, timeoutMs = 5000): Promise<Reply> {
    const i = this.items.findIndex(match);
    if (i >= 0) {
      const r = this.items.splice(i, 1)[0]!;
      this.#taken(r);
      return Promise.resolve(r);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `no matching reply within ${timeoutMs} ms; queued: ${JSON.stringify(this.items)}`,
          ),
        );
      }, timeoutMs);
      const done = (r: Reply) => {
        clearTimeout(timer);
        resolve(r);
      };
      this.#waiters.push({ match, resolve: done });
    });
  }

  /** Reply to the request with `requestId` (ack or error). */
  forRequest(requestId: string, timeoutMs = 5000): Promise<Reply> {
    return this.next((r) => r.body.requestId === requestId && r.kind !== "notice", timeoutMs);
  }

  /**
   * Throws when a reply of `kinds` (default: answers, `ack` and `error`) is queued that no
   * `next` took: a second answer to a request already answered (named so in the message),
   * an answer to a request nobody sent, an error nobody expected. Replies of other kinds
   * (notices, by default) stay queued. Replies come in the order the server sent them, so
   * once the last expected reply was read, any leftover sent before it is already here.
   */
  expectNoUnexpected(kinds: readonly Reply["kind"][] = ["ack", "error"]): void {
    const left = this.items.filter((r) => kinds.includes(r.kind));
    if (left.length === 0) return;
    const described = left.map((r) => {
      const id = r.body.requestId;
      const again = id !== undefined && this.#answered.has(id) ? ` (second answer to ${id})` : "";
      return `${r.kind}${again}: ${JSON.stringify(r.body)}`;
    });
    throw new Error(`unexpected ${kinds.join("/")} replies left:\n  ${described.join("\n  ")}`);
  }

  /**
   * Throws when any reply that no `next` took is queued, other than those `allowed` (which
   * are left in the queue): for tests that assert an exact conversation, notices included.
   */
  expectDrained(allowed: (r: Reply) => boolean = () => false): void {
    const left = this.items.filter((r) => !allowed(r));
    if (left.length > 0) throw new Error(`unexpected replies left: ${JSON.stringify(left)}`);
  }
}

/** Resolves once `predicate(state)` holds after some state change (or already holds). */
export function waitForState<S>(
  room: Room<unknown, S>,
  predicate: (s: S) => boolean,
  timeoutMs = 5000,
): Promise<S> {
  return new Promise((resolve, reject) => {
    if (room.state && predicate(room.state)) return resolve(room.state);
    const timer = setTimeout(() => {
      room.onStateChange.remove(check);
      reject(new Error(`state condition not met within ${timeoutMs} ms`));
    }, timeoutMs);
    const check = (s: S) => {
      if (!predicate(s)) return;
      clearTimeout(timer);
      room.onStateChange.remove(check);
      resolve(s);
    };
    room.onStateChange(check);
  });
}

let requestCounter = 0;
/**
 * Sends a command with a fresh requestId and waits for its ack or error. Any room with a
 * {@link ReplyQueue} will do (a twin client, or one that decodes the state by reflection).
 */
export async function request(
  c: { room: Pick<Room, "send">; replies: ReplyQueue },
  type: string,
  body: Record<string, unknown> = {},
  timeoutMs = 10_000,
): Promise<Reply> {
  const requestId = `r${++requestCounter}`;
  c.room.send(type, { ...body, requestId });
  return c.replies.forRequest(requestId, timeoutMs);
}
