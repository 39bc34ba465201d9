/* engine/sha256.h - SHA-256 (FIPS 180-4), to name data files by content.
**
** A kernel data set is identified by the SHA-256 of every file it reads, so
** a stored run says exactly which measurements it stands on; the digests are
** the same as `sha256sum` prints, so anyone can check them by hand.
*/
#ifndef TAM_SHA256_H
#define TAM_SHA256_H

#include "common.h"

#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t len;          /* bytes hashed so far */
    unsigned char buf[64];
    size_t nbuf;
} sha256_t;

void sha256_init(sha256_t *s);
void sha256_update(sha256_t *s, const void *data, size_t n);
/* 64 lowercase hex digits and a NUL. */
void sha256_final_hex(sha256_t *s, char out[65]);
/* The digest of a whole file; errors name the file. */
int sha256_file(const char *path, char out[65], char *err);

#endif
