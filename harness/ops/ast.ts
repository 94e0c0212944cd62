/**
 * The op-script abstract syntax: one {@link Op} per script line.
 *
 * This is the contract between the harness, the native probe and the fixture APK; the
 * text form is specified in `docs/op-scripts.md`. Values that the kernel takes as a full
 * machine word (sizes, prot values, raw ioctl numbers and arguments) are `bigint` so that
 * `-1`, `2^63` and pointers survive exactly; offsets and lengths are `number`.
 */

/** Kinds of ioctl that take a pointer argument and therefore have a `_null` form. */
export const PIN_KINDS = ['pin', 'unpin', 'status'] as const satisfies readonly string[];
/** PIN, UNPIN or GET_PIN_STATUS. */
export type PinKind = (typeof PIN_KINDS)[number];

/** `whence` values of lseek, by name. */
export const WHENCES = ['set', 'cur', 'end', 'data', 'hole'] as const satisfies readonly string[];
/** An lseek whence. */
export type Whence = (typeof WHENCES)[number];

/** How a region is opened. */
export type OpenMode = 'rdwr' | 'rdonly';

/**
 * Mapping flavours as scripts name them: MAP_SHARED or MAP_PRIVATE, each also with
 * MAP_NORESERVE (no commit accounting where the kernel honours it; see `harness/model/commit.ts`).
 */
export const MAP_KINDS = ['shared', 'private', 'shared_noreserve', 'private_noreserve'] as const satisfies readonly string[];
/** A mapping flavour. */
export type MapKind = (typeof MAP_KINDS)[number];

/** MAP_SHARED or MAP_PRIVATE: the sharing type of a flavour, without MAP_NORESERVE. */
export function mapType(kind: MapKind): 'shared' | 'private' {
  return kind === 'shared' || kind === 'shared_noreserve' ? 'shared' : 'private';
}

/** True when a flavour passes MAP_NORESERVE. */
export function mapNoReserve(kind: MapKind): boolean {
  return kind === 'shared_noreserve' || kind === 'private_noreserve';
}

/** Personalities the model knows about (§3.4 READ_IMPLIES_EXEC). */
export type Personality = 'default' | 'read_implies_exec';

/** Capabilities a script may drop (`drop_cap`): CAP_SYS_ADMIN decides PURGE_ALL_CACHES (§3.7). */
export const CAPABILITIES = ['sys_admin'] as const satisfies readonly string[];
/** A capability name. */
export type Capability = (typeof CAPABILITIES)[number];

interface Base {
  /** 1-based line number in the script text (results are keyed by it). */
  readonly line: number;
  /** Process that runs the op: `p0` is the main process, `p1`.. are forked children. */
  readonly proc: string;
}

/** open(/dev/ashmem) (or memfd_create, on a memfd backend) into handle `r`. */
export interface OpenOp extends Base { readonly kind: 'open'; readonly r: string; readonly mode: OpenMode }
/** close(r). */
export interface CloseOp extends Base { readonly kind: 'close'; readonly r: string }
/** r := dup(from): same open file description, so the same area. */
export interface DupOp extends Base { readonly kind: 'dup'; readonly r: string; readonly from: string }
/** ASHMEM_SET_NAME with a byte string (each char code is one byte, 0..255). */
export interface SetNameOp extends Base { readonly kind: 'set_name'; readonly r: string; readonly name: string }
/** ASHMEM_GET_NAME into a 256-byte buffer. */
export interface GetNameOp extends Base { readonly kind: 'get_name'; readonly r: string }
/** ASHMEM_SET_SIZE with a value argument. */
export interface SetSizeOp extends Base { readonly kind: 'set_size'; readonly r: string; readonly size: bigint }
/** ASHMEM_GET_SIZE. */
export interface GetSizeOp extends Base { readonly kind: 'get_size'; readonly r: string }
/** ASHMEM_SET_PROT_MASK with a value argument. */
export interface SetProtOp extends Base { readonly kind: 'set_prot'; readonly r: string; readonly prot: bigint }
/** ASHMEM_GET_PROT_MASK. */
export interface GetProtOp extends Base { readonly kind: 'get_prot'; readonly r: string }
/** PIN / UNPIN / GET_PIN_STATUS with a valid `struct ashmem_pin`. */
export interface PinOp extends Base {
  readonly kind: PinKind;
  readonly r: string;
  readonly offset: number;
  readonly len: number;
}
/** PIN / UNPIN / GET_PIN_STATUS / SET_NAME / GET_NAME / GET_FILE_ID with a NULL argument. */
export interface NullArgOp extends Base {
  readonly kind: 'pin_null' | 'unpin_null' | 'status_null' | 'set_name_null' | 'get_name_null' | 'file_id_null';
  readonly r: string;
}
/** ASHMEM_PURGE_ALL_CACHES through region `r`. */
export interface PurgeAllOp extends Base { readonly kind: 'purge_all'; readonly r: string }
/** ASHMEM_GET_FILE_ID (ACK only). */
export interface FileIdOp extends Base { readonly kind: 'file_id'; readonly r: string }
/** A raw ioctl: any command number, the argument passed as a plain value. */
export interface IoctlOp extends Base { readonly kind: 'ioctl'; readonly r: string; readonly cmd: bigint; readonly arg: bigint }
/**
 * A raw ioctl whose argument is a valid pointer: to `bytes` (each char code one byte) at the
 * start of a zero-filled, readable and writable buffer of at least one page.
 */
export interface IoctlBufOp extends Base { readonly kind: 'ioctl_buf'; readonly r: string; readonly cmd: bigint; readonly bytes: string }
/**
 * ASHMEM_SET_NAME with the name and its NUL as the last bytes of a readable page, followed by
 * an unreadable one: a driver that copies a fixed 256 bytes faults (§3.2), strncpy does not.
 */
export interface SetNameAtPageEndOp extends Base { readonly kind: 'set_name_at_page_end'; readonly r: string; readonly name: string }
/** mmap(len, prot, MAP_SHARED|MAP_PRIVATE [|MAP_NORESERVE], fd r, offset) into mapping handle `m`. */
export interface MmapOp extends Base {
  readonly kind: 'mmap';
  readonly m: string;
  readonly r: string;
  readonly len: number;
  readonly prot: number;
  readonly map: MapKind;
  readonly offset: number;
}
/** munmap of a whole mapping. */
export interface MunmapOp extends Base { readonly kind: 'munmap'; readonly m: string }
/** munmap of `len` bytes at `offset` inside a mapping (the mapping stays live around the hole). */
export interface MunmapRangeOp extends Base { readonly kind: 'munmap_range'; readonly m: string; readonly offset: number; readonly len: number }
/** mprotect of a whole mapping. */
export interface MprotectOp extends Base { readonly kind: 'mprotect'; readonly m: string; readonly prot: number }
/** Store `byte` into `len` bytes of a mapping at `offset` (a fault is a result). */
export interface FillOp extends Base { readonly kind: 'fill'; readonly m: string; readonly offset: number; readonly len: number; readonly byte: number }
/** Load `len` bytes of a mapping at `offset`; the result carries them as byte runs. */
export interface CheckOp extends Base { readonly kind: 'check'; readonly m: string; readonly offset: number; readonly len: number }
/** mincore over a mapping window (informational: residency is never judged). */
export interface MincoreOp extends Base { readonly kind: 'mincore'; readonly m: string; readonly offset: number; readonly len: number }
/** read(2) of up to `len` bytes at the fd's position. */
export interface ReadOp extends Base { readonly kind: 'read'; readonly r: string; readonly len: number }
/** write(2) of `len` zero bytes. */
export interface WriteOp extends Base { readonly kind: 'write'; readonly r: string; readonly len: number }
/** lseek(2); `offset` is signed (SEEK_CUR/SEEK_END may go back; a negative result is EINVAL). */
export interface LseekOp extends Base { readonly kind: 'lseek'; readonly r: string; readonly offset: number; readonly whence: Whence }
/** fstat(2): file type and st_size. */
export interface FstatOp extends Base { readonly kind: 'fstat'; readonly r: string }
/** ftruncate(2) (memfd backends; an ashmem fd refuses it). */
export interface TruncateOp extends Base { readonly kind: 'truncate'; readonly r: string; readonly size: number }
/** fcntl(F_ADD_SEALS) with raw seal bits (memfd backends). */
export interface AddSealsOp extends Base { readonly kind: 'add_seals'; readonly r: string; readonly seals: number }
/** fcntl(F_GET_SEALS). */
export interface GetSealsOp extends Base { readonly kind: 'get_seals'; readonly r: string }
/** personality(2) for this process. */
export interface PersonalityOp extends Base { readonly kind: 'personality'; readonly personality: Personality }
/** `echo N > /proc/sys/vm/drop_caches` (needs root). */
export interface DropCachesOp extends Base { readonly kind: 'drop_caches'; readonly mode: 1 | 2 | 3 }
/** Bounded memory pressure: a helper process touches up to `mib` MiB, killed after `seconds`. */
export interface PressureOp extends Base { readonly kind: 'pressure'; readonly mib: number; readonly seconds: number }
/** fork(): child process `child` inherits fds and mappings. */
export interface ForkOp extends Base { readonly kind: 'fork'; readonly child: string }
/** Ends child process `child` (its fds close, its mappings go). */
export interface ExitOp extends Base { readonly kind: 'exit'; readonly child: string }
/** Drops a capability from this process's effective, permitted and inheritable sets (and the bounding set when it may). */
export interface DropCapOp extends Base { readonly kind: 'drop_cap'; readonly cap: Capability }

/** MemoryFile(name, length) into handle `f` (Java layer, fixture APK). */
export interface MfCreateOp extends Base { readonly kind: 'mf_create'; readonly f: string; readonly name: string; readonly length: number }
/** MemoryFile.allowPurging(b): `ret` is the previous value (0/1). */
export interface MfAllowPurgingOp extends Base { readonly kind: 'mf_allow_purging'; readonly f: string; readonly allow: boolean }
/** MemoryFile.isPurgingAllowed(): `ret` 0/1. */
export interface MfIsPurgingAllowedOp extends Base { readonly kind: 'mf_is_purging_allowed'; readonly f: string }
/** MemoryFile.writeBytes(buffer[buflen] filled with byte, src, dest, count). */
export interface MfWriteOp extends Base {
  readonly kind: 'mf_write'; readonly f: string; readonly buflen: number; readonly src: number; readonly dest: number; readonly count: number; readonly byte: number;
}
/** MemoryFile.readBytes(buffer[buflen], src, dest, count): `ret` count, `rle` of buffer[dest, dest+count). */
export interface MfReadOp extends Base {
  readonly kind: 'mf_read'; readonly f: string; readonly buflen: number; readonly src: number; readonly dest: number; readonly count: number;
}
/** MemoryFile.length() / close(). */
export interface MfSimpleOp extends Base { readonly kind: 'mf_length' | 'mf_close'; readonly f: string }
/** SharedMemory.create(name, size) into handle `s`. */
export interface SmCreateOp extends Base { readonly kind: 'sm_create'; readonly s: string; readonly name: string; readonly size: number }
/** SharedMemory.getSize() / close(). */
export interface SmSimpleOp extends Base { readonly kind: 'sm_get_size' | 'sm_close'; readonly s: string }
/** SharedMemory.setProtect(prot): `ret` 1 (true) or 0 (false). */
export interface SmSetProtectOp extends Base { readonly kind: 'sm_set_protect'; readonly s: string; readonly prot: number }
/** SharedMemory.map(prot, offset, length) into buffer handle `b`. */
export interface SmMapOp extends Base { readonly kind: 'sm_map'; readonly b: string; readonly s: string; readonly prot: number; readonly offset: number; readonly length: number }
/** SharedMemory.mapReadWrite() / mapReadOnly() into buffer handle `b`. */
export interface SmMapWholeOp extends Base { readonly kind: 'sm_map_rw' | 'sm_map_ro'; readonly b: string; readonly s: string }
/** SharedMemory.unmap(buffer). */
export interface SmUnmapOp extends Base { readonly kind: 'sm_unmap'; readonly b: string }
/** ByteBuffer absolute puts of `byte` over [offset, offset+len). */
export interface BufPutOp extends Base { readonly kind: 'buf_put'; readonly b: string; readonly offset: number; readonly len: number; readonly byte: number }
/** ByteBuffer absolute gets over [offset, offset+len): `rle`. */
export interface BufGetOp extends Base { readonly kind: 'buf_get'; readonly b: string; readonly offset: number; readonly len: number }

/**
 * The fixture APK waits (instrumentation door only) until the harness creates the trigger file
 * `files/trigger-NAME` in the app's data (`run-as`), then deletes it: `ret` 1, or 0 on timeout.
 * Lets a script hold its MemoryFile open while the harness purges from outside.
 */
export interface AppWaitOp extends Base { readonly kind: 'app_wait'; readonly name: string; readonly timeoutMs: number }

/** Ops of the Java layer (MemoryFile, SharedMemory), run by the fixture APK. */
export type JavaOp =
  | MfCreateOp | MfAllowPurgingOp | MfIsPurgingAllowedOp | MfWriteOp | MfReadOp | MfSimpleOp
  | SmCreateOp | SmSimpleOp | SmSetProtectOp | SmMapOp | SmMapWholeOp | SmUnmapOp | BufPutOp | BufGetOp
  | AppWaitOp;

/** Ops the native probe runs against the kernel. */
export type KernelOp =
  | OpenOp | CloseOp | DupOp
  | SetNameOp | GetNameOp | SetSizeOp | GetSizeOp | SetProtOp | GetProtOp
  | PinOp | NullArgOp | PurgeAllOp | FileIdOp | IoctlOp
  | MmapOp | MunmapOp | MprotectOp | FillOp | CheckOp | MincoreOp
  | ReadOp | WriteOp | LseekOp | FstatOp | TruncateOp | AddSealsOp | GetSealsOp | PersonalityOp
  | DropCachesOp | PressureOp | ForkOp | ExitOp
  | SetNameAtPageEndOp | IoctlBufOp | MunmapRangeOp | DropCapOp;

/** One op of a script. */
export type Op = KernelOp | JavaOp;

/** The discriminant of {@link Op}. */
export type OpKind = Op['kind'];

/** A parsed script: ops in order, with the line each came from. */
export interface Script {
  readonly ops: readonly Op[];
}

/** The main process's name. */
export const MAIN_PROC = 'p0';
