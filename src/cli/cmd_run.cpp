// seek run: streams the continuation of a prompt to stdout; load time and speeds go to stderr. With --json it
// prints one JSON object instead (generated ids, text, prompt ids, timings).
#include <chrono>
#include <optional>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/common.h"
#include "core/memory_stats.h"
#include "cli/commands.h"
#include "engine/sampler.h"
#include "engine/session.h"

namespace seek::cli {

namespace {

constexpr const char* kHelp =
    "usage: seek run [-m MODEL] (-p PROMPT | --tokens ID,ID,...) [options]\n"
    "  -m, --model PATH    GGUF model (default: the embedded model)\n"
    "  -p, --prompt TEXT   prompt text (BOS added as the model's tokenizer says)\n"
    "  --tokens IDS        prompt as comma-separated token ids, used as given\n"
    "  -n, --n-predict N   tokens to generate (default 128)\n"
    "  --temp T            temperature; 0 = greedy (default 0.8)\n"
    "  --top-p P           nucleus sampling threshold (default 0.95)\n"
    "  --top-k K           keep the K most likely tokens, 0 = all (default 40)\n"
    "  --seed S            sampling seed (default 0)\n"
    "  -c, --ctx N         context size (default: min(4096, training context))\n"
    "  -t, --threads N     threads (default: all cores)\n"
    "  --ignore-eos        keep generating after end-of-sequence\n"
    "  --json              print one JSON object instead of streaming text\n"
    "  --logits            with --json: add the logits of the prompt's last position (for testing)\n"
    "  --kernels auto|ref|avx2|avx512  kernel table (default auto: the best this CPU runs; ref: scalar)\n"
    "  --mla auto|absorbed|expanded|naive  attention form: absorbed MLA, prefill chunks expanded per head (MHA)\n                      where cheaper (auto, the default), never (absorbed), always (expanded); naive is the reference\n"
    "  --f32-activations   multiply 8-bit weights with f32 activations instead of 8-bit ones (slower)\n"
    "  --no-repack         keep Q8_0 weights as stored rather than as integer-GEMM panels (see docs/ARCHITECTURE.md)\n";

Result<std::vector<int32_t>> parse_ids(const std::string& s) {
  std::vector<int32_t> ids;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end || v < 0 || v > INT32_MAX) return err("--tokens: '%s' is not a token id", item.c_str());
    ids.push_back(int32_t(v));
  }
  if (ids.empty()) return err("--tokens: no token ids given");
  return ids;
}

}  // namespace

int cmd_run(int argc, char** argv) {
  auto flags = common_value_flags();
  flags.insert(flags.end(), {"-p", "--prompt", "--tokens", "-n", "--n-predict", "--temp", "--top-p", "--top-k",
                             "--seed", "-c", "--ctx"});
  auto switches = common_switches();
  switches.insert(switches.end(), {"--json", "--logits", "--ignore-eos"});
  Args a("run", flags, switches);
  if (auto r = a.parse(argc, argv); !r) return usage_error("run", r.error().message);
  if (a.has("--help") || a.has("-h")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (!a.positional().empty()) return usage_error("run", "unexpected argument '" + a.positional()[0] + "'");
  auto prompt = a.str("-p") ? a.str("-p") : a.str("--prompt");
  auto ids_arg = a.str("--tokens");
  if (!prompt && !ids_arg) return usage_error("run", "give a prompt with -p TEXT (or --tokens IDS)");
  auto n_predict = a.integer(a.has("--n-predict") ? "--n-predict" : "-n", 128, 0, 1 << 24);
  auto temp = a.number("--temp", 0.8, 0.0, 100.0);
  auto top_p = a.number("--top-p", 0.95, 0.0, 1.0);
  auto top_k = a.integer("--top-k", 40, 0, 1 << 30);
  auto seed = a.integer("--seed", 0, 0, INT64_MAX);
  for (auto* r : {&n_predict, &top_k, &seed})
    if (!*r) return usage_error("run", r->error().message);
  for (auto* r : {&temp, &top_p})
    if (!*r) return usage_error("run", r->error().message);

  // With --tokens the model runs even when seek cannot read its vocabulary (e.g. SentencePiece files): the ids
  // are printed, the text stays empty.
  auto loaded = load_model_and_tokenizer(model_arg(a), !ids_arg);
  const int64_t rss_after_load = resident_bytes();
  if (!loaded) return fail("run", loaded.error().message);
  Model& model = *loaded->model;
  const Tokenizer* tok = loaded->tokenizer ? &*loaded->tokenizer : nullptr;
  auto threads = apply_common_options(a, &model, &loaded->load_ms);
  if (!threads) return usage_error("run", threads.error().message);
  auto n_ctx = a.integer(a.has("--ctx") ? "--ctx" : "-c", std::min<long long>(4096, model.n_ctx_train()), 1,
                         model.n_ctx_train());
  if (!n_ctx) return usage_error("run", n_ctx.error().message);
  if (auto r = check_kv_memory(model, 1, *n_ctx, "-c/--ctx"); !r) return usage_error("run", r.error().message);

  std::vector<int32_t> prompt_ids;
  if (ids_arg) {
    auto ids = parse_ids(*ids_arg);
    if (!ids) return usage_error("run", ids.error().message);
    prompt_ids = std::move(*ids);
  } else {
    prompt_ids = tok->encode(*prompt, tok->add_bos(), false);
  }
  if (prompt_ids.empty()) return usage_error("run", "the prompt is empty");
  const bool json = a.has("--json");

  ThreadPool pool(*threads);
  Session session(model, pool, *n_ctx);
  Sampler sampler({float(*temp), float(*top_p), int(*top_k), uint64_t(*seed)});
  std::vector<float> logits;
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  if (auto r = session.eval(prompt_ids, false, logits); !r) return fail("run", r.error().message);
  const auto t1 = clock::now();
  const std::vector<float> prompt_logits = a.has("--logits") ? logits : std::vector<float>{};

  std::vector<int32_t> out;
  std::string text;
  std::optional<StreamDecoder> decoder;
  if (tok) decoder.emplace(*tok);
  const int32_t eos = tok ? tok->eos() : -1;
  std::string stop_reason = "length";
  for (long long i = 0; i < *n_predict; ++i) {
    const int32_t id = sampler.sample(logits.data(), model.n_vocab());
    if (id == eos && !a.has("--ignore-eos")) {
      stop_reason = "eos";
      break;
    }
    out.push_back(id);
    const std::string piece = decoder ? decoder->push(id) : std::string();
    text += piece;
    if (!json) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    }
    if (i + 1 == *n_predict) break;
    if (session.n_past() >= session.n_ctx()) {
      stop_reason = "context";
      break;
    }
    if (auto r = session.eval({id}, false, logits); !r) return fail("run", r.error().message);
  }
  const std::string tail = decoder ? decoder->flush() : std::string();
  text += tail;
  const auto t2 = clock::now();

  const double prompt_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  const double gen_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
  const double pp_tps = prompt_ids.size() / (prompt_ms / 1000.0);
  const double tg_tps = out.size() > 1 ? (out.size() - 1) / (gen_ms / 1000.0) : 0.0;
  if (json) {
    nlohmann::json j;
    j["tokens"] = out;
    j["text"] = text;
    j["prompt_tokens"] = prompt_ids;
    j["stop_reason"] = stop_reason;
    if (a.has("--logits")) j["prompt_logits"] = prompt_logits;
    j["timings"] = {{"load_ms", loaded->load_ms}, {"prompt_ms", prompt_ms}, {"prompt_tokens_per_s", pp_tps},
                    {"generation_ms", gen_ms}, {"generation_tokens_per_s", tg_tps}, {"threads", *threads}};
    // Resident memory against what the forward pass reads (weights are mapped, so pages count once touched).
    j["memory"] = {{"rss_after_load_bytes", rss_after_load}, {"rss_end_bytes", resident_bytes()},
                   {"rss_peak_bytes", peak_resident_bytes()}, {"weight_bytes", loaded->model->weight_bytes()}};
    std::puts(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::fwrite(tail.data(), 1, tail.size(), stdout);
    std::fputc('\n', stdout);
    std::fprintf(stderr, "\nload: %.0f ms | prompt: %zu tokens, %.1f tok/s | generation: %zu tokens, %.1f tok/s | %d threads\n",
                 loaded->load_ms, prompt_ids.size(), pp_tps, out.size(), tg_tps, *threads);
  }
  return 0;
}

}  // namespace seek::cli
