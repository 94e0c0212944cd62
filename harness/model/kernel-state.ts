/**
 * The kernel as its parts see it: what the ashmem driver (`driver.ts`) and the memfd code
 * (`memfd.ts`) read and change when the kernel calls them. `Kernel` implements it; the parts
 * depend on this interface rather than on the kernel that dispatches to them, so the model's
 * imports run one way (kernel → driver → kernel-state).
 */
import type { Area } from './area.js';
import type { Backing } from './backing.js';
import type { Lru } from './lru.js';
import type { Mapping } from './mapping.js';
import type { Environment, Features } from './profile.js';
import type { Range } from './range.js';

/** A process: its handles (null once closed) and mappings (null once unmapped or failed). */
export interface Proc {
  readonly fds: Map<string, Area | null>;
  /**
   * Open fds no handle names any more: `open` or `dup` over a live handle leaves the old fd open
   * (the probe never closes what the script did not close), so its area lives until the process exits.
   */
  readonly unnamed: Area[];
  readonly maps: Map<string, Mapping | null>;
  readImpliesExec: boolean;
  /** `drop_cap sys_admin` ran in this process (or its parent before the fork): no CAP_SYS_ADMIN even as root. */
  noSysAdmin: boolean;
}

/** The process holds CAP_SYS_ADMIN in the initial namespace: root that has not dropped it (§3.7). */
export function hasSysAdmin(env: { readonly root: boolean }, proc: Proc): boolean {
  return env.root && !proc.noSysAdmin;
}

/** The kernel state and services a driver entry point may use. */
export interface KernelState {
  readonly features: Features;
  readonly env: Environment;
  /** The one global LRU of unpinned ranges (§4.5). */
  readonly lru: Lru<Range>;
  readonly areas: Map<number, Area>;
  readonly procs: Map<string, Proc>;
  /** The next inode number a new backing file gets. */
  nextIno: number;
  /** PAGE_ALIGN in the kernel's size_t. */
  pageAlign(x: bigint): bigint;
  /** Marks the `k` oldest LRU ranges purged and punches their holes (§5.1). */
  purge(k: number): void;
  /** True when some process has a writable shared mapping of this file (memfd WRITE seal). */
  hasWritableSharedMapping(b: Backing): boolean;
}
