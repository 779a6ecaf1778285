/**
 * One arm, one owner: a physical cell is commanded by one twin session at a time. Every
 * session linked to the cell holds a {@link CellLease}; the one that holds the lease owns the
 * arm (jogs it, executes plans on it), the others see it read-only and their commands that
 * would move it are refused with the owner named. The lease lives in a {@link LeaseStore}:
 * in memory for one process, or in the Colyseus presence (Redis) shared by every process
 * when the server is scaled out, so two processes linked to the same rosbridge never both
 * send goals to one arm.
 *
 * A lease is a key with an expiry, renewed every third of its lifetime by its holder; when
 * the holder's process dies the key expires and another session takes the arm over (its
 * sessions retry on the same period). A session that closes releases it at once.
 */
import { hostname } from "node:os";
import type { Logger } from "pino";

/** Who owns a cell: enough to name them in a refusal. */
export interface CellOwner {
  /** Unique per session (process + room). */
  id: string;
  roomId: string;
  /** `host:pid` of the owning server process. */
  process: string;
}

/** Where leases live; every call has its own bounded wait. */
export interface LeaseStore {
  /**
   * Takes `key` for `holder` when nobody holds it (atomically), or renews it when `holder`
   * already does. @returns the holder after the attempt (null: unknown for a moment)
   */
  claim(key: string, holder: string, ttlMs: number): Promise<string | null>;
  /** Gives `key` up if `holder` holds it. */
  release(key: string, holder: string): Promise<void>;
}

/** Leases of one process (no scale-out). */
export class MemoryLeaseStore implements LeaseStore {
  readonly #leases = new Map<string, { holder: string; untilMs: number }>();
  constructor(private readonly now: () => number = Date.now) {}

  async claim(key: string, holder: string, ttlMs: number): Promise<string | null> {
    const now = this.now();
    const l = this.#leases.get(key);
    if (!l || l.untilMs <= now || l.holder === holder) {
      this.#leases.set(key, { holder, untilMs: now + ttlMs });
      return holder;
    }
    return l.holder;
  }

  async release(key: string, holder: string): Promise<void> {
    if (this.#leases.get(key)?.holder === holder) this.#leases.delete(key);
  }
}

/** The part of Colyseus's `Presence` a lease needs (RedisPresence shares it across processes). */
export interface LeasePresence {
  exists(key: string): Promise<boolean>;
  get(key: string): unknown;
  setex(key: string, value: string, seconds: number): unknown;
  expire(key: string, seconds: number): unknown;
  /** Colyseus types it `void`; RedisPresence returns a promise (awaited either way). */
  del(key: string): unknown;
  hincrbyex(key: string, field: string, value: number, expireInSeconds: number): Promise<number>;
}

/**
 * Leases in the Colyseus presence. The presence has no SET NX, so taking a free lease is an
 * atomic increment with expiry (`hincrbyex` runs HINCRBY + EXPIRE in one MULTI): whoever
 * makes the counter 1 took it and writes its name beside it. Contenders look before they
 * increment, so they never keep a dead holder's lease alive.
 */
export class PresenceLeaseStore implements LeaseStore {
  constructor(
    private readonly presence: LeasePresence,
    private readonly timeoutMs = 2000,
  ) {}

  async claim(key: string, holder: string, ttlMs: number): Promise<string | null> {
    const ttlS = Math.max(1, Math.ceil(ttlMs / 1000));
    const lock = `${key}:lock`;
    const name = `${key}:holder`;
    if (await this.#t(this.presence.exists(lock))) {
      const current = await this.#holder(name);
      if (current !== holder) return current;
      await this.#t(Promise.resolve(this.presence.expire(lock, ttlS)));
      await this.#t(Promise.resolve(this.presence.setex(name, holder, ttlS)));
      return holder;
    }
    const n = await this.#t(this.presence.hincrbyex(lock, "claims", 1, ttlS));
    if (n === 1) {
      await this.#t(Promise.resolve(this.presence.setex(name, holder, ttlS)));
      return holder;
    }
    return this.#holder(name);
  }

  async release(key: string, holder: string): Promise<void> {
    if ((await this.#holder(`${key}:holder`)) !== holder) return;
    await this.#t(Promise.resolve(this.presence.del(`${key}:holder`)));
    await this.#t(Promise.resolve(this.presence.del(`${key}:lock`)));
  }

  async #holder(name: string): Promise<string | null> {
    const v = await this.#t(Promise.resolve(this.presence.get(name)));
    return typeof v === "string" ? v : null;
  }

  #t<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`presence did not answer within ${this.timeoutMs} ms`)),
          this.timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  }
}

/** This process, as owners are named. */
export const PROCESS_LABEL = `${hostname()}:${process.pid}`;

/** One session's lease on one cell. */
export class CellLease {
  readonly cellId: string;
  readonly me: CellOwner;
  #owner: CellOwner | null = null;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #inFlight: Promise<void> | null = null;
  readonly #listeners: ((owner: CellOwner | null, mine: boolean) => void)[] = [];

  constructor(
    private readonly o: {
      store: LeaseStore;
      cellId: string;
      roomId: string;
      ttlMs: number;
      logger: Logger;
    },
  ) {
    this.cellId = o.cellId;
    this.me = { id: `${PROCESS_LABEL}/${o.roomId}`, roomId: o.roomId, process: PROCESS_LABEL };
  }

  /** Claims at once (resolves after the first answer), then keeps renewing or retrying. */
  async start(): Promise<void> {
    await this.refresh();
    if (this.#closed || this.#timer) return;
    this.#timer = setInterval(() => void this.refresh(), Math.max(100, this.o.ttlMs / 3));
    this.#timer.unref();
  }

  /** True while this session owns the cell. */
  isMine(): boolean {
    return this.#owner?.id === this.me.id;
  }

  /** The owner as last seen (null: nobody, or not known yet). */
  owner(): CellOwner | null {
    return this.#owner;
  }

  /** Ownership changes: `mine` says whether this session owns the cell now. */
  onChange(listener: (owner: CellOwner | null, mine: boolean) => void): void {
    this.#listeners.push(listener);
  }

  /** Claims or renews once. */
  refresh(): Promise<void> {
    this.#inFlight ??= this.#refresh().finally(() => (this.#inFlight = null));
    return this.#inFlight;
  }

  async #refresh(): Promise<void> {
    if (this.#closed) return;
    let next: CellOwner | null;
    try {
      const holder = await this.o.store.claim(this.#key(), JSON.stringify(this.me), this.o.ttlMs);
      next = holder === null ? null : parseOwner(holder);
    } catch (err) {
      // Without an answer nobody can be sure to own the arm: this session stops commanding.
      this.o.logger.warn({ err, cell: this.cellId }, "cell lease: store did not answer");
      next = null;
    }
    if (this.#closed) return;
    const before = this.#owner;
    this.#owner = next;
    if (before?.id !== next?.id) {
      const mine = this.isMine();
      this.o.logger.info({ cell: this.cellId, owner: next, mine }, "cell ownership changed");
      for (const l of this.#listeners) l(next, mine);
    }
  }

  /** Stops renewing and gives the cell up if this session owns it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#inFlight?.catch(() => undefined);
    try {
      await this.o.store.release(this.#key(), JSON.stringify(this.me));
    } catch (err) {
      this.o.logger.warn({ err, cell: this.cellId }, "cell lease: release failed (it expires)");
    }
  }

  #key(): string {
    return `agenttwin:cell-owner:${this.cellId}`;
  }
}

function parseOwner(text: string): CellOwner | null {
  try {
    const v = JSON.parse(text) as Partial<CellOwner>;
    if (typeof v.id === "string" && typeof v.roomId === "string" && typeof v.process === "string")
      return { id: v.id, roomId: v.roomId, process: v.process };
  } catch {
    // not ours
  }
  return null;
}

/** The refusal text for a session that sees the arm read-only. */
export function ownerRefusal(lease: CellLease): string | null {
  if (lease.isMine()) return null;
  const o = lease.owner();
  if (!o)
    return `the arm of cell ${lease.cellId} has no confirmed owner right now; this room sees it read-only until it takes the arm over`;
  const where = o.process === lease.me.process ? "" : ` on server ${o.process}`;
  return `the arm of cell ${lease.cellId} is owned by room ${o.roomId}${where}; this room sees it read-only`;
}
