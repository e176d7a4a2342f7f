#pragma once
#include <oneapi/dnnl/dnnl.hpp>

// One CPU engine and stream for the process: oneDNN runs its primitives on the
// OpenMP pool (libdnnl is built against libgomp), which our own loops share.
inline dnnl::engine& cpuEngine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}
inline dnnl::stream& cpuStream() {
  thread_local dnnl::stream s(cpuEngine());
  return s;
}

#include <omp.h>

// Ops below this many FLOPs run on one thread. On a shared 2-core machine a
// small parallel op pays for waking the second thread and, when another
// process holds that core, for waiting on it at the barrier: a 1 MFLOP matmul
// took 95 ms at load average 20 (DNNL_VERBOSE) where one thread needs ~0.1 ms.
// 32 MFLOP by default; with spinning threads (a quiet machine) the wake-up is
// nearly free and registerNativeBackend lowers it to 4 MFLOP (64 px training:
// median ratio to PyTorch 0.99 vs 0.91, 7 interleaved rounds each). setSingleThreadFlops.
inline double& singleThreadFlopsRef() {
  static double v = 32e6;
  return v;
}
#define kSingleThreadFlops (singleThreadFlopsRef())

// Runs the enclosing scope with one OpenMP thread (oneDNN sizes its parallel
// regions from omp_get_max_threads()), restoring the previous count after.
class ThreadScope {
 public:
  explicit ThreadScope(bool single) : prev_(omp_get_max_threads()), single_(single) {
    if (single_) omp_set_num_threads(1);
  }
  ~ThreadScope() {
    if (single_) omp_set_num_threads(prev_);
  }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int prev_;
  bool single_;
};
