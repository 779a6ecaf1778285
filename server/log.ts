/**
 * The process logger (pino). Two faces of the same records:
 *
 * - for people (stdout is a terminal, or `LOG_FORMAT=pretty`): one short coloured line per
 *   record — time of day, level, message, then the fields — through pino-pretty, in the
 *   main thread (synchronous, so nothing is lost when the process exits at once);
 * - for machines (stdout is a pipe or a file, e.g. under Docker, or `LOG_FORMAT=json`):
 *   JSON lines with ISO-8601 times, one object per record.
 *
 * pino-pretty is a development dependency: where it is not installed (a production image)
 * the logger writes JSON whatever the terminal.
 */
import { createRequire } from "node:module";
import { hostname } from "node:os";
import { type DestinationStream, pino, type Logger, stdTimeFunctions } from "pino";
import type { Config } from "./config.ts";

/**
 * Paths whose values are never written: bearer tokens in headers or objects we log, and
 * Colyseus's auth context. Tokens in URLs are cut by {@link redactUrl}.
 */
export const REDACT_PATHS = [
  "token",
  "*.token",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "req.headers.authorization",
  "headers.cookie",
  "*.headers.cookie",
  "auth",
  "*.auth",
  "secret",
  "*.secret",
];

/** `…?token=x&a=1#login=y` → `…?token=[Redacted]&a=1#login=[Redacted]`. */
export function redactUrl(url: string): string {
  return url.replace(
    /([?&#](?:token|access_token|_authToken|login|code)=)[^&#\s]*/gi,
    (_m, key: string) => `${key}[Redacted]`,
  );
}

/** How records are written: `auto` is pretty on a terminal, JSON otherwise. */
export type LogFormat = "auto" | "json" | "pretty";

/** The logger's part of the configuration (`LOG_LEVEL`, `LOG_FORMAT`). */
export type LogOptions = Pick<Config, "logLevel"> & { logFormat?: LogFormat | undefined };

type PrettyFactory = (options: Record<string, unknown>) => DestinationStream;

/** pino-pretty's stream factory, or undefined where it is not installed. */
function loadPretty(): PrettyFactory | undefined {
  try {
    const mod = createRequire(import.meta.url)("pino-pretty") as
      PrettyFactory | { default: PrettyFactory };
    return typeof mod === "function" ? mod : mod.default;
  } catch {
    return undefined;
  }
}

/** Whether records go out pretty: asked for (and installed), or `auto` on a terminal. */
export function wantsPretty(
  format: LogFormat,
  isTty: boolean = process.stdout.isTTY === true,
): boolean {
  return format === "pretty" || (format === "auto" && isTty);
}

/**
 * @param destination where lines go (default stdout; tests pass a stream). Pretty lines go
 *   there too when asked for (`logFormat: "pretty"`); `auto` looks at stdout only.
 */
export function createLogger(options: LogOptions, destination?: DestinationStream): Logger {
  const base = {
    level: options.logLevel,
    base: { service: "agenttwin" },
    redact: { paths: REDACT_PATHS, censor: "[Redacted]" },
    serializers: {
      url: (u: unknown) => (typeof u === "string" ? redactUrl(u) : u),
      err: pino.stdSerializers.err,
    },
  };
  const format = options.logFormat ?? "auto";
  const pretty = wantsPretty(format, destination ? false : undefined) ? loadPretty() : undefined;
  if (pretty) {
    const stream = pretty({
      destination: destination ?? 1,
      sync: true,
      colorize: destination ? false : process.stdout.isTTY === true && !process.env.NO_COLOR,
      translateTime: "SYS:HH:MM:ss.l",
      ignore: "pid,hostname,service,scheme,viewer,websocket,signIn",
      messageFormat: prettyMessage,
      singleLine: true,
      // A stack only where something broke, not for every warning that carries an error.
      errorLikeObjectKeys: ["err", "error"],
    });
    return pino({ ...base, timestamp: stdTimeFunctions.isoTime }, stream);
  }
  const json = { ...base, timestamp: stdTimeFunctions.isoTime };
  return destination ? pino(json, destination) : pino(json);
}

/**
 * The message of a pretty line: the start-up record (`listening`) becomes the URLs a person
 * opens; every other record is its message as is.
 */
export function prettyMessage(log: Record<string, unknown>, messageKey: string): string {
  const msg = String(log[messageKey] ?? "");
  if (msg !== "listening" || typeof log.viewer !== "string") return msg;
  const signIn = log.signIn ? " (sign in with the one-time link below)" : "";
  return `listening: viewer ${log.viewer}${signIn} · headsets ${String(log.websocket)}`;
}

/** Where people and headsets reach a listening server, for the start-up line. */
export interface ListenUrls {
  /** The web viewer, e.g. `http://127.0.0.1:2567/`. */
  viewer: string;
  /** Where headsets (Colyseus SDK) connect, e.g. `ws://127.0.0.1:2567`. */
  websocket: string;
}

/**
 * The URLs of a server bound to `host:port`: a wildcard host (`0.0.0.0`, `::`) is shown as
 * this machine's name, since nobody connects to the wildcard itself; IPv6 gets brackets.
 */
export function listenUrls(
  scheme: "http" | "https",
  host: string,
  port: number,
  machine: string = hostname(),
): ListenUrls {
  const wildcard = host === "0.0.0.0" || host === "::" || host === "[::]";
  const name = wildcard ? machine : host.replace(/^\[|\]$/g, "");
  const h = name.includes(":") ? `[${name}]` : name;
  return {
    viewer: `${scheme}://${h}:${port}/`,
    websocket: `${scheme === "https" ? "wss" : "ws"}://${h}:${port}`,
  };
}
