// End-to-end handshake tests against the real binary: challenge, protocol negotiation (v3/v4),
// hello-ok shape, connect-params leniency, token/password auth messages, handshake timeout and
// the first events of a connection (tick, presence, per-connection seq).
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
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

const std::vector<std::string> kAllOperatorScopes = {"operator.read",      "operator.write",       "operator.admin",
                                                     "operator.approvals", "operator.questions",   "operator.pairing",
                                                     "operator.talk",      "operator.talk.secrets"};

std::vector<std::string> strings_of(const json::value& v) {
    std::vector<std::string> out;
    for (const auto& s : v.as_array()) out.emplace_back(s.as_string());
    return out;
}

bool contains(const json::array& a, std::string_view s) {
    return std::any_of(a.begin(), a.end(), [&](const json::value& v) { return v.is_string() && v.get_string() == s; });
}

}  // namespace

TEST(Handshake, ChallengeArrivesFirstWithNonceTsAndCapabilities) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    c.open(gw.url(), kWait);
    auto f = c.read_frame(kWait);
    ASSERT_TRUE(f.json.is_object()) << f.text;
    const auto& o = f.json.get_object();
    EXPECT_EQ(o.at("type"), "event");
    EXPECT_EQ(o.at("event"), "connect.challenge");
    EXPECT_FALSE(o.contains("seq")) << "the challenge is a direct send and carries no seq";
    const auto& p = o.at("payload").as_object();
    static const std::regex kUuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    EXPECT_TRUE(std::regex_match(std::string(p.at("nonce").as_string()), kUuid)) << p;
    const int64_t ts = p.at("ts").as_int64();
    const int64_t now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    EXPECT_LE(std::llabs(now - ts), 10'000) << "ts is the server's epoch ms";
    EXPECT_TRUE(p.at("capabilities").is_array());

    // A second socket gets a fresh nonce.
    client::GatewayClient c2;
    EXPECT_NE(open_and_wait_challenge(c2, gw).at("nonce"), p.at("nonce"));
}

TEST(Handshake, V3ClientGetsProtocol3HelloWithoutV4Fields) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    auto o = backend_opts(gw);
    o.min_protocol = o.max_protocol = 3;
    auto hello = c.connect(o);
    EXPECT_EQ(hello.at("type"), "hello-ok");
    EXPECT_EQ(hello.at("protocol").as_int64(), 3);
    const auto& auth = hello.at("auth").as_object();
    EXPECT_FALSE(auth.contains("method")) << auth;
    EXPECT_EQ(auth.at("role"), "operator");
    EXPECT_FALSE(hello.at("features").as_object().contains("capabilities"));
    EXPECT_FALSE(hello.at("server").as_object().contains("bootId"));
    EXPECT_TRUE(hello.at("server").as_object().contains("version"));
    EXPECT_TRUE(hello.at("server").as_object().contains("connId"));
}

TEST(Handshake, V4ClientGetsProtocol4WithAuthMethodToken) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    auto o = backend_opts(gw);
    o.min_protocol = o.max_protocol = 4;
    auto hello = c.connect(o);
    EXPECT_EQ(hello.at("protocol").as_int64(), 4);
    EXPECT_EQ(hello.at("auth").at("method"), "token");
    // The 2026.9.6 CLI's `models list` requires published-model-catalog.
    EXPECT_EQ(hello.at("features").at("capabilities"), boost::json::array{"published-model-catalog"});
    EXPECT_TRUE(hello.at("server").as_object().contains("bootId"));
}

TEST(Handshake, RangeThreeToFourNegotiatesFourAndHelloHasReferenceShape) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    auto o = backend_opts(gw);
    o.min_protocol = 3;
    o.max_protocol = 4;
    auto hello = c.connect(o);
    EXPECT_EQ(hello.at("protocol").as_int64(), 4);
    const auto& policy = hello.at("policy").as_object();
    EXPECT_EQ(policy.at("maxPayload").as_int64(), 26214400);
    EXPECT_EQ(policy.at("maxBufferedBytes").as_int64(), 52428800);
    EXPECT_EQ(policy.at("tickIntervalMs").as_int64(), 30000);
    EXPECT_EQ(hello.at("snapshot").at("sessionDefaults").at("mainSessionKey"), "agent:main:main");
    const auto& methods = hello.at("features").at("methods").as_array();
    EXPECT_TRUE(contains(methods, "health"));
    EXPECT_TRUE(contains(methods, "config.get"));
    EXPECT_TRUE(contains(methods, "chat.send"));
    EXPECT_FALSE(contains(methods, "chat.inject")) << "the reference does not advertise chat.inject";
    EXPECT_FALSE(contains(methods, "cron.add")) << "only implemented methods are advertised";
    EXPECT_TRUE(contains(hello.at("features").at("events").as_array(), "tick"));
    EXPECT_TRUE(contains(hello.at("features").at("events").as_array(), "chat"));
    EXPECT_TRUE(hello.at("snapshot").at("presence").is_array());
    EXPECT_TRUE(hello.at("snapshot").at("stateVersion").is_object());
}

TEST(Handshake, ProtocolMismatchHasReferenceDetailsAndCloses1002) {
    e2e::GatewayProcess gw;
    for (auto [lo, hi] : {std::pair{99, 99}, std::pair{1, 2}}) {
        SCOPED_TRACE("range " + std::to_string(lo) + ".." + std::to_string(hi));
        client::GatewayClient c;
        auto o = backend_opts(gw);
        o.min_protocol = lo;
        o.max_protocol = hi;
        auto [err, close] = connect_error(c, o);
        EXPECT_EQ(err.at("code"), "INVALID_REQUEST");
        EXPECT_EQ(err.at("message"), "protocol mismatch");
        json::object expected{{"code", "PROTOCOL_MISMATCH"},
                              {"clientMinProtocol", lo},
                              {"clientMaxProtocol", hi},
                              {"expectedProtocol", 4},
                              {"minimumProbeProtocol", 3}};
        EXPECT_EQ(err.at("details"), expected);
        EXPECT_EQ(close.code, 1002);
        EXPECT_EQ(close.reason, "protocol mismatch");
    }
}

TEST(Handshake, ClientNamingNoRoleOrScopesGetsOperatorWithAllDefaultScopes) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    auto o = backend_opts(gw);
    o.client_id = "my-script";  // the hosted docs' id: not in the reference's enum, accepted by Pincer
    auto hello = c.connect(o);
    const auto& auth = hello.at("auth").as_object();
    EXPECT_EQ(auth.at("role"), "operator");
    auto scopes = strings_of(auth.at("scopes"));
    std::sort(scopes.begin(), scopes.end());
    auto expected = kAllOperatorScopes;
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(scopes, expected);
    // So an admin/read method works.
    auto cfg = c.call("config.get", json::object{}, kWait);
    EXPECT_TRUE(cfg.is_object());
}

TEST(Handshake, ClientIdLengthLimitIs128) {
    e2e::GatewayProcess gw;
    {
        client::GatewayClient c;
        auto o = backend_opts(gw);
        o.client_id = std::string(128, 'a');
        EXPECT_EQ(c.connect(o).at("type"), "hello-ok");
    }
    client::GatewayClient c;
    auto o = backend_opts(gw);
    o.client_id = std::string(129, 'a');
    auto [err, close] = connect_error(c, o);
    EXPECT_EQ(err.at("code"), "INVALID_REQUEST");
    const std::string msg(err.at("message").as_string());
    EXPECT_TRUE(msg.starts_with("invalid connect params: ")) << msg;
    EXPECT_NE(msg.find("/client/id"), std::string::npos) << msg;
    EXPECT_EQ(close.code, 1008);
    EXPECT_TRUE(close.reason.starts_with("invalid connect params: ")) << close.reason;
}

TEST(Handshake, UnknownExtraFieldsAreIgnored) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    auto o = backend_opts(gw);
    o.extra = json::object{{"someFutureField", json::object{{"x", 1}}},
                           {"client", json::object{{"unknownClientField", "y"}}},
                           {"auth", json::object{{"unknownAuthField", true}}}};
    EXPECT_EQ(c.connect(o).at("type"), "hello-ok");
    EXPECT_TRUE(c.call("health", json::object{}, kWait).is_object());
}

TEST(Handshake, MissingClientVersionIsInvalidConnectParams) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    auto o = backend_opts(gw);
    o.extra = json::object{{"client", json::object{{"version", nullptr}}}};
    auto [err, close] = connect_error(c, o);
    EXPECT_EQ(err.at("code"), "INVALID_REQUEST");
    EXPECT_EQ(err.at("message"), "invalid connect params: at /client: must have required property 'version'");
    EXPECT_EQ(close.code, 1008);
    EXPECT_EQ(close.reason, "invalid connect params: at /client: must have required property 'version'");
}

TEST(Handshake, PasswordModeAcceptsRightPasswordRejectsWrongOne) {
    e2e::GatewayOptions go;
    go.token.clear();
    go.config = R"({ gateway: { auth: { mode: "password", password: "correct-horse-battery-staple-42" } } })";
    e2e::GatewayProcess gw(go);
    {
        client::GatewayClient c;
        auto o = backend_opts(gw);
        o.token.clear();
        o.password = "correct-horse-battery-staple-42";
        auto hello = c.connect(o);
        EXPECT_EQ(hello.at("auth").at("method"), "password");
        EXPECT_EQ(hello.at("snapshot").at("authMode"), "password");
    }
    client::GatewayClient c;
    auto o = backend_opts(gw);
    o.token.clear();
    o.password = "wrong-password";
    auto [err, close] = connect_error(c, o);
    EXPECT_EQ(err.at("code"), "INVALID_REQUEST");
    EXPECT_EQ(err.at("message"), "unauthorized: gateway password mismatch (provide gateway auth password)");
    EXPECT_EQ(err.at("details").at("code"), "AUTH_PASSWORD_MISMATCH");
    EXPECT_EQ(err.at("details").at("authReason"), "password_mismatch");
    EXPECT_EQ(close.code, 1008);
    EXPECT_EQ(close.reason, "unauthorized: gateway password mismatch (provide gateway auth password)");
}

TEST(Handshake, CliWrongTokenHintDependsOnNegotiatedVersion) {
    e2e::GatewayProcess gw;
    struct Case {
        int protocol;
        std::string message;
    };
    for (const auto& tc : {Case{3,
                                "unauthorized: gateway token mismatch (set gateway.remote.token to match "
                                "gateway.auth.token)"},
                           Case{4,
                                "unauthorized: gateway token mismatch (use this gateway's gateway.auth.token or "
                                "pair the device)"}}) {
        SCOPED_TRACE("protocol " + std::to_string(tc.protocol));
        client::GatewayClient c;
        auto o = cli_opts(gw);  // cli / cli
        o.min_protocol = o.max_protocol = tc.protocol;
        o.token = "not-the-token";
        auto [err, close] = connect_error(c, o);
        EXPECT_EQ(err.at("code"), "INVALID_REQUEST");
        EXPECT_EQ(str(err.at("message")), tc.message);
        EXPECT_EQ(err.at("details").at("code"), "AUTH_TOKEN_MISMATCH");
        EXPECT_EQ(close.code, 1008);
        EXPECT_EQ(close.reason, tc.message);
    }
}

TEST(Handshake, HandshakeTimeoutClosesWith1000) {
    e2e::GatewayOptions go;
    go.config = R"({ gateway: { limits: { handshakeTimeoutMs: 300 } } })";
    e2e::GatewayProcess gw(go);
    client::GatewayClient c;
    open_and_wait_challenge(c, gw);
    const auto start = std::chrono::steady_clock::now();
    auto close = c.wait_close(kWait);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(close.code, 1000);
    EXPECT_EQ(close.reason, "");
    EXPECT_LT(elapsed, 3s);
    // No error frame precedes the close.
    EXPECT_EQ(c.buffered_count(), 0u);
}

TEST(Handshake, TickEventArrivesWithSeq) {
    e2e::GatewayOptions go;
    go.config = R"({ gateway: { tickIntervalMs: 1000 } })";
    e2e::GatewayProcess gw(go);
    client::GatewayClient c;
    auto hello = c.connect(backend_opts(gw));
    EXPECT_EQ(hello.at("policy").at("tickIntervalMs").as_int64(), 1000);
    auto t1 = c.wait_event("tick", 3s);
    EXPECT_TRUE(t1.at("payload").at("ts").is_int64());
    ASSERT_TRUE(t1.contains("seq"));
    EXPECT_GE(t1.at("seq").as_int64(), 1);
    auto t2 = c.wait_event("tick", 3s);
    EXPECT_GT(t2.at("seq").as_int64(), t1.at("seq").as_int64());
    EXPECT_GE(t2.at("payload").at("ts").as_int64(), t1.at("payload").at("ts").as_int64());
}

TEST(Handshake, PresenceEventsOnOtherClientsConnectAndDisconnectWithConsecutiveSeq) {
    e2e::GatewayOptions go;
    // No coalescing: one presence broadcast per change, so the seq numbers are predictable.
    go.config = R"({ gateway: { limits: { presenceBroadcastIntervalMs: 0 } } })";
    e2e::GatewayProcess gw(go);
    client::GatewayClient watcher;
    watcher.connect(backend_opts(gw));
    // A backend client is tracked in presence: its own connect is its first broadcast (seq 1).
    auto own = watcher.wait_event("presence", kWait);
    ASSERT_TRUE(own.contains("seq"));
    EXPECT_EQ(own.at("seq").as_int64(), 1);

    auto other = connect_client(backend_opts(gw, "presence-peer-1"));

    auto has_peer = [](const json::object& ev, std::string_view reason) {
        for (const auto& e : ev.at("payload").at("presence").as_array()) {
            const auto& o = e.as_object();
            if (o.contains("instanceId") && o.at("instanceId") == "presence-peer-1" && str(o.at("reason")) == reason)
                return true;
        }
        return false;
    };
    auto p1 = watcher.wait_event("presence", kWait, [&](const json::object& ev) { return has_peer(ev, "connect"); });
    ASSERT_TRUE(p1.contains("stateVersion")) << p1;
    ASSERT_TRUE(p1.contains("seq"));
    const int64_t v1 = p1.at("stateVersion").at("presence").as_int64();
    EXPECT_TRUE(p1.at("stateVersion").as_object().contains("health"));

    other->close();
    other.reset();
    auto p2 = watcher.wait_event("presence", kWait, [&](const json::object& ev) { return has_peer(ev, "disconnect"); });
    ASSERT_TRUE(p2.contains("stateVersion"));
    EXPECT_GT(p2.at("stateVersion").at("presence").as_int64(), v1);
    // Per-connection seq: 1, 2, 3 without gaps.
    EXPECT_EQ(p1.at("seq").as_int64(), 2);
    EXPECT_EQ(p2.at("seq").as_int64(), 3);
    EXPECT_TRUE(watcher.take_buffered_events().empty());
}
