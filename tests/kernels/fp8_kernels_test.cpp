// FP8 E4M3 (DeepSeek's FP8 weights): the conversions against the format's definition evaluated in double, and the
// block-scaled dot/dequant kernels against each other and against exact double arithmetic, on odd lengths with
// partial last blocks and tiny, huge and subnormal block scales.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <cfloat>
#include <cstdio>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/fp8.h"
#include "core/tensor.h"
#include "kernels/kernels.h"

namespace seek {

void register_avx2_fp8_kernels(KernelTable& t);  // src/kernels/avx2/avx2_fp8.cpp, until the AVX2 table holds it

namespace {

constexpr int64_t kBlock = 128;

// The E4M3FN definition, written independently of core/fp8.h: (-1)^s * 2^(e-7) * (1 + m/8), or 2^-6 * m/8 when
// e == 0; S.1111.111 is NaN; there are no infinities.
double e4m3_value(uint8_t c) {
  const int s = c >> 7, e = (c >> 3) & 15, m = c & 7;
  if (e == 15 && m == 7) return std::nan("");
  const double mag = e == 0 ? std::ldexp(m / 8.0, -6) : std::ldexp(1.0 + m / 8.0, e - 7);
  return s ? -mag : mag;
}

bool is_nan_code(uint8_t c) { return (c & 0x7f) == 0x7f; }

TEST(F8E4M3, DecodesEveryCodeAsTheFormatDefines) {
  for (int c = 0; c < 256; ++c) {
    const double want = e4m3_value(uint8_t(c));
    const float got = f8_e4m3_to_f32(uint8_t(c));
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(got)) << "code 0x" << std::hex << c;
      EXPECT_EQ(std::signbit(got), c >= 0x80) << "NaN keeps the code's sign, code 0x" << std::hex << c;
      continue;
    }
    ASSERT_EQ(double(got), want) << "code 0x" << std::hex << c;
    EXPECT_EQ(std::signbit(got), c >= 0x80) << "code 0x" << std::hex << c;  // 0x80 is -0
  }
  EXPECT_EQ(f8_e4m3_to_f32(0x7e), kF8E4M3Max);
  EXPECT_EQ(f8_e4m3_to_f32(0x01), std::ldexp(1.0f, -9));  // smallest subnormal
  EXPECT_EQ(f8_e4m3_to_f32(0x08), std::ldexp(1.0f, -6));  // smallest normal
  EXPECT_EQ(f8_e4m3_to_f32(0xb8), -1.0f);
}

TEST(F8E4M3, EncoderRoundTripsEveryFiniteCode) {
  for (int c = 0; c < 256; ++c) {
    if (is_nan_code(uint8_t(c))) continue;
    ASSERT_EQ(int(f32_to_f8_e4m3(f8_e4m3_to_f32(uint8_t(c)))), c) << "value " << f8_e4m3_to_f32(uint8_t(c));
  }
}

// Between every pair of neighbouring codes (0 and the smallest subnormal included): the midpoint goes to the code
// with the even mantissa, the floats either side of it to the nearer code; the same for negative values.
TEST(F8E4M3, EncoderRoundsToNearestAndMidpointsToEven) {
  for (int c = 0; c < 0x7e; ++c) {
    const double lo = e4m3_value(uint8_t(c)), hi = e4m3_value(uint8_t(c + 1));
    const float mid = float((lo + hi) / 2);
    ASSERT_EQ(double(mid), (lo + hi) / 2) << "midpoints are floats";
    const int even = c % 2 == 0 ? c : c + 1;  // the code's last bit is the mantissa's last bit
    for (const float sign : {1.0f, -1.0f}) {
      const int s = sign < 0 ? 0x80 : 0;
      EXPECT_EQ(int(f32_to_f8_e4m3(sign * mid)), s | even) << "midpoint " << sign * mid;
      EXPECT_EQ(int(f32_to_f8_e4m3(sign * std::nextafter(mid, 0.0f))), s | c) << "below " << sign * mid;
      EXPECT_EQ(int(f32_to_f8_e4m3(sign * std::nextafter(mid, 1e9f))), s | (c + 1)) << "above " << sign * mid;
    }
  }
  EXPECT_EQ(f32_to_f8_e4m3(std::ldexp(1.0f, -10)), 0x00);  // half the smallest subnormal: tie to zero
  EXPECT_EQ(f32_to_f8_e4m3(1e-30f), 0x00);
  EXPECT_EQ(f32_to_f8_e4m3(-1e-30f), 0x80);
  EXPECT_EQ(f32_to_f8_e4m3(FLT_TRUE_MIN), 0x00);
}

TEST(F8E4M3, EncoderSaturatesBeyond448AndKeepsNaN) {
  for (const float v : {448.0f, 448.5f, 463.9f, 464.0f, 480.0f, 1e6f, FLT_MAX, INFINITY}) {
    EXPECT_EQ(f32_to_f8_e4m3(v), 0x7e) << v;
    EXPECT_EQ(f32_to_f8_e4m3(-v), 0xfe) << -v;
  }
  EXPECT_EQ(f32_to_f8_e4m3(std::nanf("")), 0x7f);
  EXPECT_EQ(f32_to_f8_e4m3(-std::nanf("")), 0xff);
}

// ---- kernels ----

// Block scales by regime: DeepSeek's are around 1e-4..1e-2; the others test the range of f32.
enum class Scales { Unit, DeepSeekLike, Tiny, Huge, Mixed };
const char* name(Scales s) {
  const char* n[] = {"unit", "deepseek-like", "tiny", "huge", "mixed"};
  return n[int(s)];
}

std::vector<float> make_scales(int64_t nb, Scales kind, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(0.5f, 2.0f);
  std::vector<float> s(static_cast<size_t>(nb));
  for (int64_t b = 0; b < nb; ++b) {
    Scales k = kind;
    if (k == Scales::Mixed) k = Scales(rng() % 4);
    float v = u(rng);
    if (k == Scales::DeepSeekLike) v *= std::exp(std::uniform_real_distribution<float>(-9.0f, -4.5f)(rng));
    if (k == Scales::Tiny) v = std::ldexp(v, -100);
    if (k == Scales::Huge) v = std::ldexp(v, 100);
    if (kind == Scales::Mixed && b % 5 == 3) v = std::ldexp(u(rng), -140);  // a subnormal scale
    s[size_t(b)] = v;
  }
  return s;
}

// Any finite code, uniformly: weights from 2^-9 to 448 in one row, zeros and -0 included.
std::vector<uint8_t> random_codes(int64_t n, std::mt19937& rng) {
  std::vector<uint8_t> w(static_cast<size_t>(n));
  for (auto& c : w) do c = uint8_t(rng()); while (is_nan_code(c));
  return w;
}

std::vector<float> random_x(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = d(rng);
  return x;
}

// The largest error either dot kernel may make, derived in the style of Higham's inner-product bound with
// u = 2^-24, gamma(K) = K u / (1 - K u):
//  - reference: per block, a sequential f32 dot of <= 128 terms (each term sees <= 128 roundings), one rounding
//    for the scale, then the running sum over nb blocks (<= nb - 1): K = 128 + nb;
//  - AVX-512: per lane a chain of 2 (full block) or 8 (partial block) products, 2 adds joining the chains, the
//    scale FMA, the accumulator chain over <= nb blocks, 1 add and a 16-lane reduction (4): K <= nb + 14;
//  - AVX2: chains of 4 FMAs (5 in a partial block), 2 adds, the scale FMA, <= nb, 1 add, 3 to reduce: K <= nb + 13;
//  so |dot - exact| <= gamma(128 + nb) * sum |scale w x|. Where intermediates fall below 2^-126 each rounding
//  adds at most 2^-150 absolutely, 2^-142 for the AVX-512 kernel whose intermediates carry a factor 2^-8; and the
//  double "exact" sum itself is within n * 2^-53 * sum |scale w x| (its products are exact: 4 + 24 + 24 bits).
double dot_bound(int64_t n, double abs_sum) {
  const int64_t nb = (n + kBlock - 1) / kBlock;
  const double K = double(128 + nb), u = std::ldexp(1.0, -24);
  return K * u / (1 - K * u) * abs_sum + double(n) * std::ldexp(1.0, -53) * abs_sum +
         double(2 * n + nb + 32) * std::ldexp(1.0, -142);
}

// The SIMD tables this CPU runs: AVX-512, and the reference table with the AVX2 FP8 kernels put in.
std::vector<const KernelTable*> simd_tables() {
  static const KernelTable avx2_fp8 = [] {
    KernelTable t = ref_kernels();
    t.name = "avx2-fp8";
    register_avx2_fp8_kernels(t);
    return t;
  }();
  std::vector<const KernelTable*> out;
  if (cpu_has_avx512() && avx512_kernels()) out.push_back(avx512_kernels());
  if (cpu_has_avx2()) out.push_back(&avx2_fp8);
  return out;
}

std::vector<const KernelTable*> all_tables() {
  std::vector<const KernelTable*> out = {&ref_kernels()};
  for (const KernelTable* t : simd_tables()) out.push_back(t);
  return out;
}

TEST(F8E4M3Kernels, DequantIsExactAndSimdEqualsReferenceBitForBit) {
  std::mt19937 rng(1);
  for (int64_t n : {1, 127, 128, 129, 300, 1000, 7168 + 5}) {
    for (Scales kind : {Scales::Unit, Scales::DeepSeekLike, Scales::Tiny, Scales::Huge, Scales::Mixed}) {
      const auto w = random_codes(n, rng);
      const auto s = make_scales((n + kBlock - 1) / kBlock, kind, rng);
      std::vector<float> ref(static_cast<size_t>(n)), simd(size_t(n), -1.0f);
      ref_kernels().dequant_f8_e4m3(w.data(), s.data(), ref.data(), n);
      for (int64_t k = 0; k < n; ++k) {  // one correctly rounded product: the double product is exact
        const float want = float(e4m3_value(w[size_t(k)]) * double(s[size_t(k / kBlock)]));
        ASSERT_EQ(bits_from_f32(ref[size_t(k)]), bits_from_f32(want))
            << "ref, n=" << n << " " << name(kind) << " element " << k << ": " << ref[size_t(k)] << " vs " << want;
      }
      for (const KernelTable* t : simd_tables()) {
        t->dequant_f8_e4m3(w.data(), s.data(), simd.data(), n);
        for (int64_t k = 0; k < n; ++k)
          ASSERT_EQ(bits_from_f32(simd[size_t(k)]), bits_from_f32(ref[size_t(k)]))
              << t->name << ", n=" << n << " " << name(kind) << " element " << k << " code 0x" << std::hex
              << int(w[size_t(k)]);
      }
    }
  }
}

TEST(F8E4M3Kernels, DequantDecodesAll256CodesLikeTheScalarConversion) {
  std::vector<uint8_t> w(256);
  for (int c = 0; c < 256; ++c) w[size_t(c)] = uint8_t(c);
  const std::vector<float> s = {1.0f, 1.0f};
  for (const KernelTable* t : all_tables()) {
    std::vector<float> d(256);
    t->dequant_f8_e4m3(w.data(), s.data(), d.data(), 256);
    for (int c = 0; c < 256; ++c)
      ASSERT_EQ(bits_from_f32(d[size_t(c)]), bits_from_f32(f8_e4m3_to_f32(uint8_t(c)))) << t->name << " 0x" << std::hex << c;
  }
}

TEST(F8E4M3Kernels, DotWithinDerivedBoundOfExactForEveryTable) {
  std::mt19937 rng(2);
  double worst_ratio = 0;
  for (int64_t n : {1, 127, 128, 129, 300, 1000, 7168 + 5}) {
    for (Scales kind : {Scales::Unit, Scales::DeepSeekLike, Scales::Tiny, Scales::Huge, Scales::Mixed}) {
      for (int rep = 0; rep < 3; ++rep) {
        const auto w = random_codes(n, rng);
        const auto s = make_scales((n + kBlock - 1) / kBlock, kind, rng);
        const auto x = random_x(n, rng);
        double exact = 0, abs_sum = 0;
        for (int64_t k = 0; k < n; ++k) {
          const double p = e4m3_value(w[size_t(k)]) * double(s[size_t(k / kBlock)]) * double(x[size_t(k)]);
          exact += p;
          abs_sum += std::fabs(p);
        }
        const double bound = dot_bound(n, abs_sum);
        const float r = ref_kernels().dot_f8_e4m3(w.data(), s.data(), x.data(), n);
        ASSERT_LE(std::fabs(double(r) - exact), bound)
            << "ref, n=" << n << " " << name(kind) << ": got " << r << ", exact " << exact << ", bound " << bound;
        worst_ratio = std::max(worst_ratio, std::fabs(double(r) - exact) / bound);
        for (const KernelTable* t : simd_tables()) {
          const float v = t->dot_f8_e4m3(w.data(), s.data(), x.data(), n);
          ASSERT_LE(std::fabs(double(v) - exact), bound)
              << t->name << ", n=" << n << " " << name(kind) << ": got " << v << ", exact " << exact << ", bound " << bound;
          ASSERT_LE(std::fabs(double(v) - double(r)), 2 * bound)
              << t->name << " vs ref, n=" << n << " " << name(kind) << ": " << v << " vs " << r;
          worst_ratio = std::max(worst_ratio, std::fabs(double(v) - exact) / bound);
        }
      }
    }
  }
  std::printf("worst |dot - exact| / bound: %.3g\n", worst_ratio);
}

// NaN codes (0x7F, 0xFF) never occur in DeepSeek's files. Every table treats them as IEEE NaN: the dot product of
// a row holding one is NaN; dequant writes a quiet NaN with the code's sign there and leaves the rest unchanged.
TEST(F8E4M3Kernels, NaNCodesPropagateAsNaN) {
  std::mt19937 rng(3);
  for (int64_t n : {1, 129, 300, 1000}) {
    for (int64_t at : {int64_t(0), n / 2, n - 1}) {
      for (uint8_t nan_code : {uint8_t(0x7f), uint8_t(0xff)}) {
        auto w = random_codes(n, rng);
        w[size_t(at)] = nan_code;
        const auto s = make_scales((n + kBlock - 1) / kBlock, Scales::DeepSeekLike, rng);
        const auto x = random_x(n, rng);
        std::vector<float> ref(static_cast<size_t>(n));
        ref_kernels().dequant_f8_e4m3(w.data(), s.data(), ref.data(), n);
        EXPECT_TRUE(std::isnan(ref[size_t(at)]));
        EXPECT_EQ(std::signbit(ref[size_t(at)]), nan_code == 0xff);
        EXPECT_TRUE(std::isnan(ref_kernels().dot_f8_e4m3(w.data(), s.data(), x.data(), n))) << "n=" << n;
        for (const KernelTable* t : simd_tables()) {
          std::vector<float> simd(static_cast<size_t>(n));
          t->dequant_f8_e4m3(w.data(), s.data(), simd.data(), n);
          for (int64_t k = 0; k < n; ++k)
            ASSERT_EQ(bits_from_f32(simd[size_t(k)]), bits_from_f32(ref[size_t(k)])) << t->name << " n=" << n << " element " << k;
          EXPECT_TRUE(std::isnan(t->dot_f8_e4m3(w.data(), s.data(), x.data(), n))) << t->name << " n=" << n << " NaN at " << at;
        }
      }
    }
  }
}

// Vector loads must stop at the row's end (masked or copied tails; ASan does not see intrinsics): each row, its
// scales and x end right before an inaccessible page, so one byte too far is a crash.
TEST(F8E4M3Kernels, ReadsNothingPastTheRowScalesOrX) {
  const size_t page = 4096, span = 16 * page;  // each ends in a guard page; 7173 floats of x need 8 pages
  uint8_t* mem = static_cast<uint8_t*>(mmap(nullptr, 3 * span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(mem, MAP_FAILED);
  ASSERT_EQ(mprotect(mem + span - page, page, PROT_NONE), 0);        // after the codes
  ASSERT_EQ(mprotect(mem + 2 * span - page, page, PROT_NONE), 0);    // after the scales
  ASSERT_EQ(mprotect(mem + 3 * span - page, page, PROT_NONE), 0);    // after x
  std::mt19937 rng(5);
  for (int64_t n : {1, 15, 16, 17, 127, 128, 129, 300, 7168 + 5}) {
    const int64_t nb = (n + kBlock - 1) / kBlock;
    uint8_t* w = mem + span - page - n;
    float* sc = reinterpret_cast<float*>(mem + 2 * span - page) - nb;
    float* x = reinterpret_cast<float*>(mem + 3 * span - page) - n;
    const auto wv = random_codes(n, rng);
    const auto sv = make_scales(nb, Scales::Unit, rng);
    const auto xv = random_x(n, rng);
    std::copy(wv.begin(), wv.end(), w);
    std::copy(sv.begin(), sv.end(), sc);
    std::copy(xv.begin(), xv.end(), x);
    const float r = ref_kernels().dot_f8_e4m3(w, sc, x, n);
    std::vector<float> d(static_cast<size_t>(n));
    for (const KernelTable* t : simd_tables()) {
      EXPECT_NEAR(t->dot_f8_e4m3(w, sc, x, n), r, 1e-3 * (1 + std::fabs(r))) << t->name << " n=" << n;
      t->dequant_f8_e4m3(w, sc, d.data(), n);
    }
  }
  munmap(mem, 3 * span);
}

// A 300 x 260 FP8 matrix has 3 x 3 scale blocks. Row r uses block row r / 128 of the whole matrix, also through
// slices (and slices of slices) whose first row is not a multiple of 128.
TEST(F8E4M3Kernels, MatRowScalesFollowTheStoredMatrixThroughSlices) {
  const int64_t rows = 300, cols = 260, scale_cols = 3;
  std::mt19937 rng(4);
  const auto data = random_codes(rows * cols, rng);
  const auto scales = make_scales(3 * scale_cols, Scales::DeepSeekLike, rng);
  Mat m;
  m.type = GgmlType::F8_E4M3;
  m.rows = rows;
  m.cols = cols;
  m.row_stride = size_t(cols);
  m.data = data.data();
  m.scales = scales.data();
  m.scale_cols = scale_cols;
  for (int64_t r = 0; r < rows; ++r) ASSERT_EQ(m.row_scales(r), scales.data() + (r / 128) * scale_cols) << r;

  const Mat s = m.slice_rows(100, 150);   // rows 100..249: blocks 0 (to 127), 1 (128..249)
  const Mat s2 = s.slice_rows(20, 100);   // rows 120..219
  EXPECT_EQ(s.row_scales(27), scales.data());
  EXPECT_EQ(s.row_scales(28), scales.data() + scale_cols);
  EXPECT_EQ(s2.row_scales(7), scales.data());
  EXPECT_EQ(s2.row_scales(8), scales.data() + scale_cols);
  EXPECT_EQ(m.slice_rows(256, 44).row_scales(0), scales.data() + 2 * scale_cols);

  const auto x = random_x(cols, rng);
  for (const KernelTable* t : all_tables()) {
    for (int64_t i = 0; i < s2.rows; ++i) {
      const int64_t r = 120 + i;
      ASSERT_EQ(s2.row(i), m.row(r));
      double exact = 0, abs_sum = 0;
      for (int64_t k = 0; k < cols; ++k) {
        const double p = e4m3_value(data[size_t(r * cols + k)]) * double(scales[size_t((r / 128) * scale_cols + k / 128)]) *
                         double(x[size_t(k)]);
        exact += p;
        abs_sum += std::fabs(p);
      }
      const float got = t->dot_f8_e4m3(s2.row(i), s2.row_scales(i), x.data(), cols);
      ASSERT_LE(std::fabs(double(got) - exact), dot_bound(cols, abs_sum)) << t->name << " slice row " << i << " (row " << r << ")";
      ASSERT_EQ(got, t->dot_f8_e4m3(m.row(r), m.row_scales(r), x.data(), cols)) << "slice and whole matrix agree";
    }
  }
}

}  // namespace
}  // namespace seek
