/**
 * Live adaptation measured on the server's own traffic (`npm run bench:agentnet -- --only
 * own-traffic`): the product's server (`startApp`, in-process arm, agents and recording on)
 * holds one `digital_twin` room for a while, as a deployment would — an operator jogging
 * joint 1 back and forth and headsets (real SDK clients) sending their head pose at 30 Hz,
 * four of them for the first 60 % of the session and eight after that (a crowd arriving).
 * The session recorder writes the room's traffic meter to `/traffic` every 30 s and at
 * close; those batches are read back with the importer `npm run train:ngf --
 * --from-recordings` uses, and the shipped nGF is adapted on the earlier batches exactly as
 * the live observer does (`observe()`, batch by batch) and scored on the later ones beside
 * the no-ML baselines fitted on the same earlier batches (scripts/own-data.ts
 * evaluateTrafficAdaptation).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TrafficAgent } from "../../server/agents/traffic-agent.ts";
import { readTrafficRecordings } from "../../server/ml/datasets/import.ts";
import { initTf } from "../../server/ml/backend.ts";
import { evaluateTrafficAdaptation, type TrafficAdaptationResult } from "../../scripts/own-data.ts";
import { startTestServer, type TwinClient } from "../support/server.ts";
import { sleep } from "./load-common.ts";

export interface OwnTrafficResult extends TrafficAdaptationResult {
  sessionS: number;
  headsets: { before: number; after: number };
}

/** Runs the session for `sessionS` seconds, then evaluates; the recordings are deleted. */
export async function runOwnTrafficBench(o: { sessionS: number }): Promise<OwnTrafficResult> {
  const dataDir = await mkdtemp(join(tmpdir(), "agenttwin-own-traffic-"));
  const headsets = { before: 4, after: 8 };
  try {
    const server = await startTestServer({ DATA_DIR: dataDir, ROBOT_LINK: "inprocess" });
    const stops: (() => Promise<void>)[] = [];
    try {
      const op = await server.join("operator", "operator");
      stops.push(jogBackAndForth(op));
      const roomId = op.room.roomId;
      const joinHeadsets = async (from: number, to: number) => {
        for (let i = from; i < to; i++) {
          const h = await server.join("observer", `headset-${i}`, roomId, false);
          stops.push(sendPoses(h, i));
        }
      };
      await joinHeadsets(0, headsets.before);
      await sleep(o.sessionS * 0.6 * 1000);
      await joinHeadsets(headsets.before, headsets.after);
      await sleep(o.sessionS * 0.4 * 1000);
    } finally {
      // Senders stop even when a join failed, or their loops would keep the process alive.
      await Promise.all(stops.map((stop) => stop()));
      // Closing the room closes its recording, which writes the last /traffic batch.
      await server.close();
    }
    const records = await readTrafficRecordings(join(dataDir, "recordings"));
    if (records.length === 0) throw new Error("the session recorded no /traffic batch");
    await initTf();
    const agent = await TrafficAgent.load("assets/models/ngf", { minWindows: 10 });
    try {
      const result = await evaluateTrafficAdaptation(agent, records);
      return { ...result, sessionS: o.sessionS, headsets };
    } finally {
      agent.dispose();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Jogs joint 1 at 10 Hz, reversing every 2 s, until the returned stop is awaited. */
function jogBackAndForth(op: TwinClient): () => Promise<void> {
  let on = true;
  const loop = (async () => {
    for (let i = 0; on; i++) {
      const velocity = Math.floor(i / 20) % 2 === 0 ? 0.3 : -0.3;
      op.room.send("jog", { mode: "joint", joint: 0, velocity, deadmanMs: 300 });
      await sleep(100);
    }
  })();
  return async () => {
    on = false;
    await loop;
  };
}

/** Sends a swaying head pose at 30 Hz until the returned stop is awaited. */
function sendPoses(h: TwinClient, i: number): () => Promise<void> {
  let on = true;
  const loop = (async () => {
    const t0 = performance.now();
    while (on) {
      const t = (performance.now() - t0) / 1000;
      const yaw = 0.3 * Math.sin(t * 0.7 + i);
      h.room.send("pose", {
        head: {
          position: { x: 1 + 0.2 * i, y: 0.05 * Math.sin(t + i), z: 1.6 },
          orientation: { x: 0, y: 0, z: Math.sin(yaw / 2), w: Math.cos(yaw / 2) },
        },
      });
      await sleep(1000 / 30);
    }
  })();
  return async () => {
    on = false;
    await loop;
  };
}
