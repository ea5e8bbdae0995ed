// Validation of the API's request bodies into typed requests. JSON null counts as "not given" everywhere, as the
// OpenAI clients send it for unset options.
#include "server/request.h"

#include <cmath>

namespace seek::server {

namespace {

using json = nlohmann::json;

const char* kind(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::number_float:
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "a number";
    default: return "an unsupported value";
  }
}

const json* field(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::optional<double>> opt_number(const json& o, const char* key, double lo, double hi) {
  const json* v = field(o, key);
  if (!v) return std::optional<double>();
  if (!v->is_number()) return err("'%s' must be a number, got %s", key, kind(*v));
  const double x = v->get<double>();
  if (!(x >= lo && x <= hi)) return err("'%s' must be between %g and %g, got %g", key, lo, hi, x);
  return std::optional<double>(x);
}

// An integer in [lo, hi]; a float with an integral value is accepted (some clients send 16.0).
Result<std::optional<int64_t>> opt_int(const json& v, const char* key, int64_t lo, int64_t hi) {
  if (v.is_null()) return std::optional<int64_t>();
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > uint64_t(hi) || (lo > 0 && u < uint64_t(lo))) return err("'%s' must be between %lld and %lld", key, (long long)lo, (long long)hi);
    return std::optional<int64_t>(int64_t(u));
  }
  if (v.is_number_integer()) {
    const int64_t x = v.get<int64_t>();
    if (x < lo || x > hi) return err("'%s' must be between %lld and %lld, got %lld", key, (long long)lo, (long long)hi, (long long)x);
    return std::optional<int64_t>(x);
  }
  if (v.is_number_float()) {
    const double x = v.get<double>();
    if (std::floor(x) != x || x < double(lo) || x > double(hi))
      return err("'%s' must be an integer between %lld and %lld", key, (long long)lo, (long long)hi);
    return std::optional<int64_t>(int64_t(x));
  }
  return err("'%s' must be an integer, got %s", key, kind(v));
}

Result<std::optional<int64_t>> opt_int(const json& o, const char* key, int64_t lo, int64_t hi, bool) {
  const json* v = field(o, key);
  if (!v) return std::optional<int64_t>();
  return opt_int(*v, key, lo, hi);
}

Result<std::optional<bool>> opt_bool(const json& o, const char* key) {
  const json* v = field(o, key);
  if (!v) return std::optional<bool>();
  if (!v->is_boolean()) return err("'%s' must be a boolean, got %s", key, kind(*v));
  return std::optional<bool>(v->get<bool>());
}

Result<std::optional<std::string>> opt_string(const json& o, const char* key) {
  const json* v = field(o, key);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return err("'%s' must be a string, got %s", key, kind(*v));
  return std::optional<std::string>(v->get<std::string>());
}

Result<std::vector<std::string>> parse_stop(const json& o) {
  std::vector<std::string> out;
  const json* v = field(o, "stop");
  if (!v) return out;
  if (v->is_string()) {
    if (!v->get_ref<const std::string&>().empty()) out.push_back(v->get<std::string>());
    return out;
  }
  if (!v->is_array()) return err("'stop' must be a string or an array of strings, got %s", kind(*v));
  if (v->size() > kMaxStops) return err("'stop' holds %zu strings; at most %zu are allowed", v->size(), kMaxStops);
  for (const json& s : *v) {
    if (!s.is_string()) return err("'stop' must hold only strings, got %s", kind(s));
    if (s.get_ref<const std::string&>().size() > 256) return err("a 'stop' string is longer than 256 bytes");
    if (!s.get_ref<const std::string&>().empty()) out.push_back(s.get<std::string>());
  }
  return out;
}

Result<SamplingOptions> parse_sampling(const json& o) {
  SamplingOptions s;
  auto temperature = opt_number(o, "temperature", 0.0, 2.0);
  if (!temperature) return temperature.error();
  if (*temperature) s.temperature = float(**temperature);
  auto top_p = opt_number(o, "top_p", 0.0, 1.0);
  if (!top_p) return top_p.error();
  if (*top_p) s.top_p = float(**top_p);
  auto top_k = opt_int(o, "top_k", 0, 1 << 30, true);
  if (!top_k) return top_k.error();
  if (*top_k) s.top_k = int(**top_k);
  auto seed = opt_int(o, "seed", INT64_MIN, INT64_MAX, true);
  if (!seed) return seed.error();
  if (*seed) s.seed = uint64_t(**seed);
  for (const char* key : {"presence_penalty", "frequency_penalty"}) {
    auto p = opt_number(o, key, -2.0, 2.0);
    if (!p) return p.error();
    if (*p) (key[0] == 'p' ? s.presence_penalty : s.frequency_penalty) = float(**p);
  }
  return s;
}

// logprobs: chat's boolean + top_logprobs, or completions' integer (the number of top tokens).
Result<void> parse_logprobs(const json& o, bool chat, GenerationOptions& g) {
  if (chat) {
    auto lp = opt_bool(o, "logprobs");
    if (!lp) return lp.error();
    g.logprobs = lp->value_or(false);
    auto top = opt_int(o, "top_logprobs", 0, 20, true);
    if (!top) return top.error();
    if (*top && !g.logprobs) return err("'top_logprobs' requires 'logprobs' to be true");
    g.top_logprobs = int(top->value_or(0));
  } else {
    auto lp = opt_int(o, "logprobs", 0, 5, true);
    if (!lp) return lp.error();
    g.logprobs = lp->has_value();
    g.top_logprobs = int(lp->value_or(0));
  }
  return {};
}

// The options shared by chat and completions.
Result<GenerationOptions> parse_generation(const json& o, bool chat) {
  GenerationOptions g;
  auto sampling = parse_sampling(o);
  if (!sampling) return sampling.error();
  g.sampling = *sampling;
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    auto m = opt_int(o, key, 1, kMaxTokensLimit, true);
    if (!m) return m.error();
    if (*m) g.max_tokens = **m;
  }
  auto n = opt_int(o, "n", 1, 1, true);
  if (!n) return err("'n': only one choice per request is supported (n = 1)");
  auto best_of = opt_int(o, "best_of", 1, 1, true);
  if (!best_of) return err("'best_of': only best_of = 1 is supported");
  auto stop = parse_stop(o);
  if (!stop) return stop.error();
  g.stop = std::move(*stop);
  auto stream = opt_bool(o, "stream");
  if (!stream) return stream.error();
  g.stream = stream->value_or(false);
  if (const json* so = field(o, "stream_options")) {
    if (!so->is_object()) return err("'stream_options' must be an object, got %s", kind(*so));
    auto iu = opt_bool(*so, "include_usage");
    if (!iu) return err("'stream_options.include_usage' must be a boolean");
    g.include_usage = iu->value_or(false);
  }
  SEEK_TRY(parse_logprobs(o, chat, g));
  if (const json* rf = field(o, "response_format")) {
    if (!rf->is_object()) return err("'response_format' must be an object, got %s", kind(*rf));
    auto type = opt_string(*rf, "type");
    if (!type) return err("'response_format.type' must be a string");
    const std::string t = type->value_or("text");
    if (t == "json_object") g.json_object = true;
    else if (t != "text") return err("'response_format.type' must be 'text' or 'json_object', got '%s'", t.c_str());
  }
  auto ignore_eos = opt_bool(o, "ignore_eos");
  if (!ignore_eos) return ignore_eos.error();
  g.ignore_eos = ignore_eos->value_or(false);
  return g;
}

// Message content: a string, null, or an array of text parts ({"type": "text", "text": ...}).
Result<std::string> parse_content(const json& m, size_t i) {
  const json* c = field(m, "content");
  if (!c) return std::string();
  if (c->is_string()) return c->get<std::string>();
  if (!c->is_array()) return err("'messages[%zu].content' must be a string or an array of text parts, got %s", i, kind(*c));
  std::string out;
  for (const json& part : *c) {
    if (!part.is_object()) return err("'messages[%zu].content' parts must be objects", i);
    auto type = opt_string(part, "type");
    if (!type || type->value_or("") != "text")
      return err("'messages[%zu].content': only parts of type 'text' are supported", i);
    auto text = opt_string(part, "text");
    if (!text) return err("'messages[%zu].content[].text' must be a string", i);
    out += text->value_or("");
  }
  return out;
}

Result<std::vector<ChatToolCall>> parse_tool_calls(const json& m, size_t i) {
  std::vector<ChatToolCall> calls;
  const json* tc = field(m, "tool_calls");
  if (!tc) return calls;
  if (!tc->is_array()) return err("'messages[%zu].tool_calls' must be an array", i);
  for (const json& c : *tc) {
    const json* fn = c.is_object() ? field(c, "function") : nullptr;
    if (!fn || !fn->is_object()) return err("'messages[%zu].tool_calls[]' must be objects with a 'function'", i);
    auto name = opt_string(*fn, "name");
    auto args = opt_string(*fn, "arguments");
    if (!name || !args || !name->has_value())
      return err("'messages[%zu].tool_calls[].function' needs a string 'name' and string 'arguments'", i);
    ChatToolCall call;
    call.name = **name;
    call.arguments = args->value_or("{}");
    calls.push_back(std::move(call));
  }
  return calls;
}

}  // namespace

Result<std::vector<ChatMessage>> parse_messages(const json& messages, bool* prefix) {
  if (!messages.is_array()) return err("'messages' must be an array of messages, got %s", kind(messages));
  if (messages.empty()) return err("'messages' is empty: give at least one message");
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < messages.size(); ++i) {
    const json& m = messages[i];
    if (!m.is_object()) return err("'messages[%zu]' must be an object, got %s", i, kind(m));
    auto role = opt_string(m, "role");
    if (!role || !role->has_value()) return err("'messages[%zu].role' must be a string", i);
    ChatMessage msg;
    msg.role = **role == "developer" ? "system" : **role;
    if (msg.role != "system" && msg.role != "user" && msg.role != "assistant" && msg.role != "tool")
      return err("'messages[%zu].role' must be system, user, assistant or tool, got '%s'", i, role->value().c_str());
    auto content = parse_content(m, i);
    if (!content) return content.error();
    msg.content = std::move(*content);
    auto reasoning = opt_string(m, "reasoning_content");
    if (!reasoning) return err("'messages[%zu].reasoning_content' must be a string", i);
    msg.reasoning_content = reasoning->value_or("");
    auto calls = parse_tool_calls(m, i);
    if (!calls) return calls.error();
    msg.tool_calls = std::move(*calls);
    auto pre = opt_bool(m, "prefix");
    if (!pre) return err("'messages[%zu].prefix' must be a boolean", i);
    if (pre->value_or(false)) {
      if (i + 1 != messages.size() || msg.role != "assistant")
        return err("'messages[%zu].prefix': only the last message, an assistant one, can be a prefix", i);
      if (prefix) *prefix = true;
    }
    out.push_back(std::move(msg));
  }
  return out;
}

Result<ChatRequest> parse_chat_request(const json& body) {
  if (!body.is_object()) return err("the request body must be a JSON object, got %s", kind(body));
  ChatRequest r;
  auto model = opt_string(body, "model");
  if (!model) return model.error();
  r.model = model->value_or("");
  const json* messages = field(body, "messages");
  if (!messages) return err("'messages' is required");
  auto msgs = parse_messages(*messages, &r.prefix);
  if (!msgs) return msgs.error();
  r.messages = std::move(*msgs);
  if (const json* tools = field(body, "tools"); tools && !(tools->is_array() && tools->empty()))
    return err("'tools': function calling is not supported by this server yet");
  auto gen = parse_generation(body, true);
  if (!gen) return gen.error();
  r.gen = std::move(*gen);
  return r;
}

Result<CompletionRequest> parse_completion_request(const json& body) {
  if (!body.is_object()) return err("the request body must be a JSON object, got %s", kind(body));
  CompletionRequest r;
  auto model = opt_string(body, "model");
  if (!model) return model.error();
  r.model = model->value_or("");
  const json* p = field(body, "prompt");
  if (!p) return err("'prompt' is required");
  // One prompt: a string, an array of one string, an array of token ids, or an array holding one such array.
  const json* one = p;
  if (p->is_array() && p->size() == 1 && ((*p)[0].is_string() || (*p)[0].is_array())) one = &(*p)[0];
  else if (p->is_array() && !p->empty() && !(*p)[0].is_number())
    return err("'prompt': only one prompt per request is supported");
  if (one->is_string()) {
    r.prompt = one->get<std::string>();
  } else if (one->is_array()) {
    std::vector<int32_t> ids;
    for (const json& t : *one) {
      auto id = opt_int(t, "prompt[]", 0, INT32_MAX);
      if (!id || !id->has_value()) return err("'prompt' token ids must be integers between 0 and %d", INT32_MAX);
      ids.push_back(int32_t(**id));
    }
    if (ids.empty()) return err("'prompt' is an empty list of token ids");
    r.prompt = std::move(ids);
  } else {
    return err("'prompt' must be a string or an array of token ids, got %s", kind(*one));
  }
  auto suffix = opt_string(body, "suffix");
  if (!suffix) return suffix.error();
  r.suffix = *suffix;
  auto echo = opt_bool(body, "echo");
  if (!echo) return echo.error();
  r.echo = echo->value_or(false);
  auto gen = parse_generation(body, false);
  if (!gen) return gen.error();
  r.gen = std::move(*gen);
  if (!r.gen.max_tokens) r.gen.max_tokens = 16;  // OpenAI's default for completions
  return r;
}

Result<TokenizeRequest> parse_tokenize_request(const json& body) {
  if (!body.is_object()) return err("the request body must be a JSON object, got %s", kind(body));
  TokenizeRequest r;
  auto content = opt_string(body, "content");
  if (!content) return content.error();
  if (!content->has_value()) {
    content = opt_string(body, "text");
    if (!content) return content.error();
  }
  if (!content->has_value()) return err("'content' (the text to tokenize) is required");
  r.content = **content;
  auto add = opt_bool(body, "add_special");
  if (!add) return add.error();
  r.add_special = add->value_or(false);
  auto pieces = opt_bool(body, "with_pieces");
  if (!pieces) return pieces.error();
  r.with_pieces = pieces->value_or(false);
  return r;
}

Result<DetokenizeRequest> parse_detokenize_request(const json& body) {
  if (!body.is_object()) return err("the request body must be a JSON object, got %s", kind(body));
  const json* t = field(body, "tokens");
  if (!t || !t->is_array()) return err("'tokens' must be an array of token ids");
  DetokenizeRequest r;
  for (const json& v : *t) {
    auto id = opt_int(v, "tokens[]", 0, INT32_MAX);
    if (!id || !id->has_value()) return err("'tokens' must hold integers between 0 and %d", INT32_MAX);
    r.tokens.push_back(int32_t(**id));
  }
  return r;
}

Result<ChatRequest> parse_chat_request_text(std::string_view body, const JsonLimits& limits) {
  auto j = parse_json_body(body, limits);
  if (!j) return j.error();
  return parse_chat_request(*j);
}

Result<CompletionRequest> parse_completion_request_text(std::string_view body, const JsonLimits& limits) {
  auto j = parse_json_body(body, limits);
  if (!j) return j.error();
  return parse_completion_request(*j);
}

}  // namespace seek::server
