// GGUF reader and writer: round trips of every metadata type, tensor views, and rejection of damaged files
// (every truncation, random bit flips and inflated sizes) with an error naming the file, offset and field.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "formats/gguf.h"

namespace seek {
namespace {

namespace fs = std::filesystem;

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("seek_test_" + std::to_string(getpid()) + "_" + name)).string();
}

std::vector<uint8_t> read_all(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Removes the old file first: ext4 flushes a file rewritten in place (O_TRUNC) to disk on close, which made the
// fuzz loop's thousands of rewrites take seconds instead of milliseconds.
void write_all(const std::string& p, const std::vector<uint8_t>& b) {
  std::remove(p.c_str());
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

// A small file with one key of every type (nested arrays too) and tensors of each supported type.
std::string write_sample(const std::string& name, uint32_t alignment = 32) {
  GgufWriter w;
  w.set_alignment(alignment);
  w.set_str("general.architecture", "test");
  w.set_u32("u32", 7);
  w.set_i32("i32", -7);
  w.set_u64("u64", 1ull << 40);
  w.set_f32("f32", 0.5f);
  w.set_bool("bool", true);
  GgufValue u8; u8.type = GgufType::U8; u8.u = 200; w.set("u8", u8);
  GgufValue i16; i16.type = GgufType::I16; i16.i = -300; w.set("i16", i16);
  GgufValue f64; f64.type = GgufType::F64; f64.f = 3.25; w.set("f64", f64);
  w.set_str_array("strs", {"a", "", "ü€"});
  w.set_i32_array("ints", {1, -2, 3});
  GgufValue nested; nested.type = GgufType::ARRAY; nested.elem_type = GgufType::ARRAY;
  for (int k = 0; k < 2; ++k) {
    GgufValue inner; inner.type = GgufType::ARRAY; inner.elem_type = GgufType::U16;
    for (int j = 0; j <= k; ++j) { GgufValue e; e.type = GgufType::U16; e.u = uint64_t(10 * k + j); inner.arr.push_back(e); }
    nested.arr.push_back(inner);
  }
  w.set("nested", nested);
  w.add_tensor("a.f32", GgmlType::F32, {3, 2}, [](uint8_t* d, size_t n) {
    for (size_t i = 0; i < n / 4; ++i) { float v = float(i); std::memcpy(d + 4 * i, &v, 4); }
  });
  w.add_tensor("b.q8_0", GgmlType::Q8_0, {64}, [](uint8_t* d, size_t n) { std::memset(d, 1, n); });
  w.add_tensor("c.f16", GgmlType::F16, {5}, [](uint8_t* d, size_t n) { std::memset(d, 0, n); });
  const std::string p = temp_path(name);
  auto r = w.write(p);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return p;
}

TEST(Gguf, RoundTripsEveryValueType) {
  const std::string p = write_sample("roundtrip.gguf");
  auto f = gguf_open(p);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->version, 3u);
  EXPECT_EQ(**f->get_int("u32"), 7);
  EXPECT_EQ(**f->get_int("i32"), -7);
  EXPECT_EQ(**f->get_int("u64"), int64_t(1) << 40);
  EXPECT_EQ(**f->get_int("u8"), 200);
  EXPECT_EQ(**f->get_int("i16"), -300);
  EXPECT_DOUBLE_EQ(**f->get_float("f32"), 0.5);
  EXPECT_DOUBLE_EQ(**f->get_float("f64"), 3.25);
  EXPECT_TRUE(**f->get_bool("bool"));
  EXPECT_EQ(**f->get_string("general.architecture"), "test");
  const GgufValue* strs = f->find("strs");
  ASSERT_NE(strs, nullptr);
  ASSERT_EQ(strs->arr.size(), 3u);
  EXPECT_EQ(strs->arr[2].s, "ü€");
  const GgufValue* nested = f->find("nested");
  ASSERT_NE(nested, nullptr);
  ASSERT_EQ(nested->arr.size(), 2u);
  ASSERT_EQ(nested->arr[1].arr.size(), 2u);
  EXPECT_EQ(nested->arr[1].arr[1].u, 11u);
  // A key of the wrong type is an error naming the key.
  auto wrong = f->get_string("u32");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("u32"), std::string::npos);

  const GgufTensor* t = f->tensor("a.f32");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->dims, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(t->nbytes, 24u);
  float v;
  std::memcpy(&v, t->data + 20, 4);
  EXPECT_EQ(v, 5.0f);
  EXPECT_EQ(f->tensor("b.q8_0")->nbytes, 68u);
  for (const GgufTensor& x : f->tensors) EXPECT_EQ((x.data - f->mapping->data()) % 32, 0) << x.name;
  std::remove(p.c_str());
}

TEST(Gguf, HonoursCustomAlignmentAndVersion2) {
  const std::string p = write_sample("align.gguf", 64);
  auto bytes = read_all(p);
  auto f = gguf_open(p);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->alignment, 64u);
  for (const GgufTensor& x : f->tensors) EXPECT_EQ((x.data - f->mapping->data()) % 64, 0) << x.name;
  bytes[4] = 2;  // version 2 has the same layout
  write_all(p, bytes);
  auto f2 = gguf_open(p);
  ASSERT_TRUE(f2.ok()) << f2.error().message;
  EXPECT_EQ(f2->version, 2u);
  bytes[4] = 1;
  write_all(p, bytes);
  auto f1 = gguf_open(p);
  ASSERT_FALSE(f1.ok());
  EXPECT_NE(f1.error().message.find("version"), std::string::npos);
  std::remove(p.c_str());
}

TEST(Gguf, EveryTruncationIsAClearError) {
  const std::string p = write_sample("trunc_src.gguf");
  const auto bytes = read_all(p);
  // The file may end with padding after the last tensor; every cut before the end of the tensor data must fail.
  auto full = gguf_open(p);
  ASSERT_TRUE(full.ok());
  uint64_t needed = 0;
  for (const GgufTensor& t : full->tensors) needed = std::max(needed, full->data_offset + t.offset + t.nbytes);
  const std::string q = temp_path("trunc.gguf");
  for (size_t len = 0; len < needed; ++len) {
    write_all(q, std::vector<uint8_t>(bytes.begin(), bytes.begin() + long(len)));
    auto f = gguf_open(q);
    ASSERT_FALSE(f.ok()) << "truncated to " << len << " bytes was accepted";
    const std::string& m = f.error().message;
    EXPECT_NE(m.find(q), std::string::npos) << m;
    if (len > 0) {
      EXPECT_NE(m.find("offset"), std::string::npos) << m;
    }
  }
  std::remove(p.c_str());
  std::remove(q.c_str());
}

TEST(Gguf, NamesTheFieldOfAnInflatedCount) {
  const std::string p = write_sample("inflate.gguf");
  auto bytes = read_all(p);
  // tensor_count is the u64 at offset 8: claim 2^60 tensors.
  const uint64_t huge = 1ull << 60;
  std::memcpy(bytes.data() + 8, &huge, 8);
  write_all(p, bytes);
  auto f = gguf_open(p);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("tensor_count"), std::string::npos) << f.error().message;
  EXPECT_NE(f.error().message.find("offset 8"), std::string::npos) << f.error().message;
  std::remove(p.c_str());
}

// Random damage: every variant must either load (and then every tensor lies inside the file) or fail cleanly.
// Run under AddressSanitizer/UBSan in CI, this is the loader's fuzz test.
TEST(Gguf, SurvivesThousandsOfDamagedVariants) {
  std::vector<std::vector<uint8_t>> seeds;
  for (uint32_t a : {32u, 64u}) {
    const std::string p = write_sample("fuzz_seed.gguf", a);
    seeds.push_back(read_all(p));
    std::remove(p.c_str());
  }
  const char* real = SEEK_SOURCE_DIR "/../shared/data/models/llama-2-tiny-random/llama-2-tiny-random.gguf";
  if (fs::exists(real)) {
    auto b = read_all(real);
    b.resize(std::min<size_t>(b.size(), 800000));  // the header (a 32k-token vocabulary) and a little data
    seeds.push_back(b);
  }
  std::mt19937_64 rng(12345);
  const std::string q = temp_path("fuzz.gguf");
  int loaded = 0, rejected = 0;
  for (int i = 0; i < 2400; ++i) {
    std::vector<uint8_t> b = seeds[size_t(i) % seeds.size()];
    const size_t header = std::min<size_t>(b.size(), 4096);
    switch (i % 4) {
      case 0:  // truncate anywhere
        b.resize(size_t(rng() % b.size()));
        break;
      case 1:  // flip 1-8 bits in the header region
        for (int k = 0, n = 1 + int(rng() % 8); k < n; ++k) b[rng() % header] ^= uint8_t(1u << (rng() % 8));
        break;
      case 2: {  // overwrite an aligned 8-byte field with a huge or boundary value
        const uint64_t vals[] = {~0ull, 1ull << 63, 1ull << 32, 0xffffffffull, 0, uint64_t(b.size())};
        const size_t off = (rng() % (header / 4)) * 4;
        if (off + 8 <= b.size()) std::memcpy(b.data() + off, &vals[rng() % 6], 8);
        break;
      }
      default:  // random bytes over a random span
        for (size_t k = rng() % header, n = 1 + rng() % 16; n-- && k < b.size(); ++k) b[k] = uint8_t(rng());
        break;
    }
    write_all(q, b);
    auto f = gguf_open(q);
    if (f.ok()) {
      ++loaded;
      for (const GgufTensor& t : f->tensors) {
        ASSERT_GE(t.data, f->mapping->data());
        ASSERT_LE(t.data + t.nbytes, f->mapping->data() + f->mapping->size());
      }
    } else {
      ++rejected;
      ASSERT_NE(f.error().message.find(q), std::string::npos) << f.error().message;
    }
  }
  std::remove(q.c_str());
  EXPECT_GT(rejected, 1000);
  RecordProperty("loaded", loaded);
}

TEST(Gguf, ReadsALlamaCppWrittenFile) {
  const char* real = SEEK_SOURCE_DIR "/../shared/data/models/llama-2-tiny-random/llama-2-tiny-random.gguf";
  if (!fs::exists(real)) GTEST_SKIP() << "shared test data absent: " << real;
  auto f = gguf_open(real);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(**f->get_string("general.architecture"), "llama");
  EXPECT_EQ(f->find("tokenizer.ggml.tokens")->arr.size(), 32000u);
  // PROVENANCE.md: header 724398 bytes, aligned to 724416, then 1750560 bytes in all.
  EXPECT_EQ(f->data_offset, 724416u);
  uint64_t end = 0;
  for (const GgufTensor& t : f->tensors) end = std::max(end, f->data_offset + t.offset + t.nbytes);
  EXPECT_EQ(end, 1750560u);
}

TEST(Gguf, MissingFileNamesThePath) {
  auto f = gguf_open("/nonexistent/model.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("/nonexistent/model.gguf"), std::string::npos);
}

}  // namespace
}  // namespace seek
