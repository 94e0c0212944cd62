/*
 * ashmem-probe: runs op scripts (docs/op-scripts.md) against /dev/ashmem or a memfd and writes
 * one JSON result line per op. Shared declarations of the probe's parts:
 *   parse.c   op-script tokenizer and parser (mirrors harness/ops/parse.ts)
 *   json.c    result lines, errno and signal names
 *   ops.c     one op in the current process (regions, mappings, faults, purge triggers)
 *   script.c  line reading, handle checks, child processes (fork/exit), the script loop
 *   main.c    options, the hello line, backend detection, agent mode (--listen)
 * Only libc headers are used; the ashmem UAPI is defined here.
 */
#ifndef ASHMEM_PROBE_H
#define ASHMEM_PROBE_H

/* Before any libc header: memfd, pipe2, accept4, and a 64-bit off_t on 32-bit ABIs. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PROBE_VERSION "0.1.0"

/** Longest script line accepted (bytes, without the newline). */
#define PROBE_MAX_LINE (1u << 20)
/** Longest string after a `*N` repeat (LIMITS.stringBytes in signatures.ts). */
#define PROBE_MAX_REPEAT 65536u
#define PROBE_MAX_ARGS 6

/* ---- ashmem UAPI (asm-generic _IOC layout: x86, ARM, arm64) ------------------------------- */

#define PROBE_IOC(dir, type, nr, size) \
  ((unsigned long)(((unsigned long)(dir) << 30) | ((unsigned long)(size) << 16) | \
                   ((unsigned long)(type) << 8) | (unsigned long)(nr)))
#define PROBE_IO(t, n) PROBE_IOC(0u, t, n, 0u)
#define PROBE_IOW(t, n, sz) PROBE_IOC(1u, t, n, sz)
#define PROBE_IOR(t, n, sz) PROBE_IOC(2u, t, n, sz)

#define ASHMEM_IOC_TYPE 0x77u
#define ASHMEM_NAME_LEN 256u

/* The numbers as this build's word size makes them: a 32-bit build gets the compat encodings of
 * SET_SIZE (size_t), SET_PROT_MASK and GET_FILE_ID (unsigned long) through sizeof, exactly as a
 * 32-bit C caller including <linux/ashmem.h> would. */
#define ASHMEM_SET_NAME PROBE_IOW(ASHMEM_IOC_TYPE, 1u, ASHMEM_NAME_LEN)
#define ASHMEM_GET_NAME PROBE_IOR(ASHMEM_IOC_TYPE, 2u, ASHMEM_NAME_LEN)
#define ASHMEM_SET_SIZE PROBE_IOW(ASHMEM_IOC_TYPE, 3u, sizeof(size_t))
#define ASHMEM_GET_SIZE PROBE_IO(ASHMEM_IOC_TYPE, 4u)
#define ASHMEM_SET_PROT_MASK PROBE_IOW(ASHMEM_IOC_TYPE, 5u, sizeof(unsigned long))
#define ASHMEM_GET_PROT_MASK PROBE_IO(ASHMEM_IOC_TYPE, 6u)
#define ASHMEM_PIN PROBE_IOW(ASHMEM_IOC_TYPE, 7u, sizeof(struct ashmem_pin))
#define ASHMEM_UNPIN PROBE_IOW(ASHMEM_IOC_TYPE, 8u, sizeof(struct ashmem_pin))
#define ASHMEM_GET_PIN_STATUS PROBE_IO(ASHMEM_IOC_TYPE, 9u)
#define ASHMEM_PURGE_ALL_CACHES PROBE_IO(ASHMEM_IOC_TYPE, 10u)
#define ASHMEM_GET_FILE_ID PROBE_IOR(ASHMEM_IOC_TYPE, 11u, sizeof(unsigned long))

/* Both encodings spelled out (ashmem-semantics.md §1.3), for reference and the checks below. */
#define ASHMEM_SET_SIZE_NATIVE64 0x40087703ul
#define ASHMEM_SET_SIZE_COMPAT32 0x40047703ul
#define ASHMEM_SET_PROT_MASK_NATIVE64 0x40087705ul
#define ASHMEM_SET_PROT_MASK_COMPAT32 0x40047705ul
#define ASHMEM_GET_FILE_ID_NATIVE64 0x8008770bul
#define ASHMEM_GET_FILE_ID_COMPAT32 0x8004770bul

struct ashmem_pin {
  uint32_t offset;
  uint32_t len;
};

/* ---- ops ----------------------------------------------------------------------------------- */

enum arg_type {
  A_REGION, A_NEW_REGION, A_MAPPING, A_NEW_MAPPING, A_PROC, A_NEW_PROC,
  A_U32, A_COUNT, A_WORD, A_PROT, A_BYTE, A_STRING,
  A_MAP, A_WHENCE, A_OPEN_MODE, A_DROP_MODE, A_PERSONALITY, A_INT, A_BOOL,
  A_MF, A_NEW_MF, A_SM, A_NEW_SM, A_BUF, A_NEW_BUF, A_OFFSET, A_CAP
};

/** Handle classes (which table or defined-set a handle belongs to). */
enum handle_class { H_REGION, H_MAPPING, H_MF, H_SM, H_BUF, H_COUNT, H_NONE = -1, H_PROC = -2 };

/** Op kinds in the order of SIGNATURES in harness/ops/signatures.ts. */
enum op_kind {
  OP_OPEN, OP_CLOSE, OP_DUP, OP_SET_NAME, OP_GET_NAME, OP_SET_SIZE, OP_GET_SIZE, OP_SET_PROT,
  OP_GET_PROT, OP_PIN, OP_UNPIN, OP_STATUS, OP_PIN_NULL, OP_UNPIN_NULL, OP_STATUS_NULL,
  OP_SET_NAME_NULL, OP_GET_NAME_NULL, OP_FILE_ID_NULL, OP_PURGE_ALL, OP_FILE_ID, OP_IOCTL,
  OP_MMAP, OP_MUNMAP, OP_MPROTECT, OP_FILL, OP_CHECK, OP_MINCORE, OP_READ, OP_WRITE, OP_LSEEK,
  OP_FSTAT, OP_TRUNCATE, OP_ADD_SEALS, OP_GET_SEALS, OP_PERSONALITY, OP_DROP_CACHES,
  OP_PRESSURE, OP_FORK, OP_EXIT, OP_SET_NAME_AT_PAGE_END, OP_IOCTL_BUF, OP_MUNMAP_RANGE, OP_DROP_CAP,
  OP_MF_CREATE, OP_MF_ALLOW_PURGING, OP_MF_IS_PURGING_ALLOWED, OP_MF_WRITE, OP_MF_READ,
  OP_MF_LENGTH, OP_MF_CLOSE, OP_SM_CREATE, OP_SM_GET_SIZE, OP_SM_CLOSE, OP_SM_SET_PROTECT,
  OP_SM_MAP, OP_SM_MAP_RW, OP_SM_MAP_RO, OP_SM_UNMAP, OP_BUF_PUT, OP_BUF_GET, OP_APP_WAIT,
  OP_COUNT
};

/* Enumerated argument values. */
/* Bit 0: MAP_PRIVATE (else MAP_SHARED); bit 1: MAP_NORESERVE. */
enum { MAP_KIND_SHARED = 0, MAP_KIND_PRIVATE = 1, MAP_KIND_SHARED_NORESERVE = 2, MAP_KIND_PRIVATE_NORESERVE = 3 };
enum { WH_SET = 0, WH_CUR, WH_END, WH_DATA, WH_HOLE };
enum { MODE_RDWR = 0, MODE_RDONLY = 1 };
enum { PERS_DEFAULT = 0, PERS_READ_IMPLIES_EXEC = 1 };
enum { CAP_KIND_SYS_ADMIN = 0 };

struct op_spec {
  const char *name;
  /** Field names as in signatures.ts, for "needs N argument(s): ..." messages. */
  const char *fields;
  unsigned char nargs;
  unsigned char type[PROBE_MAX_ARGS];
  /** The last argument may be omitted and then takes `def`. */
  unsigned char has_default;
  uint64_t def;
  /** A Java-layer op (the fixture APK runs it; the probe answers "unsupported"). */
  unsigned char java;
};

extern const struct op_spec OP_SPECS[OP_COUNT];

/** One parsed line. Numbers, enum values and handle numbers are in `arg`, in text order. */
struct op {
  int kind;
  unsigned line;
  /** 0 for the main process p0, N for pN. */
  unsigned proc;
  uint64_t arg[PROBE_MAX_ARGS];
  /** The decoded string argument (set_name, ioctl_buf, mf_create, ...), owned by the parser. */
  const unsigned char *str;
  size_t str_len;
};

struct parse_error {
  /** 1-based column in UTF-16 code units, as the TypeScript parser counts. */
  unsigned col;
  char message[320];
};

struct token;
struct parser {
  struct token *tok;
  size_t ntok;
  unsigned char *strbuf;
  size_t strcap, strused;
  unsigned char *expbuf;
  size_t expcap;
};

void parser_init(struct parser *p);
void parser_free(struct parser *p);
/** Parses one line: 1 = an op in *out, 0 = blank or comment, -1 = *err set. */
int parse_line(struct parser *p, const unsigned char *text, size_t len, unsigned line, struct op *out,
               struct parse_error *err);
/** The op word of a line for error results: the first word (after a prefix), or "?". */
void line_op_word(const unsigned char *text, size_t len, char *out, size_t cap);
/** The class of a handle argument type, H_PROC for processes, H_NONE for non-handles. */
int arg_handle_class(int type);
/** 1 when the argument type defines a new handle. */
int arg_is_new(int type);
/** The argument type's name as in signatures.ts ("new-region", "u32", ...). */
const char *arg_type_name(int type);
/** Column (1-based, UTF-16 units) of byte index `at` in a line. */
unsigned col_of(const unsigned char *text, size_t at);

/* ---- handle maps (idmap.c) ------------------------------------------------------------------ */

/** Handle number -> index (open addressing; keys are stored +1 so 0 marks an empty slot). */
struct idmap {
  uint32_t *keys, *vals;
  size_t cap, n;
};

int idmap_get(const struct idmap *m, uint64_t id, uint32_t *val);
void idmap_put(struct idmap *m, uint64_t id, uint32_t val);
void idmap_copy(struct idmap *dst, const struct idmap *src);
void idmap_free(struct idmap *m);

/* ---- results (json.c) ---------------------------------------------------------------------- */

/** Where results go: stdout, a pipe to the parent (in a child), or the agent's socket. */
extern FILE *g_out;
/** Counts result lines written by this process tree's script runner. */
extern volatile unsigned long *g_results;

void res_begin(unsigned line, const char *op, unsigned proc);
void res_ret(long long v);
void res_errno(int e);
void res_signal(int sig);
void res_error(const char *kind, const char *message);
void res_u64(const char *key, uint64_t v);
void res_i64(const char *key, int64_t v);
void res_str(const char *key, const unsigned char *bytes, size_t len);
void res_raw(const char *text);
/** Ends the line and flushes it; exits the process when the reader has gone. */
void res_end(void);
void json_write_str(FILE *f, const unsigned char *bytes, size_t len);
const char *errno_name(int e, char *buf, size_t cap);
const char *signal_name(int sig, char *buf, size_t cap);

/* ---- execution (ops.c) ----------------------------------------------------------------------- */

enum backend { BACKEND_ASHMEM, BACKEND_MEMFD };

struct probe_config {
  enum backend backend;
  char node[128];
  /** Parse and check only: every valid line answers ret 0 (for fuzzing and parser tests). */
  int parse_only;
};

extern struct probe_config g_cfg;

/** Installs the SIGBUS/SIGSEGV handlers on an alternate stack (once per process). */
void faults_install(void);
/** Runs one kernel op in the current process and writes its result line. */
void op_execute(const struct op *op);
/** Releases this process's tables (regions stay open: the process is about to exit). */
void ops_reset(void);

/* ---- scripts (script.c) ---------------------------------------------------------------------- */

struct line_reader {
  int fd; /* -1: memory */
  const unsigned char *mem;
  size_t memlen, mempos;
  unsigned char *buf;
  size_t cap, start, end;
  int eof;
};

void reader_fd(struct line_reader *r, int fd);
void reader_mem(struct line_reader *r, const unsigned char *mem, size_t len);
void reader_free(struct line_reader *r);
/** Next line without its newline: 1 = line, 0 = end. *too_long when it was cut at the limit. */
int reader_next(struct line_reader *r, const unsigned char **line, size_t *len, int *too_long);

/** Runs a whole script; returns the number of result lines written. */
unsigned long script_run(struct line_reader *r);

#endif
