// /metrics in the Prometheus text format: requests, queue depth, tokens and tokens/s, KV-cache use.
#include <sstream>

#include "server/http_internal.h"

namespace seek::server {

namespace {

void metric(std::ostringstream& o, const char* name, const char* type, const char* help, double v) {
  o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n' << name << ' ' << v << '\n';
}

}  // namespace

std::string metrics_text(const EngineStats& s, const std::map<std::pair<std::string, int>, int64_t>& responses,
                         bool loaded) {
  std::ostringstream o;
  o.precision(10);
  o << "# HELP seek_http_responses_total HTTP responses by route and status.\n"
       "# TYPE seek_http_responses_total counter\n";
  for (const auto& [key, n] : responses)
    o << "seek_http_responses_total{route=\"" << key.first << "\",status=\"" << key.second << "\"} " << n << '\n';
  metric(o, "seek_model_loaded", "gauge", "1 once the model is loaded.", loaded ? 1 : 0);
  metric(o, "seek_requests_started_total", "counter", "Generation requests that got a sequence.", double(s.requests_started));
  metric(o, "seek_requests_finished_total", "counter", "Generation requests that ran to the end.", double(s.requests_finished));
  metric(o, "seek_requests_cancelled_total", "counter", "Generation requests cancelled (client gone, shutdown).", double(s.requests_cancelled));
  metric(o, "seek_requests_rejected_total", "counter", "Generation requests refused with 429 (queue full).", double(s.requests_rejected));
  metric(o, "seek_queue_depth", "gauge", "Requests waiting for a sequence.", double(s.queue_depth));
  metric(o, "seek_sequences_active", "gauge", "Sequences being decoded.", double(s.active));
  metric(o, "seek_prompt_tokens_total", "counter", "Prompt tokens of started requests.", double(s.prompt_tokens));
  metric(o, "seek_prompt_cache_hit_tokens_total", "counter", "Prompt tokens reused from a cached prefix.", double(s.cache_hit_tokens));
  metric(o, "seek_generated_tokens_total", "counter", "Tokens generated.", double(s.generated_tokens));
  metric(o, "seek_generation_tokens_per_second", "gauge", "Tokens generated per second over the last 10 s.", s.generation_tokens_per_s);
  metric(o, "seek_steps_total", "counter", "Batched forward steps.", double(s.steps));
  metric(o, "seek_busy_seconds_total", "counter", "Seconds spent in forward steps.", s.busy_s);
  metric(o, "seek_kv_cache_tokens", "gauge", "Tokens held in the KV caches (active and reusable prefixes).", double(s.kv_tokens));
  metric(o, "seek_kv_cache_capacity_tokens", "gauge", "Tokens the KV caches can hold.", double(s.kv_capacity));
  metric(o, "seek_kv_cache_usage_ratio", "gauge", "KV cache tokens used / capacity.",
         s.kv_capacity > 0 ? double(s.kv_tokens) / double(s.kv_capacity) : 0.0);
  metric(o, "seek_kv_cache_bytes", "gauge", "Bytes of the KV caches' capacity.", double(s.kv_capacity) * double(s.kv_bytes_per_token));
  return o.str();
}

}  // namespace seek::server
