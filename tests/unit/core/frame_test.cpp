#include "core/frame.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

using namespace pincer;
using namespace pincer::core;

TEST(Frame, ValidRequestKeepsParams) {
    auto f = parse_inbound(R"({"type":"req","id":"r1","method":"health","params":{"probe":true}})");
    auto* req = std::get_if<RequestFrame>(&f);
    ASSERT_NE(req, nullptr);
    EXPECT_EQ(req->id, "r1");
    EXPECT_EQ(req->method, "health");
    EXPECT_TRUE(req->params.at("probe").as_bool());
}

TEST(Frame, MissingParamsIsNull) {
    auto f = parse_inbound(R"({"type":"req","id":"r1","method":"health"})");
    ASSERT_TRUE(std::holds_alternative<RequestFrame>(f));
    EXPECT_TRUE(std::get<RequestFrame>(f).params.is_null());
}

TEST(Frame, NonJsonIsIgnorable) {
    EXPECT_TRUE(std::holds_alternative<NotJson>(parse_inbound("{this is not json")));
    EXPECT_TRUE(std::holds_alternative<NotJson>(parse_inbound("")));
}

TEST(Frame, MissingMethodMatchesReferenceWording) {
    auto f = parse_inbound(R"({"type":"req","id":"bad-1"})");
    auto& bad = std::get<InvalidFrame>(f);
    EXPECT_EQ(bad.reply_id, "bad-1");
    EXPECT_EQ(bad.message, "invalid request frame: must have required property 'method'");
}

TEST(Frame, ClientEventFrameMatchesReferenceWording) {
    auto f = parse_inbound(R"({"type":"event","event":"x","payload":{}})");
    auto& bad = std::get<InvalidFrame>(f);
    EXPECT_EQ(bad.reply_id, "invalid");
    EXPECT_EQ(bad.message,
              "invalid request frame: must have required property 'id'; at root: unexpected property 'event'; at "
              "/type: must be equal to constant");
}

TEST(Frame, NumericIdRepliesUnderInvalid) {
    auto f = parse_inbound(R"({"type":"req","id":7,"method":"health"})");
    auto& bad = std::get<InvalidFrame>(f);
    EXPECT_EQ(bad.reply_id, "invalid");
    EXPECT_EQ(bad.message, "invalid request frame: at /id: must be string");
}

TEST(Frame, ArrayIsNotAnObject) {
    auto bad = std::get<InvalidFrame>(parse_inbound("[1,2]"));
    EXPECT_EQ(bad.message, "invalid request frame: must be object");
}

TEST(Frame, SerializersProduceParseableFrames) {
    auto ok = boost::json::parse(serialize_ok("a\"b", json::object{{"x", 1}}));
    EXPECT_EQ(ok.at("id").as_string(), "a\"b");
    EXPECT_TRUE(ok.at("ok").as_bool());
    RpcError e = RpcError::invalid("nope");
    e.retryable = true;
    e.retry_after_ms = 500;
    auto err = boost::json::parse(serialize_error("i", e));
    EXPECT_EQ(err.at("error").at("code").as_string(), "INVALID_REQUEST");
    EXPECT_EQ(err.at("error").at("retryAfterMs").as_int64(), 500);
    auto ev = boost::json::parse(serialize_event("tick", json::object{{"ts", 1}}, 3));
    EXPECT_EQ(ev.at("seq").as_int64(), 3);
    auto noseq = boost::json::parse(serialize_event("connect.challenge", json::object{}));
    EXPECT_FALSE(noseq.as_object().contains("seq"));
}

TEST(Frame, NumbersBeyondDoubleRangeAreRefused) {
    // Boost.JSON would turn 1e400 into infinity and write it back as `Infinity` (not JSON).
    auto f = parse_inbound(R"({"type":"req","id":"big","method":"sessions.patch","params":{"x":[1,{"y":-1e400}]}})");
    auto* bad = std::get_if<InvalidFrame>(&f);
    ASSERT_NE(bad, nullptr);
    EXPECT_EQ(bad->reply_id, "big");
    EXPECT_EQ(bad->message, "invalid request frame: number out of range");
    EXPECT_TRUE(std::holds_alternative<RequestFrame>(
        parse_inbound(R"({"type":"req","id":"ok","method":"health","params":{"x":1.5e300}})")));
}
