// Q8_0 prefill GEMM in integers with AVX-512 VNNI (layout and contract in kernels.h; scalar twin in
// ref/ref_gemm_q8.cpp), and the activation quantiser that feeds it and the decode dots. Weights are packed so that one 512-bit vector holds 4 consecutive weights of 16 rows,
// offset to unsigned bytes; a token's 4 matching quants are broadcast, and one vpdpbusd adds 64 products into 16
// row sums. The +128 offset is taken back per block with the token's quant sum: sum (w + 128) x - 128 sum x (the
// latter precomputed per block, xoff, and broadcast from memory as the sums' start: as a product in the loop it cost
// 2-5% of the GEMM).
#include <immintrin.h>

#include <cstring>

#include "kernels/avx512/avx512_transpose.h"
#include "kernels/kernels.h"
#include "kernels/token_blocks.h"
#include "quant/blocks.h"

namespace seek {

namespace {

constexpr size_t kHalfBytes = 8 * 64;
constexpr size_t kBlockBytes = 2 * kHalfBytes + 32 * 2;

// Row i's quants of blocks b and b + 1 (the latter zero when absent), offset by +128, as 16 lanes of 4 bytes.
inline __m512i row_pair(const uint8_t* row, int64_t b, bool second) {
  const BlockQ8_0* blk = reinterpret_cast<const BlockQ8_0*>(row) + b;
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk[0].qs));
  const __m256i hi = second ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk[1].qs)) : _mm256_setzero_si256();
  return _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1), _mm512_set1_epi8(char(0x80)));
}

// The f16 scales of block b of 16 rows (row i at rows + i * stride), rows past n_rows zero.
inline __m256i row_scales16(const uint8_t* rows, size_t stride, int n_rows, int64_t b) {
  if (n_rows <= 0) return _mm256_setzero_si256();
  const __mmask16 live = n_rows >= 16 ? __mmask16(0xffff) : __mmask16((1u << n_rows) - 1);
  const __m512i offs = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                          _mm512_set1_epi32(int32_t(stride)));
  // 4 bytes at each block start: the f16 scale, then two quants we drop.
  const __m512i raw = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), live, offs,
                                                  rows + size_t(b) * sizeof(BlockQ8_0), 1);
  return _mm512_cvtepi32_epi16(raw);
}

void pack(const uint8_t* rows, size_t row_stride, int n_rows, int64_t K, uint8_t* panel) {
  const int64_t nb = K / kQK8_0;
  for (int64_t b = 0; b < nb; b += 2) {
    const bool second = b + 1 < nb;
    for (int h = 0; h < 2; ++h) {
      __m512 r[16], out[16];
      for (int i = 0; i < 16; ++i) {
        const int row = h * 16 + i;
        if (row < n_rows) {
          const uint8_t* rp = rows + size_t(row) * row_stride;
          _mm_prefetch(reinterpret_cast<const char*>(rp + size_t(b + 8) * sizeof(BlockQ8_0)), _MM_HINT_T0);
          r[i] = _mm512_castsi512_ps(row_pair(rp, b, second));
        } else {
          r[i] = _mm512_castsi512_ps(_mm512_set1_epi8(char(0x80)));
        }
      }
      transpose16(r, out);  // out[g]: group g of block b (g < 8) or block b + 1, for the 16 rows
      for (int g = 0; g < (second ? 16 : 8); ++g)
        _mm512_storeu_ps(reinterpret_cast<float*>(panel + size_t(b + g / 8) * kBlockBytes + size_t(h) * kHalfBytes +
                                                  size_t(g % 8) * 64),
                         out[g]);
    }
    for (int64_t bb = b; bb < b + (second ? 2 : 1); ++bb) {
      __m256i* scales = reinterpret_cast<__m256i*>(panel + size_t(bb) * kBlockBytes + 2 * kHalfBytes);
      _mm256_storeu_si256(scales, row_scales16(rows, row_stride, n_rows, bb));
      _mm256_storeu_si256(scales + 1, row_scales16(rows + 16 * row_stride, row_stride, n_rows - 16, bb));
    }
  }
}

inline __m512i bcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// 32 rows x NT tokens: per group of 4 weights, two vector loads serve 2 * NT vpdpbusd.
// Prefetch of what the next panel's packing will read: block b of each of its rows.
struct NextRows {
  const uint8_t* rows = nullptr;
  size_t stride = 0;
  int n = 0;
  bool ahead = false;  // no rows to pack next: prefetch the panel's own blocks kAheadBlocks ahead instead
  const uint8_t* panel = nullptr;  // the next packed panel: block b brought to L2 with this panel's block b
};
// Measured on 2048-column panels streamed from memory (one thread): 8-12 blocks ahead lift 1-6 tokens from
// 25-40 GB/s to ~45 GB/s.
constexpr int64_t kAheadBlocks = 10;

// The cache lines of the packed block at pb, to L1 (_MM_HINT_T0) or L2 (_MM_HINT_T1).
template <_mm_hint Hint>
inline void prefetch_block(const uint8_t* pb) {
  for (size_t l = 0; l < kBlockBytes; l += 64) _mm_prefetch(reinterpret_cast<const char*>(pb + l), Hint);
}

// Streams the panel's block kAheadBlocks ahead into L1 (a panel kept packed in memory: the model's weights).
inline void prefetch_ahead(const uint8_t* pb) { prefetch_block<_MM_HINT_T0>(pb + kAheadBlocks * kBlockBytes); }

// Block pb's integer sums for NT tokens (xq[t * nb]: token t's block, xoff[t * nb] its offset, -128 sum x), each
// half's 16 rows in s0/s1, the +128 offset taken back (the sums start at xoff). C independent chains per token and
// half, summed at the end (exactly): with few tokens a single chain of 8 dependent vpdpbusd would leave the
// multipliers waiting on their latency.
template <int NT>
inline void block_sums(const uint8_t* pb, const BlockQ8_0* xq, const int32_t* xoff, int64_t nb, __m512i* s0,
                       __m512i* s1) {
  constexpr int C = NT == 1 ? 4 : NT <= 3 ? 2 : 1;
  __m512i a0[C][NT], a1[C][NT];
  for (int t = 0; t < NT; ++t) a0[0][t] = a1[0][t] = _mm512_set1_epi32(xoff[t * nb]);  // the offset back
  for (int c = 1; c < C; ++c)
    for (int t = 0; t < NT; ++t) a0[c][t] = a1[c][t] = _mm512_setzero_si512();
  for (int g = 0; g < 8; ++g) {
    const int c = g % C;
    const __m512i w0 = _mm512_loadu_si512(pb + g * 64), w1 = _mm512_loadu_si512(pb + kHalfBytes + g * 64);
    for (int t = 0; t < NT; ++t) {
      const __m512i x = bcast4(xq[t * nb].qs + 4 * g);
      a0[c][t] = _mm512_dpbusd_epi32(a0[c][t], w0, x);
      a1[c][t] = _mm512_dpbusd_epi32(a1[c][t], w1, x);
    }
  }
  for (int t = 0; t < NT; ++t) {
    s0[t] = a0[0][t];
    s1[t] = a1[0][t];
    for (int c = 1; c < C; ++c) {
      s0[t] = _mm512_add_epi32(s0[t], a0[c][t]);
      s1[t] = _mm512_add_epi32(s1[t], a1[c][t]);
    }
  }
}

// acc += s * (d_w * d_x): one block's contribution (s: its exact sums, block_sums) to a token's 16 row sums. Every
// path adds a token's blocks in order through this, so a token's result has the same bits whatever tokens share
// the call.
inline __m512 add_block(__m512 acc, __m512i s, __m512 dw, float xd) {
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, _mm512_set1_ps(xd)), acc);
}

inline __m512 block_scales(const uint8_t* pb, int half) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(pb + 2 * kHalfBytes + half * 32)));
}

inline void store_rows(float* y, int n_rows, __m512 acc0, __m512 acc1) {
  const __mmask16 m0 = n_rows >= 16 ? __mmask16(0xffff) : __mmask16((1u << n_rows) - 1);
  const __mmask16 m1 = n_rows >= 32 ? __mmask16(0xffff) : n_rows <= 16 ? 0 : __mmask16((1u << (n_rows - 16)) - 1);
  _mm512_mask_storeu_ps(y, m0, acc0);
  _mm512_mask_storeu_ps(y + 16, m1, acc1);
}

// 32 rows x NT tokens over the whole panel, the sums in registers: per group of 4 weights, two vector loads serve
// 2 * NT vpdpbusd.
template <int NT>
void gemm_block(const uint8_t* panel, int64_t nb, const BlockQ8_0* xq, const float* xd, const int32_t* xoff,
                float* y, int64_t ldy, int n_rows, NextRows next) {
  __m512 acc0[NT], acc1[NT];
  for (int t = 0; t < NT; ++t) acc0[t] = acc1[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* pb = panel + size_t(b) * kBlockBytes;
    if (next.ahead) prefetch_ahead(pb);
    if (next.panel) prefetch_block<_MM_HINT_T1>(next.panel + size_t(b) * kBlockBytes);
    for (int i = 0; i < next.n; ++i) {
      const char* p = reinterpret_cast<const char*>(next.rows + size_t(i) * next.stride + size_t(b) * sizeof(BlockQ8_0));
      _mm_prefetch(p, _MM_HINT_T1);
      _mm_prefetch(p + sizeof(BlockQ8_0) - 1, _MM_HINT_T1);
    }
    __m512i s0[NT], s1[NT];
    block_sums<NT>(pb, xq + b, xoff + b, nb, s0, s1);
    const __m512 d0 = block_scales(pb, 0), d1 = block_scales(pb, 1);
    for (int t = 0; t < NT; ++t) {
      acc0[t] = add_block(acc0[t], s0[t], d0, xd[t * nb + b]);
      acc1[t] = add_block(acc1[t], s1[t], d1, xd[t * nb + b]);
    }
  }
  for (int t = 0; t < NT; ++t) store_rows(y + t * ldy, n_rows, acc0[t], acc1[t]);
}

// Up to kFewTokens tokens with the panel read once, block by block, for all of them (their row sums wait in L1
// between blocks): a panel streamed from memory then costs one pass, not one per group of 6 tokens.
constexpr int64_t kFewTokens = 16;

void gemm_few(const uint8_t* panel, int64_t nb, const BlockQ8_0* xq, const float* xd, const int32_t* xoff,
              int64_t n_tok, float* y, int64_t ldy, int n_rows) {
  alignas(64) float acc[kFewTokens][32];
  for (int64_t t = 0; t < n_tok; ++t) {  // vector stores: as a loop of floats GCC made it a memset call per panel
    _mm512_store_ps(acc[t], _mm512_setzero_ps());
    _mm512_store_ps(acc[t] + 16, _mm512_setzero_ps());
  }
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* pb = panel + size_t(b) * kBlockBytes;
    prefetch_ahead(pb);
    const __m512 d0 = block_scales(pb, 0), d1 = block_scales(pb, 1);
    for_even_token_blocks<6>(n_tok, [&]<int NT>(int64_t t0) {
      __m512i s0[NT], s1[NT];
      block_sums<NT>(pb, xq + t0 * nb + b, xoff + t0 * nb + b, nb, s0, s1);
      for (int t = 0; t < NT; ++t) {
        const int64_t i = (t0 + t) * nb + b;
        float* a = acc[t0 + t];
        _mm512_store_ps(a, add_block(_mm512_load_ps(a), s0[t], d0, xd[i]));
        _mm512_store_ps(a + 16, add_block(_mm512_load_ps(a + 16), s1[t], d1, xd[i]));
      }
    });
  }
  for (int64_t t = 0; t < n_tok; ++t) store_rows(y + t * ldy, n_rows, _mm512_load_ps(acc[t]), _mm512_load_ps(acc[t] + 16));
}

void gemm(const uint8_t* panel, int64_t K, const BlockQ8_0* xq, const float* xd, const int32_t* xoff, int64_t n_tok,
          float* y, int64_t ldy, int n_rows, const uint8_t* next_rows, size_t next_stride, int next_n) {
  const int64_t nb = K / kQK8_0;
  const bool next_packed = next_rows != nullptr && next_stride == 0;
  if ((next_rows == nullptr || next_packed) && n_tok <= kFewTokens) {
    gemm_few(panel, nb, xq, xd, xoff, n_tok, y, ldy, n_rows);
    return;
  }
  // Stored rows to pack next: prefetched during the first token group (the later ones find this panel in L2).
  // A packed panel (weights repacked at load): the first group streams this panel into L1 ahead of use, and the
  // second brings the next panel to L2, so that its first group computes instead of waiting on memory.
  NextRows next = next_packed ? NextRows{nullptr, 0, 0, true}
                               : NextRows{next_rows, next_stride, next_rows ? next_n : 0, next_rows == nullptr};
  int group = 0;
  for_even_token_blocks<6>(n_tok, [&]<int NT>(int64_t t) {
    gemm_block<NT>(panel, nb, xq + t * nb, xd + t * nb, xoff + t * nb, y + t * ldy, ldy, n_rows, next);
    next = NextRows{};
    if (++group == 1 && next_packed) next.panel = next_rows;
  });
}

// Rounds half away from zero, as roundf does (the vector rounding modes only round half to even).
inline __m512 round_away(__m512 v) {
  const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m512 frac = _mm512_sub_ps(v, t);  // exact
  const __mmask16 up = _mm512_cmp_ps_mask(_mm512_abs_ps(frac), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  const __m512 one = _mm512_or_ps(_mm512_set1_ps(1.0f), _mm512_and_ps(v, _mm512_set1_ps(-0.0f)));  // copysign(1, v)
  return _mm512_mask_add_ps(t, up, t, one);
}

// quantize_row_q8_0 bit for bit (d = max|x| / 127 rounded to f16, q = roundf(x / d) with the unrounded d).
void quantize_q8_0(const float* x, uint8_t* out, int64_t n) {
  BlockQ8_0* b = reinterpret_cast<BlockQ8_0*>(out);
  for (int64_t k = 0; k < n / kQK8_0; ++k) {
    const __m512 v0 = _mm512_loadu_ps(x + k * kQK8_0), v1 = _mm512_loadu_ps(x + k * kQK8_0 + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[k].d = uint16_t(_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    const __m512 vid = _mm512_set1_ps(id);
    const __m512i q0 = _mm512_cvttps_epi32(round_away(_mm512_mul_ps(v0, vid)));
    const __m512i q1 = _mm512_cvttps_epi32(round_away(_mm512_mul_ps(v1, vid)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(b[k].qs), _mm512_cvtepi32_epi8(q0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(b[k].qs + 16), _mm512_cvtepi32_epi8(q1));
  }
}

}  // namespace

void register_avx512_gemm_q8(KernelTable& t) {
  t.pack_q8_0_panel = pack;
  t.gemm_q8_0_panel = gemm;
  t.quantize_q8_0 = quantize_q8_0;
}

}  // namespace seek
