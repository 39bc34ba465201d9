/* engine/hash.c - the FNV-1a 64-bit iteration (see hash.h for the bases). */
#include "hash.h"

#include <stdio.h>

#define FNV1A64_PRIME 1099511628211ULL

uint64_t hash_fnv1a64(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= FNV1A64_PRIME;
    }
    return h;
}

void hash_hex(uint64_t h, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}
