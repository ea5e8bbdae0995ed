// Q8_0 prefill GEMM in integers with AVX-512 VNNI (layout and contract in kernels.h; scalar twin in
// ref/ref_gemm_q8.cpp), and the activation quantiser that feeds it and the decode dots. Weights are packed so that one 512-bit vector holds 4 consecutive weights of 16 rows,
// offset to unsigned bytes; a token's 4 matching quants are broadcast, and one vpdpbusd adds 64 products into 16
// row sums. The +128 offset is taken back per block with the token's quant sum: sum (w + 128) x - 128 sum x.
#include <immintrin.h>

#include <cstring>

#include "kernels/avx512/avx512_transpose.h"
#include "kernels/kernels.h"
#include "kernels/token_blocks.h"
#include "quant/blocks.h"

namespace seek {

namespace {

constexpr size_t kHalfBytes = 8 * 64;
constexpr size_t kBlockBytes = 2 * kHalfBytes + 32 * 4;

// Row i's quants of blocks b and b + 1 (the latter zero when absent), offset by +128, as 16 lanes of 4 bytes.
inline __m512i row_pair(const uint8_t* row, int64_t b, bool second) {
  const BlockQ8_0* blk = reinterpret_cast<const BlockQ8_0*>(row) + b;
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk[0].qs));
  const __m256i hi = second ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk[1].qs)) : _mm256_setzero_si256();
  return _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1), _mm512_set1_epi8(char(0x80)));
}

// The f16 scales of block b of 16 rows (row i at rows + i * stride) as f32, rows past n_rows zero.
inline __m512 row_scales16(const uint8_t* rows, size_t stride, int n_rows, int64_t b) {
  if (n_rows <= 0) return _mm512_setzero_ps();
  const __mmask16 live = n_rows >= 16 ? __mmask16(0xffff) : __mmask16((1u << n_rows) - 1);
  const __m512i offs = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                          _mm512_set1_epi32(int32_t(stride)));
  // 4 bytes at each block start: the f16 scale, then two quants we drop.
  const __m512i raw = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), live, offs,
                                                  rows + size_t(b) * sizeof(BlockQ8_0), 1);
  return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(raw));
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
      float* scales = reinterpret_cast<float*>(panel + size_t(bb) * kBlockBytes + 2 * kHalfBytes);
      _mm512_storeu_ps(scales, row_scales16(rows, row_stride, n_rows, bb));
      _mm512_storeu_ps(scales + 16, row_scales16(rows + 16 * row_stride, row_stride, n_rows - 16, bb));
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
};

template <int NT>
void gemm_block(const uint8_t* panel, int64_t nb, const BlockQ8_0* xq, const float* xd, const int32_t* xsum,
                float* y, int64_t ldy, int n_rows, NextRows next) {
  __m512 acc0[NT], acc1[NT];
  for (int t = 0; t < NT; ++t) acc0[t] = acc1[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* pb = panel + size_t(b) * kBlockBytes;
    for (int i = 0; i < next.n; ++i) {
      const char* p = reinterpret_cast<const char*>(next.rows + size_t(i) * next.stride + size_t(b) * sizeof(BlockQ8_0));
      _mm_prefetch(p, _MM_HINT_T1);
      _mm_prefetch(p + sizeof(BlockQ8_0) - 1, _MM_HINT_T1);
    }
    __m512i s0[NT], s1[NT];
    for (int t = 0; t < NT; ++t) s0[t] = s1[t] = _mm512_setzero_si512();
    for (int g = 0; g < 8; ++g) {
      const __m512i w0 = _mm512_loadu_si512(pb + g * 64), w1 = _mm512_loadu_si512(pb + kHalfBytes + g * 64);
      for (int t = 0; t < NT; ++t) {
        const __m512i x = bcast4(xq[t * nb + b].qs + 4 * g);
        s0[t] = _mm512_dpbusd_epi32(s0[t], w0, x);
        s1[t] = _mm512_dpbusd_epi32(s1[t], w1, x);
      }
    }
    const __m512 d0 = _mm512_loadu_ps(pb + 2 * kHalfBytes), d1 = _mm512_loadu_ps(pb + 2 * kHalfBytes + 64);
    for (int t = 0; t < NT; ++t) {
      const __m512i corr = _mm512_set1_epi32(128 * xsum[t * nb + b]);
      const __m512 dx = _mm512_set1_ps(xd[t * nb + b]);
      acc0[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(s0[t], corr)), _mm512_mul_ps(d0, dx), acc0[t]);
      acc1[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(s1[t], corr)), _mm512_mul_ps(d1, dx), acc1[t]);
    }
  }
  const __mmask16 m0 = n_rows >= 16 ? __mmask16(0xffff) : __mmask16((1u << n_rows) - 1);
  const __mmask16 m1 = n_rows >= 32 ? __mmask16(0xffff) : n_rows <= 16 ? 0 : __mmask16((1u << (n_rows - 16)) - 1);
  for (int t = 0; t < NT; ++t) {
    _mm512_mask_storeu_ps(y + t * ldy, m0, acc0[t]);
    _mm512_mask_storeu_ps(y + t * ldy + 16, m1, acc1[t]);
  }
}

void gemm(const uint8_t* panel, int64_t K, const BlockQ8_0* xq, const float* xd, const int32_t* xsum, int64_t n_tok,
          float* y, int64_t ldy, int n_rows, const uint8_t* next_rows, size_t next_stride, int next_n) {
  NextRows next{next_rows, next_stride, next_rows ? next_n : 0};  // prefetched during the first token group only
  const int64_t nb = K / kQK8_0;
  for_token_blocks<6>(n_tok, [&]<int NT>(int64_t t) {
    gemm_block<NT>(panel, nb, xq + t * nb, xd + t * nb, xsum + t * nb, y + t * ldy, ldy, n_rows, next);
    next = NextRows{};
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
