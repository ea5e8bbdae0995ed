// AVX-512 kernels of decode attention over the MLA latent cache: the scores of one query against every cached row
// (four rows per pass, their sums reduced together) and the softmax-weighted sum of the rows (the output kept in
// registers, 256 values at a time, while the rows stream past). One call per head and token instead of two
// function calls per cached position.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/kernels.h"

namespace seek {

void register_avx512_attention_kernels(KernelTable& t);

namespace {

// Lanes of the last partial vector of n values.
inline __mmask16 tail_mask(int64_t n) { return __mmask16((1u << (n % 16)) - 1); }

inline float reduce(__m512 v) { return _mm512_reduce_add_ps(v); }

// The sums of v0..v3's 16 lanes as one vector of 4.
inline __m128 reduce4(__m512 v0, __m512 v1, __m512 v2, __m512 v3) {
  const auto fold = [](__m512 v) {
    return _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  };
  const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(fold(v0), fold(v1)), _mm256_hadd_ps(fold(v2), fold(v3)));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

void dot_rows(const float* q, const float* rows, int64_t stride, int64_t n_rows, int64_t n, float scale, float* out) {
  const int64_t full = n / 16 * 16;
  const __mmask16 tm = tail_mask(n);
  int64_t s = 0;
  for (; s + 4 <= n_rows; s += 4) {
    const float* r = rows + s * stride;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t k = 0; k < full; k += 16) {
      const __m512 x = _mm512_loadu_ps(q + k);
      a0 = _mm512_fmadd_ps(x, _mm512_loadu_ps(r + k), a0);
      a1 = _mm512_fmadd_ps(x, _mm512_loadu_ps(r + stride + k), a1);
      a2 = _mm512_fmadd_ps(x, _mm512_loadu_ps(r + 2 * stride + k), a2);
      a3 = _mm512_fmadd_ps(x, _mm512_loadu_ps(r + 3 * stride + k), a3);
    }
    if (tm) {
      const __m512 x = _mm512_maskz_loadu_ps(tm, q + full);
      a0 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(tm, r + full), a0);
      a1 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(tm, r + stride + full), a1);
      a2 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(tm, r + 2 * stride + full), a2);
      a3 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(tm, r + 3 * stride + full), a3);
    }
    _mm_storeu_ps(out + s, _mm_mul_ps(reduce4(a0, a1, a2, a3), _mm_set1_ps(scale)));
  }
  for (; s < n_rows; ++s) {
    const float* r = rows + s * stride;
    __m512 a = _mm512_setzero_ps();
    for (int64_t k = 0; k < full; k += 16) a = _mm512_fmadd_ps(_mm512_loadu_ps(q + k), _mm512_loadu_ps(r + k), a);
    if (tm) a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tm, q + full), _mm512_maskz_loadu_ps(tm, r + full), a);
    out[s] = scale * reduce(a);
  }
}

// Columns [c0, c0 + 16 * NV) (the last vector masked by `last`) of the weighted sum, kept in NV registers.
template <int NV>
void sum_columns(const float* p, const float* rows, int64_t stride, int64_t n_rows, int64_t c0, __mmask16 last,
                 float* out) {
  __m512 acc[NV];  // in registers only with the loops over it unrolled first (see dot_4rows)
#pragma GCC unroll 16
  for (int v = 0; v < NV; ++v) acc[v] = _mm512_setzero_ps();
  for (int64_t s = 0; s < n_rows; ++s) {
    const __m512 w = _mm512_set1_ps(p[s]);
    const float* r = rows + s * stride + c0;
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) {
      const __mmask16 m = v == NV - 1 ? last : __mmask16(0xFFFF);
      acc[v] = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(m, r + 16 * v), acc[v]);
    }
  }
#pragma GCC unroll 16
  for (int v = 0; v < NV; ++v) _mm512_mask_storeu_ps(out + c0 + 16 * v, v == NV - 1 ? last : __mmask16(0xFFFF), acc[v]);
}

void sum_rows(const float* p, const float* rows, int64_t stride, int64_t n_rows, int64_t n, float* out) {
  constexpr int64_t kChunk = 16 * 16;  // 16 accumulators
  int64_t c0 = 0;
  for (; c0 + kChunk <= n; c0 += kChunk) sum_columns<16>(p, rows, stride, n_rows, c0, 0xFFFF, out);
  // The rest, up to 255 values, a vector (the last one partial) at a time.
  for (; c0 < n; c0 += 16) {
    const __mmask16 m = n - c0 >= 16 ? __mmask16(0xFFFF) : tail_mask(n - c0);
    sum_columns<1>(p, rows, stride, n_rows, c0, m, out);
  }
}

// Prefetches while scores are computed (the cache streams from memory when many sequences decode together): each
// pass over 4 rows (4 queries) brings one of the next 4 rows to L1 and the row kFarRows further to L2, so the loads
// are spread over the passes rather than all issued in the first. Measured (kernels_bench, 16 queries, 192 rows per
// sequence from L3 or memory): the next 4 rows to L1 in the first pass only, 68-73 G multiply-adds/s; as here, 79-83.
constexpr int64_t kFarRows = 16;

struct RowPrefetch {
  const float* near = nullptr;  // a row to L1
  const float* far = nullptr;   // a row to L2
};

// Scores of NQ queries against 4 rows at s: each row vector loaded once serves the NQ queries. Per query the sums
// and their reduction are dot_rows' own (reduce4 over the 4 rows), so the bits are the same. The sums are named per
// row, and the loops over queries are unrolled before GCC decides where the sums live: otherwise it keeps them on the
// stack and stores every sum on every step (5x slower).
template <int NQ>
inline void dot_4rows_step(const float* q, int64_t ldq, const float* r, int64_t stride, int64_t k, __mmask16 m,
                           const RowPrefetch& pf, __m512* a0, __m512* a1, __m512* a2, __m512* a3) {
  if (pf.near) _mm_prefetch(reinterpret_cast<const char*>(pf.near + k), _MM_HINT_T0);
  if (pf.far) _mm_prefetch(reinterpret_cast<const char*>(pf.far + k), _MM_HINT_T1);
  const __m512 r0 = _mm512_maskz_loadu_ps(m, r + k), r1 = _mm512_maskz_loadu_ps(m, r + stride + k);
  const __m512 r2 = _mm512_maskz_loadu_ps(m, r + 2 * stride + k), r3 = _mm512_maskz_loadu_ps(m, r + 3 * stride + k);
#pragma GCC unroll 16
  for (int j = 0; j < NQ; ++j) {
    const __m512 x = _mm512_maskz_loadu_ps(m, q + j * ldq + k);
    a0[j] = _mm512_fmadd_ps(x, r0, a0[j]);
    a1[j] = _mm512_fmadd_ps(x, r1, a1[j]);
    a2[j] = _mm512_fmadd_ps(x, r2, a2[j]);
    a3[j] = _mm512_fmadd_ps(x, r3, a3[j]);
  }
}

template <int NQ>
void dot_4rows(const float* q, int64_t ldq, const float* r, int64_t stride, int64_t n, float scale, float* out,
               int64_t ldo, const RowPrefetch& pf) {
  const int64_t full = n / 16 * 16;
  const __mmask16 tm = tail_mask(n);
  __m512 a0[NQ], a1[NQ], a2[NQ], a3[NQ];
#pragma GCC unroll 16
  for (int j = 0; j < NQ; ++j) a0[j] = a1[j] = a2[j] = a3[j] = _mm512_setzero_ps();
  for (int64_t k = 0; k < full; k += 16) dot_4rows_step<NQ>(q, ldq, r, stride, k, 0xFFFF, pf, a0, a1, a2, a3);
  if (tm) dot_4rows_step<NQ>(q, ldq, r, stride, full, tm, pf, a0, a1, a2, a3);
#pragma GCC unroll 16
  for (int j = 0; j < NQ; ++j)
    _mm_storeu_ps(out + j * ldo, _mm_mul_ps(reduce4(a0[j], a1[j], a2[j], a3[j]), _mm_set1_ps(scale)));
}

void dot_rows_n(const float* q, int64_t ldq, int64_t n_q, const float* rows, int64_t stride, int64_t n_rows, int64_t n,
                float scale, float* out, int64_t ldo) {
  int64_t s = 0;
  for (; s + 4 <= n_rows; s += 4) {  // 4 rows stay in L1 while every query meets them
    const float* r = rows + s * stride;
    // Pass c < 4 over these rows (queries 4c..4c+3) prefetches row s + 4 + c, and row s + kFarRows + c to L2 (with
    // fewer than 13 queries, some of them are left to the hardware).
    auto prefetch_of = [&](int64_t c) {
      RowPrefetch pf;
      if (c < 4 && s + 4 + c < n_rows) pf.near = rows + (s + 4 + c) * stride;
      if (c < 4 && s + kFarRows + c < n_rows) pf.far = rows + (s + kFarRows + c) * stride;
      return pf;
    };
    int64_t j = 0;
    for (; j + 4 <= n_q; j += 4)
      dot_4rows<4>(q + j * ldq, ldq, r, stride, n, scale, out + j * ldo + s, ldo, prefetch_of(j / 4));
    const RowPrefetch pf = prefetch_of(j / 4);
    switch (n_q - j) {
      case 3: dot_4rows<3>(q + j * ldq, ldq, r, stride, n, scale, out + j * ldo + s, ldo, pf); break;
      case 2: dot_4rows<2>(q + j * ldq, ldq, r, stride, n, scale, out + j * ldo + s, ldo, pf); break;
      case 1: dot_4rows<1>(q + j * ldq, ldq, r, stride, n, scale, out + j * ldo + s, ldo, pf); break;
      default: break;
    }
  }
  if (s < n_rows)  // the last rows, one query at a time as dot_rows takes them
    for (int64_t j = 0; j < n_q; ++j) dot_rows(q + j * ldq, rows + s * stride, stride, n_rows - s, n, scale, out + j * ldo + s);
}

constexpr int64_t kSumRowBlock = 32;  // rows kept in L1 while every column block and query passes over them

// Columns [c0, c0 + 32) of NQ queries' weighted sums over rows [s0, s1), accumulated onto out (which holds the sums
// over the rows before s0, or nothing when s0 == 0): the order of each sum is sum_rows' own. The first pf_rows rows
// also bring the same columns of the row kSumRowBlock further to L2 (the next block: past L2 at long contexts, +10%
// at 768 positions).
template <int NQ>
void sum_block(const float* p, int64_t ldp, const float* rows, int64_t stride, int64_t s0, int64_t s1, int64_t c0,
               __mmask16 m0, __mmask16 m1, float* out, int64_t ldo, int64_t pf_rows = 0) {
  __m512 a0[NQ], a1[NQ];  // in registers only with the query loops unrolled first (see dot_4rows)
#pragma GCC unroll 16
  for (int j = 0; j < NQ; ++j) {
    a0[j] = s0 == 0 ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m0, out + j * ldo + c0);
    a1[j] = s0 == 0 ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m1, out + j * ldo + c0 + 16);
  }
  for (int64_t s = s0; s < s1; ++s) {
    const float* r = rows + s * stride + c0;
    if (s - s0 < pf_rows) {  // the same columns of the next row block, to L2
      _mm_prefetch(reinterpret_cast<const char*>(r + kSumRowBlock * stride), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char*>(r + kSumRowBlock * stride + 16), _MM_HINT_T1);
    }
    const __m512 r0 = _mm512_maskz_loadu_ps(m0, r), r1 = _mm512_maskz_loadu_ps(m1, r + 16);
#pragma GCC unroll 16
    for (int j = 0; j < NQ; ++j) {
      const __m512 w = _mm512_set1_ps(p[j * ldp + s]);
      a0[j] = _mm512_fmadd_ps(w, r0, a0[j]);
      a1[j] = _mm512_fmadd_ps(w, r1, a1[j]);
    }
  }
#pragma GCC unroll 16
  for (int j = 0; j < NQ; ++j) {
    _mm512_mask_storeu_ps(out + j * ldo + c0, m0, a0[j]);
    _mm512_mask_storeu_ps(out + j * ldo + c0 + 16, m1, a1[j]);
  }
}

void sum_rows_n(const float* p, int64_t ldp, int64_t n_q, const float* rows, int64_t stride, int64_t n_rows, int64_t n,
                float* out, int64_t ldo) {
  if (n_rows == 0) {
    for (int64_t j = 0; j < n_q; ++j)
      for (int64_t c = 0; c < n; ++c) out[j * ldo + c] = 0.0f;
    return;
  }
  for (int64_t s0 = 0; s0 < n_rows; s0 += kSumRowBlock) {
    const int64_t s1 = std::min(n_rows, s0 + kSumRowBlock);
    const int64_t pf_rows = std::max<int64_t>(0, std::min(s1 - s0, n_rows - s0 - kSumRowBlock));
    for (int64_t c0 = 0; c0 < n; c0 += 32) {
      const __mmask16 m0 = n - c0 >= 16 ? __mmask16(0xFFFF) : tail_mask(n - c0);
      const __mmask16 m1 = n - c0 >= 32 ? __mmask16(0xFFFF) : n - c0 <= 16 ? __mmask16(0) : tail_mask(n - c0 - 16);
      int64_t j = 0;
      for (; j + 8 <= n_q; j += 8) sum_block<8>(p + j * ldp, ldp, rows, stride, s0, s1, c0, m0, m1, out + j * ldo, ldo,
                                                   j == 0 ? pf_rows : 0);
      for (; j < n_q; ++j) sum_block<1>(p + j * ldp, ldp, rows, stride, s0, s1, c0, m0, m1, out + j * ldo, ldo);
    }
  }
}

// exp(x) within ~2 ulp of expf: x = n ln2 + r with |r| <= ln2 / 2 (ln2 in two parts, so r is exact to f32), e^r
// from Cephes' degree-7 polynomial, times 2^n by vscalefps (which also takes results below the normal range to
// subnormals and zero, and above it to infinity, correctly). Arguments below -104 give 0 and above 89 infinity,
// as expf does.
inline __m512 exp_ps(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.0f)), _mm512_set1_ps(89.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 y = _mm512_set1_ps(1.9875691500e-4f);
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.3981999507e-3f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(8.3334519073e-3f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(4.1665795894e-2f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.6666665459e-1f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(5.0000001201e-1f));
  y = _mm512_fmadd_ps(y, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(y, n);
}

void softmax(float* x, int64_t n) {
  if (n <= 0) return;
  const int64_t full = n / 16 * 16;
  const __mmask16 tm = tail_mask(n);
  __m512 m = _mm512_set1_ps(-INFINITY);
  for (int64_t i = 0; i < full; i += 16) m = _mm512_max_ps(m, _mm512_loadu_ps(x + i));
  if (tm) m = _mm512_mask_max_ps(m, tm, m, _mm512_maskz_loadu_ps(tm, x + full));
  const __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(m));
  __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
  auto step = [&](int64_t i, __mmask16 k) {
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), mx));
    _mm512_mask_storeu_ps(x + i, k, e);
    const __m512 ek = _mm512_maskz_mov_ps(k, e);
    s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(ek)));
    s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(ek), 1))));
  };
  for (int64_t i = 0; i < full; i += 16) step(i, 0xFFFF);
  if (tm) step(full, tm);
  const __m512 inv = _mm512_set1_ps(float(1.0 / _mm512_reduce_add_pd(_mm512_add_pd(s0, s1))));
  for (int64_t i = 0; i < full; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), inv));
  if (tm) _mm512_mask_storeu_ps(x + full, tm, _mm512_mul_ps(_mm512_maskz_loadu_ps(tm, x + full), inv));
}

void swiglu(float* a, const float* b, int64_t n) {
  const int64_t full = n / 16 * 16;
  const __mmask16 tm = tail_mask(n);
  auto step = [&](int64_t i, __mmask16 k) {
    const __m512 x = _mm512_maskz_loadu_ps(k, a + i);
    const __m512 silu = _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), x))));
    _mm512_mask_storeu_ps(a + i, k, _mm512_mul_ps(silu, _mm512_maskz_loadu_ps(k, b + i)));
  };
  for (int64_t i = 0; i < full; i += 16) step(i, 0xFFFF);
  if (tm) step(full, tm);
}

}  // namespace

void register_avx512_attention_kernels(KernelTable& t) {
  t.softmax = softmax;
  t.swiglu = swiglu;
  t.dot_rows = dot_rows;
  t.sum_rows = sum_rows;
  t.dot_rows_n = dot_rows_n;
  t.sum_rows_n = sum_rows_n;
}

}  // namespace seek
