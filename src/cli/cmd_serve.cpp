// seek serve: the OpenAI- and DeepSeek-compatible HTTP API and the web chat page. The socket is bound first (so
// /health answers 503 while the model loads), then the model is loaded and the engine thread started. SIGINT or
// SIGTERM ends it cleanly: running requests are cancelled, threads joined, memory freed.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <pthread.h>
#include <thread>

#include "cli/common.h"
#include "cli/commands.h"
#include "server/engine.h"
#include "server/http_server.h"
#include "server/prompt.h"

namespace seek::cli {

namespace {

constexpr const char* kHelp =
    "usage: seek serve [-m MODEL] [options]\n"
    "  -m, --model PATH       GGUF model (default: the embedded model)\n"
    "  --host ADDR            address to listen on (default 127.0.0.1; anything else exposes the server)\n"
    "  --port N               port (default 8080; 0 = any free port, printed)\n"
    "  --api-key KEY          require this key (Authorization: Bearer KEY or X-Api-Key) on every route but\n"
    "                         /health and the page's files; default $SEEK_API_KEY\n"
    "  --parallel N           sequences decoded together (default 1)\n"
    "  --queue N              requests that may wait for a sequence; more get 429 (default 16)\n"
    "  -c, --ctx N            context size of each sequence (default: min(4096, training context))\n"
    "  --batch N              prompt tokens evaluated per step (default 512)\n"
    "  --max-body BYTES       largest request body (default 8388608)\n"
    "  --json-depth N         deepest JSON nesting accepted (default 64)\n"
    "  --alias NAME           the model id reported by /v1/models (default: the file name)\n"
    "  --chat-template NAME   deepseek-v3 or deepseek-r1 (default: recognised from the model file, else v3)\n"
    "  --web-dir DIR          the chat page's files (default: $SEEK_WEB_DIR or the source tree's web/)\n"
    "  --no-web               do not serve the chat page\n"
    "  -t, --threads N        threads (default: all cores)\n"
    "  --kernels auto|ref|avx2|avx512, --mla auto|absorbed|expanded|naive, --no-repack  as for seek run\n";

std::string model_id_of(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') + 1);
  if (name.size() > 5 && name.compare(name.size() - 5, 5, ".gguf") == 0) name.resize(name.size() - 5);
  return name.empty() ? "seek" : name;
}

std::string web_dir_default() {
  if (const char* d = std::getenv("SEEK_WEB_DIR")) return d;
#ifdef SEEK_SOURCE_DIR
  return std::string(SEEK_SOURCE_DIR) + "/web";
#else
  return "web";
#endif
}

}  // namespace

int cmd_serve(int argc, char** argv) {
  auto flags = common_value_flags();
  flags.insert(flags.end(), {"--host", "--port", "--api-key", "--parallel", "--queue", "-c", "--ctx", "--batch",
                             "--max-body", "--json-depth", "--alias", "--chat-template", "--web-dir"});
  Args a("serve", flags, {"--no-web", "--help", "-h"});
  if (auto r = a.parse(argc, argv); !r) return usage_error("serve", r.error().message);
  if (a.has("--help") || a.has("-h")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (!a.positional().empty()) return usage_error("serve", "unexpected argument '" + a.positional()[0] + "'");
  auto port = a.integer("--port", 8080, 0, 65535);
  auto parallel = a.integer("--parallel", 1, 1, 256);
  auto queue = a.integer("--queue", 16, 0, 4096);
  auto batch = a.integer("--batch", 512, 1, 1 << 20);
  auto max_body = a.integer("--max-body", 8 << 20, 1024, 1ll << 31);
  auto depth = a.integer("--json-depth", 64, 4, 10000);
  for (auto* r : {&port, &parallel, &queue, &batch, &max_body, &depth})
    if (!*r) return usage_error("serve", r->error().message);

  const std::string path = model_arg(a);
  server::ServerOptions so;
  so.host = a.str("--host").value_or("127.0.0.1");
  so.port = int(*port);
  so.api_key = a.str("--api-key").value_or(std::getenv("SEEK_API_KEY") ? std::getenv("SEEK_API_KEY") : "");
  so.max_body_bytes = size_t(*max_body);
  so.json.max_depth = size_t(*depth);
  so.web_dir = a.has("--no-web") ? "" : a.str("--web-dir").value_or(web_dir_default());
  so.model_id = a.str("--alias").value_or(model_id_of(path));
  so.queue_slots = int(*parallel + *queue);

  // Signals are taken by one thread (sigwait), so every other thread runs undisturbed.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  server::HttpServer http(so);
  auto bound = http.bind();
  if (!bound) return fail("serve", bound.error().message);
  std::fprintf(stderr, "seek serve: listening on http://%s:%d (model %s loading)\n",
               so.host.find(':') != std::string::npos ? ("[" + so.host + "]").c_str() : so.host.c_str(), *bound,
               path.c_str());
  std::atomic<server::Engine*> engine_ptr{nullptr};
  std::atomic<bool> stopping{false};
  std::thread signals([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    if (!engine_ptr.load() && !stopping.load()) std::_Exit(128 + sig);  // still loading: nothing to clean up
    stopping = true;
    if (server::Engine* e = engine_ptr.load()) e->shutdown();
    http.stop();
  });
  std::thread listener([&] {
    if (!http.run() && !stopping.load()) std::fprintf(stderr, "seek serve: the HTTP server stopped unexpectedly\n");
  });
  const auto finish = [&](int code) {
    if (!stopping.exchange(true)) {
      pthread_kill(signals.native_handle(), SIGTERM);
    }
    http.stop();
    listener.join();
    signals.join();
    return code;
  };

  // For tests only: a slow load, to see /health answer 503 meanwhile.
  if (const char* d = std::getenv("SEEK_TEST_LOAD_DELAY_MS"))
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(d)));
  auto loaded = load_model_and_tokenizer(path, true);
  if (!loaded) {
    fail("serve", loaded.error().message);
    return finish(1);
  }
  auto threads = apply_common_options(a, loaded->model.get(), &loaded->load_ms);
  if (!threads) {
    usage_error("serve", threads.error().message);
    return finish(2);
  }
  const Model& model = *loaded->model;
  auto n_ctx = a.integer(a.has("--ctx") ? "--ctx" : "-c", std::min<long long>(4096, model.n_ctx_train()), 16,
                         model.n_ctx_train());
  if (!n_ctx) {
    usage_error("serve", n_ctx.error().message);
    return finish(2);
  }
  if (auto r = check_kv_memory(model, *parallel, *n_ctx, "-c/--ctx or --parallel"); !r) {
    usage_error("serve", r.error().message);
    return finish(2);
  }
  auto tmpl = server::choose_chat_template(a.str("--chat-template").value_or(""), *loaded->tokenizer);
  if (!tmpl) {
    fail("serve", tmpl.error().message);
    return finish(2);
  }
  server::EngineOptions eo;
  eo.parallel = int(*parallel);
  eo.n_ctx = *n_ctx;
  eo.max_queue = int(*queue);
  eo.prefill_batch = *batch;
  eo.threads = *threads;
  // For tests only: slows each step so that requests stay in flight on a tiny model.
  if (const char* d = std::getenv("SEEK_TEST_STEP_DELAY_MS")) eo.step_delay_ms = std::atoi(d);
  {
    server::Engine engine(model, *loaded->tokenizer, eo);
    http.set_engine(&engine, *tmpl);
    engine_ptr = &engine;
    std::fprintf(stderr, "seek serve: ready: model %s (%s template), %d sequence(s) of %lld tokens, %d threads, load %.0f ms\n",
                 so.model_id.c_str(), tmpl->name().c_str(), eo.parallel, (long long)eo.n_ctx, eo.threads,
                 loaded->load_ms);
    if (stopping.load()) engine.shutdown();  // a signal came while the engine was being built
    listener.join();  // until a signal stops the server
    engine.shutdown();
    signals.join();
    engine_ptr = nullptr;
  }
  std::fprintf(stderr, "seek serve: stopped\n");
  return 0;
}

}  // namespace seek::cli
