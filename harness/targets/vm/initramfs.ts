/**
 * The guest's initramfs: a gzip'd cpio ("newc") archive holding a static busybox, the probe
 * builds, the modules and an init script. Written here in a few lines rather than with the cpio
 * tool, so the host needs nothing for it.
 */
import zlib from 'node:zlib';

/** One entry of the archive. */
export type CpioEntry =
  | { readonly kind: 'dir'; readonly path: string }
  | { readonly kind: 'file'; readonly path: string; readonly data: Buffer; readonly mode: number }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

function header(ino: number, mode: number, size: number, name: string): Buffer {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const fields = [ino, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, nameBytes.length, 0];
  const head = Buffer.from(`070701${fields.map(hex8).join('')}`, 'ascii');
  return Buffer.concat([head, nameBytes, pad4(head.length + nameBytes.length)]);
}

/** The archive's bytes (uncompressed). */
export function cpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((e, n) => {
    const name = e.path.replace(/^\/+/, '');
    if (e.kind === 'dir') parts.push(header(n + 1, S_IFDIR | 0o755, 0, name));
    else {
      const data = e.kind === 'file' ? e.data : Buffer.from(e.target, 'utf8');
      const mode = e.kind === 'file' ? S_IFREG | (e.mode & 0o7777) : S_IFLNK | 0o777;
      parts.push(header(n + 1, mode, data.length, name), data, pad4(data.length));
    }
  });
  parts.push(header(0, 0, 0, 'TRAILER!!!'));
  return Buffer.concat(parts);
}

/** The gzip'd archive, as the kernel unpacks it. */
export function initramfs(entries: readonly CpioEntry[]): Buffer {
  return zlib.gzipSync(cpioNewc(entries), { level: 1 });
}

/** Guest port of the probe's agent. */
export const GUEST_AGENT_PORT = 5000;

/** Guest port of the control shell (facts, logs, the crash test). */
export const GUEST_CONTROL_PORT = 5001;

/** Prefix of the lines the init script writes on the console for the host. */
export const CONSOLE_MARK = '@@ashmem-vm';

/**
 * The init script (PID 1). It loads the modules in order, finds the ashmem node, brings up the
 * network the host forwards to, starts the agent of the ABI named on the kernel command line
 * (`ashmem_harness.abi=`) and a control shell, then says `ready` (or why it cannot) on the console.
 */
export function initScript(): string {
  return `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
say() { echo "${CONSOLE_MARK} $*" > /dev/console; }
stop() { say "$@"; sync; poweroff -f; }
for m in /lib/modules/*.ko; do
  [ -e "$m" ] || continue
  insmod "$m" 2>/tmp/insmod.err || say "insmod-failed \${m##*/} $(tr '\\n' ' ' < /tmp/insmod.err)"
done
node=
for n in /dev/ashmem*; do [ -c "$n" ] && node=$n; done
[ -n "$node" ] || stop "no-ashmem $(uname -r)"
ip link set lo up
ip link set eth0 up 2>/dev/null && ip addr add 10.0.2.15/24 dev eth0 || stop "no-network $(uname -r)"
abi=$(sed -n 's/.*ashmem_harness\\.abi=\\([^ ]*\\).*/\\1/p' /proc/cmdline)
cd "/probe/$abi" 2>/dev/null || stop "no-probe $abi"
./ashmem-probe --listen 0.0.0.0:${GUEST_AGENT_PORT} > /tmp/agent.out 2>&1 &
nc -ll -p ${GUEST_CONTROL_PORT} -e /bin/sh &
tries=0
until grep -q listening /tmp/agent.out; do
  tries=$((tries + 1))
  [ $tries -gt 100 ] && stop "agent-failed $(tr '\\n' ' ' < /tmp/agent.out)"
  sleep 0.05
done
mem=$(sed -n 's/^MemTotal: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo)
say "ready $(uname -r) $(uname -m) $node $mem"
while :; do sleep 3600; done
`;
}
