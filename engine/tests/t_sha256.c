/* engine/tests/t_sha256.c - SHA-256 against the examples published with the
** standard (NIST, "SHA256.pdf" example values for FIPS 180-2/180-4):
**   "abc"                    ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 96177a9c b410ff61 f20015ad
**   "abcdbcdecdefdefg...nopq" (448 bits, two blocks)
**                            248d6a61 d20638b8 e5c02693 0c3e6039 a33ce459 64ff2167 f6ecedd4 19db06c1
**   one million 'a'          cdc76e5c 9914fb92 81a1c7e2 84d73e67 f1809a48 a497200e 046d39cc c7112cd0
**   ""                       e3b0c442 98fc1c14 9afbf4c8 996fb924 27ae41e4 649b934c a495991b 7852b855
*/
#include "check.h"
#include "sha256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void hex_of(const char *msg, size_t n, char out[65])
{
    sha256_t s;
    sha256_init(&s);
    sha256_update(&s, msg, n);
    sha256_final_hex(&s, out);
}

static void t_published(void)
{
    char h[65];
    hex_of("abc", 3, h);
    CHECK(strcmp(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0, "%s", h);
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(two, strlen(two), h);
    CHECK(strcmp(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0, "%s", h);
    hex_of("", 0, h);
    CHECK(strcmp(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0, "%s", h);
    /* One million 'a', fed in uneven pieces so block boundaries fall mid-call. */
    sha256_t s;
    sha256_init(&s);
    char a[997];
    memset(a, 'a', sizeof a);
    size_t left = 1000000;
    while (left) {
        size_t k = left < sizeof a ? left : sizeof a;
        sha256_update(&s, a, k);
        left -= k;
    }
    sha256_final_hex(&s, h);
    CHECK(strcmp(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0, "%s", h);
}

static void t_file(void)
{
    char path[] = "/tmp/tam-sha256-XXXXXX", h[65], err[TAM_ERRLEN];
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    FILE *f = fdopen(fd, "w");
    fputs("abc", f);
    fclose(f);
    CHECK(sha256_file(path, h, err) == TAM_OK, "%s", err);
    CHECK(strcmp(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0, "%s", h);
    remove(path);
    CHECK(sha256_file(path, h, err) == TAM_EIO && strstr(err, path), "%s", err);
}

int main(void)
{
    RUN(t_published);
    RUN(t_file);
    TEST_REPORT("t_sha256");
}
