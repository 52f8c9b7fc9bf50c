/*
 * XXH64, written from the xxHash specification (doc/xxhash_spec.md in the xxHash repository): the same digest as the
 * xxhash-wasm package computes (src/hash/xxhash.ts), so that a file hashed here and one hashed there compare equal.
 * test/unit/native-copy.test.ts checks the two against each other for every length up to a few stripes and beyond.
 * Lanes are read little-endian whatever the machine, as the specification asks.
 */
#include "xxh64.h"


#define PRIME1 0x9E3779B185EBCA87ULL
#define PRIME2 0xC2B2AE3D27D4EB4FULL
#define PRIME3 0x165667B19E3779F9ULL
#define PRIME4 0x85EBCA77C2B2AE63ULL
#define PRIME5 0x27D4EB2F165667C5ULL

static uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static uint64_t read64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static uint32_t read32(const unsigned char *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24); }

static uint64_t round64(uint64_t acc, uint64_t lane) { return rotl(acc + lane * PRIME2, 31) * PRIME1; }

static uint64_t merge(uint64_t acc, uint64_t v) { return (acc ^ round64(0, v)) * PRIME1 + PRIME4; }

uint64_t tsync_xxh64(const void *data, size_t len, uint64_t seed) {
  const unsigned char *p = data;
  const unsigned char *end = p + len;
  uint64_t acc;
  if (len >= 32) {
    uint64_t v1 = seed + PRIME1 + PRIME2, v2 = seed + PRIME2, v3 = seed, v4 = seed - PRIME1;
    /* whole stripes of 32 bytes, four lanes each */
    for (; end - p >= 32; p += 32) {
      v1 = round64(v1, read64(p));
      v2 = round64(v2, read64(p + 8));
      v3 = round64(v3, read64(p + 16));
      v4 = round64(v4, read64(p + 24));
    }
    acc = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
    acc = merge(acc, v1);
    acc = merge(acc, v2);
    acc = merge(acc, v3);
    acc = merge(acc, v4);
  } else {
    acc = seed + PRIME5;
  }
  acc += (uint64_t)len;
  /* what is left: 8 bytes at a time, then 4, then one by one */
  for (; end - p >= 8; p += 8) acc = rotl(acc ^ round64(0, read64(p)), 27) * PRIME1 + PRIME4;
  if (end - p >= 4) {
    acc = rotl(acc ^ ((uint64_t)read32(p) * PRIME1), 23) * PRIME2 + PRIME3;
    p += 4;
  }
  for (; p < end; p++) acc = rotl(acc ^ ((uint64_t)*p * PRIME5), 11) * PRIME1;
  /* the avalanche: every input bit reaches every output bit */
  acc ^= acc >> 33;
  acc *= PRIME2;
  acc ^= acc >> 29;
  acc *= PRIME3;
  acc ^= acc >> 32;
  return acc;
}
