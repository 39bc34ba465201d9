/* engine/tests/t_hash.c - the FNV-1a 64-bit iteration against the published
** test vectors (standard basis), and the short basis it also runs from. */
#include "check.h"
#include "hash.h"

#include <string.h>

static void t_vectors(void)
{
    char h[17];
    hash_hex(hash_fnv1a64(HASH_FNV1A64_BASIS, "", 0), h);
    CHECK(strcmp(h, "cbf29ce484222325") == 0, "FNV-1a 64 of \"\": %s", h);
    hash_hex(hash_fnv1a64(HASH_FNV1A64_BASIS, "a", 1), h);
    CHECK(strcmp(h, "af63dc4c8601ec8c") == 0, "FNV-1a 64 of \"a\": %s", h);
    hash_hex(hash_fnv1a64(HASH_FNV1A64_BASIS, "foobar", 6), h);
    CHECK(strcmp(h, "85944171f73967e8") == 0, "FNV-1a 64 of \"foobar\": %s", h);
    /* the iteration composes: two calls over a split input equal one */
    uint64_t a = hash_fnv1a64(hash_fnv1a64(HASH_SHORT_BASIS, "foo", 3), "bar", 3);
    CHECK(a == hash_fnv1a64(HASH_SHORT_BASIS, "foobar", 6), "split input differs");
    /* no bytes: the basis itself, 1469598103934665603 in hex */
    hash_hex(hash_fnv1a64(HASH_SHORT_BASIS, "", 0), h);
    CHECK(strcmp(h, "14650fb0739d0383") == 0, "short basis of \"\": %s", h);
}

int main(void)
{
    RUN(t_vectors);
    TEST_REPORT("t_hash");
}
