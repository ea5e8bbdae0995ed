// seek chat: a conversation with a model in the terminal (or, without one, over stdin/stdout for scripts). The
// model runs in the same engine as seek serve, with one sequence: each turn reuses the cached conversation.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <pthread.h>

#include "cli/common.h"
#include "cli/commands.h"
#include "server/chat_repl.h"
#include "server/engine.h"
#include "server/prompt.h"

namespace seek::cli {

namespace {

constexpr const char* kHelp =
    "usage: seek chat [-m MODEL] [options]\n"
    "  -m, --model PATH       GGUF model (default: the embedded model)\n"
    "  --system TEXT          system prompt\n"
    "  --load FILE            start from a saved conversation (/save writes one)\n"
    "  -n, --n-predict N      longest reply in tokens (default: what the context allows)\n"
    "  --temp T               temperature (default 0.6; 0 = greedy)\n"
    "  --top-p P              nucleus sampling threshold (default 0.95)\n"
    "  --top-k K              keep the K most likely tokens, 0 = all (default 40)\n"
    "  --seed S               sampling seed (default: random)\n"
    "  -c, --ctx N            context size (default: min(4096, training context))\n"
    "  --chat-template NAME   deepseek-v3 or deepseek-r1 (default: recognised from the model file, else v3)\n"
    "  --hide-reasoning       start with R1's reasoning hidden (/think toggles it)\n"
    "  --no-color             no ANSI colours\n"
    "  -t, --threads N        threads (default: all cores)\n"
    "  --kernels auto|ref|avx2|avx512, --mla auto|absorbed|expanded|naive, --no-repack  as for seek run\n"
    "On a terminal: type a message and Enter; end a line with \\ to go on, or put text between lines of \"\"\".\n"
    "Commands: /reset /system TEXT /save FILE /load FILE /think /help /exit. Ctrl-C stops a reply.\n"
    "Without a terminal: each input line is a user message (or the input is a JSON conversation), and the replies\n"
    "are written as plain text.\n";

}  // namespace

int cmd_chat(int argc, char** argv) {
  auto flags = common_value_flags();
  flags.insert(flags.end(), {"--system", "--load", "-n", "--n-predict", "--temp", "--top-p", "--top-k", "--seed",
                             "-c", "--ctx", "--chat-template"});
  Args a("chat", flags, {"--hide-reasoning", "--no-color", "--help", "-h"});
  if (auto r = a.parse(argc, argv); !r) return usage_error("chat", r.error().message);
  if (a.has("--help") || a.has("-h")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (!a.positional().empty()) return usage_error("chat", "unexpected argument '" + a.positional()[0] + "'");
  auto n_predict = a.integer(a.has("--n-predict") ? "--n-predict" : "-n", 0, 0, 1 << 24);
  auto temp = a.number("--temp", 0.6, 0.0, 100.0);
  auto top_p = a.number("--top-p", 0.95, 0.0, 1.0);
  auto top_k = a.integer("--top-k", 40, 0, 1 << 30);
  auto seed = a.integer("--seed", -1, -1, INT64_MAX);
  for (auto* r : {&n_predict, &top_k, &seed})
    if (!*r) return usage_error("chat", r->error().message);
  for (auto* r : {&temp, &top_p})
    if (!*r) return usage_error("chat", r->error().message);

  auto loaded = load_model_and_tokenizer(model_arg(a), true);
  if (!loaded) return fail("chat", loaded.error().message);
  auto threads = apply_common_options(a, loaded->model.get(), &loaded->load_ms);
  if (!threads) return usage_error("chat", threads.error().message);
  const Model& model = *loaded->model;
  auto n_ctx = a.integer(a.has("--ctx") ? "--ctx" : "-c", std::min<long long>(4096, model.n_ctx_train()), 16,
                         model.n_ctx_train());
  if (!n_ctx) return usage_error("chat", n_ctx.error().message);
  if (auto r = check_kv_memory(model, 1, *n_ctx, "-c/--ctx"); !r) return usage_error("chat", r.error().message);
  auto tmpl = server::choose_chat_template(a.str("--chat-template").value_or(""), *loaded->tokenizer);
  if (!tmpl) return fail("chat", tmpl.error().message);

  server::ChatOptions co;
  co.sampling.temperature = float(*temp);
  co.sampling.top_p = float(*top_p);
  co.sampling.top_k = int(*top_k);
  if (*seed >= 0) co.sampling.seed = uint64_t(*seed);
  co.max_reply_tokens = *n_predict;
  co.interactive = isatty(0) && isatty(1);
  co.color = co.interactive && !a.has("--no-color") && !std::getenv("NO_COLOR");
  co.show_reasoning = !a.has("--hide-reasoning");
  co.system = a.str("--system").value_or("");
  co.load = a.str("--load").value_or("");

  server::EngineOptions eo;
  eo.parallel = 1;
  eo.n_ctx = *n_ctx;
  eo.max_queue = 1;
  eo.threads = *threads;
  // For tests only: slows each step so that a reply can be interrupted on a tiny model.
  if (const char* d = std::getenv("SEEK_TEST_STEP_DELAY_MS")) eo.step_delay_ms = std::atoi(d);
  // Ctrl-C must reach this thread (to interrupt its read of the input): the engine's threads are started with
  // SIGINT blocked.
  sigset_t sigint, old;
  sigemptyset(&sigint);
  sigaddset(&sigint, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigint, &old);
  server::Engine engine(model, *loaded->tokenizer, eo);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (co.interactive)
    std::fprintf(stdout, "seek chat: %s (%s template, %lld tokens of context). /help for commands, Ctrl-D quits.\n",
                 model_arg(a).c_str(), tmpl->name().c_str(), (long long)eo.n_ctx);
  return server::run_chat(engine, *tmpl, co, 0, stdout);
}

}  // namespace seek::cli
