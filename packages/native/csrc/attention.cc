// CBAM attention, fused: the pooling and gating passes of the convolutional block
// attention module (channel gate from spatially pooled descriptors, spatial gate from
// channel-pooled maps). Written as tfjs ops a CBAM block is ~50 kernels and ~20
// full-size passes forward and backward (max-pool windows, concats, broadcast
// multiplies and their reductions): 12% of an RCMNet training step at 128 px. Here
// the three full-size stages are one pass each way; the small MLP and the 7x7
// convolution between them stay ordinary ops. The op contracts are defined by
// packages/model/src/fusedOps.ts, whose tfjs-op fallback these must match.
//
// All arrays are channels last: x [B, HW, C]; channel gates [B, C]; spatial gates
// and maps [B, HW]. Maxima skip NaN and tie-break to the first position, as the cpu
// backend's max-pool (forward and gradient) does.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "napi_util.h"
#include "threading.h"

namespace {

struct Dims {
  int64_t B, HW, C;
  int64_t size() const { return B * HW * C; }
};

Dims dims(Args& a, int at, const char* op) {
  Dims d{a.i64(at, "batch"), a.i64(at + 1, "positions"), a.i64(at + 2, "channels")};
  if (d.B <= 0 || d.HW <= 0 || d.C <= 0) throw ArgError(std::string(op) + ": batch, positions and channels must be positive");
  return d;
}

bool parallel(const Dims& d) { return d.size() >= parallelMinRef(); }

constexpr float kLowest = -std::numeric_limits<float>::infinity();

}  // namespace

// spatialAvgMax(x, B, HW, C, out)  out [2B, C]: rows 0..B-1 the means over HW,
// rows B..2B-1 the maxima (the channel-attention MLP then runs once on both).
napi_value SpatialAvgMax(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    size_t nx, no;
    const float* x = a.f32(0, "x", &nx);
    const Dims d = dims(a, 1, "spatialAvgMax");
    float* out = a.f32(4, "out", &no);
    expectLen(nx, d.size(), "spatialAvgMax x");
    expectLen(no, 2 * d.B * d.C, "spatialAvgMax out");
    const int64_t HW = d.HW, C = d.C;
#pragma omp parallel for schedule(static) if (parallel(d))
    for (int64_t b = 0; b < d.B; ++b) {
      std::vector<double> sum(C, 0.0);
      float* mx = out + (d.B + b) * C;
      for (int64_t c = 0; c < C; ++c) mx[c] = kLowest;
      for (int64_t p = 0; p < HW; ++p) {
        const float* row = x + (b * HW + p) * C;
        for (int64_t c = 0; c < C; ++c) {
          sum[c] += row[c];
          if (row[c] > mx[c]) mx[c] = row[c];
        }
      }
      for (int64_t c = 0; c < C; ++c) out[b * C + c] = float(sum[c] / double(HW));
    }
  });
}

// spatialAvgMaxGrad(dy, x, pooled, B, HW, C, dx)  dy and pooled [2B, C] as above:
// dx = dMean / HW everywhere, plus dMax at each channel's first maximum.
napi_value SpatialAvgMaxGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    size_t ndy, nx, np, ndx;
    const float* dy = a.f32(0, "dy", &ndy);
    const float* x = a.f32(1, "x", &nx);
    const float* pooled = a.f32(2, "pooled", &np);
    const Dims d = dims(a, 3, "spatialAvgMaxGrad");
    float* dx = a.f32(6, "dx", &ndx);
    expectLen(nx, d.size(), "spatialAvgMaxGrad x");
    expectLen(ndx, d.size(), "spatialAvgMaxGrad dx");
    expectLen(ndy, 2 * d.B * d.C, "spatialAvgMaxGrad dy");
    expectLen(np, 2 * d.B * d.C, "spatialAvgMaxGrad pooled");
    const int64_t HW = d.HW, C = d.C;
    const float invHW = float(1.0 / double(HW));
#pragma omp parallel for schedule(static) if (parallel(d))
    for (int64_t b = 0; b < d.B; ++b) {
      const float* dMean = dy + b * C;
      const float* dMax = dy + (d.B + b) * C;
      const float* mx = pooled + (d.B + b) * C;
      std::vector<char> done(C, 0);
      for (int64_t p = 0; p < HW; ++p) {
        const int64_t r = (b * HW + p) * C;
        for (int64_t c = 0; c < C; ++c) {
          float g = dMean[c] * invHW;
          if (!done[c] && x[r + c] == mx[c]) {
            g += dMax[c];
            done[c] = 1;
          }
          dx[r + c] = g;
        }
      }
    }
  });
}

// gatedChannelAvgMax(x, gate, B, HW, C, out)  out [B, HW, 2]: the mean and the
// maximum over channels of x * gate[b, c] (the channel-gated features, never stored).
napi_value GatedChannelAvgMax(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    size_t nx, ng, no;
    const float* x = a.f32(0, "x", &nx);
    const float* gate = a.f32(1, "gate", &ng);
    const Dims d = dims(a, 2, "gatedChannelAvgMax");
    float* out = a.f32(5, "out", &no);
    expectLen(nx, d.size(), "gatedChannelAvgMax x");
    expectLen(ng, d.B * d.C, "gatedChannelAvgMax gate");
    expectLen(no, 2 * d.B * d.HW, "gatedChannelAvgMax out");
    const int64_t C = d.C, rows = d.B * d.HW;
    const float invC = float(1.0 / double(C));
#pragma omp parallel for schedule(static) if (parallel(d))
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = x + r * C;
      const float* g = gate + (r / d.HW) * C;
      float sum = 0.f, mx = kLowest;
#pragma omp simd reduction(+ : sum) reduction(max : mx)
      for (int64_t c = 0; c < C; ++c) {
        const float v = row[c] * g[c];
        sum += v;
        mx = v > mx ? v : mx;
      }
      out[2 * r] = sum * invC;
      out[2 * r + 1] = mx;
    }
  });
}

// gatedChannelAvgMaxGrad(dy, x, gate, B, HW, C, dx, dgate)  dy [B, HW, 2]:
// with g = dMean / C + (dMax at the first channel maximum of x * gate),
// dx = g * gate and dgate[b, c] = sum over positions of g * x.
napi_value GatedChannelAvgMaxGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    size_t ndy, nx, ng, ndx, ndg;
    const float* dy = a.f32(0, "dy", &ndy);
    const float* x = a.f32(1, "x", &nx);
    const float* gate = a.f32(2, "gate", &ng);
    const Dims d = dims(a, 3, "gatedChannelAvgMaxGrad");
    float* dx = a.f32(6, "dx", &ndx);
    float* dgate = a.f32(7, "dgate", &ndg);
    expectLen(nx, d.size(), "gatedChannelAvgMaxGrad x");
    expectLen(ndx, d.size(), "gatedChannelAvgMaxGrad dx");
    expectLen(ng, d.B * d.C, "gatedChannelAvgMaxGrad gate");
    expectLen(ndg, d.B * d.C, "gatedChannelAvgMaxGrad dgate");
    expectLen(ndy, 2 * d.B * d.HW, "gatedChannelAvgMaxGrad dy");
    const int64_t HW = d.HW, C = d.C;
    const float invC = float(1.0 / double(C));
#pragma omp parallel for schedule(static) if (parallel(d))
    for (int64_t b = 0; b < d.B; ++b) {
      const float* g = gate + b * C;
      std::vector<double> acc(C, 0.0);
      for (int64_t p = 0; p < HW; ++p) {
        const int64_t r = b * HW + p;
        const float* row = x + r * C;
        float* drow = dx + r * C;
        int64_t argmax = -1;
        float mx = kLowest;
        for (int64_t c = 0; c < C; ++c) {
          const float v = row[c] * g[c];
          if (v > mx) mx = v, argmax = c;
        }
        const float dMean = dy[2 * r] * invC;
        for (int64_t c = 0; c < C; ++c) {
          const float gc = dMean + (c == argmax ? dy[2 * r + 1] : 0.f);
          drow[c] = gc * g[c];
          acc[c] += double(gc) * row[c];
        }
      }
      for (int64_t c = 0; c < C; ++c) dgate[b * C + c] = float(acc[c]);
    }
  });
}

// gateApply(x, channelGate, spatialGate, B, HW, C, y)
//   y[b, p, c] = x[b, p, c] * channelGate[b, c] * spatialGate[b, p]
napi_value GateApply(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    size_t nx, ncg, nsg, ny;
    const float* x = a.f32(0, "x", &nx);
    const float* cg = a.f32(1, "channelGate", &ncg);
    const float* sg = a.f32(2, "spatialGate", &nsg);
    const Dims d = dims(a, 3, "gateApply");
    float* y = a.f32(6, "y", &ny);
    expectLen(nx, d.size(), "gateApply x");
    expectLen(ny, d.size(), "gateApply y");
    expectLen(ncg, d.B * d.C, "gateApply channelGate");
    expectLen(nsg, d.B * d.HW, "gateApply spatialGate");
    const int64_t C = d.C, rows = d.B * d.HW;
#pragma omp parallel for schedule(static) if (parallel(d))
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = x + r * C;
      const float* g = cg + (r / d.HW) * C;
      const float s = sg[r];
      float* yr = y + r * C;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) yr[c] = row[c] * g[c] * s;
    }
  });
}

// gateApplyGrad(dy, x, channelGate, spatialGate, B, HW, C, dx, dChannelGate, dSpatialGate)
//   dx = dy * cg * sg;  dcg[b, c] = sum_p dy * x * sg;  dsg[b, p] = sum_c dy * x * cg
napi_value GateApplyGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    size_t ndy, nx, ncg, nsg, ndx, ndcg, ndsg;
    const float* dy = a.f32(0, "dy", &ndy);
    const float* x = a.f32(1, "x", &nx);
    const float* cg = a.f32(2, "channelGate", &ncg);
    const float* sg = a.f32(3, "spatialGate", &nsg);
    const Dims d = dims(a, 4, "gateApplyGrad");
    float* dx = a.f32(7, "dx", &ndx);
    float* dcg = a.f32(8, "dChannelGate", &ndcg);
    float* dsg = a.f32(9, "dSpatialGate", &ndsg);
    expectLen(ndy, d.size(), "gateApplyGrad dy");
    expectLen(nx, d.size(), "gateApplyGrad x");
    expectLen(ndx, d.size(), "gateApplyGrad dx");
    expectLen(ncg, d.B * d.C, "gateApplyGrad channelGate");
    expectLen(ndcg, d.B * d.C, "gateApplyGrad dChannelGate");
    expectLen(nsg, d.B * d.HW, "gateApplyGrad spatialGate");
    expectLen(ndsg, d.B * d.HW, "gateApplyGrad dSpatialGate");
    const int64_t HW = d.HW, C = d.C;
#pragma omp parallel for schedule(static) if (parallel(d))
    for (int64_t b = 0; b < d.B; ++b) {
      const float* g = cg + b * C;
      std::vector<double> acc(C, 0.0);
      for (int64_t p = 0; p < HW; ++p) {
        const int64_t r = b * HW + p;
        const float s = sg[r];
        const float* dyr = dy + r * C;
        const float* row = x + r * C;
        float* dxr = dx + r * C;
        double* pacc = acc.data();
        float ds = 0.f;
#pragma omp simd reduction(+ : ds)
        for (int64_t c = 0; c < C; ++c) {
          const float t = dyr[c] * row[c];
          dxr[c] = dyr[c] * g[c] * s;
          pacc[c] += double(t * s);
          ds += t * g[c];
        }
        dsg[r] = ds;
      }
      for (int64_t c = 0; c < C; ++c) dcg[b * C + c] = float(acc[c]);
    }
  });
}
