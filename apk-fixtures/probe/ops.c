/*
 * One op in the current process: the system call the grammar names, nothing more. Regions are
 * fds, mappings are (address, length) pairs; both tables are per process (a forked child starts
 * with a copy). Faults inside fill/check are caught with sigsetjmp/siglongjmp on an alternate
 * signal stack and become results.
 */
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001u
#define MFD_ALLOW_SEALING 0x0002u
#endif
#ifndef SEEK_DATA
#define SEEK_DATA 3
#define SEEK_HOLE 4
#endif
#ifndef READ_IMPLIES_EXEC
#define READ_IMPLIES_EXEC 0x0400000
#endif

/* The numbers this build sends are the ones its word size implies (§1.3). */
_Static_assert(ASHMEM_SET_NAME == 0x41007701ul, "SET_NAME");
_Static_assert(ASHMEM_GET_NAME == 0x81007702ul, "GET_NAME");
_Static_assert(ASHMEM_GET_SIZE == 0x7704ul, "GET_SIZE");
_Static_assert(ASHMEM_GET_PROT_MASK == 0x7706ul, "GET_PROT_MASK");
_Static_assert(ASHMEM_PIN == 0x40087707ul, "PIN");
_Static_assert(ASHMEM_UNPIN == 0x40087708ul, "UNPIN");
_Static_assert(ASHMEM_GET_PIN_STATUS == 0x7709ul, "GET_PIN_STATUS");
_Static_assert(ASHMEM_PURGE_ALL_CACHES == 0x770aul, "PURGE_ALL_CACHES");
_Static_assert(ASHMEM_SET_SIZE == (sizeof(size_t) == 8 ? ASHMEM_SET_SIZE_NATIVE64 : ASHMEM_SET_SIZE_COMPAT32),
               "SET_SIZE");
_Static_assert(ASHMEM_SET_PROT_MASK ==
                   (sizeof(long) == 8 ? ASHMEM_SET_PROT_MASK_NATIVE64 : ASHMEM_SET_PROT_MASK_COMPAT32),
               "SET_PROT_MASK");
_Static_assert(ASHMEM_GET_FILE_ID ==
                   (sizeof(long) == 8 ? ASHMEM_GET_FILE_ID_NATIVE64 : ASHMEM_GET_FILE_ID_COMPAT32),
               "GET_FILE_ID");
_Static_assert(sizeof(struct ashmem_pin) == 8, "ashmem_pin");
_Static_assert(sizeof(off_t) == 8, "build with -D_FILE_OFFSET_BITS=64");

struct probe_config g_cfg;

struct region {
  uint32_t id;
  int fd;
};
/* A window of a mapping that munmap_range removed. */
struct hole {
  size_t off, len;
};
struct mapping {
  uint32_t id;
  int live;
  unsigned char *addr;
  size_t len;
  struct hole *holes;
  size_t nholes, capholes;
};

static struct region *g_regions;
static size_t g_nregions, g_capregions;
static struct mapping *g_maps;
static size_t g_nmaps, g_capmaps;
static struct idmap g_region_index, g_map_index;

static void *grow(void *p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return p;
  size_t nc = *cap ? *cap * 2 : 16;
  while (nc < need) nc *= 2;
  void *np = realloc(p, nc * elem);
  if (np == NULL) abort();
  *cap = nc;
  return np;
}

static struct region *region_find(uint64_t id) {
  uint32_t k;
  return idmap_get(&g_region_index, id, &k) ? &g_regions[k] : NULL;
}

/** The fd of a region handle; -1 (EBADF at the kernel) when closed or never opened. */
static int region_fd(uint64_t id) {
  struct region *r = region_find(id);
  return r ? r->fd : -1;
}

/* Redefining a handle (open r0 twice) does not close the old fd: the op script did not ask for
 * a close, and a close has kernel-visible effects (the area's release). */
static void region_set(uint64_t id, int fd) {
  struct region *r = region_find(id);
  if (r == NULL) {
    g_regions = grow(g_regions, &g_capregions, g_nregions + 1, sizeof *g_regions);
    idmap_put(&g_region_index, id, (uint32_t)g_nregions);
    r = &g_regions[g_nregions++];
    r->id = (uint32_t)id;
  }
  r->fd = fd;
}

static struct mapping *map_find(uint64_t id) {
  uint32_t k;
  return idmap_get(&g_map_index, id, &k) ? &g_maps[k] : NULL;
}

static struct mapping *map_set(uint64_t id) {
  struct mapping *m = map_find(id);
  if (m == NULL) {
    g_maps = grow(g_maps, &g_capmaps, g_nmaps + 1, sizeof *g_maps);
    idmap_put(&g_map_index, id, (uint32_t)g_nmaps);
    m = &g_maps[g_nmaps++];
    memset(m, 0, sizeof *m);
    m->id = (uint32_t)id;
  }
  return m;
}

void ops_reset(void) {
  for (size_t i = 0; i < g_nmaps; i++) free(g_maps[i].holes);
  free(g_regions);
  free(g_maps);
  g_regions = NULL;
  g_maps = NULL;
  idmap_free(&g_region_index);
  idmap_free(&g_map_index);
  g_nregions = g_capregions = g_nmaps = g_capmaps = 0;
}

/* ---- faults -------------------------------------------------------------------------------- */

static sigjmp_buf g_jmp;
static volatile sig_atomic_t g_guard;

static void on_fault(int sig, siginfo_t *si, void *uc) {
  (void)si;
  (void)uc;
  if (g_guard) {
    g_guard = 0;
    siglongjmp(g_jmp, sig);
  }
  /* A fault outside fill/check is a probe bug: die with it so it is seen. */
  signal(sig, SIG_DFL);
  raise(sig);
}

void faults_install(void) {
  static int done;
  static unsigned char altstack[64 * 1024];
  if (done) return;
  done = 1;
  stack_t ss;
  memset(&ss, 0, sizeof ss);
  ss.ss_sp = altstack;
  ss.ss_size = sizeof altstack;
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, NULL);
  sigaction(SIGSEGV, &sa, NULL);
}

/** Runs fn(ctx) with faults turned into a return value: 0, or the signal number. */
static int guarded(void (*fn)(void *), void *ctx) {
  int sig = sigsetjmp(g_jmp, 1);
  if (sig != 0) return sig;
  g_guard = 1;
  fn(ctx);
  g_guard = 0;
  return 0;
}

/* ---- byte runs ----------------------------------------------------------------------------- */

struct runs {
  uint64_t *v; /* pairs: byte, count */
  size_t n, cap;
  int overflow;
};

/** Most byte runs one result carries (64 MiB of pairs); more is reported, not attempted. */
#define MAX_RUNS (1u << 22)
static struct runs g_runs;

static void runs_push(struct runs *r, unsigned byte, uint64_t count) {
  if (count == 0) return;
  if (r->n > 0 && r->v[2 * (r->n - 1)] == byte) {
    r->v[2 * (r->n - 1) + 1] += count;
    return;
  }
  if (r->n >= MAX_RUNS) {
    r->overflow = 1;
    return;
  }
  r->v = grow(r->v, &r->cap, 2 * (r->n + 1), sizeof *r->v);
  r->v[2 * r->n] = byte;
  r->v[2 * r->n + 1] = count;
  r->n++;
}

static void runs_add_bytes(struct runs *r, const unsigned char *b, size_t len) {
  size_t i = 0;
  while (i < len) {
    unsigned char c = b[i];
    size_t j = i + 1;
    while (j < len && b[j] == c) j++;
    runs_push(r, c, j - i);
    i = j;
  }
}

static void res_runs(const char *key, const struct runs *r) {
  fprintf(g_out, ",\"%s\":[", key);
  for (size_t i = 0; i < r->n; i++)
    fprintf(g_out, "%s[%llu,%llu]", i ? "," : "", (unsigned long long)r->v[2 * i], (unsigned long long)r->v[2 * i + 1]);
  fputc(']', g_out);
}

/* ---- helpers ------------------------------------------------------------------------------- */

static long g_page;

static size_t page_size(void) {
  if (g_page <= 0) g_page = sysconf(_SC_PAGESIZE);
  return g_page > 0 ? (size_t)g_page : 4096u;
}

static void begin(const struct op *op) { res_begin(op->line, OP_SPECS[op->kind].name, op->proc); }

/** The C library's failure value: every wrapper the probe calls returns exactly -1 (errno set) on
 * failure. Any other value, negative or not, is the kernel's answer: ioctl(2) hands back the
 * handler's int, so GET_SIZE of a 2 GiB region is -2147483648, not an error (§1.4, §12). */
static int failed(long long r) { return r == -1; }

/** Writes ret or errno of a call that returned `r` (-1 = failed, errno set; anything else = ret). */
static void finish_call(const struct op *op, long long r, int err) {
  begin(op);
  if (failed(r)) res_errno(err);
  else res_ret(r);
  res_end();
}

static void finish_error(const struct op *op, const char *kind, const char *msg) {
  begin(op);
  res_error(kind, msg);
  res_end();
}

static int ioctl_int(int fd, unsigned long cmd, unsigned long arg, int *err) {
  errno = 0;
  int r = ioctl(fd, cmd, arg);
  *err = errno;
  return r;
}

/** Looks up a mapping window; writes a `state` error and returns NULL when it is not usable. */
static unsigned char *window(const struct op *op, uint64_t off, uint64_t len) {
  struct mapping *m = map_find(op->arg[0]);
  char msg[200];
  if (m == NULL || !m->live) {
    snprintf(msg, sizeof msg, "mapping m%llu is not mapped (its mmap failed or it was unmapped)",
             (unsigned long long)op->arg[0]);
    finish_error(op, "state", msg);
    return NULL;
  }
  if (off > m->len || len > m->len - off) {
    snprintf(msg, sizeof msg, "window [%llu, %llu) is outside mapping m%llu (length %llu)", (unsigned long long)off,
             (unsigned long long)(off + len), (unsigned long long)op->arg[0], (unsigned long long)m->len);
    finish_error(op, "state", msg);
    return NULL;
  }
  return m->addr + off;
}

/* ---- fill / check -------------------------------------------------------------------------- */

struct touch {
  unsigned char *base;
  size_t len;
  unsigned char byte;
};

/* Page by page in address order, so that after a fault every earlier byte is stored and
 * nothing of the faulting page is. */
static void fill_fn(void *ctx) {
  struct touch *t = ctx;
  size_t page = page_size(), done = 0;
  while (done < t->len) {
    size_t chunk = page - (size_t)((uintptr_t)(t->base + done) % page);
    if (chunk > t->len - done) chunk = t->len - done;
    memset(t->base + done, t->byte, chunk);
    done += chunk;
  }
}

static void check_fn(void *ctx) {
  struct touch *t = ctx;
  const volatile unsigned char *b = t->base;
  size_t i = 0;
  while (i < t->len && !g_runs.overflow) {
    unsigned char c = b[i];
    size_t j = i + 1;
    while (j < t->len && b[j] == c) j++;
    runs_push(&g_runs, c, j - i);
    i = j;
  }
}

static void do_fill(const struct op *op) {
  unsigned char *p = window(op, op->arg[1], op->arg[2]);
  if (p == NULL) return;
  struct touch t = {p, (size_t)op->arg[2], (unsigned char)op->arg[3]};
  int sig = guarded(fill_fn, &t);
  begin(op);
  if (sig) res_signal(sig);
  else res_ret(0);
  res_end();
}

static void do_check(const struct op *op) {
  unsigned char *p = window(op, op->arg[1], op->arg[2]);
  if (p == NULL) return;
  struct touch t = {p, (size_t)op->arg[2], 0};
  g_runs.n = 0;
  g_runs.overflow = 0;
  int sig = guarded(check_fn, &t);
  begin(op);
  if (sig) {
    res_signal(sig);
  } else if (g_runs.overflow) {
    res_error("unsupported", "the window holds more than 4194304 byte runs: check smaller windows");
  } else {
    res_ret(0);
    res_runs("rle", &g_runs);
  }
  res_end();
}

/* ---- holes --------------------------------------------------------------------------------
 * The script keeps addressing a munmap_range hole through its mapping, and the model says it
 * faults. The kernel would hand the free addresses to the next mmap (the script's, a read
 * buffer's, malloc's), and the hole would read someone else's bytes. So a hole is kept reserved:
 * an inaccessible anonymous mapping (no memory, no commit) that faults with SIGSEGV as the hole
 * does. Syscalls whose answer depends on the hole being unmapped (mprotect, mincore: ENOMEM)
 * run with the reservations lifted. MAP_FIXED is safe here: a hole lies inside the mapping's own
 * address range, where nothing else can be, and the probe is single-threaded. */

static void holes_reserve(const struct mapping *m) {
  for (size_t i = 0; i < m->nholes; i++) {
    /* Best effort: a failed reservation leaves a plain hole, as before. */
    (void)mmap(m->addr + m->holes[i].off, m->holes[i].len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
               -1, 0);
  }
}

static void holes_lift(const struct mapping *m) {
  for (size_t i = 0; i < m->nholes; i++) munmap(m->addr + m->holes[i].off, m->holes[i].len);
}

static void hole_add(struct mapping *m, size_t off, size_t len) {
  m->holes = grow(m->holes, &m->capholes, m->nholes + 1, sizeof *m->holes);
  m->holes[m->nholes].off = off;
  m->holes[m->nholes].len = len;
  m->nholes++;
}

static void do_mincore(const struct op *op) {
  uint64_t off = op->arg[1], len = op->arg[2];
  unsigned char *p = window(op, off, len);
  if (p == NULL) return;
  size_t page = page_size();
  struct runs r = {0, 0, 0, 0};
  int err = 0;
  long long ret = 0;
  struct mapping *m = map_find(op->arg[0]);
  holes_lift(m); /* a hole answers ENOMEM, as unmapped memory does */
  if (len > 0) {
    uintptr_t start = (uintptr_t)p / page * page;
    uintptr_t end = ((uintptr_t)p + (size_t)len + page - 1) / page * page;
    unsigned char vec[4096];
    for (uintptr_t a = start; a < end;) {
      size_t pages = (end - a) / page;
      if (pages > sizeof vec) pages = sizeof vec;
      if (failed(mincore((void *)a, pages * page, vec))) {
        err = errno;
        ret = -1;
        break;
      }
      for (size_t k = 0; k < pages; k++) runs_push(&r, vec[k] & 1u, 1);
      a += pages * page;
    }
  }
  holes_reserve(m);
  begin(op);
  if (ret < 0) {
    res_errno(err);
  } else {
    res_ret(0);
    res_runs("resident", &r);
  }
  res_end();
  free(r.v);
}

/* ---- ops on regions ------------------------------------------------------------------------ */

static void do_open(const struct op *op) {
  int rdonly = op->arg[1] == MODE_RDONLY, fd, err = 0;
  if (g_cfg.backend == BACKEND_ASHMEM) {
    fd = open(g_cfg.node, (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    err = errno;
  } else {
    fd = (int)syscall(SYS_memfd_create, "ashmem", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    err = errno;
    if (fd >= 0 && rdonly) {
      char path[64];
      snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
      int ro = open(path, O_RDONLY | O_CLOEXEC);
      err = errno;
      close(fd);
      fd = ro;
    }
  }
  region_set(op->arg[0], fd);
  finish_call(op, fd < 0 ? -1 : 0, err);
}

static void do_close(const struct op *op) {
  struct region *r = region_find(op->arg[0]);
  int fd = r ? r->fd : -1;
  errno = 0;
  int ret = close(fd);
  int err = errno;
  /* The number is forgotten so a later open cannot make this handle reach another file. */
  if (r) r->fd = -1;
  finish_call(op, ret, err);
}

static void do_dup(const struct op *op) {
  int from = region_fd(op->arg[1]);
  errno = 0;
  int fd = dup(from);
  int err = errno;
  region_set(op->arg[0], fd);
  finish_call(op, fd < 0 ? -1 : 0, err);
}

static void do_set_name(const struct op *op) {
  /* The name and its NUL inside a readable buffer of at least 4 KiB, so the kernel's 256-byte
   * read never faults because of the buffer's end. */
  size_t cap = op->str_len + 1 < 4096 ? 4096 : op->str_len + 1;
  unsigned char *buf = calloc(1, cap);
  if (buf == NULL) abort();
  memcpy(buf, op->str, op->str_len);
  int err, r = ioctl_int(region_fd(op->arg[0]), ASHMEM_SET_NAME, (unsigned long)(uintptr_t)buf, &err);
  free(buf);
  finish_call(op, r, err);
}

/** Pages of fresh zero memory (readable and writable), or NULL. */
static unsigned char *pages_alloc(size_t npages) {
  void *p = mmap(NULL, npages * page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

/* The name and its NUL end exactly at the end of a readable page; the next page is PROT_NONE.
 * strncpy_from_user stops at the NUL; a driver that copies a fixed 256 bytes faults (§3.2). */
static void do_set_name_at_page_end(const struct op *op) {
  size_t page = page_size(), need = op->str_len + 1, npages = (need + page - 1) / page;
  unsigned char *base = pages_alloc(npages + 1);
  if (base == NULL || mprotect(base + npages * page, page, PROT_NONE) != 0) {
    if (base != NULL) munmap(base, (npages + 1) * page);
    finish_error(op, "unsupported", "cannot set up a buffer that ends at an unreadable page here");
    return;
  }
  unsigned char *buf = base + npages * page - need;
  memcpy(buf, op->str, op->str_len);
  buf[op->str_len] = '\0';
  int err, r = ioctl_int(region_fd(op->arg[0]), ASHMEM_SET_NAME, (unsigned long)(uintptr_t)buf, &err);
  munmap(base, (npages + 1) * page);
  finish_call(op, r, err);
}

/* A raw ioctl whose argument points at the given bytes, at the start of zeroed pages (at least
 * one), so a command that reads or writes a small struct finds valid memory. */
static void do_ioctl_buf(const struct op *op) {
  size_t page = page_size(), npages = op->str_len == 0 ? 1 : (op->str_len + page - 1) / page;
  unsigned char *buf = pages_alloc(npages);
  if (buf == NULL) {
    finish_error(op, "unsupported", "cannot allocate the ioctl buffer here");
    return;
  }
  memcpy(buf, op->str, op->str_len);
  int err, r = ioctl_int(region_fd(op->arg[0]), (unsigned long)op->arg[1], (unsigned long)(uintptr_t)buf, &err);
  munmap(buf, npages * page);
  finish_call(op, r, err);
}

static void do_get_name(const struct op *op) {
  /* Two calls over two sentinel fills tell exactly which bytes the kernel wrote. The 256-byte
   * buffer sits at the start of a larger one so an overlong copy is seen, not a crash. */
  enum { AREA = 4096 };
  static unsigned char a[AREA], b[AREA];
  int fd = region_fd(op->arg[0]), err, err2;
  memset(a, 0x55, sizeof a);
  int r = ioctl_int(fd, ASHMEM_GET_NAME, (unsigned long)(uintptr_t)a, &err);
  if (failed(r)) {
    finish_call(op, r, err);
    return;
  }
  memset(b, 0xAA, sizeof b);
  int r2 = ioctl_int(fd, ASHMEM_GET_NAME, (unsigned long)(uintptr_t)b, &err2);
  size_t copied = 0;
  for (size_t i = 0; i < AREA; i++)
    if (a[i] != 0x55 || (!failed(r2) && b[i] != 0xAA)) copied = i + 1;
  size_t nlen = 0;
  while (nlen < copied && a[nlen] != 0) nlen++;
  begin(op);
  res_ret(r);
  res_str("name", a, nlen);
  res_u64("copied", copied);
  res_end();
}

static void do_simple_ioctl(const struct op *op, unsigned long cmd, unsigned long arg) {
  int err, r = ioctl_int(region_fd(op->arg[0]), cmd, arg, &err);
  finish_call(op, r, err);
}

static void do_pin(const struct op *op, unsigned long cmd) {
  struct ashmem_pin pin = {(uint32_t)op->arg[1], (uint32_t)op->arg[2]};
  do_simple_ioctl(op, cmd, (unsigned long)(uintptr_t)&pin);
}

static void do_file_id(const struct op *op) {
  unsigned long id = 0;
  int err, r = ioctl_int(region_fd(op->arg[0]), ASHMEM_GET_FILE_ID, (unsigned long)(uintptr_t)&id, &err);
  begin(op);
  if (failed(r)) {
    res_errno(err);
  } else {
    res_ret(r);
    res_u64("id", id);
  }
  res_end();
}

static void do_mmap(const struct op *op) {
  uint64_t len = op->arg[2];
  if (len > SIZE_MAX) {
    finish_error(op, "unsupported", "length does not fit this ABI's size_t");
    return;
  }
  int fd = region_fd(op->arg[1]);
  errno = 0;
  uint64_t kind = op->arg[4];
  int flags = kind == MAP_KIND_PRIVATE || kind == MAP_KIND_PRIVATE_NORESERVE ? MAP_PRIVATE : MAP_SHARED;
  if (kind == MAP_KIND_SHARED_NORESERVE || kind == MAP_KIND_PRIVATE_NORESERVE) flags |= MAP_NORESERVE;
  void *a = mmap(NULL, (size_t)len, (int)op->arg[3], flags, fd, (off_t)op->arg[5]);
  int err = errno;
  struct mapping *m = map_set(op->arg[0]);
  /* A redefined handle leaves the old mapping (and its reserved holes) where it was, untracked. */
  m->nholes = 0;
  if (a == MAP_FAILED) {
    m->live = 0;
    finish_call(op, -1, err);
    return;
  }
  m->live = 1;
  m->addr = a;
  m->len = (size_t)len;
  finish_call(op, 0, 0);
}

static void do_munmap(const struct op *op) {
  struct mapping *m = map_find(op->arg[0]);
  if (m == NULL || !m->live) {
    finish_error(op, "state", "mapping is not mapped (its mmap failed or it was unmapped)");
    return;
  }
  errno = 0;
  int r = munmap(m->addr, m->len); /* takes the hole reservations with it */
  int err = errno;
  if (r == 0) {
    m->live = 0;
    m->nholes = 0;
  }
  finish_call(op, r, err);
}

/* munmap of a window inside a mapping: the kernel checks alignment and length (EINVAL); the
 * window check keeps the call from reaching memory the script does not own. */
static void do_munmap_range(const struct op *op) {
  unsigned char *p = window(op, op->arg[1], op->arg[2]);
  if (p == NULL) return;
  errno = 0;
  int r = munmap(p, (size_t)op->arg[2]);
  int err = errno;
  if (r == 0) {
    struct mapping *m = map_find(op->arg[0]);
    /* munmap took whole pages: the hole is the window rounded out to them. */
    size_t page = page_size(), off = (size_t)op->arg[1] / page * page;
    size_t end = ((size_t)op->arg[1] + (size_t)op->arg[2] + page - 1) / page * page;
    if (end > m->len) end = m->len;
    hole_add(m, off, end - off);
    holes_reserve(m);
  }
  finish_call(op, r, err);
}

static void do_mprotect(const struct op *op) {
  struct mapping *m = map_find(op->arg[0]);
  if (m == NULL || !m->live) {
    finish_error(op, "state", "mapping is not mapped (its mmap failed or it was unmapped)");
    return;
  }
  holes_lift(m);
  errno = 0;
  int r = mprotect(m->addr, m->len, (int)op->arg[1]);
  int err = errno;
  holes_reserve(m);
  finish_call(op, r, err);
}

/** A buffer of `len` zero bytes for read/write (anonymous memory: untouched pages cost nothing). */
static unsigned char *big_buffer(uint64_t len) {
  static unsigned char one[1];
  if (len == 0) return one;
  if (len > SIZE_MAX) return NULL;
  void *p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

static void big_free(unsigned char *p, uint64_t len) {
  if (len > 0) munmap(p, (size_t)len);
}

static void do_read(const struct op *op) {
  uint64_t len = op->arg[1];
  unsigned char *buf = big_buffer(len);
  if (buf == NULL) {
    finish_error(op, "unsupported", "cannot allocate a read buffer of that length here");
    return;
  }
  errno = 0;
  ssize_t n = read(region_fd(op->arg[0]), buf, (size_t)len);
  int err = errno;
  begin(op);
  if (failed(n)) {
    res_errno(err);
  } else {
    struct runs r = {0, 0, 0, 0};
    runs_add_bytes(&r, buf, (size_t)n);
    if (r.overflow) {
      res_error("unsupported", "the read happened (the position moved) but its bytes hold more than 4194304 runs: read less");
    } else {
      res_ret(n);
      res_runs("rle", &r);
    }
    free(r.v);
  }
  res_end();
  big_free(buf, len);
}

static void do_write(const struct op *op) {
  uint64_t len = op->arg[1];
  unsigned char *buf = big_buffer(len);
  if (buf == NULL) {
    finish_error(op, "unsupported", "cannot allocate a write buffer of that length here");
    return;
  }
  errno = 0;
  ssize_t n = write(region_fd(op->arg[0]), buf, (size_t)len);
  int err = errno;
  big_free(buf, len);
  finish_call(op, n, err);
}

static void do_lseek(const struct op *op) {
  static const int whence[] = {SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE};
  errno = 0;
  off_t r = lseek(region_fd(op->arg[0]), (off_t)op->arg[1], whence[op->arg[2] % 5u]);
  finish_call(op, (long long)r, errno);
}

static void do_fstat(const struct op *op) {
  struct stat st;
  errno = 0;
  int r = fstat(region_fd(op->arg[0]), &st);
  int err = errno;
  begin(op);
  if (failed(r)) {
    res_errno(err);
  } else {
    const char *mode = S_ISCHR(st.st_mode) ? "chr" : S_ISREG(st.st_mode) ? "reg" : "other";
    res_ret(0);
    res_str("mode", (const unsigned char *)mode, strlen(mode));
    res_i64("size", (int64_t)st.st_size);
  }
  res_end();
}

/* capget/capset with the v3 layout (two 32-bit words per set), declared here: libc headers only. */
struct cap_header {
  uint32_t version;
  int pid;
};
struct cap_data {
  uint32_t effective, permitted, inheritable;
};
#define CAP_V3 0x20080522u
#define CAP_BIT_SETPCAP 8
#define CAP_BIT_SYS_ADMIN 21
#ifndef PR_CAPBSET_DROP
#define PR_CAPBSET_DROP 24
#endif

/* Drops CAP_SYS_ADMIN from this process: from the bounding set first (needs CAP_SETPCAP, which
 * stays), then from effective, permitted and inheritable. A process without it only narrows
 * sets it does not hold: capset always allows that. */
static void do_drop_cap(const struct op *op) {
  struct cap_header h = {CAP_V3, 0};
  struct cap_data d[2];
  memset(d, 0, sizeof d);
  if (syscall(SYS_capget, &h, d) == -1) {
    finish_call(op, -1, errno);
    return;
  }
  if (((d[0].effective >> CAP_BIT_SETPCAP) & 1u) && prctl(PR_CAPBSET_DROP, CAP_BIT_SYS_ADMIN, 0, 0, 0) == -1) {
    finish_call(op, -1, errno);
    return;
  }
  uint32_t bit = 1u << CAP_BIT_SYS_ADMIN;
  d[0].effective &= ~bit;
  d[0].permitted &= ~bit;
  d[0].inheritable &= ~bit;
  h.version = CAP_V3;
  h.pid = 0;
  errno = 0;
  long r = syscall(SYS_capset, &h, d);
  finish_call(op, r, errno);
}

static void do_drop_caches(const struct op *op) {
  char text[2] = {(char)('0' + (int)op->arg[0]), '\n'};
  int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    finish_call(op, -1, errno);
    return;
  }
  errno = 0;
  ssize_t n = write(fd, text, sizeof text);
  int err = errno;
  close(fd);
  finish_call(op, failed(n) ? -1 : 0, err);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/** Memory pressure from a helper child that is always SIGKILLed after `seconds`. */
static void do_pressure(const struct op *op) {
  uint64_t mib = op->arg[0], seconds = op->arg[1];
  fflush(g_out);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    finish_call(op, -1, errno);
    return;
  }
  if (pid == 0) {
    /* Never outlive the probe (a timed-out probe is SIGKILLed and cannot kill its helper). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(0);
    /* The helper, not the probe, is what the OOM killer should pick. */
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      if (write(fd, "1000\n", 5) < 0) {
      }
      close(fd);
    }
    size_t page = page_size();
    for (uint64_t i = 0; i < mib; i++) {
      unsigned char *p = malloc(1u << 20);
      if (p == NULL) break;
      for (size_t k = 0; k < (1u << 20); k += page) p[k] = 1;
    }
    for (;;) pause();
  }
  long long limit = (long long)(seconds > 3600 ? 3600 : seconds) * 1000;
  long long start = now_ms();
  int status = 0;
  while (now_ms() - start < limit) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      pid = -1;
      break;
    }
    sleep_ms(10);
  }
  if (pid > 0) {
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  finish_call(op, 0, 0);
}

void op_execute(const struct op *op) {
  const unsigned long word1 = (unsigned long)op->arg[1];
  int err;
  switch (op->kind) {
  case OP_OPEN: do_open(op); break;
  case OP_CLOSE: do_close(op); break;
  case OP_DUP: do_dup(op); break;
  case OP_SET_NAME: do_set_name(op); break;
  case OP_GET_NAME: do_get_name(op); break;
  case OP_SET_SIZE: do_simple_ioctl(op, ASHMEM_SET_SIZE, word1); break;
  case OP_GET_SIZE: do_simple_ioctl(op, ASHMEM_GET_SIZE, 0); break;
  case OP_SET_PROT: do_simple_ioctl(op, ASHMEM_SET_PROT_MASK, word1); break;
  case OP_GET_PROT: do_simple_ioctl(op, ASHMEM_GET_PROT_MASK, 0); break;
  case OP_PIN: do_pin(op, ASHMEM_PIN); break;
  case OP_UNPIN: do_pin(op, ASHMEM_UNPIN); break;
  case OP_STATUS: do_pin(op, ASHMEM_GET_PIN_STATUS); break;
  case OP_PIN_NULL: do_simple_ioctl(op, ASHMEM_PIN, 0); break;
  case OP_UNPIN_NULL: do_simple_ioctl(op, ASHMEM_UNPIN, 0); break;
  case OP_STATUS_NULL: do_simple_ioctl(op, ASHMEM_GET_PIN_STATUS, 0); break;
  case OP_SET_NAME_NULL: do_simple_ioctl(op, ASHMEM_SET_NAME, 0); break;
  case OP_GET_NAME_NULL: do_simple_ioctl(op, ASHMEM_GET_NAME, 0); break;
  case OP_FILE_ID_NULL: do_simple_ioctl(op, ASHMEM_GET_FILE_ID, 0); break;
  case OP_PURGE_ALL: do_simple_ioctl(op, ASHMEM_PURGE_ALL_CACHES, 0); break;
  case OP_FILE_ID: do_file_id(op); break;
  case OP_IOCTL: do_simple_ioctl(op, word1, (unsigned long)op->arg[2]); break;
  case OP_MMAP: do_mmap(op); break;
  case OP_MUNMAP: do_munmap(op); break;
  case OP_MPROTECT: do_mprotect(op); break;
  case OP_FILL: do_fill(op); break;
  case OP_CHECK: do_check(op); break;
  case OP_MINCORE: do_mincore(op); break;
  case OP_READ: do_read(op); break;
  case OP_WRITE: do_write(op); break;
  case OP_LSEEK: do_lseek(op); break;
  case OP_FSTAT: do_fstat(op); break;
  case OP_TRUNCATE:
    errno = 0;
    err = ftruncate(region_fd(op->arg[0]), (off_t)op->arg[1]);
    finish_call(op, err, errno);
    break;
  case OP_ADD_SEALS:
    errno = 0;
    err = fcntl(region_fd(op->arg[0]), F_ADD_SEALS, (int)(uint32_t)op->arg[1]);
    finish_call(op, err, errno);
    break;
  case OP_GET_SEALS:
    errno = 0;
    err = fcntl(region_fd(op->arg[0]), F_GET_SEALS);
    finish_call(op, err, errno);
    break;
  case OP_PERSONALITY:
    errno = 0;
    err = personality(op->arg[0] == PERS_READ_IMPLIES_EXEC ? (unsigned long)(PER_LINUX | READ_IMPLIES_EXEC)
                                                           : (unsigned long)PER_LINUX);
    /* personality() returns the previous persona: only -1 is a failure. */
    finish_call(op, failed(err) ? -1 : 0, errno);
    break;
  case OP_DROP_CACHES: do_drop_caches(op); break;
  case OP_PRESSURE: do_pressure(op); break;
  case OP_SET_NAME_AT_PAGE_END: do_set_name_at_page_end(op); break;
  case OP_IOCTL_BUF: do_ioctl_buf(op); break;
  case OP_MUNMAP_RANGE: do_munmap_range(op); break;
  case OP_DROP_CAP: do_drop_cap(op); break;
  default:
    finish_error(op, "unsupported", "this op does not run in the native probe");
    break;
  }
}
