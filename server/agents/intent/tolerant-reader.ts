/**
 * Tolerant reading of what OpenAI-compatible servers really send back: the body of a chat
 * completion as text (never trusted to have the documented shape), the tool calls wherever a
 * server or a small local model put them, near-miss JSON repaired, and arguments coerced to
 * the tools' parameter schemas. Nothing here decides what an intent is: every call read here
 * still goes through the strict zod schemas and guardrails of `openai-model.ts`.
 *
 * Where tool calls are read from, in order:
 *  1. `message.tool_calls` (OpenAI, Ollama's `/v1`, llama.cpp server, vLLM with a tool
 *     parser), also a single object instead of an array, `arguments` as a JSON string, an
 *     object or null, and the legacy `message.function_call`;
 *  2. only when there were none: `message.content` — vLLM/Hermes/Qwen `<tool_call>{…}</tool_call>`
 *     blocks, fenced code blocks (```json … ```), or bare JSON (an object or an array) in the
 *     text, each as `{name, arguments|parameters}`, `{function: {name, arguments}}` or
 *     `{tool_calls: […]}`.
 */

/** A tool call as found in an answer, before any validation. */
export interface RawToolCall {
  /** The tool name as sent (any type: it is checked by the caller). */
  readonly name: unknown;
  /** The arguments as sent: a JSON string, an object, null or undefined. */
  readonly args: unknown;
  /** Where the call was found. */
  readonly source: "tool_calls" | "function_call" | "content";
}

/** A chat completion body read as far as it can be. */
export type ReadCompletion =
  | {
      readonly ok: true;
      /** Every tool call found, in answer order. */
      readonly calls: RawToolCall[];
      /** The model's free text with the tool-call parts taken out, trimmed ("" when none). */
      readonly text: string;
    }
  | {
      readonly ok: false;
      /** Why the body is no usable chat completion (short, for logs and the user). */
      readonly reason: string;
    };

/** Content snippets quoted in reasons are cut to this many characters. */
const QUOTE_CHARS = 80;
/** Tool-call candidates read from one answer's content; further ones are ignored. */
const MAX_CONTENT_CALLS = 16;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `text` on one line, cut to {@link QUOTE_CHARS}. */
function quote(text: string): string {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length > QUOTE_CHARS ? `${one.slice(0, QUOTE_CHARS)}…` : one;
}

/**
 * Reads the body of a non-streaming chat completion. Fails (with a reason) for an empty body,
 * an SSE stream nobody asked for, an HTML page, text that is not JSON, an error object sent
 * with status 200, and a completion without a message; otherwise returns the tool calls and
 * the free text found.
 */
export function readCompletionBody(body: string, contentType = ""): ReadCompletion {
  const text = body.replace(/^\uFEFF/, "").trim();
  if (text === "") return { ok: false, reason: "empty body" };
  const type = contentType.toLowerCase();
  if (type.includes("text/event-stream") || /^(?:data|event|id|retry):/.test(text)) {
    return { ok: false, reason: "the server streamed (SSE) although no stream was asked for" };
  }
  if (type.includes("html") || /^<(?:!doctype|html|head|body|\?xml)/i.test(text)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1];
    return { ok: false, reason: `an HTML page instead of JSON (${quote(title ?? text)})` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: `the body is not JSON (${quote(text)})` };
  }
  if (!isRecord(parsed)) return { ok: false, reason: "the body is not a JSON object" };
  const error = errorMessageOf(parsed);
  if (error !== null && !Array.isArray(parsed.choices)) {
    return { ok: false, reason: `an error body with status 200 (${quote(error)})` };
  }
  const choices = parsed.choices;
  if (!Array.isArray(choices) || choices.length === 0) {
    return { ok: false, reason: "no choices in the completion" };
  }
  const first: unknown = choices[0];
  const message = isRecord(first) ? (first.message ?? first.delta) : undefined;
  if (!isRecord(message)) return { ok: false, reason: "no message in the first choice" };
  return { ok: true, ...readMessage(message) };
}

/** The message of an error body (`{error: …}`, vLLM's `{object: "error", message}`), or null. */
export function errorMessageOf(body: Record<string, unknown>): string | null {
  const error = body.error;
  if (typeof error === "string") return error;
  if (isRecord(error)) {
    const m = error.message;
    return typeof m === "string" ? m : JSON.stringify(error);
  }
  if (body.object === "error") {
    const m = body.message;
    return typeof m === "string" ? m : JSON.stringify(body);
  }
  if (typeof body.detail === "string" && body.choices === undefined) return body.detail;
  return null;
}

/** Tool calls and free text of one assistant message. */
function readMessage(message: Record<string, unknown>): { calls: RawToolCall[]; text: string } {
  const calls: RawToolCall[] = [];
  const rawCalls = message.tool_calls;
  const list = Array.isArray(rawCalls) ? rawCalls : isRecord(rawCalls) ? [rawCalls] : [];
  for (const entry of list) {
    if (!isRecord(entry)) {
      calls.push({ name: undefined, args: undefined, source: "tool_calls" });
      continue;
    }
    calls.push({ ...nameAndArgs(entry), source: "tool_calls" });
  }
  const legacy = message.function_call;
  if (calls.length === 0 && isRecord(legacy)) {
    calls.push({ name: legacy.name, args: legacy.arguments, source: "function_call" });
  }
  const content = contentText(message.content);
  if (calls.length > 0) return { calls, text: content.trim() };
  const fromContent = callsInContent(content);
  return { calls: fromContent.calls, text: fromContent.rest };
}

/** `{function: {name, arguments}}`, `{name, arguments}` or `{name, parameters}`. */
function nameAndArgs(entry: Record<string, unknown>): { name: unknown; args: unknown } {
  const fn = isRecord(entry.function) ? entry.function : entry;
  const args = "arguments" in fn ? fn.arguments : "parameters" in fn ? fn.parameters : fn.args;
  return { name: fn.name, args };
}

/** Message content as text: a string, or the text parts of a content-part array. */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part) => (isRecord(part) && typeof part.text === "string" ? part.text : ""))
    .join("");
}

/** vLLM/Hermes/Qwen: `<tool_call>{…}</tool_call>`, the last one sometimes left unclosed. */
const TAGGED_CALL = /<tool_call>([\s\S]*?)(?:<\/tool_call>|$)/g;
/** A fenced code block (```json … ```). */
const FENCED_BLOCK = /```[\w-]*[ \t]*\r?\n?([\s\S]*?)```/g;

/**
 * Tool calls written into the content: `<tool_call>` blocks, else fenced blocks, else bare
 * JSON values; `rest` is the content without them.
 */
function callsInContent(content: string): { calls: RawToolCall[]; rest: string } {
  const calls: RawToolCall[] = [];
  const take = (json: string): boolean => {
    const value = repairJson(json);
    if (value === undefined) return false;
    const found = callsInValue(value, 0);
    for (const c of found) {
      if (calls.length < MAX_CONTENT_CALLS) calls.push({ ...c, source: "content" });
    }
    return found.length > 0;
  };

  if (content.includes("<tool_call>")) {
    let rest = content;
    for (const m of content.matchAll(TAGGED_CALL)) {
      if (take(m[1] ?? "")) rest = rest.replace(m[0], " ");
    }
    if (calls.length > 0) return { calls, rest: rest.trim() };
  }

  if (content.includes("```")) {
    let rest = content;
    for (const m of content.matchAll(FENCED_BLOCK)) {
      if (take(m[1] ?? "")) rest = rest.replace(m[0], " ");
    }
    if (calls.length > 0) return { calls, rest: rest.trim() };
  }

  let rest = content;
  for (const span of jsonSpans(content)) {
    if (take(span)) rest = rest.replace(span, " ");
  }
  return { calls, rest: rest.trim() };
}

/** The tool calls a parsed JSON value stands for (see the module comment for the shapes). */
function callsInValue(value: Json, depth: number): { name: unknown; args: unknown }[] {
  if (depth > 3) return [];
  if (Array.isArray(value)) return value.flatMap((v) => callsInValue(v, depth + 1));
  if (!isRecord(value)) return [];
  if ("tool_calls" in value) {
    const inner = value.tool_calls;
    return inner === undefined ? [] : callsInValue(inner, depth + 1);
  }
  if (isRecord(value.function) || typeof value.name === "string") return [nameAndArgs(value)];
  return [];
}

/**
 * Balanced top-level `{…}` and `[…]` spans of `text` (strings respected), in order; at most
 * {@link MAX_CONTENT_CALLS} of them.
 */
function jsonSpans(text: string): string[] {
  const spans: string[] = [];
  let i = 0;
  while (i < text.length && spans.length < MAX_CONTENT_CALLS) {
    const ch = text[i];
    if (ch !== "{" && ch !== "[") {
      i++;
      continue;
    }
    const end = matchingClose(text, i);
    if (end < 0) {
      i++;
      continue;
    }
    spans.push(text.slice(i, end + 1));
    i = end + 1;
  }
  return spans;
}

/** Index of the bracket closing the one at `start`, or -1. */
function matchingClose(text: string, start: number): number {
  let depth = 0;
  let quoteChar: string | null = null;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (quoteChar !== null) {
      if (ch === "\\") i++;
      else if (ch === quoteChar) quoteChar = null;
      continue;
    }
    if (ch === '"' || ch === "'") quoteChar = ch;
    else if (ch === "{" || ch === "[") depth++;
    else if (ch === "}" || ch === "]") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** Python's literals as JSON (a Map: `constructor` and the like are no literals). */
const PY_LITERALS: ReadonlyMap<string, string> = new Map([
  ["True", "true"],
  ["False", "false"],
  ["None", "null"],
]);
// Sticky: each is matched at a position of the text being repaired (lastIndex), not on a slice.
/** A comma followed only by a closing bracket (a trailing comma). */
const CLOSES_AFTER = /\s*[}\]]/y;
/** An unquoted word (a key, a literal, or a bare value). */
const WORD = /[A-Za-z_$][\w$]*/y;
/** A colon ahead: the word before it is a key. */
const COLON_AHEAD = /\s*:/y;

/**
 * Parses JSON as models write it: strict JSON first; else repaired — single-quoted strings,
 * trailing commas, unquoted keys, Python's `True`/`False`/`None`. Returns undefined when even
 * the repair does not parse.
 */
export function repairJson(text: string): Json | undefined {
  const src = text.trim();
  if (src === "") return undefined;
  try {
    return JSON.parse(src) as Json;
  } catch {
    // repaired below
  }
  let out = "";
  let i = 0;
  while (i < src.length) {
    const ch = src[i] as string;
    if (ch === '"' || ch === "'") {
      // A string: copied with double quotes, inner double quotes escaped.
      let j = i + 1;
      let body = "";
      while (j < src.length && src[j] !== ch) {
        const c = src[j] as string;
        if (c === "\\" && j + 1 < src.length) {
          const next = src[j + 1] as string;
          body += next === "'" ? "'" : `\\${next}`;
          j += 2;
          continue;
        }
        body += c === '"' ? '\\"' : c === "\n" ? "\\n" : c;
        j++;
      }
      out += `"${body}"`;
      i = j + 1;
      continue;
    }
    if (ch === ",") {
      CLOSES_AFTER.lastIndex = i + 1;
      if (CLOSES_AFTER.test(src)) {
        i++;
        continue;
      }
    }
    WORD.lastIndex = i;
    const word = WORD.exec(src)?.[0];
    if (word !== undefined) {
      COLON_AHEAD.lastIndex = i + word.length;
      out += COLON_AHEAD.test(src) ? `"${word}"` : (PY_LITERALS.get(word) ?? word);
      i += word.length;
      continue;
    }
    out += ch;
    i++;
  }
  try {
    return JSON.parse(out) as Json;
  } catch {
    return undefined;
  }
}

/** The part of a JSON schema (draft-7, as zod writes it) that coercion reads. */
export interface ParamSchema {
  readonly type?: string | readonly string[];
  readonly enum?: readonly unknown[];
  readonly properties?: Readonly<Record<string, ParamSchema>>;
}

const NUMBER_RE = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/i;

/**
 * `value` brought as close to `schema` as can be done without guessing: enum values matched
 * regardless of case, numbers and booleans given as strings converted, object keys matched
 * regardless of case, nested objects given as JSON strings parsed. Anything else is returned
 * as it was, for strict validation to accept or refuse.
 */
export function coerceToSchema(value: unknown, schema: ParamSchema): unknown {
  const types = typeof schema.type === "string" ? [schema.type] : (schema.type ?? []);
  if (typeof value === "string") {
    const s = value.trim();
    if (schema.enum) {
      const hit = schema.enum.find(
        (o) => typeof o === "string" && o.toLowerCase() === s.toLowerCase(),
      );
      if (hit !== undefined) return hit;
    }
    if ((types.includes("number") || types.includes("integer")) && NUMBER_RE.test(s)) {
      return Number(s);
    }
    if (types.includes("boolean") && /^(?:true|false)$/i.test(s)) {
      return s.toLowerCase() === "true";
    }
    if (types.includes("object") && s.startsWith("{")) {
      const parsed = repairJson(s);
      if (isRecord(parsed)) return coerceToSchema(parsed, schema);
    }
    return value;
  }
  if (isRecord(value) && schema.properties) {
    const props = schema.properties;
    const names = Object.keys(props);
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      const name = key in props ? key : names.find((n) => n.toLowerCase() === key.toLowerCase());
      const prop = name === undefined ? undefined : props[name];
      if (name === undefined || prop === undefined) out[key] = v;
      else if (!(name in out) || key === name) out[name] = coerceToSchema(v, prop);
    }
    return out;
  }
  return value;
}

/**
 * The arguments of a call as an object: a JSON string (repaired; once more when it encodes
 * a string), an object as is, null/undefined/"" as `{}`. Returns null when they are not an
 * object.
 */
export function argumentsObject(args: unknown): Record<string, unknown> | null {
  if (args === null || args === undefined) return {};
  if (isRecord(args)) return args;
  if (typeof args !== "string") return null;
  if (args.trim() === "") return {};
  let value: unknown = repairJson(args);
  if (typeof value === "string") value = repairJson(value);
  if (value === null) return {};
  return isRecord(value) ? value : null;
}

/**
 * The tool `name` stands for among `tools`, matched regardless of case, separators
 * (`moveArm`, `Move-Arm`, `MOVE_ARM`) and a `functions.` prefix; null when none.
 */
export function matchToolName<T extends string>(name: unknown, tools: readonly T[]): T | null {
  if (typeof name !== "string") return null;
  const key = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");
  const wanted = key(name.trim().replace(/^functions?\./i, ""));
  if (wanted === "") return null;
  return tools.find((t) => key(t) === wanted) ?? null;
}
