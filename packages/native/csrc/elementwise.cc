// Element-wise (with NumPy broadcasting), unary, batch-norm and add-n kernels.
// These are memory-bound: the win over the JS cpu backend comes from SIMD
// loops and running on both cores (OpenMP, the pool oneDNN already uses).
#include <omp.h>

#include <algorithm>
#include <cmath>

#include "channels.h"
#include "napi_util.h"
#include "threading.h"

namespace {

#define kParallelMin (parallelMinRef())

enum BinOp { ADD = 0, SUB, MUL, DIV, MAX, MIN, SQDIFF, EQ, NE, GT, GE, LT, LE };

template <int OP>
inline float bin(float a, float b) {
  if constexpr (OP == ADD) return a + b;
  if constexpr (OP == SUB) return a - b;
  if constexpr (OP == MUL) return a * b;
  if constexpr (OP == DIV) return a / b;
  if constexpr (OP == MAX) return (a != a || b != b) ? NAN : (a > b ? a : b);  // tfjs propagates NaN
  if constexpr (OP == MIN) return (a != a || b != b) ? NAN : (a < b ? a : b);
  if constexpr (OP == SQDIFF) return (a - b) * (a - b);
  if constexpr (OP == EQ) return a == b;
  if constexpr (OP == NE) return a != b;
  if constexpr (OP == GT) return a > b;
  if constexpr (OP == GE) return a >= b;
  if constexpr (OP == LT) return a < b;
  if constexpr (OP == LE) return a <= b;
  return 0.f;
}

// One contiguous row: out[i] = a[i*sa] op b[i*sb], with sa, sb in {0,1}.
template <int OP, typename Out>
inline void binRow(const float* a, int64_t sa, const float* b, int64_t sb, Out* o, int64_t n) {
  if (sa && sb) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) o[i] = bin<OP>(a[i], b[i]);
  } else if (sa) {
    const float bv = b[0];
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) o[i] = bin<OP>(a[i], bv);
  } else if (sb) {
    const float av = a[0];
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) o[i] = bin<OP>(av, b[i]);
  } else {
    const Out v = bin<OP>(a[0], b[0]);
    for (int64_t i = 0; i < n; ++i) o[i] = v;
  }
}

struct Bcast {
  // Collapsed dims (outermost first) and per-dim element strides of a and b (0 = broadcast).
  std::vector<int64_t> dims, sa, sb;
};

Bcast collapse(std::vector<int64_t> as, std::vector<int64_t> bs, const std::vector<int64_t>& os) {
  size_t r = os.size();
  if (as.size() > r || bs.size() > r) throw ArgError("binary: operand rank exceeds output rank");
  as.insert(as.begin(), r - as.size(), 1);
  bs.insert(bs.begin(), r - bs.size(), 1);
  std::vector<int64_t> da, db;  // does operand vary along dim?
  Bcast c;
  for (size_t d = 0; d < r; ++d) {
    if ((as[d] != os[d] && as[d] != 1) || (bs[d] != os[d] && bs[d] != 1))
      throw ArgError("binary: shapes are not broadcast-compatible with the output shape");
    if (os[d] == 1) continue;
    bool va = as[d] != 1, vb = bs[d] != 1;
    if (!c.dims.empty() && (da.back() != 0) == va && (db.back() != 0) == vb) {
      c.dims.back() *= os[d];
    } else {
      c.dims.push_back(os[d]);
      da.push_back(va);
      db.push_back(vb);
    }
  }
  if (c.dims.empty()) {
    c.dims = {1};
    da = {1};
    db = {1};
  }
  size_t n = c.dims.size();
  c.sa.assign(n, 0);
  c.sb.assign(n, 0);
  int64_t stA = 1, stB = 1;
  for (size_t d = n; d-- > 0;) {
    if (da[d]) { c.sa[d] = stA; stA *= c.dims[d]; }
    if (db[d]) { c.sb[d] = stB; stB *= c.dims[d]; }
  }
  return c;
}

template <int OP, typename Out>
void binaryRun(const float* a, const float* b, Out* o, const Bcast& c) {
  const int64_t n = c.dims.back();
  const int64_t ia = c.sa.back(), ib = c.sb.back();
  const size_t outerRank = c.dims.size() - 1;
  int64_t rows = 1;
  for (size_t d = 0; d < outerRank; ++d) rows *= c.dims[d];
  const int64_t total = rows * n;
  if (rows == 1) {
    // One long row: split it across threads.
#pragma omp parallel for schedule(static) if (total >= kParallelMin)
    for (int64_t s = 0; s < n; s += 4096) {
      int64_t len = std::min<int64_t>(4096, n - s);
      binRow<OP, Out>(a + s * ia, ia, b + s * ib, ib, o + s, len);
    }
    return;
  }
#pragma omp parallel for schedule(static) if (total >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    int64_t offA = 0, offB = 0, rem = r;
    for (size_t d = outerRank; d-- > 0;) {
      int64_t idx = rem % c.dims[d];
      rem /= c.dims[d];
      offA += idx * c.sa[d];
      offB += idx * c.sb[d];
    }
    binRow<OP, Out>(a + offA, ia, b + offB, ib, o + r * n, n);
  }
}

enum UnOp { RELU = 0, SIGMOID, STEP, EXP, LOG, NEG, SQRT, RSQRT, SQUARE, ABS, TANH, RELU6, RECIPROCAL, UN_COUNT };

template <int OP>
inline float un(float x, float alpha) {
  if constexpr (OP == RELU) return x < 0.f ? 0.f : x;  // NaN passes through, as in tfjs
  if constexpr (OP == SIGMOID) return 1.f / (1.f + std::exp(-x));
  if constexpr (OP == STEP) return x != x ? NAN : (x > 0.f ? 1.f : alpha);
  if constexpr (OP == EXP) return std::exp(x);
  if constexpr (OP == LOG) return std::log(x);
  if constexpr (OP == NEG) return -x;
  if constexpr (OP == SQRT) return std::sqrt(x);
  if constexpr (OP == RSQRT) return 1.f / std::sqrt(x);
  if constexpr (OP == SQUARE) return x * x;
  if constexpr (OP == ABS) return std::fabs(x);
  if constexpr (OP == TANH) return std::tanh(x);
  if constexpr (OP == RELU6) return x < 0.f ? 0.f : (x > 6.f ? 6.f : x);
  if constexpr (OP == RECIPROCAL) return 1.f / x;
  return 0.f;
}

template <int OP>
void unaryRun(const float* x, float* o, int64_t n, float alpha) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t s = 0; s < n; s += 4096) {
    int64_t e = std::min<int64_t>(n, s + 4096);
#pragma omp simd
    for (int64_t i = s; i < e; ++i) o[i] = un<OP>(x[i], alpha);
  }
}

}  // namespace

// binary(op, a, aShape, b, bShape, out, outShape)
napi_value Binary(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    int op = static_cast<int>(a.i64(0, "op"));
    size_t na, nb, no;
    float* x = a.f32(1, "a", &na);
    auto as = a.ints(2, "aShape");
    float* y = a.f32(3, "b", &nb);
    auto bs = a.ints(4, "bShape");
    napi_typedarray_type outType;
    void* o = a.typed(5, "out", &outType, &no);
    auto os = a.ints(6, "outShape");
    const bool compare = op >= EQ;
    if (outType != (compare ? napi_uint8_array : napi_float32_array))
      throw ArgError(compare ? "compare: out must be a Uint8Array" : "binary: out must be a Float32Array");
    expectLen(na, product(as), "binary a");
    expectLen(nb, product(bs), "binary b");
    expectLen(no, product(os), "binary out");
    if (no == 0) return;
    Bcast c = collapse(as, bs, os);
    switch (op) {
      case ADD: binaryRun<ADD>(x, y, static_cast<float*>(o), c); break;
      case SUB: binaryRun<SUB>(x, y, static_cast<float*>(o), c); break;
      case MUL: binaryRun<MUL>(x, y, static_cast<float*>(o), c); break;
      case DIV: binaryRun<DIV>(x, y, static_cast<float*>(o), c); break;
      case MAX: binaryRun<MAX>(x, y, static_cast<float*>(o), c); break;
      case MIN: binaryRun<MIN>(x, y, static_cast<float*>(o), c); break;
      case SQDIFF: binaryRun<SQDIFF>(x, y, static_cast<float*>(o), c); break;
      case EQ: binaryRun<EQ>(x, y, static_cast<uint8_t*>(o), c); break;
      case NE: binaryRun<NE>(x, y, static_cast<uint8_t*>(o), c); break;
      case GT: binaryRun<GT>(x, y, static_cast<uint8_t*>(o), c); break;
      case GE: binaryRun<GE>(x, y, static_cast<uint8_t*>(o), c); break;
      case LT: binaryRun<LT>(x, y, static_cast<uint8_t*>(o), c); break;
      case LE: binaryRun<LE>(x, y, static_cast<uint8_t*>(o), c); break;
      default: throw ArgError("binary: unknown op " + std::to_string(op));
    }
  });
}

// unary(op, x, out, alpha)
napi_value Unary(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    int op = static_cast<int>(a.i64(0, "op"));
    size_t nx, no;
    float* x = a.f32(1, "x", &nx);
    float* o = a.f32(2, "out", &no);
    float alpha = static_cast<float>(a.isNull(3) ? 0.0 : a.num(3, "alpha"));
    expectLen(no, static_cast<int64_t>(nx), "unary out");
    int64_t n = static_cast<int64_t>(nx);
    switch (op) {
      case RELU: unaryRun<RELU>(x, o, n, alpha); break;
      case SIGMOID: unaryRun<SIGMOID>(x, o, n, alpha); break;
      case STEP: unaryRun<STEP>(x, o, n, alpha); break;
      case EXP: unaryRun<EXP>(x, o, n, alpha); break;
      case LOG: unaryRun<LOG>(x, o, n, alpha); break;
      case NEG: unaryRun<NEG>(x, o, n, alpha); break;
      case SQRT: unaryRun<SQRT>(x, o, n, alpha); break;
      case RSQRT: unaryRun<RSQRT>(x, o, n, alpha); break;
      case SQUARE: unaryRun<SQUARE>(x, o, n, alpha); break;
      case ABS: unaryRun<ABS>(x, o, n, alpha); break;
      case TANH: unaryRun<TANH>(x, o, n, alpha); break;
      case RELU6: unaryRun<RELU6>(x, o, n, alpha); break;
      case RECIPROCAL: unaryRun<RECIPROCAL>(x, o, n, alpha); break;
      default: throw ArgError("unary: unknown op " + std::to_string(op));
    }
  });
}

// reluGrad(dy, y, out): dy where y > 0 else 0 (one pass instead of step+cast+mul).
napi_value ReluGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    size_t nd, ny, no;
    float* dy = a.f32(0, "dy", &nd);
    float* y = a.f32(1, "x", &ny);
    float* o = a.f32(2, "out", &no);
    if (nd != ny || nd != no) throw ArgError("reluGrad: buffers differ in length");
    int64_t n = static_cast<int64_t>(nd);
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (int64_t s = 0; s < n; s += 4096) {
      int64_t e = std::min<int64_t>(n, s + 4096);
#pragma omp simd
      for (int64_t i = s; i < e; ++i) o[i] = y[i] > 0.f ? dy[i] : 0.f;
    }
  });
}

// softmax(x, cols, out): softmax over the last axis of a [rows, cols] array, in one
// call instead of the cpu backend's max/sub/exp/sum/div chain (9 ms for the
// 16K-element MHSA attention of a 128 px step, ~0.2 ms here).
napi_value Softmax(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    size_t nx, no;
    const float* x = a.f32(0, "x", &nx);
    const int64_t cols = a.i64(1, "cols");
    float* o = a.f32(2, "out", &no);
    if (cols <= 0 || nx % cols != 0 || no != nx) throw ArgError("softmax: x length is not a multiple of cols, or out differs");
    const int64_t rows = static_cast<int64_t>(nx) / cols;
#pragma omp parallel for schedule(static) if (static_cast<int64_t>(nx) >= kParallelMin)
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * cols;
      float* orow = o + r * cols;
      float m = xr[0];
      for (int64_t c = 1; c < cols; ++c) m = xr[c] > m ? xr[c] : m;
      double sum = 0;
      for (int64_t c = 0; c < cols; ++c) {
        orow[c] = std::exp(xr[c] - m);
        sum += orow[c];
      }
      const float inv = static_cast<float>(1.0 / sum);
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) orow[c] *= inv;
    }
  });
}

// batchNorm(x, C, mean, variance, offset|null, scale|null, eps, out): per-channel
// affine over a channels-last tensor. mean/variance/offset/scale have length C or 1.
napi_value BatchNorm(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    size_t nx, nm, nv, nof = 0, nsc = 0, no;
    float* x = a.f32(0, "x", &nx);
    int64_t C = a.i64(1, "channels");
    float* m = a.f32(2, "mean", &nm);
    float* v = a.f32(3, "variance", &nv);
    float* of = a.f32OrNull(4, "offset", &nof);
    float* sc = a.f32OrNull(5, "scale", &nsc);
    double eps = a.num(6, "varianceEpsilon");
    float* o = a.f32(7, "out", &no);
    if (C <= 0 || nx % C != 0 || no != nx) throw ArgError("batchNorm: x length is not a multiple of channels");
    auto ok = [&](size_t n) { return n == 1 || static_cast<int64_t>(n) == C; };
    if (!ok(nm) || !ok(nv) || (of && !ok(nof)) || (sc && !ok(nsc)))
      throw ArgError("batchNorm: mean/variance/offset/scale must have length 1 or C");
    std::vector<float> mul(C), add(C);
    for (int64_t c = 0; c < C; ++c) {
      double mean = m[nm == 1 ? 0 : c], var = v[nv == 1 ? 0 : c];
      double s = sc ? sc[nsc == 1 ? 0 : c] : 1.0, off = of ? of[nof == 1 ? 0 : c] : 0.0;
      double k = s / std::sqrt(var + eps);
      mul[c] = static_cast<float>(k);
      add[c] = static_cast<float>(off - mean * k);
    }
    channelAffine(x, static_cast<int64_t>(nx) / C, C, mul.data(), add.data(), o);
  });
}

// addN([arrays], out)
napi_value AddN(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    napi_value list = a.at(0, "inputs");
    uint32_t k;
    if (napi_get_array_length(env, list, &k) != napi_ok || k == 0) throw ArgError("addN: inputs must be a non-empty array");
    size_t no;
    float* o = a.f32(1, "out", &no);
    std::vector<const float*> in(k);
    for (uint32_t i = 0; i < k; ++i) {
      napi_value e;
      napi_get_element(env, list, i, &e);
      napi_typedarray_type t;
      size_t len;
      void* data;
      if (napi_get_typedarray_info(env, e, &t, &len, &data, nullptr, nullptr) != napi_ok || t != napi_float32_array || len != no)
        throw ArgError("addN: every input must be a Float32Array as long as the output");
      in[i] = static_cast<const float*>(data);
    }
    int64_t n = static_cast<int64_t>(no);
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (int64_t s = 0; s < n; s += 4096) {
      int64_t e = std::min<int64_t>(n, s + 4096);
#pragma omp simd
      for (int64_t i = s; i < e; ++i) o[i] = in[0][i];
      for (uint32_t j = 1; j < k; ++j) {
        const float* p = in[j];
#pragma omp simd
        for (int64_t i = s; i < e; ++i) o[i] += p[i];
      }
    }
  });
}
