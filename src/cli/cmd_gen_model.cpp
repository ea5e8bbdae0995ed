// seek gen-model: writes a deterministic random-weight test model of a named configuration.
#include <cstdio>
#include <optional>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "model/deepseek/synthetic.h"
#include "model/llama/synthetic.h"
#include "tokenizer/vocab.h"

namespace seek::cli {

int cmd_gen_model(int argc, char** argv) {
  Args a("gen-model", {"--type", "--seed", "--layout", "--vocab"}, {"--list", "--help", "-h"});
  if (auto r = a.parse(argc, argv); !r) return usage_error("gen-model", r.error().message);
  if (a.has("--help") || a.has("-h") || a.has("--list") || a.positional().size() != 2) {
    std::fprintf(a.has("--help") || a.has("--list") ? stdout : stderr,
                 "usage: seek gen-model PRESET OUT.gguf [--type f32|f16|bf16|q8_0] [--seed N] [--layout split|kv_b]\n"
                 "                      [--vocab TOKENIZER]   (a tokenizer.json, a folder holding one, or a .gguf: the\n"
                 "                      model's tokenizer instead of the small synthetic one)\n"
                 "presets:");
    for (const auto& p : synthetic_presets()) std::fprintf(a.has("--help") || a.has("--list") ? stdout : stderr, " %s", p.c_str());
    for (const auto& p : llama_synthetic_presets()) std::fprintf(a.has("--help") || a.has("--list") ? stdout : stderr, " %s", p.c_str());
    std::fprintf(a.has("--help") || a.has("--list") ? stdout : stderr, "\n");
    return a.has("--help") || a.has("-h") || a.has("--list") ? 0 : 2;
  }
  // Options shared by both families.
  std::optional<GgmlType> type;
  if (auto t = a.str("--type")) {
    type = type_from_name(*t);
    if (!type || !(*type == GgmlType::F32 || *type == GgmlType::F16 || *type == GgmlType::BF16 || *type == GgmlType::Q8_0))
      return usage_error("gen-model", "--type must be f32, f16, bf16 or q8_0, got '" + *t + "'");
  }
  auto seed = a.integer("--seed", 1, 0, (1ll << 62));
  if (!seed) return usage_error("gen-model", seed.error().message);
  // A real tokenizer (--vocab): the model's prompts are then as many tokens as on the model it comes from.
  std::optional<Vocab> vocab;
  if (auto path = a.str("--vocab")) {
    auto v = vocab_from_path(*path);
    if (!v) return fail("gen-model", "--vocab: " + v.error().message);
    vocab = std::move(*v);
  }
  Progress progress("writing " + a.positional()[1]);
  auto show = [&](uint64_t done, uint64_t total) { progress.update(done, total); };

  if (auto ls = llama_synthetic_preset(a.positional()[0])) {
    if (type) ls->type = *type;
    ls->seed = uint64_t(*seed);
    ls->vocab = std::move(vocab);
    if (a.has("--layout")) return usage_error("gen-model", "--layout applies to the DeepSeek presets only");
    auto r = write_synthetic_llama(*ls, a.positional()[1], show);
    progress.done();
    return r ? 0 : fail("gen-model", r.error().message);
  }
  auto spec = synthetic_preset(a.positional()[0]);
  if (!spec) return usage_error("gen-model", "unknown preset '" + a.positional()[0] + "' (see --list)");
  if (type) spec->type = *type;
  spec->seed = uint64_t(*seed);
  spec->vocab = std::move(vocab);
  if (auto l = a.str("--layout")) {
    if (*l != "split" && *l != "kv_b") return usage_error("gen-model", "--layout must be split or kv_b");
    spec->split_mla = *l == "split";
  }
  auto r = write_synthetic_deepseek(*spec, a.positional()[1], show);
  progress.done();
  if (!r) return fail("gen-model", r.error().message);
  return 0;
}

}  // namespace seek::cli
