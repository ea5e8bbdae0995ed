// Request validation: every accepted form parses to the intended values, and every malformed one is refused with a
// message that names the field.
#include <gtest/gtest.h>

#include "server/json_body.h"
#include "server/request.h"

namespace seek::server {
namespace {

const JsonLimits kLimits{};

ChatRequest chat_ok(const std::string& body) {
  auto r = parse_chat_request_text(body, kLimits);
  EXPECT_TRUE(r.ok()) << body << "\n-> " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : ChatRequest{};
}

std::string chat_err(const std::string& body) {
  auto r = parse_chat_request_text(body, kLimits);
  EXPECT_FALSE(r.ok()) << body << " was accepted";
  return r.ok() ? "" : r.error().message;
}

TEST(ChatRequest, MinimalHasOpenAIDefaults) {
  ChatRequest r = chat_ok(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].role, "user");
  EXPECT_EQ(r.messages[0].content, "hi");
  EXPECT_FLOAT_EQ(r.gen.sampling.temperature, 1.0f);
  EXPECT_FLOAT_EQ(r.gen.sampling.top_p, 1.0f);
  EXPECT_FALSE(r.gen.max_tokens.has_value());
  EXPECT_FALSE(r.gen.stream);
  EXPECT_FALSE(r.prefix);
}

TEST(ChatRequest, AllOptions) {
  ChatRequest r = chat_ok(R"({"messages":[{"role":"system","content":"be brief"},
      {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],
      "temperature":0,"top_p":0.5,"max_tokens":7,"stop":["x","yy"],"seed":-3,"stream":true,
      "stream_options":{"include_usage":true},"logprobs":true,"top_logprobs":3,
      "response_format":{"type":"json_object"},"presence_penalty":1.5,"frequency_penalty":-0.5,"n":1,
      "user":"u","tools":[],"ignore_eos":true})");
  EXPECT_EQ(r.messages[1].content, "ab");
  EXPECT_FLOAT_EQ(r.gen.sampling.temperature, 0.0f);
  EXPECT_FLOAT_EQ(r.gen.sampling.top_p, 0.5f);
  EXPECT_EQ(r.gen.max_tokens.value(), 7);
  EXPECT_EQ(r.gen.stop, (std::vector<std::string>{"x", "yy"}));
  EXPECT_EQ(r.gen.sampling.seed.value(), uint64_t(-3));
  EXPECT_TRUE(r.gen.stream && r.gen.include_usage && r.gen.logprobs && r.gen.json_object && r.gen.ignore_eos);
  EXPECT_EQ(r.gen.top_logprobs, 3);
  EXPECT_FLOAT_EQ(r.gen.sampling.presence_penalty, 1.5f);
  EXPECT_FLOAT_EQ(r.gen.sampling.frequency_penalty, -0.5f);
}

TEST(ChatRequest, MaxCompletionTokensAndNulls) {
  ChatRequest r = chat_ok(R"({"messages":[{"role":"user","content":"x"}],"max_completion_tokens":5,
      "temperature":null,"stop":null,"seed":null,"logprobs":null})");
  EXPECT_EQ(r.gen.max_tokens.value(), 5);
  EXPECT_FLOAT_EQ(r.gen.sampling.temperature, 1.0f);
}

TEST(ChatRequest, DeveloperIsSystemAndToolCallsParse) {
  ChatRequest r = chat_ok(R"({"messages":[{"role":"developer","content":"d"},{"role":"user","content":"q"},
      {"role":"assistant","content":null,"tool_calls":[{"id":"1","type":"function",
        "function":{"name":"f","arguments":"{\"a\":1}"}}]},
      {"role":"tool","tool_call_id":"1","content":"42"}]})");
  EXPECT_EQ(r.messages[0].role, "system");
  ASSERT_EQ(r.messages[2].tool_calls.size(), 1u);
  EXPECT_EQ(r.messages[2].tool_calls[0].name, "f");
  EXPECT_EQ(r.messages[2].tool_calls[0].arguments, "{\"a\":1}");
}

TEST(ChatRequest, PrefixOnlyOnTheLastAssistantMessage) {
  EXPECT_TRUE(chat_ok(R"({"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"A","prefix":true}]})").prefix);
  EXPECT_NE(chat_err(R"({"messages":[{"role":"assistant","content":"A","prefix":true},{"role":"user","content":"q"}]})")
                .find("prefix"), std::string::npos);
}

TEST(ChatRequest, ErrorsNameTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"([])", "JSON object"},
      {R"({})", "'messages' is required"},
      {R"({"messages":[]})", "empty"},
      {R"({"messages":"hi"})", "'messages' must be an array"},
      {R"({"messages":[1]})", "'messages[0]' must be an object"},
      {R"({"messages":[{"content":"x"}]})", "'messages[0].role'"},
      {R"({"messages":[{"role":"robot","content":"x"}]})", "'messages[0].role' must be"},
      {R"({"messages":[{"role":"user","content":5}]})", "'messages[0].content'"},
      {R"({"messages":[{"role":"user","content":[{"type":"image_url"}]}]})", "'text'"},
      {R"({"messages":[{"role":"user","content":"x"}],"temperature":3})", "'temperature' must be between 0 and 2"},
      {R"({"messages":[{"role":"user","content":"x"}],"temperature":"hot"})", "'temperature' must be a number"},
      {R"({"messages":[{"role":"user","content":"x"}],"top_p":1.5})", "'top_p'"},
      {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":0})", "'max_tokens'"},
      {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":1.5})", "'max_tokens' must be an integer"},
      {R"({"messages":[{"role":"user","content":"x"}],"n":2})", "'n'"},
      {R"({"messages":[{"role":"user","content":"x"}],"stop":7})", "'stop'"},
      {R"({"messages":[{"role":"user","content":"x"}],"stop":["a",1]})", "'stop'"},
      {R"({"messages":[{"role":"user","content":"x"}],"stream":"yes"})", "'stream' must be a boolean"},
      {R"({"messages":[{"role":"user","content":"x"}],"top_logprobs":2})", "requires 'logprobs'"},
      {R"({"messages":[{"role":"user","content":"x"}],"logprobs":true,"top_logprobs":21})", "'top_logprobs'"},
      {R"({"messages":[{"role":"user","content":"x"}],"response_format":{"type":"yaml"}})", "'response_format.type'"},
      {R"({"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}]})", "'tools'"},
      {R"({"messages":[{"role":"user","content":"x"}],"seed":1e30})", "'seed'"},
      {R"({"messages":[{"role":"user","content":"x"}],"frequency_penalty":-3})", "'frequency_penalty'"},
  };
  for (const auto& [body, needle] : cases) {
    const std::string e = chat_err(body);
    EXPECT_NE(e.find(needle), std::string::npos) << body << "\n-> " << e << "\n(expected to mention " << needle << ")";
  }
}

TEST(ChatRequest, TooManyStops) {
  std::string stops = "[";
  for (int i = 0; i < 17; ++i) stops += std::string(i ? "," : "") + "\"s" + std::to_string(i) + "\"";
  EXPECT_NE(chat_err(R"({"messages":[{"role":"user","content":"x"}],"stop":)" + stops + "]}").find("at most 16"),
            std::string::npos);
}

TEST(JsonBody, SyntaxErrorsNameTheOffset) {
  auto r = parse_json_body(R"({"a": tru})", kLimits);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("byte"), std::string::npos) << r.error().message;
  EXPECT_FALSE(parse_json_body("", kLimits).ok());
  EXPECT_FALSE(parse_json_body("{\"a\":\"\xff\"}", kLimits).ok()) << "ill-formed UTF-8 in a string";
}

TEST(JsonBody, DepthLimit) {
  const std::string deep = std::string(65, '[') + std::string(65, ']');
  auto r = parse_json_body(deep, kLimits);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("deeper than 64"), std::string::npos) << r.error().message;
  EXPECT_TRUE(parse_json_body(std::string(64, '[') + std::string(64, ']'), kLimits).ok());
  // Brackets inside strings do not count, escaped quotes do not end a string.
  EXPECT_TRUE(check_json_depth(R"({"a":"[[[[\"[[[["})", 2).ok());
  // A million levels are refused by the scan, before any parsing.
  EXPECT_FALSE(parse_json_body(std::string(1000000, '['), kLimits).ok());
}

TEST(CompletionRequest, PromptForms) {
  auto text = parse_completion_request_text(R"({"prompt":"abc","suffix":"xyz","echo":true,"logprobs":2})", kLimits);
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(std::get<std::string>(text->prompt), "abc");
  EXPECT_EQ(text->suffix.value(), "xyz");
  EXPECT_TRUE(text->echo && text->gen.logprobs);
  EXPECT_EQ(text->gen.top_logprobs, 2);
  EXPECT_EQ(text->gen.max_tokens.value(), 16) << "OpenAI's default for completions";
  auto one = parse_completion_request_text(R"({"prompt":["abc"]})", kLimits);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(std::get<std::string>(one->prompt), "abc");
  auto ids = parse_completion_request_text(R"({"prompt":[0,5,7]})", kLimits);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(std::get<std::vector<int32_t>>(ids->prompt), (std::vector<int32_t>{0, 5, 7}));
  auto nested = parse_completion_request_text(R"({"prompt":[[1,2]]})", kLimits);
  ASSERT_TRUE(nested.ok());
  EXPECT_EQ(std::get<std::vector<int32_t>>(nested->prompt), (std::vector<int32_t>{1, 2}));
  for (const char* bad : {R"({})", R"({"prompt":5})", R"({"prompt":["a","b"]})", R"({"prompt":[-1]})",
                          R"({"prompt":[]})", R"({"prompt":"a","logprobs":6})", R"({"prompt":"a","best_of":2})"}) {
    EXPECT_FALSE(parse_completion_request_text(bad, kLimits).ok()) << bad;
  }
}

TEST(TokenizeRequest, ContentOrText) {
  auto a = parse_tokenize_request(nlohmann::json::parse(R"({"content":"hi","add_special":true,"with_pieces":true})"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->content, "hi");
  EXPECT_TRUE(a->add_special && a->with_pieces);
  EXPECT_TRUE(parse_tokenize_request(nlohmann::json::parse(R"({"text":"hi"})")).ok());
  EXPECT_FALSE(parse_tokenize_request(nlohmann::json::parse(R"({})")).ok());
  EXPECT_FALSE(parse_detokenize_request(nlohmann::json::parse(R"({"tokens":[1,"x"]})")).ok());
  EXPECT_FALSE(parse_detokenize_request(nlohmann::json::parse(R"({"tokens":[-5]})")).ok());
  EXPECT_EQ(parse_detokenize_request(nlohmann::json::parse(R"({"tokens":[3,4]})"))->tokens.size(), 2u);
}

}  // namespace
}  // namespace seek::server
