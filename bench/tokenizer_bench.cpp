// Tokenizer speed: encodes a ~10 MB mixed corpus (prose, many scripts, code, numbers, emoji) in ~4 KB chunks and
// reports MB/s next to transformers.js (@lenml/tokenizer-*, run by tools/tokenizer/bench.mjs on the same text in the
// same run). Goal: >= 20 MB/s single-threaded and >= 10x the JavaScript implementation.
//
//   tokenizer_bench [--variant deepseek-v3|qwen2.5|llama3.1] [--no-js] [benchmark flags]
// (all three families by default; --no-js skips the JavaScript measurement and its ~10 s per family)
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace {

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Chunks of about `size` bytes cut after a newline (the same cut as bench.mjs, which counts UTF-16 units: chunk
// sizes differ slightly for non-ASCII text, which does not matter for throughput).
std::vector<std::string_view> chunks(std::string_view text, size_t size) {
  std::vector<std::string_view> out;
  for (size_t at = 0; at < text.size();) {
    size_t end = std::min(text.size(), at + size);
    const size_t nl = text.find('\n', end);
    end = nl == std::string_view::npos ? text.size() : nl + 1;
    out.push_back(text.substr(at, end - at));
    at = end;
  }
  return out;
}

// Runs bench.mjs; returns the JS MB/s (0 when node or the packages are unavailable) and leaves corpus.txt in out.
double run_js(const std::string& variant, const std::string& out) {
  const std::string tools = std::string(SEEK_SOURCE_DIR) + "/tools/tokenizer";
  if (!std::filesystem::exists(tools + "/node_modules/@lenml/tokenizers")) return 0;
  const std::string cmd = "node '" + tools + "/bench.mjs' --data '" + SEEK_SOURCE_DIR + "/../shared/data' --out '" +
                          out + "' --variant " + variant;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return 0;
  char line[512] = {};
  std::string all;
  while (fgets(line, sizeof line, p)) all += line;
  pclose(p);
  const size_t at = all.find("\"mb_per_s\":");
  return at == std::string::npos ? 0 : std::atof(all.c_str() + at + 11);
}

}  // namespace

// One benchmark per tokenizer family: the seek tokenizer from shared/data, and transformers.js on the same corpus.
struct Family {
  std::string name;  // shared/data/tokenizers/<name> and the bench.mjs variant
  double js_mb_s = 0;
  std::unique_ptr<seek::Tokenizer> tok;
};

int main(int argc, char** argv) {
  std::vector<std::string> names = {"deepseek-v3", "qwen2.5", "llama3.1"};
  bool js = true;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--variant" && i + 1 < argc) names = {argv[++i]};
    else if (a == "--no-js") js = false;
    else rest.push_back(argv[i]);
  }
  const std::string data = std::string(SEEK_SOURCE_DIR) + "/../shared/data";
  const std::string out = std::filesystem::temp_directory_path() / "seek-tokenizer-bench";
  std::filesystem::create_directories(out);
  std::vector<Family> families;
  for (const std::string& name : names) {
    Family f{name, js ? run_js(name, out) : 0, nullptr};
    const std::string dir = data + "/tokenizers/" + name;
    auto vocab = seek::vocab_from_hf_json(dir + "/tokenizer.json", dir + "/tokenizer_config.json");
    if (!vocab) {
      std::fprintf(stderr, "tokenizer_bench: %s\n", vocab.error().message.c_str());
      return 1;
    }
    auto tok = seek::Tokenizer::create(std::move(vocab.value()));
    if (!tok) {
      std::fprintf(stderr, "tokenizer_bench: %s\n", tok.error().message.c_str());
      return 1;
    }
    f.tok = std::make_unique<seek::Tokenizer>(std::move(tok.value()));
    families.push_back(std::move(f));
  }
  std::string text = read_all(out + "/corpus.txt");  // written by bench.mjs (the same for every family)
  if (text.empty()) {  // no node: the public-domain prose alone
    for (const char* f : {"war-and-peace.txt", "jargon-file-4.4.7.txt", "devils-dictionary.dict.txt"}) {
      text += read_all(data + "/corpora/" + f);
    }
  }
  if (text.empty()) {
    std::fprintf(stderr, "tokenizer_bench: no corpus (shared/data/corpora missing)\n");
    return 1;
  }
  const auto parts = chunks(text, 4096);
  std::printf("corpus: %.2f MB in %zu chunks\n", double(text.size()) / 1e6, parts.size());
  for (const Family& f : families) {
    std::printf("transformers.js %-12s %.2f MB/s%s\n", f.name.c_str(), f.js_mb_s, f.js_mb_s == 0 ? " (not measured)" : "");
  }

  for (const Family& f : families) {
    benchmark::RegisterBenchmark(("encode/" + f.name).c_str(), [&](benchmark::State& state) {
      size_t tokens = 0;
      std::vector<int32_t> ids;
      for (auto _ : state) {
        for (std::string_view p : parts) {
          ids.clear();
          f.tok->encode_into(p, true, ids);
          tokens += ids.size();
        }
      }
      const double mb = double(text.size()) / 1e6 * double(state.iterations());
      state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(text.size()));
      state.counters["MB/s"] = benchmark::Counter(mb, benchmark::Counter::kIsRate);
      state.counters["tokens/s"] = benchmark::Counter(double(tokens), benchmark::Counter::kIsRate);
      state.counters["js_MB/s"] = f.js_mb_s;
      // seek's rate over JavaScript's (this run's CPU time, one thread).
      state.counters["x_js"] = benchmark::Counter(f.js_mb_s > 0 ? mb / f.js_mb_s : 0, benchmark::Counter::kIsRate);
    })->Unit(benchmark::kMillisecond)->MinTime(2.0);
  }

  int bargc = int(rest.size());
  benchmark::Initialize(&bargc, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
