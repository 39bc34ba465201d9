/* engine/rng.c - PCG32 (pcg-c-basic's pcg32_random_r and pcg32_boundedrand_r).
** Reference outputs are checked in engine/tests/t_rng.c. */
#include "rng.h"

#include <math.h>

void rng_seed(pcg32_t *r, uint64_t initstate, uint64_t stream)
{
    r->state = 0u;
    r->inc = (stream << 1u) | 1u;
    rng_u32(r);
    r->state += initstate;
    rng_u32(r);
}

uint32_t rng_u32(pcg32_t *r)
{
    uint64_t old = r->state;
    r->state = old * 6364136223846793005ULL + r->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

uint32_t rng_bounded(pcg32_t *r, uint32_t bound)
{
    /* Rejection sampling removes modulo bias (as pcg32_boundedrand_r). */
    uint32_t threshold = (uint32_t)(-bound) % bound;
    for (;;) {
        uint32_t x = rng_u32(r);
        if (x >= threshold)
            return x % bound;
    }
}

double rng_unit(pcg32_t *r)
{
    uint64_t hi = rng_u32(r) >> 5, lo = rng_u32(r) >> 6; /* 27 + 26 = 53 bits */
    return ((double)hi * 67108864.0 + (double)lo) / 9007199254740992.0;
}

double rng_exp(pcg32_t *r, double rate)
{
    return -log(1.0 - rng_unit(r)) / rate;
}

double rng_normal(pcg32_t *r, double mean, double sd)
{
    /* Box-Muller, one value per call: simpler to keep deterministic than a
    ** cached second value that would make the stream depend on call parity. */
    double u1 = rng_unit(r), u2 = rng_unit(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return mean + sd * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
