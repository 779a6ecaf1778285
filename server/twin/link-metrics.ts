/**
 * The metrics a twin session reports about its robot cell link, as a port: the session
 * knows nothing of Prometheus or of server/http (ServerMetrics implements it).
 */
export interface RobotLinkMetrics {
  /**
   * The link of room `room`: `up` when motion may be commanded (connected or simulated),
   * and the age of its newest joint state, s.
   */
  observe(room: string, up: boolean, jointStateAgeS: number): void;
  /** The room is gone: drop its series. */
  remove(room: string): void;
}

/** What the twin domain records (plans and the link); ServerMetrics implements it. */
export interface TwinMetrics {
  /** Planning time by outcome (`ok`, `failed`), s. */
  readonly planSeconds: { observe(labels: { outcome: string }, seconds: number): void };
  /** Plans by final status. */
  readonly plans: { inc(labels: { status: string }): void };
  readonly robotLink: RobotLinkMetrics;
}
