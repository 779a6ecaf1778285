/**
 * Preloaded into a server process by crash tests (`node --import tsx --import
 * ./test/support/fault-injection.ts server/main.ts`): SIGUSR2 throws an error nobody catches,
 * as a bug would, so the test sees what the server does with an uncaught exception.
 */
process.on("SIGUSR2", () => {
  setImmediate(() => {
    throw new Error("injected fault (test)");
  });
});
