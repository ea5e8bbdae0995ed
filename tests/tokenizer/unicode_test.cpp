// UTF-8 handling, the byte-level mapping, the generated Unicode tables (checked against PCRE2's own Unicode data)
// and NFC basics.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <set>

#include "test_util.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/nfc.h"
#include "tokenizer/unicode.h"
#include "tokenizer/unicode_tables.h"

namespace seek::test {
namespace {

using namespace seek::unicode;

TEST(Utf8, DecodesStrictly) {
  const auto dec = [](std::string s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    return decode_utf8(p, p + s.size());
  };
  EXPECT_EQ(dec("a").cp, 'a');
  EXPECT_EQ(dec("é").cp, 0xE9u);
  EXPECT_EQ(dec("€").cp, 0x20ACu);
  EXPECT_EQ(dec("😀").cp, 0x1F600u);
  EXPECT_EQ(dec("😀").len, 4u);
  EXPECT_EQ(dec("\xC0\x80").cp, kInvalidBase + 0xC0);      // overlong
  EXPECT_EQ(dec("\xED\xA0\x80").cp, kInvalidBase + 0xED);  // surrogate
  EXPECT_EQ(dec("\xF4\x90\x80\x80").cp, kInvalidBase + 0xF4);  // above U+10FFFF
  EXPECT_EQ(dec("\xE2\x82").cp, kInvalidBase + 0xE2);      // truncated
  EXPECT_EQ(dec("\x80").len, 1u);
}

TEST(Utf8, SanitizeReplacesMaximalSubparts) {
  EXPECT_EQ(sanitize_utf8("ok"), "ok");
  EXPECT_EQ(sanitize_utf8("a\xFF" "b"), "a\uFFFD" "b");
  EXPECT_EQ(sanitize_utf8("\xE2\x82"), "\uFFFD");          // one U+FFFD for the truncated sequence
  EXPECT_EQ(sanitize_utf8("\xE2\x82" "A"), "\uFFFD" "A");
  EXPECT_EQ(sanitize_utf8("\xF0\x9F\x98"), "\uFFFD");
  EXPECT_EQ(sanitize_utf8("\xED\xA0\x80"), "\uFFFD\uFFFD\uFFFD");  // surrogates: each byte is its own subpart
  std::string out;
  EXPECT_EQ(append_sanitized_utf8("ab\xF0\x9F", false, out), 2u);  // holds back a completable tail
  EXPECT_EQ(out, "ab");
  EXPECT_TRUE(is_valid_utf8("héllo 😀"));
  EXPECT_FALSE(is_valid_utf8("h\xC3"));
}

TEST(ByteLevel, Gpt2Mapping) {
  EXPECT_EQ(byte_level_encode(" "), "Ġ");
  EXPECT_EQ(byte_level_encode("\n"), "Ċ");
  EXPECT_EQ(byte_level_encode("\t"), "ĉ");
  EXPECT_EQ(byte_level_encode("a!~"), "a!~");
  EXPECT_EQ(byte_level_encode("é"), "Ã©");
  std::set<uint32_t> seen;
  for (int b = 0; b < 256; ++b) {
    seen.insert(byte_to_unicode(uint8_t(b)));
    const std::string one(1, char(b));
    EXPECT_EQ(byte_level_decode(byte_level_encode(one)), std::optional<std::string>(one)) << b;
  }
  EXPECT_EQ(seen.size(), 256u);
  EXPECT_EQ(byte_level_decode("hello€"), std::nullopt);  // '€' is not one of the 256 byte characters
}

// Our tables follow this Node's ICU; PCRE2 has its own (older) Unicode version. They must agree everywhere except on
// characters that changed between the two versions, which are few.
TEST(UnicodeTables, AgreeWithPcre2) {
  struct Class {
    const char* pattern;
    uint8_t flag;
  };
  const Class classes[] = {{"\\p{L}", kLetter}, {"\\p{N}", kNumber}, {"\\p{M}", kMark}, {"\\p{P}", kPunct}, {"\\p{S}", kSymbol}};
  size_t differ = 0, checked = 0;
  for (const Class& c : classes) {
    int code;
    PCRE2_SIZE off;
    pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(c.pattern), PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &off, nullptr);
    ASSERT_NE(re, nullptr);
    pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
    for (uint32_t cp = 0; cp < 0x110000; ++cp) {
      if (cp >= 0xD800 && cp <= 0xDFFF) continue;
      std::string s;
      append_utf8(s, cp);
      const bool pcre = pcre2_match(re, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), 0, PCRE2_ANCHORED, md, nullptr) > 0;
      const bool ours = flags(cp) & c.flag;
      ++checked;
      if (pcre != ours) ++differ;
    }
    pcre2_match_data_free(md);
    pcre2_code_free(re);
  }
  std::printf("[ unicode ] tables (Unicode %s) vs PCRE2: %zu of %zu (code point, class) pairs differ\n",
              unicode_tables::kUnicodeVersion, differ, checked);
  EXPECT_LT(differ, 20000u);  // Unicode 15.0-17.0 added ~15k characters (PCRE2 10.42 has 14.0)
  for (uint32_t cp : {uint32_t('a'), 0x4E00u, 0x00E9u, 0x05D0u}) EXPECT_TRUE(flags(cp) & kLetter) << cp;
  for (uint32_t cp : {uint32_t('7'), 0x0663u, 0x2163u, 0x00BDu}) EXPECT_TRUE(flags(cp) & kNumber) << cp;
  for (uint32_t cp : {0x0301u, 0xFE0Fu, 0x20E3u}) EXPECT_TRUE(flags(cp) & kMark) << cp;
  for (uint32_t cp : {uint32_t(' '), uint32_t('\t'), 0x00A0u, 0x3000u, 0x2028u, 0xFEFFu}) EXPECT_TRUE(flags(cp) & kSpace) << cp;
  EXPECT_FALSE(flags(0x0085) & kSpace);  // JavaScript's \s leaves out NEL
  EXPECT_FALSE(flags(0x200D) & (kLetter | kMark | kSpace | kPunct | kSymbol));  // ZWJ is Cf
}

TEST(Nfc, ComposesReordersAndLeavesNfcAlone) {
  EXPECT_EQ(nfc("e\u0301"), "\u00E9");
  EXPECT_EQ(nfc("\u1100\u1161\u11A8"), "\uAC01");       // Hangul L V T
  EXPECT_EQ(nfc("a\u0323\u0302"), "\u1EAD");           // ậ
  EXPECT_EQ(nfc("a\u0302\u0323"), "\u1EAD");           // same after canonical reordering
  EXPECT_EQ(nfc("\u212B"), "\u00C5");                  // Angstrom sign -> Å (singleton)
  EXPECT_EQ(nfc("\uF900"), "\u8C48");                  // CJK compatibility ideograph
  EXPECT_EQ(nfc("abc \xFF\xFE"), "abc \xFF\xFE");      // ill-formed bytes pass through
  EXPECT_FALSE(nfc_may_change("plain ASCII and café and 漢字"));
  EXPECT_TRUE(nfc_may_change("cafe\u0301"));
}

}  // namespace
}  // namespace seek::test
