/**
 * KVM or TCG for a guest: KVM only where the host's /dev/kvm is usable for the guest's
 * architecture and really boots it (tried once per host boot, the verdict kept in the cache).
 */
import fs from 'node:fs';

/** Whether this host's KVM can run a guest of `arch` at all (before trying it). */
export function kvmCandidate(arch: string): string | undefined {
  const same = (arch === 'x86_64' && process.arch === 'x64') || (arch === 'arm64' && process.arch === 'arm64');
  if (!same) return `no KVM for a ${arch} guest on a ${process.arch} host`;
  try {
    fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    return '/dev/kvm is absent or not usable by this user';
  }
  return undefined;
}

/** This host's boot id: a KVM verdict holds until the host reboots. */
export function hostBootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}
