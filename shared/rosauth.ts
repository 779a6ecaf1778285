/**
 * rosbridge's `auth` op (protocol v2 §3.3) as rosauth's `ros_mac_authentication` checks it.
 * Shared by the server's rosbridge client (which sends it) and the simulated cell in
 * `ros/sim-cell` (which verifies it), so both hash exactly the same text.
 */
import { createHash } from "node:crypto";

/** The `auth` op of the rosbridge protocol. */
export interface AuthOp {
  op: "auth";
  /** Lowercase hex SHA-512, see {@link rosauthMac}. */
  mac: string;
  client: string;
  dest: string;
  rand: string;
  /** s since the epoch (rosauth hashes the whole seconds of the time). */
  t: number;
  level: string;
  /** s since the epoch (whole seconds hashed, as for `t`). */
  end: number;
}

/** rosauth's default `allowed_time_delta`, s. */
export const AUTH_ALLOWED_TIME_DELTA_S = 5;

/**
 * rosauth's MAC: the lowercase hex SHA-512 of `secret + client + dest + rand + t + level +
 * end`, with `t` and `end` as whole seconds (ros_mac_authentication.cpp hashes `t.sec` and
 * `end.sec`).
 */
export function rosauthMac(
  secret: string,
  a: Pick<AuthOp, "client" | "dest" | "rand" | "t" | "level" | "end">,
): string {
  const text = `${secret}${a.client}${a.dest}${a.rand}${Math.floor(a.t)}${a.level}${Math.floor(a.end)}`;
  return createHash("sha512").update(text, "utf8").digest("hex");
}
