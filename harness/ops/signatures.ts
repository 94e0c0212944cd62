/**
 * The argument list of every op, in text order. The parser and the printer are both driven
 * by this table, so the two cannot drift apart.
 */
import type { OpKind } from './ast.js';

/** The type of one argument, which fixes how it is read and written. */
export type ArgType =
  | 'region' // a region handle in use: r0, r1, ...
  | 'new-region' // a region handle being defined
  | 'mapping' // a mapping handle in use: m0, ...
  | 'new-mapping'
  | 'new-proc' // a child process name being defined: p1, ...
  | 'proc' // a child process in use
  | 'u32' // 0 .. 2^32-1
  | 'count' // 0 .. 2^53-1
  | 'offset' // -(2^53-1) .. 2^53-1 (a signed file offset)
  | 'word' // a machine word: -2^63 .. 2^64-1, kept as bigint
  | 'prot' // 0 .. 255 (PROT_* bits; higher bits reach the kernel as given)
  | 'byte' // 0 .. 255
  | 'string' // "..." with escapes and an optional *N repeat
  | 'map' // shared | private | shared_noreserve | private_noreserve
  | 'whence' // set | cur | end | data | hole
  | 'open-mode' // rdwr | rdonly (optional, rdwr)
  | 'drop-mode' // 1 | 2 | 3 (optional, 2)
  | 'personality' // default | read_implies_exec
  | 'capability' // sys_admin
  | 'int' // a Java int: -2^31 .. 2^31-1
  | 'bool' // true | false
  | 'memoryfile' | 'new-memoryfile' // f0, f1, ...
  | 'sharedmemory' | 'new-sharedmemory' // s0, ...
  | 'buffer' | 'new-buffer'; // b0, ...

/** One argument: the AST field it fills and its type. */
export interface ArgSpec {
  readonly field: string;
  readonly type: ArgType;
  /** Printed only when it differs from this default; may be omitted in text. */
  readonly default?: string | number;
}

const r = { field: 'r', type: 'region' } as const satisfies ArgSpec;
const m = { field: 'm', type: 'mapping' } as const satisfies ArgSpec;
const f = { field: 'f', type: 'memoryfile' } as const satisfies ArgSpec;
const s = { field: 's', type: 'sharedmemory' } as const satisfies ArgSpec;
const b = { field: 'b', type: 'buffer' } as const satisfies ArgSpec;

/** Argument lists, keyed by op kind. */
export const SIGNATURES = {
  open: [{ field: 'r', type: 'new-region' }, { field: 'mode', type: 'open-mode', default: 'rdwr' }],
  close: [r],
  dup: [{ field: 'r', type: 'new-region' }, { field: 'from', type: 'region' }],
  set_name: [r, { field: 'name', type: 'string' }],
  get_name: [r],
  set_size: [r, { field: 'size', type: 'word' }],
  get_size: [r],
  set_prot: [r, { field: 'prot', type: 'word' }],
  get_prot: [r],
  pin: [r, { field: 'offset', type: 'u32' }, { field: 'len', type: 'u32' }],
  unpin: [r, { field: 'offset', type: 'u32' }, { field: 'len', type: 'u32' }],
  status: [r, { field: 'offset', type: 'u32' }, { field: 'len', type: 'u32' }],
  pin_null: [r],
  unpin_null: [r],
  status_null: [r],
  set_name_null: [r],
  get_name_null: [r],
  file_id_null: [r],
  purge_all: [r],
  file_id: [r],
  ioctl: [r, { field: 'cmd', type: 'word' }, { field: 'arg', type: 'word' }],
  mmap: [
    { field: 'm', type: 'new-mapping' },
    r,
    { field: 'len', type: 'count' },
    { field: 'prot', type: 'prot' },
    { field: 'map', type: 'map' },
    { field: 'offset', type: 'count' },
  ],
  munmap: [m],
  mprotect: [m, { field: 'prot', type: 'prot' }],
  fill: [m, { field: 'offset', type: 'count' }, { field: 'len', type: 'count' }, { field: 'byte', type: 'byte' }],
  check: [m, { field: 'offset', type: 'count' }, { field: 'len', type: 'count' }],
  mincore: [m, { field: 'offset', type: 'count' }, { field: 'len', type: 'count' }],
  read: [r, { field: 'len', type: 'count' }],
  write: [r, { field: 'len', type: 'count' }],
  lseek: [r, { field: 'offset', type: 'offset' }, { field: 'whence', type: 'whence' }],
  fstat: [r],
  truncate: [r, { field: 'size', type: 'count' }],
  add_seals: [r, { field: 'seals', type: 'u32' }],
  get_seals: [r],
  personality: [{ field: 'personality', type: 'personality' }],
  drop_caches: [{ field: 'mode', type: 'drop-mode', default: 2 }],
  pressure: [{ field: 'mib', type: 'count' }, { field: 'seconds', type: 'count' }],
  fork: [{ field: 'child', type: 'new-proc' }],
  exit: [{ field: 'child', type: 'proc' }],
  set_name_at_page_end: [r, { field: 'name', type: 'string' }],
  ioctl_buf: [r, { field: 'cmd', type: 'word' }, { field: 'bytes', type: 'string' }],
  munmap_range: [m, { field: 'offset', type: 'count' }, { field: 'len', type: 'count' }],
  drop_cap: [{ field: 'cap', type: 'capability' }],
  mf_create: [{ field: 'f', type: 'new-memoryfile' }, { field: 'name', type: 'string' }, { field: 'length', type: 'int' }],
  mf_allow_purging: [f, { field: 'allow', type: 'bool' }],
  mf_is_purging_allowed: [f],
  mf_write: [f, { field: 'buflen', type: 'int' }, { field: 'src', type: 'int' }, { field: 'dest', type: 'int' }, { field: 'count', type: 'int' }, { field: 'byte', type: 'byte' }],
  mf_read: [f, { field: 'buflen', type: 'int' }, { field: 'src', type: 'int' }, { field: 'dest', type: 'int' }, { field: 'count', type: 'int' }],
  mf_length: [f],
  mf_close: [f],
  sm_create: [{ field: 's', type: 'new-sharedmemory' }, { field: 'name', type: 'string' }, { field: 'size', type: 'int' }],
  sm_get_size: [s],
  sm_close: [s],
  sm_set_protect: [s, { field: 'prot', type: 'int' }],
  sm_map: [{ field: 'b', type: 'new-buffer' }, s, { field: 'prot', type: 'int' }, { field: 'offset', type: 'int' }, { field: 'length', type: 'int' }],
  sm_map_rw: [{ field: 'b', type: 'new-buffer' }, s],
  sm_map_ro: [{ field: 'b', type: 'new-buffer' }, s],
  sm_unmap: [b],
  buf_put: [b, { field: 'offset', type: 'int' }, { field: 'len', type: 'int' }, { field: 'byte', type: 'byte' }],
  buf_get: [b, { field: 'offset', type: 'int' }, { field: 'len', type: 'int' }],
  app_wait: [{ field: 'name', type: 'string' }, { field: 'timeoutMs', type: 'int' }],
} as const satisfies Record<OpKind, readonly ArgSpec[]>;

/** Every op kind, in the order of the table. */
export const OP_KINDS = Object.keys(SIGNATURES) as OpKind[];

/** Op kinds of the Java layer (run by the fixture APK, not the probe). */
export const JAVA_KINDS: ReadonlySet<OpKind> = new Set(OP_KINDS.filter((k) => /^(mf|sm|buf|app)_/.test(k)));

/** True when `word` names an op. */
export function isOpKind(word: string): word is OpKind {
  return Object.prototype.hasOwnProperty.call(SIGNATURES, word);
}

/** Largest bytes a `count` may hold, and the bounds of `word`. */
export const LIMITS = {
  u32: 0xffff_ffff,
  count: Number.MAX_SAFE_INTEGER,
  wordMin: -(1n << 63n),
  wordMax: (1n << 64n) - 1n,
  /** Longest string after `*N` expansion (the kernel reads at most 256 bytes of a name). */
  stringBytes: 65536,
  pressureMib: 1 << 20,
  pressureSeconds: 3600,
  /** Longest line in UTF-8 bytes, newline excluded (the probe's PROBE_MAX_LINE): longer is a parse error. */
  lineBytes: 1 << 20,
} as const;
