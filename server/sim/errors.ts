/**
 * Typed errors of the simulation core. Each names what was wrong (file, element, object id)
 * so that a caller can answer a client or fail a start-up with a useful message; the
 * underlying error, where there is one, travels as `cause`.
 */

/** Base class of every error thrown on purpose by `server/sim` (outside the planner). */
export class SimError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A URDF document that is not valid XML or not a valid robot description. */
export class UrdfError extends SimError {
  /** The offending element, e.g. `joint "panda_joint2" > limit`, or the file for XML errors. */
  readonly element: string;
  constructor(element: string, message: string, options?: ErrorOptions) {
    super(`${element}: ${message}`, options);
    this.element = element;
  }
}

/** A robot limits / semantic JSON file (accelerations, named poses, collision pairs) that is invalid. */
export class RobotConfigError extends SimError {
  /** Path of the file (or a description of the input) that failed. */
  readonly file: string;
  constructor(file: string, message: string, options?: ErrorOptions) {
    super(`${file}: ${message}`, options);
    this.file = file;
  }
}

/** A scene layout file (or object spec) that does not match the scene schema. */
export class SceneError extends SimError {
  /** Path of the file, or `"object spec"` for a single object. */
  readonly file: string;
  constructor(file: string, message: string, options?: ErrorOptions) {
    super(`${file}: ${message}`, options);
    this.file = file;
  }
}

/** A kinematic chain that cannot be built (unknown link, no path, wrong joint types). */
export class KinematicsError extends SimError {}

/** A call on a twin object that the world refuses (unknown id, duplicate, bad state). */
export class ObjectError extends SimError {
  /** Id of the object the call was about. */
  readonly objectId: string;
  constructor(objectId: string, message: string, options?: ErrorOptions) {
    super(`object "${objectId}": ${message}`, options);
    this.objectId = objectId;
  }
}

/** An object would overlap the arm (or another object) where it is to be placed. */
export class PlacementError extends ObjectError {
  /** What it would touch: an arm link or another object id. */
  readonly touching: { readonly kind: "link" | "object"; readonly name: string };
  constructor(
    objectId: string,
    touching: { readonly kind: "link" | "object"; readonly name: string },
    options?: ErrorOptions,
  ) {
    super(objectId, `would overlap ${touching.kind} "${touching.name}"`, options);
    this.touching = touching;
  }
}

/** A snapshot that is not one this world wrote, or that does not fit the current robot. */
export class SnapshotError extends SimError {}
