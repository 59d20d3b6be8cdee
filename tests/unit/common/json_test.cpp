#include "common/json.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <string>

namespace meadow {
namespace {

namespace json = boost::json;

json::object object_of(std::string_view text) {
  auto r = parse_json_object(text, "test object");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? r.value() : json::object{};
}

// ---------------------------------------------------------------- parse_json

TEST(ParseJson, AcceptsEveryKindOfValueWithSurroundingWhitespace) {
  auto r = parse_json(" \t\r\n{\"a\":[1,-2,3.5,true,false,null,\"x\"],\"b\":{}}\n ");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(to_json(*r), R"({"a":[1,-2,3.5,true,false,null,"x"],"b":{}})");

  auto num = parse_json("42");
  ASSERT_TRUE(num.ok());
  EXPECT_EQ(num->as_int64(), 42);
}

TEST(ParseJson, MalformedTextIsRefusedWithCodeAndOffset) {
  const char* bad[] = {"", "   ", "{", "[1,]", "{\"a\":}", "{'a':1}", "nul", "tru", "[1 2]",
                       "{\"a\" 1}", "\"unterminated", "01", "+1", "[1,2", "{\"a\":1,}", "// c\n1",
                       "NaN", "\"\xff\"", "\"a\x01\""};
  for (const char* text : bad) {
    auto r = parse_json(text);
    ASSERT_FALSE(r.ok()) << "accepted: " << text;
    EXPECT_EQ(r.error().kind, ErrorKind::invalid) << text;
    EXPECT_EQ(r.error().code, "bad-json") << text;
    EXPECT_NE(r.error().message.find("malformed JSON"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("byte"), std::string::npos) << r.error().message;
  }
}

TEST(ParseJson, ErrorNamesTheByteOffsetOfTheProblem) {
  auto r = parse_json("[1,2,x]");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("at byte 5"), std::string::npos) << r.error().message;
}

TEST(ParseJson, TrailingDataAfterTheValueIsRefusedAsSuch) {
  const char* bad[] = {"{} x", "{}{}", "1 2", "[1] [2]", "\"a\" \"b\"", "true false", "{}\n,", "null x",
                       "12x"};
  for (const char* text : bad) {
    auto r = parse_json(text);
    ASSERT_FALSE(r.ok()) << "accepted: " << text;
    EXPECT_EQ(r.error().code, "bad-json") << text;
    EXPECT_NE(r.error().message.find("unexpected data after the value"), std::string::npos)
        << text << " -> " << r.error().message;
  }
  auto r = parse_json("{} x");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("at byte 3"), std::string::npos) << r.error().message;
}

TEST(ParseJson, EmbeddedNulAfterTheValueIsTrailingData) {
  const std::string text("{}\0", 3);
  auto r = parse_json(text);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "bad-json");
}

TEST(ParseJson, HugeNestingIsRefusedWithoutRecursing) {
  const std::string deep(100'000, '[');
  auto r = parse_json(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "bad-json");
  EXPECT_NE(r.error().message.find("nesting deeper than 64 levels"), std::string::npos) << r.error().message;

  const std::string objects = [] {
    std::string s;
    for (int i = 0; i < 100'000; ++i) s += "{\"a\":";
    return s;
  }();
  auto o = parse_json(objects);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.error().message.find("nesting deeper than"), std::string::npos) << o.error().message;
}

TEST(ParseJson, DepthLimitIsExactAndConfigurable) {
  auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_TRUE(parse_json(nested(64)).ok());
  EXPECT_FALSE(parse_json(nested(65)).ok());

  EXPECT_TRUE(parse_json(nested(3), 3).ok());
  auto r = parse_json(nested(4), 3);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nesting deeper than 3 levels"), std::string::npos) << r.error().message;
}

TEST(ParseJsonObject, NonObjectTopLevelIsRefusedNamingWhatWasExpected) {
  for (const char* text : {"[]", "1", "\"s\"", "null", "true"}) {
    auto r = parse_json_object(text, "lease request");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().kind, ErrorKind::invalid);
    EXPECT_EQ(r.error().code, "bad-json");
    EXPECT_EQ(r.error().message, "lease request must be a JSON object");
  }
  auto bad = parse_json_object("{", "lease request");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("malformed JSON"), std::string::npos);

  auto ok = parse_json_object(R"({"max":3})", "lease request");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->at("max").as_int64(), 3);
}

// ---------------------------------------------------------------- JsonFields

TEST(JsonFields, ReadsPresentFieldsOfTheRightType) {
  auto o = object_of(R"({"s":"hi","i":7,"d":2.5,"di":3,"b":true,"a":[1,2],"o":{"k":1},"ss":["x","y"]})");
  JsonFields f(o, "thing");
  EXPECT_EQ(f.string("s"), "hi");
  EXPECT_EQ(f.integer("i", 0, 10), 7);
  EXPECT_DOUBLE_EQ(f.number_or("d", 0, 10, -1), 2.5);
  EXPECT_DOUBLE_EQ(f.number_or("di", 0, 10, -1), 3.0);
  EXPECT_TRUE(f.boolean_or("b", false));
  EXPECT_EQ(f.array("a", 2).size(), 2u);
  EXPECT_EQ(f.object("o").size(), 1u);
  EXPECT_EQ(f.strings_or_empty("ss", 5, 5), (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(f.has("s"));
  EXPECT_FALSE(f.has("nope"));
  EXPECT_TRUE(f.ok());
}

TEST(JsonFields, OptionalFieldsFallBackWhenAbsentOrNull) {
  auto o = object_of(R"({"n":null})");
  JsonFields f(o, "thing");
  EXPECT_EQ(f.string_or("n", "fb"), "fb");
  EXPECT_EQ(f.string_or("absent", "fb"), "fb");
  EXPECT_EQ(f.integer_or("n", 0, 10, 5), 5);
  EXPECT_EQ(f.integer_or("absent", 0, 10, 5), 5);
  EXPECT_DOUBLE_EQ(f.number_or("n", 0, 1, 0.5), 0.5);
  EXPECT_FALSE(f.boolean_or("absent", false));
  EXPECT_TRUE(f.boolean_or("n", true));
  EXPECT_TRUE(f.array_or_empty("n", 3).empty());
  EXPECT_TRUE(f.strings_or_empty("absent", 3, 3).empty());
  EXPECT_FALSE(f.has("n"));
  EXPECT_TRUE(f.ok());
}

TEST(JsonFields, MissingRequiredFieldNamesIt) {
  auto o = object_of(R"({"other":1})");
  JsonFields f(o, "lease request");
  (void)f.string("account");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().kind, ErrorKind::invalid);
  EXPECT_EQ(f.error().code, "missing-field");
  EXPECT_EQ(f.error().message, "lease request: field 'account' is required");
}

TEST(JsonFields, NullCountsAsMissingForRequiredFields) {
  auto o = object_of(R"({"task_id":null})");
  JsonFields f(o, "result");
  (void)f.integer("task_id", 1, 10);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, "missing-field");
  EXPECT_NE(f.error().message.find("'task_id'"), std::string::npos);
}

TEST(JsonFields, EveryRequiredReaderReportsMissing) {
  auto o = object_of("{}");
  {
    JsonFields f(o, "w");
    (void)f.integer("k", 0, 1);
    EXPECT_EQ(f.ok() ? "" : f.error().code, "missing-field");
  }
  {
    JsonFields f(o, "w");
    (void)f.array("k", 1);
    EXPECT_EQ(f.ok() ? "" : f.error().code, "missing-field");
  }
  {
    JsonFields f(o, "w");
    (void)f.object("k");
    EXPECT_EQ(f.ok() ? "" : f.error().code, "missing-field");
  }
}

struct WrongType {
  const char* json;
  const char* expected_problem;
};

TEST(JsonFields, WrongTypeNamesTheFieldAndTheTypeReceived) {
  const WrongType cases[] = {
      {R"({"k":1})", "field 'k' must be a string, not an integer"},
      {R"({"k":1.5})", "field 'k' must be a string, not a number"},
      {R"({"k":true})", "field 'k' must be a string, not a boolean"},
      {R"({"k":[]})", "field 'k' must be a string, not an array"},
      {R"({"k":{}})", "field 'k' must be a string, not an object"},
  };
  for (const auto& c : cases) {
    auto o = object_of(c.json);
    JsonFields f(o, "thing");
    EXPECT_EQ(f.string("k"), "");
    ASSERT_FALSE(f.ok()) << c.json;
    EXPECT_EQ(f.error().kind, ErrorKind::invalid);
    EXPECT_EQ(f.error().code, "bad-field");
    EXPECT_EQ(f.error().message, std::string("thing: ") + c.expected_problem);
  }
}

TEST(JsonFields, WrongTypesForEachReader) {
  auto o = object_of(R"({"s":"x","i":1,"d":2.0,"b":false})");
  auto problem = [&](auto read) {
    JsonFields f(o, "w");
    read(f);
    return f.ok() ? std::string("ok") : f.error().code + " " + f.error().message;
  };
  EXPECT_EQ(problem([](JsonFields& f) { (void)f.integer("s", 0, 9); }),
            "bad-field w: field 's' must be an integer, not a string");
  EXPECT_EQ(problem([](JsonFields& f) { (void)f.integer("d", 0, 9); }),
            "bad-field w: field 'd' must be an integer, not a number");
  EXPECT_EQ(problem([](JsonFields& f) { (void)f.integer_or("b", 0, 9, 0); }),
            "bad-field w: field 'b' must be an integer, not a boolean");
  EXPECT_EQ(problem([](JsonFields& f) { (void)f.number_or("s", 0, 9, 0); }),
            "bad-field w: field 's' must be a number, not a string");
  EXPECT_EQ(problem([](JsonFields& f) { (void)f.boolean_or("i", false); }),
            "bad-field w: field 'i' must be true or false, not an integer");
  EXPECT_EQ(problem([](JsonFields& f) { (void)f.array("s", 9); }),
            "bad-field w: field 's' must be an array, not a string");
  EXPECT_EQ(problem([](JsonFields& f) { (void)f.array_or_empty("i", 9); }),
            "bad-field w: field 'i' must be an array, not an integer");
  EXPECT_EQ(problem([](JsonFields& f) { (void)f.object("b"); }),
            "bad-field w: field 'b' must be an object, not a boolean");
  EXPECT_EQ(problem([](JsonFields& f) { (void)f.string_or("i", "", 9); }),
            "bad-field w: field 'i' must be a string, not an integer");
}

TEST(JsonFields, IntegerRangeIsInclusiveAndOutOfRangeSaysTheValue) {
  auto o = object_of(R"({"lo":1,"hi":256,"under":0,"over":257,"neg":-5})");
  JsonFields f(o, "lease request");
  EXPECT_EQ(f.integer("lo", 1, 256), 1);
  EXPECT_EQ(f.integer("hi", 1, 256), 256);
  EXPECT_TRUE(f.ok());

  for (const char* key : {"under", "over", "neg"}) {
    JsonFields g(o, "lease request");
    EXPECT_EQ(g.integer(key, 1, 256), 1) << "a failed read returns the minimum";
    ASSERT_FALSE(g.ok());
    EXPECT_EQ(g.error().code, "bad-field");
    EXPECT_NE(g.error().message.find(std::string("field '") + key + "' must be between 1 and 256, not "),
              std::string::npos)
        << g.error().message;
  }
}

TEST(JsonFields, IntegersBeyondInt64AreOutOfRange) {
  auto o = object_of(R"({"big":18446744073709551615,"neg":-9223372036854775808})");
  JsonFields f(o, "w");
  (void)f.integer("big", 0, INT64_MAX);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, "bad-field");
  EXPECT_NE(f.error().message.find("must be between 0 and 9223372036854775807"), std::string::npos)
      << f.error().message;

  JsonFields g(o, "w");
  EXPECT_EQ(g.integer("neg", INT64_MIN, 0), INT64_MIN);
  EXPECT_TRUE(g.ok());
}

TEST(JsonFields, NumberRange) {
  auto o = object_of(R"({"x":1.5,"y":-0.1})");
  JsonFields f(o, "w");
  EXPECT_DOUBLE_EQ(f.number_or("x", 0, 1.5, 0), 1.5);
  EXPECT_TRUE(f.ok());
  EXPECT_DOUBLE_EQ(f.number_or("y", 0, 1, 0.25), 0.25);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, "bad-field");
  EXPECT_NE(f.error().message.find("field 'y' must be between"), std::string::npos) << f.error().message;
}

TEST(JsonFields, StringLengthIsCountedInBytesAndCapped) {
  // "é" is two bytes in UTF-8.
  auto o = object_of(R"({"ok":"abcd","long":"abcde","utf8":"ééé"})");
  JsonFields f(o, "registration");
  EXPECT_EQ(f.string("ok", 4), "abcd");
  EXPECT_TRUE(f.ok());
  EXPECT_EQ(f.string("long", 4), "");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, "bad-field");
  EXPECT_EQ(f.error().message, "registration: field 'long' is longer than 4 bytes");

  JsonFields g(o, "registration");
  (void)g.string("utf8", 5);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().message.find("longer than 5 bytes"), std::string::npos);
  JsonFields h(o, "registration");
  EXPECT_EQ(h.string("utf8", 6), "ééé");
  EXPECT_TRUE(h.ok());
}

TEST(JsonFields, ArrayItemCapAndStringItems) {
  auto o = object_of(R"({"a":[1,2,3],"ss":["ab","c"],"mixed":["a",2],"longitem":["abc"]})");
  {
    JsonFields f(o, "w");
    EXPECT_TRUE(f.array("a", 2).empty());
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.error().message, "w: field 'a' has more than 2 items");
  }
  {
    JsonFields f(o, "w");
    EXPECT_TRUE(f.strings_or_empty("mixed", 5, 5).empty());
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.error().message, "w: field 'mixed' item 1 must be a string, not an integer");
  }
  {
    JsonFields f(o, "w");
    EXPECT_TRUE(f.strings_or_empty("longitem", 5, 2).empty());
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.error().message, "w: field 'longitem' item 0 is longer than 2 bytes");
  }
  {
    JsonFields f(o, "w");
    EXPECT_TRUE(f.strings_or_empty("ss", 1, 5).empty());
    ASSERT_FALSE(f.ok());
    EXPECT_NE(f.error().message.find("more than 1 items"), std::string::npos);
  }
}

TEST(JsonFields, FirstErrorWinsAndLaterReadsReturnDefaults) {
  auto o = object_of(R"({"a":"not a number","b":5,"c":"fine"})");
  JsonFields f(o, "thing");
  (void)f.integer("a", 0, 10);              // first problem: wrong type
  (void)f.string("missing");                // would be missing-field
  EXPECT_EQ(f.integer("b", 0, 3), 0);       // would be out of range; returns the minimum
  EXPECT_EQ(f.string("c"), "");             // valid, but reads after an error return defaults
  EXPECT_EQ(f.integer_or("b", 0, 10, 9), 0);
  EXPECT_TRUE(f.boolean_or("b", true));
  f.fail("c", "is wrong too");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, "bad-field");
  EXPECT_EQ(f.error().message, "thing: field 'a' must be an integer, not a string");
}

TEST(JsonFields, MissingFieldFirstIsKeptOverLaterTypeError) {
  auto o = object_of(R"({"b":"x"})");
  JsonFields f(o, "thing");
  (void)f.string("a");
  (void)f.integer("b", 0, 1);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, "missing-field");
  EXPECT_NE(f.error().message.find("'a'"), std::string::npos);
}

TEST(JsonFields, CallerCheckFailNamesTheField) {
  auto o = object_of(R"({"account":""})");
  JsonFields f(o, "registration");
  EXPECT_EQ(f.string("account"), "");
  EXPECT_TRUE(f.ok());
  f.fail("account", "must not be empty");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().kind, ErrorKind::invalid);
  EXPECT_EQ(f.error().code, "bad-field");
  EXPECT_EQ(f.error().message, "registration: field 'account' must not be empty");
}

// ---------------------------------------------------------------- canonical_json

TEST(CanonicalJson, SortsKeysAtEveryLevelWithoutWhitespace) {
  auto v = parse_json(R"( { "b" : 1 , "a" : { "z" : [ { "y" : 1 , "x" : 2 } ] , "m" : null } , "c" : "s" } )");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(canonical_json(*v), R"({"a":{"m":null,"z":[{"x":2,"y":1}]},"b":1,"c":"s"})");
}

TEST(CanonicalJson, SameBytesForDifferentlyOrderedObjects) {
  auto a = parse_json(R"({"url":"https://e.com/","fields":{"title":"T","price":"3"},"n":[3,1,2]})");
  auto b = parse_json(R"({"n":[3,1,2],"fields":{"price":"3","title":"T"},"url":"https://e.com/"})");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(to_json(*a), to_json(*b));
  EXPECT_EQ(canonical_json(*a), canonical_json(*b));
  // Array order is meaningful and kept.
  EXPECT_NE(canonical_json(*a).find("[3,1,2]"), std::string::npos);
}

TEST(CanonicalJson, KeysSortByUtf8BytesNotByLocale) {
  json::object o;
  o["é"] = 1;  // 0xC3 0xA9
  o["z"] = 2;  // 0x7A
  o["Z"] = 3;  // 0x5A
  o["aa"] = 4;
  o["a"] = 5;
  o[""] = 6;
  EXPECT_EQ(canonical_json(o), "{\"\":6,\"Z\":3,\"a\":5,\"aa\":4,\"z\":2,\"\xC3\xA9\":1}");
}

TEST(CanonicalJson, ScalarsAndEscapes) {
  EXPECT_EQ(canonical_json(json::value(nullptr)), "null");
  EXPECT_EQ(canonical_json(json::value(-7)), "-7");
  EXPECT_EQ(canonical_json(json::value("a\"b\n")), R"("a\"b\n")");
  json::object o;
  o["k\"ey"] = json::array{};
  EXPECT_EQ(canonical_json(o), R"({"k\"ey":[]})");
}

TEST(CanonicalJson, ReparsingCanonicalBytesGivesTheSameBytes) {
  auto v = parse_json(R"({"x":1.25,"w":[true,{"b":-0.5,"a":1e300}],"s":"\u00e9\t"})");
  ASSERT_TRUE(v.ok());
  const std::string once = canonical_json(*v);
  auto again = parse_json(once);
  ASSERT_TRUE(again.ok()) << once;
  EXPECT_EQ(canonical_json(*again), once);
}

TEST(CanonicalJson, WithoutAMemberIsTheBytesOfTheObjectWithoutIt) {
  auto v = parse_json(R"({"signature":"x","b":{"signature":"kept"},"a":1,"signaturex":2})");
  ASSERT_TRUE(v.ok());
  json::object copy = v->as_object();
  copy.erase("signature");
  EXPECT_EQ(canonical_json_without(v->as_object(), "signature"), canonical_json(copy));
  EXPECT_EQ(canonical_json_without(v->as_object(), "signature"), R"({"a":1,"b":{"signature":"kept"},"signaturex":2})");
  // The first member left out, the last, the only one, and one that is not there.
  EXPECT_EQ(canonical_json_without(v->as_object(), "a"), R"({"b":{"signature":"kept"},"signature":"x","signaturex":2})");
  EXPECT_EQ(canonical_json_without(v->as_object(), "signaturex"), R"({"a":1,"b":{"signature":"kept"},"signature":"x"})");
  EXPECT_EQ(canonical_json_without(json::object{{"k", 1}}, "k"), "{}");
  EXPECT_EQ(canonical_json_without(v->as_object(), "zz"), canonical_json(*v));
  // A member with an empty name is a member like any other.
  EXPECT_EQ(canonical_json_without(json::object{{"", 1}, {"a", 2}}, ""), R"({"a":2})");
}

// ---------------------------------------------------------------- json_quote

TEST(JsonQuote, QuotesAndEscapes) {
  EXPECT_EQ(json_quote(""), R"("")");
  EXPECT_EQ(json_quote("plain"), R"("plain")");
  EXPECT_EQ(json_quote("a\"b"), R"("a\"b")");
  EXPECT_EQ(json_quote("back\\slash"), R"("back\\slash")");
  EXPECT_EQ(json_quote("line\nbreak\ttab\rcr"), R"("line\nbreak\ttab\rcr")");
  EXPECT_EQ(json_quote(std::string("nul\0x", 5)), R"("nul\u0000x")");
  EXPECT_EQ(json_quote("\x01\x1f"), R"("\u0001\u001f")");
  EXPECT_EQ(json_quote("caf\xC3\xA9 \xE2\x82\xAC"), "\"caf\xC3\xA9 \xE2\x82\xAC\"");
}

TEST(JsonQuote, ResultParsesBackToTheSameString) {
  const std::string inputs[] = {"", "x", "\"\\/\b\f\n\r\t", std::string("\0\x7f", 2), "\xF0\x9F\x8C\xBC meadow"};
  for (const auto& s : inputs) {
    auto r = parse_json(json_quote(s));
    ASSERT_TRUE(r.ok()) << json_quote(s);
    ASSERT_TRUE(r->is_string());
    EXPECT_EQ(std::string(r->as_string()), s);
  }
}

// Signatures are made over these bytes, so they may never drift from what boost::json
// writes for the same string. Runs start at every offset so that every position of the
// eight-byte scan meets every kind of byte.
TEST(JsonQuote, SameBytesAsBoostSerialize) {
  const std::string pieces[] = {"a", "Z", " ", "~", "\x7f", "\"", "\\", "/", "\n", "\t", "\b", "\f", "\r",
                                std::string(1, '\0'), "\x01", "\x0b", "\x1f", "\xC3\xA9", "\xE2\x82\xAC",
                                "\xF0\x9F\x8C\xBC", "\xEF\xBF\xBF", "0123456789abcdef"};
  auto same = [](const std::string& s) {
    EXPECT_EQ(json_quote(s), json::serialize(json::string_view(s.data(), s.size()))) << "input of " << s.size() << " bytes";
  };
  for (int c = 0; c < 0x80; ++c) {
    for (std::size_t at = 0; at < 40; ++at) same(std::string(at, 'x') + static_cast<char>(c) + std::string(at % 19, 'y'));
  }
  std::uint32_t seed = 12345;
  auto next = [&seed] { return seed = seed * 1103515245u + 12345u; };
  for (int round = 0; round < 2000; ++round) {
    std::string s;
    const std::size_t n = next() % 40;
    for (std::size_t i = 0; i < n; ++i) s += pieces[(next() >> 8) % std::size(pieces)];
    same(s);
  }
}

TEST(JsonQuote, InvalidBytesBecomeReplacementCharactersWrittenAsBoostWould) {
  const std::string inputs[] = {"\xff", "abcdefgh\xffijklmnop", "\xC3\xA9\xC3", "\x80\x80\x80\x80\x80\x80\x80\x80\x80",
                                "\"\xFE\n", "x\xED\xA0\x80yyyyyyyyyy"};
  for (const auto& s : inputs) {
    const std::string quoted = json_quote(s);
    auto r = parse_json(quoted);
    ASSERT_TRUE(r.ok()) << quoted;
    EXPECT_EQ(json::serialize(r->as_string()), quoted);
  }
  EXPECT_EQ(json_quote("\xC3\xA9\xC3"), "\"\xC3\xA9\xEF\xBF\xBD\"");
}

TEST(JsonQuote, AppendsAfterWhatIsThere) {
  std::string out = "[";
  append_json_quoted(out, "a\"b");
  EXPECT_EQ(out, R"(["a\"b")");
}

TEST(CanonicalJson, AppendedAfterAPrefixIsTheSameBytes) {
  const json::object o = object_of(R"({"b":[1,{"y":"\u0001","x":null}],"a":"text \u00e9"})");
  std::string out = "prefix:";
  append_canonical_json(out, o);
  EXPECT_EQ(out, "prefix:" + canonical_json(o));
}

TEST(JsonQuote, InvalidUtf8StillGivesValidJson) {
  // Messages can quote request paths or headers with raw bytes; the output must stay JSON.
  const std::string inputs[] = {"a\xff" "b", "\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                                "ok \xE2\x82"};
  for (const auto& s : inputs) {
    const std::string quoted = json_quote(s);
    auto r = parse_json(quoted);
    ASSERT_TRUE(r.ok()) << "not JSON for input of " << s.size() << " bytes: " << r.error().message;
    ASSERT_TRUE(r->is_string());
    EXPECT_NE(std::string(r->as_string()).find("\xEF\xBF\xBD"), std::string::npos)
        << "invalid bytes become U+FFFD";
  }
  auto r = parse_json(json_quote("a\xff" "b"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::string(r->as_string()), "a\xEF\xBF\xBD" "b");
}

}  // namespace
}  // namespace meadow

namespace meadow {
namespace {

TEST(JsonNumbers, ShortestExactFormWithoutExponentNoise) {
  auto v = parse_json(R"({"a":5.0,"b":0.1,"c":2.5,"d":-3,"e":1e21})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(to_json(*v), R"({"a":5,"b":0.1,"c":2.5,"d":-3,"e":1e+21})");
  EXPECT_EQ(canonical_json(*v), to_json(*v));
  // Reading the output back gives the same bytes again: canonical bytes are stable.
  auto again = parse_json(canonical_json(*v));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(canonical_json(*again), canonical_json(*v));
}

}  // namespace
}  // namespace meadow
