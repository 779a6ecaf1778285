/**
 * Request bodies of the HTTP API: the routes validate with these (routes.ts) and the
 * OpenAPI document describes them (openapi.ts), so the two cannot disagree.
 */
import { z } from "zod";
import { ROLES, type Role } from "../auth/roles.ts";

/** Body of `POST /api/dev/token`. */
export const DevTokenRequest = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[\w .-]+$/),
  role: z.enum(ROLES as [Role, ...Role[]]).default("observer"),
});

/** Body of `POST /api/login`. */
export const LoginRequest = z.strictObject({ code: z.string().min(1).max(64) });
