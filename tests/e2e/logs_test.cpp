// logs.tail against the gateway's own JSON-lines log file (methods.md §8.3).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "client/gateway_client.hpp"
#include "support/gateway_process.hpp"
#include "support/helpers.hpp"

using namespace pincer;
using namespace pincer::e2e;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

std::unique_ptr<client::GatewayClient> connect(const e2e::GatewayProcess& gw, const std::string& client_id = "cli") {
    auto o = cli_opts(gw, 3s);
    o.client_id = client_id;
    return connect_client(o);
}

json::object tail(client::GatewayClient& c, json::object params = {}) {
    return c.call("logs.tail", params, 3s).as_object();
}

bool any_line_contains(const json::object& res, std::string_view needle) {
    for (const auto& l : res.at("lines").as_array())
        if (std::string_view(l.as_string()).find(needle) != std::string_view::npos) return true;
    return false;
}

}  // namespace

TEST(Logs, TailReturnsJsonLines) {
    e2e::GatewayProcess gw;
    auto c = connect(gw);
    auto res = tail(*c);
    EXPECT_EQ(res.at("file").as_string(), (gw.state_dir() / "logs" / "pincer.log").string());
    ASSERT_TRUE(res.at("cursor").is_int64());
    ASSERT_TRUE(res.at("size").is_int64());
    EXPECT_EQ(res.at("cursor").as_int64(), res.at("size").as_int64());
    EXPECT_GT(res.at("size").as_int64(), 0);
    EXPECT_FALSE(res.contains("truncated"));
    EXPECT_FALSE(res.contains("reset"));
    const auto& lines = res.at("lines").as_array();
    ASSERT_FALSE(lines.empty());
    for (const auto& l : lines) {
        json::value v = json::parse(l.as_string());
        const auto& o = v.as_object();
        for (const char* k : {"time", "level", "subsystem", "message"}) {
            ASSERT_TRUE(o.contains(k) && o.at(k).is_string()) << k << " in " << l.as_string();
        }
        EXPECT_EQ(o.at("time").as_string().back(), 'Z');
    }
    EXPECT_TRUE(any_line_contains(res, "gateway listening on"));
    // Our own connect is logged at info.
    EXPECT_TRUE(any_line_contains(res, "ws connected"));
}

TEST(Logs, CursorReturnsOnlyNewLines) {
    e2e::GatewayProcess gw;
    auto c = connect(gw);
    auto first = tail(*c);
    const int64_t cursor = first.at("cursor").as_int64();
    // Nothing new yet (method calls are not logged at info).
    auto idle = tail(*c, {{"cursor", cursor}});
    EXPECT_TRUE(idle.at("lines").as_array().empty()) << json::serialize(idle);
    EXPECT_EQ(idle.at("cursor").as_int64(), cursor);

    auto other = connect(gw, "log-probe-client");
    json::object next;
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    do {
        next = tail(*c, {{"cursor", cursor}});
        if (any_line_contains(next, "log-probe-client")) break;
        std::this_thread::sleep_for(20ms);
    } while (std::chrono::steady_clock::now() < deadline);
    ASSERT_TRUE(any_line_contains(next, "log-probe-client")) << json::serialize(next);
    EXPECT_FALSE(next.contains("reset"));
    EXPECT_FALSE(next.contains("truncated"));
    EXPECT_GT(next.at("cursor").as_int64(), cursor);
    EXPECT_EQ(next.at("cursor").as_int64(), next.at("size").as_int64());
    // Only lines written after the cursor: none of the earlier ones come back.
    for (const auto& l : next.at("lines").as_array()) {
        for (const auto& old : first.at("lines").as_array()) EXPECT_NE(l, old);
    }
    EXPECT_FALSE(any_line_contains(next, "gateway listening on"));
}

TEST(Logs, LimitMaxBytesAndReset) {
    e2e::GatewayProcess gw;
    auto c = connect(gw);
    auto a = connect(gw, "filler-1");
    auto b = connect(gw, "filler-2");
    auto all = tail(*c);
    ASSERT_GE(all.at("lines").as_array().size(), 3u);

    auto one = tail(*c, {{"limit", 1}});
    ASSERT_EQ(one.at("lines").as_array().size(), 1u);
    EXPECT_EQ(one.at("lines").as_array()[0], all.at("lines").as_array().back());

    auto small = tail(*c, {{"maxBytes", 40}});
    EXPECT_EQ(small.at("truncated"), json::value(true));
    EXPECT_EQ(small.at("cursor").as_int64(), small.at("size").as_int64());
    // 40 bytes hold no whole JSON line; the partial first line is dropped.
    for (const auto& l : small.at("lines").as_array()) EXPECT_NO_THROW(json::parse(l.as_string()));

    const int64_t size = all.at("size").as_int64();
    auto beyond = tail(*c, {{"cursor", size + 1'000'000}});
    EXPECT_EQ(beyond.at("reset"), json::value(true));
    EXPECT_FALSE(beyond.at("lines").as_array().empty());
    EXPECT_EQ(beyond.at("cursor").as_int64(), beyond.at("size").as_int64());

    // Far behind with a small maxBytes: reset + truncated.
    auto behind = tail(*c, {{"cursor", 0}, {"maxBytes", 100}});
    EXPECT_EQ(behind.at("reset"), json::value(true));
    EXPECT_EQ(behind.at("truncated"), json::value(true));
}

TEST(Logs, InvalidParamsAreRejected) {
    e2e::GatewayProcess gw;
    auto c = connect(gw);
    auto e0 = rpc_error([&] { tail(*c, {{"limit", 0}}); });
    EXPECT_EQ(e0.code(), "INVALID_REQUEST");
    EXPECT_EQ(e0.message_text(), "invalid logs.tail params: at /limit: must be >= 1");
    auto e1 = rpc_error([&] { tail(*c, {{"limit", 5001}}); });
    EXPECT_EQ(e1.code(), "INVALID_REQUEST");
    EXPECT_EQ(e1.message_text(), "invalid logs.tail params: at /limit: must be <= 5000");
    EXPECT_EQ(rpc_error([&] {
                  tail(*c, {{"limit", 5000}, {"cursor", -1}});
              }).message_text(),
              "invalid logs.tail params: at /cursor: must be >= 0");
    EXPECT_EQ(rpc_error([&] {
                  tail(*c, {{"maxBytes", 1'000'001}});
              }).message_text(),
              "invalid logs.tail params: at /maxBytes: must be <= 1000000");
    EXPECT_EQ(rpc_error([&] {
                  tail(*c, {{"limit", "10"}});
              }).message_text(),
              "invalid logs.tail params: at /limit: must be integer");
    // The connection is fine afterwards.
    EXPECT_EQ(tail(*c, {{"limit", 5000}}).at("lines").as_array().empty(), false);
}

TEST(Logs, TokenNeverLogged) {
    e2e::GatewayProcess gw;
    auto c = connect(gw);
    // A failed attempt with a near-miss token and some traffic, then read everything.
    {
        client::GatewayClient bad;
        auto o = cli_opts(gw, 3s);
        o.token = gw.token() + "x";
        EXPECT_THROW(bad.connect(o), client::RpcError);
    }
    auto other = connect(gw, "second");
    other->call("health", json::object{}, 3s);
    other.reset();
    auto res = tail(*c, {{"limit", 5000}});
    ASSERT_FALSE(res.at("lines").as_array().empty());
    for (const auto& l : res.at("lines").as_array()) {
        EXPECT_EQ(std::string_view(l.as_string()).find(gw.token()), std::string_view::npos) << l.as_string();
    }
    // And the file itself, byte for byte (including anything logs.tail might skip).
    const std::string file = read_file(gw.state_dir() / "logs" / "pincer.log");
    EXPECT_EQ(file.find(gw.token()), std::string::npos);
    EXPECT_EQ(gw.stderr_text().find(gw.token()), std::string::npos);
}
