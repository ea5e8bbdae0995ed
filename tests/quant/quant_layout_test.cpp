// Block layouts: sizes against the type table, and hand-built blocks whose values are worked out here from the
// format's description (which bits hold which element, how scales are packed), independently of the kernels.
#include <gtest/gtest.h>

#include <cstring>

#include "core/half.h"
#include "quant/blocks.h"
#include "quant_test_util.h"

namespace seek {
namespace {

// ggml's kvalues_iq4nl, written out again so the test does not read the table it checks.
const int kLevels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

template <class Block>
std::vector<uint8_t> bytes_of(const Block& b) {
  std::vector<uint8_t> v(sizeof b);
  std::memcpy(v.data(), &b, sizeof b);
  return v;
}

// Dequantises with the reference kernel and compares every element exactly, reporting the first mismatch.
void expect_values(GgmlType t, const std::vector<uint8_t>& block, const std::vector<float>& want) {
  const std::vector<float> got = test::dequantize(t, block, want.size());
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_EQ(got[i], want[i]) << test::type_name(t) << " element " << i;
  // The dot product with a one-hot x picks the same element.
  for (size_t i = 0; i < want.size(); i += 37) {
    std::vector<float> x(want.size(), 0.0f);
    x[i] = 1.0f;
    ASSERT_FLOAT_EQ(ref_kernels().of(t).dot(block.data(), x.data(), int64_t(want.size())), want[i])
        << test::type_name(t) << " dot at " << i;
  }
}

TEST(QuantLayout, BlockSizesMatchTheTypeTable) {
  struct S { GgmlType t; size_t bytes; int elems; };
  for (S s : {S{GgmlType::Q4_0, sizeof(BlockQ4_0), kQK4_0}, S{GgmlType::Q5_0, sizeof(BlockQ5_0), kQK5_0},
              S{GgmlType::Q5_1, sizeof(BlockQ5_1), kQK5_1}, S{GgmlType::IQ4_NL, sizeof(BlockIQ4NL), kQK4_NL},
              S{GgmlType::Q2_K, sizeof(BlockQ2K), kQK_K}, S{GgmlType::Q3_K, sizeof(BlockQ3K), kQK_K},
              S{GgmlType::Q4_K, sizeof(BlockQ4K), kQK_K}, S{GgmlType::Q5_K, sizeof(BlockQ5K), kQK_K},
              S{GgmlType::Q6_K, sizeof(BlockQ6K), kQK_K}, S{GgmlType::IQ4_XS, sizeof(BlockIQ4XS), kQK_K}}) {
    EXPECT_EQ(traits(s.t).block_bytes, int64_t(s.bytes)) << test::type_name(s.t);
    EXPECT_EQ(traits(s.t).block_size, s.elems) << test::type_name(s.t);
    EXPECT_TRUE(ref_kernels().supports(s.t)) << test::type_name(s.t);
    EXPECT_NE(quantizer(s.t), nullptr) << test::type_name(s.t);
  }
}

// Q4_0: w = d (q - 8); byte j = q[j] | q[j+16] << 4.
TEST(QuantLayout, Q4_0ByHand) {
  BlockQ4_0 b{};
  b.d = 0x3800;  // 0.5
  for (int j = 0; j < 16; ++j) b.qs[j] = uint8_t(j | ((15 - j) << 4));
  std::vector<float> want(32);
  for (int j = 0; j < 16; ++j) {
    want[size_t(j)] = 0.5f * float(j - 8);
    want[size_t(j + 16)] = 0.5f * float(7 - j);
  }
  expect_values(GgmlType::Q4_0, bytes_of(b), want);
}

// Q5_0: bit 4 of element j is bit j of the little-endian qh; Q5_1 adds the offset m.
TEST(QuantLayout, Q5_0AndQ5_1ByHand) {
  BlockQ5_0 b{};
  b.d = 0x3400;  // 0.25
  for (int j = 0; j < 16; ++j) b.qs[j] = 0x21;  // low nibble 1 (elements 0-15), high nibble 2 (16-31)
  b.qh[0] = 0x01;                               // element 0
  b.qh[3] = 0x80;                               // element 31
  std::vector<float> want(32);
  for (int j = 0; j < 32; ++j) want[size_t(j)] = 0.25f * float((j < 16 ? 1 : 2) - 16);
  want[0] = 0.25f * float(1 + 16 - 16);
  want[31] = 0.25f * float(2 + 16 - 16);
  expect_values(GgmlType::Q5_0, bytes_of(b), want);

  BlockQ5_1 c{};
  c.d = 0x3800;  // 0.5
  c.m = 0xBC00;  // -1
  for (int j = 0; j < 16; ++j) c.qs[j] = 0xF0;
  c.qh[2] = 0x01;  // element 16
  for (int j = 0; j < 32; ++j) want[size_t(j)] = j < 16 ? -1.0f : 0.5f * 15 - 1;
  want[16] = 0.5f * 31 - 1;
  expect_values(GgmlType::Q5_1, bytes_of(c), want);
}

TEST(QuantLayout, IQ4_NLByHand) {
  BlockIQ4NL b{};
  b.d = 0x3C00;  // 1.0
  for (int j = 0; j < 16; ++j) b.qs[j] = uint8_t(j | ((15 - j) << 4));
  std::vector<float> want(32);
  for (int j = 0; j < 16; ++j) {
    want[size_t(j)] = float(kLevels[j]);
    want[size_t(j + 16)] = float(kLevels[15 - j]);
  }
  expect_values(GgmlType::IQ4_NL, bytes_of(b), want);
}

// Q2_K: 16 groups of 16; scales[g] = sc | m << 4; element i's 2 bits: byte 32*(i/128) + i%32, shift 2*((i%128)/32).
TEST(QuantLayout, Q2_KByHand) {
  BlockQ2K b{};
  b.d = 0x3800;     // 0.5
  b.dmin = 0x3400;  // 0.25
  for (int g = 0; g < 16; ++g) b.scales[g] = uint8_t(g | ((15 - g) << 4));
  for (int k = 0; k < 64; ++k) b.qs[k] = uint8_t(k * 37 + 11);
  std::vector<float> want(256);
  for (int i = 0; i < 256; ++i) {
    const int q = (b.qs[32 * (i / 128) + i % 32] >> (2 * ((i % 128) / 32))) & 3;
    const int g = i / 16;
    want[size_t(i)] = 0.5f * float(g) * float(q) - 0.25f * float(15 - g);
  }
  expect_values(GgmlType::Q2_K, bytes_of(b), want);
}

// Q3_K: 6-bit group scales s (low nibbles in scales[0..7], top 2 bits in scales[8 + g%4] at bit 2*(g/4)),
// w = d (s - 32) (q - 4) where q's bit 2 is bit i/32 of hmask[i%32].
TEST(QuantLayout, Q3_KByHand) {
  BlockQ3K b{};
  b.d = 0x3400;  // 0.25
  int s[16];
  for (int g = 0; g < 16; ++g) {
    s[g] = (g * 23 + 5) % 64;
    if (g < 8) b.scales[g] |= uint8_t(s[g] & 0xF); else b.scales[g - 8] |= uint8_t((s[g] & 0xF) << 4);
    b.scales[8 + g % 4] |= uint8_t((s[g] >> 4) << (2 * (g / 4)));
  }
  for (int k = 0; k < 32; ++k) b.hmask[k] = uint8_t(k * 7 + 3);
  for (int k = 0; k < 64; ++k) b.qs[k] = uint8_t(k * 13 + 1);
  std::vector<float> want(256);
  for (int i = 0; i < 256; ++i) {
    const int low = (b.qs[32 * (i / 128) + i % 32] >> (2 * ((i % 128) / 32))) & 3;
    const int high = (b.hmask[i % 32] >> (i / 32)) & 1;
    want[size_t(i)] = 0.25f * float(s[i / 16] - 32) * float(low + 4 * high - 4);
  }
  expect_values(GgmlType::Q3_K, bytes_of(b), want);
}

// Q4_K/Q5_K scale packing: groups 0-3 in the low 6 bits of bytes g (scale) and g+4 (min); groups 4-7 as nibbles
// in byte g+4 (scale low, min high) with their top 2 bits in bits 6-7 of bytes g-4 (scale) and g (min).
void pack_k4_scales(const int sc[8], const int m[8], uint8_t* s) {
  std::memset(s, 0, 12);
  for (int g = 0; g < 4; ++g) {
    s[g] = uint8_t(sc[g]);
    s[g + 4] = uint8_t(m[g]);
  }
  for (int g = 4; g < 8; ++g) {
    s[g + 4] = uint8_t((sc[g] & 0xF) | ((m[g] & 0xF) << 4));
    s[g - 4] |= uint8_t((sc[g] >> 4) << 6);
    s[g] |= uint8_t((m[g] >> 4) << 6);
  }
}

TEST(QuantLayout, Q4_KAndQ5_KByHand) {
  const int sc[8] = {2, 63, 0, 17, 33, 1, 40, 48}, m[8] = {3, 0, 63, 5, 17, 62, 9, 63};
  BlockQ4K b{};
  b.d = 0x3C00;     // 1.0
  b.dmin = 0x3800;  // 0.5
  pack_k4_scales(sc, m, b.scales);
  EXPECT_EQ(b.scales[0], 2 | (2 << 6));  // group 0's scale, plus the top bits of group 4's scale (33 = 0b10'0001)
  for (int k = 0; k < 128; ++k) b.qs[k] = uint8_t(k * 29 + 7);
  std::vector<float> want(256);
  // element 64c + l (l < 32) is the low nibble of qs[32c + l]; element 64c + 32 + l its high nibble
  auto nibble = [&](int i) { return (b.qs[32 * (i / 64) + i % 32] >> (4 * ((i % 64) / 32))) & 0xF; };
  for (int i = 0; i < 256; ++i) want[size_t(i)] = float(sc[i / 32]) * float(nibble(i)) - 0.5f * float(m[i / 32]);
  expect_values(GgmlType::Q4_K, bytes_of(b), want);

  BlockQ5K c{};
  c.d = 0x3400;     // 0.25
  c.dmin = 0x3C00;  // 1.0
  pack_k4_scales(sc, m, c.scales);
  std::memcpy(c.qs, b.qs, 128);
  for (int k = 0; k < 32; ++k) c.qh[k] = uint8_t(k * 11 + 5);
  // bit 4 of element 64c + 32h + l is bit 2c + h of qh[l]
  for (int i = 0; i < 256; ++i) {
    const int q = nibble(i) | (((c.qh[i % 32] >> (2 * (i / 64) + (i % 64) / 32)) & 1) << 4);
    want[size_t(i)] = 0.25f * float(sc[i / 32]) * float(q) - 1.0f * float(m[i / 32]);
  }
  expect_values(GgmlType::Q5_K, bytes_of(c), want);
}

// Q6_K: per 128-element half h, element 128h + 32k + l (k = 0..3) has its low nibble in ql[64h + l + 32(k%2)]
// (k < 2: low nibble, else high) and its top 2 bits at bit 2k of qh[32h + l]; w = d * scales[i/16] * (q - 32).
TEST(QuantLayout, Q6_KByHand) {
  BlockQ6K b{};
  b.d = 0x3800;  // 0.5
  for (int g = 0; g < 16; ++g) b.scales[g] = int8_t(g * 17 - 128);
  for (int k = 0; k < 128; ++k) b.ql[k] = uint8_t(k * 31 + 3);
  for (int k = 0; k < 64; ++k) b.qh[k] = uint8_t(k * 53 + 9);
  std::vector<float> want(256);
  for (int i = 0; i < 256; ++i) {
    const int h = i / 128, k = (i % 128) / 32, l = i % 32;
    const int low = (b.ql[64 * h + l + 32 * (k % 2)] >> (4 * (k / 2))) & 0xF;
    const int high = (b.qh[32 * h + l] >> (2 * k)) & 3;
    want[size_t(i)] = 0.5f * float(b.scales[i / 16]) * float((low | (high << 4)) - 32);
  }
  expect_values(GgmlType::Q6_K, bytes_of(b), want);
}

// IQ4_XS: 6-bit group scales ls (low nibble in scales_l[g/2] at bit 4*(g%2), top 2 bits at bit 2g of
// scales_h), w = d (ls - 32) level[q]; each group's 32 codes packed as IQ4_NL.
TEST(QuantLayout, IQ4_XSByHand) {
  BlockIQ4XS b{};
  b.d = 0x3000;  // 0.125
  const int ls[8] = {0, 31, 32, 33, 63, 1, 40, 20};
  for (int g = 0; g < 8; ++g) {
    b.scales_l[g / 2] |= uint8_t((ls[g] & 0xF) << (4 * (g % 2)));
    b.scales_h |= uint16_t((ls[g] >> 4) << (2 * g));
  }
  for (int k = 0; k < 128; ++k) b.qs[k] = uint8_t(k * 41 + 6);
  std::vector<float> want(256);
  for (int i = 0; i < 256; ++i) {
    const int g = i / 32, j = i % 32;
    const int q = (b.qs[16 * g + j % 16] >> (4 * (j / 16))) & 0xF;
    want[size_t(i)] = 0.125f * float(ls[g] - 32) * float(kLevels[q]);
  }
  expect_values(GgmlType::IQ4_XS, bytes_of(b), want);
}

// A value that a format represents exactly survives quantisation: multiples of the step land on their code.
TEST(QuantLayout, RepresentableValuesRoundTrip) {
  std::vector<float> x(256);
  for (int i = 0; i < 256; ++i) x[size_t(i)] = float((i * 7) % 16 - 8) * 0.25f;  // Q4_0's grid for d = 0.25
  x[0] = -2.0f;  // each block's extreme is -8 * 0.25, so d = 0.25 exactly
  for (int b = 0; b < 8; ++b) x[size_t(32 * b)] = -2.0f;
  EXPECT_EQ(test::dequantize(GgmlType::Q4_0, test::quantize(GgmlType::Q4_0, x), 256), x);
  for (float& v : x) v *= 2.0f;  // Q8_0: d = 4/127 is not exact, but q*d rounds back within half a step
  const std::vector<float> y = test::dequantize(GgmlType::Q8_0, test::quantize(GgmlType::Q8_0, x), 256);
  for (int i = 0; i < 256; ++i) EXPECT_NEAR(y[size_t(i)], x[size_t(i)], 4.0f / 127 / 2);
}

}  // namespace
}  // namespace seek
