/**
 * A minimal OpenAI-compatible chat endpoint on a real loopback socket (port 0): the only
 * permitted stand-in, since the real backend is a remote paid API or a model server. Tests
 * script its answers (JSON, raw bodies, hanging requests) and read the requests it received.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

/** What the stub received for one request. */
export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: ChatRequest;
}

/** The parts of a chat completion request the tests read. */
export interface ChatRequest {
  model: string;
  messages: { role: string; content: string }[];
  tools: {
    type: string;
    function: { name: string; description: string; parameters: Record<string, unknown> };
  }[];
  tool_choice: unknown;
  temperature?: number;
}

/** How the stub answers the next request. */
export type Reply =
  | {
      readonly kind: "json";
      readonly status: number;
      readonly body: unknown;
      readonly headers?: Record<string, string>;
    }
  | {
      readonly kind: "raw";
      readonly status: number;
      readonly text: string;
      readonly contentType?: string;
    }
  | { readonly kind: "hang" };

/** A reply that answers (anything but `hang`). */
export type Answer = Exclude<Reply, { kind: "hang" }>;

/** A tool call as the model would return it; `args` is sent verbatim when a string. */
export interface ScriptedCall {
  readonly name: string;
  readonly args: unknown;
}

export function completion(calls: readonly ScriptedCall[], content: string | null = null): Answer {
  const toolCalls = calls.map((c, i) => ({
    id: `call_${i}`,
    type: "function",
    function: {
      name: c.name,
      arguments: typeof c.args === "string" ? c.args : JSON.stringify(c.args),
    },
  }));
  return {
    kind: "json",
    status: 200,
    body: {
      id: "chatcmpl-stub",
      object: "chat.completion",
      created: 1_700_000_000,
      model: "stub-model",
      choices: [
        {
          index: 0,
          finish_reason: toolCalls.length > 0 ? "tool_calls" : "stop",
          logprobs: null,
          message: {
            role: "assistant",
            content,
            refusal: null,
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          },
        },
      ],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    },
  };
}

/** A minimal OpenAI-compatible server: POST /v1/chat/completions, scripted answers. */
export class StubEndpoint {
  readonly received: Received[] = [];
  readonly #replies: Reply[] = [];
  readonly #hanging = new Set<ServerResponse>();
  #waiters: { count: number; resolve: () => void }[] = [];
  #server: Server | null = null;
  url = "";

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
          res.writeHead(404, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: { message: "not found" } }));
          return;
        }
        this.received.push({
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as ChatRequest,
        });
        const n = this.received.length;
        for (const w of this.#waiters.filter((x) => x.count <= n)) w.resolve();
        const reply = this.#replies.shift() ?? {
          kind: "json",
          status: 500,
          body: { error: { message: "no scripted reply" } },
        };
        if (reply.kind === "hang") {
          // Answered only by answerHanging() or when the stub closes; the client gives up first.
          this.#hanging.add(res);
          res.on("close", () => this.#hanging.delete(res));
          return;
        }
        write(res, reply);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.#server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  }

  /** Script the next answer. */
  next(reply: Reply): void {
    this.#replies.push(reply);
  }

  /**
   * Resolves once `count` requests have been received (counting since the last `reset`),
   * or rejects after `timeoutMs`; a request reaches the stub asynchronously.
   */
  whenReceived(count: number, timeoutMs = 5000): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(new Error(`${this.received.length} of ${count} requests within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        resolve();
      };
      this.#waiters.push({ count, resolve: done });
    });
  }

  /** Requests held open by a `hang` reply and not yet answered or closed. */
  get hanging(): number {
    return this.#hanging.size;
  }

  /** Answers every request held open by a `hang` reply with `reply`; returns how many. */
  answerHanging(reply: Answer): number {
    const held = [...this.#hanging];
    this.#hanging.clear();
    for (const res of held) if (!res.destroyed) write(res, reply);
    return held.length;
  }

  reset(): void {
    this.received.length = 0;
    this.#replies.length = 0;
  }

  async close(): Promise<void> {
    for (const res of this.#hanging) res.destroy();
    const server = this.#server;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function write(res: ServerResponse, reply: Answer): void {
  if (reply.kind === "json") {
    res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
    res.end(JSON.stringify(reply.body));
    return;
  }
  res.writeHead(reply.status, { "content-type": reply.contentType ?? "application/json" });
  res.end(reply.text);
}
