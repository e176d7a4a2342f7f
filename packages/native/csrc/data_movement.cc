// Copies that reshuffle data: tile, strided slice, dtype cast to float32.
// Single-threaded: memory-bound (see elementwise.cc).
#include <cstring>

#include "napi_util.h"

namespace {
// Maps each output row (all dims but the last) to an input offset.
inline int64_t rowOffset(int64_t row, const std::vector<int64_t>& outShape, const std::vector<int64_t>& stride,
                         const std::vector<int64_t>& start, const std::vector<int64_t>& inShape, bool wrap) {
  int64_t off = 0;
  for (size_t d = outShape.size() - 1; d-- > 0;) {
    int64_t idx = row % outShape[d];
    row /= outShape[d];
    off += ((wrap ? idx % inShape[d] : idx) + start[d]) * stride[d];
  }
  return off;
}
std::vector<int64_t> stridesOf(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size());
  int64_t acc = 1;
  for (size_t d = shape.size(); d-- > 0;) { s[d] = acc; acc *= shape[d]; }
  return s;
}
}  // namespace

// tile(x, xShape, out, outShape): out[i] = x[i mod xShape] per axis.
napi_value Tile(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    size_t nx, no;
    const float* x = a.f32(0, "x", &nx);
    auto xs = a.ints(1, "xShape");
    float* o = a.f32(2, "out", &no);
    auto os = a.ints(3, "outShape");
    if (xs.size() != os.size() || xs.empty()) throw ArgError("tile: ranks differ");
    expectLen(nx, product(xs), "tile x");
    expectLen(no, product(os), "tile out");
    if (no == 0) return;
    for (size_t d = 0; d < xs.size(); ++d)
      if (xs[d] == 0 || os[d] % xs[d] != 0) throw ArgError("tile: output dims must be multiples of input dims");
    auto st = stridesOf(xs);
    std::vector<int64_t> zero(xs.size(), 0);
    int64_t inner = os.back(), inInner = xs.back(), rows = static_cast<int64_t>(no) / inner;
    for (int64_t r = 0; r < rows; ++r) {
      const float* src = x + rowOffset(r, os, st, zero, xs, true);
      float* dst = o + r * inner;
      for (int64_t j = 0; j < inner; j += inInner) std::memcpy(dst + j, src, sizeof(float) * inInner);
    }
  });
}

// slice(x, xShape, begin, out, outShape): out = x[begin : begin + outShape].
napi_value Slice(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    size_t nx, no;
    const float* x = a.f32(0, "x", &nx);
    auto xs = a.ints(1, "xShape");
    auto begin = a.ints(2, "begin");
    float* o = a.f32(3, "out", &no);
    auto os = a.ints(4, "outShape");
    if (xs.size() != os.size() || begin.size() != xs.size() || xs.empty()) throw ArgError("slice: ranks differ");
    expectLen(nx, product(xs), "slice x");
    expectLen(no, product(os), "slice out");
    for (size_t d = 0; d < xs.size(); ++d)
      if (begin[d] < 0 || begin[d] + os[d] > xs[d]) throw ArgError("slice: out of bounds");
    if (no == 0) return;
    auto st = stridesOf(xs);
    int64_t inner = os.back(), rows = static_cast<int64_t>(no) / inner;
    for (int64_t r = 0; r < rows; ++r)
      std::memcpy(o + r * inner, x + rowOffset(r, os, st, begin, xs, false) + begin.back(), sizeof(float) * inner);
  });
}

// castToFloat(x: Uint8Array | Int32Array, out: Float32Array)
napi_value CastToFloat(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    napi_typedarray_type t;
    size_t nx, no;
    void* x = a.typed(0, "x", &t, &nx);
    float* o = a.f32(1, "out", &no);
    expectLen(no, static_cast<int64_t>(nx), "castToFloat out");
    if (t == napi_uint8_array) {
      const uint8_t* p = static_cast<const uint8_t*>(x);
      for (size_t i = 0; i < nx; ++i) o[i] = p[i];
    } else if (t == napi_int32_array) {
      const int32_t* p = static_cast<const int32_t*>(x);
      for (size_t i = 0; i < nx; ++i) o[i] = static_cast<float>(p[i]);
    } else {
      throw ArgError("castToFloat: x must be a Uint8Array or Int32Array");
    }
  });
}
