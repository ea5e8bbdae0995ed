// seek convert: a Hugging Face model folder (config.json, safetensors shards in FP8, BF16, F16 or F32,
// tokenizer.json) written as one GGUF file in llama.cpp's conventions, in the chosen type.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "model/convert.h"
#include "quant/recipe.h"

namespace seek::cli {

void print_quantize_summary(const char* cmd, const QuantizeSummary& s, bool verbose);  // cmd_quantize.cpp

namespace {

void print_usage(std::FILE* to) {
  std::string types;
  for (const std::string& n : quant_recipe_names()) types += (types.empty() ? "" : ", ") + n;
  std::fprintf(to,
               "usage: seek convert HF_DIR OUT.gguf [--type TYPE] [--threads N] [--verbose]\n"
               "Writes the model in HF_DIR (DeepseekV3/V2, Qwen2 or Llama: config.json, model.safetensors or\n"
               "model.safetensors.index.json and its shards, tokenizer.json, tokenizer_config.json) as a GGUF that\n"
               "llama.cpp reads: deepseek2 with attn_k_b/attn_v_b and the MTP layer kept, experts stacked, Llama\n"
               "q/k rows permuted. FP8 weights are dequantised with their 128x128 block scales.\n"
               "TYPE (default BF16): %s.\n"
               "Norms, biases and the router are written as f32, as llama.cpp's converter does.\n",
               types.c_str());
}

}  // namespace

int cmd_convert(int argc, char** argv) {
  Args a("convert", {"--type", "-t", "--threads"}, {"--verbose", "--help", "-h"});
  if (auto r = a.parse(argc, argv); !r) return usage_error("convert", r.error().message);
  if (a.has("--help") || a.has("-h")) {
    print_usage(stdout);
    return 0;
  }
  if (a.positional().size() != 2) {
    print_usage(stderr);
    return 2;
  }
  const std::string type = a.str("--type").value_or("BF16");
  const auto recipe = quant_recipe(type);
  if (!recipe) return usage_error("convert", "unknown --type '" + type + "'");
  auto threads = a.integer(a.has("-t") ? "-t" : "--threads", 2, 1, 1024);
  if (!threads) return usage_error("convert", threads.error().message);

  Progress progress("converting to " + a.positional()[1]);
  auto s = convert_model(a.positional()[0], a.positional()[1], *recipe, int(*threads),
                         [&](uint64_t done, uint64_t total) { progress.update(done, total); });
  progress.done();
  if (!s) return fail("convert", s.error().message);
  if (a.has("--verbose") || !std::getenv("SEEK_QUIET")) print_quantize_summary("convert", *s, a.has("--verbose"));
  return 0;
}

}  // namespace seek::cli
