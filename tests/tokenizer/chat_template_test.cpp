// Chat templates: recognition of the models' templates, hand-checked renders, and equality with the models' own
// Jinja templates rendered by @huggingface/jinja on 300 generated conversations (strings and token ids).
#include <nlohmann/json.hpp>

#include "node_oracle.h"
#include "test_util.h"
#include "tokenizer/chat_template.h"

namespace seek::test {
namespace {

std::string template_file(const std::string& name) { return data_dir() + "/chat-templates/" + name; }
const char* const kV3File = "deepseek-v3-from-lenml-tokenizer_config.jinja";
const char* const kR1File = "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja";

TEST(ChatTemplate, RecognisesTheModelsTemplates) {
  SEEK_REQUIRE_FILE(template_file(kV3File));
  auto v3 = ChatTemplate::from_template_text(read_all(template_file(kV3File)));
  ASSERT_TRUE(v3.ok()) << v3.error().message;
  EXPECT_EQ(v3->name(), "deepseek-v3");
  auto r1 = ChatTemplate::from_template_text(read_all(template_file(kR1File)));
  ASSERT_TRUE(r1.ok()) << r1.error().message;
  EXPECT_EQ(r1->name(), "deepseek-r1");
  auto json_form = ChatTemplate::from_template_text(hf_tokenizer("deepseek-v3").vocab().chat_template);
  ASSERT_TRUE(json_form.ok());
  EXPECT_EQ(json_form->name(), "deepseek-v3");
  EXPECT_FALSE(ChatTemplate::from_template_text("{% for m in messages %}<|im_start|>{{ m.content }}{% endfor %}").ok());
  EXPECT_EQ(ChatTemplate::for_vocab(hf_tokenizer("deepseek-v3").vocab())->name(), "deepseek-v3");
  EXPECT_EQ(ChatTemplate::for_vocab(hf_tokenizer("deepseek-v3").vocab(), "deepseek-r1")->name(), "deepseek-r1");
  EXPECT_FALSE(ChatTemplate::for_vocab(Vocab{}).ok());
  EXPECT_FALSE(ChatTemplate::from_name("chatml").ok());
}

TEST(ChatTemplate, HandCheckedRenders) {
  const std::vector<ChatMessage> chat = {{"system", "You are a helpful assistant.", "", {}},
                                         {"user", "Hello", "", {}},
                                         {"assistant", "<think>\nGreet back.\n</think>\n\nHi!", "", {}},
                                         {"user", "What is 1+1?", "", {}}};
  EXPECT_EQ(ChatTemplate::from_name("deepseek-v3")->render(chat, true),
            "<｜begin▁of▁sentence｜>You are a helpful assistant.<｜User｜>Hello<｜Assistant｜><think>\nGreet back.\n"
            "</think>\n\nHi!<｜end▁of▁sentence｜><｜User｜>What is 1+1?<｜Assistant｜>");
  // R1 drops the reasoning of earlier turns and opens the new turn with <think>.
  EXPECT_EQ(ChatTemplate::from_name("deepseek-r1")->render(chat, true),
            "<｜begin▁of▁sentence｜>You are a helpful assistant.<｜User｜>Hello<｜Assistant｜>\n\nHi!<｜end▁of▁sentence｜>"
            "<｜User｜>What is 1+1?<｜Assistant｜><think>\n");
  const std::vector<ChatMessage> tools = {{"user", "Weather?", "", {}},
                                          {"assistant", "", "", {{"function", "get_weather", "{\"city\":\"Paris\"}"}}},
                                          {"tool", "18C", "", {}}};
  EXPECT_EQ(ChatTemplate::from_name("deepseek-v3")->render(tools, true),
            "<｜begin▁of▁sentence｜><｜User｜>Weather?<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function"
            "<｜tool▁sep｜>get_weather\n```json\n{\"city\":\"Paris\"}\n```<｜tool▁call▁end｜><｜tool▁outputs▁begin｜>"
            "<｜tool▁output▁begin｜>18C<｜tool▁output▁end｜><｜tool▁outputs▁end｜>");
}

std::vector<ChatMessage> messages_of(const nlohmann::json& j) {
  std::vector<ChatMessage> out;
  for (const auto& m : j) {
    ChatMessage msg;
    msg.role = m["role"].get<std::string>();
    if (m["content"].is_string()) msg.content = m["content"].get<std::string>();
    for (const auto& c : m.value("tool_calls", nlohmann::json::array())) {
      msg.tool_calls.push_back({c["type"].get<std::string>(), c["function"]["name"].get<std::string>(),
                                c["function"]["arguments"].get<std::string>()});
    }
    out.push_back(std::move(msg));
  }
  return out;
}

TEST(ChatTemplate, EqualsJinjaOnGeneratedConversations) {
  SEEK_REQUIRE_NODE_MODULES();
  SEEK_REQUIRE_FILE(template_file(kV3File));
  const std::string out = std::string(SEEK_BINARY_DIR) + "/tokenizer-oracle";
  ASSERT_EQ(run_node_once("oracle.mjs", "--data '" + data_dir() + "' --out '" + out + "'"), "");
  const auto chat = nlohmann::json::parse(read_all(out + "/chat.json"));
  std::map<std::string, Tokenizer> tokenizers;
  for (const char* v : {"deepseek-v3", "deepseek-r1", "r1-distill-qwen", "r1-distill-llama"}) {
    auto vocab = vocab_from_hf_json(out + "/" + v + "/tokenizer.json", out + "/" + v + "/tokenizer_config.json");
    ASSERT_TRUE(vocab.ok()) << vocab.error().message;
    auto tok = Tokenizer::create(std::move(vocab.value()));
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    tokenizers.emplace(v, std::move(tok.value()));
  }
  size_t strings_equal = 0, ids_equal = 0, id_checks = 0, failures = 0;
  for (const auto& c : chat["cases"]) {
    const std::string name = c["template"].get<std::string>();
    auto tmpl = ChatTemplate::from_template_text(chat["templates"][name].get<std::string>());
    ASSERT_TRUE(tmpl.ok()) << tmpl.error().message;
    ASSERT_EQ(tmpl->name(), name);
    const std::string rendered = tmpl->render(messages_of(c["messages"]), c["add_generation_prompt"].get<bool>());
    const std::string want = c["rendered"].get<std::string>();
    if (rendered == want) ++strings_equal;
    else if (failures++ < 5) ADD_FAILURE() << name << ": " << c["messages"].dump() << "\n  jinja " << shown(want, 2000) << "\n  seek  " << shown(rendered, 2000);
    for (const auto& [variant, ids] : c["ids"].items()) {
      ++id_checks;
      const auto got = tokenizers.at(variant).encode(rendered, false, true);
      if (got == ids.get<std::vector<int32_t>>()) ++ids_equal;
      else if (failures++ < 5) ADD_FAILURE() << variant << " ids differ for: " << shown(rendered, 500);
    }
  }
  std::printf("[ chat ] %zu/%zu renders equal to Jinja; %zu/%zu token id lists equal\n", strings_equal,
              chat["cases"].size(), ids_equal, id_checks);
  EXPECT_EQ(strings_equal, chat["cases"].size());
  EXPECT_EQ(ids_equal, id_checks);
  EXPECT_GE(chat["cases"].size(), 400u);
}

}  // namespace
}  // namespace seek::test
