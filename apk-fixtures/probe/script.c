/*
 * The script loop: reads lines, parses and checks them (handles defined before use, processes
 * forked before use: the cross-line rules of harness/ops/parse.ts), runs each op in the main
 * process or forwards it to the child process that its prefix names, and writes results in
 * script order. One op at a time, so the output is deterministic.
 *
 * Parent -> child: a header {u32 line, u32 len} and the raw line (the child parses it again);
 * len == CHILD_EXIT asks the child to exit. Child -> parent: exactly one result line per op.
 */
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILD_EXIT 0xFFFFFFFFu

/* ---- line reader --------------------------------------------------------------------------- */

void reader_fd(struct line_reader *r, int fd) {
  memset(r, 0, sizeof *r);
  r->fd = fd;
  r->cap = PROBE_MAX_LINE + 65536u;
  r->buf = malloc(r->cap);
  if (r->buf == NULL) abort();
}

void reader_mem(struct line_reader *r, const unsigned char *mem, size_t len) {
  memset(r, 0, sizeof *r);
  r->fd = -1;
  r->mem = mem;
  r->memlen = len;
}

void reader_free(struct line_reader *r) {
  free(r->buf);
  r->buf = NULL;
}

static int reader_next_mem(struct line_reader *r, const unsigned char **line, size_t *len, int *too_long) {
  if (r->mempos >= r->memlen) return 0;
  const unsigned char *s = r->mem + r->mempos;
  size_t left = r->memlen - r->mempos;
  const unsigned char *nl = memchr(s, '\n', left);
  size_t n = nl ? (size_t)(nl - s) : left;
  r->mempos += nl ? n + 1 : n;
  *line = s;
  *too_long = n > PROBE_MAX_LINE;
  *len = *too_long ? PROBE_MAX_LINE : n;
  return 1;
}

/* In skip mode (after an overlong line) bytes are dropped up to the next newline. */
int reader_next(struct line_reader *r, const unsigned char **line, size_t *len, int *too_long) {
  if (r->fd < 0) return reader_next_mem(r, line, len, too_long);
  *too_long = 0;
  for (;;) {
    unsigned char *s = r->buf + r->start;
    size_t avail = r->end - r->start;
    unsigned char *nl = memchr(s, '\n', avail);
    if (r->eof == 2) { /* skipping the rest of an overlong line */
      if (nl) {
        r->start += (size_t)(nl - s) + 1;
        r->eof = 0;
        continue;
      }
      r->start = r->end = 0;
    } else if (nl) {
      /* A whole line in the buffer may still be over the limit (the buffer holds a little more). */
      size_t n = (size_t)(nl - s);
      *line = s;
      *too_long = n > PROBE_MAX_LINE;
      *len = *too_long ? PROBE_MAX_LINE : n;
      r->start += n + 1;
      return 1;
    } else if (avail > PROBE_MAX_LINE) {
      *line = s;
      *len = PROBE_MAX_LINE;
      *too_long = 1;
      r->start = r->end = 0; /* the returned bytes stay in place until the next call */
      r->eof = 2;
      return 1;
    } else if (r->eof == 1) {
      if (avail == 0) return 0;
      *line = s;
      *len = avail;
      r->start = r->end;
      return 1;
    }
    if (r->eof == 1) return 0;
    if (r->start > 0 && r->eof != 2) {
      memmove(r->buf, r->buf + r->start, r->end - r->start);
      r->end -= r->start;
      r->start = 0;
    }
    ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (r->eof == 2) return 0;
      r->eof = 1;
      continue;
    }
    r->end += (size_t)n;
  }
}

/* ---- defined handles (the checker) and child processes ----------------------------------- */

struct proc {
  unsigned id;
  /* checker */
  int live, ever;
  struct idmap sets[H_COUNT];
  /* runtime (children only) */
  pid_t pid;
  int to_fd, from_fd;
  int alive;
};

struct run_state {
  struct idmap proc_index;
  struct proc *procs;
  size_t nprocs, cap;
  struct parser parser;
  unsigned char *relay;
  size_t relaycap;
};

static struct proc *proc_get(struct run_state *st, unsigned id, int create) {
  uint32_t k;
  if (idmap_get(&st->proc_index, id, &k)) return &st->procs[k];
  if (!create) return NULL;
  if (st->nprocs == st->cap) {
    size_t nc = st->cap ? st->cap * 2 : 8;
    struct proc *np = realloc(st->procs, nc * sizeof *np);
    if (np == NULL) abort();
    st->procs = np;
    st->cap = nc;
  }
  idmap_put(&st->proc_index, id, (uint32_t)st->nprocs);
  struct proc *p = &st->procs[st->nprocs++];
  memset(p, 0, sizeof *p);
  p->id = id;
  p->to_fd = p->from_fd = -1;
  return p;
}

static const char *const CLASS_NAME[H_COUNT] = {"region", "mapping", "MemoryFile", "SharedMemory", "buffer"};
static const char *const CLASS_LETTER[H_COUNT] = {"r", "m", "f", "s", "b"};
static const char *const CLASS_DEFINER[H_COUNT] = {"open or dup", "mmap", "mf_create", "sm_create", "sm_map"};

static int check_fail(struct parse_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int check_fail(struct parse_error *err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  err->col = 1;
  return -1;
}

/** The cross-line rules, in the order parse.ts applies them (its errors are at column 1). */
static int check_op(struct run_state *st, const struct op *op, struct parse_error *err) {
  struct proc *p = proc_get(st, op->proc, 0);
  if (p == NULL || !p->live) {
    if (p != NULL && p->ever) return check_fail(err, "process p%u has exited", op->proc);
    return check_fail(err, "process p%u was never forked (use \"fork p%u\" first)", op->proc, op->proc);
  }
  const struct op_spec *spec = &OP_SPECS[op->kind];
  int failed = 0;
  for (unsigned k = 0; k < spec->nargs; k++) {
    int cls = arg_handle_class(spec->type[k]);
    if (cls < 0) continue;
    if (!arg_is_new(spec->type[k])) {
      if (!failed && !idmap_get(&p->sets[cls], op->arg[k], NULL)) {
        check_fail(err, "%s %s%llu is not defined in p%u (%s it first)", CLASS_NAME[cls], CLASS_LETTER[cls],
                   (unsigned long long)op->arg[k], op->proc, CLASS_DEFINER[cls]);
        failed = 1;
      }
    } else {
      idmap_put(&p->sets[cls], op->arg[k], 1);
    }
  }
  if (failed) return -1;
  if (op->kind == OP_FORK || op->kind == OP_EXIT) {
    unsigned child = (unsigned)op->arg[0];
    const char *verb = op->kind == OP_FORK ? "fork" : "exit";
    if (op->proc != 0) return check_fail(err, "only p0 may %s", verb);
    if (child == 0) return check_fail(err, "p0 is the main process");
    struct proc *c = proc_get(st, child, 1);
    p = proc_get(st, 0, 0); /* proc_get may have moved the array */
    if (op->kind == OP_FORK) {
      if (c->live) return check_fail(err, "process p%u is already running", child);
      c->live = 1;
      c->ever = 1;
      for (int h = 0; h < H_COUNT; h++) idmap_copy(&c->sets[h], &p->sets[h]);
    } else {
      if (!c->live) return check_fail(err, "process p%u is not running", child);
      c->live = 0;
    }
  }
  return 0;
}

/* ---- children ------------------------------------------------------------------------------ */

static int write_all(int fd, const void *buf, size_t len) {
  const unsigned char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int read_all(int fd, void *buf, size_t len) {
  unsigned char *p = buf;
  while (len > 0) {
    ssize_t n = read(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static unsigned long g_child_results;

/** A child process: runs the lines its parent forwards, answers each with one result line. */
static void child_main(int in_fd, int out_fd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  g_results = &g_child_results;
  g_out = fdopen(out_fd, "w");
  if (g_out == NULL) _exit(4);
  setvbuf(g_out, NULL, _IOFBF, 1 << 16);
  struct parser parser;
  parser_init(&parser);
  unsigned char *buf = malloc(PROBE_MAX_LINE + 1);
  if (buf == NULL) _exit(4);
  for (;;) {
    uint32_t hdr[2];
    if (read_all(in_fd, hdr, sizeof hdr) < 0 || hdr[1] == CHILD_EXIT) _exit(0);
    if (hdr[1] > PROBE_MAX_LINE || read_all(in_fd, buf, hdr[1]) < 0) _exit(4);
    struct op op;
    struct parse_error err;
    if (parse_line(&parser, buf, hdr[1], hdr[0], &op, &err) != 1) {
      res_begin(hdr[0], "?", 0);
      res_error("state", "the child could not parse a forwarded line");
      res_end();
      continue;
    }
    op_execute(&op);
  }
}

static void proc_reap(struct proc *c, int *status) {
  *status = 0;
  if (c->to_fd >= 0) close(c->to_fd);
  if (c->from_fd >= 0) close(c->from_fd);
  c->to_fd = c->from_fd = -1;
  while (waitpid(c->pid, status, 0) < 0 && errno == EINTR) {
  }
  c->alive = 0;
}

static void fork_result_errno(const struct op *op, int e) {
  res_begin(op->line, "fork", 0);
  res_errno(e);
  res_end();
}

static void do_fork(struct run_state *st, const struct op *op) {
  unsigned id = (unsigned)op->arg[0];
  struct proc *c = proc_get(st, id, 1);
  int down[2], up[2];
  if (pipe2(down, O_CLOEXEC) < 0) {
    fork_result_errno(op, errno);
    return;
  }
  if (pipe2(up, O_CLOEXEC) < 0) {
    int e = errno;
    close(down[0]);
    close(down[1]);
    fork_result_errno(op, e);
    return;
  }
  /* Only whole lines are ever buffered here (the result line is begun after the fork), and they
     go out now: the child must not inherit buffered output, nor may half a line reach a stream
     that something else might write to. */
  fflush(g_out);
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(down[0]);
    close(down[1]);
    close(up[0]);
    close(up[1]);
    fork_result_errno(op, e);
    return;
  }
  if (pid == 0) {
    /* Other children's pipes stay with the parent only, so their EOF still means "gone". */
    for (size_t i = 0; i < st->nprocs; i++) {
      if (st->procs[i].to_fd >= 0) close(st->procs[i].to_fd);
      if (st->procs[i].from_fd >= 0) close(st->procs[i].from_fd);
    }
    close(down[1]);
    close(up[0]);
    child_main(down[0], up[1]);
  }
  close(down[0]);
  close(up[1]);
  c->pid = pid;
  c->to_fd = down[1];
  c->from_fd = up[0];
  c->alive = 1;
  res_begin(op->line, "fork", 0);
  res_ret(0);
  res_end();
}

static void report_dead(const struct op *op, struct proc *c, int status) {
  res_begin(op->line, OP_SPECS[op->kind].name, op->proc);
  if (WIFSIGNALED(status)) {
    res_signal(WTERMSIG(status));
  } else {
    char msg[120];
    snprintf(msg, sizeof msg, "process p%u exited (status %d) before answering", c->id,
             WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    res_error("state", msg);
  }
  res_end();
}

static void do_exit(struct run_state *st, const struct op *op) {
  struct proc *c = proc_get(st, (unsigned)op->arg[0], 0);
  res_begin(op->line, "exit", 0);
  if (c == NULL || !c->alive) {
    res_error("state", "the process is not running (its fork failed or it died)");
    res_end();
    return;
  }
  uint32_t hdr[2] = {op->line, CHILD_EXIT};
  (void)write_all(c->to_fd, hdr, sizeof hdr);
  int status;
  proc_reap(c, &status);
  if (WIFSIGNALED(status)) res_signal(WTERMSIG(status));
  else res_ret(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  res_end();
}

/** Forwards a line to its child and copies the child's result line to the output. */
static void forward(struct run_state *st, const struct op *op, const unsigned char *text, size_t len) {
  struct proc *c = proc_get(st, op->proc, 0);
  if (c == NULL || !c->alive) {
    res_begin(op->line, OP_SPECS[op->kind].name, op->proc);
    res_error("state", "the process is not running (its fork failed or it died)");
    res_end();
    return;
  }
  uint32_t hdr[2] = {op->line, (uint32_t)len};
  int ok = write_all(c->to_fd, hdr, sizeof hdr) == 0 && write_all(c->to_fd, text, len) == 0;
  size_t used = 0;
  while (ok) {
    if (st->relaycap - used < 65536) {
      size_t nc = st->relaycap ? st->relaycap * 2 : 1u << 16;
      unsigned char *nb = realloc(st->relay, nc);
      if (nb == NULL) abort();
      st->relay = nb;
      st->relaycap = nc;
    }
    ssize_t n = read(c->from_fd, st->relay + used, st->relaycap - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = 0;
      break;
    }
    used += (size_t)n;
    if (st->relay[used - 1] == '\n') break; /* one line per op; JSON strings never hold a raw newline */
  }
  if (!ok) {
    int status;
    proc_reap(c, &status);
    report_dead(op, c, status);
    return;
  }
  fwrite(st->relay, 1, used, g_out);
  if (fflush(g_out) != 0) _exit(3);
  (*g_results)++;
}

/* ---- the loop ------------------------------------------------------------------------------ */

static void parse_error_result(unsigned line, const char *op, const struct parse_error *err) {
  res_begin(line, op, 0);
  res_error("parse", err->message);
  res_u64("col", err->col);
  res_end();
}

unsigned long script_run(struct line_reader *r) {
  struct run_state st;
  memset(&st, 0, sizeof st);
  parser_init(&st.parser);
  struct proc *p0 = proc_get(&st, 0, 1);
  p0->live = p0->ever = 1;
  unsigned long before = *g_results;
  const unsigned char *text;
  size_t len;
  int too_long;
  unsigned line = 0;
  while (reader_next(r, &text, &len, &too_long)) {
    line++;
    struct op op;
    struct parse_error err;
    char word[72];
    if (too_long) {
      line_op_word(text, len, word, sizeof word);
      snprintf(err.message, sizeof err.message, "line too long (more than %u bytes)", PROBE_MAX_LINE);
      err.col = col_of(text, len); /* the first byte past the limit */
      parse_error_result(line, word, &err);
      continue;
    }
    int rc = parse_line(&st.parser, text, len, line, &op, &err);
    if (rc == 0) continue;
    if (rc < 0) {
      line_op_word(text, len, word, sizeof word);
      parse_error_result(line, word, &err);
      continue;
    }
    if (check_op(&st, &op, &err) < 0) {
      parse_error_result(line, OP_SPECS[op.kind].name, &err);
      continue;
    }
    if (g_cfg.parse_only) {
      res_begin(line, OP_SPECS[op.kind].name, op.proc);
      res_ret(0);
      res_end();
    } else if (OP_SPECS[op.kind].java) {
      res_begin(line, OP_SPECS[op.kind].name, op.proc);
      res_error("unsupported", "Java-layer op: the fixture APK runs it, not the native probe");
      res_end();
    } else if (op.kind == OP_FORK) {
      do_fork(&st, &op);
    } else if (op.kind == OP_EXIT) {
      do_exit(&st, &op);
    } else if (op.proc != 0) {
      forward(&st, &op, text, len);
    } else {
      op_execute(&op);
    }
  }
  /* Children still running at the end exit quietly (no result lines). */
  for (size_t i = 0; i < st.nprocs; i++) {
    struct proc *c = &st.procs[i];
    if (c->alive) {
      uint32_t hdr[2] = {0, CHILD_EXIT};
      (void)write_all(c->to_fd, hdr, sizeof hdr);
      int status;
      proc_reap(c, &status);
    }
    for (int h = 0; h < H_COUNT; h++) idmap_free(&c->sets[h]);
  }
  free(st.procs);
  idmap_free(&st.proc_index);
  free(st.relay);
  parser_free(&st.parser);
  return *g_results - before;
}
