// Runs the npm oracles under tools/tokenizer/ (after `npm ci --prefix tools/tokenizer`). Without node_modules the
// tests that need them skip locally and fail in CI (CI=true), so a CI that forgot `npm ci` cannot pass silently.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <filesystem>
#include <string>

namespace seek::test {

inline std::string tools_dir() { return std::string(SEEK_SOURCE_DIR) + "/tools/tokenizer"; }

inline bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

// Runs `node tools/tokenizer/<script> <args>` once per process and key; returns "" or why it failed.
inline std::string run_node_once(const std::string& script, const std::string& args) {
  static std::map<std::string, std::string> done;
  const std::string key = script + " " + args;
  if (auto it = done.find(key); it != done.end()) return it->second;
  // ctest runs tests in parallel processes that may ask for the same outputs at once: oracle.mjs serialises them
  // with its own lock directory (<out>.lock) and reuses finished outputs.
  const std::string cmd = "node '" + tools_dir() + "/" + script + "' " + args + " 1>&2";
  const int rc = std::system(cmd.c_str());
  return done[key] = rc == 0 ? "" : "command failed (exit " + std::to_string(rc) + "): " + cmd;
}

inline std::string oracle_dir() { return std::string(SEEK_BINARY_DIR) + "/tokenizer-oracle"; }

// Generates (or finds up to date) the oracle outputs under oracle_dir(); "" on success. Every test that reads
// them calls this first, so no test depends on another having run.
inline std::string ensure_oracle(const std::string& data_dir) {
  return run_node_once("oracle.mjs", "--data '" + data_dir + "' --out '" + oracle_dir() + "'");
}

}  // namespace seek::test

// Skips (locally) or fails (CI=true) when the npm packages are not installed.
#define SEEK_REQUIRE_NODE_MODULES()                                                                            \
  do {                                                                                                         \
    if (!std::filesystem::exists(seek::test::tools_dir() + "/node_modules/@lenml/tokenizers")) {               \
      const char* msg = "npm oracles not installed: run `npm ci --prefix tools/tokenizer` (needs node >= 20)"; \
      if (seek::test::in_ci()) FAIL() << msg;                                                                  \
      GTEST_SKIP() << msg;                                                                                     \
    }                                                                                                          \
  } while (0)
