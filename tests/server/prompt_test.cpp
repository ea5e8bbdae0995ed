// Prompts: the chat template's text tokenised with its special tokens, R1's opened reasoning, DeepSeek's prefix
// completion, token-id prompts checked against the vocabulary, and the FIM layout when the vocabulary has FIM tokens.
#include <gtest/gtest.h>

#include "synthetic_tokenizer.h"
#include "server/conversation.h"
#include "server/prompt.h"

namespace seek::server {
namespace {

Tokenizer tokenizer(bool fim) { return testing::synthetic_tokenizer(/*add_bos=*/true, fim); }

TEST(Prompt, ChatUsesTheTemplatesSpecialTokens) {
  const Tokenizer tok = tokenizer(false);
  auto v3 = ChatTemplate::from_name("deepseek-v3");
  auto p = chat_prompt({{"system", "Be brief.", "", {}}, {"user", "Hi", "", {}}}, false, *v3, tok);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->tokens.front(), tok.bos());
  EXPECT_EQ(tok.decode(p->tokens), "<｜begin▁of▁sentence｜>Be brief.<｜User｜>Hi<｜Assistant｜>");
  EXPECT_EQ(p->tokens.back(), *tok.find("<｜Assistant｜>"));
  EXPECT_FALSE(p->starts_in_reasoning);
}

TEST(Prompt, R1OpensReasoningAndPrefixContinuesTheAnswer) {
  const Tokenizer tok = tokenizer(false);
  auto r1 = ChatTemplate::from_name("deepseek-r1");
  auto p = chat_prompt({{"user", "Hi", "", {}}}, false, *r1, tok);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->starts_in_reasoning);
  EXPECT_EQ(tok.decode(p->tokens), "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜><think>\n");
  auto pre = chat_prompt({{"user", "Hi", "", {}}, {"assistant", "Sure, ", "", {}}}, true, *r1, tok);
  ASSERT_TRUE(pre.ok());
  EXPECT_FALSE(pre->starts_in_reasoning);
  EXPECT_EQ(tok.decode(pre->tokens), "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜>Sure, ");
}

TEST(Prompt, CompletionTextIdsAndFim) {
  const Tokenizer plain = tokenizer(false), fim = tokenizer(true);
  CompletionRequest r;
  r.prompt = std::string("def f(");
  auto p = completion_prompt(r, plain, plain.n_vocab());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->tokens.front(), plain.bos());
  EXPECT_EQ(plain.decode(p->tokens, true), "def f(");

  r.suffix = "return x";
  auto no = completion_prompt(r, plain, plain.n_vocab());
  ASSERT_FALSE(no.ok());
  EXPECT_NE(no.error().message.find("fill-in-the-middle"), std::string::npos);
  auto yes = completion_prompt(r, fim, fim.n_vocab());
  ASSERT_TRUE(yes.ok()) << yes.error().message;
  EXPECT_EQ(fim.decode(yes->tokens), "<｜begin▁of▁sentence｜><｜fim▁begin｜>def f(<｜fim▁hole｜>return x<｜fim▁end｜>");

  CompletionRequest ids;
  ids.prompt = std::vector<int32_t>{0, 5, plain.n_vocab()};
  auto bad = completion_prompt(ids, plain, plain.n_vocab());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("outside the vocabulary"), std::string::npos);
}

TEST(Conversation, FitDropsTheOldestTurnsAndKeepsTheSystemPrompt) {
  const Tokenizer tok = tokenizer(false);
  auto v3 = ChatTemplate::from_name("deepseek-v3");
  Conversation c;
  c.messages.push_back({"system", "Be brief.", "", {}});
  for (int i = 0; i < 6; ++i) {
    c.messages.push_back({"user", "question number " + std::to_string(i), "", {}});
    c.messages.push_back({"assistant", "answer number " + std::to_string(i), "", {}});
  }
  c.messages.push_back({"user", "last question", "", {}});
  auto whole = chat_prompt(c.messages, false, *v3, tok);
  ASSERT_TRUE(whole.ok());
  const int64_t n_ctx = int64_t(whole->tokens.size()) / 2;
  auto f = fit_conversation(c, *v3, tok, n_ctx, 8);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_GT(f->dropped, 0u);
  EXPECT_EQ(f->dropped % 2, 0u) << "whole turns are dropped";
  EXPECT_LE(int64_t(f->prompt.tokens.size()) + 8, n_ctx);
  EXPECT_EQ(c.messages.front().role, "system");
  EXPECT_EQ(c.messages.back().content, "last question");
  EXPECT_EQ(c.messages[1].role, "user");

  // A message that cannot fit is refused and the conversation left alone.
  Conversation big;
  big.messages.push_back({"user", std::string(2000, 'x'), "", {}});
  auto no = fit_conversation(big, *v3, tok, 64, 8);
  ASSERT_FALSE(no.ok());
  EXPECT_EQ(big.messages.size(), 1u);
}

TEST(Conversation, SaveLoadRoundTripAndBadFiles) {
  Conversation c;
  c.messages.push_back({"user", "héllo \"quoted\"\n", "", {}});
  c.messages.push_back({"assistant", "answer", "thinking", {}});
  const std::string path = ::testing::TempDir() + "/seek_conv_test.json";
  ASSERT_TRUE(save_conversation(path, c).ok());
  auto back = load_conversation(path);
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back->messages.size(), 2u);
  EXPECT_EQ(back->messages[0].content, "héllo \"quoted\"\n");
  EXPECT_EQ(back->messages[1].reasoning_content, "thinking");
  EXPECT_FALSE(load_conversation(path + ".missing").ok());
  EXPECT_FALSE(parse_conversation("{\"messages\": 5}").ok());
  EXPECT_FALSE(parse_conversation("[").ok());
  EXPECT_TRUE(parse_conversation("[{\"role\":\"user\",\"content\":\"x\"}]").ok());
  EXPECT_FALSE(save_conversation("/nonexistent-dir/x.json", c).ok());
  std::remove(path.c_str());
}

}  // namespace
}  // namespace seek::server
