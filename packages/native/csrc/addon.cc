// Module registration for the rcmnet_native addon.
#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>

#include "dnnl_ctx.h"
#include "napi_util.h"
#include "threading.h"

napi_value Conv2D(napi_env, napi_callback_info);
const char* convActivationLayout();
napi_value SetConvLayout(napi_env, napi_callback_info);
napi_value Conv2DBackpropInput(napi_env, napi_callback_info);
napi_value Conv2DBackpropFilter(napi_env, napi_callback_info);
napi_value Binary(napi_env, napi_callback_info);
napi_value Unary(napi_env, napi_callback_info);
napi_value ReluGrad(napi_env, napi_callback_info);
napi_value BatchNorm(napi_env, napi_callback_info);
napi_value AddN(napi_env, napi_callback_info);
napi_value Reduce(napi_env, napi_callback_info);
napi_value Transpose(napi_env, napi_callback_info);
napi_value MaxPool(napi_env, napi_callback_info);
napi_value MaxPoolGrad(napi_env, napi_callback_info);
napi_value AvgPool(napi_env, napi_callback_info);
napi_value AvgPoolGrad(napi_env, napi_callback_info);
napi_value MatMul(napi_env, napi_callback_info);
napi_value Tile(napi_env, napi_callback_info);
napi_value Slice(napi_env, napi_callback_info);
napi_value CastToFloat(napi_env, napi_callback_info);
napi_value AdamUpdate(napi_env, napi_callback_info);
napi_value Softmax(napi_env, napi_callback_info);
napi_value BatchNormTrain(napi_env, napi_callback_info);
napi_value BatchNormTrainGrad(napi_env, napi_callback_info);
napi_value SpatialAvgMax(napi_env, napi_callback_info);
napi_value SpatialAvgMaxGrad(napi_env, napi_callback_info);
napi_value GatedChannelAvgMax(napi_env, napi_callback_info);
napi_value GatedChannelAvgMaxGrad(napi_env, napi_callback_info);
napi_value GateApply(napi_env, napi_callback_info);
napi_value GateApplyGrad(napi_env, napi_callback_info);

// info() -> { threads, dnnl: "major.minor.patch", convLayout: "nhwc" | "blocked" }
static napi_value Info(napi_env env, napi_callback_info) {
  napi_value o, v;
  napi_create_object(env, &o);
  napi_create_int32(env, omp_get_max_threads(), &v);
  napi_set_named_property(env, o, "threads", v);
  const dnnl_version_t* ver = dnnl_version();
  std::string s = std::to_string(ver->major) + "." + std::to_string(ver->minor) + "." + std::to_string(ver->patch);
  napi_create_string_utf8(env, s.c_str(), s.size(), &v);
  napi_set_named_property(env, o, "dnnl", v);
  const char* layout = convActivationLayout();
  napi_create_string_utf8(env, layout, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, o, "convLayout", v);
  return o;
}

// setThreads(n): OpenMP pool size for oneDNN and our own loops.
static napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    int64_t n = a.i64(0, "threads");
    if (n < 1) throw ArgError("setThreads: threads must be >= 1");
    omp_set_num_threads(static_cast<int>(n));
  });
}

// setSingleThreadFlops(f): oneDNN ops below f FLOPs run on one thread (see dnnl_ctx.h).
static napi_value SetSingleThreadFlops(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    double f = a.num(0, "flops");
    if (!(f >= 0)) throw ArgError("setSingleThreadFlops: flops must be >= 0");
    singleThreadFlopsRef() = f;
  });
}

// setParallelMin(n): element count from which memory-bound loops use all threads (see threading.h).
static napi_value SetParallelMin(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    int64_t n = a.i64(0, "elements");
    if (n < 1) throw ArgError("setParallelMin: elements must be >= 1");
    parallelMinRef() = n;
  });
}

static napi_value Init(napi_env env, napi_value exports) {
  struct Fn {
    const char* name;
    napi_callback cb;
  } fns[] = {
      {"conv2d", Conv2D},
      {"conv2dBackpropInput", Conv2DBackpropInput},
      {"conv2dBackpropFilter", Conv2DBackpropFilter},
      {"binary", Binary},
      {"unary", Unary},
      {"reluGrad", ReluGrad},
      {"batchNorm", BatchNorm},
      {"addN", AddN},
      {"reduce", Reduce},
      {"transpose", Transpose},
      {"maxPool", MaxPool},
      {"maxPoolGrad", MaxPoolGrad},
      {"avgPool", AvgPool},
      {"avgPoolGrad", AvgPoolGrad},
      {"matmul", MatMul},
      {"tile", Tile},
      {"slice", Slice},
      {"adamUpdate", AdamUpdate},
      {"softmax", Softmax},
      {"batchNormTrain", BatchNormTrain},
      {"batchNormTrainGrad", BatchNormTrainGrad},
      {"spatialAvgMax", SpatialAvgMax},
      {"spatialAvgMaxGrad", SpatialAvgMaxGrad},
      {"gatedChannelAvgMax", GatedChannelAvgMax},
      {"gatedChannelAvgMaxGrad", GatedChannelAvgMaxGrad},
      {"gateApply", GateApply},
      {"gateApplyGrad", GateApplyGrad},
      {"castToFloat", CastToFloat},
      {"info", Info},
      {"setThreads", SetThreads},
      {"setParallelMin", SetParallelMin},
      {"setSingleThreadFlops", SetSingleThreadFlops},
      {"setConvLayout", SetConvLayout},
  };
  for (auto& f : fns) {
    napi_value fn;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &fn);
    napi_set_named_property(env, exports, f.name, fn);
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
