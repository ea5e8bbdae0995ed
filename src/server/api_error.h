// Errors of the HTTP API in the OpenAI/DeepSeek JSON shape: {"error": {"message", "type", "param", "code"}}.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace seek::server {

struct ApiError {
  ApiError(int status, std::string message, std::string type = "invalid_request_error", std::string code = "",
           int retry_after_s = 0)
      : status(status), message(std::move(message)), type(std::move(type)), code(std::move(code)),
        retry_after_s(retry_after_s) {}
  int status;
  std::string message;
  std::string type;
  std::string code;   // empty: JSON null
  int retry_after_s;  // > 0: sent as Retry-After (429, 503)
};

nlohmann::json error_json(const ApiError& e);
// The body text, dumped so that invalid UTF-8 in a message never throws.
std::string error_body(const ApiError& e);

inline ApiError bad_request(std::string message) { return {400, std::move(message)}; }
ApiError error_for_status(int status);  // a generic error for a status code httplib produced (404, 413, ...)

// Every JSON text the server sends goes through here: invalid UTF-8 becomes U+FFFD instead of an exception.
inline std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

}  // namespace seek::server
