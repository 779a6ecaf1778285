/**
 * The process metrics added for operators: video jobs (queued, running, duration, wait,
 * failures by code), reconstruction jobs (through the SceneJobs metrics port), agent
 * decision latency and recording bytes on disk, as Prometheus text.
 */
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pino } from "pino";
import { ServerMetrics } from "../../server/http/metrics.ts";
import { ReconstructionError } from "../../server/media/reconstruction/errors.ts";
import type { Reconstructor } from "../../server/media/reconstruction/reconstructor.ts";
import { SceneJobs, SceneStore } from "../../server/media/reconstruction/scene-jobs.ts";
import type { JobDoneListener, VideoJob } from "../../server/media/video/transcode.ts";

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

function videoJob(status: VideoJob["status"], code?: string): VideoJob {
  return {
    id: `job-${status}`,
    streamId: "s",
    status,
    progress: status === "succeeded" ? 1 : 0.5,
    createdAt: at(0),
    startedAt: at(2),
    finishedAt: at(12),
    source: {
      durationS: 5,
      width: 1280,
      height: 720,
      fps: 30,
      codec: "h264",
    } as VideoJob["source"],
    error: code ? { code, message: "ffmpeg failed" } : null,
    result: null,
  };
}

describe("server metrics", () => {
  it("follow the transcode queue: load at each scrape, finished jobs as they end", async () => {
    const metrics = new ServerMetrics({ defaultMetrics: false });
    let listener: JobDoneListener | undefined;
    metrics.watchVideoQueue({
      load: () => ({ queued: 3, running: 1 }),
      onJobDone: (l) => {
        listener = l;
        return () => undefined;
      },
    });
    listener?.(videoJob("succeeded"));
    listener?.(videoJob("failed", "transcode_failed"));
    const { body } = await metrics.render();
    assert.match(body, /agenttwin_video_jobs\{state="queued"\} 3/);
    assert.match(body, /agenttwin_video_jobs\{state="running"\} 1/);
    assert.match(body, /agenttwin_video_jobs_finished_total\{status="succeeded"\} 1/);
    assert.match(body, /agenttwin_video_job_failures_total\{code="transcode_failed"\} 1/);
    assert.match(body, /agenttwin_video_job_duration_seconds_sum\{status="succeeded"\} 10/);
    assert.match(body, /agenttwin_video_job_wait_seconds_sum 4/);
  });

  it("count reconstruction jobs through the SceneJobs port, by backend and status", async () => {
    const metrics = new ServerMetrics({ defaultMetrics: false });
    const backend: Reconstructor = {
      name: "always-fails",
      reconstruct: () => Promise.reject(new ReconstructionError("no_frames", "no frames")),
    };
    const jobs = new SceneJobs({
      store: new SceneStore(await mkdtemp(join(tmpdir(), "agenttwin-metrics-"))),
      rgbd: backend,
      logger: pino({ level: "silent" }),
      metrics: metrics.reconstruction,
    });
    metrics.watchReconstructionQueue(jobs);
    jobs.submit("scene-1", { kind: "rgbd", frames: [] });
    await jobs.idle();
    const { body } = await metrics.render();
    assert.match(
      body,
      /agenttwin_reconstruction_jobs_finished_total\{backend="always-fails",status="failed"\} 1/,
    );
    assert.match(
      body,
      /agenttwin_reconstruction_job_duration_seconds_count\{backend="always-fails",status="failed"\} 1/,
    );
    assert.match(body, /agenttwin_reconstruction_jobs\{state="queued"\} 0/);
    assert.match(body, /agenttwin_reconstruction_jobs\{state="running"\} 0/);
    await jobs.close();
  });

  it("time agent decisions and sum recording bytes on disk", async () => {
    const metrics = new ServerMetrics({ defaultMetrics: false });
    metrics.agentDecision({ task: "allocate", trigger: "start", latencyMs: 12, applied: true });
    metrics.agentDecision({ task: "allocate", trigger: "qoe", latencyMs: 3, applied: false });
    metrics.watchRecordings(async () => [{ bytes: 1000 }, { bytes: 24 }]);
    const { body } = await metrics.render();
    assert.match(
      body,
      /agenttwin_agent_decision_seconds_count\{task="allocate",trigger="start"\} 1/,
    );
    assert.match(
      body,
      /agenttwin_agent_decision_seconds_sum\{task="allocate",trigger="start"\} 0\.012/,
    );
    assert.match(body, /agenttwin_agent_decisions_total\{task="allocate",applied="false"\} 1/);
    assert.match(body, /agenttwin_recordings_bytes 1024/);
    assert.match(body, /agenttwin_recordings 2/);
  });
});
