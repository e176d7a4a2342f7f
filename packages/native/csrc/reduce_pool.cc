// Reductions, transpose, pooling and batched matmul.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include <map>
#include <memory>

#include "dnnl_ctx.h"

#include "napi_util.h"
#include "threading.h"

namespace {
#define kParallelMin (parallelMinRef())
enum RedOp { SUM = 0, MAXR, MEAN, MINR };
}  // namespace

// reduce(op, x, A, B, C, out): out[a, c] = reduce over b of x[a, b, c].
// The JS side collapses any "reduce a contiguous block of axes" into this form,
// which covers every reduction in the model (per-channel statistics over NHW,
// spatial mean/max over HW, channel mean/max, full sums).
napi_value Reduce(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    int op = static_cast<int>(a.i64(0, "op"));
    size_t nx, no;
    const float* x = a.f32(1, "x", &nx);
    int64_t A = a.i64(2, "A"), B = a.i64(3, "B"), C = a.i64(4, "C");
    float* o = a.f32(5, "out", &no);
    expectLen(nx, A * B * C, "reduce x");
    expectLen(no, A * C, "reduce out");
    if (op < SUM || op > MINR) throw ArgError("reduce: unknown op");
    const bool isMax = op == MAXR, isMin = op == MINR;
    const double init = isMax ? -std::numeric_limits<double>::infinity()
                        : isMin ? std::numeric_limits<double>::infinity() : 0.0;
    const double scale = op == MEAN ? 1.0 / static_cast<double>(B) : 1.0;
    const int64_t total = A * B * C;
    auto combine = [&](double acc, double v) {
      if (isMax) return (v > acc || v != v) ? v : acc;
      if (isMin) return (v < acc || v != v) ? v : acc;
      return acc + v;
    };
    if (C == 1) {
      // Reduce contiguous rows.
      if (A >= 2 || total < kParallelMin) {
#pragma omp parallel for schedule(static) if (total >= kParallelMin)
        for (int64_t i = 0; i < A; ++i) {
          const float* r = x + i * B;
          double acc = init;
          if (!isMax && !isMin) {
#pragma omp simd reduction(+ : acc)
            for (int64_t b = 0; b < B; ++b) acc += r[b];
          } else {
            for (int64_t b = 0; b < B; ++b) acc = combine(acc, r[b]);
          }
          o[i] = static_cast<float>(acc * scale);
        }
        return;
      }
    }
    // Rows of length C reduced over B (and over A when it is small): each
    // thread accumulates a slice of B in double, then the partials are combined.
    int nt = total >= kParallelMin ? omp_get_max_threads() : 1;
    std::vector<double> part(static_cast<size_t>(nt) * A * C, init);
#pragma omp parallel num_threads(nt)
    {
      // The runtime may start fewer threads than asked (OMP_THREAD_LIMIT, OMP_DYNAMIC): split B
      // over those that run; the partials of the others stay at init, which combines as nothing.
      int t = omp_get_thread_num(), running = omp_get_num_threads();
      int64_t lo = B * t / running, hi = B * (t + 1) / running;
      double* acc0 = part.data() + static_cast<size_t>(t) * A * C;
      for (int64_t i = 0; i < A; ++i) {
        double* acc = acc0 + i * C;
        for (int64_t b = lo; b < hi; ++b) {
          const float* r = x + (i * B + b) * C;
          if (!isMax && !isMin) {
#pragma omp simd
            for (int64_t c = 0; c < C; ++c) acc[c] += r[c];
          } else {
            for (int64_t c = 0; c < C; ++c) acc[c] = combine(acc[c], r[c]);
          }
        }
      }
    }
    for (int64_t j = 0; j < A * C; ++j) {
      double acc = part[j];
      for (int t = 1; t < nt; ++t) acc = combine(acc, part[static_cast<size_t>(t) * A * C + j]);
      o[j] = static_cast<float>(acc * scale);
    }
  });
}

// transpose(x, shape, perm, out)
napi_value Transpose(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    size_t nx, no;
    const float* x = a.f32(0, "x", &nx);
    auto shape = a.ints(1, "shape");
    auto perm = a.ints(2, "perm");
    float* o = a.f32(3, "out", &no);
    size_t r = shape.size();
    if (perm.size() != r || r == 0) throw ArgError("transpose: perm must match rank");
    expectLen(nx, product(shape), "transpose x");
    expectLen(no, product(shape), "transpose out");
    std::vector<int64_t> inStride(r), outShape(r), srcStride(r);
    std::vector<bool> seen(r, false);
    int64_t s = 1;
    for (size_t d = r; d-- > 0;) { inStride[d] = s; s *= shape[d]; }
    for (size_t d = 0; d < r; ++d) {
      // A repeated axis keeps the element count but reads past the input.
      if (perm[d] < 0 || perm[d] >= static_cast<int64_t>(r) || seen[perm[d]]) throw ArgError("transpose: perm is not a permutation");
      seen[perm[d]] = true;
      outShape[d] = shape[perm[d]];
      srcStride[d] = inStride[perm[d]];
    }
    int64_t inner = outShape[r - 1], innerStride = srcStride[r - 1];
    int64_t rows = static_cast<int64_t>(no) / std::max<int64_t>(inner, 1);
    if (inner == 0) return;
#pragma omp parallel for schedule(static) if (static_cast<int64_t>(no) >= kParallelMin)
    for (int64_t row = 0; row < rows; ++row) {
      int64_t off = 0, rem = row;
      for (size_t d = r - 1; d-- > 0;) {
        off += (rem % outShape[d]) * srcStride[d];
        rem /= outShape[d];
      }
      float* dst = o + row * inner;
      const float* src = x + off;
      for (int64_t i = 0; i < inner; ++i) dst[i] = src[i * innerStride];
    }
  });
}

// Pool geometry: params = [kh, kw, sh, sw, padTop, padLeft, dh, dw]; x/y NHWC shapes.
struct PoolGeom {
  int64_t N, H, W, C, OH, OW, kh, kw, sh, sw, pt, pl, dh, dw;
};
static PoolGeom poolGeom(const std::vector<int64_t>& xs, const std::vector<int64_t>& ys, const std::vector<int64_t>& p) {
  if (xs.size() != 4 || ys.size() != 4 || p.size() != 8) throw ArgError("pool: shapes must be NHWC and params length 8");
  if (xs[0] != ys[0] || xs[3] != ys[3]) throw ArgError("pool: batch/channels of x and y differ");
  return {xs[0], xs[1], xs[2], xs[3], ys[1], ys[2], p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]};
}

// maxPool(x, xShape, y, yShape, params)
napi_value MaxPool(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    size_t nx, ny;
    const float* x = a.f32(0, "x", &nx);
    auto xs = a.ints(1, "xShape");
    float* y = a.f32(2, "y", &ny);
    auto ys = a.ints(3, "yShape");
    PoolGeom g = poolGeom(xs, ys, a.ints(4, "params"));
    expectLen(nx, product(xs), "maxPool x");
    expectLen(ny, product(ys), "maxPool y");
    int64_t rows = g.N * g.OH;
#pragma omp parallel for schedule(static) if (static_cast<int64_t>(nx) >= kParallelMin)
    for (int64_t row = 0; row < rows; ++row) {
      int64_t n = row / g.OH, oh = row % g.OH;
      std::vector<float> acc(g.C);
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        std::fill(acc.begin(), acc.end(), -std::numeric_limits<float>::infinity());
        for (int64_t i = 0; i < g.kh; ++i) {
          int64_t h = oh * g.sh - g.pt + i * g.dh;
          if (h < 0 || h >= g.H) continue;
          for (int64_t j = 0; j < g.kw; ++j) {
            int64_t w = ow * g.sw - g.pl + j * g.dw;
            if (w < 0 || w >= g.W) continue;
            const float* px = x + ((n * g.H + h) * g.W + w) * g.C;
            // A strict > skips NaN, as the cpu backend's pooling does (an all-NaN window gives -inf).
            for (int64_t c = 0; c < g.C; ++c) acc[c] = px[c] > acc[c] ? px[c] : acc[c];
          }
        }
        std::copy(acc.begin(), acc.end(), y + ((n * g.OH + oh) * g.OW + ow) * g.C);
      }
    }
  });
}

// maxPoolGrad(dy, x, dx, xShape, yShape, params): routes each dy to the first
// maximum of its window, as the tfjs cpu backend does.
napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    size_t ndy, nx, ndx;
    const float* dy = a.f32(0, "dy", &ndy);
    const float* x = a.f32(1, "x", &nx);
    float* dx = a.f32(2, "dx", &ndx);
    auto xs = a.ints(3, "xShape");
    auto ys = a.ints(4, "yShape");
    PoolGeom g = poolGeom(xs, ys, a.ints(5, "params"));
    expectLen(nx, product(xs), "maxPoolGrad x");
    expectLen(ndx, product(xs), "maxPoolGrad dx");
    expectLen(ndy, product(ys), "maxPoolGrad dy");
    std::fill(dx, dx + ndx, 0.f);
    // Windows of different images never overlap, so images run in parallel. Per
    // output pixel the arg-max of each channel is tracked branch-free (select on a
    // strict > from -inf, so the first of tied maxima wins and NaN is skipped, as in
    // the cpu backend) and vectorises over channels; the scatter into dx is the only
    // per-element indexed access. A channel whose window held no number (all NaN, or
    // all padding) routes its gradient nowhere, like the cpu backend's position -1.
#pragma omp parallel for schedule(static) if (static_cast<int64_t>(nx) >= kParallelMin)
    for (int64_t n = 0; n < g.N; ++n) {
      std::vector<float> best(g.C);
      std::vector<int32_t> pos(g.C);
      float* pb = best.data();
      int32_t* pp = pos.data();
      const float* xn = x + n * g.H * g.W * g.C;
      float* dxn = dx + n * g.H * g.W * g.C;
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
#pragma omp simd
          for (int64_t c = 0; c < g.C; ++c) {
            pb[c] = -std::numeric_limits<float>::infinity();
            pp[c] = -1;
          }
          for (int64_t i = 0; i < g.kh; ++i) {
            int64_t h = oh * g.sh - g.pt + i * g.dh;
            if (h < 0 || h >= g.H) continue;
            for (int64_t j = 0; j < g.kw; ++j) {
              int64_t w = ow * g.sw - g.pl + j * g.dw;
              if (w < 0 || w >= g.W) continue;
              const int32_t base = static_cast<int32_t>((h * g.W + w) * g.C);
              const float* xp = xn + base;
#pragma omp simd
              for (int64_t c = 0; c < g.C; ++c) {
                const bool gt = xp[c] > pb[c];
                pb[c] = gt ? xp[c] : pb[c];
                pp[c] = gt ? base : pp[c];
              }
            }
          }
          const float* d = dy + ((n * g.OH + oh) * g.OW + ow) * g.C;
          for (int64_t c = 0; c < g.C; ++c)
            if (pp[c] >= 0) dxn[pp[c] + c] += d[c];
        }
    }
  });
}

// avgPool(x, xShape, y, yShape, params): mean over the in-bounds part of each window.
napi_value AvgPool(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    size_t nx, ny;
    const float* x = a.f32(0, "x", &nx);
    auto xs = a.ints(1, "xShape");
    float* y = a.f32(2, "y", &ny);
    auto ys = a.ints(3, "yShape");
    PoolGeom g = poolGeom(xs, ys, a.ints(4, "params"));
    expectLen(nx, product(xs), "avgPool x");
    expectLen(ny, product(ys), "avgPool y");
    int64_t rows = g.N * g.OH;
#pragma omp parallel for schedule(static) if (static_cast<int64_t>(nx) >= kParallelMin)
    for (int64_t row = 0; row < rows; ++row) {
      int64_t n = row / g.OH, oh = row % g.OH;
      std::vector<double> acc(g.C);
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        std::fill(acc.begin(), acc.end(), 0.0);
        int64_t count = 0;
        for (int64_t i = 0; i < g.kh; ++i) {
          int64_t h = oh * g.sh - g.pt + i * g.dh;
          if (h < 0 || h >= g.H) continue;
          for (int64_t j = 0; j < g.kw; ++j) {
            int64_t w = ow * g.sw - g.pl + j * g.dw;
            if (w < 0 || w >= g.W) continue;
            ++count;
            const float* px = x + ((n * g.H + h) * g.W + w) * g.C;
            for (int64_t c = 0; c < g.C; ++c) acc[c] += px[c];
          }
        }
        float* py = y + ((n * g.OH + oh) * g.OW + ow) * g.C;
        for (int64_t c = 0; c < g.C; ++c) py[c] = count ? static_cast<float>(acc[c] / count) : 0.f;
      }
    }
  });
}

// avgPoolGrad(dy, dx, xShape, yShape, params): spreads dy / (kh*kw) over each
// window's in-bounds inputs (tfjs divides by the full window size here).
napi_value AvgPoolGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    size_t ndy, ndx;
    const float* dy = a.f32(0, "dy", &ndy);
    float* dx = a.f32(1, "dx", &ndx);
    auto xs = a.ints(2, "xShape");
    auto ys = a.ints(3, "yShape");
    PoolGeom g = poolGeom(xs, ys, a.ints(4, "params"));
    expectLen(ndx, product(xs), "avgPoolGrad dx");
    expectLen(ndy, product(ys), "avgPoolGrad dy");
    std::fill(dx, dx + ndx, 0.f);
    const float mult = 1.f / static_cast<float>(g.kh * g.kw);
#pragma omp parallel for schedule(static) if (static_cast<int64_t>(ndx) >= kParallelMin)
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const float* d = dy + ((n * g.OH + oh) * g.OW + ow) * g.C;
          for (int64_t i = 0; i < g.kh; ++i) {
            int64_t h = oh * g.sh - g.pt + i * g.dh;
            if (h < 0 || h >= g.H) continue;
            for (int64_t j = 0; j < g.kw; ++j) {
              int64_t w = ow * g.sw - g.pl + j * g.dw;
              if (w < 0 || w >= g.W) continue;
              float* px = dx + ((n * g.H + h) * g.W + w) * g.C;
              for (int64_t c = 0; c < g.C; ++c) px[c] += d[c] * mult;
            }
          }
        }
  });
}

// matmul(a, b, out, batchA, batchB, M, N, K, transposeA, transposeB): row-major
// C[i] = op(A[i]) x op(B[i]); a batch of 1 on either side is broadcast.
// Runs as one batched oneDNN matmul primitive (cached per geometry); transposes
// are expressed as strides, so nothing is copied.
// Note: under `node --cpu-prof` oneDNN 2.6's JIT gemm (here and in dnnl_sgemm)
// corrupts the heap for larger shapes (e.g. 16x1536 @ 1536x512), also with one
// thread; valgrind finds no invalid write without the profiler, so the V8
// sampler's SIGPROF interrupting the JIT code is the likely cause. Profile with
// tf.profile instead (docs/performance-model.md).
napi_value MatMul(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    size_t na, nb, no;
    float* A = a.f32(0, "a", &na);
    float* Bm = a.f32(1, "b", &nb);
    float* O = a.f32(2, "out", &no);
    int64_t ba = a.i64(3, "batchA"), bb = a.i64(4, "batchB");
    int64_t M = a.i64(5, "M"), N = a.i64(6, "N"), K = a.i64(7, "K");
    bool ta = a.i64(8, "transposeA") != 0, tb = a.i64(9, "transposeB") != 0;
    if (ba != bb && ba != 1 && bb != 1) throw ArgError("matmul: batch sizes must match or be 1");
    if (M <= 0 || N <= 0 || K <= 0) throw ArgError("matmul: M, N and K must be positive");
    int64_t batch = std::max(ba, bb);
    expectLen(na, ba * M * K, "matmul a");
    expectLen(nb, bb * K * N, "matmul b");
    expectLen(no, batch * M * N, "matmul out");
    using namespace dnnl;
    using dt = memory::data_type;
    const bool single = 2.0 * batch * M * N * K < kSingleThreadFlops;
    ThreadScope threads(single);
    std::vector<int64_t> key{ba, bb, M, N, K, ta, tb, single};
    thread_local std::map<std::vector<int64_t>, std::unique_ptr<std::pair<matmul::primitive_desc, matmul>>> cache;
    auto it = cache.find(key);
    memory::desc ad({ba, M, K}, dt::f32, ta ? memory::dims{M * K, 1, M} : memory::dims{M * K, K, 1});
    memory::desc bd({bb, K, N}, dt::f32, tb ? memory::dims{K * N, 1, K} : memory::dims{K * N, N, 1});
    memory::desc od({batch, M, N}, dt::f32, memory::dims{M * N, N, 1});
    if (it == cache.end()) {
      matmul::primitive_desc pd({ad, bd, od}, cpuEngine());
      it = cache.emplace(key, std::make_unique<std::pair<matmul::primitive_desc, matmul>>(pd, matmul(pd))).first;
    }
    auto& eng = cpuEngine();
    memory am(ad, eng, A), bm(bd, eng, Bm), om(od, eng, O);
    it->second->second.execute(cpuStream(), {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, om}});
    cpuStream().wait();
  });
}
