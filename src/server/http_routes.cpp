// The API's route handlers: chat, completions (with FIM), tokenize/detokenize, models, metrics. A generating
// request becomes a Job; its events are collected into one response or streamed as server-sent events.
#include <chrono>
#include <random>

#include "server/connection.h"
#include "server/http_internal.h"
#include "server/prompt.h"
#include "server/responses.h"

namespace seek::server {

using httplib::Request;
using httplib::Response;
using json = nlohmann::json;

namespace {

enum class Kind { Chat, Completion };

// What a generating request needs besides its job.
struct Reply {
  Kind kind = Kind::Chat;
  ReplyInfo info;
  bool stream = false, include_usage = false, logprobs = false;
  std::string echo;  // completions with echo: the prompt text, sent before the reply
};

// max_tokens that fits the context, or the error that states both counts (as OpenAI words it).
Result<int64_t> fit_context(int64_t n_ctx, int64_t n_prompt, std::optional<int64_t> max_tokens, const char* what) {
  if (max_tokens) {
    if (n_prompt + *max_tokens > n_ctx)
      return err("This model's maximum context length is %lld tokens. However, you requested %lld tokens (%lld in "
                 "the %s, %lld in the completion). Please reduce the length of the %s or completion.",
                 (long long)n_ctx, (long long)(n_prompt + *max_tokens), (long long)n_prompt, what,
                 (long long)*max_tokens, what);
    return *max_tokens;
  }
  if (n_prompt >= n_ctx)
    return err("This model's maximum context length is %lld tokens. However, your %s resulted in %lld tokens. "
               "Please reduce the length of the %s.",
               (long long)n_ctx, what, (long long)n_prompt, what);
  return n_ctx - n_prompt;
}

uint64_t random_seed() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  return rng();
}

bool write_sse(httplib::DataSink& sink, const json& j) {
  const std::string s = "data: " + dump(j) + "\n\n";
  return sink.write(s.data(), s.size());
}

json delta_logprobs(const Reply& r, const Delta& d, const Tokenizer& tok, size_t& offset) {
  if (!r.logprobs) return json();
  if (r.kind == Kind::Chat) return chat_logprobs_json(d.logprobs, tok);
  json lp = completion_logprobs_json(d.logprobs, tok, offset);
  for (const auto& t : d.logprobs) offset += tok.piece(t.id).size();
  return lp;
}

// Collects a whole reply, then answers with one JSON object.
void collect(Engine& eng, const std::shared_ptr<Job>& job, const ClientWatch& watch, const Reply& r, Response& res) {
  Delta all;
  Event final;
  for (;;) {
    Event e;
    if (!job->wait(e, std::chrono::milliseconds(100))) {
      if (watch.gone()) {
        eng.cancel(job);
        res.status = 499;  // nobody reads it: the client closed the connection
        return;
      }
      continue;
    }
    all.append(std::move(e.delta));
    if (e.done) {
      final = std::move(e);
      break;
    }
  }
  if (final.finish_reason == "error") return send_error(res, {500, final.error, "server_error"});
  if (final.finish_reason == "cancelled")
    return send_error(res, {503, "the server is shutting down", "server_error", "unavailable", 2});
  ReplyInfo info = r.info;
  info.reasoning = info.reasoning || final.had_reasoning;
  const Tokenizer& tok = eng.tokenizer();
  if (r.kind == Kind::Chat) {
    send_json(res, chat_completion_json(info, all, final.finish_reason, final.usage, r.logprobs, tok));
  } else {
    send_json(res, completion_json(info, r.echo + all.content, all.logprobs, final.finish_reason, final.usage,
                                   r.logprobs, tok, r.echo.size()));
  }
}

// The state of one streamed reply, shared by the content provider's calls.
struct StreamState {
  Engine* eng;
  std::shared_ptr<Job> job;
  std::shared_ptr<ClientWatch> watch;
  Reply r;
  bool started = false, done = false;
  size_t offset = 0;  // completions' text_offset
};

// The first chunk: the assistant role (chat), or the echoed prompt (completions with echo).
bool stream_start(const StreamState& s, httplib::DataSink& sink) {
  const Reply& r = s.r;
  if (r.kind == Kind::Chat) {
    json delta = {{"role", "assistant"}, {"content", r.info.reasoning ? json() : json("")}};
    if (r.info.reasoning) delta["reasoning_content"] = "";
    return write_sse(sink, chat_chunk_json(r.info, delta, "", json(), r.include_usage));
  }
  if (!r.echo.empty()) return write_sse(sink, completion_chunk_json(r.info, r.echo, "", json(), r.include_usage));
  return true;
}

// The end: the finish_reason chunk (or an error event), the usage chunk if asked for, then [DONE].
bool stream_end(const StreamState& s, const Event& e, httplib::DataSink& sink) {
  const Reply& r = s.r;
  bool ok = true;
  if (e.finish_reason == "error" || e.finish_reason == "cancelled") {
    const ApiError a = e.finish_reason == "error" ? ApiError{500, e.error, "server_error"}
                                                  : ApiError{503, "the server is shutting down", "server_error"};
    ok = write_sse(sink, error_json(a));
  } else {
    const json last = r.kind == Kind::Chat
                          ? chat_chunk_json(r.info, json::object(), e.finish_reason, json(), r.include_usage)
                          : completion_chunk_json(r.info, "", e.finish_reason, json(), r.include_usage);
    ok = write_sse(sink, last);
    if (ok && r.include_usage)
      ok = write_sse(sink, usage_chunk_json(r.info, r.kind == Kind::Chat ? "chat.completion.chunk" : "text_completion",
                                            e.usage));
  }
  static constexpr char kDone[] = "data: [DONE]\n\n";
  if (ok) ok = sink.write(kDone, sizeof kDone - 1);
  if (ok) sink.done();
  return ok;
}

// One call of the content provider: waits briefly for the job's next events and writes them. False ends the
// response (a failed write, or the client went away while nothing was being written).
bool stream_next(StreamState& s, httplib::DataSink& sink) {
  if (!s.started) {
    s.started = true;
    return stream_start(s, sink);
  }
  Event e;
  if (!s.job->wait(e, std::chrono::milliseconds(100))) return !s.watch->gone();
  const Reply& r = s.r;
  if (!e.delta.empty()) {
    const json lp = delta_logprobs(r, e.delta, s.eng->tokenizer(), s.offset);
    const json chunk = r.kind == Kind::Chat
                           ? chat_chunk_json(r.info, chat_delta_json(r.info, e.delta), "", lp, r.include_usage)
                           : completion_chunk_json(r.info, e.delta.content, "", lp, r.include_usage);
    if (!write_sse(sink, chunk)) return false;
  }
  if (!e.done) return true;
  s.done = true;
  return stream_end(s, e, sink);
}

// Streams a reply as server-sent events, ending with "data: [DONE]". The provider runs on the request's thread.
void stream(Engine& eng, std::shared_ptr<Job> job, std::shared_ptr<ClientWatch> watch, Reply r, Response& res) {
  auto s = std::make_shared<StreamState>(StreamState{&eng, std::move(job), std::move(watch), std::move(r)});
  s->offset = s->r.echo.size();
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  // Whatever ends the response early (a failed write, the client gone, shutdown) cancels the job.
  res.set_chunked_content_provider(
      "text/event-stream", [s](size_t, httplib::DataSink& sink) { return stream_next(*s, sink); },
      [s](bool) {
        if (!s->done) s->eng->cancel(s->job);
      });
}

void run_job(Engine& eng, const Request& req, Response& res, JobSpec spec, Reply r) {
  auto job = eng.submit(std::move(spec));
  if (!job) {
    const EngineOptions& o = eng.options();
    return send_error(res, {429,
                            "too many requests: " + std::to_string(o.parallel) + " are running and " +
                                std::to_string(o.max_queue) + " waiting; retry later",
                            "rate_limit_error", "rate_limit_exceeded", 1});
  }
  auto watch = std::make_shared<ClientWatch>(req.remote_addr, req.remote_port, req.local_port);
  if (r.stream) stream(eng, std::move(job), std::move(watch), std::move(r), res);
  else collect(eng, job, *watch, r, res);
}

GenerationSpec generation_spec(const GenerationOptions& g, int64_t max_tokens) {
  GenerationSpec spec;
  spec.opts = g;
  spec.max_tokens = max_tokens;
  spec.seed = random_seed();
  return spec;
}

}  // namespace

void route_chat(ServerState& st, const Request& req, Response& res, const std::string& body) {
  Engine& eng = *st.engine.load();
  auto r = parse_chat_request_text(body, st.opt.json);
  if (!r) return send_error(res, bad_request(r.error().message));
  auto prompt = chat_prompt(r->messages, r->prefix, *st.tmpl, eng.tokenizer());
  if (!prompt) return send_error(res, bad_request(prompt.error().message));
  auto max_tokens = fit_context(eng.options().n_ctx, int64_t(prompt->tokens.size()), r->gen.max_tokens, "messages");
  if (!max_tokens) return send_error(res, {400, max_tokens.error().message, "invalid_request_error", "context_length_exceeded"});
  JobSpec spec{std::move(prompt->tokens), generation_spec(r->gen, *max_tokens)};
  spec.gen.split_reasoning = true;
  spec.gen.starts_in_reasoning = prompt->starts_in_reasoning;
  Reply reply;
  reply.kind = Kind::Chat;
  reply.info = {new_reply_id("chatcmpl-"), int64_t(std::time(nullptr)), st.opt.model_id, prompt->starts_in_reasoning};
  reply.stream = r->gen.stream;
  reply.include_usage = r->gen.stream && r->gen.include_usage;
  reply.logprobs = r->gen.logprobs;
  run_job(eng, req, res, std::move(spec), std::move(reply));
}

void route_completions(ServerState& st, const Request& req, Response& res, const std::string& body) {
  Engine& eng = *st.engine.load();
  auto r = parse_completion_request_text(body, st.opt.json);
  if (!r) return send_error(res, bad_request(r.error().message));
  auto prompt = completion_prompt(*r, eng.tokenizer(), eng.model().n_vocab());
  if (!prompt) return send_error(res, bad_request(prompt.error().message));
  auto max_tokens = fit_context(eng.options().n_ctx, int64_t(prompt->tokens.size()), r->gen.max_tokens, "prompt");
  if (!max_tokens) return send_error(res, {400, max_tokens.error().message, "invalid_request_error", "context_length_exceeded"});
  JobSpec spec{std::move(prompt->tokens), generation_spec(r->gen, *max_tokens)};
  Reply reply;
  reply.kind = Kind::Completion;
  reply.info = {new_reply_id("cmpl-"), int64_t(std::time(nullptr)), st.opt.model_id, false};
  reply.stream = r->gen.stream;
  reply.include_usage = r->gen.stream && r->gen.include_usage;
  reply.logprobs = r->gen.logprobs;
  if (r->echo) {
    if (const auto* text = std::get_if<std::string>(&r->prompt)) reply.echo = *text;
    else reply.echo = eng.tokenizer().decode(std::get<std::vector<int32_t>>(r->prompt));
  }
  run_job(eng, req, res, std::move(spec), std::move(reply));
}

void route_tokenize(ServerState& st, Response& res, const std::string& body) {
  const Tokenizer& tok = st.engine.load()->tokenizer();
  auto j = parse_json_body(body, st.opt.json);
  if (!j) return send_error(res, bad_request(j.error().message));
  auto r = parse_tokenize_request(*j);
  if (!r) return send_error(res, bad_request(r.error().message));
  const std::vector<int32_t> ids = tok.encode(r->content, r->add_special && tok.add_bos(), r->add_special);
  json tokens = json::array();
  for (int32_t id : ids) {
    if (r->with_pieces) tokens.push_back({{"id", id}, {"piece", std::string(tok.piece(id))}});
    else tokens.push_back(id);
  }
  send_json(res, {{"tokens", tokens}});
}

void route_detokenize(ServerState& st, Response& res, const std::string& body) {
  const Tokenizer& tok = st.engine.load()->tokenizer();
  auto j = parse_json_body(body, st.opt.json);
  if (!j) return send_error(res, bad_request(j.error().message));
  auto r = parse_detokenize_request(*j);
  if (!r) return send_error(res, bad_request(r.error().message));
  for (size_t i = 0; i < r->tokens.size(); ++i)
    if (r->tokens[i] >= tok.n_vocab())
      return send_error(res, bad_request("'tokens[" + std::to_string(i) + "]' = " + std::to_string(r->tokens[i]) +
                                         " is outside the vocabulary (0.." + std::to_string(tok.n_vocab() - 1) + ")"));
  // Invalid UTF-8 (a character cut between tokens) becomes U+FFFD when the JSON is written.
  send_json(res, {{"content", tok.decode(r->tokens)}});
}

void route_models(ServerState& st, Response& res, const std::string& id) {
  const Engine& eng = *st.engine.load();
  const json model = {{"id", st.opt.model_id},
                      {"object", "model"},
                      {"created", int64_t(st.created)},
                      {"owned_by", "seek"},
                      {"meta",
                       {{"n_ctx", eng.options().n_ctx},
                        {"n_ctx_train", eng.model().n_ctx_train()},
                        {"n_vocab", eng.model().n_vocab()},
                        {"parallel", eng.options().parallel},
                        {"chat_template", st.tmpl ? st.tmpl->name() : ""}}}};
  if (id.empty()) return send_json(res, {{"object", "list"}, {"data", json::array({model})}});
  if (id != st.opt.model_id)
    return send_error(res, {404, "The model '" + id + "' does not exist", "invalid_request_error", "model_not_found"});
  send_json(res, model);
}

void route_metrics(ServerState& st, Response& res) {
  Engine* eng = st.engine.load();
  std::map<std::pair<std::string, int>, int64_t> counts;
  {
    std::lock_guard<std::mutex> lock(st.counts_mu);
    counts = st.responses;
  }
  res.set_content(metrics_text(eng ? eng->stats() : EngineStats{}, counts, eng != nullptr),
                  "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace seek::server
