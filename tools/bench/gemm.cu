/* tools/bench/gemm.cu - GEMM MFU sweep with cuBLASLt, bf16 in and out, fp32
** accumulate, over every distinct per-GPU GEMM shape of the corpus models.
**
** Shapes come from tools/bench/shapes.txt ("gemm MODEL TP NAME K N" lines,
** generated from the models' config.json by harness.py shapes); identical
** (K, N) pairs are measured once and every label that uses them is logged.
** For each (K, N) and each m of the grid (default 8, 16, ..., 131072: the
** powers of two, which include every m of the shared MFU table), this times
**     Y[m][n] = X[m][k] . W[n][k]^T
** the way vLLM's linear layers call it (PyTorch's F.linear: weights stored
** [n][k], transposed operand A, "TN" in cuBLAS's column-major terms), with the
** algorithm cuBLASLt's heuristic ranks first for a 32 MiB workspace.
**
** Timing: warm-up, then a batch of back-to-back calls captured once as a
** CUDA graph and replayed, each replay between two CUDA events (no host
** launch gaps inside a batch, as in vLLM's graph-replayed decode steps);
** per-call latency = replay time / calls in the batch; the reported latency
** is the median over replays.  Successive calls rotate over several copies
** of X and W (together >= --rot-mib, default 512 MiB, far above the 50 MB
** L2; a batch covers every copy), so a small GEMM reads its weights from HBM
** as it does in a real forward pass, not from L2.  Inputs are random bf16 in [-1, 1) (zeros would
** run faster than real data).  Before timing each shape, 16 sampled outputs
** are compared with a CPU reference (fp64 over the same bf16 inputs).
**
** stdout: the MFU table, exactly the layout of ../shared/data/mfu/h100/
** gemm/data.csv:  m,k,n,latency_us,mfu  with mfu = 2 m k n / (latency x
** 989.5e12), the H100 SXM dense bf16 peak.  stderr: '#' lines for the log
** (device, shapes and their labels, algorithm, batch sizes, min/max).
**
** --list prints the distinct shapes and exits without touching the GPU.
** Build: nvcc -O3 -arch=sm_90 -o gemm gemm.cu -lcublasLt (tools/bench/build.sh).
*/
#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <string>
#include <vector>

static const double PEAK = 989.5e12; /* H100 SXM dense bf16 FLOP/s: the MFU denominator */

#define CK(x)                                                                                  \
    do {                                                                                       \
        cudaError_t e_ = (x);                                                                  \
        if (e_ != cudaSuccess) {                                                               \
            fprintf(stderr, "gemm: %s:%d: %s: %s\n", __FILE__, __LINE__, #x,                   \
                    cudaGetErrorString(e_));                                                   \
            exit(2);                                                                           \
        }                                                                                      \
    } while (0)
#define CL(x)                                                                                  \
    do {                                                                                       \
        cublasStatus_t s_ = (x);                                                               \
        if (s_ != CUBLAS_STATUS_SUCCESS) {                                                     \
            fprintf(stderr, "gemm: %s:%d: %s: %s\n", __FILE__, __LINE__, #x,                   \
                    cublasLtGetStatusString(s_));                                              \
            exit(2);                                                                           \
        }                                                                                      \
    } while (0)

struct Shape {
    long k, n;
    std::string labels; /* MODEL/tpN/NAME, space-separated */
};

static void usage(void)
{
    fprintf(stderr,
            "usage: gemm [--shapes FILE] [--m LIST] [--only K:N] [--target-ms T] [--min-reps N]\n"
            "            [--max-reps N] [--rot-mib M] [--list]\n"
            "  --shapes    shape file (default tools/bench/shapes.txt)\n"
            "  --m         comma-separated m values (default 8,16,...,131072)\n"
            "  --only      measure this one (K, N) pair only (repeatable)\n"
            "  --target-ms timed GPU time per (shape, m) (default 60)\n"
            "  --min-reps / --max-reps  batches per point (default 10 / 200)\n"
            "  --rot-mib   rotate inputs over at least this much memory (default 512)\n"
            "  --list      print the distinct shapes and exit (no GPU needed)\n");
    exit(2);
}

static std::vector<Shape> read_shapes(const char *path, const std::vector<std::pair<long, long>> &only)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "gemm: %s: cannot open\n", path);
        exit(2);
    }
    std::vector<Shape> v;
    char line[1024];
    int no = 0;
    while (fgets(line, sizeof line, f)) {
        no++;
        if (strncmp(line, "gemm ", 5) != 0)
            continue;
        char model[256], name[128];
        int tp;
        long k, n;
        if (sscanf(line + 5, "%255s %d %127s %ld %ld", model, &tp, name, &k, &n) != 5 || tp < 1 ||
            k < 1 || n < 1) {
            fprintf(stderr, "gemm: %s:%d: expected 'gemm MODEL TP NAME K N'\n", path, no);
            exit(2);
        }
        if (!only.empty() &&
            std::find(only.begin(), only.end(), std::make_pair(k, n)) == only.end())
            continue;
        char lab[512];
        snprintf(lab, sizeof lab, "%s/tp%d/%s", model, tp, name);
        bool found = false;
        for (auto &s : v)
            if (s.k == k && s.n == n) {
                s.labels += " ";
                s.labels += lab;
                found = true;
            }
        if (!found)
            v.push_back({k, n, lab});
    }
    fclose(f);
    if (v.empty()) {
        fprintf(stderr, "gemm: %s: no gemm lines%s\n", path, only.empty() ? "" : " match --only");
        exit(2);
    }
    std::sort(v.begin(), v.end(),
              [](const Shape &a, const Shape &b) { return a.k != b.k ? a.k < b.k : a.n < b.n; });
    return v;
}

/* splitmix-style hash -> bf16 uniform in [-1, 1) */
__host__ __device__ static inline uint32_t hash32(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return (uint32_t)x;
}

__global__ void fill_bf16(__nv_bfloat16 *p, size_t n, uint64_t seed)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        float u = (float)(hash32(i + seed) >> 8) * (1.0f / 8388608.0f) - 1.0f;
        p[i] = __float2bfloat16(u);
    }
}

static size_t align256(size_t x) { return (x + 255) & ~(size_t)255; }

static int copies_for(size_t per_copy, size_t rot_bytes)
{
    size_t c = (rot_bytes + per_copy - 1) / per_copy;
    return (int)std::max<size_t>(1, std::min<size_t>(c, 4096));
}

static float bf2f(__nv_bfloat16 h)
{
    uint16_t u;
    memcpy(&u, &h, 2);
    uint32_t w = (uint32_t)u << 16;
    float f;
    memcpy(&f, &w, 4);
    return f;
}

int main(int argc, char **argv)
{
    const char *shapes_path = "tools/bench/shapes.txt";
    std::vector<long> ms;
    std::vector<std::pair<long, long>> only;
    double target_ms = 60;
    int min_reps = 10, max_reps = 200, list = 0;
    double rot_mib = 512;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--list")) {
            list = 1;
            continue;
        }
        if (!v)
            usage();
        i++;
        if (!strcmp(a, "--shapes"))
            shapes_path = v;
        else if (!strcmp(a, "--m")) {
            for (const char *p = v; *p;) {
                char *e;
                long m = strtol(p, &e, 10);
                if (e == p || m < 1)
                    usage();
                ms.push_back(m);
                p = *e == ',' ? e + 1 : e;
                if (*e && *e != ',')
                    usage();
            }
        } else if (!strcmp(a, "--only")) {
            long k, n;
            if (sscanf(v, "%ld:%ld", &k, &n) != 2)
                usage();
            only.push_back({k, n});
        } else if (!strcmp(a, "--target-ms"))
            target_ms = atof(v);
        else if (!strcmp(a, "--min-reps"))
            min_reps = atoi(v);
        else if (!strcmp(a, "--max-reps"))
            max_reps = atoi(v);
        else if (!strcmp(a, "--rot-mib"))
            rot_mib = atof(v);
        else
            usage();
    }
    if (target_ms <= 0 || min_reps < 1 || max_reps < min_reps || rot_mib < 0)
        usage();
    if (ms.empty())
        for (long m = 8; m <= 131072; m *= 2)
            ms.push_back(m);
    std::sort(ms.begin(), ms.end());
    ms.erase(std::unique(ms.begin(), ms.end()), ms.end());

    std::vector<Shape> shapes = read_shapes(shapes_path, only);
    if (list) {
        for (auto &s : shapes)
            printf("%ld %ld %s\n", s.k, s.n, s.labels.c_str());
        return 0;
    }

    int dev = 0;
    CK(cudaSetDevice(dev));
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, dev));
    int drv = 0, rt = 0;
    CK(cudaDriverGetVersion(&drv));
    CK(cudaRuntimeGetVersion(&rt));
    fprintf(stderr, "# device=\"%s\" sms=%d l2_bytes=%d cc=%d.%d pci=%04x:%02x:%02x cuda_driver=%d "
                    "cuda_runtime=%d cublasLt=%zu peak=%.4g\n",
            prop.name, prop.multiProcessorCount, prop.l2CacheSize, prop.major, prop.minor,
            prop.pciDomainID, prop.pciBusID, prop.pciDeviceID, drv, rt, cublasLtGetVersion(), PEAK);
    fprintf(stderr, "# shapes=%zu m=%zu target_ms=%g min_reps=%d max_reps=%d rot_mib=%g\n",
            shapes.size(), ms.size(), target_ms, min_reps, max_reps, rot_mib);

    /* memory: one pool for the rotating (X, W) copies, one for Y */
    size_t rot = (size_t)(rot_mib * 1048576.0);
    size_t pool_xw = 0, pool_y = 0;
    for (auto &s : shapes)
        for (long m : ms) {
            size_t per = align256((size_t)m * s.k * 2) + align256((size_t)s.k * s.n * 2);
            pool_xw = std::max(pool_xw, per * copies_for(per, rot));
            pool_y = std::max(pool_y, align256((size_t)m * s.n * 2));
        }
    size_t freeb, totalb;
    CK(cudaMemGetInfo(&freeb, &totalb));
    const size_t ws_bytes = 32u << 20;
    if (pool_xw + pool_y + ws_bytes + (1u << 30) > freeb) {
        fprintf(stderr, "gemm: needs %.1f GiB, %.1f GiB free: use fewer/smaller --m\n",
                (pool_xw + pool_y + ws_bytes) / 1073741824.0, freeb / 1073741824.0);
        return 2;
    }
    char *xw, *y, *ws;
    CK(cudaMalloc(&xw, pool_xw));
    CK(cudaMalloc(&y, pool_y));
    CK(cudaMalloc(&ws, ws_bytes));
    fill_bf16<<<prop.multiProcessorCount * 8, 256>>>((__nv_bfloat16 *)xw, pool_xw / 2, 0x9e3779b9ULL);
    CK(cudaGetLastError());
    CK(cudaMemset(y, 0, pool_y));
    CK(cudaDeviceSynchronize());

    cublasLtHandle_t lt;
    CL(cublasLtCreate(&lt));
    cudaStream_t st;
    CK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    cublasLtMatmulDesc_t desc;
    CL(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    cublasOperation_t opT = CUBLAS_OP_T, opN = CUBLAS_OP_N;
    CL(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &opT, sizeof opT));
    CL(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &opN, sizeof opN));
    cublasLtMatmulPreference_t pref;
    CL(cublasLtMatmulPreferenceCreate(&pref));
    size_t wsz = ws_bytes;
    CL(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &wsz,
                                            sizeof wsz));
    const float alpha = 1.0f, beta = 0.0f;
    std::vector<cudaEvent_t> ev(2 * (size_t)max_reps);
    for (auto &e : ev)
        CK(cudaEventCreate(&e));

    printf("m,k,n,latency_us,mfu\n");
    fflush(stdout);
    int bad = 0;
    for (auto &s : shapes) {
        fprintf(stderr, "# shape k=%ld n=%ld used_by=%s\n", s.k, s.n, s.labels.c_str());
        bool checked = false;
        for (long m : ms) {
            size_t xb = align256((size_t)m * s.k * 2), wb = align256((size_t)s.k * s.n * 2);
            size_t per = xb + wb;
            int nc = copies_for(per, rot);
            /* A := W (stored k x n column-major, ld k, op T); B := X (k x m, ld k); D := Y (n x m) */
            cublasLtMatrixLayout_t la, lb, lc;
            CL(cublasLtMatrixLayoutCreate(&la, CUDA_R_16BF, s.k, s.n, s.k));
            CL(cublasLtMatrixLayoutCreate(&lb, CUDA_R_16BF, s.k, m, s.k));
            CL(cublasLtMatrixLayoutCreate(&lc, CUDA_R_16BF, s.n, m, s.n));
            cublasLtMatmulHeuristicResult_t h;
            int got = 0;
            cublasStatus_t hs =
                cublasLtMatmulAlgoGetHeuristic(lt, desc, la, lb, lc, lc, pref, 1, &h, &got);
            if (hs != CUBLAS_STATUS_SUCCESS || got < 1) {
                fprintf(stderr, "# SKIP m=%ld k=%ld n=%ld: no cuBLASLt algorithm (%s)\n", m, s.k,
                        s.n, cublasLtGetStatusString(hs));
                bad++;
                CL(cublasLtMatrixLayoutDestroy(la));
                CL(cublasLtMatrixLayoutDestroy(lb));
                CL(cublasLtMatrixLayoutDestroy(lc));
                continue;
            }
            auto call = [&](int j) {
                char *base = xw + (size_t)(j % nc) * per;
                const void *X = base, *W = base + xb;
                CL(cublasLtMatmul(lt, desc, &alpha, W, la, X, lb, &beta, y, lc, y, lc, &h.algo, ws,
                                  wsz, st));
            };
            /* warm-up (also loads the kernel) */
            for (int j = 0; j < 3; j++)
                call(j);
            CK(cudaStreamSynchronize(st));
            CK(cudaGetLastError());
            if (!checked) { /* 16 sampled outputs of copy 2 against an fp64 CPU reference */
                checked = true;
                char *base = xw + (size_t)(2 % nc) * per;
                std::vector<__nv_bfloat16> xr(s.k), wr(s.k);
                double num = 0, den = 0;
                for (int t = 0; t < 16; t++) {
                    long i = (long)(hash32(t * 2 + 1) % (uint32_t)m);
                    long jn = (long)(hash32(t * 2 + 2) % (uint32_t)s.n);
                    __nv_bfloat16 got_y;
                    CK(cudaMemcpy(xr.data(), base + (size_t)i * s.k * 2, s.k * 2, cudaMemcpyDeviceToHost));
                    CK(cudaMemcpy(wr.data(), base + xb + (size_t)jn * s.k * 2, s.k * 2,
                                  cudaMemcpyDeviceToHost));
                    CK(cudaMemcpy(&got_y, y + ((size_t)i * s.n + jn) * 2, 2, cudaMemcpyDeviceToHost));
                    double ref = 0;
                    for (long l = 0; l < s.k; l++)
                        ref += (double)bf2f(xr[l]) * bf2f(wr[l]);
                    double dlt = bf2f(got_y) - ref;
                    num += dlt * dlt;
                    den += ref * ref;
                }
                double rel = sqrt(num / (den > 0 ? den : 1));
                fprintf(stderr, "# check k=%ld n=%ld m=%ld rel_err=%.3g %s\n", s.k, s.n, m, rel,
                        rel < 1e-2 ? "ok" : "FAIL");
                if (!(rel < 1e-2)) {
                    fprintf(stderr, "gemm: wrong results for k=%ld n=%ld: not timing garbage\n",
                            s.k, s.n);
                    return 3;
                }
            }
            /* estimate one call */
            CK(cudaEventRecord(ev[0], st));
            for (int j = 0; j < 5; j++)
                call(j);
            CK(cudaEventRecord(ev[1], st));
            CK(cudaEventSynchronize(ev[1]));
            float est_ms;
            CK(cudaEventElapsedTime(&est_ms, ev[0], ev[1]));
            double t1 = std::max(est_ms / 5.0, 1e-4); /* ms per call */
            /* calls per batch: >= 200 us of GPU time, and at least one pass over every copy so
            ** that replays never find a copy still in L2 */
            int inner = (int)std::min(1000.0, std::max(1.0, ceil(0.2 / t1)));
            inner = std::max(inner, nc);
            int reps = (int)std::min<double>(max_reps,
                                             std::max<double>(min_reps, ceil(target_ms / (inner * t1))));
            /* the batch as a CUDA graph (as vLLM replays decode steps): replays have no host
            ** launch gaps, so a 3 us GEMM is timed as the GPU runs it, not as fast as the CPU
            ** can enqueue it */
            cudaGraph_t graph;
            cudaGraphExec_t gexec;
            CK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
            for (int q = 0; q < inner; q++)
                call(q);
            CK(cudaStreamEndCapture(st, &graph));
            CK(cudaGraphInstantiate(&gexec, graph, 0));
            CK(cudaGraphLaunch(gexec, st)); /* warm-up replay */
            for (int r = 0; r < reps; r++) {
                CK(cudaEventRecord(ev[2 * r], st));
                CK(cudaGraphLaunch(gexec, st));
                CK(cudaEventRecord(ev[2 * r + 1], st));
            }
            CK(cudaStreamSynchronize(st));
            CK(cudaGetLastError());
            CK(cudaGraphExecDestroy(gexec));
            CK(cudaGraphDestroy(graph));
            std::vector<double> us(reps);
            for (int r = 0; r < reps; r++) {
                float t;
                CK(cudaEventElapsedTime(&t, ev[2 * r], ev[2 * r + 1]));
                us[r] = t * 1000.0 / inner;
            }
            std::sort(us.begin(), us.end());
            double med = reps % 2 ? us[reps / 2] : 0.5 * (us[reps / 2 - 1] + us[reps / 2]);
            double mfu = 2.0 * m * s.k * s.n / (med * 1e-6 * PEAK);
            printf("%ld,%ld,%ld,%.3f,%.6g\n", m, s.k, s.n, med, mfu);
            fflush(stdout);
            fprintf(stderr,
                    "# m=%ld k=%ld n=%ld median_us=%.3f min_us=%.3f max_us=%.3f batches=%d "
                    "calls_per_batch=%d copies=%d workspace=%zu waves=%.3g\n",
                    m, s.k, s.n, med, us[0], us[reps - 1], reps, inner, nc, h.workspaceSize,
                    h.wavesCount);
            CL(cublasLtMatrixLayoutDestroy(la));
            CL(cublasLtMatrixLayoutDestroy(lb));
            CL(cublasLtMatrixLayoutDestroy(lc));
        }
    }
    for (auto &e : ev)
        CK(cudaEventDestroy(e));
    CL(cublasLtMatmulPreferenceDestroy(pref));
    CL(cublasLtMatmulDescDestroy(desc));
    CL(cublasLtDestroy(lt));
    CK(cudaStreamDestroy(st));
    CK(cudaFree(xw));
    CK(cudaFree(y));
    CK(cudaFree(ws));
    fprintf(stderr, "# done skipped=%d\n", bad);
    return bad ? 1 : 0;
}
