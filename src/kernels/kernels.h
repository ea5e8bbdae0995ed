// Kernel table: per weight type, a row dequantiser and a dot product of a stored row with an f32 vector.
// One table per instruction set; `select_kernels` picks one at start-up from the CPU's features (or the
// scalar reference when asked with --kernels=ref). Model code calls through `kernels()` and never includes
// an ISA-specific header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "quant/types.h"

namespace seek {

using DequantRowFn = void (*)(const uint8_t* src, float* dst, int64_t n);
using VecDotFn = float (*)(const uint8_t* row, const float* x, int64_t n);
struct BlockQ8_0;
// Dot product with activations already quantised to q8_0 blocks (as llama.cpp multiplies 8-bit weights): the
// integer products are exact, so only the per-block scaling rounds.
using VecDotQ8Fn = float (*)(const uint8_t* row, const BlockQ8_0* xq, int64_t n);

struct TypeKernels {
  DequantRowFn dequant = nullptr;
  VecDotFn dot = nullptr;
  VecDotQ8Fn dot_q8 = nullptr;  // decode path when set: x is quantised to q8_0 once per matrix-vector product
};

struct KernelTable {
  const char* name = "ref";
  TypeKernels by_type[40];  // indexed by GgmlType id; empty where unsupported
  // y[i] += a * x[i]
  void (*axpy)(float a, const float* x, float* y, int64_t n) = nullptr;
  // x (n floats, n a multiple of 32) to q8_0 blocks, as quantize_row_q8_0 does.
  void (*quantize_q8_0)(const float* x, uint8_t* out, int64_t n) = nullptr;
  // dot of two f32 vectors
  float (*dot_f32)(const float* a, const float* b, int64_t n) = nullptr;
  // Prefill GEMM on a packed panel: `panel` holds kGemmPanelRows weight rows k-major (panel[k * 32 + i] is
  // row i, column k; rows >= n_rows are zero). y[t * ldy + i] = sum_k panel[k * 32 + i] * x[t * ldx + k] for
  // i < n_rows, t < n_tok.
  // Packs 32 rows (row-major, `rows[i * K + k]`) into the k-major panel gemm_panel reads.
  void (*pack_panel)(const float* rows, int64_t K, float* panel) = nullptr;
  void (*gemm_panel)(const float* panel, int64_t K, const float* x, int64_t ldx, int64_t n_tok, float* y,
                     int64_t ldy, int n_rows) = nullptr;

  const TypeKernels& of(GgmlType t) const { return by_type[uint32_t(t)]; }
  bool supports(GgmlType t) const { return uint32_t(t) < 40 && by_type[uint32_t(t)].dot != nullptr; }
};

constexpr int64_t kGemmPanelRows = 32;

enum class KernelChoice { Auto, Ref };

// Chooses the table once; later calls with the same choice are no-ops. Returns the name chosen.
const char* select_kernels(KernelChoice choice);
const KernelTable& kernels();

// Whether decode multiplies 8-bit weights with 8-bit-quantised activations (TypeKernels::dot_q8, llama.cpp's
// arithmetic, the default) or with the f32 activations themselves (slower; the exact f32 semantics).
void set_quantized_activations(bool on);
bool quantized_activations();

// The tables themselves (the scalar reference always exists; others may be null when not compiled in).
const KernelTable& ref_kernels();
const KernelTable* avx512_kernels();

bool cpu_has_avx512();

// Reference quantisers (used by writers and tests): n must be a multiple of the block size.
void quantize_row_q8_0(const float* src, uint8_t* dst, int64_t n);

}  // namespace seek
