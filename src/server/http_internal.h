// Internal to the HTTP server: the state its route handlers share and the helpers they use.
#pragma once

#include <httplib.h>

#include <atomic>
#include <ctime>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "server/api_error.h"
#include "server/engine.h"
#include "server/http_server.h"

namespace seek::server {

struct StaticFile {
  std::string body, mime;
};

struct ServerState {
  ServerOptions opt;
  std::atomic<Engine*> engine{nullptr};  // null while the model loads
  std::optional<ChatTemplate> tmpl;      // set before engine is published
  std::time_t created = std::time(nullptr);
  std::map<std::string, StaticFile> files;  // URL path -> the page's file

  std::mutex counts_mu;
  std::map<std::pair<std::string, int>, int64_t> responses;  // (route, status) -> count
};

// Writes an API error (JSON body, status, Retry-After).
void send_error(httplib::Response& res, const ApiError& e);
void send_json(httplib::Response& res, const nlohmann::json& j, int status = 200);

// Route handlers. `body` is the request body, already read within the size limit.
void route_chat(ServerState& st, const httplib::Request& req, httplib::Response& res, const std::string& body);
void route_completions(ServerState& st, const httplib::Request& req, httplib::Response& res, const std::string& body);
void route_tokenize(ServerState& st, httplib::Response& res, const std::string& body);
void route_detokenize(ServerState& st, httplib::Response& res, const std::string& body);
void route_models(ServerState& st, httplib::Response& res, const std::string& id);
void route_metrics(ServerState& st, httplib::Response& res);

// The Prometheus text of /metrics.
std::string metrics_text(const EngineStats& s, const std::map<std::pair<std::string, int>, int64_t>& responses,
                         bool loaded);

}  // namespace seek::server
