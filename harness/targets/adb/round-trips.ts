/**
 * Counts device round trips: every service the target opens on the device (a `shell:`, a
 * `sync:`, a `tcp:` connection for the agent). Host-only queries (device lists, state) are
 * counted apart because they never reach the device. The bench reports
 * `R round trips/case` from these counts.
 */

/** Service kinds that reach the device. */
export type DeviceServiceKind = 'shell' | 'sync' | 'tcp' | 'root';

/** A snapshot of the counts. */
export interface RoundTripCounts {
  readonly shell: number;
  readonly sync: number;
  readonly tcp: number;
  readonly root: number;
  /** Host queries (not device round trips). */
  readonly host: number;
  /** Device round trips: shell + sync + tcp + root. */
  readonly device: number;
}

/** A mutable counter, one per target. */
export class RoundTripCounter {
  private readonly counts = { shell: 0, sync: 0, tcp: 0, root: 0, host: 0 };

  /** Records one service opened on the device. */
  device(kind: DeviceServiceKind): void {
    this.counts[kind] += 1;
  }

  /** Records one host query. */
  host(): void {
    this.counts.host += 1;
  }

  /** The counts so far. */
  snapshot(): RoundTripCounts {
    const c = this.counts;
    return { ...c, device: c.shell + c.sync + c.tcp + c.root };
  }
}

/** Device round trips between two snapshots: what a stretch of work cost. */
export function roundTripsBetween(before: RoundTripCounts, after: RoundTripCounts): number {
  return after.device - before.device;
}
