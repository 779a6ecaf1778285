/**
 * Copies an agent panel (the agents at work, the current allocation, the latest decisions)
 * into its schema state; shared by both rooms' state sync.
 */
import { type AgentPanelState, DecisionState } from "../../shared/schema/twin-state.ts";
import type { AgentPanel } from "../twin/session.ts";

/** Longest decision summary sent to clients, characters. */
const SUMMARY_CHARS = 300;

export function syncAgentPanel(s: AgentPanelState, panel: AgentPanel): void {
  s.agents = panel.agents;
  s.wantedRung = panel.wantedRung ?? "";
  const a = panel.allocation;
  s.allocation.rung = a?.rung ?? "";
  s.allocation.bands = a?.bands.join(",") ?? "";
  s.allocation.reservedBps = a?.reservedBps ?? 0;
  s.allocation.capacityBps = a?.capacityBps ?? 0;
  s.allocation.demandBps = a?.plannedDemandBps ?? 0;
  s.decisions.clear();
  for (const d of panel.decisions) {
    s.decisions.push(
      new DecisionState({
        id: d.id,
        task: d.task,
        trigger: d.trigger,
        summary: d.summary.slice(0, SUMMARY_CHARS),
        agents: d.agents.join(","),
        applied: d.applied,
        latencyMs: d.latencyMs,
        atMs: d.atMs,
      }),
    );
  }
}
