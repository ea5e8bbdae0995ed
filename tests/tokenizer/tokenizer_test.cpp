// Tokenizer behaviour on the real vocabularies: added-token matching and parse_special, the R1 distills' token
// facts, decode/skip_special, piece/find, BPE's two merge loops, arbitrary bytes, streaming decode.
#include <random>

#include "test_util.h"
#include "tokenizer/bpe.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/unicode.h"

namespace seek::test {
namespace {

#define SEEK_REQUIRE_TOKENIZER(name) SEEK_REQUIRE_FILE(tokenizer_dir(name) + "/tokenizer.json")

TEST(Tokenizer, DeepSeekV3Basics) {
  SEEK_REQUIRE_TOKENIZER("deepseek-v3");
  const Tokenizer& tok = hf_tokenizer("deepseek-v3");
  EXPECT_EQ(tok.n_vocab(), 128815);
  EXPECT_EQ(tok.bos(), 0);
  EXPECT_EQ(tok.eos(), 1);
  EXPECT_TRUE(tok.add_bos());
  EXPECT_EQ(pre_tokenizer_name(tok.pre_tokenizer()), std::string("deepseek-v3"));
  EXPECT_FALSE(tok.nfc());
  EXPECT_EQ(tok.find("<｜User｜>"), std::optional<int32_t>(128803));
  EXPECT_EQ(tok.find("Ġthe"), std::optional<int32_t>(270));
  EXPECT_EQ(tok.piece(270), " the");
  EXPECT_EQ(tok.piece(-1), "");
  EXPECT_EQ(tok.piece(1 << 30), "");
  EXPECT_TRUE(tok.is_control(0));
  // <｜User｜> is special=false in tokenizer.json but looks special, so it is a control token (as in GGUF).
  EXPECT_TRUE(tok.is_control(128803));
}

TEST(Tokenizer, ParseSpecialControlsWhichAddedTokensAreMatched) {
  SEEK_REQUIRE_TOKENIZER("deepseek-v3");
  const Tokenizer& tok = hf_tokenizer("deepseek-v3");
  const std::string text = "<｜User｜>hi<｜end▁of▁sentence｜>";
  const auto special = tok.encode(text, false, true);
  ASSERT_EQ(special.size(), 3u);
  EXPECT_EQ(special[0], 128803);
  EXPECT_EQ(special[2], 1);
  const auto plain = tok.encode(text, false, false);  // control tokens stay text
  EXPECT_GT(plain.size(), 6u);
  for (int32_t id : plain) EXPECT_FALSE(tok.is_control(id)) << id;
  EXPECT_EQ(tok.decode(plain), text);
  EXPECT_EQ(tok.decode(special), text);
  EXPECT_EQ(tok.decode(special, /*skip_special=*/true), "hi");
}

TEST(Tokenizer, LongestAddedTokenWins) {
  SEEK_REQUIRE_TOKENIZER("qwen2.5");
  const Tokenizer& tok = hf_tokenizer("qwen2.5");
  // <|fim_pad|> vs <|fim_prefix|>: both start "<|fim_p"; each must be matched whole.
  EXPECT_EQ(ids_str(tok.encode("<|fim_prefix|><|fim_pad|>", false, true)), "151659 151662");
  // user-defined tokens (<tool_call>) are matched even without parse_special.
  EXPECT_EQ(ids_str(tok.encode("<tool_call>", false, false)), "151657");
}

TEST(Tokenizer, EmptyAndBos) {
  SEEK_REQUIRE_TOKENIZER("llama3.1");
  const Tokenizer& tok = hf_tokenizer("llama3.1");
  EXPECT_TRUE(tok.encode("", false, true).empty());
  EXPECT_EQ(ids_str(tok.encode("", true, true)), "128000");
  EXPECT_TRUE(tok.add_bos());  // from the TemplateProcessing post-processor
  EXPECT_FALSE(hf_tokenizer("qwen2.5").add_bos());
}

TEST(Tokenizer, ArbitraryBytesRoundTrip) {
  SEEK_REQUIRE_TOKENIZER("deepseek-v3");
  std::mt19937 rng(99);
  for (const char* name : {"deepseek-v3", "llama3.1"}) {
    const Tokenizer& tok = hf_tokenizer(name);
    for (int i = 0; i < 300; ++i) {
      std::string s(rng() % 64, '\0');
      for (char& c : s) c = char(rng());
      EXPECT_EQ(tok.decode(tok.encode(s, false, true)), s) << name;
    }
  }
}

TEST(Bpe, LoopsGiveIdenticalMerges) {
  // A tiny vocabulary: bytes are their own ids; merges a+b, ab+c, b+c, a+a, aa+a, aa+aa.
  std::array<int32_t, 256> byte_ids{};
  for (int b = 0; b < 256; ++b) byte_ids[size_t(b)] = b;
  const int32_t a = 'a', b = 'b', c = 'c', ab = 256, abc = 257, bc = 258, aa = 259, aaa = 260, aaaa = 261;
  const std::vector<BpeMerge> merges = {{b, c, bc}, {a, b, ab}, {ab, c, abc}, {a, a, aa}, {aa, a, aaa}, {aa, aa, aaaa}};
  const Bpe bpe(byte_ids, merges, false, nullptr);
  std::mt19937 rng(3);
  for (int i = 0; i < 2000; ++i) {
    std::string w;
    for (size_t k = 0, n = 1 + rng() % 120; k < n; ++k) w += "abc"[rng() % 3];
    std::vector<int32_t> x, y;
    bpe.encode_scan(w, x);
    bpe.encode_heap(w, y);
    ASSERT_EQ(x, y) << w;
  }
  std::vector<int32_t> out;
  // a+a (rank 3) beats aa+a (rank 4), leftmost first: aa.a.a.a -> aa.aa.a; then aa+a (4) beats aa+aa (5).
  bpe.encode_scan("aaaaa", out);
  EXPECT_EQ(out, (std::vector<int32_t>{aa, aaa}));
  out.clear();
  bpe.encode_scan("abc", out);  // b+c has the lower rank
  EXPECT_EQ(out, (std::vector<int32_t>{a, bc}));
}

TEST(StreamDecoder, HoldsSplitCharactersAndNeverEmitsInvalidUtf8) {
  SEEK_REQUIRE_TOKENIZER("deepseek-v3");
  const Tokenizer& tok = hf_tokenizer("deepseek-v3");
  const std::string text = "Emoji 👨‍👩‍👧 and 漢字 and ñ, 😀😀";
  const auto ids = tok.encode(text, false, true);
  StreamDecoder dec(tok);
  std::string out;
  bool some_partial = false;
  for (int32_t id : ids) {
    const std::string part = dec.push(id);
    EXPECT_TRUE(unicode::is_valid_utf8(part)) << "partial UTF-8 emitted for id " << id;
    if (!unicode::is_valid_utf8(std::string(tok.piece(id)))) some_partial = true;
    out += part;
  }
  out += dec.flush();
  EXPECT_EQ(out, text);
  EXPECT_TRUE(some_partial) << "the test text should contain tokens that end inside a character";

  // Ill-formed sequences become U+FFFD; an incomplete tail is held, then replaced at flush.
  const auto byte_token = [&](unsigned char b) { return *tok.find(byte_level_encode(std::string(1, char(b)))); };
  StreamDecoder d2(tok);
  EXPECT_EQ(d2.push(byte_token(0xE6)), "");
  EXPECT_EQ(d2.push(byte_token(0xBC)), "");
  EXPECT_EQ(d2.push(byte_token('x')), "\uFFFDx");
  EXPECT_EQ(d2.push(byte_token(0xFF)), "\uFFFD");
  EXPECT_EQ(d2.push(byte_token(0xF0)), "");
  EXPECT_EQ(d2.flush(), "\uFFFD");
  StreamDecoder d3(tok, /*skip_special=*/true);
  EXPECT_EQ(d3.push(0), "");
  EXPECT_EQ(d3.push(*tok.find("Hello")), "Hello");
}

}  // namespace
}  // namespace seek::test
