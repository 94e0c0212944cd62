/** Scripts that found model gaps on the real driver (vm target); used by the model and vm tests. */
/** A 4 GiB region unpinned and probed with len 0 (the request wraps), pinned apart, purged; twice. */
export const WRAPPED = `open r0
set_size r0 0x100000000
mmap m0 r0 49152 3 shared_noreserve 0
fill m0 0 49152 7
unpin r0 0 0
status r0 0 0
status r0 4096 4096
unpin r0 8192 4096
pin r0 8192 4096
status r0 8192 4096
status r0 0 0
purge_all r0
check m0 0 49152
pin r0 0 0
status r0 0 0
open r1
set_size r1 0x100000000
mmap m1 r1 49152 3 shared_noreserve 0
fill m1 0 49152 9
unpin r1 0 0
pin r1 4096 8192
purge_all r1
check m1 0 49152
`;

/** MAP_SHARED on read-only and read-write fds, reads through them, then where SEEK_DATA finds data. */
export const READ_ONLY_SHARED = `open r0
set_size r0 16384
mmap m0 r0 16384 1 shared 0
mmap m1 r0 16384 1 shared_noreserve 0
check m1 0 8192
lseek r0 0 data
open r1
set_size r1 16384
mmap m2 r1 16384 1 shared_noreserve 0
mmap m3 r1 16384 1 shared 0
check m3 0 8192
lseek r1 0 data
open r2
set_size r2 16384
mmap m4 r2 16384 3 shared_noreserve 0
check m4 0 8192
lseek r2 0 data
open r3 rdonly
set_size r3 16384
mmap m5 r3 16384 1 shared 0
check m5 0 8192
lseek r3 0 data
open r4
set_size r4 16384
mmap m6 r4 16384 1 private_noreserve 0
mmap m7 r4 16384 1 shared 0
check m7 0 4096
lseek r4 0 data
mincore m7 0 16384
`;

/**
 * `dup` and `open` over live handles: the fds they no longer name stay open (the probe closes only
 * on `close`), in the main process and in children until they exit; PURGE_ALL_CACHES counts what
 * is still on the LRU (1, 1, then 0).
 */
export const UNNAMED_FDS = `open r0
set_size r0 4096
mmap m0 r0 4096 3 shared 0
unpin r0 0 4096
dup r0 r0
close r0
open r1
purge_all r1
open r2
set_size r2 4096
mmap m2 r2 4096 3 shared 0
unpin r2 0 4096
fork p1
p1: dup r2 r1
close r2
purge_all r1
exit p1
open r3
set_size r3 4096
mmap m3 r3 4096 3 shared 0
unpin r3 0 4096
fork p2
p2: open r3
close r3
exit p2
purge_all r1
`;

/**
 * A vast region (2^62 bytes: a backing file past 2^53, below MAX_LFS_FILESIZE) as generated cases
 * use it: mapped with MAP_NORESERVE, pinned past u32 (EINVAL), unpinned, purged, sought.
 */
export const VAST = `open r0
set_size r0 0x4000000000000000
mmap m0 r0 49152 3 shared_noreserve 0
fill m0 0 49152 7
get_size r0
unpin r0 0xffffe000 0x80001000
unpin r0 0xfffff000 0
status r0 0 0
unpin r0 0x80000000 0x80001000
status r0 0x80000000 0
unpin r0 4096 8192
unpin r0 4097 4096
status r0 4096 4096
drop_caches
check m0 0 49152
lseek r0 0 hole
lseek r0 4096 data
lseek r0 8192 data
lseek r0 49152 data
read r0 5
`;
