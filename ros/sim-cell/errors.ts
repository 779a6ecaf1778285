/**
 * Typed errors of the simulated cell. Each one is answered to the client that caused it
 * (a rosbridge `status`, a failed `service_response` or a failed `action_result`) and
 * never closes the socket; the underlying error, where there is one, travels as `cause`.
 */

/** Base class of every error the sim cell throws on purpose. */
export class SimCellError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A frame or an op that breaks the rosbridge protocol: not JSON/CBOR, no `op`, an unknown
 * op, a missing or mistyped field, an unknown topic, service or action, a wrong type name.
 */
export class ProtocolError extends SimCellError {
  /** The `id` of the offending op, when it had one (echoed in the status reply). */
  readonly opId: string | number | undefined;
  constructor(message: string, opId?: string | number, options?: ErrorOptions) {
    super(message, options);
    this.opId = opId;
  }
}

/** A well-formed request the cell refuses in its current state (e.g. a jog while executing). */
export class RequestRefusedError extends SimCellError {}

/** Why a trajectory goal was refused: the joints are not the cell's, or the motion is not playable. */
export type GoalRejection = "invalid_joints" | "invalid_goal";

/** A trajectory goal the controller will not execute; `reason` says which check failed. */
export class GoalRejectedError extends SimCellError {
  readonly rejection: GoalRejection;
  constructor(rejection: GoalRejection, message: string, options?: ErrorOptions) {
    super(message, options);
    this.rejection = rejection;
  }
}

/** Bad options or a failed listen in {@link startSimCell}. */
export class SimCellStartError extends SimCellError {}
