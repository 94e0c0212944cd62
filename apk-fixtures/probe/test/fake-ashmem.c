/*
 * TEST ONLY. A user-space stand-in for the ashmem driver's SET_NAME / GET_NAME (ashmem-semantics
 * §3.2, C-final) and SET_SIZE / GET_SIZE (§3.3), linked in place of ioctl()
 * (`-Dioctl=fake_ashmem_ioctl` on ops.c) by `scripts/build-probe fake-ashmem`. It lets the tests
 * check the probe's get_name reporting (sentinel fills, `copied`, escaping) and its result path
 * for negative kernel answers (GET_SIZE of a 2 GiB region) on a machine without ashmem. Never
 * shipped to a device.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NAME_LEN 256

static char g_name[NAME_LEN];
static int g_named;
static unsigned long g_size;

/* What a handler's `long` result becomes in user space (§1.4, §12): the ioctl system call keeps
 * it in an int, and the C library reads -4095..-1 as -errno. */
static int syscall_answer(long handler_result) {
  int v = (int)handler_result;
  if (v < 0 && v >= -4095) {
    errno = -v;
    return -1;
  }
  return v;
}

int fake_ashmem_ioctl(int fd, unsigned long cmd, ...);

int fake_ashmem_ioctl(int fd, unsigned long cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  unsigned long arg = va_arg(ap, unsigned long);
  va_end(ap);
  if (cmd == 0x41007701ul) { /* SET_NAME: strncpy_from_user(256), no NUL -> 255 chars */
    if (arg == 0) {
      errno = EFAULT;
      return -1;
    }
    const char *src = (const char *)arg;
    size_t n = strnlen(src, NAME_LEN);
    if (n == NAME_LEN) n = NAME_LEN - 1;
    memcpy(g_name, src, n);
    g_name[n] = '\0';
    g_named = n > 0;
    return 0;
  }
  if (cmd == 0x81007702ul) { /* GET_NAME: strlen+1 bytes, or "dev/ashmem\0" */
    if (arg == 0) {
      errno = EFAULT;
      return -1;
    }
    const char *name = g_named ? g_name : "dev/ashmem";
    memcpy((char *)arg, name, strlen(name) + 1);
    return 0;
  }
  if (cmd == 0x40087703ul || cmd == 0x40047703ul) { /* SET_SIZE (native or compat number): a value */
    g_size = arg;
    return 0;
  }
  if (cmd == 0x7704ul) return syscall_answer((long)g_size); /* GET_SIZE */
  return (int)syscall(SYS_ioctl, fd, cmd, arg);
}
