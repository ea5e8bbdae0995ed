// safetensors model folders: a single model.safetensors, or model.safetensors.index.json and its shards, with the
// index checked both ways against the shards (missing shard, names outside the folder, tensor in the wrong shard,
// in two shards or in none, duplicate entries).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../common/safetensors_test_util.h"

namespace seek {
namespace {

using test::expect_error;
using test::le_bytes;
using test::safetensors_bytes;
using test::StTensor;
using test::TempDir;
using test::write_bytes;

StTensor u8(const std::string& name, std::vector<uint8_t> values) {
  const int64_t n = int64_t(values.size());
  return {name, "U8", {n}, std::move(values)};
}

void write_text(const std::string& path, const std::string& text) {
  write_bytes(path, std::vector<uint8_t>(text.begin(), text.end()));
}

// An index in Hugging Face's layout: {"metadata": {...}, "weight_map": {name: shard, ...}}.
std::string index_json(const std::vector<std::pair<std::string, std::string>>& weight_map) {
  std::string s = R"({"metadata": {"total_size": 0}, "weight_map": {)";
  for (size_t k = 0; k < weight_map.size(); ++k)
    s += (k ? ", " : "") + nlohmann::json(weight_map[k].first).dump() + ": " + nlohmann::json(weight_map[k].second).dump();
  return s + "}}";
}

const char* kShard1 = "model-00001-of-00002.safetensors";
const char* kShard2 = "model-00002-of-00002.safetensors";

// Two shards: a, b in the first; c (F32) in the second.
void write_two_shards(const TempDir& d) {
  write_bytes(d.file(kShard1), safetensors_bytes({u8("a", {1, 2}), u8("b", {3})}));
  write_bytes(d.file(kShard2), safetensors_bytes({{"c", "F32", {1, 2}, le_bytes<float>({0.5f, 4.0f})}}));
}

TEST(SafetensorsDir, OpensShardsThroughTheIndex) {
  TempDir d("dir_ok");
  write_two_shards(d);
  write_text(d.file("model.safetensors.index.json"), index_json({{"c", kShard2}, {"a", kShard1}, {"b", kShard1}}));
  auto set = safetensors_open_dir(d.path);
  ASSERT_TRUE(set.ok()) << set.error().message;
  ASSERT_EQ(set->shards.size(), 2u);
  EXPECT_EQ(set->shards[0].path, d.file(kShard1));  // file name order
  EXPECT_EQ(set->size(), 3u);
  const SafetensorsTensor* c = set->find("c");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->shape, (std::vector<int64_t>{1, 2}));
  float v[2];
  std::memcpy(v, c->data, sizeof v);
  EXPECT_EQ(v[1], 4.0f);
  EXPECT_EQ(set->find("b")->data[0], 3);
  EXPECT_EQ(set->find("nope"), nullptr);
  std::vector<std::string> names;
  for (const SafetensorsTensor* t : set->all()) names.push_back(t->name);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(SafetensorsDir, OpensASingleFileWithoutIndex) {
  TempDir d("dir_single");
  write_bytes(d.file("model.safetensors"), safetensors_bytes({u8("x", {7}), u8("y", {8, 9})}, {{"format", "pt"}}));
  auto set = safetensors_open_dir(d.path);
  ASSERT_TRUE(set.ok()) << set.error().message;
  ASSERT_EQ(set->shards.size(), 1u);
  EXPECT_EQ(set->find("y")->data[1], 9);
  EXPECT_EQ(set->all().size(), 2u);
  EXPECT_EQ(set->shards[0].metadata.size(), 1u);
}

TEST(SafetensorsDir, AFolderWithoutWeightsOrAFileIsAnError) {
  TempDir d("dir_empty");
  expect_error(safetensors_open_dir(d.path), {d.path, "model.safetensors.index.json", "model.safetensors"}, "empty");
  write_text(d.file("plain"), "x");
  expect_error(safetensors_open_dir(d.file("plain")), {"not a directory"}, "a file");
  // A broken single file reports its own path and the field.
  write_bytes(d.file("model.safetensors"), {1, 2, 3});
  expect_error(safetensors_open_dir(d.path), {d.file("model.safetensors"), "header length"}, "broken single file");
}

struct BadIndex {
  const char* what;
  std::string index;
  std::vector<std::string> expect;
};

TEST(SafetensorsDir, IndexErrorsNameTheTensorAndShard) {
  const std::string dup = R"({"weight_map": {"a": ")" + std::string(kShard1) + R"(", "b": ")" + kShard1 +
                          R"(", "a": ")" + kShard1 + R"(", "c": ")" + kShard2 + R"("}})";
  const std::vector<BadIndex> cases = {
      {"missing shard", index_json({{"a", kShard1}, {"b", kShard1}, {"c", "model-00003.safetensors"}}),
       {"weight_map", "shard \"model-00003.safetensors\"", "tensor \"c\"", "cannot open"}},
      {"parent directory", index_json({{"a", kShard1}, {"b", kShard1}, {"c", "../model-00002-of-00002.safetensors"}}),
       {"tensor \"c\"", "not a plain file name"}},
      {"absolute path", index_json({{"a", kShard1}, {"b", kShard1}, {"c", "/etc/passwd"}}), {"tensor \"c\"", "not a plain file name"}},
      {"subfolder", index_json({{"a", kShard1}, {"b", kShard1}, {"c", "sub/x.safetensors"}}), {"tensor \"c\"", "not a plain file name"}},
      {"backslash", index_json({{"a", kShard1}, {"b", kShard1}, {"c", "..\\x.safetensors"}}), {"tensor \"c\"", "not a plain file name"}},
      {"dot", index_json({{"a", kShard1}, {"b", kShard1}, {"c", "."}}), {"tensor \"c\"", "not a plain file name"}},
      {"empty name", index_json({{"a", kShard1}, {"b", kShard1}, {"c", ""}}), {"tensor \"c\"", "not a plain file name"}},
      {"NUL in name", R"({"weight_map": {"c": "model\u0000.safetensors"}})", {"tensor \"c\"", "not a plain file name"}},
      {"tensor in the wrong shard", index_json({{"a", kShard1}, {"b", kShard2}, {"c", kShard2}}),
       {"shard \"model-00001-of-00002.safetensors\" holds tensor \"b\"", "lists under shard \"model-00002-of-00002.safetensors\""}},
      {"tensor not in the index", index_json({{"a", kShard1}, {"c", kShard2}}), {"holds tensor \"b\"", "does not list"}},
      {"listed tensor absent", index_json({{"a", kShard1}, {"b", kShard1}, {"c", kShard2}, {"d", kShard2}}),
       {"tensor \"d\"", "model-00002-of-00002.safetensors", "does not hold it"}},
      {"duplicate entry", dup, {"key \"a\" appears twice"}},
      {"no weight_map", R"({"metadata": {}})", {"weight_map", "missing"}},
      {"weight_map not an object", R"({"weight_map": ["a"]})", {"weight_map", "expected an object"}},
      {"weight_map empty", R"({"weight_map": {}})", {"weight_map", "lists no tensors"}},
      {"shard name not a string", R"({"weight_map": {"a": 1}})", {"tensor \"a\"", "expected a shard file name"}},
      {"not JSON", R"({"weight_map": )", {"offset 15", "index", "invalid JSON"}},
      {"not an object", R"("weight_map")", {"expected a JSON object"}},
      {"deep nesting", R"({"metadata": )" + std::string(100000, '['), {"offset 76", "nested deeper than 64"}},
  };
  for (const BadIndex& c : cases) {
    SCOPED_TRACE(c.what);
    TempDir d("dir_bad");
    write_two_shards(d);
    const std::string index_path = d.file("model.safetensors.index.json");
    write_text(index_path, c.index);
    auto set = safetensors_open_dir(d.path);
    ASSERT_FALSE(set.ok()) << c.what << ": was accepted";
    EXPECT_NE(set.error().message.find(index_path), std::string::npos) << set.error().message;
    for (const std::string& part : c.expect)
      EXPECT_NE(set.error().message.find(part), std::string::npos)
          << c.what << ": message lacks \"" << part << "\":\n  " << set.error().message;
  }
}

TEST(SafetensorsDir, TensorInTwoShardsIsAnError) {
  TempDir d("dir_twice");
  write_bytes(d.file(kShard1), safetensors_bytes({u8("a", {1}), u8("b", {2})}));
  write_bytes(d.file(kShard2), safetensors_bytes({u8("b", {2}), u8("c", {3})}));
  write_text(d.file("model.safetensors.index.json"), index_json({{"a", kShard1}, {"b", kShard1}, {"c", kShard2}}));
  expect_error(safetensors_open_dir(d.path),
               {"shard \"model-00002-of-00002.safetensors\" holds tensor \"b\"",
                "lists under shard \"model-00001-of-00002.safetensors\""},
               "b in both shards");
}

TEST(SafetensorsDir, ABrokenShardNamesItsPathAndField) {
  TempDir d("dir_broken");
  write_two_shards(d);
  auto bytes = safetensors_bytes({u8("c", {1, 2})});
  bytes.pop_back();  // the data section is one byte short
  write_bytes(d.file(kShard2), bytes);
  write_text(d.file("model.safetensors.index.json"), index_json({{"a", kShard1}, {"b", kShard1}, {"c", kShard2}}));
  expect_error(safetensors_open_dir(d.path), {d.file(kShard2), "tensor \"c\"", "data_offsets"}, "short shard");
}

}  // namespace
}  // namespace seek
