#include "common/charset.h"

#include <gtest/gtest.h>

namespace meadow::charset {
namespace {

TEST(CharsetLabels, CanonicalNamesFollowWhatwg) {
  const std::pair<const char*, const char*> table[] = {
      {"UTF-8", "utf-8"},
      {" utf8 ", "utf-8"},
      {"ISO-8859-1", "windows-1252"},
      {"latin1", "windows-1252"},
      {"US-ASCII", "windows-1252"},
      {"cp1252", "windows-1252"},
      {"Shift_JIS", "shift_jis"},
      {"sjis", "shift_jis"},
      {"windows-31j", "shift_jis"},
      {"EUC-JP", "euc-jp"},
      {"gb2312", "gbk"},
      {"GB18030", "gb18030"},
      {"big5", "big5"},
      {"ks_c_5601-1987", "euc-kr"},
      {"koi8-r", "koi8-r"},
      {"iso-8859-9", "windows-1254"},
      {"tis-620", "windows-874"},
      {"utf-16", "utf-16le"},
      {"x-user-defined", ""},
      {"klingon", ""},
      {"", ""},
  };
  for (const auto& [label, name] : table) EXPECT_EQ(canonical_name(label), name) << label;
}

TEST(CharsetContentType, ReadsTheCharsetParameter) {
  const std::pair<const char*, const char*> table[] = {
      {"text/html; charset=UTF-8", "UTF-8"},
      {"text/html;charset=\"Shift_JIS\"", "Shift_JIS"},
      {"text/html ; Charset = windows-1252 ; foo=bar", "windows-1252"},
      {"text/html; foo=\"a;charset=x\"; charset=koi8-r", "koi8-r"},
      {"text/html", ""},
      {"", ""},
      {"charset=utf-8", ""},
  };
  for (const auto& [ct, label] : table) EXPECT_EQ(content_type_charset(ct), label) << ct;
}

TEST(CharsetMeta, PrescanFindsDeclarations) {
  const std::pair<const char*, const char*> table[] = {
      {"<html><head><meta charset=\"shift_jis\">", "shift_jis"},
      {"<META CHARSET=ISO-8859-1>", "windows-1252"},
      {"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=euc-jp\">", "euc-jp"},
      {"<meta content='text/html; charset=koi8-r' http-equiv='content-type'>", "koi8-r"},
      // content without the http-equiv pragma does not count
      {"<meta content=\"text/html; charset=euc-jp\">", ""},
      // a meta naming UTF-16 was read as ASCII, so it means UTF-8
      {"<meta charset=utf-16>", "utf-8"},
      // comments and other attributes are skipped
      {"<!-- <meta charset=koi8-r> --><meta charset=big5>", "big5"},
      {"<div title='<meta charset=koi8-r>'></div><meta charset=gbk>", "gbk"},
      // an unknown label is passed over
      {"<meta charset=bogus><meta charset=windows-1251>", "windows-1251"},
      {"<p>charset=utf-8</p>", ""},
      {"<meta charset", ""},
      {"", ""},
  };
  for (const auto& [html, name] : table) EXPECT_EQ(meta_charset(html), name) << html;
}

TEST(CharsetUtf8, Validity) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii that is longer than eight bytes"));
  EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("caf\xE9"));           // Latin-1 byte
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xE6\x97"));          // truncated
}

TEST(CharsetDetect, OrderOfPrecedence) {
  struct Case {
    const char* name;
    std::string body;
    const char* content_type;
    const char* charset;
    Source source;
  };
  const Case cases[] = {
      {"bom beats header", "\xEF\xBB\xBF<p>x</p>", "text/html; charset=iso-8859-1", "utf-8", Source::bom},
      {"utf-16le bom", std::string("\xFF\xFE<\0", 4), "", "utf-16le", Source::bom},
      {"utf-16be bom", std::string("\xFE\xFF\0<", 4), "", "utf-16be", Source::bom},
      {"header beats meta", "<meta charset=shift_jis>", "text/html; charset=koi8-r", "koi8-r", Source::header},
      {"unknown header label falls through", "<meta charset=shift_jis>", "text/html; charset=nope", "shift_jis",
       Source::meta},
      {"meta", "<meta charset=euc-kr>\xB0\xA1", "text/html", "euc-kr", Source::meta},
      {"valid utf-8", "<p>caf\xC3\xA9</p>", "", "utf-8", Source::utf8_valid},
      {"plain ascii", "<p>cafe</p>", "", "utf-8", Source::utf8_valid},
      {"fallback", "<p>caf\xE9</p>", "", "windows-1252", Source::fallback},
  };
  for (const auto& c : cases) {
    const Detection d = detect(c.body, c.content_type);
    EXPECT_EQ(d.name, c.charset) << c.name;
    EXPECT_EQ(d.source, c.source) << c.name << ": " << to_string(d.source);
  }
}

TEST(CharsetDetect, MetaOnlyCountsInThePrescanWindow) {
  const std::string late = std::string(kPrescanBytes, ' ') + "<meta charset=koi8-r>";
  EXPECT_EQ(detect(late, "").name, "utf-8");
}

TEST(CharsetDecode, Windows1252FromHeader) {
  const Decoded d = decode("caf\xE9 \x96 \x93quoted\x94 \x80", "text/html; charset=windows-1252");
  EXPECT_EQ(d.charset, "windows-1252");
  EXPECT_EQ(d.text, "café – “quoted” €");
}

TEST(CharsetDecode, Latin1HeaderReadsAsWindows1252) {
  const Decoded d = decode("\x93hi\x94", "text/html; charset=ISO-8859-1");
  EXPECT_EQ(d.charset, "windows-1252");
  EXPECT_EQ(d.text, "“hi”");
}

TEST(CharsetDecode, ShiftJisViaMeta) {
  const Decoded d = decode("<meta charset=\"Shift_JIS\"><p>\x93\xFA\x96\x7B\x8C\xEA \\</p>", "text/html");
  EXPECT_EQ(d.charset, "shift_jis");
  EXPECT_EQ(d.source, Source::meta);
  // 0x5C stays a backslash, as browsers read it.
  EXPECT_EQ(d.text, "<meta charset=\"Shift_JIS\"><p>日本語 \\</p>");
}

TEST(CharsetDecode, LyingHeaderLosesToBom) {
  const Decoded d = decode("\xEF\xBB\xBF<p>caf\xC3\xA9</p>", "text/html; charset=iso-8859-1");
  EXPECT_EQ(d.charset, "utf-8");
  EXPECT_EQ(d.source, Source::bom);
  EXPECT_EQ(d.text, "<p>café</p>");  // the BOM itself is gone
}

TEST(CharsetDecode, Utf16WithBom) {
  const Decoded le = decode(std::string("\xFF\xFEh\0\xE9\0", 6), "");
  EXPECT_EQ(le.text, "hé");
  const Decoded be = decode(std::string("\xFE\xFF\0h\0\xE9", 6), "");
  EXPECT_EQ(be.text, "hé");
  // An odd trailing byte is one replacement character.
  EXPECT_EQ(decode(std::string("\xFF\xFEh\0x", 5), "").text, "h\xEF\xBF\xBD");
}

TEST(CharsetDecode, InvalidUtf8BecomesReplacementCharacters) {
  const std::pair<std::string, std::string> table[] = {
      {"a\xFF"
       "b",
       "a\uFFFD"
       "b"},
      {"caf\xE9!", "caf\uFFFD!"},
      {"\xC0\xAF", "\uFFFD\uFFFD"},  // overlong: two bad bytes
      {"\xE6\x97"
       "x",
       "\uFFFDx"},                                     // truncated sequence: one U+FFFD
      {"\xED\xA0\x80", "\uFFFD\uFFFD\uFFFD"},          // surrogate
      {"ok \xF0\x9F\x98\x80", "ok \xF0\x9F\x98\x80"},  // valid 4-byte sequence kept
      {"end \xF0\x9F", "end \uFFFD"},
  };
  for (const auto& [in, out] : table) {
    const Decoded d = decode(in, "text/html; charset=utf-8");
    EXPECT_EQ(d.text, out);
    EXPECT_TRUE(is_valid_utf8(d.text));
  }
}

TEST(CharsetDecode, InvalidMultibyteBecomesReplacementCharacters) {
  // 0x81 0x20 is a Shift_JIS lead byte followed by a byte that cannot trail it.
  const std::string out = to_utf8("a\x81 b\x82", "shift_jis");
  EXPECT_TRUE(is_valid_utf8(out));
  EXPECT_NE(out.find("\uFFFD"), std::string::npos);
  EXPECT_EQ(out.front(), 'a');
  // Bytes windows-1252 leaves undefined.
  EXPECT_EQ(to_utf8("x\x81y", "windows-1252"), "x\uFFFDy");
}

TEST(CharsetDecode, OtherEncodings) {
  EXPECT_EQ(to_utf8("\xF0\xD2\xC9\xD7\xC5\xD4", "koi8-r"), "Привет");
  EXPECT_EQ(to_utf8("\xC4\xE3\xBA\xC3", "gbk"), "你好");
  EXPECT_EQ(to_utf8("\xB0\xA1", "euc-kr"), "가");
  EXPECT_EQ(to_utf8("\xC6\xFC\xCB\xDC", "euc-jp"), "日本");
  EXPECT_EQ(to_utf8("\x1B$BF|K\\\x1B(B!", "iso-2022-jp"), "日本!");
  EXPECT_EQ(to_utf8("caf\xE9", "no-such-encoding"), "café");  // read as windows-1252
}

TEST(CharsetDecode, BinaryGarbageNeverFails) {
  std::string garbage;
  std::uint32_t x = 12345;
  for (int i = 0; i < 64 * 1024; ++i) {
    x = x * 1664525u + 1013904223u;
    garbage += static_cast<char>(x >> 24);
  }
  garbage[100] = '\0';
  for (const char* name : {"utf-8", "windows-1252", "shift_jis", "euc-jp", "gbk", "big5", "euc-kr", "iso-2022-jp",
                           "utf-16le", "utf-16be", "koi8-r"}) {
    const std::string out = to_utf8(garbage, name);
    EXPECT_TRUE(is_valid_utf8(out)) << name;
    EXPECT_FALSE(out.empty()) << name;
  }
  const Decoded d = decode(garbage, "");
  EXPECT_TRUE(is_valid_utf8(d.text));
  EXPECT_EQ(decode("", "").charset, "utf-8");
  EXPECT_EQ(decode("", "").text, "");
}

}  // namespace
}  // namespace meadow::charset
