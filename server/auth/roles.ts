/**
 * Roles of the people in a room and what each may do. The role comes only from a signed
 * token, never from join options or message text.
 */
export const Role = {
  /** May move the arm: jog, plan, approve, stop, reset, edit the virtual scene. */
  Operator: "operator",
  /** Sees everything, sends its own headset pose, may press stop; never moves the arm. */
  Observer: "observer",
} as const;
export type Role = (typeof Role)[keyof typeof Role];

export const ROLES: readonly Role[] = [Role.Operator, Role.Observer];

/** Capabilities, one per kind of command, and which roles hold them. */
export const Capability = {
  /** Send own head/hand poses. */
  Presence: "presence",
  /** Any command that can move the arm or change a plan. */
  Motion: "motion",
  /** Stop all motion. Everyone in the cell may hit the stop button. */
  Stop: "stop",
  /** Add, remove, grab or release virtual objects. */
  EditScene: "edit_scene",
} as const;
export type Capability = (typeof Capability)[keyof typeof Capability];

const GRANTS: Record<Role, ReadonlySet<Capability>> = {
  operator: new Set([
    Capability.Presence,
    Capability.Motion,
    Capability.Stop,
    Capability.EditScene,
  ]),
  observer: new Set([Capability.Presence, Capability.Stop]),
};

/** True when `role` grants `capability`. */
export function can(role: Role, capability: Capability): boolean {
  return GRANTS[role].has(capability);
}

/**
 * Why `role` may not do `what` (it needs one of `allowed`), for the refusal's message, or
 * undefined when it may: `"creating a metaverse room needs the operator role (you are observer)"`.
 */
export function roleRefusal(
  role: Role,
  allowed: readonly Role[],
  what: string,
): string | undefined {
  if (allowed.includes(role)) return undefined;
  return `${what} needs the ${allowed.join(" or ")} role (you are ${role})`;
}
