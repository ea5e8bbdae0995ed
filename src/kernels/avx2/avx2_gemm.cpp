// AVX2 prefill GEMM: packing 32 weight rows k-major (8x8 transposes) and multiplying the packed panel with a
// batch of tokens in 16-row x 6-token register blocks. Same contract as the reference (kernels.h): the panel is
// kGemmPanelRows = 32 rows wide, panel[k * 32 + i] is row i, column k, and only rows < n_rows are written.
#include <algorithm>

#include "kernels/avx2/avx2_util.h"
#include "kernels/token_blocks.h"

namespace seek::avx2 {

namespace {

constexpr int kP = int(kGemmPanelRows);
static_assert(kP == 32, "the register blocks below cover a 32-row panel as two halves of 16");

// Transposes an 8x8 block in place: r[i] holds row i; afterwards r[c] holds column c.
inline void transpose8(__m256 r[8]) {
  __m256 a[8], b[8];
  for (int i = 0; i < 4; ++i) {  // a[2i], a[2i+1]: rows 2i and 2i+1 interleaved (per 128-bit lane)
    a[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    a[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 2; ++i) {  // b[4i + m], lane L: column 4L + m of rows 4i .. 4i + 3
    b[4 * i + 0] = _mm256_shuffle_ps(a[4 * i], a[4 * i + 2], 0x44);
    b[4 * i + 1] = _mm256_shuffle_ps(a[4 * i], a[4 * i + 2], 0xEE);
    b[4 * i + 2] = _mm256_shuffle_ps(a[4 * i + 1], a[4 * i + 3], 0x44);
    b[4 * i + 3] = _mm256_shuffle_ps(a[4 * i + 1], a[4 * i + 3], 0xEE);
  }
  for (int m = 0; m < 4; ++m) {  // join rows 0..3 and 4..7 of columns m and 4 + m
    r[m] = _mm256_permute2f128_ps(b[m], b[4 + m], 0x20);
    r[4 + m] = _mm256_permute2f128_ps(b[m], b[4 + m], 0x31);
  }
}

void pack_panel(const float* rows, int64_t K, float* panel) {
  int64_t k0 = 0;
  for (; k0 + 8 <= K; k0 += 8)
    for (int rb = 0; rb < kP / 8; ++rb) {
      __m256 r[8];
      for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(rows + (rb * 8 + i) * K + k0);
      transpose8(r);
      for (int c = 0; c < 8; ++c) _mm256_storeu_ps(panel + (k0 + c) * kP + rb * 8, r[c]);
    }
  for (; k0 < K; ++k0)
    for (int i = 0; i < kP; ++i) panel[k0 * kP + i] = rows[i * K + k0];
}

// Stores the first `count` (0..8) lanes of v.
inline void store_first(float* y, __m256 v, int count) {
  if (count >= 8) {
    _mm256_storeu_ps(y, v);
  } else if (count > 0) {
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    _mm256_maskstore_ps(y, m, v);
  }
}

// 16 rows (two vectors of the panel, starting at `panel`) x NT tokens: 2 * NT accumulators, two weight vectors
// and one broadcast fit the 16 ymm registers for NT = 6; per k, 2 loads + NT broadcasts feed 2 * NT FMAs.
// The unroll pragmas matter: without them GCC 12 keeps the accumulator arrays in memory and stores all twelve
// every iteration (prefill GEMM 29 -> 52 G multiply-adds/s on one core).
template <int NT>
void gemm_block(const float* panel, int64_t K, const float* x, int64_t ldx, float* y, int64_t ldy, int n_rows) {
  __m256 acc0[NT], acc1[NT];
#pragma GCC unroll 8
  for (int j = 0; j < NT; ++j) acc0[j] = acc1[j] = _mm256_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    const __m256 w0 = _mm256_loadu_ps(panel + k * kP), w1 = _mm256_loadu_ps(panel + k * kP + 8);
#pragma GCC unroll 8
    for (int j = 0; j < NT; ++j) {
      const __m256 b = _mm256_broadcast_ss(x + j * ldx + k);
      acc0[j] = _mm256_fmadd_ps(w0, b, acc0[j]);
      acc1[j] = _mm256_fmadd_ps(w1, b, acc1[j]);
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < NT; ++j) {
    store_first(y + j * ldy, acc0[j], n_rows);
    store_first(y + j * ldy + 8, acc1[j], n_rows - 8);
  }
}

// Up to 6 tokens against both 16-row halves of the panel (the second only when it holds rows to write).
template <int NT>
void gemm_tokens(const float* panel, int64_t K, const float* x, int64_t ldx, float* y, int64_t ldy, int n_rows) {
  gemm_block<NT>(panel, K, x, ldx, y, ldy, std::min(n_rows, 16));
  if (n_rows > 16) gemm_block<NT>(panel + 16, K, x, ldx, y + 16, ldy, n_rows - 16);
}

void gemm_panel(const float* panel, int64_t K, const float* x, int64_t ldx, int64_t n_tok, float* y, int64_t ldy,
                int n_rows) {
  for_token_blocks<6>(n_tok, [&]<int NT>(int64_t t) { gemm_tokens<NT>(panel, K, x + t * ldx, ldx, y + t * ldy, ldy, n_rows); });
}

}  // namespace

void register_gemm_kernels(KernelTable& t) {
  t.pack_panel = pack_panel;
  t.gemm_panel = gemm_panel;
}

}  // namespace seek::avx2
