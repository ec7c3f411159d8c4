// The connect handshake as a state machine, driven through dispatch::Gateway with fake
// connections, a fake loop and a manual clock: no sockets, no threads.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "client/gateway_client.hpp"
#include "core/device_auth.hpp"
#include "dispatch/gateway.hpp"
#include "fakes.hpp"

using namespace pincer;
using pincer::testing::FakeConnection;

namespace {

constexpr const char* kToken = "unit-test-token-0123456789abcdef";

class HandshakeTest : public ::testing::Test {
protected:
    HandshakeTest() : clock_(1'800'000'000'000) {
        dispatch::MethodSpec health;
        health.name = "health";
        health.scope = "operator.read";
        health.params.unchecked();
        health.handler = dispatch::SyncHandler([](const dispatch::CallView&) -> json::value {
            return json::object{{"ok", true}};
        });
        table_.add(std::move(health));
        table_.freeze();
        dispatch::AuthSettings auth;
        auth.shared.mode = core::AuthMode::token;
        auth.shared.token = kToken;
        for (auto s : core::all_operator_scopes()) auth.default_scopes.emplace_back(s);
        dispatch::ServerInfo info{"0.0.0-test", "boot", "host", "/cfg", "/state", clock_.now_ms()};
        gateway_ = std::make_unique<dispatch::Gateway>(loop_, clock_, table_, &registry_, info, core::Limits{}, auth);
    }

    std::shared_ptr<FakeConnection> open(bool loopback = true) {
        auto c = std::make_shared<FakeConnection>();
        c->state.remote_ip = loopback ? "127.0.0.1" : "192.0.2.10";
        c->state.loopback = loopback;
        gateway_->on_open(c);
        return c;
    }

    json::object connect_params(int min = 3, int max = 4) {
        return json::object{{"minProtocol", min},
                            {"maxProtocol", max},
                            {"client", json::object{{"id", "cli"}, {"version", "1"}, {"platform", "linux"}, {"mode", "cli"}}},
                            {"auth", json::object{{"token", kToken}}}};
    }

    void send(const std::shared_ptr<FakeConnection>& c, std::string_view method, const json::value& params,
              std::string id = "1") {
        json::object req{{"type", "req"}, {"id", id}, {"method", method}, {"params", params}};
        gateway_->on_message(c, json::serialize(req));
        loop_.run();
    }

    // Signs a device block for `c`'s challenge.
    json::object signed_device(const client::DeviceIdentity& dev, const FakeConnection& c, json::object& params,
                               int64_t signed_at, std::string nonce = {}) {
        core::DeviceSignatureInput in{dev.id(), "cli", "cli", "operator", {}, signed_at, kToken,
                                      nonce.empty() ? c.state.nonce : nonce, "linux", ""};
        if (auto s = params.if_contains("scopes")) {
            for (auto& v : s->as_array()) in.scopes.emplace_back(v.as_string());
        }
        return json::object{{"id", dev.id()},
                            {"publicKey", dev.public_key_b64url()},
                            {"signature", dev.sign_b64url(core::build_device_payload_v3(in))},
                            {"signedAt", signed_at},
                            {"nonce", in.nonce}};
    }

    core::ManualClock clock_;
    pincer::testing::FakeLoop loop_;
    pincer::testing::FakeRegistry registry_;
    dispatch::MethodTable table_;
    std::unique_ptr<dispatch::Gateway> gateway_;
};

}  // namespace

TEST_F(HandshakeTest, ChallengeIsSentOnOpen) {
    auto c = open();
    ASSERT_EQ(c->frames.size(), 1u);
    auto ch = c->frame(0);
    EXPECT_EQ(ch.at("event").as_string(), "connect.challenge");
    EXPECT_EQ(ch.at("payload").at("nonce").as_string(), c->state.nonce);
    EXPECT_EQ(ch.at("payload").at("ts").as_int64(), clock_.now_ms());
    EXPECT_FALSE(ch.contains("seq"));
}

TEST_F(HandshakeTest, NegotiatesHighestCommonVersion) {
    for (auto [min, max, want] : {std::tuple{3, 3, 3}, {4, 4, 4}, {3, 4, 4}, {2, 5, 4}}) {
        auto c = open();
        send(c, "connect", connect_params(min, max));
        auto hello = c->frame(1);
        ASSERT_TRUE(hello.at("ok").as_bool()) << json::serialize(hello);
        EXPECT_EQ(hello.at("payload").at("protocol").as_int64(), want);
        EXPECT_EQ(hello.at("payload").at("auth").as_object().contains("method"), want == 4);
    }
}

TEST_F(HandshakeTest, ProtocolMismatchCloses1002) {
    auto c = open();
    send(c, "connect", connect_params(5, 9));
    auto res = c->frame(1);
    EXPECT_EQ(res.at("error").at("message").as_string(), "protocol mismatch");
    EXPECT_EQ(res.at("error").at("details").at("expectedProtocol").as_int64(), 4);
    EXPECT_EQ(c->close_code, 1002);
}

TEST_F(HandshakeTest, RequestsBeforeConnectAreRejected) {
    auto c = open();
    send(c, "health", json::object{});
    EXPECT_EQ(c->frame(1).at("error").at("message").as_string(), "invalid handshake: first request must be connect");
    EXPECT_EQ(c->close_code, 1008);
}

TEST_F(HandshakeTest, RequestsPipelinedBehindConnectAnswerInOrderAfterHello) {
    auto c = open();
    // A device connect goes through the (fake) blocking pool, so frames queue behind it.
    client::DeviceIdentity dev = client::DeviceIdentity::generate();
    json::object p = connect_params();
    p["device"] = signed_device(dev, *c, p, clock_.now_ms());
    gateway_->on_message(c, json::serialize(json::object{{"type", "req"}, {"id", "c"}, {"method", "connect"}, {"params", p}}));
    gateway_->on_message(c, R"({"type":"req","id":"h1","method":"health"})");
    gateway_->on_message(c, R"({"type":"req","id":"h2","method":"health"})");
    loop_.run();
    ASSERT_GE(c->frames.size(), 4u);
    EXPECT_EQ(c->frame(1).at("payload").at("type").as_string(), "hello-ok");
    EXPECT_EQ(c->frame(2).at("id").as_string(), "h1");
    EXPECT_EQ(c->frame(3).at("id").as_string(), "h2");
}

TEST_F(HandshakeTest, DeviceSignatureIsVerifiedAndPairedSilentlyOnLoopback) {
    auto c = open();
    client::DeviceIdentity dev = client::DeviceIdentity::generate();
    json::object p = connect_params();
    p["scopes"] = json::array{"operator.read"};
    p["device"] = signed_device(dev, *c, p, clock_.now_ms());
    send(c, "connect", p);
    auto hello = c->frame(1);
    ASSERT_TRUE(hello.at("ok").as_bool()) << json::serialize(hello);
    EXPECT_EQ(hello.at("payload").at("auth").at("deviceToken").as_string(), "tok-1");
    ASSERT_TRUE(registry_.devices.contains(dev.id()));
}

TEST_F(HandshakeTest, BadSignatureStaleSignedAtAndWrongNonceAreRejected) {
    client::DeviceIdentity dev = client::DeviceIdentity::generate();
    struct Case {
        std::string name;
        std::function<void(json::object&, FakeConnection&)> mutate;
        std::string message;
    };
    std::vector<Case> cases = {
        {"bad signature",
         [&](json::object& p, FakeConnection& c) {
             p["device"] = signed_device(dev, c, p, clock_.now_ms());
             p["device"].as_object()["signature"] = dev.sign_b64url("something else");
         },
         "device signature invalid"},
        {"stale",
         [&](json::object& p, FakeConnection& c) { p["device"] = signed_device(dev, c, p, clock_.now_ms() - 180'000); },
         "device signature expired"},
        {"wrong nonce",
         [&](json::object& p, FakeConnection& c) {
             p["device"] = signed_device(dev, c, p, clock_.now_ms(), "not-the-challenge");
         },
         "device nonce mismatch"},
        {"id mismatch",
         [&](json::object& p, FakeConnection& c) {
             p["device"] = signed_device(dev, c, p, clock_.now_ms());
             p["device"].as_object()["id"] = std::string(64, 'a');
         },
         "device identity mismatch"},
    };
    for (auto& tc : cases) {
        auto c = open();
        json::object p = connect_params();
        tc.mutate(p, *c);
        send(c, "connect", p);
        auto res = c->frame(1);
        EXPECT_EQ(res.at("error").at("message").as_string(), tc.message) << tc.name;
        EXPECT_EQ(c->close_code, 1008) << tc.name;
    }
    EXPECT_TRUE(registry_.devices.empty());
}

TEST_F(HandshakeTest, RemoteDeviceNeedsPairingApproval) {
    auto c = open(/*loopback=*/false);
    client::DeviceIdentity dev = client::DeviceIdentity::generate();
    json::object p = connect_params();
    p["device"] = signed_device(dev, *c, p, clock_.now_ms());
    send(c, "connect", p);
    auto res = c->frame(1);
    EXPECT_EQ(res.at("error").at("code").as_string(), "NOT_PAIRED");
    EXPECT_EQ(res.at("error").at("details").at("reason").as_string(), "not-paired");
    EXPECT_EQ(registry_.pending.size(), 1u);
    EXPECT_NE(c->close_reason.find("(requestId: req-1)"), std::string::npos);
}

TEST_F(HandshakeTest, WrongTokenIsRateLimitedPerIp) {
    core::Limits limits;
    limits.auth_max_attempts = 2;
    gateway_->update_limits(limits);
    for (int i = 0; i < 2; ++i) {
        auto c = open();
        json::object p = connect_params();
        p["auth"] = json::object{{"token", "wrong"}};
        send(c, "connect", p);
        EXPECT_EQ(c->frame(1).at("error").at("details").at("code").as_string(), "AUTH_TOKEN_MISMATCH");
    }
    auto c = open();
    send(c, "connect", connect_params());
    auto err = c->frame(1).at("error");
    EXPECT_EQ(err.at("details").at("code").as_string(), "AUTH_RATE_LIMITED");
    EXPECT_GT(err.at("retryAfterMs").as_int64(), 0);
}

TEST_F(HandshakeTest, ScopeErrorsFollowNegotiatedVersion) {
    for (int v : {3, 4}) {
        auto c = open();
        json::object p = connect_params(v, v);
        p["scopes"] = json::array{};
        send(c, "connect", p);
        send(c, "config.get", json::object{}, "g");
        auto err = c->last().at("error");
        EXPECT_EQ(err.at("message").as_string(), "missing scope: operator.read");
        EXPECT_EQ(err.at("code").as_string(), v == 4 ? "FORBIDDEN" : "INVALID_REQUEST");
        EXPECT_EQ(err.as_object().contains("details"), v == 4);
    }
}

TEST_F(HandshakeTest, SlowConsumerLosesDroppableEventsAndIsClosedOnOthers) {
    auto slow = open();
    send(slow, "connect", connect_params());
    slow->buffered = 100ull << 20;
    dispatch::BroadcastOptions droppable;
    droppable.drop_if_slow = true;
    gateway_->broadcaster().broadcast("presence", json::object{}, droppable);
    EXPECT_FALSE(slow->closed);
    gateway_->broadcaster().broadcast("tick", json::object{{"ts", 1}});
    EXPECT_TRUE(slow->closed);
    EXPECT_EQ(slow->close_code, 1008);
    EXPECT_EQ(slow->close_reason, "slow consumer");
}

TEST_F(HandshakeTest, TargetedEventsGoOnlyToMatchingClientsWithoutSeq) {
    auto a = open();
    send(a, "connect", connect_params());
    auto b = open();
    send(b, "connect", connect_params());
    auto noscope = open();
    json::object p = connect_params();
    p["scopes"] = json::array{};
    send(noscope, "connect", p);
    a->state.sessions_subscribed = true;
    noscope->state.sessions_subscribed = true;
    gateway_->broadcaster().broadcast("tick", json::object{{"ts", 1}});
    const int64_t seq_a = a->last().at("seq").as_int64();
    const size_t before_a = a->frames.size(), before_b = b->frames.size(), before_n = noscope->frames.size();
    const auto subscribed = [](const dispatch::ConnState& st) { return st.sessions_subscribed; };
    EXPECT_EQ(gateway_->broadcaster().send_targeted("sessions.changed", json::object{{"sessionKey", "k"}}, subscribed),
              1u);
    ASSERT_EQ(a->frames.size(), before_a + 1);
    EXPECT_EQ(b->frames.size(), before_b);
    EXPECT_EQ(noscope->frames.size(), before_n);  // sessions.changed needs operator.read
    const auto ev = a->last();
    EXPECT_EQ(ev.at("event").as_string(), "sessions.changed");
    EXPECT_EQ(ev.at("payload").at("sessionKey").as_string(), "k");
    EXPECT_FALSE(ev.contains("seq"));
    // A targeted send does not use up a seq: the next broadcast continues the sequence.
    gateway_->broadcaster().broadcast("tick", json::object{{"ts", 2}});
    EXPECT_EQ(a->last().at("seq").as_int64(), seq_a + 1);
    // Slow consumers: dropped when allowed, else closed.
    a->buffered = 100ull << 20;
    EXPECT_EQ(gateway_->broadcaster().send_targeted("sessions.changed", json::object{}, subscribed, true), 0u);
    EXPECT_FALSE(a->closed);
    gateway_->broadcaster().send_targeted("sessions.changed", json::object{}, subscribed);
    EXPECT_TRUE(a->closed);
    EXPECT_EQ(a->close_code, 1008);
}
