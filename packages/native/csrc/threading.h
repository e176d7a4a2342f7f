#pragma once
#include <cstdint>

// Element count from which the memory-bound loops (element-wise, reductions,
// pooling) use all OpenMP threads. Default: never. On the shared 2-core machine
// an OpenMP barrier waiting for a descheduled second thread made a 4M-element
// multiply 10x slower (11 ms vs 1.1 ms at load average 5), and one core nearly
// saturates memory bandwidth anyway. Settable (setParallelMin) for dedicated machines.
inline int64_t& parallelMinRef() {
  static int64_t v = int64_t(1) << 40;
  return v;
}
