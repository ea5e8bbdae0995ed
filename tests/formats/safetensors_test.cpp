// safetensors reader: round trips of every dtype class, one error per rule of the format (each naming the tensor
// and field), every truncation, thousands of damaged headers, deep nesting, and model folders with an index.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>

#include "../common/safetensors_test_util.h"
#include "core/half.h"

namespace seek {
namespace {

using test::expect_error;
using test::le_bytes;
using test::parse_bytes;
using test::safetensors_bytes;
using test::safetensors_from_header;
using test::StTensor;
using test::temp_path;
using test::write_bytes;

std::vector<uint8_t> iota_bytes(size_t n, uint8_t start = 1) {
  std::vector<uint8_t> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = uint8_t(start + i);
  return b;
}

// Tensors of each size class, a scalar, two empty ones and a name that needs JSON escapes.
std::vector<StTensor> sample_tensors() {
  return {
      {"model.embed_tokens.weight", "BF16", {3, 4}, iota_bytes(24)},
      {"layers.0.mlp.experts.0.w1.weight", "F8_E4M3", {2, 8}, iota_bytes(16, 100)},
      {"layers.0.mlp.experts.0.w1.weight_scale_inv", "F32", {1, 1}, le_bytes<float>({0.25f})},
      {"empty.bias", "F16", {0}, {}},
      {"rope.\"theta\"\t\u00e9", "F64", {2}, le_bytes<double>({1e4, -0.5})},
      {"step", "I64", {}, le_bytes<int64_t>({-7})},
      {"empty.matrix", "U8", {0, 5}, {}},
      {"mask", "BOOL", {3}, {1, 0, 1}},
      {"counts", "I32", {2, 1, 1}, le_bytes<int32_t>({5, -5})},
  };
}

std::vector<std::pair<std::string, std::string>> sample_metadata() {
  return {{"format", "pt"}, {"note", "ünïcode and \"quotes\""}};
}

// ---- round trips ----

TEST(Safetensors, RoundTripsEveryDtypeClassAndMetadata) {
  const auto tensors = sample_tensors();
  for (bool pad : {true, false}) {
    auto f = parse_bytes(safetensors_bytes(tensors, sample_metadata(), pad));
    ASSERT_TRUE(f.ok()) << f.error().message;
    ASSERT_EQ(f->tensors.size(), tensors.size());
    uint64_t at = 0;
    for (size_t k = 0; k < tensors.size(); ++k) {
      // The writer assigns offsets in list order, so file order is list order (empty tensors tie on offset).
      const SafetensorsTensor* t = f->find(tensors[k].name);
      ASSERT_NE(t, nullptr) << tensors[k].name;
      EXPECT_EQ(t->dtype, tensors[k].dtype);
      EXPECT_EQ(t->shape, tensors[k].shape);
      EXPECT_EQ(t->begin, at) << t->name;
      EXPECT_EQ(t->nbytes(), tensors[k].bytes.size()) << t->name;
      EXPECT_EQ(uint64_t(t->n_elements()) * safetensors_dtype_size(t->dtype), t->nbytes()) << t->name;
      EXPECT_EQ(t->data, f->mapping->data() + f->data_offset + t->begin);
      EXPECT_EQ(std::vector<uint8_t>(t->data, t->data + t->nbytes()), tensors[k].bytes) << t->name;
      at = t->end;
    }
    for (size_t k = 1; k < f->tensors.size(); ++k) EXPECT_LE(f->tensors[k - 1].begin, f->tensors[k].begin);
    EXPECT_EQ(f->metadata, sample_metadata());
    EXPECT_EQ(f->find("step")->n_elements(), 1);
    EXPECT_EQ(f->find("empty.matrix")->n_elements(), 0);
    EXPECT_EQ(f->find("missing"), nullptr);
    if (pad) {
      EXPECT_EQ(f->data_offset % 8, 0u);
    }
  }
}

TEST(Safetensors, UnalignedDataIsReadWithMemcpy) {
  // A 1-byte tensor first puts the F32 tensor at an odd address.
  auto bytes = safetensors_bytes({{"a", "U8", {1}, {9}}, {"b", "F32", {2}, le_bytes<float>({1.5f, -2.0f})}});
  auto f = parse_bytes(bytes);
  ASSERT_TRUE(f.ok()) << f.error().message;
  const SafetensorsTensor* b = f->find("b");
  EXPECT_NE(reinterpret_cast<uintptr_t>(b->data) % 4, 0u);
  float v[2];
  std::memcpy(v, b->data, sizeof v);
  EXPECT_EQ(v[0], 1.5f);
  EXPECT_EQ(v[1], -2.0f);
}

TEST(Safetensors, DataOutlivesTheFirstHandle) {
  SafetensorsFile copy;
  {
    auto f = parse_bytes(safetensors_bytes(sample_tensors()));
    ASSERT_TRUE(f.ok()) << f.error().message;
    copy = *f;
  }
  const SafetensorsTensor* t = copy.find("mask");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->data[0], 1);  // ASan would flag a read from an unmapped page
  EXPECT_EQ(t->data[2], 1);
}

TEST(Safetensors, DtypeSizes) {
  EXPECT_EQ(safetensors_dtype_size("F8_E4M3"), 1u);
  EXPECT_EQ(safetensors_dtype_size("F8_E5M2"), 1u);
  EXPECT_EQ(safetensors_dtype_size("BF16"), 2u);
  EXPECT_EQ(safetensors_dtype_size("F16"), 2u);
  EXPECT_EQ(safetensors_dtype_size("F32"), 4u);
  EXPECT_EQ(safetensors_dtype_size("I64"), 8u);
  EXPECT_EQ(safetensors_dtype_size("F64"), 8u);
  EXPECT_EQ(safetensors_dtype_size("BOOL"), 1u);
  EXPECT_EQ(safetensors_dtype_size("bf16"), 0u);
  EXPECT_EQ(safetensors_dtype_size("F4"), 0u);  // sub-byte: not supported
  EXPECT_EQ(safetensors_dtype_size(""), 0u);
}

// ---- one error per rule ----

TEST(Safetensors, HeaderLengthIsChecked) {
  expect_error(parse_bytes({1, 0, 0}), {"header length", "3 bytes"}, "3-byte file");
  std::vector<uint8_t> huge = safetensors_from_header("{}");
  huge[3] = 0x10;  // 256 MiB + 2
  expect_error(parse_bytes(huge), {"header length", "limit"}, "header over 100 MiB");
  std::vector<uint8_t> past = safetensors_from_header("{}");
  past[0] = 3;
  expect_error(parse_bytes(past), {"offset 0", "header length", "past the end"}, "header past the file");
  std::vector<uint8_t> all_ones(16, 0xff);
  expect_error(parse_bytes(all_ones), {"header length"}, "length 2^64-1");
}

struct BadHeader {
  const char* what;
  std::string header;
  size_t data_bytes;
  std::vector<std::string> expect;  // substrings of the message
};

TEST(Safetensors, EachRuleHasItsError) {
  const std::vector<BadHeader> cases = {
      {"not JSON", "{\"a\": ", 0, {"offset", "header", "invalid JSON"}},
      {"an array", "[]", 0, {"offset 8", "expected a JSON object"}},
      {"trailing garbage", "{} x", 0, {"invalid JSON"}},
      {"invalid UTF-8", "{\"\xff\": {}}", 0, {"invalid JSON"}},
      {"entry not an object", R"({"w": 3})", 0, {"\"w\"", "entry", "expected an object"}},
      {"dtype missing", R"({"w": {"shape": [1], "data_offsets": [0, 1]}})", 1, {"\"w\"", "dtype", "missing"}},
      {"dtype not a string", R"({"w": {"dtype": 4, "shape": [1], "data_offsets": [0, 1]}})", 1, {"\"w\"", "dtype", "expected a string"}},
      {"dtype unknown", R"({"w": {"dtype": "Q4_K", "shape": [1], "data_offsets": [0, 1]}})", 1, {"\"w\"", "dtype", "unknown dtype \"Q4_K\""}},
      {"shape missing", R"({"w": {"dtype": "U8", "data_offsets": [0, 1]}})", 1, {"\"w\"", "shape", "missing"}},
      {"shape not an array", R"({"w": {"dtype": "U8", "shape": 1, "data_offsets": [0, 1]}})", 1, {"\"w\"", "shape", "expected an array"}},
      {"shape negative", R"({"w": {"dtype": "U8", "shape": [-1], "data_offsets": [0, 1]}})", 1, {"\"w\"", "shape", "dimension 0 is -1"}},
      {"shape fraction", R"({"w": {"dtype": "U8", "shape": [1, 2.5], "data_offsets": [0, 1]}})", 1, {"\"w\"", "shape", "dimension 1 is 2.5"}},
      {"shape string", R"({"w": {"dtype": "U8", "shape": ["1"], "data_offsets": [0, 1]}})", 1, {"\"w\"", "shape", "dimension 0"}},
      {"shape beyond int64", R"({"w": {"dtype": "U8", "shape": [9223372036854775808], "data_offsets": [0, 1]}})", 1, {"\"w\"", "shape", "dimension 0"}},
      {"shape beyond uint64", R"({"w": {"dtype": "U8", "shape": [18446744073709551616], "data_offsets": [0, 1]}})", 1, {"\"w\"", "shape", "dimension 0"}},
      {"rank 9", R"({"w": {"dtype": "U8", "shape": [1,1,1,1,1,1,1,1,1], "data_offsets": [0, 1]}})", 1, {"\"w\"", "shape", "rank 9 exceeds 8"}},
      {"element count overflow", R"({"w": {"dtype": "U8", "shape": [4294967296, 4294967296], "data_offsets": [0, 1]}})", 1, {"\"w\"", "shape", "overflows"}},
      {"byte count overflow", R"({"w": {"dtype": "F64", "shape": [4611686018427387904], "data_offsets": [0, 1]}})", 1, {"\"w\"", "data_offsets", "more than 2^64"}},
      {"offsets missing", R"({"w": {"dtype": "U8", "shape": [1]}})", 1, {"\"w\"", "data_offsets", "missing"}},
      {"offsets one number", R"({"w": {"dtype": "U8", "shape": [1], "data_offsets": [1]}})", 1, {"\"w\"", "data_offsets", "expected [begin, end]"}},
      {"offsets three numbers", R"({"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1, 2]}})", 1, {"\"w\"", "data_offsets", "expected [begin, end]"}},
      {"offset negative", R"({"w": {"dtype": "U8", "shape": [1], "data_offsets": [-1, 0]}})", 1, {"\"w\"", "data_offsets", "non-negative integers"}},
      {"offset fraction", R"({"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1.0]}})", 1, {"\"w\"", "data_offsets", "non-negative integers"}},
      {"begin after end", R"({"w": {"dtype": "U8", "shape": [0], "data_offsets": [1, 0]}})", 1, {"\"w\"", "data_offsets", "[1, 0)"}},
      {"end past the data", R"({"w": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}})", 1, {"\"w\"", "data_offsets", "1-byte data section"}},
      {"end far past the data", R"({"w": {"dtype": "U8", "shape": [1], "data_offsets": [18446744073709551615, 18446744073709551615]}})", 1, {"\"w\"", "data_offsets"}},
      {"size mismatch", R"({"w": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 4]}})", 4, {"\"w\"", "data_offsets", "holds 4 bytes", "needs 6"}},
      {"overlap", R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}, "b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]}})", 6,
       {"\"a\" [0, 4)", "\"b\" [2, 6)", "overlap"}},
      {"empty tensor inside another", R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}, "b": {"dtype": "U8", "shape": [0], "data_offsets": [2, 2]}})", 4,
       {"\"a\"", "\"b\"", "overlap"}},
      {"same range twice", R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}, "b": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}})", 4,
       {"\"a\"", "\"b\"", "overlap"}},
      {"gap", R"({"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}, "b": {"dtype": "U8", "shape": [2], "data_offsets": [3, 5]}})", 5,
       {"1 unused bytes between tensor \"a\" and tensor \"b\""}},
      {"gap at the start", R"({"b": {"dtype": "U8", "shape": [2], "data_offsets": [3, 5]}})", 5, {"between the start of the data section and tensor \"b\""}},
      {"bytes after the last tensor", R"({"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}})", 7, {"5 unused bytes after tensor \"a\""}},
      {"data but no tensors", R"({})", 3, {"3 unused bytes", "no tensors"}},
      {"duplicate tensor", R"({"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, "w": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}})", 2,
       {"key \"w\" appears twice"}},
      {"duplicate field", R"({"w": {"dtype": "U8", "dtype": "U8", "shape": [1], "data_offsets": [0, 1]}})", 1, {"key \"dtype\" appears twice"}},
      {"metadata not an object", R"({"__metadata__": ["pt"]})", 0, {"__metadata__", "expected an object"}},
      {"metadata value not a string", R"({"__metadata__": {"format": "pt", "epoch": 3}})", 0, {"__metadata__", "\"epoch\"", "expected a string"}},
      {"number out of range", R"({"w": {"dtype": "U8", "shape": [1e400], "data_offsets": [0, 1]}})", 1, {"invalid JSON"}},
      {"control character in a name", "{\"w\\u0001\": 1}", 0, {"w\\x01", "entry"}},
  };
  for (const BadHeader& c : cases) {
    SCOPED_TRACE(c.what);
    auto f = parse_bytes(safetensors_from_header(c.header, std::vector<uint8_t>(c.data_bytes, 7)), "rule.safetensors");
    ASSERT_FALSE(f.ok()) << c.what << ": was accepted";
    EXPECT_NE(f.error().message.find(temp_path("rule.safetensors")), std::string::npos) << f.error().message;
    for (const std::string& part : c.expect)
      EXPECT_NE(f.error().message.find(part), std::string::npos)
          << c.what << ": message lacks \"" << part << "\":\n  " << f.error().message;
  }
}

TEST(Safetensors, AcceptsWhatTheSpecAllows) {
  // Unknown keys inside an entry are ignored (as the reference implementation does), empty tensors may share an
  // offset with their neighbours, a header may be padded with spaces, and a file may hold no tensors at all.
  auto f = parse_bytes(safetensors_from_header(
      R"({"z": {"dtype": "U8", "shape": [0], "data_offsets": [2, 2], "extra": {"deep": [[[]]]}},)"
      R"( "a": {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]},)"
      R"( "b": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}}     )",
      {1, 2}));
  ASSERT_TRUE(f.ok()) << f.error().message;
  ASSERT_EQ(f->tensors.size(), 3u);
  EXPECT_EQ(f->tensors[0].name, "a");
  EXPECT_EQ(f->tensors[1].name, "b");
  EXPECT_EQ(f->tensors[2].name, "z");
  auto empty = parse_bytes(safetensors_from_header("{}"));
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_TRUE(empty->tensors.empty());
}

TEST(Safetensors, DeepNestingIsACleanError) {
  expect_error(parse_bytes(safetensors_from_header(std::string(1000000, '['))), {"offset 72", "nested deeper than 64"},
               "a million '['");
  expect_error(parse_bytes(safetensors_from_header(std::string(1000000, '{'))), {"nested deeper than 64"},
               "a million '{'");
  std::string deep = R"({"__metadata__": {"x": )";
  for (int k = 0; k < 70; ++k) deep += "[";
  expect_error(parse_bytes(safetensors_from_header(deep)), {"nested deeper"}, "deep metadata, unterminated");
  // Brackets inside strings do not count.
  const std::string in_string = R"({"__metadata__": {"x": ")" + std::string(500, '[') + R"("}})";
  auto ok = parse_bytes(safetensors_from_header(in_string));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->metadata[0].second, std::string(500, '['));
}

TEST(Safetensors, EveryTruncationIsRejected) {
  const auto bytes = safetensors_bytes(sample_tensors(), sample_metadata());
  const std::string p = temp_path("trunc.safetensors");
  for (size_t len = 0; len < bytes.size(); ++len) {
    write_bytes(p, std::vector<uint8_t>(bytes.begin(), bytes.begin() + long(len)));
    auto f = safetensors_open(p);
    ASSERT_FALSE(f.ok()) << "truncated to " << len << " of " << bytes.size() << " bytes was accepted";
    EXPECT_NE(f.error().message.find(p), std::string::npos) << f.error().message;
  }
  std::remove(p.c_str());
}

TEST(Safetensors, MissingFileNamesThePath) {
  expect_error(safetensors_open("/nonexistent/model.safetensors"), {"/nonexistent/model.safetensors"}, "missing");
}

// ---- damaged files ----

// A parsed file must be self-consistent: the tensors tile the data section in order, each view lies inside the
// mapping and holds exactly shape x dtype bytes, and find() returns each tensor.
void expect_consistent(const SafetensorsFile& f) {
  const uint64_t data_size = f.mapping->size() - f.data_offset;
  uint64_t at = 0;
  for (const SafetensorsTensor& t : f.tensors) {
    ASSERT_EQ(t.begin, at) << t.name;
    ASSERT_LE(t.end, data_size) << t.name;
    ASSERT_LE(t.shape.size(), kMaxSafetensorsRank) << t.name;
    const size_t es = safetensors_dtype_size(t.dtype);
    ASSERT_GT(es, 0u) << t.dtype;
    ASSERT_EQ(uint64_t(t.n_elements()) * es, t.nbytes()) << t.name;
    ASSERT_EQ(t.data, f.mapping->data() + f.data_offset + t.begin) << t.name;
    ASSERT_EQ(f.find(t.name), &t) << t.name;
    at = t.end;
  }
  ASSERT_EQ(at, data_size);
}

// The file with its header text replaced and the length set to match, so that the damage is to the JSON only.
std::vector<uint8_t> with_header(const std::vector<uint8_t>& file, size_t old_header_end, const std::string& header) {
  return safetensors_from_header(header, std::vector<uint8_t>(file.begin() + long(old_header_end), file.end()));
}

// Random damage: bit flips in the length and header, numbers replaced by huge, negative or fractional ones,
// random edits of the header text (with the length fixed up so that the JSON is what gets tested), truncation.
// Every variant must either parse into a consistent file or fail with an error naming the file. Run under
// ASan/UBSan in CI, this is the reader's fuzz test.
TEST(Safetensors, SurvivesThousandsOfDamagedVariants) {
  const std::vector<std::vector<uint8_t>> seeds = {
      safetensors_bytes(sample_tensors(), sample_metadata()),
      safetensors_bytes({{"a", "U8", {1}, {9}}, {"b", "F32", {2}, le_bytes<float>({1.5f, -2.0f})}, {"c", "BF16", {0}, {}}},
                        {}, false),
  };
  const char* numbers[] = {"0", "1", "2", "7", "18446744073709551615", "18446744073709551616", "9223372036854775807",
                           "9223372036854775808", "4294967296", "-1", "-0", "1e30", "2.5", "99999999999999999999999"};
  const char alphabet[] = "{}[]\",:0123456789-.e \\aZ_";
  std::mt19937_64 rng(20240611);
  const std::string q = temp_path("fuzz.safetensors");
  int loaded = 0, rejected = 0;
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> b = seeds[size_t(i) % seeds.size()];
    const size_t header_end = 8 + size_t(b[0]) + 256 * size_t(b[1]);  // the seeds' headers are < 64 KiB
    std::string header(b.begin() + 8, b.begin() + long(header_end));
    switch (i % 5) {
      case 0:  // flip 1-4 bits anywhere in the length or header
        for (int k = 0, n = 1 + int(rng() % 4); k < n; ++k) b[rng() % header_end] ^= uint8_t(1u << (rng() % 8));
        break;
      case 1:  // flip one bit of the length
        b[rng() % 8] ^= uint8_t(1u << (rng() % 8));
        break;
      case 2: {  // replace one number of the header
        std::vector<std::pair<size_t, size_t>> runs;
        for (size_t k = 0; k < header.size();) {
          if (!std::isdigit(static_cast<unsigned char>(header[k]))) { ++k; continue; }
          size_t e = k;
          while (e < header.size() && std::isdigit(static_cast<unsigned char>(header[e]))) ++e;
          runs.emplace_back(k, e - k);
          k = e;
        }
        const auto [at, len] = runs[rng() % runs.size()];
        header.replace(at, len, numbers[rng() % std::size(numbers)]);
        b = with_header(b, header_end, header);
        break;
      }
      case 3:  // 1-3 random edits of the header text
        for (int k = 0, n = 1 + int(rng() % 3); k < n; ++k) {
          const size_t at = rng() % header.size();
          const char c = alphabet[rng() % (sizeof alphabet - 1)];
          switch (rng() % 3) {
            case 0: header.insert(header.begin() + long(at), c); break;
            case 1: header.erase(at, 1); break;
            default: header[at] = c; break;
          }
        }
        b = with_header(b, header_end, header);
        break;
      default:  // truncate, or append a few bytes
        if (rng() % 2) b.resize(size_t(rng() % b.size()));
        else b.insert(b.end(), 1 + rng() % 9, uint8_t(rng()));
        break;
    }
    write_bytes(q, b);
    auto f = safetensors_open(q);
    if (f.ok()) {
      ++loaded;
      expect_consistent(*f);
    } else {
      ++rejected;
      ASSERT_NE(f.error().message.find(q), std::string::npos) << f.error().message;
    }
  }
  std::remove(q.c_str());
  EXPECT_GT(rejected, 2000);
  EXPECT_GT(loaded, 20);  // some damage (a flipped letter in a name, a space) leaves a valid file
  RecordProperty("loaded", loaded);
}

// ---- an independent reader and writer ----

// A reader and a writer written from the format description in Python with numpy (no safetensors package), to
// check the layout both ways: the test writer's files read there, and files written there read here.
const char* kPythonSafetensors = R"PY(
import json, struct, sys
import numpy as np
DT = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "U8": "u1", "BOOL": "?"}
mode, path = sys.argv[1], sys.argv[2]
if mode == "write":
    ts = {"a.f32": ("F32", np.arange(6).reshape(2, 3) - 2), "b.i64": ("I64", [[-3], [4]]),
          "c.f16": ("F16", [0.5, 1.5, -2]), "d.empty": ("F32", np.zeros((0, 4))), "e.bool": ("BOOL", [True, False])}
    header, data = {"__metadata__": {"format": "np"}}, b""
    for name, (dtype, values) in ts.items():
        a = np.asarray(values, dtype=DT[dtype])
        raw = a.tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + data)
else:
    raw = open(path, "rb").read()
    n, = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    body = raw[8 + n:]
    for name in sorted(k for k in header if k != "__metadata__"):
        e = header[name]
        a = np.frombuffer(body[e["data_offsets"][0]:e["data_offsets"][1]], dtype=DT[e["dtype"]]).reshape(e["shape"])
        print(name, e["dtype"], list(a.shape), [int(2 * x) for x in a.flatten()])
    print(header["__metadata__"]["format"])
)PY";

bool python_numpy_available() {
  return std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0;
}

std::string run_python(const std::string& mode, const std::string& path) {
  const std::string script = temp_path("st.py");
  std::ofstream(script) << kPythonSafetensors;
  std::string out;
  if (FILE* p = popen(("/usr/bin/python3 " + script + " " + mode + " " + path + " 2>&1").c_str(), "r")) {
    char buf[512];
    while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    pclose(p);
  }
  std::remove(script.c_str());
  return out;
}

TEST(Safetensors, AgreesWithAnIndependentNumpyReaderAndWriter) {
  if (!python_numpy_available()) GTEST_SKIP() << "/usr/bin/python3 with numpy not found";
  // Our writer -> numpy. Values are small integers or halves, printed doubled as integers.
  const std::string ours = temp_path("ours.safetensors");
  write_bytes(ours, safetensors_bytes({{"x.f32", "F32", {2, 2}, le_bytes<float>({1.5f, -2.0f, 0.0f, 8.0f})},
                                       {"y.i64", "I64", {3}, le_bytes<int64_t>({-1, 0, 5})},
                                       {"z.u8", "U8", {0, 3}, {}}},
                                      {{"format", "pt"}}, false));
  EXPECT_EQ(run_python("read", ours),
            "x.f32 F32 [2, 2] [3, -4, 0, 16]\ny.i64 I64 [3] [-2, 0, 10]\nz.u8 U8 [0, 3] []\npt\n");
  std::remove(ours.c_str());

  // numpy -> our reader.
  const std::string theirs = temp_path("theirs.safetensors");
  const std::string log = run_python("write", theirs);
  auto f = safetensors_open(theirs);
  std::remove(theirs.c_str());
  ASSERT_TRUE(f.ok()) << f.error().message << "\npython: " << log;
  EXPECT_EQ(f->metadata, (std::vector<std::pair<std::string, std::string>>{{"format", "np"}}));
  ASSERT_EQ(f->tensors.size(), 5u);
  const SafetensorsTensor* a = f->find("a.f32");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
  float av[6];
  std::memcpy(av, a->data, sizeof av);
  for (int k = 0; k < 6; ++k) EXPECT_EQ(av[k], float(k - 2));
  const SafetensorsTensor* b = f->find("b.i64");
  ASSERT_NE(b, nullptr);
  int64_t bv[2];
  std::memcpy(bv, b->data, sizeof bv);
  EXPECT_EQ(bv[0], -3);
  EXPECT_EQ(bv[1], 4);
  const SafetensorsTensor* c = f->find("c.f16");
  ASSERT_NE(c, nullptr);
  uint16_t cv[3];
  std::memcpy(cv, c->data, sizeof cv);
  EXPECT_EQ(f16_to_f32(cv[0]), 0.5f);
  EXPECT_EQ(f16_to_f32(cv[2]), -2.0f);
  EXPECT_EQ(f->find("d.empty")->shape, (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(f->find("e.bool")->data[0], 1);
}

}  // namespace
}  // namespace seek
