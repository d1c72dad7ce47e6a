// The one output escape: printable ASCII out, every byte back.
#include "core/text_escape.h"

#include <gtest/gtest.h>

namespace tdsim {
namespace {

TEST(TextEscape, PrintableAsciiPassesBackslashAndEverythingElseIsEscaped) {
  EXPECT_EQ(escape_text("hello, world #1 ~"), "hello, world #1 ~");
  EXPECT_EQ(escape_text("a\\b"), "a\\\\b");
  EXPECT_EQ(escape_text("\x1b[2J\r\n\a\t"), "\\x1b[2J\\x0d\\x0a\\x07\\x09");
  EXPECT_EQ(escape_text(std::string("\0\x7f\xff\xc3(", 5)), "\\x00\\x7f\\xff\\xc3(");
  EXPECT_EQ(escape_text("\xc3\xa9"), "\\xc3\\xa9");  // even valid UTF-8: output stays ASCII
  EXPECT_EQ(escape_text("say \"hi\"", '"'), "say \\x22hi\\x22");
}

TEST(TextEscape, EveryByteStringRoundTripsAndTheOutputIsPrintableAscii) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  for (const std::string& raw : {all, std::string("\\x41"), std::string("\\\\x"), std::string()}) {
    for (char also : {'\0', '"'}) {
      const std::string e = escape_text(raw, also);
      for (char ch : e) ASSERT_TRUE(ch >= 0x20 && ch <= 0x7e) << e;
      const auto back = unescape_text(e);
      ASSERT_TRUE(back.has_value()) << e;
      EXPECT_EQ(*back, raw);
    }
  }
}

TEST(TextEscape, UnescapeRefusesWhatEscapeNeverWrites) {
  EXPECT_FALSE(unescape_text("a\\").has_value());
  EXPECT_FALSE(unescape_text("\\x4").has_value());
  EXPECT_FALSE(unescape_text("\\xzz").has_value());
  EXPECT_FALSE(unescape_text("\\xFF").has_value());
  EXPECT_FALSE(unescape_text("\\n").has_value());
  EXPECT_FALSE(unescape_text("tab\there").has_value());
}

}  // namespace
}  // namespace tdsim
