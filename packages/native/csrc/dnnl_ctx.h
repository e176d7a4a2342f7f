#pragma once
#include <oneapi/dnnl/dnnl.hpp>

// One CPU engine and stream for the process: oneDNN runs its primitives on the
// OpenMP pool (libdnnl is built against libgomp), which our own loops share.
inline dnnl::engine& cpuEngine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}
inline dnnl::stream& cpuStream() {
  static dnnl::stream s(cpuEngine());
  return s;
}
