/**
 * A device as a script sees it: the kernel model, and above it the app's Java objects. Ops of
 * the native probe go to the kernel; ops of the Java layer run in `java.ts`, which reaches the
 * kernel through libcutils as the framework does on a device (§7, §8). The possible worlds of
 * the judge are devices.
 */
import type { JavaOp, KernelOp, Op } from '../ops/ast.js';
import type { OpResult } from '../ops/result.js';
import { JAVA_KINDS } from '../ops/signatures.js';
import { resultOf } from './answer.js';
import { javaOp, JavaState, javaVariants } from './java.js';
import { Kernel } from './kernel.js';
import { DEFAULT_ENVIRONMENT, type Environment, type Features } from './profile.js';
import { admissiblePurges, type ShrinkerModel } from './shrinker.js';
import { stateKey } from './state-key.js';

/** The kernel and the app's objects above it. */
export class Device {
  /**
   * @param kernel - the kernel below
   * @param java - the app's Java objects, for scripts of the Java layer
   */
  constructor(
    readonly kernel: Kernel,
    readonly java: JavaState = new JavaState(),
  ) {}

  /** A fresh device: an empty kernel, no app objects. */
  static create(features: Features, env: Environment = DEFAULT_ENVIRONMENT): Device {
    return new Device(new Kernel(features, env));
  }

  get features(): Features {
    return this.kernel.features;
  }

  get env(): Environment {
    return this.kernel.env;
  }

  /**
   * For an op whose outcome the kernel does not fix, the admissible choices (prefix lengths of
   * the LRU that it may purge); undefined for a deterministic op. While the app waits, the
   * harness may purge as memory pressure would.
   */
  choices(op: Op, contended = false, shrinker: ShrinkerModel = 'any-prefix'): number[] | undefined {
    if (op.kind === 'app_wait') return admissiblePurges(this.kernel.features, this.kernel.lruPages(), shrinker);
    if (JAVA_KINDS.has(op.kind)) return undefined;
    return this.kernel.choices(op, contended, shrinker);
  }

  /**
   * How many outcomes the op admits besides purge choices (see {@link Kernel.variants}); a Java
   * op has two when the mmap it makes may be refused ({@link javaVariants}), else one.
   */
  variants(op: Op): number {
    return JAVA_KINDS.has(op.kind) ? javaVariants(this.kernel, this.java, op as JavaOp, this.kernel.env.apiLevel) : this.kernel.variants(op);
  }

  /**
   * Runs one op.
   * @param choice - for ops with {@link choices}, which admissible choice happened
   * @param variant - for ops with several {@link variants}, which one happened
   */
  apply(op: Op, choice?: number, variant = 0): OpResult {
    if (!JAVA_KINDS.has(op.kind)) return this.kernel.apply(op as KernelOp, choice, variant);
    const answer = javaOp(this.kernel, this.java, op as JavaOp, this.kernel.env.apiLevel, variant);
    if (op.kind === 'app_wait') {
      // The harness may purge while the app waits, by reclaim the model does not follow.
      this.kernel.purge(choice ?? 0);
      this.kernel.shrinkerDeferred = undefined;
    }
    return resultOf(op, answer);
  }

  /** Marks the `k` oldest LRU ranges purged (§5.1). */
  purge(k: number): void {
    this.kernel.purge(k);
  }

  /** How many LRU ranges a choice of {@link choices} purges, in this state. */
  purgedBy(choice: number): number {
    return this.kernel.purgedBy(choice);
  }

  /** Page counts of the LRU ranges, oldest first. */
  lruPages(): number[] {
    return this.kernel.lruPages();
  }

  /**
   * The state's fingerprint (see {@link stateKey}).
   * @param zeroIsHole - treat an allocated zero page as a hole
   */
  key(zeroIsHole = false): string {
    return stateKey(this.kernel, zeroIsHole, this.java.key());
  }

  /** A deep copy: another possible world. */
  clone(): Device {
    return new Device(this.kernel.clone(), this.java.clone());
  }
}
