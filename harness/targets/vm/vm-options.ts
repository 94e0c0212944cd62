/**
 * How vm targets boot: the `--vm-*` flags.
 */
import type { Accel } from './guest.js';
import type { Progress } from './debian-kernel.js';

/** Options of a vm target (the `--vm-*` flags). */
export interface VmOptions {
  /** The vm cache folder (`--vm-cache`). */
  readonly cache?: string;
  /** A kernel image of the user's (`--vm-kernel`). */
  readonly kernel?: string;
  /** Modules for that kernel, loaded in order (`--vm-module`, repeatable). */
  readonly modules?: readonly string[];
  /** A local kernel package (`--vm-kernel-deb`). */
  readonly kernelDeb?: string;
  /** `auto` (KVM when it really boots the guest, else TCG), `kvm` or `tcg` (`--vm-accel`). */
  readonly accel?: 'auto' | Accel;
  /** Guest memory in MiB (default 512). */
  readonly memoryMiB?: number;
  /** Look up the newest Debian kernel again even when one is cached. */
  readonly refresh?: boolean;
  /** Boot cold every time instead of restoring the fresh-boot snapshot (default false; the bench's cold figure). */
  readonly coldBoots?: boolean;
  /** Progress lines (first-use downloads, boots). */
  readonly progress?: Progress;
  /** Repository root holding the probe builds. */
  readonly root?: string;
}

/** Default guest memory, as small as an old device's and enough for the probe's cases. */
export const DEFAULT_VM_MEMORY_MIB = 512;
