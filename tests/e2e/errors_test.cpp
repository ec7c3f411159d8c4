// End-to-end error cases of wire-notes.md §4 (and the limits listed under it) against the real
// binary: exact error frames, details and close codes.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "client/gateway_client.hpp"
#include "support/gateway_process.hpp"
#include "support/helpers.hpp"

using namespace pincer;
using namespace pincer::e2e;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// ok:false response for `method` (the whole res frame).
json::object call_error(client::GatewayClient& c, std::string_view method, const json::value& params = json::object{}) {
    auto id = c.send_request(method, &params);
    auto res = c.wait_response(id, kWait);
    EXPECT_FALSE(res.at("ok").as_bool()) << res;
    return res;
}

// The next frame, parsed; fails the test on non-JSON.
json::object next_frame(client::GatewayClient& c) {
    auto f = c.read_frame(kWait);
    EXPECT_TRUE(f.json.is_object()) << f.text;
    return f.json.is_object() ? f.json.get_object() : json::object{};
}

// The next res frame, skipping events (presence/tick broadcasts may interleave), as a json::value
// so gtest prints it readably.
json::value next_res(client::GatewayClient& c) {
    for (;;) {
        auto f = next_frame(c);
        if (f.empty() || f.at("type") == "res") return f;
    }
}

void expect_usable(client::GatewayClient& c) {
    auto health = c.call("health", json::object{}, kWait);
    EXPECT_TRUE(health.is_object());
}

}  // namespace

TEST(Errors, WrongTokenHasExactMessageDetailsAndClose) {
    e2e::GatewayProcess gw;
    for (int protocol : {3, 4}) {
        SCOPED_TRACE("protocol " + std::to_string(protocol));
        client::GatewayClient c;
        auto o = backend_opts(gw);
        o.min_protocol = o.max_protocol = protocol;
        o.token = "definitely-not-the-token";
        auto [err, close] = connect_error(c, o);
        const std::string msg = "unauthorized: gateway token mismatch (provide gateway auth token)";
        EXPECT_EQ(err.at("code"), "INVALID_REQUEST");
        EXPECT_EQ(str(err.at("message")), msg);
        json::object details{{"code", "AUTH_TOKEN_MISMATCH"},
                             {"authReason", "token_mismatch"},
                             {"canRetryWithDeviceToken", false},
                             {"recommendedNextStep", "update_auth_credentials"}};
        EXPECT_EQ(err.at("details"), details);
        EXPECT_EQ(close.code, 1008);
        EXPECT_EQ(close.reason, msg);
    }
}

TEST(Errors, FirstFrameNotConnectIsRejected) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    open_and_wait_challenge(c, gw);
    c.send_text(R"({"type":"req","id":"h1","method":"health"})");
    auto res = next_frame(c);
    EXPECT_EQ(res.at("type"), "res");
    EXPECT_EQ(res.at("id"), "h1");
    EXPECT_FALSE(res.at("ok").as_bool());
    json::object err{{"code", "INVALID_REQUEST"}, {"message", "invalid handshake: first request must be connect"}};
    EXPECT_EQ(res.at("error"), err);
    auto close = c.wait_close(kWait);
    EXPECT_EQ(close.code, 1008);
    EXPECT_EQ(close.reason, "invalid handshake: first request must be connect");
}

TEST(Errors, UnknownMethodForAdminStaysOpen) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    c.connect(backend_opts(gw));
    auto res = call_error(c, "no.such.method");
    json::object err{{"code", "INVALID_REQUEST"}, {"message", "unknown method: no.such.method"}};
    EXPECT_EQ(res.at("error"), err);
    expect_usable(c);
}

TEST(Errors, UnknownMethodForReadOnlyClientIsScopeCheckedAsAdmin) {
    e2e::GatewayProcess gw;
    {
        client::GatewayClient c;
        auto o = backend_opts(gw);
        o.min_protocol = o.max_protocol = 4;
        o.scopes = std::vector<std::string>{"operator.read", "operator.write"};
        c.connect(o);
        auto res = call_error(c, "no.such.method");
        json::object err{{"code", "FORBIDDEN"},
                         {"message", "missing scope: operator.admin"},
                         {"details", json::object{{"code", "MISSING_SCOPE"},
                                                  {"missingScope", "operator.admin"},
                                                  {"requiredScopes", json::array{"operator.admin"}}}}};
        EXPECT_EQ(res.at("error"), err);
        expect_usable(c);
    }
    {
        client::GatewayClient c;
        auto o = backend_opts(gw);
        o.min_protocol = o.max_protocol = 3;
        o.scopes = std::vector<std::string>{"operator.read", "operator.write"};
        c.connect(o);
        auto res = call_error(c, "no.such.method");
        json::object err{{"code", "INVALID_REQUEST"}, {"message", "missing scope: operator.admin"}};
        EXPECT_EQ(res.at("error"), err) << "v3: no details";
        expect_usable(c);
    }
}

TEST(Errors, MissingScopeForConfigGet) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    auto o = backend_opts(gw);
    o.min_protocol = o.max_protocol = 4;
    o.scopes = std::vector<std::string>{};
    auto hello = c.connect(o);
    EXPECT_TRUE(hello.at("auth").at("scopes").as_array().empty());
    auto res = call_error(c, "config.get");
    json::object err{{"code", "FORBIDDEN"},
                     {"message", "missing scope: operator.read"},
                     {"details", json::object{{"code", "MISSING_SCOPE"},
                                              {"missingScope", "operator.read"},
                                              {"requiredScopes", json::array{"operator.read"}}}}};
    EXPECT_EQ(res.at("error"), err);
    // health needs no scope at all.
    expect_usable(c);
}

TEST(Errors, MalformedFramesAfterHello) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    c.connect(backend_opts(gw));

    // No method.
    c.send_text(R"({"type":"req","id":"bad-1"})");
    auto res = next_res(c);
    EXPECT_EQ(res, json::parse(R"({"type":"res","id":"bad-1","ok":false,"error":{"code":"INVALID_REQUEST",)"
                               R"("message":"invalid request frame: must have required property 'method'"}})"));

    // Non-JSON text: no reply at all, connection stays usable; the very next response is health's.
    c.send_text("{this is not json");
    c.send_text(R"({"type":"req","id":"after-garbage","method":"health"})");
    res = next_res(c);
    EXPECT_EQ(res.at("id"), "after-garbage");
    EXPECT_TRUE(res.at("ok").as_bool());

    // A client-sent event frame.
    c.send_text(R"({"type":"event","event":"x","payload":{}})");
    res = next_res(c);
    EXPECT_EQ(res, json::parse(R"({"type":"res","id":"invalid","ok":false,"error":{"code":"INVALID_REQUEST",)"
                               R"("message":"invalid request frame: must have required property 'id'; at root: )"
                               R"(unexpected property 'event'; at /type: must be equal to constant"}})"));

    // Numeric id: answered with id "invalid".
    c.send_text(R"({"type":"req","id":7,"method":"health"})");
    res = next_res(c);
    EXPECT_EQ(res.at("type"), "res");
    EXPECT_EQ(res.at("id"), "invalid");
    EXPECT_FALSE(res.at("ok").as_bool());
    EXPECT_EQ(res.at("error").at("code"), "INVALID_REQUEST");
    EXPECT_TRUE(std::string(res.at("error").at("message").as_string()).starts_with("invalid request frame: ")) << res;

    // health with an unexpected param is fine.
    auto h = c.call("health", json::object{{"unexpected", 1}, {"probe", "not-a-bool"}}, kWait);
    EXPECT_TRUE(h.is_object());
    expect_usable(c);
}

TEST(Errors, TenUnauthorizedCallsCloseTheSocket) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    auto o = backend_opts(gw);
    o.scopes = std::vector<std::string>{};
    c.connect(o);
    for (int i = 0; i < 10; ++i) {
        SCOPED_TRACE("call " + std::to_string(i + 1));
        auto res = call_error(c, "config.get");
        EXPECT_EQ(res.at("error").at("message"), "missing scope: operator.read");
    }
    auto close = c.wait_close(kWait);
    EXPECT_EQ(close.code, 1008);
    EXPECT_EQ(close.reason, "repeated unauthorized calls");
}

TEST(Errors, AuthorizedCallResetsTheUnauthorizedCounter) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    auto o = backend_opts(gw);
    o.scopes = std::vector<std::string>{};
    c.connect(o);
    for (int i = 0; i < 9; ++i) call_error(c, "config.get");
    expect_usable(c);  // health is authorized: counter resets
    for (int i = 0; i < 9; ++i) call_error(c, "config.get");
    expect_usable(c);
    EXPECT_TRUE(c.is_open());
}

TEST(Errors, PreauthFrameOver64KiBCloses1009) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    open_and_wait_challenge(c, gw);
    std::string big =
        R"({"type":"req","id":"1","method":"connect","params":{"pad":")" + std::string(70 * 1024, 'x') + R"("}})";
    c.send_text(big);
    auto close = c.wait_close(kWait);
    EXPECT_EQ(close.code, 1009);
    EXPECT_EQ(close.reason, "preauth payload too large");
    EXPECT_EQ(c.buffered_count(), 0u) << "no res for an oversized pre-auth frame";
}

TEST(Errors, PostAuthFramesUpToMaxPayloadAreFine) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    c.connect(backend_opts(gw));
    json::object params{{"blob", std::string(1024 * 1024, 'y')}};
    auto h = c.call("health", params, kWait);
    EXPECT_TRUE(h.is_object());
    expect_usable(c);
}

TEST(Errors, ConnectAgainAfterHelloIsRejected) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    auto o = backend_opts(gw);
    c.connect(o);
    json::value params = client::build_connect_params(o, c.challenge());
    auto res = call_error(c, "connect", params);
    json::object err{{"code", "INVALID_REQUEST"}, {"message", "connect is only valid as the first request"}};
    EXPECT_EQ(res.at("error"), err);
    expect_usable(c);
}

TEST(Errors, AuthFailuresAreRateLimitedPerIp) {
    e2e::GatewayOptions go;
    go.config = R"({ gateway: { auth: { rateLimit: { maxAttempts: 3, windowMs: 60000, lockoutMs: 60000 } } } })";
    e2e::GatewayProcess gw(go);
    auto bad = backend_opts(gw);
    bad.token = "wrong-token";
    for (int i = 0; i < 3; ++i) {
        SCOPED_TRACE("attempt " + std::to_string(i + 1));
        client::GatewayClient c;
        auto [err, close] = connect_error(c, bad);
        EXPECT_EQ(err.at("details").at("code"), "AUTH_TOKEN_MISMATCH");
        EXPECT_EQ(close.code, 1008);
    }
    for (const auto* token : {"wrong-token", gw.token().c_str()}) {
        SCOPED_TRACE(std::string("locked out, token ") + token);
        client::GatewayClient c;
        auto o = backend_opts(gw);
        o.token = token;
        auto [err, close] = connect_error(c, o);
        EXPECT_EQ(err.at("code"), "INVALID_REQUEST");
        EXPECT_EQ(err.at("message"), "unauthorized: too many failed authentication attempts (retry later)");
        EXPECT_EQ(err.at("details").at("code"), "AUTH_RATE_LIMITED");
        EXPECT_EQ(err.at("details").at("authReason"), "rate_limited");
        ASSERT_TRUE(err.contains("retryAfterMs")) << err;
        EXPECT_GT(err.at("retryAfterMs").as_int64(), 0);
        EXPECT_LE(err.at("retryAfterMs").as_int64(), 60000);
        EXPECT_EQ(err.at("retryable"), true);
        EXPECT_EQ(close.code, 1008);
    }
}

TEST(Errors, ThirtyThirdUnauthenticatedSocketGets503) {
    e2e::GatewayProcess gw;
    std::vector<std::unique_ptr<client::GatewayClient>> idle;
    for (int i = 0; i < 32; ++i) {
        auto c = std::make_unique<client::GatewayClient>();
        open_and_wait_challenge(*c, gw);  // the server has counted this socket once its challenge is out
        idle.push_back(std::move(c));
    }
    client::GatewayClient extra;
    try {
        extra.open(gw.url(), kWait);
        FAIL() << "33rd unauthenticated upgrade was accepted";
    } catch (const client::ConnectError& e) {
        EXPECT_EQ(e.http_status, 503) << e.what();
        EXPECT_EQ(e.http_body, "Too many unauthenticated sockets");
    }
    // Authenticating one frees a slot (authenticated sockets do not count).
    {
        auto& c = *idle.front();
        auto o = backend_opts(gw);
        json::value params = client::build_connect_params(o, c.challenge());
        auto id = c.send_request("connect", &params);
        EXPECT_TRUE(c.wait_response(id, kWait).at("ok").as_bool());
    }
    client::GatewayClient now_ok;
    EXPECT_FALSE(open_and_wait_challenge(now_ok, gw).empty());
}

TEST(Errors, ConfigPatchIsRateLimitedToThreePerMinute) {
    e2e::GatewayOptions go;
    go.config = R"({ logging: { level: "info" } })";
    e2e::GatewayProcess gw(go);
    client::GatewayClient c;
    c.connect(backend_opts(gw));
    auto cfg = c.call("config.get", json::object{}, kWait);
    const json::value hash = cfg.at("hash");
    for (int i = 0; i < 3; ++i) {
        SCOPED_TRACE("patch " + std::to_string(i + 1));
        json::value params = json::object{{"raw", "{}"}, {"baseHash", hash}};
        auto id = c.send_request("config.patch", &params);
        auto res = c.wait_response(id, kWait);
        EXPECT_TRUE(res.at("ok").as_bool()) << res;
    }
    auto res = call_error(c, "config.patch", json::object{{"raw", "{}"}, {"baseHash", hash}});
    const auto& err = res.at("error").as_object();
    EXPECT_EQ(err.at("code"), "UNAVAILABLE");
    static const std::regex kMsg("^rate limit exceeded for config\\.patch; retry after [0-9]+s$");
    EXPECT_TRUE(std::regex_match(std::string(err.at("message").as_string()), kMsg)) << err;
    EXPECT_EQ(err.at("retryable"), true);
    EXPECT_GT(err.at("retryAfterMs").as_int64(), 0);
    EXPECT_LE(err.at("retryAfterMs").as_int64(), 60000);
    json::object details{{"method", "config.patch"}, {"limit", "3 per 60s"}};
    EXPECT_EQ(err.at("details"), details);
    expect_usable(c);
}

TEST(Errors, TooManyPendingHandshakeFramesIsNotProvokedReliably) {
    GTEST_SKIP() << "More than 15 frames queued behind a connect that is still being processed (1008 "
                    "\"too many pending handshake frames\") needs the connect to stay on the blocking pool while "
                    "16 frames are read; that race cannot be provoked deterministically over a real socket.";
}
