#pragma once
#include <cstdint>

#include "threading.h"

// y[r, c] = x[r, c] * mul[c] + add[c] over a channels-last [rows, C] array: batch
// normalisation with its statistics and affine parameters folded per channel.
inline void channelAffine(const float* x, int64_t rows, int64_t C, const float* mul, const float* add, float* y) {
#pragma omp parallel for schedule(static) if (rows * C >= parallelMinRef())
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * C;
    float* yr = y + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) yr[c] = xr[c] * mul[c] + add[c];
  }
}
