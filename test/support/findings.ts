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
