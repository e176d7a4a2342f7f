// Small helpers over Node's C API (node_api.h). The addon takes Float32Arrays
// that belong to the tfjs cpu backend and reads/writes them in place, so no
// tensor data is copied between JS and C++.
#pragma once
#define NAPI_VERSION 8
#include <node_api.h>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

struct ArgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Args {
  napi_env env;
  size_t argc = 16;
  napi_value argv[16];
  Args(napi_env e, napi_callback_info info) : env(e) {
    napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  }
  napi_value at(size_t i, const char* what) const {
    if (i >= argc) throw ArgError(std::string("missing argument ") + what);
    return argv[i];
  }
  bool isNull(size_t i) const {
    if (i >= argc) return true;
    napi_valuetype t;
    napi_typeof(env, argv[i], &t);
    return t == napi_null || t == napi_undefined;
  }
  // A Float32Array's data pointer and length (in elements).
  float* f32(size_t i, const char* what, size_t* len = nullptr) const {
    napi_value v = at(i, what);
    bool is = false;
    napi_is_typedarray(env, v, &is);
    if (!is) throw ArgError(std::string(what) + " must be a Float32Array");
    napi_typedarray_type type;
    size_t length;
    void* data;
    napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr);
    if (type != napi_float32_array) throw ArgError(std::string(what) + " must be a Float32Array");
    if (len) *len = length;
    return static_cast<float*>(data);
  }
  // Any typed array: data pointer, element type and length.
  void* typed(size_t i, const char* what, napi_typedarray_type* type, size_t* len) const {
    napi_value v = at(i, what);
    bool is = false;
    napi_is_typedarray(env, v, &is);
    if (!is) throw ArgError(std::string(what) + " must be a typed array");
    void* data;
    napi_get_typedarray_info(env, v, type, len, &data, nullptr, nullptr);
    return data;
  }
  float* f32OrNull(size_t i, const char* what, size_t* len = nullptr) const {
    if (isNull(i)) return nullptr;
    return f32(i, what, len);
  }
  double num(size_t i, const char* what) const {
    double d;
    if (napi_get_value_double(env, at(i, what), &d) != napi_ok)
      throw ArgError(std::string(what) + " must be a number");
    return d;
  }
  int64_t i64(size_t i, const char* what) const { return toInt(num(i, what), what, " must be an integer"); }
  // A short string (a setting's name).
  std::string str(size_t i, const char* what) const {
    char buf[64];
    size_t n = 0;
    if (napi_get_value_string_utf8(env, at(i, what), buf, sizeof buf, &n) != napi_ok)
      throw ArgError(std::string(what) + " must be a string");
    return std::string(buf, n);
  }
  // A plain JS array of numbers (hyper-parameters).
  std::vector<double> nums(size_t i, const char* what) const { return numberArray(i, what, " must be an array of numbers"); }
  // A plain JS array of integers (shapes, strides, axes).
  std::vector<int64_t> ints(size_t i, const char* what) const {
    std::vector<double> d = numberArray(i, what, " must be an array of integers");
    std::vector<int64_t> out(d.size());
    for (size_t k = 0; k < d.size(); ++k) out[k] = toInt(d[k], what, " must be an array of integers");
    return out;
  }

 private:
  // Casting NaN, an infinity or a huge double to int64 is undefined behaviour: refuse them.
  static int64_t toInt(double d, const char* what, const char* expected) {
    if (!std::isfinite(d) || d != std::trunc(d) || std::fabs(d) > 9007199254740992.0)  // 2^53
      throw ArgError(std::string(what) + expected);
    return static_cast<int64_t>(d);
  }
  std::vector<double> numberArray(size_t i, const char* what, const char* expected) const {
    napi_value v = at(i, what);
    bool is = false;
    napi_is_array(env, v, &is);
    if (!is) throw ArgError(std::string(what) + expected);
    uint32_t n;
    napi_get_array_length(env, v, &n);
    std::vector<double> out(n);
    for (uint32_t k = 0; k < n; ++k) {
      napi_value e;
      napi_get_element(env, v, k, &e);
      if (napi_get_value_double(env, e, &out[k]) != napi_ok) throw ArgError(std::string(what) + expected);
    }
    return out;
  }
};

// The element count of a shape; a negative dimension or an overflowing product is refused, so a
// buffer length check against it cannot pass by wrapping around.
inline int64_t product(const std::vector<int64_t>& s) {
  int64_t p = 1;
  for (auto d : s) {
    if (d < 0 || (d > 0 && p > INT64_MAX / d)) throw ArgError("shape has a negative or too large dimension");
    p *= d;
  }
  return p;
}

inline void expectLen(size_t have, int64_t want, const char* what) {
  if (static_cast<int64_t>(have) != want)
    throw ArgError(std::string(what) + ": buffer has " + std::to_string(have) +
                   " elements, shape needs " + std::to_string(want));
}

// Wraps a C++ body so that any exception becomes a JS Error instead of aborting the process.
template <typename F>
napi_value guarded(napi_env env, F&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    napi_throw_error(env, "RCMNET_NATIVE", e.what());
  }
  return nullptr;
}

// Like guarded(), for functions that return a value (nullptr = undefined).
template <typename F>
napi_value guardedValue(napi_env env, F&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    napi_throw_error(env, "RCMNET_NATIVE", e.what());
    return nullptr;
  }
}
