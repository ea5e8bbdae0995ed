// Whole-file quantisation: metadata copied with the quantisation keys last (as llama-quantize leaves them),
// tensors in llama.cpp's order with the recipe's types, each converted tensor equal to quantise(dequantise(input))
// row by row, the same file for any thread count, and errors that name the file and tensor.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "formats/gguf.h"
#include "quant/model_quantize.h"
#include "quant_test_util.h"

namespace seek {
namespace {

namespace fs = std::filesystem;

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("seek_quant_test_" + std::to_string(getpid()) + "_" + name)).string();
}

std::vector<uint8_t> read_all(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A tensor of `type` holding test::mixed_data, converted from f32 by seek's own quantiser.
void add(GgufWriter& w, const std::string& name, GgmlType type, std::vector<int64_t> dims, uint64_t seed) {
  w.add_tensor(name, type, dims, [type, dims, seed](uint8_t* dst, size_t nbytes) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    const std::vector<float> x = test::mixed_data(size_t(n), seed);
    for (int64_t r = 0; r < n / dims[0]; ++r)
      quantizer(type)(x.data() + r * dims[0], dst + size_t(r) * row_bytes(type, dims[0]), dims[0]);
  });
}

// A small deepseek2-like file: a head with 256-wide rows, a Q8_0 tensor to requantise, 64-wide rows that fall
// back, norms and a router that stay, and keys that llama-quantize drops or moves.
std::string write_input(const std::string& name) {
  GgufWriter w;
  w.set_str("general.architecture", "deepseek2");
  w.set_u32("general.file_type", 0);
  w.set_u32("general.quantization_version", 1);
  w.set_u32("deepseek2.block_count", 2);
  w.set_u32("deepseek2.expert_count", 4);
  w.set_u32("split.count", 1);
  w.set_str("zz.last", "kept in place");
  add(w, "blk.1.ffn_down_exps.weight", GgmlType::F32, {256, 64, 4}, 1);
  add(w, "blk.0.attn_norm.weight", GgmlType::F32, {256}, 2);
  add(w, "blk.0.ffn_gate_inp.weight", GgmlType::F32, {256, 4}, 3);
  add(w, "blk.0.attn_k_b.weight", GgmlType::F16, {64, 32, 2}, 4);
  add(w, "blk.0.attn_kv_b.weight", GgmlType::BF16, {256, 64}, 5);
  add(w, "output.weight", GgmlType::Q8_0, {256, 40}, 6);
  add(w, "token_embd.weight", GgmlType::F32, {256, 40}, 7);
  const std::string p = temp_path(name);
  EXPECT_TRUE(w.write(p).ok());
  return p;
}

TEST(ModelQuantize, Q4_K_MFile) {
  const std::string in = write_input("in.gguf"), out = temp_path("out.gguf");
  auto s = quantize_model(in, out, *quant_recipe("Q4_K_M"), 3);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->n_converted, 5);  // all but the norm and the router
  EXPECT_EQ(s->n_fallback, 1);   // attn_k_b: 64-wide rows
  EXPECT_EQ(s->n_requantised, 1);

  auto f = gguf_open(out);
  ASSERT_TRUE(f.ok()) << f.error().message;
  std::vector<std::string> keys;
  for (const auto& kv : f->kv) keys.push_back(kv.first);
  EXPECT_EQ(keys, (std::vector<std::string>{"general.architecture", "deepseek2.block_count", "deepseek2.expert_count",
                                            "zz.last", "general.quantization_version", "general.file_type"}));
  EXPECT_EQ(*f->get_int("general.file_type").value(), 15);
  EXPECT_EQ(*f->get_int("general.quantization_version").value(), 2);

  const std::vector<std::pair<std::string, GgmlType>> want = {
      {"output.weight", GgmlType::Q6_K},          {"token_embd.weight", GgmlType::Q4_K},
      {"blk.0.attn_k_b.weight", GgmlType::Q5_0},  {"blk.0.attn_kv_b.weight", GgmlType::Q6_K},
      {"blk.0.attn_norm.weight", GgmlType::F32},  {"blk.0.ffn_gate_inp.weight", GgmlType::F32},
      {"blk.1.ffn_down_exps.weight", GgmlType::Q6_K}};
  ASSERT_EQ(f->tensors.size(), want.size());
  auto in_file = gguf_open(in);
  ASSERT_TRUE(in_file.ok());
  for (size_t i = 0; i < want.size(); ++i) {
    const GgufTensor& t = f->tensors[i];
    EXPECT_EQ(t.name, want[i].first);
    EXPECT_EQ(t.type, want[i].second) << t.name;
    // the data: each row dequantised from the input and quantised again by the reference functions
    const GgufTensor& src = *in_file->tensor(t.name);
    EXPECT_EQ(src.dims, t.dims);
    const int64_t ne0 = t.ne(0), rows = t.n_elements() / ne0;
    std::vector<float> row(static_cast<size_t>(ne0));
    std::vector<uint8_t> q(row_bytes(t.type, ne0));
    for (int64_t r = 0; r < rows; ++r) {
      ref_kernels().of(src.type).dequant(src.data + size_t(r) * row_bytes(src.type, ne0), row.data(), ne0);
      quantizer(t.type)(row.data(), q.data(), ne0);
      ASSERT_EQ(0, std::memcmp(q.data(), t.data + size_t(r) * q.size(), q.size())) << t.name << " row " << r;
    }
  }
  // thread count does not change a byte
  const std::string out1 = temp_path("out1.gguf");
  ASSERT_TRUE(quantize_model(in, out1, *quant_recipe("Q4_K_M"), 1).ok());
  EXPECT_EQ(read_all(out), read_all(out1));
  for (const auto& p : {in, out, out1}) fs::remove(p);
}

TEST(ModelQuantize, SameTypeIsCopiedVerbatim) {
  const std::string in = write_input("in2.gguf"), out = temp_path("out2.gguf");
  auto s = quantize_model(in, out, *quant_recipe("Q8_0"), 2);
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto a = gguf_open(in), b = gguf_open(out);
  ASSERT_TRUE(a.ok() && b.ok());
  const GgufTensor &x = *a->tensor("output.weight"), &y = *b->tensor("output.weight");
  EXPECT_EQ(y.type, GgmlType::Q8_0);
  EXPECT_EQ(0, std::memcmp(x.data, y.data, x.nbytes));
  EXPECT_EQ(*b->get_int("general.file_type").value(), 7);
  for (const auto& p : {in, out}) fs::remove(p);
}

TEST(ModelQuantize, ErrorsNameTheFileAndTensor) {
  auto s = quantize_model("/nonexistent/in.gguf", temp_path("x.gguf"), *quant_recipe("Q4_K_M"), 1);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("/nonexistent/in.gguf"), std::string::npos) << s.error().message;

  // a tensor of a type seek cannot read, which the recipe wants converted
  GgufWriter w;
  w.set_str("general.architecture", "deepseek2");
  w.add_tensor("blk.0.ffn_up.weight", GgmlType::IQ3_S, {256, 2}, [](uint8_t* d, size_t n) { std::memset(d, 0, n); });
  const std::string in = temp_path("iq3s.gguf"), out = temp_path("iq3s-out.gguf");
  ASSERT_TRUE(w.write(in).ok());
  s = quantize_model(in, out, *quant_recipe("Q4_K_M"), 1);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("blk.0.ffn_up.weight"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("iq3_s"), std::string::npos) << s.error().message;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".tmp"));
  fs::remove(in);
}

// A codebook type (the dynamic R1 quants) is read when the build has the codebooks, and otherwise refused with
// the message saying how to get them.
TEST(ModelQuantize, CodebookTypesAreReadOnlyWithCodebooks) {
  GgufWriter w;
  w.set_str("general.architecture", "deepseek2");
  w.add_tensor("blk.0.ffn_up.weight", GgmlType::IQ2_XXS, {256, 2}, [](uint8_t* d, size_t n) { std::memset(d, 0, n); });
  const std::string in = temp_path("iq2.gguf"), out = temp_path("iq2-out.gguf");
  ASSERT_TRUE(w.write(in).ok());
  auto s = quantize_model(in, out, *quant_recipe("Q4_K_M"), 1);
#ifdef SEEK_HAVE_IQ_GRIDS
  EXPECT_TRUE(s.ok()) << s.error().message;
#else
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find(kNoIqGridsMessage), std::string::npos) << s.error().message;
#endif
  fs::remove(in);
  fs::remove(out);
}

}  // namespace
}  // namespace seek
