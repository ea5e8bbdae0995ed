// seek quantize: writes a copy of a GGUF model with its weights in another type or llama.cpp's Q4_K_M mix.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "quant/model_quantize.h"

namespace seek::cli {

namespace {

std::string recipe_list() {
  std::string s;
  for (const std::string& n : quant_recipe_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

void print_usage(std::FILE* to) {
  std::fprintf(to,
               "usage: seek quantize IN.gguf OUT.gguf TYPE [--threads N] [--verbose]\n"
               "TYPE: %s\n"
               "  Q4_K_M   llama.cpp's mix: Q4_K, with Q6_K for the output head, for attn_kv_b and ffn_down in the\n"
               "           first and last eighth of the layers and every third layer between\n"
               "  others   that type for every tensor llama.cpp quantises (as llama-quantize --pure)\n"
               "Norms, biases, the router (ffn_gate_inp) and other 1-D tensors keep their type. Rows whose length the\n"
               "type cannot hold fall back as in llama.cpp (Q4_K -> Q5_0, Q6_K -> Q8_0, IQ4_XS -> IQ4_NL, ...).\n",
               recipe_list().c_str());
}

}  // namespace

void print_quantize_summary(const char* cmd, const QuantizeSummary& s, bool verbose) {
  std::map<std::string, int> by_type;
  for (const QuantizedTensor& t : s.tensors) {
    ++by_type[std::string(traits(t.to).name)];
    if (verbose)
      std::fprintf(stderr, "%-40s %-7s -> %-7s%s\n", t.name.c_str(), std::string(traits(t.from).name).c_str(),
                   std::string(traits(t.to).name).c_str(),
                   t.fallback ? (" (fallback from " + std::string(traits(t.wanted).name) + ")").c_str() : "");
  }
  std::string types;
  for (const auto& [name, n] : by_type) types += (types.empty() ? "" : ", ") + std::to_string(n) + " " + name;
  const double mib = 1024.0 * 1024.0;
  std::fprintf(stderr, "%s: %zu tensors (%s): %.2f MiB -> %.2f MiB (%.2f bits per weight)", cmd, s.tensors.size(),
               types.c_str(), double(s.bytes_in) / mib, double(s.bytes_out) / mib,
               s.n_elements ? 8.0 * double(s.bytes_out) / double(s.n_elements) : 0.0);
  if (s.n_fallback) std::fprintf(stderr, ", %d fell back", s.n_fallback);
  std::fprintf(stderr, "\n");
  if (s.n_requantised)
    std::fprintf(stderr, "%s: note: %d tensors were already quantised and lose precision again\n", cmd,
                 s.n_requantised);
}

int cmd_quantize(int argc, char** argv) {
  Args a("quantize", {"-t", "--threads"}, {"--verbose", "--help", "-h"});
  if (auto r = a.parse(argc, argv); !r) return usage_error("quantize", r.error().message);
  if (a.has("--help") || a.has("-h")) {
    print_usage(stdout);
    return 0;
  }
  if (a.positional().size() != 3) {
    print_usage(stderr);
    return 2;
  }
  const auto recipe = quant_recipe(a.positional()[2]);
  if (!recipe) return usage_error("quantize", "unknown TYPE '" + a.positional()[2] + "' (one of " + recipe_list() + ")");
  auto threads = a.integer(a.has("-t") ? "-t" : "--threads", 1, 1, 1024);
  if (!threads) return usage_error("quantize", threads.error().message);

  Progress progress("quantizing to " + a.positional()[1]);
  auto s = quantize_model(a.positional()[0], a.positional()[1], *recipe, int(*threads),
                          [&](uint64_t done, uint64_t total) { progress.update(done, total); });
  progress.done();
  if (!s) return fail("quantize", s.error().message);
  if (a.has("--verbose") || !std::getenv("SEEK_QUIET")) print_quantize_summary("quantize", *s, a.has("--verbose"));
  return 0;
}

}  // namespace seek::cli
