// 2-D convolution (forward, input gradient, filter gradient) on oneDNN.
// Tensors keep TensorFlow.js layouts (activations NHWC, filters HWIO); each call
// reorders them into the layouts oneDNN's kernel picks (blocked nChw8c activations
// on AVX2; blocked filters everywhere) and the result back, through reused scratch buffers.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>
#include <memory>
#include <tuple>

#include "dnnl_ctx.h"
#include "napi_util.h"

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

struct ConvGeom {
  memory::dims x, w, y;  // oneDNN logical order: x/y {N,C,H,W}, w {O,I,KH,KW}
  memory::dims strides, dil, padL, padR;
};

// params = [strideH, strideW, padTop, padBottom, padLeft, padRight, dilH, dilW]
ConvGeom geometry(const std::vector<int64_t>& xs, const std::vector<int64_t>& ws,
                  const std::vector<int64_t>& ys, const std::vector<int64_t>& p) {
  if (xs.size() != 4 || ws.size() != 4 || ys.size() != 4 || p.size() != 8)
    throw ArgError("conv2d: shapes must be rank 4 (NHWC, HWIO) and params length 8");
  if (xs[3] != ws[2] || ys[3] != ws[3] || xs[0] != ys[0])
    throw ArgError("conv2d: channel or batch sizes do not agree");
  ConvGeom g;
  g.x = {xs[0], xs[3], xs[1], xs[2]};
  g.w = {ws[3], ws[2], ws[0], ws[1]};
  g.y = {ys[0], ys[3], ys[1], ys[2]};
  g.strides = {p[0], p[1]};
  g.padL = {p[2], p[4]};
  g.padR = {p[3], p[5]};
  g.dil = {p[6] - 1, p[7] - 1};  // oneDNN counts dilation from 0
  return g;
}

double flopsOf(const ConvGeom& g) {
  return 2.0 * g.y[0] * g.y[1] * g.y[2] * g.y[3] * g.w[1] * g.w[2] * g.w[3];
}

// Activation layout handed to oneDNN for training's backward passes (the forward
// pass's brgconv kernels read NHWC directly). Measured per ISA, 128 px training:
// - AVX2 (Intel, oneDNN 2.6): `any` lets it pick blocked nChw8c, whose 3x3 kernels
//   run 15-40% faster than NHWC, more than paying for reordering activations in and out.
// - AVX-512 (AMD Zen 4): the avx512_core kernels read NHWC as fast as blocked
//   (backward-weights 82 vs 93 ms, backward-data 69 vs 75 ms per step, DNNL_VERBOSE),
//   so keeping NHWC saves the activation reorders too: oneDNN time 273 vs 322 ms.
// RCMNET_CONV_LAYOUT=nhwc|blocked overrides (A/B); setConvLayout switches at run
// time (tests cover both layouts on any machine). Primitives are cached per layout.
enum class Layout { Auto, Nhwc, Blocked };

Layout& layoutSetting() {
  static Layout l = [] {
    const char* v = std::getenv("RCMNET_CONV_LAYOUT");
    if (v && std::string(v) == "nhwc") return Layout::Nhwc;
    if (v && std::string(v) == "blocked") return Layout::Blocked;
    return Layout::Auto;
  }();
  return l;
}

tag activationTag() {
  switch (layoutSetting()) {
    case Layout::Nhwc: return tag::nhwc;
    case Layout::Blocked: return tag::any;
    case Layout::Auto: break;
  }
  static const bool avx512 = [] {
    const auto isa = static_cast<unsigned>(get_effective_cpu_isa()), want = static_cast<unsigned>(cpu_isa::avx512_core);
    return (isa & want) == want;
  }();
  return avx512 ? tag::nhwc : tag::any;
}

}  // namespace

const char* convActivationLayout() { return activationTag() == tag::nhwc ? "nhwc" : "blocked"; }

// setConvLayout("auto" | "nhwc" | "blocked")
napi_value SetConvLayout(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    const std::string v = a.str(0, "layout");
    if (v == "auto") layoutSetting() = Layout::Auto;
    else if (v == "nhwc") layoutSetting() = Layout::Nhwc;
    else if (v == "blocked") layoutSetting() = Layout::Blocked;
    else throw ArgError("setConvLayout: layout must be auto, nhwc or blocked");
  });
}

namespace {

// Scratch buffers for reordered activations, filters and oneDNN's scratchpad,
// grown on demand and reused: calls come one at a time from a JS thread (state is
// thread_local, so a worker thread loading the addon gets its own), and fresh
// pages per call cost more than the reorders themselves (512-channel filters are
// 9.4 MB, reordered on every training step). Aligned to 64 bytes as oneDNN's own
// allocations are: the AVX2 kernels' 32-byte loads then never straddle a cache line.
// A call uses at most two activation buffers, the scratchpad and one filter.
enum Slot { kActivationA, kActivationB, kScratchpad, kFilter, kSlots };

void* scratch(Slot slot, size_t bytes) {
  struct Buf {
    void* p = nullptr;
    size_t size = 0;
    ~Buf() { std::free(p); }
  };
  thread_local Buf bufs[kSlots];
  Buf& b = bufs[slot];
  if (!b.p || b.size < bytes) {
    std::free(b.p);
    b.size = std::max<size_t>(64, (bytes + 63) / 64 * 64);
    b.p = std::aligned_alloc(64, b.size);
    if (!b.p) throw std::bad_alloc();
  }
  return b.p;
}

// Reorder primitives by (source, destination) layout. Creating one searches
// oneDNN's implementation list before its primitive cache is consulted, and a
// 128 px training step runs ~200 of them. Keyed by the descriptors' bytes: equal
// bytes mean equal layouts (a differing pad byte only costs a duplicate entry).
void runReorder(const memory& from, const memory& to, stream& s) {
  thread_local std::map<std::string, std::unique_ptr<reorder>> cache;
  const memory::desc fd = from.get_desc(), td = to.get_desc();
  std::string key(reinterpret_cast<const char*>(&fd.data), sizeof(fd.data));
  key.append(reinterpret_cast<const char*>(&td.data), sizeof(td.data));
  auto it = cache.find(key);
  if (it == cache.end()) {
    if (cache.size() >= 1024) cache.clear();
    it = cache.emplace(key, std::make_unique<reorder>(reorder::primitive_desc(cpuEngine(), fd, cpuEngine(), td))).first;
  }
  it->second->execute(s, const_cast<memory&>(from), const_cast<memory&>(to));
}

// A memory in the primitive's layout `want` for the user's buffer (NHWC activations,
// HWIO filters): the buffer itself when the layouts agree, else scratch `slot`,
// filled from the user's data when `in` (outputs go back with toUser).
memory inLayout(const memory& user, const memory::desc& want, Slot slot, bool in, stream& s) {
  if (user.get_desc() == want) return user;
  memory m(want, cpuEngine(), scratch(slot, want.get_size()));
  if (in) runReorder(user, m, s);
  return m;
}

// oneDNN's own working memory for a primitive, from its scratch slot. With the default
// (library-owned) scratchpad each call allocates it afresh, and the first touch of
// those pages doubled the weight-gradient convolutions (16 vs 8.7 ms, PyTorch
// passes its own buffer: DNNL_VERBOSE "attr-scratchpad:user").
primitive_attr userScratchpad() {
  primitive_attr attr;
  attr.set_scratchpad_mode(scratchpad_mode::user);
  return attr;
}
memory scratchpadFor(const memory::desc& d) { return memory(d, cpuEngine(), scratch(kScratchpad, d.get_size())); }

// Copies a primitive's output back into the user's NHWC buffer when it went to scratch.
void toUser(const memory& m, const memory& user, stream& s) {
  if (m.get_data_handle() != user.get_data_handle()) runReorder(m, user, s);
}

using Key = std::vector<int64_t>;
Key keyOf(int kind, const ConvGeom& g, int64_t extra) {
  Key k{kind, extra, static_cast<int64_t>(activationTag())};
  for (auto* v : {&g.x, &g.w, &g.y, &g.strides, &g.dil, &g.padL, &g.padR}) k.insert(k.end(), v->begin(), v->end());
  return k;
}

convolution_forward::primitive_desc fwdDesc(const ConvGeom& g, bool bias, int act, prop_kind pk) {
  auto& eng = cpuEngine();
  memory::desc xd(g.x, dt::f32, activationTag()), yd(g.y, dt::f32, activationTag());
  memory::desc wd(g.w, dt::f32, tag::any);
  primitive_attr attr = userScratchpad();
  if (act == 1) {
    post_ops ops;
    ops.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(ops);
  }
  if (bias) {
    memory::desc bd({g.y[1]}, dt::f32, tag::a);
    return {{pk, algorithm::convolution_direct, xd, wd, bd, yd, g.strides, g.dil, g.padL, g.padR}, attr, eng};
  }
  return {{pk, algorithm::convolution_direct, xd, wd, yd, g.strides, g.dil, g.padL, g.padR}, attr, eng};
}

struct Fwd {
  convolution_forward::primitive_desc pd;
  convolution_forward prim;
};
struct BwdData {
  convolution_backward_data::primitive_desc pd;
  convolution_backward_data prim;
};
struct BwdWeights {
  convolution_backward_weights::primitive_desc pd;
  convolution_backward_weights prim;
};

// Primitive creation (JIT code generation) costs milliseconds; a training run
// reuses a few dozen distinct geometries, so they are cached for the process.
thread_local std::map<Key, std::unique_ptr<Fwd>> fwdCache;
thread_local std::map<Key, std::unique_ptr<BwdData>> bwdDataCache;
thread_local std::map<Key, std::unique_ptr<BwdWeights>> bwdWeightsCache;

}  // namespace

// conv2d(x, xShape, w, wShape, bias|null, y, yShape, params, act, prepared|null, wantPrepared)
//   act: 0 none, 1 relu.
// The filter must be reordered from HWIO into the blocked layout oneDNN's kernel
// wants on every call (~12% of inference time, DNNL_VERBOSE). For weights that
// are used again unchanged (inference), the caller may keep the reordered copy:
// with wantPrepared it is returned as a new Float32Array, and passed back as
// `prepared` it is used directly. Returns undefined when no reorder is needed.
napi_value Conv2D(napi_env env, napi_callback_info info) {
  return guardedValue(env, [&]() -> napi_value {
    Args a(env, info);
    size_t nx, nw, ny, nb = 0, np = 0;
    float* x = a.f32(0, "x", &nx);
    auto xs = a.ints(1, "xShape");
    float* w = a.f32(2, "filter", &nw);
    auto ws = a.ints(3, "filterShape");
    float* b = a.f32OrNull(4, "bias", &nb);
    float* y = a.f32(5, "out", &ny);
    auto ys = a.ints(6, "outShape");
    auto p = a.ints(7, "params");
    int act = static_cast<int>(a.i64(8, "activation"));
    float* prepared = a.f32OrNull(9, "prepared", &np);
    bool wantPrepared = !a.isNull(10) && a.i64(10, "wantPrepared") != 0;
    expectLen(nx, product(xs), "conv2d x");
    expectLen(nw, product(ws), "conv2d filter");
    expectLen(ny, product(ys), "conv2d out");
    ConvGeom g = geometry(xs, ws, ys, p);  // checks the ranks before ws[3] is read
    if (b) expectLen(nb, ws[3], "conv2d bias");
    const bool single = flopsOf(g) < kSingleThreadFlops;
    ThreadScope threads(single);
    Key k = keyOf(0, g, (b ? 2 : 0) + act * 4);
    k.push_back(single);
    auto it = fwdCache.find(k);
    if (it == fwdCache.end()) {
      auto pd = fwdDesc(g, b != nullptr, act, prop_kind::forward_inference);
      it = fwdCache.emplace(k, std::make_unique<Fwd>(Fwd{pd, convolution_forward(pd)})).first;
    }
    Fwd& f = *it->second;
    auto& eng = cpuEngine();
    auto& s = cpuStream();
    memory xm({g.x, dt::f32, tag::nhwc}, eng, x), ym({g.y, dt::f32, tag::nhwc}, eng, y);
    memory wu({g.w, dt::f32, tag::hwio}, eng, w);
    const memory::desc want = f.pd.weights_desc();
    napi_value result = nullptr;
    memory wm;
    if (want == wu.get_desc()) {
      wm = wu;
    } else if (prepared) {
      if (np * sizeof(float) != want.get_size()) throw ArgError("conv2d: prepared filter has the wrong size for this geometry");
      wm = memory(want, eng, prepared);
    } else if (wantPrepared) {
      size_t n = want.get_size() / sizeof(float);
      void* data;
      napi_value ab;
      if (napi_create_arraybuffer(env, n * sizeof(float), &data, &ab) != napi_ok ||
          napi_create_typedarray(env, napi_float32_array, n, ab, 0, &result) != napi_ok)
        throw ArgError("conv2d: could not allocate the prepared filter");
      wm = memory(want, eng, data);
      runReorder(wu, wm, s);
    } else {
      wm = inLayout(wu, want, kFilter, true, s);
    }
    memory xk = inLayout(xm, f.pd.src_desc(), kActivationA, true, s), yk = inLayout(ym, f.pd.dst_desc(), kActivationB, false, s);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, xk}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, yk}};
    if (b) args.emplace(DNNL_ARG_BIAS, memory({{g.y[1]}, dt::f32, tag::a}, eng, b));
    args.emplace(DNNL_ARG_SCRATCHPAD, scratchpadFor(f.pd.scratchpad_desc()));
    f.prim.execute(s, args);
    toUser(yk, ym, s);
    s.wait();
    return result;
  });
}

// conv2dBackpropInput(dy, dyShape, w, wShape, dx, dxShape, params)
napi_value Conv2DBackpropInput(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    size_t ndy, nw, ndx;
    float* dy = a.f32(0, "dy", &ndy);
    auto dys = a.ints(1, "dyShape");
    float* w = a.f32(2, "filter", &nw);
    auto ws = a.ints(3, "filterShape");
    float* dx = a.f32(4, "dx", &ndx);
    auto dxs = a.ints(5, "dxShape");
    auto p = a.ints(6, "params");
    expectLen(ndy, product(dys), "conv2dBackpropInput dy");
    expectLen(nw, product(ws), "conv2dBackpropInput filter");
    expectLen(ndx, product(dxs), "conv2dBackpropInput dx");
    ConvGeom g = geometry(dxs, ws, dys, p);
    const bool single = flopsOf(g) < kSingleThreadFlops;
    ThreadScope threads(single);
    Key k = keyOf(1, g, 0);
    k.push_back(single);
    auto it = bwdDataCache.find(k);
    if (it == bwdDataCache.end()) {
      auto hint = fwdDesc(g, false, 0, prop_kind::forward_training);
      memory::desc xd(g.x, dt::f32, activationTag()), yd(g.y, dt::f32, activationTag()), wd(g.w, dt::f32, tag::any);
      convolution_backward_data::primitive_desc pd(
          {algorithm::convolution_direct, xd, wd, yd, g.strides, g.dil, g.padL, g.padR}, userScratchpad(), cpuEngine(), hint);
      it = bwdDataCache.emplace(k, std::make_unique<BwdData>(BwdData{pd, convolution_backward_data(pd)})).first;
    }
    BwdData& f = *it->second;
    auto& eng = cpuEngine();
    auto& s = cpuStream();
    memory dym({g.y, dt::f32, tag::nhwc}, eng, dy), dxm({g.x, dt::f32, tag::nhwc}, eng, dx);
    memory wu({g.w, dt::f32, tag::hwio}, eng, w);
    memory wm = inLayout(wu, f.pd.weights_desc(), kFilter, true, s);
    memory dyk = inLayout(dym, f.pd.diff_dst_desc(), kActivationA, true, s), dxk = inLayout(dxm, f.pd.diff_src_desc(), kActivationB, false, s);
    f.prim.execute(s, {{DNNL_ARG_DIFF_DST, dyk}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DIFF_SRC, dxk},
                       {DNNL_ARG_SCRATCHPAD, scratchpadFor(f.pd.scratchpad_desc())}});
    toUser(dxk, dxm, s);
    s.wait();
  });
}

// conv2dBackpropFilter(x, xShape, dy, dyShape, dw, wShape, params)
napi_value Conv2DBackpropFilter(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    size_t nx, ndy, ndw;
    float* x = a.f32(0, "x", &nx);
    auto xs = a.ints(1, "xShape");
    float* dy = a.f32(2, "dy", &ndy);
    auto dys = a.ints(3, "dyShape");
    float* dw = a.f32(4, "dw", &ndw);
    auto ws = a.ints(5, "filterShape");
    auto p = a.ints(6, "params");
    expectLen(nx, product(xs), "conv2dBackpropFilter x");
    expectLen(ndy, product(dys), "conv2dBackpropFilter dy");
    expectLen(ndw, product(ws), "conv2dBackpropFilter dw");
    ConvGeom g = geometry(xs, ws, dys, p);
    const bool single = flopsOf(g) < kSingleThreadFlops;
    ThreadScope threads(single);
    Key k = keyOf(2, g, 0);
    k.push_back(single);
    auto it = bwdWeightsCache.find(k);
    if (it == bwdWeightsCache.end()) {
      auto hint = fwdDesc(g, false, 0, prop_kind::forward_training);
      memory::desc xd(g.x, dt::f32, activationTag()), yd(g.y, dt::f32, activationTag()), wd(g.w, dt::f32, tag::any);
      convolution_backward_weights::primitive_desc pd(
          {algorithm::convolution_direct, xd, wd, yd, g.strides, g.dil, g.padL, g.padR}, userScratchpad(), cpuEngine(), hint);
      it = bwdWeightsCache.emplace(k, std::make_unique<BwdWeights>(BwdWeights{pd, convolution_backward_weights(pd)})).first;
    }
    BwdWeights& f = *it->second;
    auto& eng = cpuEngine();
    auto& s = cpuStream();
    memory xm({g.x, dt::f32, tag::nhwc}, eng, x), dym({g.y, dt::f32, tag::nhwc}, eng, dy);
    memory wu({g.w, dt::f32, tag::hwio}, eng, dw);
    memory wm = inLayout(wu, f.pd.diff_weights_desc(), kFilter, false, s);
    memory xk = inLayout(xm, f.pd.src_desc(), kActivationA, true, s), dyk = inLayout(dym, f.pd.diff_dst_desc(), kActivationB, true, s);
    f.prim.execute(s, {{DNNL_ARG_SRC, xk}, {DNNL_ARG_DIFF_DST, dyk}, {DNNL_ARG_DIFF_WEIGHTS, wm},
                       {DNNL_ARG_SCRATCHPAD, scratchpadFor(f.pd.scratchpad_desc())}});
    toUser(wm, wu, s);
    s.wait();
  });
}
