/**
 * What the model predicts for the Java layer, and how the specs compare it with the device.
 * {@link predictJava} runs the model's Java layer (harness/model/java.ts: MemoryFile before API
 * 27 and from 27, SharedMemory, on libcutils and the kernel model) over the scenario's steps.
 * A field the model leaves out (an exception message the spec does not fix) is not compared.
 */
import { Device } from '../../harness/model/device.js';
import { DEFAULT_ENVIRONMENT, profileById } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { OpResult } from '../../harness/ops/result.js';

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

/**
 * Predicts every op line of a scenario, step by step (one array per script step).
 * @param steps - scripts and purges, in order, on one app process
 * @param facts - the device's level and memfd mode
 */
export function predictJava(steps: readonly JavaStep[], facts: JavaFacts): Prediction[][] {
  // The kernel under the Java layer: ashmem, or libcutils' memfd mode with the shim (§7.1).
  const profile = profileById(facts.useMemfd ? 'libcutils-memfd' : 'ack-c');
  const model = Device.create(profile.features, { ...DEFAULT_ENVIRONMENT, apiLevel: facts.sdk });
  const out: Prediction[][] = [];
  // Handles outlive a step (the Activity keeps its objects), so each script is parsed after the
  // earlier ones, for the grammar's "defined before use" check, and its own lines are kept.
  let earlier = '';
  for (const step of steps) {
    if ('purge' in step) {
      if (step.purge === 'all') model.purge(model.kernel.lru.length);
      continue;
    }
    const offset = earlier === '' ? 0 : earlier.split('\n').length;
    const ops = parseScript(earlier === '' ? step.script : `${earlier}\n${step.script}`).ops.filter((op) => op.line > offset);
    earlier = earlier === '' ? step.script : `${earlier}\n${step.script}`;
    out.push(ops.map((op): Prediction => {
      if (!/^(mf|sm|buf|app)_/.test(op.kind)) throw new Error(`${op.kind} is not a Java-layer op`);
      const line = op.line - offset;
      const r = model.apply({ ...op, line });
      return r.error === 'unmodelled' ? { i: line, op: op.kind, unpredicted: true } : r;
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
