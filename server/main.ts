/**
 * Process entry: parse config, start the app, shut down cleanly on SIGTERM/SIGINT.
 * `npm start` runs this with embedded defaults: no network, no GPU, no ROS needed.
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

  exitOnSignals(logger, () => app.close(), 10000);
}

await main();
