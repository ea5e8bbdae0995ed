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

// q8_0 activations laid out for the quantised types' decode dots (TypeKernels::dot_q8x): the n quants, and per
// 16 values the block's scale as f32 (d16) and that scale times the sum of the 16 quants (s16). prepare_q8x
// forms them once per product, so a row's dot spends nothing on the activations' f16 scales or on the sums that
// the types' minimums and offsets multiply. The quants of each whole 256-value unit are interleaved (value
// 32g + 8r + j of the unit stored at 64r + 8g + j: see avx512_units.h), those after the last whole unit in order.
struct Q8Act {
  const int8_t* qs;   // n
  const float* d16;   // n / 16
  const float* s16;   // n / 16
};
void prepare_q8x(const BlockQ8_0* xq, int64_t n, int8_t* qs, float* d16, float* s16);
// out[t] = row . x[t] for t < n_tok <= kMaxRowPassTokens: the row is read and its codes formed once for all the
// tokens, and each token's result has the same bits whatever n_tok is (a sequence decoded beside others gets what
// it gets alone).
using VecDotQ8xFn = void (*)(const uint8_t* row, const Q8Act* x, int n_tok, int64_t n, float* out);
inline constexpr int kMaxRowPassTokens = 8;

struct TypeKernels {
  DequantRowFn dequant = nullptr;
  VecDotFn dot = nullptr;
  VecDotQ8Fn dot_q8 = nullptr;  // decode path when set: x is quantised to q8_0 once per matrix-vector product
  // When set, dot_q8's product from prepared activations, for up to kMaxRowPassTokens tokens (same integer sums,
  // fewer instructions per row).
  VecDotQ8xFn dot_q8x = nullptr;
};

struct KernelTable {
  const char* name = "ref";
  TypeKernels by_type[kMaxTypeId];  // indexed by GgmlType id; empty where unsupported
  // y[i] += a * x[i]
  void (*axpy)(float a, const float* x, float* y, int64_t n) = nullptr;
  // x (n floats, n a multiple of 32) to q8_0 blocks, as quantize_row_q8_0 does.
  void (*quantize_q8_0)(const float* x, uint8_t* out, int64_t n) = nullptr;
  // dot of two f32 vectors
  float (*dot_f32)(const float* a, const float* b, int64_t n) = nullptr;
  // Attention over cached rows (n_rows rows of at least n floats, `stride` floats apart): scores
  // out[s] = scale * (q . rows[s][0..n)), and the weighted sum out[0..n) = sum_s p[s] rows[s][0..n).
  void (*dot_rows)(const float* q, const float* rows, int64_t stride, int64_t n_rows, int64_t n, float scale,
                   float* out) = nullptr;
  void (*sum_rows)(const float* p, const float* rows, int64_t stride, int64_t n_rows, int64_t n, float* out) = nullptr;
  // The same for n_q queries that share the rows (multi-query attention: absorbed MLA's heads all meet one latent
  // cache), each row read once per block of queries rather than once per query: out[i * ldo + s] for query i at
  // q + i * ldq, and out[i * ldo + c] = sum_s p[i * ldp + s] rows[s][c]. Each result has the bits the one-query
  // kernel gives it. May be null (ops loops over the one-query kernels).
  // In-place softmax over n values: exp(x - max) in f32, their sum in double, each scaled by 1 / sum.
  void (*softmax)(float* x, int64_t n) = nullptr;
  // a[i] = silu(a[i]) * b[i] = a[i] / (1 + exp(-a[i])) * b[i] (the SwiGLU gate).
  void (*swiglu)(float* a, const float* b, int64_t n) = nullptr;
  void (*dot_rows_n)(const float* q, int64_t ldq, int64_t n_q, const float* rows, int64_t stride, int64_t n_rows,
                     int64_t n, float scale, float* out, int64_t ldo) = nullptr;
  void (*sum_rows_n)(const float* p, int64_t ldp, int64_t n_q, const float* rows, int64_t stride, int64_t n_rows,
                     int64_t n, float* out, int64_t ldo) = nullptr;
  // Prefill GEMM on a packed panel: `panel` holds kGemmPanelRows weight rows k-major (panel[k * 32 + i] is
  // row i, column k; rows >= n_rows are zero). y[t * ldy + i] = sum_k panel[k * 32 + i] * x[t * ldx + k] for
  // i < n_rows, t < n_tok.
  // Packs 32 rows (row-major, `rows[i * K + k]`) into the k-major panel gemm_panel reads.
  void (*pack_panel)(const float* rows, int64_t K, float* panel) = nullptr;
  void (*gemm_panel)(const float* panel, int64_t K, const float* x, int64_t ldx, int64_t n_tok, float* y,
                     int64_t ldy, int n_rows) = nullptr;

  // Prefill with Q8_0 weights in integers (VNNI): kGemmPanelRows rows packed by pack_q8_0_panel into
  // q8_0_panel_bytes(K) bytes (per 32-value block: each 16-row half as 8 vectors of 16 rows x 4 weights, the
  // weights offset by +128 to unsigned bytes, then the 32 rows' f16 scales: exactly the bytes of the 32 rows as
  // stored, so a model can keep its Q8_0 weights in this form, see Mat::layout); gemm_q8_0_panel multiplies it with
  // tokens quantised to q8_0 (xq: n_tok rows of K/32 blocks) whose block scales as f32 (xd) and offsets (xoff: -128 x
  // the block's sum of quants, which takes back what the weights' +128 adds to its dot) come precomputed.
  // y[t * ldy + i] for i < n_rows. Each block's integer dot product is exact, as in dot_q8. next_rows (next_n rows,
  // next_stride apart; may be null) are the stored rows of the next panel: the kernel prefetches them block by block
  // while it computes, so reading the weights overlaps the arithmetic.
  // With next_stride 0, next_rows is the next packed panel (same K) of a matrix held as panels, prefetched alike.
  // The hints change no result.
  void (*pack_q8_0_panel)(const uint8_t* rows, size_t row_stride, int n_rows, int64_t K, uint8_t* panel) = nullptr;
  void (*gemm_q8_0_panel)(const uint8_t* panel, int64_t K, const BlockQ8_0* xq, const float* xd, const int32_t* xoff,
                          int64_t n_tok, float* y, int64_t ldy, int n_rows, const uint8_t* next_rows,
                          size_t next_stride, int next_n) = nullptr;

  // FP8 E4M3 rows with DeepSeek's 128x128 block scales, read as stored: `scales` holds the ceil(n / 128)
  // factors (weight_scale_inv) of the row's block row; value = e4m3(row[k]) * scales[k / 128].
  float (*dot_f8_e4m3)(const uint8_t* row, const float* scales, const float* x, int64_t n) = nullptr;
  void (*dequant_f8_e4m3)(const uint8_t* row, const float* scales, float* dst, int64_t n) = nullptr;

  const TypeKernels& of(GgmlType t) const { return by_type[uint32_t(t)]; }
  bool supports(GgmlType t) const {
    if (t == GgmlType::F8_E4M3) return dot_f8_e4m3 != nullptr;
    return uint32_t(t) < kMaxTypeId && by_type[uint32_t(t)].dot != nullptr;
  }
};

constexpr int64_t kGemmPanelRows = 32;
// Bytes of one packed Q8_0 panel of kGemmPanelRows rows of K values: per block, 32 x 32 weight bytes + 32 f16
// scales (as many as the 32 rows take stored).
constexpr size_t q8_0_panel_bytes(int64_t K) { return size_t(K / 32) * (32 * 32 + 32 * 2); }
// Row r (< 32) of a packed Q8_0 panel back as its K / 32 blocks: the inverse of pack_q8_0_panel for that row (the
// layout is the same for every kernel table).
void q8_0_panel_row(const uint8_t* panel, int64_t K, int r, BlockQ8_0* out);

// Auto: the best table the CPU runs (AVX-512, else AVX2, else ref); the others force one (an error on a CPU that
// lacks it is the caller's to report: select_kernels returns null then).
enum class KernelChoice { Auto, Ref, Avx2, Avx512 };

// Chooses the table; returns the name chosen, or null when the CPU (or this build) lacks the forced one.
const char* select_kernels(KernelChoice choice);
const KernelTable& kernels();

// Whether decode multiplies 8-bit weights with 8-bit-quantised activations (TypeKernels::dot_q8, llama.cpp's
// arithmetic, the default) or with the f32 activations themselves (slower; the exact f32 semantics).
void set_quantized_activations(bool on);
bool quantized_activations();

// The tables themselves (the scalar reference always exists; others may be null when not compiled in).
const KernelTable& ref_kernels();
const KernelTable* avx512_kernels();
const KernelTable* avx2_kernels();  // null until an AVX2 table is compiled in

bool cpu_has_avx2();

bool cpu_has_avx512();

// True for the codebook types (IQ2_XXS, IQ2_XS, IQ3_XXS, IQ1_S, IQ1_M) when this build has no codebooks: they are
// extracted from llama.cpp's source at build time (iq_grids.cmake), and a build without that source cannot compute
// them. Callers refuse such tensors with kNoIqGridsMessage.
bool iq_grids_missing(GgmlType t);
inline constexpr const char* kNoIqGridsMessage =
    "this build has no IQ codebooks: run scripts/install-deps.sh and rebuild";

// Reference quantisers (used by writers and tests): n must be a multiple of the block size.
void quantize_row_q8_0(const float* src, uint8_t* dst, int64_t n);

}  // namespace seek
