/**
 * Typed refusals of the twin domain. A {@link CommandError} is an expected outcome (bad
 * target, wrong role, busy arm): the room turns it into an `error` message for the client
 * and nothing in the twin changes. Anything else thrown is a bug and is logged as such.
 */
import type { ErrorCode } from "../../shared/messages/common.ts";
import type { Refusals } from "../agents/orchestrator.ts";

export class CommandError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "CommandError";
  }
}

/** CommandError as the agent orchestrator makes and recognises refusals (both sessions). */
export const COMMAND_REFUSALS: Refusals = {
  codeOf: (err) => (err instanceof CommandError ? err.code : null),
  make: (code, message, cause) => new CommandError(code, message, { cause }),
};
