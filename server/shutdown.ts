/**
 * Process lifecycle for the entry points (`server/main.ts`, `ros/sim-cell/main.ts`): on
 * SIGTERM or SIGINT close once and exit 0 (1 when closing fails or takes longer than
 * `graceMs`).
 *
 * Fatal errors (`uncaughtException`, `unhandledRejection`): with an `onFatal` hook (the
 * server's: cancel every cell's goal, write the audit log to disk) the hook runs at once,
 * synchronously, then the process exits 1 after `fatalGraceMs` (time for the cancel frames
 * to leave the sockets) — the state after an unexpected exception is not trusted to keep
 * serving. Without a hook (the stand-alone simulated cell) a rejection is logged, never fatal.
 */
import type { Logger } from "pino";

export interface FatalOptions {
  /** Runs synchronously on the first fatal error; must not throw (it is guarded anyway). */
  onFatal(reason: string): void;
  /** Wait between the hook and exit(1), ms (default 250). */
  fatalGraceMs?: number;
}

export function exitOnSignals(
  logger: Logger,
  close: () => Promise<void>,
  graceMs: number,
  fatal?: FatalOptions,
): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => process.exit(1), graceMs);
    force.unref();
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  if (!fatal) {
    process.on("unhandledRejection", (err) => logger.error({ err }, "unhandled rejection"));
    return;
  }
  let dying = false;
  const die = (kind: string, err: unknown) => {
    try {
      logger.fatal({ err }, `${kind}: stopping the arm and exiting`);
    } catch {
      // The logger itself may be what failed.
    }
    if (dying) return;
    dying = true;
    stopping = true;
    const reason = `server fault (${kind}): ${err instanceof Error ? err.message : String(err)}`;
    try {
      fatal.onFatal(reason);
    } catch (hookErr) {
      process.stderr.write(`fatal hook failed: ${String(hookErr)}\n`);
    }
    // Kept referenced: the process must live until the cancel frames are out, then exit.
    setTimeout(() => process.exit(1), fatal.fatalGraceMs ?? 250);
  };
  process.on("uncaughtException", (err) => die("uncaught exception", err));
  process.on("unhandledRejection", (err) => die("unhandled rejection", err));
}
