/**
 * Mints a join token with the server's secret, for deployments without an identity service
 * (a lab with one arm) and for tools:
 *
 *   AUTH_SECRET=… node --import tsx scripts/token.ts --name ann --role operator [--ttl 3600]
 *
 * Reads AUTH_SECRET, TOKEN_AUDIENCE, TOKEN_ISSUER, TOKEN_TTL_S and TOKEN_MAX_TTL_S like the
 * server (server/config.ts) and prints the token on stdout. Refuses without AUTH_SECRET:
 * a server without one makes a random secret at start that nothing else knows.
 */
import { parseArgs } from "node:util";
import { ROLES, type Role } from "../server/auth/roles.ts";
import { TokenService } from "../server/auth/tokens.ts";
import { ConfigError, loadConfig } from "../server/config.ts";

const { values } = parseArgs({
  options: {
    name: { type: "string" },
    role: { type: "string", default: "observer" },
    ttl: { type: "string" },
  },
});

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

if (!process.env.AUTH_SECRET) {
  fail("AUTH_SECRET is not set: tokens must be signed with the server's secret");
}
let config;
try {
  config = loadConfig({ ...process.env, HOST: "127.0.0.1", ROBOT_LINK: "inprocess" });
} catch (err) {
  fail(err instanceof ConfigError ? err.message : String(err));
}
const name = values.name ?? fail("--name <user> is required");
if (!/^[\w .-]{1,64}$/.test(name)) fail("--name: 1–64 letters, digits, spaces, . _ -");
const role = values.role as Role;
if (!ROLES.includes(role)) fail(`--role must be one of ${ROLES.join(", ")}`);
const ttl = values.ttl === undefined ? config.auth.tokenTtlS : Number(values.ttl);
const tokens = new TokenService(config.auth.secret, {
  issuer: config.auth.issuer,
  audience: config.auth.audience,
  maxTtlS: config.auth.maxTokenTtlS,
});
try {
  process.stdout.write(`${await tokens.issue({ userId: name, name, role }, ttl)}\n`);
} catch (err) {
  fail((err as Error).message);
}
