// `seek tokenize` end to end, when the seek binary has been built next to this test (skipped otherwise).
#include <cstdio>

#include "formats/gguf.h"
#include "test_util.h"

namespace seek::test {
namespace {

// Runs a command; returns its exit status and standard output.
std::pair<int, std::string> run(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return {-1, ""};
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(CliTokenize, IdsPiecesCountAndErrors) {
  const std::string seek = std::string(SEEK_BINARY_DIR) + "/seek";
  if (!std::filesystem::exists(seek)) GTEST_SKIP() << "seek binary not built (ninja seek)";
  const std::string model = tokenizer_dir("deepseek-v3");
  SEEK_REQUIRE_FILE(model + "/tokenizer.json");
  EXPECT_EQ(run(seek + " tokenize -m '" + model + "' --text 'Hello world!'"), (std::pair<int, std::string>{0, "0 19923 2058 3\n"}));
  EXPECT_EQ(run(seek + " tokenize -m '" + model + "' --text 'Hello world!' --no-bos --pieces"),
            (std::pair<int, std::string>{0, "19923\tHello\n2058\t world\n3\t!\n"}));
  EXPECT_EQ(run(seek + " tokenize -m '" + model + "/tokenizer.json' --text '<｜User｜>' --special --count"),
            (std::pair<int, std::string>{0, "2\n"}));
  const auto missing = run(seek + " tokenize -m /nonexistent.gguf --text x");
  EXPECT_EQ(missing.first, 1);
  EXPECT_EQ(std::count(missing.second.begin(), missing.second.end(), '\n'), 1) << missing.second;
  EXPECT_EQ(run(seek + " tokenize -m '" + model + "'").first, 1);  // no text

  // The same tokenizer from a GGUF's tokenizer.ggml.* metadata.
  GgufWriter w;
  vocab_to_gguf(hf_tokenizer("deepseek-v3").vocab(), w);
  const std::string gguf = std::string(SEEK_BINARY_DIR) + "/cli-tokenize-test.gguf";
  ASSERT_TRUE(w.write(gguf).ok());
  EXPECT_EQ(run(seek + " tokenize -m '" + gguf + "' --text 'Hello world!'"), (std::pair<int, std::string>{0, "0 19923 2058 3\n"}));
  std::remove(gguf.c_str());
}

}  // namespace
}  // namespace seek::test
