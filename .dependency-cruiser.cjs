/* global module */
/**
 * The layer order of the server, enforced by `npm run check` (docs/architecture.md explains
 * it). A module may import from its own layer and the layers below, never from above:
 *
 *   0 shared/                         wire contracts, schema, units
 *   1 server/sim                      pure physics and kinematics
 *   2 server/net                      channel and traffic models
 *   3 server/ml                       models, training, evaluation
 *   4 server/{robot,agents,media,store,auth}   domain services
 *   5 server/{twin,metaverse}         sessions
 *   6 server/{rooms,http}             Colyseus rooms and HTTP routes
 *   7 server/{app,main,scaleout*,shutdown}.ts  composition root
 *
 * `server/config.ts`, `server/log.ts` and `server/node-compat.ts` are read by every layer and
 * import from none above 0. `ros/sim-cell` is a separate program that reaches the server
 * only through `server/sim`'s public module (and `server/shutdown.ts` for its signals); in
 * the server, only the composition root (`server/app.ts`) starts it.
 *
 * Arrows that break these rules today are listed in `.dependency-cruiser-known.json` (made
 * with `npm run check:deps:baseline`); `npm run check:deps` fails on any arrow not listed
 * there, so the debt can only shrink. Remove a line from the list when its arrow is gone.
 */
const LAYERS = [
  ["^shared/"],
  ["^server/sim/"],
  ["^server/net/"],
  ["^server/ml/"],
  ["^server/(robot|agents|media|store|auth)/"],
  ["^server/(twin|metaverse)/"],
  ["^server/(rooms|http)/"],
  ["^server/(app|main|scaleout|scaleout-health|shutdown)\\.ts$"],
];

/** One rule per layer: nothing in it imports from a layer above it. */
const upward = LAYERS.slice(0, -1).map((paths, i) => ({
  name: `layer-${i}-imports-upward`,
  comment: `${paths.join(", ")} (layer ${i}) may not import from a higher layer`,
  severity: "error",
  from: { path: paths },
  to: { path: LAYERS.slice(i + 1).flat() },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...upward,
    {
      name: "shared-config-imports-upward",
      comment: "config, log and node-compat are read everywhere, so they import only shared/",
      severity: "error",
      from: { path: "^server/(config|config-video|log|node-compat)\\.ts$" },
      to: { path: LAYERS.slice(1).flat() },
    },
    {
      name: "no-circular",
      comment: "no import cycles, within a folder or across folders",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "pure-core-no-frameworks",
      comment:
        "sim, net, ml and shared import nothing from Colyseus, express, socket.io, roslib or openai",
      severity: "error",
      from: { path: ["^shared/", "^server/(sim|net|ml)/"] },
      to: {
        path: "node_modules/(@colyseus/core|@colyseus/ws-transport|express|socket\\.io|roslib|openai)/",
      },
    },
    {
      name: "domain-not-http",
      comment: "the domain never imports the HTTP layer (use a port in the domain instead)",
      severity: "error",
      from: { path: "^server/(sim|net|ml|robot|agents|media|store|twin|metaverse)/" },
      to: { path: "^server/http/" },
    },
    {
      name: "sim-cell-through-public-module",
      comment:
        "ros/sim-cell reaches the server only through server/sim/index.ts (and the process's signal handling)",
      severity: "error",
      from: { path: "^ros/sim-cell/" },
      to: { path: "^server/", pathNot: "^server/(sim/index|shutdown)\\.ts$" },
    },
    {
      name: "sim-cell-started-by-composition-root",
      comment:
        "only the composition root starts ros/sim-cell; the domain gets its rosbridge URL (ROBOT_LINK=sim)",
      severity: "error",
      from: { path: ["^shared/", "^server/"], pathNot: LAYERS[LAYERS.length - 1] },
      to: { path: "^ros/sim-cell/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^server/http/viewer/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js", ".json"] },
  },
};
