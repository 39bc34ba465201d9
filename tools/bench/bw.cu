/* tools/bench/bw.cu - HBM read bandwidth for the access patterns the Tier 2
** step model charges (docs/MODEL.md, Tier 2):
**
**   sequential  one stream over a large buffer (default 4 GiB): how a GEMM
**               reads its weights.  16-byte loads, four in flight per thread,
**               grid-stride over the whole buffer.
**   paged_kv    the paged-KV gather of a decode attention kernel, for each
**               corpus model's per-GPU KV layout (tools/bench/shapes.txt "kv"
**               lines): vLLM's cache tensor per layer [2][blocks][16][KVH][HD]
**               of 2-byte elements (K then V), 16-token blocks, a block table
**               that is a random permutation (PCG32, seed printed) of the
**               blocks, B sequences of C tokens each.  One warp reads one
**               (sequence, block, KV head): the 16 tokens' K rows of that head
**               (HD x 2 bytes each, strided by KVH x HD x 2) and the same V
**               rows, as FlashAttention's paged decode reads a head's tile;
**               heads of a block are neighbouring work items, blocks of a
**               sequence follow in table order.  Enough layers (each its own
**               cache tensor, same block table, as in vLLM) are read in one
**               launch to pass --kv-gib (default 4 GiB), so nothing is served
**               from the 50 MB L2.
**   paged_kv_identity  the same with the identity block table (blocks in
**               order): a control that separates the cost of the scatter from
**               the cost of the per-head tile shape; not used by the engine.
**   mix         weights and KV read together in one launch, in the byte ratio
**               of one decode layer of that model at --mix-batch x
**               --mix-context (weights from the "kv" line's
**               WEIGHT_BYTES_PER_LAYER): work items alternate between the two
**               streams in that proportion (Bresenham), so both are in flight
**               at once, as in a decode step.
**
** Timing: --warmup untimed launches, then --iters launches each between two
** CUDA events; the median (and min, max) is reported; bandwidth = bytes read
** by one launch / median time.  Every word read is summed on the GPU and
** compared with the closed-form sum of the buffer's fill pattern, so a
** kernel that skipped or repeated data fails (check=FAIL) instead of
** reporting a number.
**
** stdout: '#' header lines (device, seed) and one line per run:
**   RESULT pattern=P model=M tp=T kv_heads=.. head_dim=.. block=16 batch=B
**          context=C layers=L seed=S bytes=N iters=I median_s= min_s= max_s=
**          bw_Bps= check=ok|FAIL
** --list prints the planned runs and exits without touching the GPU.
** Build: nvcc -O3 -arch=sm_90 -o bw bw.cu (tools/bench/build.sh).
*/
#include <cuda_runtime.h>

#include <algorithm>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <string>
#include <vector>

#define CK(x)                                                                                  \
    do {                                                                                       \
        cudaError_t e_ = (x);                                                                  \
        if (e_ != cudaSuccess) {                                                               \
            fprintf(stderr, "bw: %s:%d: %s: %s\n", __FILE__, __LINE__, #x,                     \
                    cudaGetErrorString(e_));                                                   \
            exit(2);                                                                           \
        }                                                                                      \
    } while (0)

constexpr int BLOCK_TOKENS = 16;
constexpr uint32_t FILL_MUL = 2654435761u; /* word i of a buffer holds i * FILL_MUL */

struct KvModel {
    std::string model;
    int tp, layers, kvh, hd, eb, maxctx;
    double wbytes_layer;
};

/* ---------------------------------------------------------------- PCG32 */
struct Pcg32 {
    uint64_t state, inc;
    explicit Pcg32(uint64_t seed, uint64_t seq = 54u)
    {
        state = 0;
        inc = (seq << 1u) | 1u;
        next();
        state += seed;
        next();
    }
    uint32_t next()
    {
        uint64_t old = state;
        state = old * 6364136223846793005ULL + inc;
        uint32_t xs = (uint32_t)(((old >> 18u) ^ old) >> 27u);
        uint32_t rot = (uint32_t)(old >> 59u);
        return (xs >> rot) | (xs << ((-rot) & 31));
    }
    uint32_t below(uint32_t bound) /* unbiased, bound >= 1 */
    {
        uint32_t threshold = (uint32_t)(-bound) % bound;
        for (;;) {
            uint32_t r = next();
            if (r >= threshold)
                return r % bound;
        }
    }
};

/* sum_{i<n} (uint32)(i * FILL_MUL) mod 2^32 */
static uint32_t fill_sum(uint64_t n)
{
    uint64_t tri = (n % 2 == 0) ? (n / 2) * (n - 1) : n * ((n - 1) / 2); /* mod 2^64 */
    return (uint32_t)tri * FILL_MUL;
}

/* ---------------------------------------------------------------- kernels */
__global__ void fill_words(uint32_t *p, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        p[i] = (uint32_t)i * FILL_MUL;
}

__device__ __forceinline__ uint32_t add4(uint4 v) { return v.x + v.y + v.z + v.w; }

__device__ __forceinline__ void warp_add(uint32_t acc, uint32_t *sum)
{
    for (int o = 16; o > 0; o >>= 1)
        acc += __shfl_xor_sync(0xffffffffu, acc, o);
    if ((threadIdx.x & 31) == 0)
        atomicAdd(sum, acc);
}

__global__ void __launch_bounds__(256) seq_read(const uint4 *__restrict__ p, size_t n, uint32_t *sum)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    const size_t s = (size_t)gridDim.x * blockDim.x;
    uint32_t acc = 0;
    for (; i + 3 * s < n; i += 4 * s) {
        uint4 a = p[i], b = p[i + s], c = p[i + 2 * s], d = p[i + 3 * s];
        acc += add4(a) + add4(b) + add4(c) + add4(d);
    }
    for (; i < n; i += s)
        acc += add4(p[i]);
    warp_add(acc, sum);
}

/* One warp per work item.  KV item it = ((layer * B + seq) * nblk + j) * kvh + h;
** weight item = one contiguous chunk of the same bytes as a KV item (K + V
** tile).  nw weight items are spread over the N = nw + nkv items by
** Bresenham, so the two streams advance together. */
template <int HDV> /* 16-byte vectors per token per head: HD * elem_bytes / 16 */
__global__ void __launch_bounds__(256)
    gather(const uint4 *__restrict__ kv, const int *__restrict__ table, int B, int nblk, int kvh,
           size_t nb_per_layer, long long nkv, const uint4 *__restrict__ w, long long nw,
           uint32_t *sum)
{
    const int lane = threadIdx.x & 31;
    const long long warp = (blockIdx.x * (long long)blockDim.x + threadIdx.x) >> 5;
    const long long nwarps = ((long long)gridDim.x * blockDim.x) >> 5;
    const long long N = nkv + nw;
    const size_t block_u4 = (size_t)BLOCK_TOKENS * kvh * HDV;
    const size_t vreg = nb_per_layer * block_u4;  /* V region follows K */
    const size_t layer_u4 = 2 * vreg;
    constexpr int TILE = BLOCK_TOKENS * HDV;      /* uint4 per K tile of one head */
    uint32_t acc = 0;
    for (long long it = warp; it < N; it += nwarps) {
        long long before = nw ? (long long)((unsigned long long)it * nw / N) : 0;
        bool is_w = nw && (long long)((unsigned long long)(it + 1) * nw / N) > before;
        if (is_w) {
            const uint4 *c = w + (size_t)before * (2 * TILE);
#pragma unroll
            for (int q = 0; q < 2 * TILE / 32; q++)
                acc += add4(c[lane + 32 * q]);
        } else {
            long long k = it - before;
            int h = (int)(k % kvh);
            long long r = k / kvh;
            int j = (int)(r % nblk);
            r /= nblk;
            int b = (int)(r % B);
            long long l = r / B;
            size_t phys = (size_t)table[(size_t)b * nblk + j];
            const uint4 *kb = kv + (size_t)l * layer_u4 + phys * block_u4 + (size_t)h * HDV;
            uint4 kk[TILE / 32], vv[TILE / 32];
#pragma unroll
            for (int q = 0; q < TILE / 32; q++) {
                int idx = lane + 32 * q, t = idx / HDV, c = idx % HDV;
                size_t off = (size_t)t * kvh * HDV + c;
                kk[q] = kb[off];
                vv[q] = kb[vreg + off];
            }
#pragma unroll
            for (int q = 0; q < TILE / 32; q++)
                acc += add4(kk[q]) + add4(vv[q]);
        }
    }
    warp_add(acc, sum);
}

/* ---------------------------------------------------------------- host */
static void usage(void)
{
    fprintf(stderr,
            "usage: bw [--shapes FILE] [--seq-gib G] [--kv-gib G] [--batches LIST] [--contexts LIST]\n"
            "          [--mix-batch B] [--mix-context C] [--iters N] [--warmup N] [--seed S] [--list]\n"
            "  defaults: tools/bench/shapes.txt, 4, 4, 8,32,128, 512,2048,4096, 32, 2048, 50, 5, 20260101\n"
            "  contexts must be multiples of 16; a context above a model's max_position_embeddings\n"
            "  is skipped for that model.  --list prints the planned runs, no GPU needed.\n");
    exit(2);
}

static std::vector<long> parse_list(const char *v)
{
    std::vector<long> out;
    for (const char *p = v; *p;) {
        char *e;
        long x = strtol(p, &e, 10);
        if (e == p || x < 1 || (*e && *e != ','))
            usage();
        out.push_back(x);
        p = *e ? e + 1 : e;
    }
    return out;
}

static std::vector<KvModel> read_kv(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bw: %s: cannot open\n", path);
        exit(2);
    }
    std::vector<KvModel> v;
    char line[1024];
    int no = 0;
    while (fgets(line, sizeof line, f)) {
        no++;
        if (strncmp(line, "kv ", 3) != 0)
            continue;
        char model[256];
        KvModel m;
        if (sscanf(line + 3, "%255s %d %d %d %d %d %d %lf", model, &m.tp, &m.layers, &m.kvh, &m.hd,
                   &m.eb, &m.maxctx, &m.wbytes_layer) != 8 ||
            m.tp < 1 || m.kvh < 1 || m.hd < 1 || m.eb < 1 || m.wbytes_layer <= 0) {
            fprintf(stderr, "bw: %s:%d: expected 'kv MODEL TP LAYERS KV_HEADS HEAD_DIM ELEM_BYTES "
                            "MAX_CTX WEIGHT_BYTES_PER_LAYER'\n", path, no);
            exit(2);
        }
        int hdv = m.hd * m.eb / 16;
        if ((m.hd * m.eb) % 16 || (hdv != 8 && hdv != 16 && hdv != 32)) {
            fprintf(stderr, "bw: %s:%d: head_dim x elem_bytes = %d: supported are 128, 256, 512 bytes\n",
                    path, no, m.hd * m.eb);
            exit(2);
        }
        m.model = model;
        v.push_back(m);
    }
    fclose(f);
    if (v.empty()) {
        fprintf(stderr, "bw: %s: no kv lines\n", path);
        exit(2);
    }
    return v;
}

struct Timer {
    std::vector<cudaEvent_t> ev;
    explicit Timer(int n) : ev(2 * n)
    {
        for (auto &e : ev)
            CK(cudaEventCreate(&e));
    }
    ~Timer()
    {
        for (auto &e : ev)
            cudaEventDestroy(e);
    }
};

struct Stats {
    double med, lo, hi;
};

/* run launch() warmup times untimed, then iters times each between events */
template <class F> static Stats time_it(F launch, int warmup, int iters, Timer &tm)
{
    for (int i = 0; i < warmup; i++)
        launch();
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    for (int i = 0; i < iters; i++) {
        CK(cudaEventRecord(tm.ev[2 * i]));
        launch();
        CK(cudaEventRecord(tm.ev[2 * i + 1]));
    }
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    std::vector<double> s(iters);
    for (int i = 0; i < iters; i++) {
        float ms;
        CK(cudaEventElapsedTime(&ms, tm.ev[2 * i], tm.ev[2 * i + 1]));
        s[i] = ms * 1e-3;
    }
    std::sort(s.begin(), s.end());
    double med = iters % 2 ? s[iters / 2] : 0.5 * (s[iters / 2 - 1] + s[iters / 2]);
    return {med, s[0], s[iters - 1]};
}

struct Plan {
    const char *pattern; /* paged_kv, paged_kv_identity, mix */
    const KvModel *m;
    long batch, context;
};

int main(int argc, char **argv)
{
    const char *shapes = "tools/bench/shapes.txt";
    double seq_gib = 4, kv_gib = 4;
    std::vector<long> batches = {8, 32, 128}, contexts = {512, 2048, 4096};
    long mix_b = 32, mix_c = 2048;
    int iters = 50, warmup = 5, list = 0;
    unsigned long long seed = 20260101ULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--list")) {
            list = 1;
            continue;
        }
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        if (!v)
            usage();
        if (!strcmp(a, "--shapes"))
            shapes = v;
        else if (!strcmp(a, "--seq-gib"))
            seq_gib = atof(v);
        else if (!strcmp(a, "--kv-gib"))
            kv_gib = atof(v);
        else if (!strcmp(a, "--batches"))
            batches = parse_list(v);
        else if (!strcmp(a, "--contexts"))
            contexts = parse_list(v);
        else if (!strcmp(a, "--mix-batch"))
            mix_b = atol(v);
        else if (!strcmp(a, "--mix-context"))
            mix_c = atol(v);
        else if (!strcmp(a, "--iters"))
            iters = atoi(v);
        else if (!strcmp(a, "--warmup"))
            warmup = atoi(v);
        else if (!strcmp(a, "--seed"))
            seed = strtoull(v, NULL, 0);
        else
            usage();
    }
    if (seq_gib <= 0 || kv_gib <= 0 || iters < 1 || warmup < 0 || mix_b < 1 || mix_c < 16 ||
        mix_c % BLOCK_TOKENS)
        usage();
    for (long c : contexts)
        if (c % BLOCK_TOKENS)
            usage();

    std::vector<KvModel> models = read_kv(shapes);
    std::vector<Plan> plan;
    for (auto &m : models) {
        for (long b : batches)
            for (long c : contexts)
                if (c <= m.maxctx)
                    plan.push_back({"paged_kv", &m, b, c});
        plan.push_back({"paged_kv_identity", &m, mix_b, mix_c});
        plan.push_back({"mix", &m, mix_b, mix_c});
    }
    if (list) {
        printf("sequential bytes=%.0f\n", seq_gib * 1073741824.0);
        for (auto &p : plan)
            printf("%s model=%s tp=%d kv_heads=%d head_dim=%d batch=%ld context=%ld\n", p.pattern,
                   p.m->model.c_str(), p.m->tp, p.m->kvh, p.m->hd, p.batch, p.context);
        return 0;
    }

    CK(cudaSetDevice(0));
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    int drv = 0, rt = 0;
    CK(cudaDriverGetVersion(&drv));
    CK(cudaRuntimeGetVersion(&rt));
    printf("# device=\"%s\" sms=%d l2_bytes=%d cc=%d.%d pci=%04x:%02x:%02x cuda_driver=%d "
           "cuda_runtime=%d\n",
           prop.name, prop.multiProcessorCount, prop.l2CacheSize, prop.major, prop.minor,
           prop.pciDomainID, prop.pciBusID, prop.pciDeviceID, drv, rt);
    printf("# seed=%llu (run r's block table: PCG32 seeded with seed + r) warmup=%d iters=%d "
           "seq_gib=%g kv_gib=%g\n", seed, warmup, iters, seq_gib, kv_gib);
    fflush(stdout);

    const int grid = prop.multiProcessorCount * 8, threads = 256;
    /* persistent grids: exactly the blocks that are resident at once, each
    ** looping over its share, so no second wave trails behind */
    auto resident = [&](const void *kernel) {
        int per_sm = 0;
        CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads, 0));
        return prop.multiProcessorCount * std::max(1, per_sm);
    };
    const int g_seq = resident((const void *)seq_read), g8 = resident((const void *)gather<8>),
              g16 = resident((const void *)gather<16>), g32 = resident((const void *)gather<32>);
    printf("# grids: seq_read=%d gather8=%d gather16=%d gather32=%d blocks of %d threads\n", g_seq,
           g8, g16, g32, threads);
    uint32_t *dsum;
    CK(cudaMalloc(&dsum, sizeof *dsum));
    Timer tm(iters);
    int failures = 0;

    auto report = [&](const char *pattern, const KvModel *m, long b, long c, long layers,
                      unsigned long long s, double bytes, Stats st, bool ok) {
        printf("RESULT pattern=%s model=%s tp=%d kv_heads=%d head_dim=%d block=%d batch=%ld "
               "context=%ld layers=%ld seed=%llu bytes=%.0f iters=%d median_s=%.9g min_s=%.9g "
               "max_s=%.9g bw_Bps=%.6g check=%s\n",
               pattern, m ? m->model.c_str() : "-", m ? m->tp : 0, m ? m->kvh : 0, m ? m->hd : 0,
               BLOCK_TOKENS, b, c, layers, s, bytes, iters, st.med, st.lo, st.hi, bytes / st.med,
               ok ? "ok" : "FAIL");
        fflush(stdout);
        if (!ok)
            failures++;
    };

    /* ---- sequential */
    {
        size_t bytes = (size_t)(seq_gib * 1073741824.0) & ~(size_t)15;
        uint4 *buf;
        CK(cudaMalloc(&buf, bytes));
        fill_words<<<grid, threads>>>((uint32_t *)buf, bytes / 4);
        CK(cudaMemset(dsum, 0, sizeof *dsum));
        Stats st = time_it(
            [&] { seq_read<<<g_seq, threads>>>(buf, bytes / 16, dsum); }, warmup, iters, tm);
        uint32_t got;
        CK(cudaMemcpy(&got, dsum, sizeof got, cudaMemcpyDeviceToHost));
        bool ok = got == (uint32_t)((uint64_t)fill_sum(bytes / 4) * (uint32_t)(warmup + iters));
        report("sequential", NULL, 0, 0, 0, 0, (double)bytes, st, ok);
        CK(cudaFree(buf));
    }

    /* ---- paged KV, identity control and mix */
    for (size_t r = 0; r < plan.size(); r++) {
        const Plan &p = plan[r];
        const KvModel &m = *p.m;
        const int hdv = m.hd * m.eb / 16;
        const long nblk = p.context / BLOCK_TOKENS;
        const size_t nb = (size_t)p.batch * nblk; /* blocks per layer: exactly those in use */
        const size_t block_bytes = (size_t)BLOCK_TOKENS * m.kvh * m.hd * m.eb;
        const size_t kv_layer = 2 * nb * block_bytes;
        const bool mix = !strcmp(p.pattern, "mix");
        const size_t item = 2 * (size_t)BLOCK_TOKENS * m.hd * m.eb; /* K + V tile of one head */
        /* weights of one layer in whole items; mix only */
        const size_t w_items_layer = mix ? (size_t)ceil(m.wbytes_layer / item) : 0;
        const size_t per_layer = kv_layer + w_items_layer * item;
        const long layers = (long)std::max(1.0, ceil(kv_gib * 1073741824.0 / per_layer));
        const unsigned long long s = seed + r;

        std::vector<int> table(nb);
        for (size_t i = 0; i < nb; i++)
            table[i] = (int)i;
        if (strcmp(p.pattern, "paged_kv_identity") != 0) {
            Pcg32 g(s);
            for (size_t i = nb - 1; i > 0; i--)
                std::swap(table[i], table[g.below((uint32_t)(i + 1))]);
        }
        int *dtab;
        uint4 *kv, *w = NULL;
        size_t kv_bytes = kv_layer * layers, w_bytes = w_items_layer * item * layers;
        CK(cudaMalloc(&dtab, nb * sizeof(int)));
        CK(cudaMemcpy(dtab, table.data(), nb * sizeof(int), cudaMemcpyHostToDevice));
        CK(cudaMalloc(&kv, kv_bytes));
        fill_words<<<grid, threads>>>((uint32_t *)kv, kv_bytes / 4);
        if (w_bytes) {
            CK(cudaMalloc(&w, w_bytes));
            fill_words<<<grid, threads>>>((uint32_t *)w, w_bytes / 4);
        }
        CK(cudaMemset(dsum, 0, sizeof *dsum));
        long long nkv = (long long)layers * p.batch * nblk * m.kvh;
        long long nw = (long long)(w_items_layer * layers);
        auto launch = [&] {
            if (hdv == 8)
                gather<8><<<g8, threads>>>(kv, dtab, (int)p.batch, (int)nblk, m.kvh, nb, nkv, w, nw, dsum);
            else if (hdv == 16)
                gather<16><<<g16, threads>>>(kv, dtab, (int)p.batch, (int)nblk, m.kvh, nb, nkv, w, nw, dsum);
            else
                gather<32><<<g32, threads>>>(kv, dtab, (int)p.batch, (int)nblk, m.kvh, nb, nkv, w, nw, dsum);
        };
        Stats st = time_it(launch, warmup, iters, tm);
        uint32_t got;
        CK(cudaMemcpy(&got, dsum, sizeof got, cudaMemcpyDeviceToHost));
        uint32_t one = fill_sum(kv_bytes / 4) + (w_bytes ? fill_sum(w_bytes / 4) : 0);
        bool ok = got == (uint32_t)((uint64_t)one * (uint32_t)(warmup + iters));
        report(p.pattern, &m, p.batch, p.context, layers, mix || strcmp(p.pattern, "paged_kv") == 0 ? s : 0,
               (double)(kv_bytes + w_bytes), st, ok);
        if (mix)
            printf("# mix model=%s tp=%d weight_bytes=%zu kv_bytes=%zu (per launch)\n",
                   m.model.c_str(), m.tp, w_bytes, kv_bytes);
        CK(cudaFree(dtab));
        CK(cudaFree(kv));
        if (w)
            CK(cudaFree(w));
    }
    CK(cudaFree(dsum));
    printf("# done runs=%zu failures=%d\n", plan.size() + 1, failures);
    return failures ? 1 : 0;
}
