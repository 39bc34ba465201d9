/* engine/rng.h - PCG32 random numbers (O'Neill's pcg32, XSH-RR 64/32).
**
** All randomness in the engine comes from a pcg32_t owned by the caller; there
** is no global state and no default seed, so two simulations can run in one
** process and a run is a pure function of its seed.  Streams: the same seed
** with different stream ids gives independent sequences (pcg32_srandom_r).
*/
#ifndef TAM_RNG_H
#define TAM_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t state;
    uint64_t inc; /* always odd: selects the stream */
} pcg32_t;

void rng_seed(pcg32_t *r, uint64_t initstate, uint64_t stream);
uint32_t rng_u32(pcg32_t *r);
uint32_t rng_bounded(pcg32_t *r, uint32_t bound); /* uniform in [0, bound) */
double rng_unit(pcg32_t *r);                      /* uniform in [0, 1), 53 bits */
double rng_exp(pcg32_t *r, double rate);          /* exponential, mean 1/rate */
double rng_normal(pcg32_t *r, double mean, double sd);

#endif
