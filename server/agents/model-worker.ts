/**
 * Worker thread entry: the channel agent (pGF) and the traffic agent (nGF) live here, so
 * their inference (tens of ms per what-if) and their fine-tuning never run on the event loop
 * that serves the rooms — a STOP is never queued behind a model. Started by
 * {@link ModelWorker} (server/agents/model-host.ts); requests are answered in arrival order.
 */
import { parentPort, workerData } from "node:worker_threads";
import { initTf } from "../ml/backend.ts";
import { loadLearnedModels } from "./learned-models.ts";
import type { ModelReply, ModelRequest, ModelWorkerData } from "./model-worker-protocol.ts";

const port = parentPort;
if (!port) throw new Error("model-worker.ts runs only as a worker thread");
const data = workerData as ModelWorkerData;
const post = (m: ModelReply) => port.postMessage(m);
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

const backend = await initTf(data.tfBackend);
const models = await loadLearnedModels(data.pgfDir, data.ngfDir);
const channel = models.channel.ok ? models.channel.agent : null;
const traffic = models.traffic.ok ? models.traffic.agent : null;

port.on("message", (req: ModelRequest) => {
  void answer(req).then(
    (value) => post({ kind: "result", id: req.id, ok: true, value }),
    (err: unknown) => post({ kind: "result", id: req.id, ok: false, error: message(err) }),
  );
});

async function answer(req: ModelRequest): Promise<unknown> {
  switch (req.op) {
    case "predict":
      if (!channel) throw new Error("the channel model is not loaded");
      return channel.predict(req.env);
    case "predictDemand":
      if (!traffic) throw new Error("the traffic model is not loaded");
      return traffic.predictDemand(req.scenario);
    case "observe":
      if (!traffic) throw new Error("the traffic model is not loaded");
      return traffic.observe(req.windows, req.scenario);
  }
}

post({
  kind: "ready",
  backend: backend.name,
  skipped: backend.skipped,
  channel: models.channel.ok ? { ok: true } : models.channel,
  traffic: models.traffic.ok ? { ok: true } : models.traffic,
});
