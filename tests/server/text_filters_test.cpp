// The reasoning split and stop strings give the same text however the reply is cut into tokens, and never cut a
// UTF-8 character.
#include <gtest/gtest.h>

#include <random>

#include "server/json_grammar.h"
#include "server/text_filters.h"

namespace seek::server {
namespace {

struct Split {
  std::string reasoning, content;
};

Split split_pieces(const std::vector<std::string>& pieces, bool starts_in_reasoning) {
  ReasoningSplitter s(starts_in_reasoning);
  Split out;
  for (const auto& p : pieces) {
    auto o = s.push(p);
    out.reasoning += o.reasoning;
    out.content += o.content;
  }
  auto o = s.flush();
  out.reasoning += o.reasoning;
  out.content += o.content;
  return out;
}

// Every way of cutting `text` at byte positions chosen by a seeded generator, plus byte by byte.
std::vector<std::vector<std::string>> cuttings(const std::string& text) {
  std::vector<std::vector<std::string>> all;
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  all.push_back(bytes);
  std::mt19937 rng(7);
  for (int k = 0; k < 50; ++k) {
    std::vector<std::string> pieces;
    for (size_t i = 0; i < text.size();) {
      const size_t n = std::min(text.size() - i, size_t(1 + rng() % 6));
      pieces.push_back(text.substr(i, n));
      i += n;
    }
    all.push_back(pieces);
  }
  return all;
}

void expect_split(const std::string& text, bool starts, const std::string& reasoning, const std::string& content) {
  for (const auto& pieces : cuttings(text)) {
    const Split s = split_pieces(pieces, starts);
    ASSERT_EQ(s.reasoning, reasoning) << "text: " << text << " in " << pieces.size() << " pieces";
    ASSERT_EQ(s.content, content) << "text: " << text << " in " << pieces.size() << " pieces";
  }
}

TEST(ReasoningSplitter, R1TemplateOpensReasoning) {
  expect_split("I should add.\nSo 2.\n</think>\n\nThe answer is 2.", true, "I should add.\nSo 2.", "The answer is 2.");
}

TEST(ReasoningSplitter, ReplyThatOpensThink) {
  expect_split("<think>\nhmm < maybe </thin k\n</think>\n\nok", false, "hmm < maybe </thin k", "ok");
  expect_split("  <think>x</think>y", false, "x", "y");
}

TEST(ReasoningSplitter, NoReasoning) {
  expect_split("Hello <think> is only special at the start", false, "",
               "Hello <think> is only special at the start");
  expect_split("<thinking>", false, "", "<thinking>");
  expect_split("<thi", false, "", "<thi");
}

TEST(ReasoningSplitter, UnclosedReasoningStaysReasoning) {
  expect_split("still thinking </thi", true, "still thinking </thi", "");
  ReasoningSplitter s(true);
  EXPECT_TRUE(s.in_reasoning());
  EXPECT_TRUE(s.had_reasoning());
}

std::string stop_all(const std::vector<std::string>& pieces, const std::vector<std::string>& stops, bool* stopped) {
  StopMatcher m(stops);
  std::string out;
  for (const auto& p : pieces) out += m.push(p);
  out += m.flush();
  *stopped = m.stopped();
  return out;
}

TEST(StopMatcher, CutsAtTheFirstStopHoweverSplit) {
  const std::string text = "one two\nthree END four";
  for (const auto& pieces : cuttings(text)) {
    bool stopped = false;
    EXPECT_EQ(stop_all(pieces, {"END", "\n\n"}, &stopped), "one two\nthree ");
    EXPECT_TRUE(stopped);
    EXPECT_EQ(stop_all(pieces, {"two\n", "ENDX"}, &stopped), "one ");
    EXPECT_EQ(stop_all(pieces, {"ENDX"}, &stopped), text);
    EXPECT_FALSE(stopped);
  }
}

TEST(StopMatcher, HoldsOnlyWhatCouldStillMatch) {
  StopMatcher m({"abc"});
  EXPECT_EQ(m.push("xxab"), "xx");
  EXPECT_EQ(m.push("d"), "abd");
  EXPECT_EQ(m.push("a"), "");
  EXPECT_EQ(m.flush(), "a");
}

TEST(StopMatcher, MultibyteCharactersStayWhole) {
  // "é" is C3 A9; a stop string starting with the same lead byte must not split the character.
  StopMatcher m({"\xC3\xA8"});
  const std::string out = m.push("caf\xC3\xA9 ");
  EXPECT_EQ(out, "caf\xC3\xA9 ");
}

TEST(JsonPrefix, AcceptsObjectsAndTheirPrefixes) {
  const std::string docs[] = {
      R"({})", R"({"a":1})", R"({ "a" : [1, -2.5e+3, 0, true, false, null, "x\"\\\u00e9"], "b": {"c": {}} })",
      "{\"k\":\"\xC3\xA9\xE2\x82\xAC\"}", R"({"n":-0.0E-1})"};
  for (const std::string& d : docs) {
    JsonPrefix p;
    for (size_t i = 0; i < d.size(); ++i) {
      ASSERT_TRUE(p.feed(static_cast<unsigned char>(d[i]))) << d << " refused at byte " << i;
      ASSERT_EQ(p.complete(), i + 1 == d.size()) << d << " at byte " << i;
    }
  }
}

TEST(JsonPrefix, RefusesWhatCannotContinue) {
  const std::pair<std::string, size_t> bad[] = {
      {"[1]", 0}, {"\"s\"", 0}, {"{1:2}", 1}, {"{\"a\" 1}", 5}, {"{\"a\":01}", 6}, {"{\"a\":tru}", 8},
      {"{\"a\":1,}", 7}, {"{\"a\":\"\x01\"}", 6}, {"{\"a\":\"\\x\"}", 7}, {"{}x", 2}, {"{\"a\":[1}", 7},
      {"{\"a\":-}", 6}, {"{\"a\":1.}", 7}, {"{\"a\":1e}", 7}};
  for (const auto& [doc, at] : bad) {
    JsonPrefix p;
    size_t i = 0;
    while (i < doc.size() && p.feed(static_cast<unsigned char>(doc[i]))) ++i;
    EXPECT_EQ(i, at) << doc;
  }
}

TEST(JsonPrefix, BoundsDepthAndWhitespace) {
  JsonPrefix p;
  EXPECT_TRUE(p.feed("{\"a\":"));
  size_t depth = 1;
  while (p.feed("[")) ++depth;
  EXPECT_EQ(depth, JsonPrefix::kMaxDepth);
  JsonPrefix q;
  int spaces = 0;
  while (q.feed(" ")) ++spaces;
  EXPECT_EQ(spaces, JsonPrefix::kMaxSpaces);
}

}  // namespace
}  // namespace seek::server
