// HTTP server set-up: limits, the guard every request passes (Host, Origin, body, API key, model loaded), error
// bodies in the API's shape, request counting, the page's static files, and the route table.
#include "server/http_server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>
#include <cstring>

#include <fstream>
#include <sstream>

#include "server/connection.h"
#include "server/http_internal.h"

namespace seek::server {

using httplib::Request;
using httplib::Response;
using Handled = httplib::Server::HandlerResponse;

namespace {

constexpr size_t kMaxStaticFile = 4u << 20;

const char* mime_for(const std::string& name) {
  const auto ends = [&](const char* ext) {
    const size_t n = std::strlen(ext);
    return name.size() > n && name.compare(name.size() - n, n, ext) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js") || ends(".mjs")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".json") || ends(".webmanifest")) return "application/json";
  return nullptr;
}

// The page's files, read once: only regular files with known types directly in the folder are served.
std::map<std::string, StaticFile> load_static_files(const std::string& dir) {
  std::map<std::string, StaticFile> files;
  if (dir.empty()) return files;
  DIR* d = opendir(dir.c_str());
  if (!d) return files;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    const char* mime = mime_for(name);
    if (!mime || name[0] == '.') continue;
    std::ifstream in(dir + "/" + name, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (!in || ss.str().size() > kMaxStaticFile) continue;
    files["/" + name] = {ss.str(), mime};
  }
  closedir(d);
  if (auto it = files.find("/index.html"); it != files.end()) files["/"] = it->second;
  return files;
}

// The routes that read a body, and those that need the model.
bool is_post_route(const std::string& p) {
  return p == "/v1/chat/completions" || p == "/chat/completions" || p == "/beta/chat/completions" ||
         p == "/v1/completions" || p == "/completions" || p == "/beta/completions" || p == "/tokenize" ||
         p == "/detokenize";
}

std::string route_label(const std::string& p, const ServerState& st) {
  if (is_post_route(p) || p == "/health" || p == "/metrics" || p == "/v1/models" || p == "/models") return p;
  if (p.rfind("/v1/models/", 0) == 0 || p.rfind("/models/", 0) == 0) return "/v1/models/{id}";
  if (st.files.count(p)) return "static";
  return "other";
}

Handled guard(ServerState& st, const Request& req, Response& res) {
  const bool is_static = req.method == "GET" && st.files.count(req.path);
  // DNS rebinding: a loopback server answers only loopback Host names.
  if (is_loopback_address(st.opt.host) && !loopback_host_header(req.get_header_value("Host"))) {
    send_error(res, {403, "the Host header must name this machine (localhost or 127.0.0.1)", "permission_error"});
    return Handled::Handled;
  }
  // Cross-site requests from a browser: a page of another origin must not drive the API.
  if (req.method != "GET" && req.method != "HEAD" && req.has_header("Origin")) {
    const std::string origin = req.get_header_value("Origin");
    const std::string host = req.get_header_value("Host");
    if (origin != "http://" + host && origin != "https://" + host) {
      send_error(res, {403, "cross-origin requests are not allowed", "permission_error"});
      return Handled::Handled;
    }
  }
  // Only the routes that read a body may have one: httplib would otherwise read it without a size limit.
  const bool has_body = req.has_header("Transfer-Encoding") ||
                        (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0");
  if (has_body && !(req.method == "POST" && is_post_route(req.path))) {
    send_error(res, {req.method == "POST" ? 404 : 400,
                     req.method == "POST" ? "no such route: " + req.path : "this route takes no request body",
                     req.method == "POST" ? "not_found_error" : "invalid_request_error"});
    res.set_header("Connection", "close");
    return Handled::Handled;
  }
  // A body past the limit is refused before httplib reads (and discards) it.
  if (req.has_header("Content-Length")) {
    const std::string len = req.get_header_value("Content-Length");
    if (len.size() > 18 || std::strtoull(len.c_str(), nullptr, 10) > st.opt.max_body_bytes) {
      send_error(res, {413, "the request body is larger than " + std::to_string(st.opt.max_body_bytes) + " bytes",
                       "invalid_request_error", "request_too_large"});
      res.set_header("Connection", "close");
      return Handled::Handled;
    }
  }
  if (req.path == "/health" || is_static) return Handled::Unhandled;
  if (!st.opt.api_key.empty()) {
    const std::string key = presented_key(req.get_header_value("Authorization"), req.get_header_value("X-Api-Key"));
    if (!keys_equal(key, st.opt.api_key)) {
      send_error(res, {401, "missing or invalid API key (send 'Authorization: Bearer KEY' or 'X-Api-Key: KEY')",
                       "authentication_error", "invalid_api_key"});
      res.set_header("WWW-Authenticate", "Bearer");
      return Handled::Handled;
    }
  }
  if (!st.engine.load() && req.path != "/metrics") {
    send_error(res, {503, "the model is still loading", "server_error", "model_loading", 2});
    return Handled::Handled;
  }
  return Handled::Unhandled;
}

}  // namespace

void send_error(Response& res, const ApiError& e) {
  res.status = e.status;
  res.set_content(error_body(e), "application/json");
  if (e.retry_after_s > 0) res.set_header("Retry-After", std::to_string(e.retry_after_s));
}

void send_json(Response& res, const nlohmann::json& j, int status) {
  res.status = status;
  res.set_content(dump(j), "application/json");
}

HttpServer::HttpServer(ServerOptions options)
    : svr_(std::make_unique<httplib::Server>()), state_(std::make_shared<ServerState>()) {
  state_->opt = std::move(options);
  state_->files = load_static_files(state_->opt.web_dir);
  install_routes();
}

HttpServer::~HttpServer() = default;

void HttpServer::install_routes() {
  httplib::Server& svr = *svr_;
  const std::shared_ptr<ServerState> st = state_;
  const ServerOptions& opt = st->opt;
  svr.set_payload_max_length(opt.max_body_bytes);
  svr.set_read_timeout(opt.read_timeout_s, 0);
  svr.set_write_timeout(30, 0);
  svr.set_keep_alive_timeout(5);
  svr.set_tcp_nodelay(true);
  // Each streaming request holds a thread: enough for all that run or wait, plus spare for quick answers (429...).
  const int threads = opt.http_threads > 0 ? opt.http_threads : std::max(8, opt.queue_slots + 8);
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };

  svr.set_pre_routing_handler([st](const Request& req, Response& res) { return guard(*st, req, res); });
  svr.set_error_handler(httplib::Server::HandlerWithResponse([](const Request&, Response& res) {
    if (!res.body.empty()) return Handled::Unhandled;
    send_error(res, error_for_status(res.status));
    return Handled::Handled;
  }));
  svr.set_exception_handler([](const Request&, Response& res, std::exception_ptr) {
    send_error(res, {500, "internal error while handling the request", "server_error"});
  });
  svr.set_logger([st](const Request& req, const Response& res) {
    std::lock_guard<std::mutex> lock(st->counts_mu);
    ++st->responses[{route_label(req.path, *st), res.status}];
  });

  svr.Get("/health", [st](const Request&, Response& res) {
    const bool ok = st->engine.load() != nullptr;
    send_json(res, {{"status", ok ? "ok" : "loading"}}, ok ? 200 : 503);
    if (!ok) res.set_header("Retry-After", "2");
  });
  svr.Get("/metrics", [st](const Request&, Response& res) { route_metrics(*st, res); });
  for (const char* p : {"/v1/models", "/models"})
    svr.Get(p, [st](const Request&, Response& res) { route_models(*st, res, ""); });
  for (const char* p : {"/v1/models/(.+)", "/models/(.+)"})
    svr.Get(p, [st](const Request& req, Response& res) { route_models(*st, res, req.matches[1]); });
  for (const auto& [path, file] : st->files) {
    svr.Get(path, [st, path = path](const Request&, Response& res) {
      const StaticFile& f = st->files.at(path);
      res.set_content(f.body, f.mime.c_str());
      res.set_header("Cache-Control", "no-cache");
      res.set_header("X-Content-Type-Options", "nosniff");
      res.set_header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
    });
  }

  using Route = void (*)(ServerState&, const Request&, Response&, const std::string&);
  const auto post = [&](const char* path, Route fn) {
    svr.Post(path, [st, fn](const Request& req, Response& res, const httplib::ContentReader& reader) {
      // The body is read here, within the limit, also when it comes chunked or compressed.
      std::string body;
      bool too_big = false;
      const size_t max = st->opt.max_body_bytes;
      const bool ok = reader([&](const char* data, size_t n) {
        if (body.size() + n > max) {
          too_big = true;
          return false;
        }
        body.append(data, n);
        return true;
      });
      if (too_big || res.status == 413) {
        send_error(res, {413, "the request body is larger than " + std::to_string(max) + " bytes",
                         "invalid_request_error", "request_too_large"});
        res.set_header("Connection", "close");
        return;
      }
      if (!ok) return send_error(res, bad_request("the request body could not be read"));
      fn(*st, req, res, body);
    });
  };
  for (const char* p : {"/v1/chat/completions", "/chat/completions", "/beta/chat/completions"}) post(p, route_chat);
  for (const char* p : {"/v1/completions", "/completions", "/beta/completions"}) post(p, route_completions);
  post("/tokenize", [](ServerState& s, const Request&, Response& res, const std::string& b) { route_tokenize(s, res, b); });
  post("/detokenize", [](ServerState& s, const Request&, Response& res, const std::string& b) { route_detokenize(s, res, b); });
}

namespace {

// cpp-httplib (Debian's build is a shared library, so its CPPHTTPLIB_LISTEN_BACKLOG cannot be changed here) listens
// with a backlog of 5: a burst of clients beyond it, 16 connecting at once while the cores are busy decoding, had
// their SYNs dropped and retried a second later. Its listening socket is not exposed, so it is found among this
// process's descriptors (listening, bound to `port`) and listen() is called again with a larger backlog, which
// Linux applies to a socket already listening.
void widen_listen_backlog(int port) {
  for (int fd = 0; fd < 4096; ++fd) {
    int listening = 0;
    socklen_t len = sizeof(listening);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage addr{};
    socklen_t alen = sizeof(addr);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) continue;
    int p = -1;
    if (addr.ss_family == AF_INET) p = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    else if (addr.ss_family == AF_INET6) p = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    if (p == port) ::listen(fd, SOMAXCONN);
  }
}

}  // namespace

Result<int> HttpServer::bind() {
  const ServerOptions& opt = state_->opt;
  int port = opt.port;
  if (port == 0) {
    port = svr_->bind_to_any_port(opt.host);
    if (port < 0) return err("cannot listen on %s (any port)", opt.host.c_str());
  } else if (!svr_->bind_to_port(opt.host, port)) {
    return err("cannot listen on %s:%d (in use, or not an address of this machine)", opt.host.c_str(), port);
  }
  widen_listen_backlog(port);
  bound_port_ = port;
  return port;
}

bool HttpServer::run() { return svr_->listen_after_bind(); }

void HttpServer::stop() { svr_->stop(); }

void HttpServer::set_engine(Engine* engine, ChatTemplate tmpl) {
  state_->tmpl = std::move(tmpl);
  state_->engine.store(engine);
}

}  // namespace seek::server
