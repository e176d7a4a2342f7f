// Fused training kernels: the Adam(W) parameter update and batch normalisation
// with batch statistics (forward and gradient). Written as tfjs ops these are
// 10-15 full-size passes each (an Adam step was ~12 kernels per variable, a
// training-mode batch norm ~25 kernels forward and backward); here each is two
// or three passes over memory. The op contract (inputs, outputs, attributes) is
// defined by packages/model/src/fusedOps.ts, which also holds the tfjs-op
// fallback these must match within float32 tolerance.
#include <omp.h>

#include <cmath>
#include <vector>

#include "channels.h"
#include "napi_util.h"
#include "threading.h"

#define kParallelMin (parallelMinRef())

// adamUpdate(variable, m, v, grad, outVariable, outM, outV,
//            [lr, beta1, beta2, epsilon, biasCorrection1, biasCorrection2, decay])
//   m' = b1 m + (1-b1) g;  v' = b2 v + (1-b2) g^2
//   w' = w - lr * ((m'/c1) / (sqrt(v'/c2) + eps) + decay * w)   (decoupled decay, AdamW)
napi_value AdamUpdate(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    size_t nw, nm, nv, ng, now, nom, nov;
    const float* w = a.f32(0, "variable", &nw);
    const float* m = a.f32(1, "m", &nm);
    const float* v = a.f32(2, "v", &nv);
    const float* g = a.f32(3, "grad", &ng);
    float* ow = a.f32(4, "outVariable", &now);
    float* om = a.f32(5, "outM", &nom);
    float* ov = a.f32(6, "outV", &nov);
    auto p = a.nums(7, "params");
    if (p.size() != 7) throw ArgError("adamUpdate: params must be [lr, beta1, beta2, epsilon, c1, c2, decay]");
    for (size_t n : {nm, nv, ng, now, nom, nov})
      if (n != nw) throw ArgError("adamUpdate: all arrays must have the variable's length");
    const float lr = float(p[0]), b1 = float(p[1]), b2 = float(p[2]), eps = float(p[3]);
    const float ic1 = float(1.0 / p[4]), ic2 = float(1.0 / p[5]), decay = float(p[6]);
    const int64_t n = static_cast<int64_t>(nw);
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) {
      const float gi = g[i];
      const float mi = b1 * m[i] + (1.f - b1) * gi;
      const float vi = b2 * v[i] + (1.f - b2) * gi * gi;
      om[i] = mi;
      ov[i] = vi;
      ow[i] = w[i] - lr * ((mi * ic1) / (std::sqrt(vi * ic2) + eps) + decay * w[i]);
    }
  });
}

namespace {

// Per-channel sums over the rows of a [rows, C] array, accumulated in double.
// Large arrays split their rows between the threads, each summing into its own
// vector, combined in thread order (so the result does not depend on timing).
template <typename F>
void channelSums(int64_t rows, int64_t C, std::vector<double>& acc, F&& term) {
  const int threads = rows * C >= kParallelMin ? omp_get_max_threads() : 1;
  std::vector<double> partial(static_cast<size_t>(threads) * C, 0.0);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
    const int64_t begin = rows * t / n, end = rows * (t + 1) / n;
    double* s = partial.data() + static_cast<size_t>(t) * C;
    for (int64_t r = begin; r < end; ++r) {
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) s[c] += term(r, c);
    }
  }
  acc.assign(C, 0.0);
  for (int t = 0; t < threads; ++t)
    for (int64_t c = 0; c < C; ++c) acc[c] += partial[static_cast<size_t>(t) * C + c];
}

void checkChannels(size_t n, int64_t C, size_t nGamma, size_t nBeta, const char* op) {
  if (C <= 0 || n == 0 || n % C != 0) throw ArgError(std::string(op) + ": x length is not a positive multiple of channels");
  if (static_cast<int64_t>(nGamma) != C || static_cast<int64_t>(nBeta) != C)
    throw ArgError(std::string(op) + ": gamma and beta must have length C");
}

}  // namespace

// batchNormTrain(x, channels, gamma, beta, epsilon, y, mean, variance)
//   Normalises x ([..., C], channels last) with its own per-channel mean and biased
//   variance; writes y and the statistics (for the running averages).
napi_value BatchNormTrain(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    size_t nx, ng, nb, ny, nm, nv;
    const float* x = a.f32(0, "x", &nx);
    const int64_t C = a.i64(1, "channels");
    const float* gamma = a.f32(2, "gamma", &ng);
    const float* beta = a.f32(3, "beta", &nb);
    const double eps = a.num(4, "epsilon");
    float* y = a.f32(5, "y", &ny);
    float* mean = a.f32(6, "mean", &nm);
    float* var = a.f32(7, "variance", &nv);
    checkChannels(nx, C, ng, nb, "batchNormTrain");
    if (ny != nx || static_cast<int64_t>(nm) != C || static_cast<int64_t>(nv) != C)
      throw ArgError("batchNormTrain: y must match x and mean/variance must have length C");
    const int64_t rows = static_cast<int64_t>(nx) / C;
    std::vector<double> acc;
    // Two passes (mean, then centred squares) rather than E[x^2] - E[x]^2, which
    // cancels catastrophically for large means.
    channelSums(rows, C, acc, [&](int64_t r, int64_t c) { return double(x[r * C + c]); });
    std::vector<float> mu(C), k(C), shift(C);
    for (int64_t c = 0; c < C; ++c) mu[c] = float(acc[c] / double(rows));
    const float* pmu = mu.data();
    channelSums(rows, C, acc, [&](int64_t r, int64_t c) {
      const double d = double(x[r * C + c]) - double(pmu[c]);
      return d * d;
    });
    for (int64_t c = 0; c < C; ++c) {
      const double variance = acc[c] / double(rows);
      mean[c] = mu[c];
      var[c] = float(variance);
      k[c] = float(double(gamma[c]) / std::sqrt(variance + eps));
      shift[c] = float(double(beta[c]) - double(mu[c]) * double(k[c]));
    }
    channelAffine(x, rows, C, k.data(), shift.data(), y);
  });
}

// batchNormTrainGrad(dy, x, channels, mean, variance, gamma, dMean, dVariance, epsilon, dx, dgamma, dbeta)
//   The gradient of batchNormTrain's y through the batch statistics:
//   dbeta = sum dy, dgamma = sum dy * xhat,
//   dx = gamma / sigma * (dy - dbeta/N - xhat * dgamma/N), xhat = (x - mean) / sigma;
//   plus the gradients reaching the statistics as outputs (zero when they only
//   feed running averages): dx += dMean / N + 2 dVariance (x - mean) / N.
napi_value BatchNormTrainGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    size_t ndy, nx, nm, nv, ng, ndm, ndv, ndx, ndg, ndb;
    const float* dy = a.f32(0, "dy", &ndy);
    const float* x = a.f32(1, "x", &nx);
    const int64_t C = a.i64(2, "channels");
    const float* mean = a.f32(3, "mean", &nm);
    const float* var = a.f32(4, "variance", &nv);
    const float* gamma = a.f32(5, "gamma", &ng);
    const float* dMean = a.f32(6, "dMean", &ndm);
    const float* dVar = a.f32(7, "dVariance", &ndv);
    const double eps = a.num(8, "epsilon");
    float* dx = a.f32(9, "dx", &ndx);
    float* dgamma = a.f32(10, "dgamma", &ndg);
    float* dbeta = a.f32(11, "dbeta", &ndb);
    checkChannels(nx, C, nm, nv, "batchNormTrainGrad");
    if (ndy != nx || ndx != nx)
      throw ArgError("batchNormTrainGrad: dy and dx must match x");
    for (size_t n : {ng, ndm, ndv, ndg, ndb})
      if (static_cast<int64_t>(n) != C) throw ArgError("batchNormTrainGrad: gamma, dMean, dVariance, dgamma and dbeta must have length C");
    const int64_t rows = static_cast<int64_t>(nx) / C;
    std::vector<float> inv(C);
    for (int64_t c = 0; c < C; ++c) inv[c] = float(1.0 / std::sqrt(double(var[c]) + eps));
    const float* pinv = inv.data();
    std::vector<double> sdy, sdyx;
    channelSums(rows, C, sdy, [&](int64_t r, int64_t c) { return double(dy[r * C + c]); });
    channelSums(rows, C, sdyx, [&](int64_t r, int64_t c) {
      return double(dy[r * C + c]) * (double(x[r * C + c]) - double(mean[c]));
    });
    // dx = k * dy + a * (x - mean) + b per channel, with
    //   k = gamma * inv, a = -k * inv * dgamma / N + 2 dVariance / N, b = (dMean - k * dbeta) / N.
    std::vector<float> kk(C), aa(C), bb(C);
    for (int64_t c = 0; c < C; ++c) {
      const double g = gamma[c], iv = pinv[c], N = double(rows);
      const double dg = sdyx[c] * iv;  // sum dy * xhat
      dbeta[c] = float(sdy[c]);
      dgamma[c] = float(dg);
      const double k = g * iv, av = -k * iv * dg / N + 2.0 * dVar[c] / N;
      kk[c] = float(k);
      aa[c] = float(av);
      bb[c] = float((dMean[c] - k * sdy[c]) / N);
    }
    const float* pk = kk.data();
    const float* pa = aa.data();
    const float* pb = bb.data();
#pragma omp parallel for schedule(static) if (static_cast<int64_t>(nx) >= kParallelMin)
    for (int64_t r = 0; r < rows; ++r) {
      const float* dyr = dy + r * C;
      const float* xr = x + r * C;
      float* dxr = dx + r * C;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) dxr[c] = pk[c] * dyr[c] + pa[c] * (xr[c] - mean[c]) + pb[c];
    }
  });
}
