#include "config/json5.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <string>

namespace pincer::config {
namespace {

namespace json = boost::json;

json::value ok(std::string_view text) {
    auto r = parse_json5(text);
    if (auto* err = std::get_if<Json5Error>(&r)) {
        ADD_FAILURE() << "unexpected error for <" << text << ">: " << err->message;
        return nullptr;
    }
    return std::get<json::value>(r);
}

Json5Error err(std::string_view text) {
    auto r = parse_json5(text);
    if (auto* e = std::get_if<Json5Error>(&r)) return *e;
    ADD_FAILURE() << "expected an error for <" << text << ">, got " << json::serialize(std::get<json::value>(r));
    return {};
}

TEST(Json5, PlainJson) {
    EXPECT_EQ(ok(R"({"a": 1, "b": [true, false, null], "c": {"d": "e"}})"),
              json::parse(R"({"a": 1, "b": [true, false, null], "c": {"d": "e"}})"));
}

TEST(Json5, CommentsAndTrailingCommas) {
    EXPECT_EQ(ok("// head\n{ /* a */ a: 1, // tail\n b: [1, 2,], }\n/* end */"), json::parse(R"({"a":1,"b":[1,2]})"));
    EXPECT_EQ(ok("/** x **/ 1"), json::value(1));
    EXPECT_EQ(ok("1 // no newline"), json::value(1));
}

TEST(Json5, IdentifierKeys) {
    EXPECT_EQ(ok("{$a: 1, _b: 2, c3: 3, é: 4, 中文: 5}"), json::parse(R"({"$a":1,"_b":2,"c3":3,"é":4,"中文":5})"));
    EXPECT_EQ(ok(R"({\u0061b: 1, a\u0062c: 2})"), json::parse(R"({"ab":1,"abc":2})"));
    EXPECT_EQ(ok("{null: 1, true: 2, Infinity: 3}"), json::parse(R"({"null":1,"true":2,"Infinity":3})"));
}

TEST(Json5, Strings) {
    EXPECT_EQ(ok(R"('it\'s "x"')"), json::value("it's \"x\""));
    EXPECT_EQ(ok(R"("\b\f\n\r\t\v\0")"), json::value(std::string("\b\f\n\r\t\v\0", 7)));
    EXPECT_EQ(ok(R"("\x41\u00e9\uD83D\uDE00")"), json::value("Aé😀"));
    EXPECT_EQ(ok("'a\\\nb\\\r\nc'"), json::value("abc"));
    EXPECT_EQ(ok(R"("\a\q\/")"), json::value("aq/"));
    EXPECT_EQ(ok(R"("\uD800x")"), json::value("\xEF\xBF\xBDx")) << "lone surrogate becomes U+FFFD";
}

TEST(Json5, Numbers) {
    EXPECT_EQ(ok("[0x1F, -0x10, +0xff]"), json::parse("[31, -16, 255]"));
    EXPECT_EQ(ok(".5").as_double(), 0.5);
    EXPECT_EQ(ok("5.").as_double(), 5.0);
    EXPECT_EQ(ok("-.5e1").as_double(), -5.0);
    EXPECT_EQ(ok("+1").as_int64(), 1);
    EXPECT_EQ(ok("9007199254740993").as_int64(), 9007199254740993) << "int64 stays exact";
    EXPECT_TRUE(ok("18446744073709551616").is_double());
    EXPECT_TRUE(std::isinf(ok("Infinity").as_double()));
    EXPECT_LT(ok("-Infinity").as_double(), 0);
    EXPECT_TRUE(std::isnan(ok("NaN").as_double()));
    EXPECT_TRUE(std::isinf(ok("1e400").as_double()));
    EXPECT_EQ(ok("1e-400").as_double(), 0.0);
    EXPECT_EQ(ok("0xFFFFFFFFFFFFFFFFFF").as_double(), 4722366482869645213696.0);
}

TEST(Json5, DuplicateKeysLastWinsFirstPosition) {
    const auto v = ok("{a: 1, b: 2, a: 3}");
    const auto& obj = v.as_object();
    ASSERT_EQ(obj.size(), 2u);
    EXPECT_EQ(obj.begin()->key(), "a");
    EXPECT_EQ(obj.at("a"), 3);
}

TEST(Json5, ErrorsCarryLineAndColumn) {
    auto e = err("{\n  a: 1,\n  b: @\n}");
    EXPECT_EQ(e.message, "JSON5: invalid character '@' at 3:6");
    EXPECT_EQ(e.line, 3);
    EXPECT_EQ(e.column, 6);
    EXPECT_EQ(err("").message, "JSON5: invalid end of input at 1:1");
    EXPECT_EQ(err("{a: 1").message, "JSON5: invalid end of input at 1:6");
    EXPECT_EQ(err("[1,,2]").message, "JSON5: invalid character ',' at 1:4");
    EXPECT_EQ(err("{a 1}").message, "JSON5: invalid character '1' at 1:4");
    EXPECT_EQ(err("01").message, "JSON5: invalid character '1' at 1:2");
    EXPECT_EQ(err("{a: \"x\ny\"}").message, "JSON5: invalid character '\\n' at 2:0");
    EXPECT_EQ(err("[\"\\1\"]").message, "JSON5: invalid character '1' at 1:4");
    EXPECT_EQ(err("{\\u0030: 1}").message, "JSON5: invalid identifier character at 1:2");
    EXPECT_EQ(err("{a: \x01}").message, "JSON5: invalid character '\\x01' at 1:5");
    EXPECT_EQ(err("[\"😀\" x]").message, "JSON5: invalid character 'x' at 1:7") << "astral = 2 columns";
    EXPECT_EQ(err("/* open").message, "JSON5: invalid end of input at 1:8");
    EXPECT_EQ(err("{} x").message, "JSON5: invalid character 'x' at 1:4");
    EXPECT_EQ(err("nul").message, "JSON5: invalid end of input at 1:4");
    EXPECT_EQ(err("undefined").message, "JSON5: invalid character 'u' at 1:1");
}

TEST(Json5, RejectsInvalidUtf8) {
    EXPECT_EQ(err("{a: \"\xff\"}").message, "JSON5: invalid UTF-8 at 1:6");
    EXPECT_EQ(err("\"\xED\xA0\x80\"").message, "JSON5: invalid UTF-8 at 1:2") << "encoded surrogate";
}

TEST(Json5, DepthLimit) {
    std::string ok_text(kMaxJson5Depth, '[');
    ok_text += std::string(kMaxJson5Depth, ']');
    EXPECT_TRUE(std::holds_alternative<json::value>(parse_json5(ok_text)));
    std::string deep(kMaxJson5Depth + 1, '[');
    deep += std::string(kMaxJson5Depth + 1, ']');
    EXPECT_EQ(err(deep).message, "JSON5: nesting deeper than 256 at 1:257");
}

TEST(Json5, SizeLimit) {
    std::string big(kMaxJson5Bytes + 1, ' ');
    EXPECT_NE(err(big).message.find("too large"), std::string::npos);
}

TEST(Json5, SerializePrettyMatchesJsonStringify) {
    const auto v = ok("{b: 1, a: [1, 'x', {}, []], c: {d: null, e: 1.5, f: 1e21, g: NaN}, h: '\"\\\\\\n\\u0001é'}");
    EXPECT_EQ(serialize_pretty(v),
              "{\n"
              "  \"b\": 1,\n"
              "  \"a\": [\n"
              "    1,\n"
              "    \"x\",\n"
              "    {},\n"
              "    []\n"
              "  ],\n"
              "  \"c\": {\n"
              "    \"d\": null,\n"
              "    \"e\": 1.5,\n"
              "    \"f\": 1e+21,\n"
              "    \"g\": null\n"
              "  },\n"
              "  \"h\": \"\\\"\\\\\\n\\u0001é\"\n"
              "}");
    EXPECT_EQ(serialize_pretty(json::value(42)), "42");
    EXPECT_EQ(serialize_pretty(json::array()), "[]");
}

TEST(Json5, SerializeRoundTrips) {
    const auto v = ok("{a: [1, -2.25, 'é😀', {b: true}], c: 0.1, d: 123456789012}");
    EXPECT_EQ(ok(serialize_pretty(v)), v);
    EXPECT_EQ(json::parse(serialize_pretty(v)), v);
}

TEST(Json5, FormatNumberLikeJavaScript) {
    EXPECT_EQ(format_number(0.1), "0.1");
    EXPECT_EQ(format_number(-0.0), "0");
    EXPECT_EQ(format_number(100), "100");
    EXPECT_EQ(format_number(1e21), "1e+21");
    EXPECT_EQ(format_number(123456789012345680000.0), "123456789012345680000");
    EXPECT_EQ(format_number(1e-7), "1e-7");
    EXPECT_EQ(format_number(0.000001), "0.000001");
    EXPECT_EQ(format_number(1.5e-10), "1.5e-10");
    EXPECT_EQ(format_number(5e-324), "5e-324");
    EXPECT_EQ(format_number(0.30000000000000004), "0.30000000000000004");
}

}  // namespace
}  // namespace pincer::config
