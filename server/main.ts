/**
 * Process entry: parse config, start the app, shut down cleanly on SIGTERM/SIGINT.
 * `npm start` runs this with embedded defaults: no network, no GPU, no ROS needed, and closed
 * by default — loopback only with a random secret and a one-time login link on stderr. A
 * configuration that would open the server half-way (a non-loopback HOST or ROBOT_LINK=ros
 * without AUTH_SECRET, …) exits with status 2 and names the variable to set.
 */
import { exitOnSignals } from "./shutdown.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { startApp } from "./app.ts";
import { createLogger } from "./log.ts";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config);
  const app = await startApp(config, logger);
  const link = app.loginLink();
  if (link !== undefined) {
    // For the person at this machine, not for the log: a one-time code, spent on first use.
    process.stderr.write(
      `\nAgentTwin is listening on this machine only (AUTH_SECRET unset).\n` +
        `Open the viewer as operator with this one-time link:\n\n    ${link}\n\n`,
    );
  }

  // A fatal error stops every arm (goal cancel) and writes the audit log before exit(1);
  // the controller's own watchdog covers what a dead process cannot send (README).
  exitOnSignals(logger, () => app.close(), 10000, {
    onFatal: (reason) => app.emergencyStop(reason),
  });
}

await main();
