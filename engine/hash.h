/* engine/hash.h - the one non-cryptographic hash of the project: the FNV-1a
** 64-bit iteration (xor a byte, multiply by the FNV prime 2^40 + 2^8 + 0xb3),
** started from one of two offset bases.
**
**   HASH_FNV1A64_BASIS   14695981039346656037, the standard basis: the store's
**                        content fingerprints (ingested traces, the schema).
**   HASH_SHORT_BASIS     1469598103934665603, the standard basis with its last
**                        digit dropped.  The engine configuration hash
**                        (econf_hash) and the coefficient file's trace hash
**                        were written with it; it is an FNV-1a iteration but
**                        not FNV-1a 64 as specified.  It stays because its
**                        values name every stored configuration and
**                        coefficient file (a new basis would orphan them).
**
** SHA-256 (engine/sha256.h) identifies kernel data files; this is for names
** and change detection, not for integrity against an adversary.
*/
#ifndef TAM_HASH_H
#define TAM_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV1A64_BASIS 14695981039346656037ULL
#define HASH_SHORT_BASIS 1469598103934665603ULL

/* h advanced over n bytes at p (FNV-1a: xor, then multiply, per byte). */
uint64_t hash_fnv1a64(uint64_t h, const void *p, size_t n);

/* 16 lowercase hex digits of h into out. */
void hash_hex(uint64_t h, char out[17]);

#endif
