// llama.cpp's own quantisation functions as a test oracle: loads libggml-base.so from the prebuilt llama.cpp
// v0.4.0 that npm node-llama-cpp ships (tools/oracle/node_modules, after `npm ci --prefix tools/oracle`) and
// looks up its exported dequantize_row_<type>, quantize_row_<type>_ref and quantize_<type>. Nothing of ggml is
// compiled into seek or its tests: the library is opened at test time only. SEEK_LIBGGML overrides the path.
#pragma once

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace seek::test {

class GgmlOracle {
 public:
  using DequantFn = void (*)(const void* src, float* dst, int64_t n);
  using QuantRefFn = void (*)(const float* src, void* dst, int64_t n);
  using QuantFn = size_t (*)(const float* src, void* dst, int64_t nrow, int64_t n_per_row, const float* imatrix);

  static std::string default_path() {
    if (const char* p = std::getenv("SEEK_LIBGGML")) return p;
    return std::string(SEEK_SOURCE_DIR) +
           "/tools/oracle/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-base.so";
  }

  // The process-wide instance; null handle when the library is absent or does not load.
  static GgmlOracle& get() {
    static GgmlOracle o(default_path());
    return o;
  }

  bool loaded() const { return handle_ != nullptr; }
  const std::string& why_not() const { return why_; }

  // ggml's functions for a type name as ggml spells it ("q4_K"); null when the library has none.
  DequantFn dequant(const std::string& t) const { return DequantFn(sym("dequantize_row_" + t)); }
  QuantRefFn quantize_ref(const std::string& t) const { return QuantRefFn(sym("quantize_row_" + t + "_ref")); }
  // The row quantiser llama-quantize uses for model files (imatrix = null).
  QuantFn quantize_chunk(const std::string& t) const { return QuantFn(sym("quantize_" + t)); }

  // ggml.h's struct ggml_type_traits as v0.4.0 lays it out. Callers check type_name, blck_size and type_size
  // against seek's table before trusting to_float, so a changed layout shows as a failure, not a crash.
  struct TypeTraits {
    const char* type_name;
    int64_t blck_size;
    int64_t blck_size_interleave;
    size_t type_size;
    bool is_quantized;
    DequantFn to_float;
    void* from_float_ref;
  };
  // ggml_get_type_traits(type id); null when the library lacks it.
  const TypeTraits* type_traits(uint32_t type_id) const {
    using Fn = const TypeTraits* (*)(int);
    const Fn f = Fn(sym("ggml_get_type_traits"));
    return f ? f(int(type_id)) : nullptr;
  }
  // ggml_quantize_chunk: what llama-quantize calls per tensor (it initialises the IQ types' search tables first,
  // and asserts an importance matrix for IQ2_XXS, IQ2_XS and IQ1_S).
  using QuantizeChunkFn = size_t (*)(int type, const float* src, void* dst, int64_t start, int64_t nrows,
                                     int64_t n_per_row, const float* imatrix);
  QuantizeChunkFn ggml_quantize_chunk() const { return QuantizeChunkFn(sym("ggml_quantize_chunk")); }

 private:
  explicit GgmlOracle(const std::string& path) {
    if (!std::filesystem::exists(path)) {
      why_ = "llama.cpp oracle not installed: " + path + " is missing (run `npm ci --prefix tools/oracle`)";
      return;
    }
    handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_) why_ = std::string("dlopen failed: ") + dlerror();
  }
  void* sym(const std::string& name) const { return handle_ ? dlsym(handle_, name.c_str()) : nullptr; }

  void* handle_ = nullptr;
  std::string why_;
};

inline bool ci_run() {
  const char* ci = std::getenv("CI");
  return ci && *ci && std::string(ci) != "false" && std::string(ci) != "0";
}

}  // namespace seek::test

// Skips (locally) or fails (in CI) when llama.cpp's library cannot be loaded.
#define SEEK_REQUIRE_GGML_ORACLE()                                        \
  do {                                                                    \
    if (!seek::test::GgmlOracle::get().loaded()) {                        \
      if (seek::test::ci_run()) FAIL() << seek::test::GgmlOracle::get().why_not(); \
      GTEST_SKIP() << seek::test::GgmlOracle::get().why_not();            \
    }                                                                     \
  } while (0)
