// Scalar reference of the Q8_0 integer GEMM (kernels.h: pack_q8_0_panel / gemm_q8_0_panel): the same packed
// layout the VNNI kernel reads, multiplied one element at a time.
#include <cstring>

#include "core/half.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"

namespace seek {

namespace {

constexpr int kHalf = 16;                               // rows per half panel (one 512-bit vector of rows)
constexpr size_t kHalfBytes = 8 * 64;                   // 8 groups of 4 weights x 16 rows
constexpr size_t kBlockBytes = 2 * kHalfBytes + 32 * 2;  // both halves, then the 32 rows' f16 scales

void pack(const uint8_t* rows, size_t row_stride, int n_rows, int64_t K, uint8_t* panel) {
  const int64_t nb = K / kQK8_0;
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t* pb = panel + size_t(b) * kBlockBytes;
    uint8_t* scales = pb + 2 * kHalfBytes;
    for (int r = 0; r < 32; ++r) {
      const BlockQ8_0* blk = r < n_rows ? reinterpret_cast<const BlockQ8_0*>(rows + size_t(r) * row_stride) + b : nullptr;
      uint8_t* half = pb + size_t(r / kHalf) * kHalfBytes;
      for (int k = 0; k < kQK8_0; ++k)  // group k/4, row r%16, byte k%4; +128 makes the weight unsigned
        half[(k / 4) * 64 + (r % kHalf) * 4 + k % 4] = uint8_t((blk ? blk->qs[k] : 0) + 128);
      const uint16_t d = blk ? blk->d : uint16_t(0);
      std::memcpy(scales + size_t(r) * 2, &d, 2);
    }
  }
}

void gemm(const uint8_t* panel, int64_t K, const BlockQ8_0* xq, const float* xd, const int32_t* xoff, int64_t n_tok,
          float* y, int64_t ldy, int n_rows, const uint8_t*, size_t, int) {
  const int64_t nb = K / kQK8_0;
  for (int64_t t = 0; t < n_tok; ++t)
    for (int r = 0; r < n_rows; ++r) {
      float acc = 0.0f;
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* pb = panel + size_t(b) * kBlockBytes;
        const uint8_t* half = pb + size_t(r / kHalf) * kHalfBytes;
        const BlockQ8_0& x = xq[t * nb + b];
        int32_t dot = 0;  // sum (w + 128) x = sum w x + 128 sum x
        for (int k = 0; k < kQK8_0; ++k) dot += int32_t(half[(k / 4) * 64 + (r % kHalf) * 4 + k % 4]) * x.qs[k];
        dot += xoff[t * nb + b];  // -128 sum x
        uint16_t w_scale;
        std::memcpy(&w_scale, pb + 2 * kHalfBytes + size_t(r) * 2, 2);
        acc += float(dot) * (f16_to_f32(w_scale) * xd[t * nb + b]);
      }
      y[t * ldy + r] = acc;
    }
}

}  // namespace

void q8_0_panel_row(const uint8_t* panel, int64_t K, int r, BlockQ8_0* out) {
  for (int64_t b = 0; b < K / kQK8_0; ++b) {
    const uint8_t* pb = panel + size_t(b) * kBlockBytes;
    const uint8_t* half = pb + size_t(r / kHalf) * kHalfBytes;
    for (int k = 0; k < kQK8_0; ++k) out[b].qs[k] = int8_t(half[(k / 4) * 64 + (r % kHalf) * 4 + k % 4] - 128);
    std::memcpy(&out[b].d, pb + 2 * kHalfBytes + size_t(r) * 2, 2);
  }
}

void register_ref_gemm_q8(KernelTable& t) {
  t.pack_q8_0_panel = pack;
  t.gemm_q8_0_panel = gemm;
}

}  // namespace seek
