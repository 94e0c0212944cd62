/**
 * `--profile auto`: picks the lineage from what the target is and how it answers a few
 * fingerprint ops (design.md), and says why.
 */
import { parseScript } from '../ops/parse.js';
import type { OpResult } from '../ops/result.js';
import type { Target, TargetFacts } from '../targets/target.js';
import { kernelVersion } from './environment.js';

/** The fingerprint: each line separates lineages by one spec fact. */
export const FINGERPRINT = `# unknown command of the ashmem type: ENOTTY in C, EINVAL in Rust (§1.4)
open r0
ioctl r0 0x7763 0
# before any mmap: EINVAL first before 2019, EFAULT first after (§3.6); stub pinning answers 1
status_null r0
# GET_FILE_ID exists only in the ACK (§3.8): EINVAL before mmap there, ENOTTY/EINVAL elsewhere
file_id r0
set_size r0 4096
# the 2018 mmap length check (§3.5): EINVAL with it, success without
mmap m0 r0 8192 1 shared 0
close r0
`;

/** The chosen profile and the reasons, one per fact used. */
export interface ProfileChoice {
  readonly profile: string;
  readonly reasons: readonly string[];
}

function outcome(r: OpResult | undefined): string {
  if (r === undefined) return 'missing';
  return r.errno ?? r.signal ?? r.error ?? `ret ${r.ret ?? '?'}`;
}

/** Decides from facts and fingerprint results (pure: tested without a device). */
export function chooseProfile(facts: TargetFacts, results: readonly OpResult[], emulated = false): ProfileChoice {
  const at = (line: number): OpResult | undefined => results.find((r) => r.i === line);
  const unknown = outcome(at(3));
  const statusNull = outcome(at(5));
  const fileId = outcome(at(7));
  const mmap = outcome(at(10));
  const h = facts.hello;
  const reasons: string[] = [`kernel ${h.kernel}, probe backend ${h.backend}${h.node !== undefined ? ` (${h.node})` : ''}, ${h.bits}-bit probe`];
  if (emulated && statusNull === 'ENOSYS') {
    // qemu-user refused the ioctl itself: nothing about the kernel's driver can be learnt.
    reasons.push('ioctls answer ENOSYS under qemu-user: the lineage is chosen from the backend alone');
    return { profile: h.backend === 'memfd' ? 'linux-memfd' : 'c-final', reasons };
  }
  if (h.backend === 'memfd') {
    if (statusNull === 'ENOTTY') {
      reasons.push('ashmem ioctls on a memfd answer ENOTTY: no memfd shim');
      return { profile: 'linux-memfd', reasons };
    }
    reasons.push(`GET_PIN_STATUS on a memfd answered ${statusNull}: the kernel's memfd shim`);
    return { profile: 'ack-memfd-shim', reasons };
  }
  if (unknown === 'EINVAL') {
    reasons.push('unknown ashmem ioctl gives EINVAL: the Rust driver (§1.4)');
    if (statusNull === 'ret 1') {
      reasons.push('GET_PIN_STATUS(NULL) answered IS_PINNED: pinning is stubbed out (§6)');
      return { profile: 'ack-rust-stub', reasons };
    }
    return { profile: 'ack-rust', reasons };
  }
  reasons.push(`unknown ashmem ioctl gives ${unknown}: a C driver`);
  if (fileId === 'EINVAL') {
    reasons.push('GET_FILE_ID before mmap gives EINVAL: the ACK C driver (§3.8)');
    return { profile: 'ack-c', reasons };
  }
  if (h.bits === 32) reasons.push('note: a 32-bit probe cannot see GET_FILE_ID on a 64-bit ACK kernel (not translated, §1.3); use the 64-bit probe to tell ack-c from c-final');
  if (statusNull === 'EFAULT') {
    reasons.push('GET_PIN_STATUS(NULL) before mmap gives EFAULT: the 2019 check order (§3.6)');
    return { profile: 'c-final', reasons };
  }
  reasons.push(`GET_PIN_STATUS(NULL) before mmap gives ${statusNull}: the pre-2019 check order (§3.6)`);
  if (mmap === 'EINVAL') {
    reasons.push('mmap longer than the region is refused: the 2018 length check (§3.5)');
    return { profile: 'c-4.x', reasons };
  }
  const [major, minor] = kernelVersion(h.kernel);
  const v = major * 1000 + minor;
  reasons.push(`mmap longer than the region is accepted: no 2018 length check; kernel ${major}.${minor}`);
  if (v < 3012) return { profile: 'c-3.0', reasons: [...reasons, 'kernel before 3.12: unsigned page-unit shrinker (§5.2)'] };
  if (v < 3019) return { profile: 'c-3.12', reasons: [...reasons, 'kernel 3.12-3.18 (§6)'] };
  return { profile: 'c-pre2019', reasons };
}

/** Runs the fingerprint on a target and chooses. */
export async function detectProfile(target: Target, emulated = false): Promise<ProfileChoice> {
  parseScript(FINGERPRINT); // the fingerprint itself must stay valid
  const facts = await target.facts();
  const outcome = await target.exec(FINGERPRINT);
  return chooseProfile(facts, outcome.results, emulated);
}
