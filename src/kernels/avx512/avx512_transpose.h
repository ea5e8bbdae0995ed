// A 16x16 transpose of 32-bit lanes in AVX-512 registers, shared by the panel packers (f32 and Q8_0 GEMMs).
// Include only from files compiled with AVX-512 flags (src/kernels/avx512/).
#pragma once

#include <immintrin.h>

namespace seek {

// Transposes a 16x16 block: r[i] holds row i; afterwards out[c] holds column c.
inline void transpose16(const __m512 r[16], __m512 out[16]) {
  __m512 a[16], b[16];
  for (int i = 0; i < 8; ++i) {
    a[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    a[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // b[4i + m], 128-bit lane L: column 4L + m of rows 4i .. 4i + 3.
  for (int i = 0; i < 4; ++i) {
    const __m512d a0 = _mm512_castps_pd(a[4 * i]), a1 = _mm512_castps_pd(a[4 * i + 1]);
    const __m512d a2 = _mm512_castps_pd(a[4 * i + 2]), a3 = _mm512_castps_pd(a[4 * i + 3]);
    b[4 * i + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a0, a2));
    b[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a0, a2));
    b[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(a1, a3));
    b[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(a1, a3));
  }
  for (int m = 0; m < 4; ++m) {
    const __m512 c0 = _mm512_shuffle_f32x4(b[m], b[4 + m], 0x44), c1 = _mm512_shuffle_f32x4(b[m], b[4 + m], 0xEE);
    const __m512 d0 = _mm512_shuffle_f32x4(b[8 + m], b[12 + m], 0x44), d1 = _mm512_shuffle_f32x4(b[8 + m], b[12 + m], 0xEE);
    out[m] = _mm512_shuffle_f32x4(c0, d0, 0x88);
    out[4 + m] = _mm512_shuffle_f32x4(c0, d0, 0xDD);
    out[8 + m] = _mm512_shuffle_f32x4(c1, d1, 0x88);
    out[12 + m] = _mm512_shuffle_f32x4(c1, d1, 0xDD);
  }
}

}  // namespace seek
