/*
 * libFuzzer harness over the probe's script reader, parser and handle checker (--parse-only
 * path: nothing reaches the kernel). Besides "no crash, no sanitizer report", it checks that
 * every output line is one JSON object of printable ASCII: the escaping of hostile bytes in
 * names, messages and op words holds.
 */
#include "../probe.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = NULL;
  size_t text_len = 0;
  FILE *out = open_memstream(&text, &text_len);
  if (out == NULL) abort();
  g_cfg.parse_only = 1;
  g_out = out;
  struct line_reader r;
  reader_mem(&r, data, size);
  unsigned long n = script_run(&r);
  fclose(out);
  size_t lines = 0;
  for (size_t i = 0; i < text_len; i++) {
    unsigned char c = (unsigned char)text[i];
    if (c == '\n') {
      lines++;
      if (i == 0 || text[i - 1] != '}') abort();
      continue;
    }
    if (c < 0x20 || c >= 0x7F) abort(); /* a raw control or non-ASCII byte escaped the writer */
    if ((i == 0 || text[i - 1] == '\n') && strncmp(text + i, "{\"i\":", 5) != 0) abort();
  }
  if (lines != n) abort();
  /* No more results than lines in the input. */
  size_t input_lines = size ? 1 : 0;
  for (size_t i = 0; i < size; i++)
    if (data[i] == '\n') input_lines++;
  if (n > input_lines) abort();
  free(text);
  return 0;
}
