/**
 * What the model predicts for the Java layer, and how the specs compare it with the device.
 *
 * harness/model/ has no MemoryFile / SharedMemory layer yet (only the kernel). Until it has,
 * {@link predictJava} runs the small stand-in below, which follows ashmem-semantics.md §8
 * (MemoryFile before API 27 and from 27, SharedMemory) for what §8 states exactly and predicts
 * nothing (`undefined`) elsewhere. When the model's Java layer lands, only predictJava changes:
 * the specs call nothing else.
 */
import type { JavaOp } from '../../harness/ops/ast.js';
import { parseScript } from '../../harness/ops/parse.js';
import { toRuns, type OpResult } from '../../harness/ops/result.js';

/** One step of a scenario: a script run (a press of Run, one `am instrument`) or a purge from outside. */
export type JavaStep =
  | { readonly script: string }
  /** Every unpinned ashmem range of the device is purged (ASHMEM_PURGE_ALL_CACHES). */
  | { readonly purge: 'all' }
  /** A purge that may have purged nothing at all (drop_caches on a small LRU): no change predicted. */
  | { readonly purge: 'none' };

/** The device facts a prediction depends on. */
export interface JavaFacts {
  readonly sdk: number;
  /** libcutils memfd mode: pins always report "not purged", nothing is ever purged (§7.1, §8.2). */
  readonly useMemfd: boolean;
}

/**
 * A prediction for one op line: the fields given must match; a field left out (typically
 * `message` where §8 does not state it) is not compared.
 */
export type Expected = Partial<OpResult> & { readonly i: number; readonly op: string };
/** A line the model does not predict (reported, never compared). */
export interface Unpredicted { readonly i: number; readonly op: string; readonly unpredicted: true }
/** The model's word on one op line. */
export type Prediction = Expected | Unpredicted;

/** True for a line the model does not predict. */
export function isUnpredicted(p: Prediction | undefined): p is Unpredicted {
  return p !== undefined && 'unpredicted' in p;
}

const PURGED_OLD = 'ashmem region was purged';
const PURGED_NEW = 'MemoryFile has been purged';
const IO = 'java.io.IOException';
const IAE = 'java.lang.IllegalArgumentException';
const ISE = 'java.lang.IllegalStateException';

interface MemoryFileState {
  readonly data: Uint8Array;
  allowPurging: boolean;
  /** The whole region is unpinned (allowPurging(true) and not inside an access). */
  unpinned: boolean;
  purged: boolean;
  closed: boolean;
}

interface SharedMemoryState { readonly data: Uint8Array; mask: number; closed: boolean }
interface BufferState { readonly sm: SharedMemoryState; readonly offset: number; readonly length: number; readonly writable: boolean; unmapped: boolean }

/** The stand-in: the Java layer of §8 over an app's MemoryFiles and SharedMemorys. */
class StandIn {
  private readonly files = new Map<string, MemoryFileState | undefined>();
  private readonly memories = new Map<string, SharedMemoryState | undefined>();
  private readonly buffers = new Map<string, BufferState | undefined>();
  constructor(private readonly facts: JavaFacts) {}

  private get modern(): boolean { return this.facts.sdk >= 27; }

  purgeAll(): void {
    if (this.facts.useMemfd) return;
    for (const f of this.files.values()) {
      if (f !== undefined && !f.closed && f.unpinned && !f.purged) { f.purged = true; f.data.fill(0); }
    }
  }

  run(op: JavaOp): Expected | undefined {
    const at = { i: op.line, op: op.kind };
    const ret = (v: number | boolean): Expected => ({ ...at, ret: typeof v === 'boolean' ? (v ? 1 : 0) : v });
    const thrown = (exception: string, message?: string): Expected => (message === undefined ? { ...at, exception } : { ...at, exception, message });
    const unsupported = (): Expected => ({ ...at, error: 'unsupported' });
    if (/^(sm|buf)_/.test(op.kind) && !this.modern) return unsupported();
    switch (op.kind) {
      case 'mf_create': {
        if (op.length <= 0) {
          this.files.set(op.f, undefined);
          return this.modern ? thrown(IAE, 'Size must be greater than zero') : undefined;
        }
        this.files.set(op.f, { data: new Uint8Array(op.length), allowPurging: false, unpinned: false, purged: false, closed: false });
        return ret(0);
      }
      case 'mf_allow_purging': {
        const f = this.files.get(op.f);
        if (f === undefined) return { ...at, error: 'state' };
        if (f.closed) return this.modern ? undefined : thrown(IO);
        const old = f.allowPurging;
        if (op.allow !== old) {
          f.allowPurging = op.allow;
          // allowPurging(false) pins the whole region and silently discards a purge (§8.1, §8.2).
          if (op.allow) f.unpinned = true; else { f.unpinned = false; f.purged = false; }
        }
        return ret(old);
      }
      case 'mf_is_purging_allowed': {
        const f = this.files.get(op.f);
        return f === undefined ? { ...at, error: 'state' } : ret(f.allowPurging);
      }
      case 'mf_write':
      case 'mf_read': {
        const f = this.files.get(op.f);
        if (f === undefined) return { ...at, error: 'state' };
        const write = op.kind === 'mf_write';
        if (f.closed) {
          return this.modern ? thrown(IO, 'MemoryFile has been deactivated')
            : thrown(IO, write ? "Can't write to deactivated memory file." : "Can't read from deactivated memory file.");
        }
        const fileOffset = write ? op.dest : op.src;
        const bufOffset = write ? op.src : op.dest;
        const inBounds = op.buflen >= 0 && op.count >= 0 && fileOffset >= 0 && bufOffset >= 0 &&
          bufOffset + op.count <= op.buflen && fileOffset + op.count <= f.data.length;
        if (!inBounds) return undefined; // the exception differs by level and by which bound (§8.2: nio)
        if (f.allowPurging) {
          if (f.purged) {
            f.purged = false;
            if (this.modern) { f.unpinned = false; return thrown(IO, PURGED_NEW); } // left pinned (§8.2)
            f.unpinned = true; // re-unpinned: a fresh unpinned range (§8.1)
            return thrown(IO, PURGED_OLD);
          }
          f.unpinned = true; // endAccess / the native copy unpins again
        }
        if (write) {
          f.data.fill(op.byte, fileOffset, fileOffset + op.count);
          return ret(0);
        }
        return { ...at, ret: op.count, rle: toRuns(f.data.subarray(fileOffset, fileOffset + op.count)) };
      }
      case 'mf_length': {
        const f = this.files.get(op.f);
        if (f === undefined) return { ...at, error: 'state' };
        return f.closed && this.modern ? undefined : ret(f.data.length);
      }
      case 'mf_close': {
        const f = this.files.get(op.f);
        if (f === undefined) return { ...at, error: 'state' };
        if (f.closed) return undefined;
        f.closed = true;
        return ret(0);
      }
      case 'sm_create': {
        if (op.size <= 0) { this.memories.set(op.s, undefined); return thrown(IAE, 'Size must be greater than zero'); }
        this.memories.set(op.s, { data: new Uint8Array(op.size), mask: 7, closed: false });
        return ret(0);
      }
      case 'sm_get_size': {
        const s = this.memories.get(op.s);
        if (s === undefined) return { ...at, error: 'state' };
        return s.closed ? thrown(ISE) : ret(s.data.length);
      }
      case 'sm_close': {
        const s = this.memories.get(op.s);
        if (s === undefined) return { ...at, error: 'state' };
        s.closed = true; // mappings stay valid (CTS testUseAfterClose)
        return ret(0);
      }
      case 'sm_set_protect': {
        const s = this.memories.get(op.s);
        if (s === undefined) return { ...at, error: 'state' };
        if (s.closed) return thrown(ISE, 'SharedMemory is closed');
        if ((op.prot & ~7) !== 0) return thrown(IAE, 'Invalid prot value');
        if (this.facts.useMemfd) return undefined; // READ/EXEC never removed in memfd mode
        if ((op.prot & ~s.mask) !== 0) return ret(false);
        s.mask = op.prot;
        return ret(true);
      }
      case 'sm_map':
      case 'sm_map_rw':
      case 'sm_map_ro': {
        const s = this.memories.get(op.s);
        this.buffers.set(op.b, undefined);
        if (s === undefined) return { ...at, error: 'state' };
        if (s.closed) return thrown(ISE);
        const [prot, offset, length] = op.kind === 'sm_map' ? [op.prot, op.offset, op.length]
          : [op.kind === 'sm_map_rw' ? 3 : 1, 0, s.data.length];
        if ((prot & ~7) !== 0) return thrown(IAE);
        if (offset < 0) return thrown(IAE, 'Offset must be >= 0');
        if (length <= 0) return thrown(IAE, 'Length must be > 0');
        if (offset + length > s.data.length) return thrown(IAE, 'offset + length must not exceed getSize()');
        if ((prot & ~s.mask) !== 0) return thrown('android.system.ErrnoException'); // EPERM from mmap
        if (offset % 4096 !== 0) return thrown('android.system.ErrnoException'); // EINVAL
        this.buffers.set(op.b, { sm: s, offset, length, writable: (prot & 2) !== 0, unmapped: false });
        return ret(0);
      }
      case 'sm_unmap': {
        const b = this.buffers.get(op.b);
        if (b === undefined) return { ...at, error: 'state' };
        if (b.unmapped) return undefined;
        b.unmapped = true;
        return ret(0);
      }
      case 'buf_put':
      case 'buf_get': {
        const b = this.buffers.get(op.b);
        if (b === undefined) return { ...at, error: 'state' };
        if (b.unmapped) return undefined; // throws, class not stated in §8.3
        if (op.len < 0) return undefined;
        if (op.kind === 'buf_put' && !b.writable) return thrown('java.nio.ReadOnlyBufferException');
        if (op.offset < 0 || op.offset + op.len > b.length) return thrown('java.lang.IndexOutOfBoundsException');
        const from = b.offset + op.offset;
        if (op.kind === 'buf_put') { b.sm.data.fill(op.byte, from, from + op.len); return ret(0); }
        return { ...at, ret: op.len, rle: toRuns(b.sm.data.subarray(from, from + op.len)) };
      }
      case 'app_wait':
        return ret(1);
    }
  }
}

/**
 * Predicts every op line of a scenario, step by step (one array per script step).
 * @param steps - scripts and purges, in order, on one app process
 * @param facts - the device's level and memfd mode
 */
export function predictJava(steps: readonly JavaStep[], facts: JavaFacts): Prediction[][] {
  const model = new StandIn(facts);
  const out: Prediction[][] = [];
  // Handles outlive a step (the Activity keeps its objects), so each script is parsed after the
  // earlier ones, for the grammar's "defined before use" check, and its own lines are kept.
  let earlier = '';
  for (const step of steps) {
    if ('purge' in step) {
      if (step.purge === 'all') model.purgeAll();
      continue;
    }
    const offset = earlier === '' ? 0 : earlier.split('\n').length;
    const ops = parseScript(earlier === '' ? step.script : `${earlier}\n${step.script}`).ops.filter((op) => op.line > offset);
    earlier = earlier === '' ? step.script : `${earlier}\n${step.script}`;
    out.push(ops.map((op): Prediction => {
      if (!/^(mf|sm|buf|app)_/.test(op.kind)) throw new Error(`${op.kind} is not a Java-layer op`);
      const line = op.line - offset;
      const p = model.run({ ...op, line } as JavaOp);
      return p ?? { i: line, op: op.kind, unpredicted: true };
    }));
  }
  return out;
}

/** One line where the device and the model disagree. */
export interface Divergence {
  readonly i: number;
  readonly expected: Prediction | undefined;
  readonly observed: OpResult | undefined;
  readonly why: string;
}

const OUTCOME_KEYS = ['ret', 'errno', 'signal', 'exception', 'error'] as const;

/**
 * Compares observed results with predictions, line by line. A line the model does not predict
 * is not a divergence (it is counted by {@link unpredicted}).
 * @param predicted - the model's lines for one script
 * @param observed - the device's results for the same script
 */
export function diverge(predicted: readonly Prediction[], observed: readonly OpResult[]): Divergence[] {
  const out: Divergence[] = [];
  if (predicted.length !== observed.length) {
    out.push({ i: 0, expected: undefined, observed: undefined, why: `${predicted.length} ops predicted, ${observed.length} results observed` });
  }
  predicted.forEach((p, k) => {
    const o = observed[k];
    if (isUnpredicted(p)) return;
    if (o === undefined) { out.push({ i: p.i, expected: p, observed: o, why: 'no result' }); return; }
    const outcome = OUTCOME_KEYS.find((key) => p[key] !== undefined);
    const seen = OUTCOME_KEYS.find((key) => o[key] !== undefined);
    if (outcome !== seen) { out.push({ i: p.i, expected: p, observed: o, why: `expected ${outcome ?? '?'}, observed ${seen ?? '?'}` }); return; }
    for (const [key, value] of Object.entries(p)) {
      if (JSON.stringify((o as unknown as Record<string, unknown>)[key]) !== JSON.stringify(value)) {
        out.push({ i: p.i, expected: p, observed: o, why: `${key}: expected ${JSON.stringify(value)}, observed ${JSON.stringify((o as unknown as Record<string, unknown>)[key])}` });
        return;
      }
    }
  });
  return out;
}

/** Line numbers the model did not predict (reported by the specs, never silently passed). */
export function unpredicted(predicted: readonly Prediction[]): number[] {
  return predicted.filter(isUnpredicted).map((p) => p.i);
}

/** A readable report of divergences, for assertion messages. */
export function describeDivergences(ds: readonly Divergence[]): string {
  return ds.map((d) => `line ${d.i}: ${d.why}\n  model:  ${JSON.stringify(d.expected)}\n  device: ${JSON.stringify(d.observed)}`).join('\n');
}
