/*
 * Result lines (docs/op-scripts.md, "Results"): {"i":N,"op":"...","proc":"pN", outcome, data}.
 * Strings are byte strings: every byte is one char code, and bytes outside printable ASCII are
 * written as \u00XX so a line never holds raw control or non-UTF-8 bytes.
 */
#include "probe.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

FILE *g_out;
static unsigned long g_results_local;
volatile unsigned long *g_results = &g_results_local;

void json_write_str(FILE *f, const unsigned char *b, size_t n) {
  static const char hex[] = "0123456789abcdef";
  fputc('"', f);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = b[i];
    if (c == '"' || c == '\\') {
      fputc('\\', f);
      fputc(c, f);
    } else if (c < 0x20 || c >= 0x7F) {
      char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      fwrite(e, 1, sizeof e, f);
    } else {
      fputc(c, f);
    }
  }
  fputc('"', f);
}

void res_begin(unsigned line, const char *op, unsigned proc) {
  fprintf(g_out, "{\"i\":%u,\"op\":", line);
  json_write_str(g_out, (const unsigned char *)op, strlen(op));
  if (proc != 0) fprintf(g_out, ",\"proc\":\"p%u\"", proc);
}

void res_ret(long long v) { fprintf(g_out, ",\"ret\":%lld", v); }

void res_errno(int e) {
  char buf[32];
  fprintf(g_out, ",\"errno\":\"%s\"", errno_name(e, buf, sizeof buf));
}

void res_signal(int sig) {
  char buf[32];
  fprintf(g_out, ",\"signal\":\"%s\"", signal_name(sig, buf, sizeof buf));
}

void res_error(const char *kind, const char *message) {
  fprintf(g_out, ",\"error\":\"%s\",\"message\":", kind);
  json_write_str(g_out, (const unsigned char *)message, strlen(message));
}

void res_u64(const char *key, uint64_t v) { fprintf(g_out, ",\"%s\":%llu", key, (unsigned long long)v); }

void res_i64(const char *key, int64_t v) { fprintf(g_out, ",\"%s\":%lld", key, (long long)v); }

void res_str(const char *key, const unsigned char *bytes, size_t len) {
  fprintf(g_out, ",\"%s\":", key);
  json_write_str(g_out, bytes, len);
}

void res_raw(const char *text) { fputs(text, g_out); }

void res_end(void) {
  fputs("}\n", g_out);
  if (fflush(g_out) != 0 || ferror(g_out)) _exit(3); /* the reader has gone: nothing to report to */
  (*g_results)++;
}

const char *errno_name(int e, char *buf, size_t cap) {
  switch (e) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF) E(ECHILD)
    E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(ENOTBLK) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV)
    E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(ETXTBSY) E(EFBIG) E(ENOSPC)
    E(ESPIPE) E(EROFS) E(EMLINK) E(EPIPE) E(EDOM) E(ERANGE) E(EDEADLK) E(ENAMETOOLONG) E(ENOLCK)
    E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(ENOMSG) E(EIDRM) E(ENODATA) E(ETIME) E(EOVERFLOW)
    E(EILSEQ) E(EOPNOTSUPP) E(EADDRINUSE) E(ECONNRESET) E(ETIMEDOUT) E(ECONNREFUSED) E(EALREADY)
    E(EINPROGRESS) E(ESTALE) E(EDQUOT) E(ECANCELED) E(EOWNERDEAD) E(EHWPOISON) E(ENOTCONN)
#undef E
  default:
    snprintf(buf, cap, "E%d", e);
    return buf;
  }
}

const char *signal_name(int sig, char *buf, size_t cap) {
  switch (sig) {
#define S(x) case x: return #x;
    S(SIGHUP) S(SIGINT) S(SIGQUIT) S(SIGILL) S(SIGTRAP) S(SIGABRT) S(SIGBUS) S(SIGFPE) S(SIGKILL)
    S(SIGUSR1) S(SIGSEGV) S(SIGUSR2) S(SIGPIPE) S(SIGALRM) S(SIGTERM) S(SIGCHLD) S(SIGCONT)
    S(SIGSTOP) S(SIGTSTP) S(SIGXCPU) S(SIGXFSZ) S(SIGSYS)
#undef S
  default:
    snprintf(buf, cap, "SIG%d", sig);
    return buf;
  }
}
