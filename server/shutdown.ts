/**
 * Process lifecycle for the entry points (`server/main.ts`, `ros/sim-cell/main.ts`): on
 * SIGTERM or SIGINT close once and exit 0 (1 when closing fails or takes longer than
 * `graceMs`); an unhandled rejection is logged, never fatal.
 */
import type { Logger } from "pino";

export function exitOnSignals(logger: Logger, close: () => Promise<void>, graceMs: number): void {
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
  process.on("unhandledRejection", (err) => logger.error({ err }, "unhandled rejection"));
}
