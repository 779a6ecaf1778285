/**
 * The HTTP side of the server the viewer uses: the one-time login, development tokens, the
 * robot description and its URDF (same origin as the page; see README "HTTP"). Every read
 * sends the join token as `Authorization: Bearer`.
 */
import type { Pose } from "../../../shared/geometry.ts";

export type Role = "operator" | "observer";

/** `GET /api/robot`. */
export interface RobotInfo {
  name: string;
  base: Pose & { frame: string };
  joints: { name: string; lower: number; upper: number; maxVelocity: number }[];
  gripper?: { joint: string; range: { min: number; max: number } };
  namedPoses: Record<string, number[]>;
  home: string;
}

/** An HTTP failure with the server's `{ error: { code, message } }` when it sent one. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function ok(res: Response): Promise<Response> {
  if (res.ok) return res;
  let code = "http_error";
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch {
    // not JSON: keep the status line
  }
  throw new HttpError(res.status, code, message);
}

/** `POST /api/login`: redeems the one-time login link's code for an operator token. */
export async function login(code: string): Promise<string> {
  const res = await ok(
    await fetch("/api/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code }),
    }),
  );
  return ((await res.json()) as { token: string }).token;
}

/**
 * `POST /api/dev/token`: a development join token (404 when disabled on the server, 403
 * unless this browser runs on the server's machine).
 */
export async function devToken(name: string, role: Role): Promise<string> {
  const res = await ok(
    await fetch("/api/dev/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name, role }),
    }),
  );
  return ((await res.json()) as { token: string }).token;
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

export async function robotInfo(token: string): Promise<RobotInfo> {
  return (await (await ok(await fetch("/api/robot", bearer(token)))).json()) as RobotInfo;
}

export async function robotUrdf(token: string): Promise<string> {
  return (await ok(await fetch("/api/robot/urdf", bearer(token)))).text();
}

/**
 * The role inside a JWT, for enabling controls. Display only: the server takes the role
 * from the verified token and refuses what the role may not do.
 */
export function roleOfToken(token: string): Role | undefined {
  try {
    const part = token.split(".")[1] ?? "";
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    const role = (JSON.parse(json) as { role?: unknown }).role;
    return role === "operator" || role === "observer" ? role : undefined;
  } catch {
    return undefined;
  }
}
