// The error JSON of the API and the generic errors for HTTP statuses.
#include "server/api_error.h"

namespace seek::server {

nlohmann::json error_json(const ApiError& e) {
  nlohmann::json err = {{"message", e.message}, {"type", e.type}, {"param", nullptr},
                        {"code", e.code.empty() ? nlohmann::json() : nlohmann::json(e.code)}};
  return {{"error", std::move(err)}};
}

std::string error_body(const ApiError& e) { return dump(error_json(e)); }

ApiError error_for_status(int status) {
  switch (status) {
    case 400: return {400, "the request could not be parsed"};
    case 401: return {401, "missing or invalid API key", "authentication_error", "invalid_api_key"};
    case 403: return {403, "forbidden", "permission_error"};
    case 404: return {404, "no such route", "not_found_error", "not_found"};
    case 405: return {405, "method not allowed", "invalid_request_error"};
    case 413: return {413, "the request body is too large", "invalid_request_error", "request_too_large"};
    case 414: return {414, "the request URI is too long", "invalid_request_error"};
    case 429: return {429, "too many requests: the queue is full", "rate_limit_error", "rate_limit_exceeded", 1};
    case 503: return {503, "the server is not ready", "server_error", "unavailable", 1};
    default: break;
  }
  if (status >= 500) return {status, "internal server error", "server_error"};
  return {status, "request failed", "invalid_request_error"};
}

}  // namespace seek::server
