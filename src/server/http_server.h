// seek serve's HTTP side: routes (OpenAI/DeepSeek API, /health, /metrics, /tokenize, the web page), the limits
// (body size, JSON depth, Host check, API key, queue), and the bridge from HTTP threads to the engine: a handler
// turns a request into a Job, submits it, and streams (SSE) or collects its events, cancelling it when the client
// goes away. Built on cpp-httplib; the model may still be loading while it answers (/health says 503).
#pragma once

#include <memory>
#include <string>

#include "core/result.h"
#include "server/api_error.h"
#include "server/engine.h"
#include "server/json_body.h"
#include "tokenizer/chat_template.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace seek::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                    // 0: any free port (printed)
  std::string api_key;                // empty: no key required
  size_t max_body_bytes = 8u << 20;   // 413 past it
  JsonLimits json;
  std::string web_dir;                // the page's files; empty: no page
  std::string model_id = "seek";
  int http_threads = 0;               // 0: enough for every running and queued request, plus spare
  int queue_slots = 0;                // parallel + max_queue, for sizing the HTTP threads
  int read_timeout_s = 10;
};

class HttpServer {
 public:
  explicit HttpServer(ServerOptions options);
  ~HttpServer();

  // Binds the socket; returns the port (useful with port 0).
  Result<int> bind();
  // Answers requests until stop(); returns false if listening failed.
  bool run();
  void stop();

  // The model is ready: the API routes answer and /health turns 200. The engine must outlive the server's run().
  void set_engine(Engine* engine, ChatTemplate tmpl);

 private:
  void install_routes();
  std::unique_ptr<httplib::Server> svr_;
  std::shared_ptr<struct ServerState> state_;
  int bound_port_ = -1;
};

}  // namespace seek::server
