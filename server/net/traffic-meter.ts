/**
 * Meters the server's own flows in fixed windows: every sent (or received) frame is
 * recorded with its flow class, size and time; each flow (a class and a flow id, e.g. the
 * class and a client's session id) keeps a bounded ring of closed windows as
 * {@link FlowWindow}s, the same features the traffic agent models. Pure bookkeeping, no
 * timers: windows close when a later record arrives or when they are read.
 *
 * Windows are aligned to the clock (window i covers [i·w, (i+1)·w) ms), so windows of
 * different flows with the same index cover the same time and add up to the aggregate.
 */
import type { FlowClass, FlowWindow } from "./contracts.ts";
import { windowOf } from "./flow-window.ts";

/** Options of a {@link TrafficMeter}. */
export interface TrafficMeterOptions {
  /** Window length, s (default 1). */
  readonly windowS?: number;
  /** Closed windows kept per flow (default 120; older ones are dropped). */
  readonly history?: number;
  /** Flows kept at most (default 1024; the longest-silent flow is evicted beyond). */
  readonly maxFlows?: number;
  /** Clock for reads, ms (default `Date.now`); records carry their own time. */
  readonly now?: () => number;
}

/** An argument outside what the meter accepts. */
export class TrafficMeterError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TrafficMeterError";
  }
}

/** Aggregate throughput over the windows the meter holds. */
export interface AggregateThroughput {
  /** Closed window slots considered. */
  readonly windows: number;
  /** Mean over window slots of the summed throughput, bit/s. */
  readonly meanBps: number;
  /** 95th percentile over window slots of the summed throughput, bit/s. */
  readonly p95Bps: number;
  /** Latest closed slot's summed throughput, bit/s. */
  readonly lastBps: number;
}

class FlowRing {
  /** Index of the open window, or -1 before the first record. */
  open = -1;
  openBytes = 0;
  openPackets = 0;
  lastRecordMs = 0;
  readonly index: Float64Array;
  readonly bytes: Float64Array;
  readonly packets: Float64Array;
  /** Closed windows held, ≤ capacity; `head` is where the next one goes. */
  count = 0;
  head = 0;
  /** Windows ever closed; per reader, how many of them {@link TrafficMeter.takeWindows} returned. */
  pushed = 0;
  readonly taken = new Map<string, number>();

  constructor(
    readonly flowClass: FlowClass,
    readonly flowId: string,
    readonly capacity: number,
  ) {
    this.index = new Float64Array(capacity);
    this.bytes = new Float64Array(capacity);
    this.packets = new Float64Array(capacity);
  }

  push(index: number, bytes: number, packets: number): void {
    this.index[this.head] = index;
    this.bytes[this.head] = bytes;
    this.packets[this.head] = packets;
    this.head = (this.head + 1) % this.capacity;
    this.count = Math.min(this.capacity, this.count + 1);
    this.pushed++;
  }

  /** Closes windows before `index` (empty ones included, at most `capacity`). */
  closeBefore(index: number): void {
    if (this.open < 0 || index <= this.open) return;
    this.push(this.open, this.openBytes, this.openPackets);
    const firstEmpty = Math.max(this.open + 1, index - this.capacity);
    for (let i = firstEmpty; i < index; i++) this.push(i, 0, 0);
    this.open = index;
    this.openBytes = 0;
    this.openPackets = 0;
  }

  /** Closed windows, oldest first: [index, bytes, packets]; the newest `last` only. */
  *closed(last = this.count): Generator<[number, number, number]> {
    const n = Math.min(last, this.count);
    const start = (this.head - n + this.capacity) % this.capacity;
    for (let k = 0; k < n; k++) {
      const i = (start + k) % this.capacity;
      yield [this.index[i] as number, this.bytes[i] as number, this.packets[i] as number];
    }
  }
}

/** Per-flow windowed traffic of the server. */
export class TrafficMeter {
  /** Window length, s. */
  readonly windowS: number;
  readonly #windowMs: number;
  readonly #history: number;
  readonly #maxFlows: number;
  readonly #now: () => number;
  readonly #flows = new Map<string, FlowRing>();

  constructor(options: TrafficMeterOptions = {}) {
    this.windowS = options.windowS ?? 1;
    if (!(this.windowS > 0))
      throw new TrafficMeterError(`windowS must be > 0, got ${this.windowS}`);
    this.#windowMs = this.windowS * 1000;
    this.#history = Math.max(1, Math.floor(options.history ?? 120));
    this.#maxFlows = Math.max(1, Math.floor(options.maxFlows ?? 1024));
    this.#now = options.now ?? Date.now;
  }

  /**
   * Records one frame/message/packet of `bytes` bytes sent at `atMs` (ms, the meter's clock,
   * e.g. `Date.now()`) on flow `flowId` of `flowClass`. A record older than the flow's open
   * window counts in the open window.
   * @throws TrafficMeterError for a negative or non-finite size or time
   */
  record(flowClass: FlowClass, bytes: number, atMs: number, flowId = ""): void {
    if (!(bytes >= 0) || !Number.isFinite(bytes) || !Number.isFinite(atMs))
      throw new TrafficMeterError(`bad record: ${bytes} bytes at ${atMs} ms`);
    const key = `${flowClass}\u0000${flowId}`;
    let ring = this.#flows.get(key);
    if (!ring) {
      if (this.#flows.size >= this.#maxFlows) this.#evict();
      ring = new FlowRing(flowClass, flowId, this.#history);
      this.#flows.set(key, ring);
    }
    const index = Math.floor(atMs / this.#windowMs);
    if (ring.open < 0) ring.open = index;
    else ring.closeBefore(index);
    ring.openBytes += bytes;
    ring.openPackets += 1;
    ring.lastRecordMs = Math.max(ring.lastRecordMs, atMs);
  }

  /** Closes every window that ended before `nowMs` (default: the clock). */
  flush(nowMs: number = this.#now()): void {
    const index = Math.floor(nowMs / this.#windowMs);
    for (const ring of this.#flows.values()) ring.closeBefore(index);
  }

  /**
   * Closed windows of a flow class, oldest first: of one flow when `flowId` is given, else
   * of every flow of the class one after another. Flushes to the clock first.
   */
  windows(flowClass: FlowClass, flowId?: string): FlowWindow[] {
    this.flush();
    const out: FlowWindow[] = [];
    for (const ring of this.#flows.values()) {
      if (ring.flowClass !== flowClass || (flowId !== undefined && ring.flowId !== flowId))
        continue;
      for (const [, bytes, packets] of ring.closed())
        out.push(this.#window(flowClass, bytes, packets));
    }
    return out;
  }

  /** Every closed window of every flow (flushes to the clock first). */
  allWindows(): FlowWindow[] {
    this.flush();
    const out: FlowWindow[] = [];
    for (const ring of this.#flows.values())
      for (const [, bytes, packets] of ring.closed())
        out.push(this.#window(ring.flowClass, bytes, packets));
    return out;
  }

  /**
   * Closed windows of every flow that no earlier call by the same `reader` returned, oldest
   * first per flow (flushes to the clock first) — for handing measurements to the traffic
   * agent (the default reader) or to a recording once each; readers do not take from each
   * other.
   */
  takeWindows(reader = ""): FlowWindow[] {
    this.flush();
    const out: FlowWindow[] = [];
    for (const ring of this.#flows.values()) {
      const taken = ring.taken.get(reader) ?? 0;
      for (const [, bytes, packets] of ring.closed(ring.pushed - taken))
        out.push(this.#window(ring.flowClass, bytes, packets));
      ring.taken.set(reader, ring.pushed);
    }
    return out;
  }

  /** The flows being metered. */
  flows(): { flowClass: FlowClass; flowId: string }[] {
    return [...this.#flows.values()].map((r) => ({ flowClass: r.flowClass, flowId: r.flowId }));
  }

  /**
   * Throughput summed over flows (of one class, or all) per closed window slot, over the
   * slots the meter still holds. Flushes to the clock first.
   */
  aggregate(flowClass?: FlowClass): AggregateThroughput {
    this.flush();
    const perSlot = new Map<number, number>();
    let latest = -Infinity;
    let earliest = Infinity;
    for (const ring of this.#flows.values()) {
      if (flowClass !== undefined && ring.flowClass !== flowClass) continue;
      for (const [index, bytes] of ring.closed()) {
        perSlot.set(index, (perSlot.get(index) ?? 0) + bytes);
        latest = Math.max(latest, index);
        earliest = Math.min(earliest, index);
      }
    }
    if (perSlot.size === 0) return { windows: 0, meanBps: 0, p95Bps: 0, lastBps: 0 };
    // The last `history` slots up to the latest; a slot no flow sent in counts as zero.
    const first = Math.max(earliest, latest - this.#history + 1);
    const values: number[] = [];
    for (let i = first; i <= latest; i++) values.push(((perSlot.get(i) ?? 0) * 8) / this.windowS);
    const sorted = [...values].sort((a, b) => a - b);
    const pos = 0.95 * (sorted.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(sorted.length - 1, lo + 1);
    return {
      windows: values.length,
      meanBps: values.reduce((a, b) => a + b, 0) / values.length,
      p95Bps:
        (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo),
      lastBps: ((perSlot.get(latest) ?? 0) * 8) / this.windowS,
    };
  }

  /** Forgets a flow (e.g. when its client leaves); all classes when `flowClass` is omitted. */
  removeFlow(flowId: string, flowClass?: FlowClass): void {
    for (const [key, ring] of this.#flows)
      if (ring.flowId === flowId && (flowClass === undefined || ring.flowClass === flowClass))
        this.#flows.delete(key);
  }

  #window(flowClass: FlowClass, bytes: number, packets: number): FlowWindow {
    return windowOf(flowClass, bytes, packets, this.windowS);
  }

  #evict(): void {
    let oldestKey: string | undefined;
    let oldest = Infinity;
    for (const [key, ring] of this.#flows)
      if (ring.lastRecordMs < oldest) [oldest, oldestKey] = [ring.lastRecordMs, key];
    if (oldestKey !== undefined) this.#flows.delete(oldestKey);
  }
}
