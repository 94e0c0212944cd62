/*
 * ashmem-probe [--backend ashmem|memfd|auto] [--parse-only] [--listen [ADDR:]PORT] [--version]
 *
 * Script mode (default): writes {"hello":{...}}, reads an op script on stdin, writes one result
 * line per op as it completes, then {"end":{"ops":N,"status":0}}.
 *
 * Agent mode (--listen [ADDR:]PORT, 127.0.0.1 unless ADDR is given, for `adb forward`): prints {"listening":{"port":P}} on
 * stdout (P is the real port, useful with PORT 0), then serves connections, each in its own
 * process. Per connection: the hello line, then for every case (script lines up to a line that is
 * exactly "%%end") the case runs in a fresh forked worker (its fds and mappings die with it),
 * its result lines stream back, then {"end":{"ops":N,"status":S}} (S: the worker's exit code, or
 * 128+signal with "signal":"SIGx" when it was killed). Closing the connection ends the session.
 */
#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PROBE_ABI
#if defined(__aarch64__)
#define PROBE_ABI "arm64-v8a"
#elif defined(__arm__)
#define PROBE_ABI "armeabi-v7a"
#elif defined(__x86_64__)
#define PROBE_ABI "x86_64"
#elif defined(__i386__)
#define PROBE_ABI "x86"
#else
#define PROBE_ABI "host"
#endif
#endif

/** Largest case the agent buffers (bytes of script text). */
#define AGENT_MAX_CASE (64u << 20)

static void usage(FILE *f) {
  fputs("usage: ashmem-probe [--backend ashmem|memfd|auto] [--parse-only] [--list-ops] [--listen [ADDR:]PORT] [--version]\n"
        "  Reads an op script (docs/op-scripts.md) on stdin and writes JSON result lines.\n"
        "  --listen [ADDR:]PORT  agent mode on ADDR:PORT (default 127.0.0.1): cases end with a line \"%%end\".\n",
        f);
}

/** Prints the op table as JSON, so a test can hold it against harness/ops/signatures.ts. */
static void list_ops(void) {
  printf("{\"ops\":[");
  for (int k = 0; k < OP_COUNT; k++) {
    const struct op_spec *s = &OP_SPECS[k];
    printf("%s{\"name\":\"%s\",\"fields\":\"%s\",\"args\":[", k ? "," : "", s->name, s->fields);
    for (unsigned a = 0; a < s->nargs; a++) printf("%s\"%s\"", a ? "," : "", arg_type_name(s->type[a]));
    printf("],\"java\":%s", s->java ? "true" : "false");
    if (s->has_default) {
      if (s->type[s->nargs - 1] == A_OPEN_MODE) printf(",\"default\":\"%s\"", s->def == MODE_RDONLY ? "rdonly" : "rdwr");
      else printf(",\"default\":%llu", (unsigned long long)s->def);
    }
    printf("}");
  }
  printf("]}\n");
}

/** Finds the ashmem node: /dev/ashmem<boot_id> (Android 10+) or /dev/ashmem. 1 when one opens. */
static int find_node(char *node, size_t cap) {
  char boot[64] = "";
  int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = read(fd, boot, sizeof boot - 1);
    close(fd);
    if (n < 0) n = 0;
    boot[n] = '\0';
    while (n > 0 && (boot[n - 1] == '\n' || boot[n - 1] == ' ' || boot[n - 1] == '\t' || boot[n - 1] == '\r'))
      boot[--n] = '\0';
  }
  char candidates[2][128];
  snprintf(candidates[0], sizeof candidates[0], "/dev/ashmem%s", boot);
  snprintf(candidates[1], sizeof candidates[1], "/dev/ashmem");
  for (int i = boot[0] ? 0 : 1; i < 2; i++) {
    int a = open(candidates[i], O_RDWR | O_CLOEXEC);
    if (a >= 0) {
      close(a);
      snprintf(node, cap, "%s", candidates[i]);
      return 1;
    }
  }
  snprintf(node, cap, "%s", access(candidates[0], F_OK) == 0 && boot[0] ? candidates[0] : candidates[1]);
  return 0;
}

static void write_hello(void) {
  struct utsname u;
  memset(&u, 0, sizeof u);
  uname(&u);
  long page = sysconf(_SC_PAGESIZE);
  fprintf(g_out, "{\"hello\":{\"probe\":\"%s\",\"kernel\":", PROBE_VERSION);
  json_write_str(g_out, (const unsigned char *)u.release, strlen(u.release));
  fputs(",\"machine\":", g_out);
  json_write_str(g_out, (const unsigned char *)u.machine, strlen(u.machine));
  fprintf(g_out, ",\"abi\":\"%s\",\"bits\":%u,\"backend\":\"%s\"", PROBE_ABI, (unsigned)(sizeof(void *) * 8),
          g_cfg.backend == BACKEND_ASHMEM ? "ashmem" : "memfd");
  if (g_cfg.backend == BACKEND_ASHMEM) {
    fputs(",\"node\":", g_out);
    json_write_str(g_out, (const unsigned char *)g_cfg.node, strlen(g_cfg.node));
  }
  fprintf(g_out, ",\"uid\":%u,\"page_size\":%ld", (unsigned)getuid(), page);
  /* RAM and swap: heuristic overcommit refuses one commit larger than both together. */
  struct sysinfo si;
  if (sysinfo(&si) == 0) {
    uint64_t unit = si.mem_unit ? si.mem_unit : 1;
    fprintf(g_out, ",\"mem_bytes\":%llu,\"swap_bytes\":%llu", (unsigned long long)((uint64_t)si.totalram * unit),
            (unsigned long long)((uint64_t)si.totalswap * unit));
  }
  fputs(",\"features\":[", g_out);
  /* Features: what this probe can do here. */
  const char *sep = "";
  int mfd = (int)syscall(SYS_memfd_create, "probe", 1u);
  if (mfd >= 0) {
    close(mfd);
    fprintf(g_out, "%s\"memfd\"", sep);
    sep = ",";
  }
  if (g_cfg.backend == BACKEND_ASHMEM) {
    fprintf(g_out, "%s\"ashmem\"", sep);
    sep = ",";
    if (geteuid() == 0) fprintf(g_out, ",\"purge_all\"");
  }
  if (access("/proc/sys/vm/drop_caches", W_OK) == 0) {
    fprintf(g_out, "%s\"drop_caches\"", sep);
    sep = ",";
  }
  fprintf(g_out, "%s\"fork\",\"pressure\",\"personality\"]}}\n", sep);
  fflush(g_out);
}

/* ---- agent mode ---------------------------------------------------------------------------- */

static void on_sigchld(int sig) {
  (void)sig;
  int e = errno;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = e;
}

/** Runs one case in a forked worker and writes its end line. */
static void agent_case(const unsigned char *text, size_t len) {
  volatile unsigned long *count =
      mmap(NULL, sizeof(unsigned long), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if ((void *)count == MAP_FAILED) {
    fputs("{\"end\":{\"ops\":0,\"status\":2,\"error\":\"no memory for the case\"}}\n", g_out);
    fflush(g_out);
    return;
  }
  *count = 0;
  fflush(g_out);
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    g_results = count;
    struct line_reader r;
    reader_mem(&r, text, len);
    script_run(&r);
    fflush(g_out);
    _exit(0);
  }
  int status = 0, code;
  if (pid < 0) {
    code = 2;
  } else {
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  fprintf(g_out, "{\"end\":{\"ops\":%lu,\"status\":%d", *count, code);
  if (pid > 0 && WIFSIGNALED(status)) {
    char buf[32];
    fprintf(g_out, ",\"signal\":\"%s\"", signal_name(WTERMSIG(status), buf, sizeof buf));
  }
  fputs("}}\n", g_out);
  if (fflush(g_out) != 0) _exit(3);
  munmap((void *)count, sizeof(unsigned long));
}

static void agent_session(int conn) {
  signal(SIGCHLD, SIG_DFL);
  g_out = fdopen(dup(conn), "w");
  if (g_out == NULL) _exit(4);
  setvbuf(g_out, NULL, _IOFBF, 1 << 16);
  write_hello();
  struct line_reader rd;
  reader_fd(&rd, conn);
  unsigned char *buf = NULL;
  size_t cap = 0;
  for (;;) {
    size_t used = 0;
    int too_big = 0, ended = 0;
    const unsigned char *line;
    size_t len;
    int too_long;
    while (reader_next(&rd, &line, &len, &too_long)) {
      if ((len == 5 && memcmp(line, "%%end", 5) == 0) || (len == 6 && memcmp(line, "%%end\r", 6) == 0)) {
        ended = 1;
        break;
      }
      size_t need = used + len + 2;
      if (need > AGENT_MAX_CASE) {
        too_big = 1;
        continue;
      }
      if (need > cap) {
        size_t nc = cap ? cap : 1u << 16;
        while (nc < need) nc *= 2;
        unsigned char *nb = realloc(buf, nc);
        if (nb == NULL) _exit(4);
        buf = nb;
        cap = nc;
      }
      memcpy(buf + used, line, len);
      used += len;
      if (too_long) buf[used++] = 'X'; /* keeps the line over the limit, so the worker reports it */
      buf[used++] = '\n';
    }
    if (!ended) break;
    if (too_big) {
      fprintf(g_out, "{\"end\":{\"ops\":0,\"status\":2,\"error\":\"case larger than %u bytes\"}}\n", AGENT_MAX_CASE);
      if (fflush(g_out) != 0) break;
      continue;
    }
    agent_case(buf ? buf : (const unsigned char *)"", used);
  }
  _exit(0);
}

/* `--listen [ADDR:]PORT`: 127.0.0.1 unless an address is given (a QEMU guest's user-mode network
 * forwards to the guest's own address, so the vm target listens on 0.0.0.0 there). */
static int agent_main(const char *spec) {
  char addr_text[64] = "127.0.0.1";
  const char *port_text = spec;
  const char *colon = strrchr(spec, ':');
  if (colon != NULL) {
    size_t n = (size_t)(colon - spec);
    if (n == 0 || n >= sizeof addr_text) {
      fprintf(stderr, "ashmem-probe: --listen needs [ADDR:]PORT, got \"%s\"\n", spec);
      return 2;
    }
    memcpy(addr_text, spec, n);
    addr_text[n] = '\0';
    port_text = colon + 1;
  }
  struct in_addr bind_addr;
  if (inet_pton(AF_INET, addr_text, &bind_addr) != 1) {
    fprintf(stderr, "ashmem-probe: --listen needs an IPv4 address, got \"%s\"\n", addr_text);
    return 2;
  }
  char *end;
  long port = strtol(port_text, &end, 10);
  if (*port_text == '\0' || *end != '\0' || port < 0 || port > 65535) {
    fprintf(stderr, "ashmem-probe: --listen needs a port number 0..65535, got \"%s\"\n", port_text);
    return 2;
  }
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    perror("ashmem-probe: socket");
    return 1;
  }
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr = bind_addr;
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 16) < 0) {
    fprintf(stderr, "ashmem-probe: cannot listen on %s:%ld: %s\n", addr_text, port, strerror(errno));
    return 1;
  }
  socklen_t alen = sizeof a;
  getsockname(s, (struct sockaddr *)&a, &alen);
  printf("{\"listening\":{\"port\":%u}}\n", (unsigned)ntohs(a.sin_port));
  fflush(stdout);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigchld;
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, NULL);
  for (;;) {
    int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      perror("ashmem-probe: accept");
      return 1;
    }
    /* Results are small lines answered one by one: without TCP_NODELAY each waits for an ACK. */
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    pid_t pid = fork();
    if (pid == 0) {
      /* Killing the agent (the adb side kills it by pid) ends its sessions and workers too. */
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      close(s);
      agent_session(c);
    }
    close(c);
  }
}

int main(int argc, char **argv) {
  const char *backend = "auto", *listen_port = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--version") == 0) {
      printf("ashmem-probe %s %s %u-bit\n", PROBE_VERSION, PROBE_ABI, (unsigned)(sizeof(void *) * 8));
      return 0;
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc) {
      backend = argv[++i];
    } else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
      listen_port = argv[++i];
    } else if (strcmp(argv[i], "--list-ops") == 0) {
      list_ops();
      return 0;
    } else if (strcmp(argv[i], "--parse-only") == 0) {
      g_cfg.parse_only = 1;
    } else {
      fprintf(stderr, "ashmem-probe: unknown option \"%s\"\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  int found = find_node(g_cfg.node, sizeof g_cfg.node);
  if (strcmp(backend, "ashmem") == 0) {
    g_cfg.backend = BACKEND_ASHMEM;
  } else if (strcmp(backend, "memfd") == 0) {
    g_cfg.backend = BACKEND_MEMFD;
  } else if (strcmp(backend, "auto") == 0) {
    g_cfg.backend = found ? BACKEND_ASHMEM : BACKEND_MEMFD;
  } else {
    fprintf(stderr, "ashmem-probe: --backend is ashmem, memfd or auto, got \"%s\"\n", backend);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  faults_install();
  if (listen_port != NULL) return agent_main(listen_port);
  g_out = stdout;
  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  write_hello();
  struct line_reader r;
  reader_fd(&r, 0);
  unsigned long n = script_run(&r);
  reader_free(&r);
  printf("{\"end\":{\"ops\":%lu,\"status\":0}}\n", n);
  return fflush(stdout) == 0 ? 0 : 3;
}
