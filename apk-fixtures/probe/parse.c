/*
 * Op-script parser: the C twin of harness/ops/parse.ts. It accepts exactly the lines the
 * TypeScript parser accepts, reports the same columns (in UTF-16 code units) and close to the
 * same messages. Bounded: a line is at most PROBE_MAX_LINE bytes, only the first few tokens are
 * kept, every buffer grows to a known limit.
 */
#include "probe.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define R A_REGION
/* clang-format off */
const struct op_spec OP_SPECS[OP_COUNT] = {
  [OP_OPEN] = {"open", "r mode", 2, {A_NEW_REGION, A_OPEN_MODE}, 1, MODE_RDWR, 0},
  [OP_CLOSE] = {"close", "r", 1, {R}, 0, 0, 0},
  [OP_DUP] = {"dup", "r from", 2, {A_NEW_REGION, R}, 0, 0, 0},
  [OP_SET_NAME] = {"set_name", "r name", 2, {R, A_STRING}, 0, 0, 0},
  [OP_GET_NAME] = {"get_name", "r", 1, {R}, 0, 0, 0},
  [OP_SET_SIZE] = {"set_size", "r size", 2, {R, A_WORD}, 0, 0, 0},
  [OP_GET_SIZE] = {"get_size", "r", 1, {R}, 0, 0, 0},
  [OP_SET_PROT] = {"set_prot", "r prot", 2, {R, A_WORD}, 0, 0, 0},
  [OP_GET_PROT] = {"get_prot", "r", 1, {R}, 0, 0, 0},
  [OP_PIN] = {"pin", "r offset len", 3, {R, A_U32, A_U32}, 0, 0, 0},
  [OP_UNPIN] = {"unpin", "r offset len", 3, {R, A_U32, A_U32}, 0, 0, 0},
  [OP_STATUS] = {"status", "r offset len", 3, {R, A_U32, A_U32}, 0, 0, 0},
  [OP_PIN_NULL] = {"pin_null", "r", 1, {R}, 0, 0, 0},
  [OP_UNPIN_NULL] = {"unpin_null", "r", 1, {R}, 0, 0, 0},
  [OP_STATUS_NULL] = {"status_null", "r", 1, {R}, 0, 0, 0},
  [OP_SET_NAME_NULL] = {"set_name_null", "r", 1, {R}, 0, 0, 0},
  [OP_GET_NAME_NULL] = {"get_name_null", "r", 1, {R}, 0, 0, 0},
  [OP_FILE_ID_NULL] = {"file_id_null", "r", 1, {R}, 0, 0, 0},
  [OP_PURGE_ALL] = {"purge_all", "r", 1, {R}, 0, 0, 0},
  [OP_FILE_ID] = {"file_id", "r", 1, {R}, 0, 0, 0},
  [OP_IOCTL] = {"ioctl", "r cmd arg", 3, {R, A_WORD, A_WORD}, 0, 0, 0},
  [OP_MMAP] = {"mmap", "m r len prot map offset", 6, {A_NEW_MAPPING, R, A_COUNT, A_PROT, A_MAP, A_COUNT}, 0, 0, 0},
  [OP_MUNMAP] = {"munmap", "m", 1, {A_MAPPING}, 0, 0, 0},
  [OP_MPROTECT] = {"mprotect", "m prot", 2, {A_MAPPING, A_PROT}, 0, 0, 0},
  [OP_FILL] = {"fill", "m offset len byte", 4, {A_MAPPING, A_COUNT, A_COUNT, A_BYTE}, 0, 0, 0},
  [OP_CHECK] = {"check", "m offset len", 3, {A_MAPPING, A_COUNT, A_COUNT}, 0, 0, 0},
  [OP_MINCORE] = {"mincore", "m offset len", 3, {A_MAPPING, A_COUNT, A_COUNT}, 0, 0, 0},
  [OP_READ] = {"read", "r len", 2, {R, A_COUNT}, 0, 0, 0},
  [OP_WRITE] = {"write", "r len", 2, {R, A_COUNT}, 0, 0, 0},
  [OP_LSEEK] = {"lseek", "r offset whence", 3, {R, A_OFFSET, A_WHENCE}, 0, 0, 0},
  [OP_FSTAT] = {"fstat", "r", 1, {R}, 0, 0, 0},
  [OP_TRUNCATE] = {"truncate", "r size", 2, {R, A_COUNT}, 0, 0, 0},
  [OP_ADD_SEALS] = {"add_seals", "r seals", 2, {R, A_U32}, 0, 0, 0},
  [OP_GET_SEALS] = {"get_seals", "r", 1, {R}, 0, 0, 0},
  [OP_PERSONALITY] = {"personality", "personality", 1, {A_PERSONALITY}, 0, 0, 0},
  [OP_DROP_CACHES] = {"drop_caches", "mode", 1, {A_DROP_MODE}, 1, 2, 0},
  [OP_PRESSURE] = {"pressure", "mib seconds", 2, {A_COUNT, A_COUNT}, 0, 0, 0},
  [OP_FORK] = {"fork", "child", 1, {A_NEW_PROC}, 0, 0, 0},
  [OP_EXIT] = {"exit", "child", 1, {A_PROC}, 0, 0, 0},
  [OP_SET_NAME_AT_PAGE_END] = {"set_name_at_page_end", "r name", 2, {R, A_STRING}, 0, 0, 0},
  [OP_IOCTL_BUF] = {"ioctl_buf", "r cmd bytes", 3, {R, A_WORD, A_STRING}, 0, 0, 0},
  [OP_MUNMAP_RANGE] = {"munmap_range", "m offset len", 3, {A_MAPPING, A_COUNT, A_COUNT}, 0, 0, 0},
  [OP_DROP_CAP] = {"drop_cap", "cap", 1, {A_CAP}, 0, 0, 0},
  [OP_MF_CREATE] = {"mf_create", "f name length", 3, {A_NEW_MF, A_STRING, A_INT}, 0, 0, 1},
  [OP_MF_ALLOW_PURGING] = {"mf_allow_purging", "f allow", 2, {A_MF, A_BOOL}, 0, 0, 1},
  [OP_MF_IS_PURGING_ALLOWED] = {"mf_is_purging_allowed", "f", 1, {A_MF}, 0, 0, 1},
  [OP_MF_WRITE] = {"mf_write", "f buflen src dest count byte", 6, {A_MF, A_INT, A_INT, A_INT, A_INT, A_BYTE}, 0, 0, 1},
  [OP_MF_READ] = {"mf_read", "f buflen src dest count", 5, {A_MF, A_INT, A_INT, A_INT, A_INT}, 0, 0, 1},
  [OP_MF_LENGTH] = {"mf_length", "f", 1, {A_MF}, 0, 0, 1},
  [OP_MF_CLOSE] = {"mf_close", "f", 1, {A_MF}, 0, 0, 1},
  [OP_SM_CREATE] = {"sm_create", "s name size", 3, {A_NEW_SM, A_STRING, A_INT}, 0, 0, 1},
  [OP_SM_GET_SIZE] = {"sm_get_size", "s", 1, {A_SM}, 0, 0, 1},
  [OP_SM_CLOSE] = {"sm_close", "s", 1, {A_SM}, 0, 0, 1},
  [OP_SM_SET_PROTECT] = {"sm_set_protect", "s prot", 2, {A_SM, A_INT}, 0, 0, 1},
  [OP_SM_MAP] = {"sm_map", "b s prot offset length", 5, {A_NEW_BUF, A_SM, A_INT, A_INT, A_INT}, 0, 0, 1},
  [OP_SM_MAP_RW] = {"sm_map_rw", "b s", 2, {A_NEW_BUF, A_SM}, 0, 0, 1},
  [OP_SM_MAP_RO] = {"sm_map_ro", "b s", 2, {A_NEW_BUF, A_SM}, 0, 0, 1},
  [OP_SM_UNMAP] = {"sm_unmap", "b", 1, {A_BUF}, 0, 0, 1},
  [OP_BUF_PUT] = {"buf_put", "b offset len byte", 4, {A_BUF, A_INT, A_INT, A_BYTE}, 0, 0, 1},
  [OP_BUF_GET] = {"buf_get", "b offset len", 3, {A_BUF, A_INT, A_INT}, 0, 0, 1},
  [OP_APP_WAIT] = {"app_wait", "name timeoutMs", 2, {A_STRING, A_INT}, 0, 0, 1},
};
/* clang-format on */
#undef R

/* Tokens kept: a prefix, the op word, up to six arguments and the first extra one. */
#define KEEP_TOKENS (PROBE_MAX_ARGS + 3)

struct token {
  size_t start, end; /* byte range of the raw text */
  int is_str;
  size_t str_off, str_len; /* decoded bytes in strbuf (before the repeat) */
  unsigned long rep;
};

void parser_init(struct parser *p) {
  memset(p, 0, sizeof *p);
  p->tok = calloc(KEEP_TOKENS, sizeof *p->tok);
  p->strcap = 4096;
  p->strbuf = malloc(p->strcap);
  if (p->tok == NULL || p->strbuf == NULL) abort();
}

void parser_free(struct parser *p) {
  free(p->tok);
  free(p->strbuf);
  free(p->expbuf);
  memset(p, 0, sizeof *p);
}

unsigned col_of(const unsigned char *text, size_t at) {
  /* JavaScript indexes strings in UTF-16 code units: a UTF-8 lead byte of a 4-byte sequence is
   * two units (a surrogate pair), continuation bytes are none, every other byte is one. */
  unsigned long col = 1;
  for (size_t i = 0; i < at; i++) {
    unsigned char b = text[i];
    if ((b & 0xC0u) == 0x80u) continue;
    col += b >= 0xF0u ? 2u : 1u;
  }
  return col > 0xFFFFFFFFul ? 0xFFFFFFFFu : (unsigned)col;
}

static int fail(struct parse_error *err, const unsigned char *text, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct parse_error *err, const unsigned char *text, size_t at, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  err->col = col_of(text, at);
  return -1;
}

/** A token's raw text, cut for messages (the JSON writer escapes whatever bytes it holds). */
static void tok_text(const unsigned char *text, const struct token *t, char *out, size_t cap) {
  size_t n = t->end - t->start;
  if (n > 60) n = 60;
  if (n >= cap) n = cap - 1;
  memcpy(out, text + t->start, n);
  out[n] = '\0';
  /* A NUL inside the token would cut the message; show it as a space. */
  for (size_t i = 0; i < n; i++)
    if (out[i] == '\0') out[i] = ' ';
  if (t->end - t->start > n) {
    if (n >= 3 && cap > n) memcpy(out + n - 3, "...", 3);
  }
}

static int str_put(struct parser *p, int store, unsigned char c) {
  if (!store) return 0;
  if (p->strused == p->strcap) {
    size_t nc = p->strcap * 2;
    unsigned char *nb = realloc(p->strbuf, nc);
    if (nb == NULL) abort();
    p->strbuf = nb;
    p->strcap = nc;
  }
  p->strbuf[p->strused++] = c;
  return 0;
}

/* Space, tab, LF, VT, FF, CR separate words (isSpace in parse.ts); `#` and `"` also end a word. */
static int is_sep(unsigned char c) { return c == ' ' || (c >= 0x09 && c <= 0x0D); }

static int hexval(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int tokenize(struct parser *p, const unsigned char *t, size_t n, struct parse_error *err) {
  size_t i = 0;
  p->ntok = 0;
  p->strused = 0;
  while (i < n) {
    unsigned char c = t[i];
    if (is_sep(c)) {
      i++;
    } else if (c == '#') {
      break;
    } else if (c == '"') {
      size_t start = i, off = p->strused;
      int store = p->ntok < KEEP_TOKENS;
      size_t vlen = 0;
      unsigned long rep = 1;
      i++;
      for (;;) {
        if (i >= n) return fail(err, t, start, "unterminated string: add the closing \"");
        c = t[i];
        if (c == '"') {
          i++;
          break;
        }
        if (c == '\\') {
          if (i + 1 >= n) return fail(err, t, i, "unknown escape \\: use \\\\ \\\" \\n \\t \\0 or \\xHH");
          unsigned char e = t[i + 1];
          unsigned char v;
          if (e == '\\' || e == '"') v = e;
          else if (e == 'n') v = '\n';
          else if (e == 't') v = '\t';
          else if (e == '0') v = '\0';
          else if (e == 'x') {
            if (i + 3 >= n || hexval(t[i + 2]) < 0 || hexval(t[i + 3]) < 0)
              return fail(err, t, i, "expected two hex digits after \\x");
            str_put(p, store, (unsigned char)(hexval(t[i + 2]) * 16 + hexval(t[i + 3])));
            vlen++;
            i += 4;
            continue;
          } else {
            char shown[8];
            if (e >= 0x20 && e < 0x7F) snprintf(shown, sizeof shown, "%c", e);
            else snprintf(shown, sizeof shown, "\\x%02X", e);
            return fail(err, t, i, "unknown escape \\%s: use \\\\ \\\" \\n \\t \\0 or \\xHH", shown);
          }
          str_put(p, store, v);
          vlen++;
          i += 2;
        } else {
          /* Non-ASCII text stands for its UTF-8 bytes: the line already holds them. */
          str_put(p, store, c);
          vlen++;
          i++;
        }
      }
      if (i < n && t[i] == '*') {
        size_t star = i;
        if (i + 1 >= n || t[i + 1] < '1' || t[i + 1] > '9')
          return fail(err, t, star, "expected a repeat count after \"*\", e.g. \"a\"*300");
        rep = 0;
        size_t k = i + 1;
        while (k < n && k < i + 7 && t[k] >= '0' && t[k] <= '9') rep = rep * 10 + (unsigned long)(t[k++] - '0');
        if ((unsigned long long)vlen * rep > PROBE_MAX_REPEAT)
          return fail(err, t, star, "string too long after repeat (%llu bytes; at most %u)",
                      (unsigned long long)vlen * rep, PROBE_MAX_REPEAT);
        i = k;
      }
      if (i < n && t[i] != '#' && !is_sep(t[i]))
        return fail(err, t, i, "expected a space after the string");
      if (store) {
        struct token *tk = &p->tok[p->ntok];
        tk->start = start;
        tk->end = i;
        tk->is_str = 1;
        tk->str_off = off;
        tk->str_len = vlen;
        tk->rep = rep;
      }
      p->ntok++;
    } else {
      size_t start = i;
      while (i < n && !is_sep(t[i]) && t[i] != '#' && t[i] != '"') i++;
      if (p->ntok < KEEP_TOKENS) {
        struct token *tk = &p->tok[p->ntok];
        memset(tk, 0, sizeof *tk);
        tk->start = start;
        tk->end = i;
      }
      p->ntok++;
    }
  }
  return 0;
}

static int tok_is(const unsigned char *t, const struct token *k, const char *word) {
  size_t n = strlen(word);
  return !k->is_str && k->end - k->start == n && memcmp(t + k->start, word, n) == 0;
}

/** Matches ^L(0|[1-9][0-9]{0,maxrest})$ and yields the number. */
static int match_handle(const unsigned char *s, size_t n, char letter, size_t maxrest, uint64_t *id) {
  if (n < 2 || s[0] != letter) return 0;
  if (s[1] == '0') {
    if (n != 2) return 0;
    *id = 0;
    return 1;
  }
  if (s[1] < '1' || s[1] > '9' || n - 2 > maxrest) return 0;
  uint64_t v = 0;
  for (size_t i = 1; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  *id = v;
  return 1;
}

/**
 * Parses ^-?(0x[0-9a-fA-F]+|0|[1-9][0-9]*)$ into sign and magnitude. Returns 0 when the text is
 * not a number, 1 when it is (`*big` when the magnitude exceeds 2^64-1: out of every range).
 */
static int parse_number(const unsigned char *s, size_t n, int *neg, uint64_t *mag, int *big) {
  size_t i = 0;
  *neg = 0;
  *big = 0;
  *mag = 0;
  if (i < n && s[i] == '-') {
    *neg = 1;
    i++;
  }
  if (i >= n) return 0;
  if (n - i >= 2 && s[i] == '0' && s[i + 1] == 'x') {
    i += 2;
    if (i >= n) return 0;
    for (; i < n; i++) {
      int h = hexval(s[i]);
      if (h < 0) return 0;
      if (*mag > (UINT64_MAX >> 4)) *big = 1;
      *mag = (*mag << 4) | (uint64_t)h;
    }
    return 1;
  }
  if (s[i] == '0') return n - i == 1;
  for (; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    uint64_t d = (uint64_t)(s[i] - '0');
    if (*mag > (UINT64_MAX - d) / 10) *big = 1;
    *mag = *mag * 10 + d;
  }
  return 1;
}

struct choice {
  const char *word;
  uint64_t value;
};

static int pick(const unsigned char *t, const struct token *k, const struct choice *c, size_t nc, const char *what,
                uint64_t *out, struct parse_error *err) {
  char list[160] = "", shown[64];
  for (size_t i = 0; i < nc; i++) {
    if (tok_is(t, k, c[i].word)) {
      *out = c[i].value;
      return 0;
    }
    strncat(list, i == 0 ? "" : " | ", sizeof list - strlen(list) - 1);
    strncat(list, c[i].word, sizeof list - strlen(list) - 1);
  }
  tok_text(t, k, shown, sizeof shown);
  return fail(err, t, k->start, "expected %s (%s), got \"%s\"", what, list, shown);
}

static const struct choice MAP_CHOICES[] = {{"shared", MAP_KIND_SHARED},
                                            {"private", MAP_KIND_PRIVATE},
                                            {"shared_noreserve", MAP_KIND_SHARED_NORESERVE},
                                            {"private_noreserve", MAP_KIND_PRIVATE_NORESERVE}};
static const struct choice WHENCE_CHOICES[] = {
    {"set", WH_SET}, {"cur", WH_CUR}, {"end", WH_END}, {"data", WH_DATA}, {"hole", WH_HOLE}};
static const struct choice MODE_CHOICES[] = {{"rdwr", MODE_RDWR}, {"rdonly", MODE_RDONLY}};
static const struct choice DROP_CHOICES[] = {{"1", 1}, {"2", 2}, {"3", 3}};
static const struct choice PERS_CHOICES[] = {{"default", PERS_DEFAULT}, {"read_implies_exec", PERS_READ_IMPLIES_EXEC}};
static const struct choice BOOL_CHOICES[] = {{"true", 1}, {"false", 0}};
static const struct choice CAP_CHOICES[] = {{"sys_admin", CAP_KIND_SYS_ADMIN}};

#define NCHOICES(a) (sizeof(a) / sizeof((a)[0]))

/** Range check of a parsed number: min is -(minneg) when minneg > 0. */
static int bounded(const unsigned char *t, const struct token *k, uint64_t minneg, uint64_t max, const char *what,
                   const char *range, uint64_t *out, struct parse_error *err) {
  int neg, big;
  uint64_t mag;
  char shown[64];
  tok_text(t, k, shown, sizeof shown);
  if (k->is_str || !parse_number(t + k->start, k->end - k->start, &neg, &mag, &big))
    return fail(err, t, k->start, "expected a number (decimal or 0x hex), got \"%s\"", shown);
  int ok;
  if (big) ok = 0;
  else if (neg) ok = mag == 0 || mag <= minneg;
  else ok = mag <= max;
  if (!ok) return fail(err, t, k->start, "%s out of range: %s (allowed %s)", what, shown, range);
  *out = neg ? (uint64_t)0 - mag : mag;
  return 0;
}

static int read_arg(struct parser *p, const unsigned char *t, int type, const struct token *k, uint64_t *out,
                    struct op *op, struct parse_error *err) {
  const unsigned char *s = t + k->start;
  size_t n = k->end - k->start;
  char shown[64];
  const char *what = NULL;
  char letter = 0;
  size_t maxrest = 5;
  switch (type) {
  case A_REGION: case A_NEW_REGION: letter = 'r'; what = "a region handle like r0"; break;
  case A_MAPPING: case A_NEW_MAPPING: letter = 'm'; what = "a mapping handle like m0"; break;
  case A_PROC: case A_NEW_PROC: letter = 'p'; maxrest = 3; what = "a process name like p1"; break;
  case A_MF: case A_NEW_MF: letter = 'f'; what = "a MemoryFile handle like f0"; break;
  case A_SM: case A_NEW_SM: letter = 's'; what = "a SharedMemory handle like s0"; break;
  case A_BUF: case A_NEW_BUF: letter = 'b'; what = "a ByteBuffer handle like b0"; break;
  default: break;
  }
  if (letter != 0) {
    if (k->is_str || !match_handle(s, n, letter, maxrest, out)) {
      tok_text(t, k, shown, sizeof shown);
      return fail(err, t, k->start, "expected %s, got \"%s\"", what, shown);
    }
    return 0;
  }
  switch (type) {
  case A_U32:
    return bounded(t, k, 0, 0xFFFFFFFFull, "a 32-bit unsigned value", "0..4294967295", out, err);
  case A_COUNT:
    return bounded(t, k, 0, 9007199254740991ull, "a count", "0..9007199254740991", out, err);
  case A_OFFSET:
    return bounded(t, k, 9007199254740991ull, 9007199254740991ull, "a file offset",
                   "-9007199254740991..9007199254740991", out, err);
  case A_WORD:
    return bounded(t, k, 1ull << 63, UINT64_MAX, "a machine word",
                   "-9223372036854775808..18446744073709551615", out, err);
  case A_PROT:
    return bounded(t, k, 0, 255, "a prot value", "0..255", out, err);
  case A_BYTE:
    return bounded(t, k, 0, 255, "a byte", "0..255", out, err);
  case A_INT:
    return bounded(t, k, 1ull << 31, (1ull << 31) - 1, "a Java int", "-2147483648..2147483647", out, err);
  case A_STRING: {
    if (!k->is_str) {
      tok_text(t, k, shown, sizeof shown);
      return fail(err, t, k->start, "expected a \"quoted string\", got %s", shown);
    }
    size_t total = k->str_len * k->rep;
    if (total + 1 > p->expcap) {
      size_t nc = total + 1 < 4096 ? 4096 : total + 1;
      unsigned char *nb = realloc(p->expbuf, nc);
      if (nb == NULL) abort();
      p->expbuf = nb;
      p->expcap = nc;
    }
    /* Repeat by doubling: "a"*65536 is 17 copies, ""*999999 none. */
    size_t filled = k->str_len;
    memcpy(p->expbuf, p->strbuf + k->str_off, k->str_len);
    while (filled < total) {
      size_t n = filled < total - filled ? filled : total - filled;
      memcpy(p->expbuf + filled, p->expbuf, n);
      filled += n;
    }
    p->expbuf[total] = '\0';
    op->str = p->expbuf;
    op->str_len = total;
    *out = 0;
    return 0;
  }
  case A_MAP: return pick(t, k, MAP_CHOICES, NCHOICES(MAP_CHOICES), "a mapping kind", out, err);
  case A_WHENCE: return pick(t, k, WHENCE_CHOICES, NCHOICES(WHENCE_CHOICES), "a whence", out, err);
  case A_OPEN_MODE: return pick(t, k, MODE_CHOICES, NCHOICES(MODE_CHOICES), "an open mode", out, err);
  case A_DROP_MODE: return pick(t, k, DROP_CHOICES, NCHOICES(DROP_CHOICES), "a drop_caches value", out, err);
  case A_PERSONALITY: return pick(t, k, PERS_CHOICES, NCHOICES(PERS_CHOICES), "a personality", out, err);
  case A_BOOL: return pick(t, k, BOOL_CHOICES, NCHOICES(BOOL_CHOICES), "a boolean", out, err);
  case A_CAP: return pick(t, k, CAP_CHOICES, NCHOICES(CAP_CHOICES), "a capability", out, err);
  default:
    return fail(err, t, k->start, "internal: unknown argument type %d", type);
  }
}

int parse_line(struct parser *p, const unsigned char *t, size_t n, unsigned line, struct op *op,
               struct parse_error *err) {
  memset(op, 0, sizeof *op);
  op->line = line;
  if (tokenize(p, t, n, err) < 0) return -1;
  if (p->ntok == 0) return 0;
  size_t at = 0;
  const struct token *first = &p->tok[0];
  char shown[64];
  if (!first->is_str && first->end > first->start && t[first->end - 1] == ':') {
    uint64_t id;
    if (!match_handle(t + first->start, first->end - first->start - 1, 'p', 3, &id)) {
      struct token cut = *first;
      cut.end--;
      tok_text(t, &cut, shown, sizeof shown);
      return fail(err, t, first->start, "expected a process prefix like p1:, got \"%s\"", shown);
    }
    op->proc = (unsigned)id;
    at = 1;
    if (p->ntok < 2) return fail(err, t, n, "expected an op after the process prefix");
    first = &p->tok[1];
  }
  int kind = -1;
  if (!first->is_str)
    for (int k = 0; k < OP_COUNT; k++)
      if (tok_is(t, first, OP_SPECS[k].name)) {
        kind = k;
        break;
      }
  if (kind < 0) {
    tok_text(t, first, shown, sizeof shown);
    return fail(err, t, first->start, "unknown op \"%s\" (see docs/op-scripts.md for the list)", shown);
  }
  op->kind = kind;
  const struct op_spec *spec = &OP_SPECS[kind];
  size_t nargs_given = p->ntok - at - 1;
  for (unsigned k = 0; k < spec->nargs; k++) {
    if (k >= nargs_given) {
      if (spec->has_default && k == spec->nargs - 1u) {
        op->arg[k] = spec->def;
        continue;
      }
      return fail(err, t, n, "%s needs %u argument(s): %s", spec->name, spec->nargs, spec->fields);
    }
    if (read_arg(p, t, spec->type[k], &p->tok[at + 1 + k], &op->arg[k], op, err) < 0) return -1;
  }
  if (nargs_given > spec->nargs) {
    const struct token *extra = &p->tok[at + 1 + spec->nargs];
    tok_text(t, extra, shown, sizeof shown);
    return fail(err, t, extra->start, "unexpected \"%s\": %s takes %u argument(s)", shown, spec->name, spec->nargs);
  }
  return 1;
}

void line_op_word(const unsigned char *t, size_t n, char *out, size_t cap) {
  size_t i = 0;
  for (int round = 0; round < 2; round++) {
    while (i < n && is_sep(t[i])) i++;
    size_t s = i;
    while (i < n && !is_sep(t[i]) && t[i] != '#' && t[i] != '"') i++;
    if (i == s) break;
    if (round == 0 && t[i - 1] == ':') continue;
    size_t len = i - s;
    if (len > 64) len = 64;
    if (len >= cap) len = cap - 1;
    memcpy(out, t + s, len);
    out[len] = '\0';
    for (size_t k = 0; k < len; k++)
      if (out[k] == '\0') out[k] = ' ';
    return;
  }
  snprintf(out, cap, "?");
}

int arg_handle_class(int type) {
  switch (type) {
  case A_REGION: case A_NEW_REGION: return H_REGION;
  case A_MAPPING: case A_NEW_MAPPING: return H_MAPPING;
  case A_MF: case A_NEW_MF: return H_MF;
  case A_SM: case A_NEW_SM: return H_SM;
  case A_BUF: case A_NEW_BUF: return H_BUF;
  case A_PROC: case A_NEW_PROC: return H_PROC;
  default: return H_NONE;
  }
}

int arg_is_new(int type) {
  return type == A_NEW_REGION || type == A_NEW_MAPPING || type == A_NEW_MF || type == A_NEW_SM ||
         type == A_NEW_BUF || type == A_NEW_PROC;
}

const char *arg_type_name(int type) {
  static const char *const names[] = {
      [A_REGION] = "region", [A_NEW_REGION] = "new-region", [A_MAPPING] = "mapping",
      [A_NEW_MAPPING] = "new-mapping", [A_PROC] = "proc", [A_NEW_PROC] = "new-proc", [A_U32] = "u32",
      [A_COUNT] = "count", [A_WORD] = "word", [A_PROT] = "prot", [A_BYTE] = "byte", [A_STRING] = "string",
      [A_MAP] = "map", [A_WHENCE] = "whence", [A_OPEN_MODE] = "open-mode", [A_DROP_MODE] = "drop-mode",
      [A_PERSONALITY] = "personality", [A_INT] = "int", [A_BOOL] = "bool", [A_MF] = "memoryfile",
      [A_NEW_MF] = "new-memoryfile", [A_SM] = "sharedmemory", [A_NEW_SM] = "new-sharedmemory",
      [A_BUF] = "buffer", [A_NEW_BUF] = "new-buffer", [A_OFFSET] = "offset", [A_CAP] = "capability"};
  return type >= 0 && (size_t)type < sizeof names / sizeof names[0] && names[type] ? names[type] : "?";
}
