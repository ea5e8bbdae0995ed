// Helpers shared by the tokenizer tests: where the shared test data lives, cached tokenizers, printing ids.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace seek::test {

// ../shared/data beside the repository.
inline std::string data_dir() { return std::string(SEEK_SOURCE_DIR) + "/../shared/data"; }
inline std::string tokenizer_dir(const std::string& name) { return data_dir() + "/tokenizers/" + name; }

inline std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Skips the test when a data file is absent (a checkout without shared/data).
#define SEEK_REQUIRE_FILE(path)                                                                        \
  do {                                                                                                 \
    if (!std::filesystem::exists(path))                                                                \
      GTEST_SKIP() << "test data not found: " << (path) << " (expected shared/data beside the repo)"; \
  } while (0)

// The tokenizer of shared/data/tokenizers/<name> (tokenizer.json + tokenizer_config.json), loaded once per process.
inline const Tokenizer& hf_tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& slot = cache[name];
  if (!slot) {
    const std::string dir = tokenizer_dir(name);
    auto vocab = vocab_from_hf_json(dir + "/tokenizer.json", dir + "/tokenizer_config.json");
    if (!vocab) throw std::runtime_error(vocab.error().message);
    auto tok = Tokenizer::create(std::move(vocab.value()));
    if (!tok) throw std::runtime_error(tok.error().message);
    slot = std::make_unique<Tokenizer>(std::move(tok.value()));
  }
  return *slot;
}

inline std::string ids_str(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) {
    if (!s.empty()) s += ' ';
    s += std::to_string(id);
  }
  return s;
}

// Printable form of a test string (escapes control characters) for failure messages.
inline std::string shown(const std::string& s, size_t max = 120) {
  std::string out;
  for (unsigned char c : s.substr(0, max)) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20) out += "\\x" + std::string(1, "0123456789abcdef"[c >> 4]) + "0123456789abcdef"[c & 15];
    else out += char(c);
  }
  return s.size() > max ? out + "..." : out;
}

}  // namespace seek::test
