/* XXH64 (the xxHash specification's 64-bit variant), for hashing a small file inside the addon's copy (copy_small.c). */
#ifndef TSYNC_XXH64_H
#define TSYNC_XXH64_H
#include <stddef.h>
#include <stdint.h>

uint64_t tsync_xxh64(const void *data, size_t len, uint64_t seed);

#endif
