// Fuzzing of the request parser and validator (run under ASan/UBSan in the sanitizer build): mutated valid
// bodies and random JSON documents with the API's field names must give a request or an error, never a crash, and
// every error must be a message. Deterministic (seeded), about 60,000 inputs.
#include <gtest/gtest.h>

#include <random>

#include "server/request.h"
#include "server/text_filters.h"
#include "tokenizer/chat_template.h"

namespace seek::server {
namespace {

const char* kSeeds[] = {
    R"({"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":"hi"}],"temperature":0.7,
        "top_p":0.9,"max_tokens":32,"stop":["\n\n","END"],"seed":42,"stream":true,"stream_options":{"include_usage":true},
        "logprobs":true,"top_logprobs":2,"response_format":{"type":"json_object"},"presence_penalty":0.1})",
    R"({"messages":[{"role":"user","content":[{"type":"text","text":"a"}]},{"role":"assistant","content":null,
        "tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","content":"r"},
        {"role":"assistant","content":"pre","prefix":true}]})",
    R"({"model":"m","prompt":"def f(","suffix":"return x","max_tokens":16,"echo":true,"logprobs":3,"stream":false})",
    R"({"prompt":[[0,1,2,3]],"max_tokens":1e2,"stop":"x","n":1,"best_of":1})",
};

const char* kDictionary[] = {"{", "}", "[", "]", "\"", ":", ",", "null", "true", "false", "0", "-1", "1e999",
                             "-0.0", "18446744073709551616", "\\u0000", "\\ud800", "\\", "\xff", "\xc3",
                             "\"messages\"", "\"content\"", "\"role\"", "\"prompt\"", "\"stop\"", "\"user\"",
                             "\"assistant\"", "\"prefix\"", "\"tool_calls\"", "\"max_tokens\"", "[[[[", "]]]]",
                             "\"type\"", "\"text\"", "\"function\"", "\"stream_options\"", " ", "\n"};

std::string mutate(std::string s, std::mt19937_64& rng) {
  const int edits = 1 + int(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    const size_t pos = s.empty() ? 0 : size_t(rng() % (s.size() + 1));
    switch (rng() % 6) {
      case 0:
        if (!s.empty() && pos < s.size()) s[pos] = char(rng());
        break;
      case 1:
        s.erase(pos, size_t(rng() % 8));
        break;
      case 2:
        s.insert(pos, kDictionary[rng() % std::size(kDictionary)]);
        break;
      case 3:
        if (pos < s.size()) s.insert(pos, s.substr(pos, size_t(rng() % 24)));
        break;
      case 4:
        s.resize(pos);
        break;
      default:
        if (!s.empty() && pos < s.size()) s[pos] = "{}[]\":,\\ 0a"[rng() % 12];
        break;
    }
  }
  return s;
}

// A random JSON value, biased towards the shapes the API expects.
nlohmann::json random_value(std::mt19937_64& rng, int depth);

nlohmann::json random_object(std::mt19937_64& rng, int depth) {
  static const char* keys[] = {"model", "messages", "role", "content", "temperature", "top_p", "max_tokens",
                               "max_completion_tokens", "stop", "seed", "stream", "stream_options", "include_usage",
                               "logprobs", "top_logprobs", "response_format", "type", "text", "prompt", "suffix",
                               "echo", "n", "tools", "tool_calls", "function", "name", "arguments", "prefix",
                               "reasoning_content", "presence_penalty", "frequency_penalty", "top_k", "best_of"};
  nlohmann::json o = nlohmann::json::object();
  const int n = int(rng() % 6);
  for (int i = 0; i < n; ++i) o[keys[rng() % std::size(keys)]] = random_value(rng, depth + 1);
  return o;
}

nlohmann::json random_value(std::mt19937_64& rng, int depth) {
  const int kind = int(rng() % (depth > 5 ? 7 : 10));
  switch (kind) {
    case 0: return nullptr;
    case 1: return bool(rng() & 1);
    case 2: return int64_t(rng()) >> (rng() % 64);
    case 3: return uint64_t(rng());
    case 4: return double(int64_t(rng() % 2000) - 1000) / 7.0;
    case 5: return std::string("user");
    case 6: return std::string(size_t(rng() % 5), char('a' + rng() % 26));
    case 7: {
      nlohmann::json a = nlohmann::json::array();
      const int n = int(rng() % 4);
      for (int i = 0; i < n; ++i) a.push_back(random_value(rng, depth + 1));
      return a;
    }
    default: return random_object(rng, depth);
  }
}

void exercise(const std::string& body, const ChatTemplate& v3, const ChatTemplate& r1) {
  const JsonLimits limits{};
  auto chat = parse_chat_request_text(body, limits);
  if (chat) {
    // What the server does next with a valid request, short of tokenizing: render it.
    (void)v3.render(chat->messages, true);
    (void)r1.render(chat->messages, true);
    ASSERT_FALSE(chat->messages.empty());
  } else {
    ASSERT_FALSE(chat.error().message.empty());
  }
  auto completion = parse_completion_request_text(body, limits);
  if (!completion) {
    ASSERT_FALSE(completion.error().message.empty());
  }
  if (auto j = parse_json_body(body, limits)) {
    (void)parse_tokenize_request(*j);
    (void)parse_detokenize_request(*j);
  }
}

TEST(RequestFuzz, MutatedBodiesNeverCrash) {
  auto v3 = ChatTemplate::from_name("deepseek-v3");
  auto r1 = ChatTemplate::from_name("deepseek-r1");
  ASSERT_TRUE(v3.ok() && r1.ok());
  std::mt19937_64 rng(20240601);
  int accepted = 0;
  for (int i = 0; i < 40000; ++i) {
    std::string body = kSeeds[size_t(i) % std::size(kSeeds)];
    for (int k = 0; k < 1 + i % 3; ++k) body = mutate(body, rng);
    exercise(body, *v3, *r1);
    accepted += parse_chat_request_text(body, JsonLimits{}).ok();
  }
  // The mutations must leave a fair share valid, or the validator's deeper paths go untested.
  EXPECT_GT(accepted, 200);
}

TEST(RequestFuzz, RandomDocumentsNeverCrash) {
  auto v3 = ChatTemplate::from_name("deepseek-v3");
  auto r1 = ChatTemplate::from_name("deepseek-r1");
  std::mt19937_64 rng(77);
  for (int i = 0; i < 20000; ++i) {
    nlohmann::json doc = random_object(rng, 0);
    if (i % 2) {  // keep a valid message list often, so the option checks are reached
      doc["messages"] = nlohmann::json::array({{{"role", "user"}, {"content", random_value(rng, 3)}}});
      doc["prompt"] = random_value(rng, 3);
    }
    exercise(doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), *v3, *r1);
  }
}

TEST(RequestFuzz, FiltersKeepEveryByte) {
  // Random byte streams through the stop matcher: without a match, what comes out is exactly what went in.
  std::mt19937_64 rng(5);
  for (int i = 0; i < 2000; ++i) {
    std::string in, out;
    StopMatcher m({"\x01\x02\x03"});
    for (int k = 0; k < 20; ++k) {
      std::string piece(size_t(rng() % 4), '\0');
      for (char& c : piece) c = char('a' + rng() % 3);
      in += piece;
      out += m.push(piece);
    }
    out += m.flush();
    ASSERT_EQ(in, out);
  }
}

}  // namespace
}  // namespace seek::server
