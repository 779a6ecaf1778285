/**
 * Panels both views share: the connection line, the event log (errors and notices from
 * the server), the agent panel and the utterance box with the agents' answers.
 */
import type { AgentPanelState } from "../../../shared/schema/twin-state.ts";
import type { ViewerStatus } from "./debug-hooks.ts";
import { $, el, mbps, setText } from "./dom.ts";

/**
 * The status line in the top bar. An error (a refused token or login link, a room that
 * cannot be joined) shows "Sign in again", which goes back to the sign-in form.
 */
export class StatusLine {
  status: ViewerStatus = "idle";
  text = "not connected";
  readonly #el = $("#status");

  set(status: ViewerStatus, text: string): void {
    this.status = status;
    this.text = text;
    this.#el.dataset.status = status;
    setText(this.#el, text);
    $("#relogin").hidden = status !== "error";
  }
}

const JOB_WORDS: Record<string, string> = {
  ingesting: "receiving the clip",
  transcoding: "transcoding to 360°",
  reconstructing: "reconstructing the 3D scene",
};

/**
 * The scene's video or reconstruction job in the top bar: what runs (`detail` from the
 * room, e.g. "queued" or "job 3f2a…") and a progress bar (indeterminate while the job
 * gives no fraction). Hidden when no job runs.
 */
export function showJob(status: string, progress: number, detail: string): void {
  const words = JOB_WORDS[status];
  const box = $("#job");
  box.hidden = words === undefined;
  box.dataset.status = status;
  if (words === undefined) return;
  const bar = $<HTMLProgressElement>("#job-progress");
  const known = progress > 0 && progress <= 1;
  if (known) bar.value = progress;
  else bar.removeAttribute("value");
  const pct = known ? ` ${Math.round(progress * 100)} %` : "";
  setText($("#job-text"), `${words}${pct}${detail ? ` · ${detail}` : ""}`);
}

/**
 * The space (room) this page is in, with a link that opens the same room for someone else
 * (no token in it: each person signs in) and, in the metaverse, how to upload a clip to it.
 * A named `space` (metaverse) is shown and linked by its name: the link reopens it with its
 * scene even after the room is gone; uploads name it too.
 */
export function showSpace(
  view: "twin" | "metaverse",
  roomId: string,
  uploads: boolean,
  space = "",
): void {
  $("#space").hidden = false;
  const target = space || roomId;
  setText($("#space-id"), target);
  const param = space ? `space=${encodeURIComponent(space)}` : `room=${encodeURIComponent(roomId)}`;
  const link = `${location.origin}${location.pathname}#${view}&${param}`;
  const input = $<HTMLInputElement>("#space-link");
  input.value = link;
  const copy = $<HTMLButtonElement>("#space-copy");
  copy.onclick = () => {
    input.select();
    const copied = () => {
      setText(copy, "Copied");
      setTimeout(() => setText(copy, "Copy link"), 1500);
    };
    // Without clipboard access (plain http on another host) the link stays selected to copy.
    if (navigator.clipboard) navigator.clipboard.writeText(link).then(copied, () => undefined);
  };
  setText(
    $("#space-note"),
    uploads
      ? `Share the link to watch together${space ? " (the space keeps its scene after everyone left)" : ""}. Upload a clip (operator token): POST ${location.origin}/media/video?room=${target}; RGB-D or a PNG: POST ${location.origin}/media/scenes?sceneId=${target}.`
      : "Share the link to work in the same cell (each person signs in).",
  );
}

/** Errors and notices, newest first on screen, bounded. */
export class EventLog {
  readonly items: string[] = [];
  readonly #list = $("#events");
  readonly #limit: number;

  constructor(limit = 30) {
    this.#limit = limit;
    $("#events-card").hidden = false;
  }

  #last = { line: "", count: 0 };

  push(kind: "error" | "notice" | "info", text: string): void {
    const line = `${kind}: ${text}`;
    // A held jog refused ten times a second is one line with a count, not a flood.
    if (line === this.#last.line && this.#list.firstElementChild) {
      this.#last.count++;
      this.#list.firstElementChild.setAttribute("data-count", String(this.#last.count));
      setText(
        this.#list.firstElementChild,
        `${new Date().toLocaleTimeString()} ${text} ×${this.#last.count}`,
      );
      return;
    }
    this.#last = { line, count: 1 };
    this.items.push(line);
    if (this.items.length > this.#limit) this.items.shift();
    const time = new Date().toLocaleTimeString();
    this.#list.prepend(el("li", { class: kind }, `${time} ${text}`));
    while (this.#list.childElementCount > this.#limit) this.#list.lastElementChild?.remove();
  }
}

/** Fills `root` with the agents' panel. @returns decisions listed */
export function renderAgentPanel(root: HTMLElement, panel: AgentPanelState): number {
  if (!root.firstChild) {
    root.append(
      el("dl", { class: "small" }),
      el("h3", { class: "small muted" }, "Last decisions"),
      el("ul", { class: "list small decisions" }),
    );
  }
  const a = panel.allocation;
  const facts: [string, string][] = [
    ["agents", panel.agents || "(agents off)"],
    ["wanted", panel.wantedRung || "—"],
    ["rung", a.rung || "—"],
    ["bands", a.bands || "—"],
    ["reserved", mbps(a.reservedBps)],
    ["capacity", mbps(a.capacityBps)],
    ["demand", mbps(a.demandBps)],
  ];
  const dl = root.querySelector("dl")!;
  const key = JSON.stringify(facts);
  if (dl.dataset.key !== key) {
    dl.dataset.key = key;
    dl.replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  }
  const list = root.querySelector("ul")!;
  const decisions = panel.decisions.toArray();
  const dkey = decisions.map((d) => d.id).join(",");
  if (list.dataset.key !== dkey) {
    list.dataset.key = dkey;
    list.replaceChildren(
      ...decisions
        .slice()
        .reverse()
        .map((d) =>
          el(
            "li",
            { "data-decision": d.id, title: `agents: ${d.agents}` },
            el("strong", {}, `${d.task}`),
            ` (${d.trigger}, ${d.latencyMs.toFixed(0)} ms${d.applied ? ", applied" : ""}): `,
            d.summary,
          ),
        ),
    );
  }
  return decisions.length;
}

/** The utterance box: sends `utterance` and shows the answer (the ack's summary). */
export class Chat {
  readonly answers: string[] = [];
  readonly #list = $("#chat");
  readonly #pending = new Map<string, HTMLElement>();
  #counter = 0;

  /** @param send sends `{ text, requestId }` as an `utterance` message */
  constructor(send: (body: { text: string; requestId: string }) => void) {
    $("#talk").hidden = false;
    const form = $<HTMLFormElement>("#utterance-form");
    const input = form.querySelector("input")!;
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const text = input.value.trim().slice(0, 500);
      if (!text) return;
      const requestId = `utt-${++this.#counter}`;
      const answer = el("div", { class: "muted" }, "…");
      this.#list.prepend(
        el("li", { "data-request": requestId }, el("div", {}, `you: ${text}`), answer),
      );
      this.#pending.set(requestId, answer);
      send({ text, requestId });
      input.value = "";
    });
  }

  /** True when `requestId` is one of the utterances sent here. */
  owns(requestId: string | undefined): boolean {
    return requestId !== undefined && this.#pending.has(requestId);
  }

  /** Shows the answer (or the refusal) for an utterance. */
  answer(requestId: string, text: string, ok: boolean): void {
    const target = this.#pending.get(requestId);
    if (!target) return;
    this.#pending.delete(requestId);
    target.className = ok ? "answer" : "error";
    target.textContent = `agents: ${text}`;
    if (ok) this.answers.push(text);
  }
}
