/*
 * A small open-addressing hash map from handle numbers (0..999999) to indexes, so that scripts
 * with very many handles stay linear in their length.
 */
#include "probe.h"

#include <stdlib.h>
#include <string.h>

static size_t slot_of(uint32_t key, size_t cap) { return (size_t)((key * 2654435761u) & (uint32_t)(cap - 1)); }

static void idmap_grow(struct idmap *m) {
  size_t ncap = m->cap ? m->cap * 2 : 16;
  uint32_t *keys = calloc(ncap, sizeof *keys);
  uint32_t *vals = calloc(ncap, sizeof *vals);
  if (keys == NULL || vals == NULL) abort();
  for (size_t i = 0; i < m->cap; i++) {
    if (m->keys[i] == 0) continue;
    size_t s = slot_of(m->keys[i] - 1u, ncap);
    while (keys[s] != 0) s = (s + 1) & (ncap - 1);
    keys[s] = m->keys[i];
    vals[s] = m->vals[i];
  }
  free(m->keys);
  free(m->vals);
  m->keys = keys;
  m->vals = vals;
  m->cap = ncap;
}

int idmap_get(const struct idmap *m, uint64_t id, uint32_t *val) {
  if (m->cap == 0 || id >= 0xFFFFFFFFull) return 0;
  size_t s = slot_of((uint32_t)id, m->cap);
  while (m->keys[s] != 0) {
    if (m->keys[s] == (uint32_t)id + 1u) {
      if (val) *val = m->vals[s];
      return 1;
    }
    s = (s + 1) & (m->cap - 1);
  }
  return 0;
}

void idmap_put(struct idmap *m, uint64_t id, uint32_t val) {
  if (id >= 0xFFFFFFFFull) return;
  if ((m->n + 1) * 2 > m->cap) idmap_grow(m);
  size_t s = slot_of((uint32_t)id, m->cap);
  while (m->keys[s] != 0) {
    if (m->keys[s] == (uint32_t)id + 1u) {
      m->vals[s] = val;
      return;
    }
    s = (s + 1) & (m->cap - 1);
  }
  m->keys[s] = (uint32_t)id + 1u;
  m->vals[s] = val;
  m->n++;
}

void idmap_copy(struct idmap *dst, const struct idmap *src) {
  idmap_free(dst);
  if (src->cap == 0) return;
  dst->keys = malloc(src->cap * sizeof *dst->keys);
  dst->vals = malloc(src->cap * sizeof *dst->vals);
  if (dst->keys == NULL || dst->vals == NULL) abort();
  memcpy(dst->keys, src->keys, src->cap * sizeof *dst->keys);
  memcpy(dst->vals, src->vals, src->cap * sizeof *dst->vals);
  dst->cap = src->cap;
  dst->n = src->n;
}

void idmap_free(struct idmap *m) {
  free(m->keys);
  free(m->vals);
  memset(m, 0, sizeof *m);
}
