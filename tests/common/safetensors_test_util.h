// Test helpers for safetensors: a test-only writer (the bytes of a file from a list of tensors, offsets assigned
// back to back as the reference writer does, or from a hand-written header for files that break the rules on
// purpose), temporary files and folders, and an assertion on error messages.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/safetensors.h"

namespace seek::test {

struct StTensor {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;  // the data, already in the dtype's little-endian layout
};

// 8-byte little-endian length, then the header, then the data.
inline std::vector<uint8_t> safetensors_from_header(const std::string& header, const std::vector<uint8_t>& data = {}) {
  const uint64_t n = header.size();
  std::vector<uint8_t> out;
  out.reserve(8 + header.size() + data.size());
  for (int k = 0; k < 8; ++k) out.push_back(uint8_t(n >> (8 * k)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

// `pad` adds spaces so that the data section starts at a multiple of 8, as the reference writer does; without it
// the data (and every tensor) starts wherever the header ends.
inline std::vector<uint8_t> safetensors_bytes(const std::vector<StTensor>& tensors,
                                              const std::vector<std::pair<std::string, std::string>>& metadata = {},
                                              bool pad = true) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) {
    nlohmann::json md = nlohmann::json::object();
    for (const auto& [k, v] : metadata) md[k] = v;
    header["__metadata__"] = md;
  }
  std::vector<uint8_t> data;
  for (const StTensor& t : tensors) {
    const uint64_t begin = data.size();
    data.insert(data.end(), t.bytes.begin(), t.bytes.end());
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {begin, uint64_t(data.size())}}};
  }
  std::string text = header.dump();
  if (pad) text.append((8 - (8 + text.size()) % 8) % 8, ' ');
  return safetensors_from_header(text, data);
}

// Little-endian bytes of an array of trivially copyable values (the hosts we run on are little-endian).
template <class T>
std::vector<uint8_t> le_bytes(const std::vector<T>& v) {
  std::vector<uint8_t> out(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());
  return out;
}

// Removes the old file first: rewriting it in place (O_TRUNC) makes ext4 flush it to disk on close, which turns a
// fuzz loop of thousands of rewrites from milliseconds into many seconds.
inline void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::remove(path.c_str());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

inline std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("seek_st_" + std::to_string(getpid()) + "_" + name)).string();
}

// A temporary model folder, removed with everything in it at the end of the test.
struct TempDir {
  std::string path;
  explicit TempDir(const std::string& name) : path(temp_path(name)) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (std::filesystem::path(path) / name).string(); }
};

// Writes `bytes` to a temporary file and parses it.
inline Result<SafetensorsFile> parse_bytes(const std::vector<uint8_t>& bytes, const std::string& name = "parse.safetensors") {
  const std::string p = temp_path(name);
  write_bytes(p, bytes);
  auto f = safetensors_open(p);
  std::remove(p.c_str());  // the mapping stays valid after unlink
  return f;
}

// Expects that `r` failed with a message holding every one of `parts`.
template <class T>
void expect_error(const Result<T>& r, std::initializer_list<std::string> parts, const std::string& what) {
  ASSERT_FALSE(r.ok()) << what << ": was accepted";
  for (const std::string& p : parts)
    EXPECT_NE(r.error().message.find(p), std::string::npos)
        << what << ": message lacks \"" << p << "\":\n  " << r.error().message;
}

}  // namespace seek::test
