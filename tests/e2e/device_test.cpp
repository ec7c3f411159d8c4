// End-to-end device identity tests: silent loopback pairing with a signed device, device-token
// reconnects, every device-signature failure with its exact message/detail code, scope-upgrade
// pairing requests (deduplicated, broadcast, persisted across a restart) and the node-role rule.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "client/gateway_client.hpp"
#include "core/device_auth.hpp"
#include "support/gateway_process.hpp"
#include "support/helpers.hpp"

using namespace pincer;
using namespace pincer::e2e;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// The 2026.5.7 CLI shape: cli/cli, token, signed device.
client::ConnectOptions cli_device_opts(const e2e::GatewayProcess& gw, const client::DeviceIdentity& id) {
    auto o = cli_opts(gw);
    o.device = &id;
    return o;
}

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

const std::string kUpgradeMessage = "pairing required: device is asking for more scopes than currently approved";

}  // namespace

TEST(Device, SignedCliDeviceOnLoopbackIsPairedSilentlyAndGetsADeviceToken) {
    e2e::GatewayProcess gw;
    auto id = client::DeviceIdentity::generate();
    std::string device_token;
    {
        client::GatewayClient c;
        auto hello = c.connect(cli_device_opts(gw, id));
        const auto& auth = hello.at("auth").as_object();
        ASSERT_TRUE(auth.contains("deviceToken")) << auth;
        device_token = std::string(auth.at("deviceToken").as_string());
        EXPECT_EQ(device_token.size(), 43u) << "32 random bytes, base64url without padding";
        EXPECT_TRUE(std::regex_match(device_token, std::regex("^[A-Za-z0-9_-]{43}$"))) << device_token;
        EXPECT_TRUE(auth.at("issuedAtMs").is_int64());
        EXPECT_LE(std::llabs(now_ms() - auth.at("issuedAtMs").as_int64()), 60'000);
        EXPECT_EQ(auth.at("method"), "token");
        EXPECT_TRUE(c.call("config.get", json::object{}, kWait).is_object());
    }
    {
        // Reconnect with the device token only: no shared secret at all.
        client::GatewayClient c;
        auto o = cli_device_opts(gw, id);
        o.token.clear();
        o.device_token = device_token;
        auto hello = c.connect(o);
        EXPECT_EQ(hello.at("type"), "hello-ok");
        EXPECT_EQ(hello.at("auth").at("method"), "device-token");
        EXPECT_EQ(str(hello.at("auth").at("deviceToken")), device_token) << "same scopes: the token is kept";
        EXPECT_TRUE(c.call("health", json::object{}, kWait).is_object());
    }
    {
        // A wrong device token (and no shared token) is refused.
        client::GatewayClient c;
        auto o = cli_device_opts(gw, id);
        o.token.clear();
        o.device_token = std::string(43, 'A');
        auto [err, close] = connect_error(c, o);
        EXPECT_EQ(err.at("code"), "INVALID_REQUEST");
        EXPECT_EQ(err.at("message"), "unauthorized: device token mismatch (rotate/reissue device token)");
        EXPECT_EQ(err.at("details").at("code"), "AUTH_DEVICE_TOKEN_MISMATCH");
        EXPECT_EQ(close.code, 1008);
    }
    {
        // The device token of one device is no good for another device.
        auto other = client::DeviceIdentity::generate();
        client::GatewayClient c;
        auto o = cli_device_opts(gw, other);
        o.token.clear();
        o.device_token = device_token;
        auto [err, close] = connect_error(c, o);
        EXPECT_EQ(err.at("details").at("code"), "AUTH_DEVICE_TOKEN_MISMATCH");
        EXPECT_EQ(close.code, 1008);
    }
}

TEST(Device, V2SignaturePayloadIsAccepted) {
    e2e::GatewayProcess gw;
    auto id = client::DeviceIdentity::generate();
    client::GatewayClient c;
    const auto challenge = open_and_wait_challenge(c, gw);
    auto o = cli_device_opts(gw, id);
    o.client_id = "node-host";
    o.client_mode = "backend";
    o.scopes = std::vector<std::string>{"operator.read"};
    core::DeviceSignatureInput in;
    in.device_id = id.id();
    in.client_id = o.client_id;
    in.client_mode = o.client_mode;
    in.role = "operator";
    in.scopes = *o.scopes;
    in.signed_at_ms = now_ms();  // openclaw-node signs Date.now(), not the challenge ts
    in.token = o.token;
    in.nonce = std::string(challenge.at("nonce").as_string());
    auto params = client::build_connect_params(o, challenge);
    auto& device = params.at("device").as_object();
    device["signedAt"] = in.signed_at_ms;
    device["signature"] = id.sign_b64url(core::build_device_payload_v2(in));
    json::value pv = params;
    auto res = c.wait_response(c.send_request("connect", &pv), kWait);
    ASSERT_TRUE(res.at("ok").as_bool()) << res;
    EXPECT_EQ(res.at("payload").at("auth").at("deviceToken").as_string().size(), 43u);
}

TEST(Device, SignatureFailuresHaveExactMessagesAndDetailCodes) {
    e2e::GatewayProcess gw;
    auto other = client::DeviceIdentity::generate();
    struct Case {
        std::string name;
        json::object device_patch;
        std::string message;
        std::string code;
    };
    const std::vector<Case> cases = {
        {"wrong nonce",
         {{"nonce", "00000000-0000-4000-8000-000000000000"}},
         "device nonce mismatch",
         "DEVICE_AUTH_NONCE_MISMATCH"},
        {"stale signedAt (-3 min)",
         {{"signedAt", now_ms() - 180'000}},
         "device signature expired",
         "DEVICE_AUTH_SIGNATURE_EXPIRED"},
        {"bad signature",
         {{"signature", other.sign_b64url("not the payload")}},
         "device signature invalid",
         "DEVICE_AUTH_SIGNATURE_INVALID"},
        {"id != sha256(publicKey)", {{"id", other.id()}}, "device identity mismatch", "DEVICE_AUTH_DEVICE_ID_MISMATCH"},
        {"garbage publicKey",
         {{"publicKey", "!!not-a-key!!"}},
         "device public key invalid",
         "DEVICE_AUTH_PUBLIC_KEY_INVALID"},
        {"empty nonce", {{"nonce", ""}}, "device nonce required", "DEVICE_AUTH_NONCE_REQUIRED"},
    };
    for (const auto& tc : cases) {
        SCOPED_TRACE(tc.name);
        auto id = client::DeviceIdentity::generate();
        client::GatewayClient c;
        auto o = cli_device_opts(gw, id);
        o.extra = json::object{{"device", tc.device_patch}};
        auto [err, close] = connect_error(c, o);
        EXPECT_EQ(err.at("code"), "INVALID_REQUEST");
        EXPECT_EQ(str(err.at("message")), tc.message);
        EXPECT_EQ(str(err.at("details").at("code")), tc.code) << err;
        EXPECT_EQ(close.code, 1008);
        EXPECT_EQ(close.reason, tc.message);
    }
    // The failures leave the gateway healthy: a well-formed device still connects.
    client::GatewayClient ok;
    EXPECT_EQ(ok.connect(cli_device_opts(gw, other)).at("type"), "hello-ok");
}

TEST(Device, ScopeUpgradeCreatesOnePendingRequestThatSurvivesARestart) {
    TempDir state("dev");
    e2e::GatewayOptions go;
    go.state_dir = state.path;
    auto gw = std::make_unique<e2e::GatewayProcess>(go);
    auto id = client::DeviceIdentity::generate();

    // An admin client with operator.pairing watches for pairing requests.
    client::GatewayClient admin;
    admin.connect(backend_opts(*gw));

    {
        client::GatewayClient c;
        auto o = cli_device_opts(*gw, id);
        o.scopes = std::vector<std::string>{"operator.read"};
        auto hello = c.connect(o);
        EXPECT_TRUE(hello.at("auth").as_object().contains("deviceToken"));
        EXPECT_EQ(hello.at("auth").at("scopes"), json::array{"operator.read"});
    }

    auto upgrade = [&](e2e::GatewayProcess& g) {
        client::GatewayClient c;
        auto o = cli_device_opts(g, id);
        o.scopes = std::vector<std::string>{"operator.read", "operator.admin"};
        auto [err, close] = connect_error(c, o);
        EXPECT_EQ(err.at("code"), "NOT_PAIRED");
        EXPECT_EQ(str(err.at("message")), kUpgradeMessage);
        const auto& d = err.at("details").as_object();
        EXPECT_EQ(d.at("code"), "PAIRING_REQUIRED");
        EXPECT_EQ(d.at("reason"), "scope-upgrade");
        EXPECT_EQ(str(d.at("deviceId")), id.id());
        EXPECT_EQ(d.at("approvedScopes"), json::array{"operator.read"});
        EXPECT_EQ(close.code, 1008);
        EXPECT_TRUE(close.reason.starts_with(kUpgradeMessage + " (requestId: ")) << close.reason;
        EXPECT_LE(close.reason.size(), 123u);
        std::string request_id(d.at("requestId").as_string());
        EXPECT_FALSE(request_id.empty());
        return request_id;
    };

    const std::string request_id = upgrade(*gw);
    auto ev = admin.wait_event("device.pair.requested", kWait);
    const auto& p = ev.at("payload").as_object();
    EXPECT_EQ(str(p.at("requestId")), request_id);
    EXPECT_EQ(str(p.at("deviceId")), id.id());
    EXPECT_EQ(p.at("role"), "operator");
    EXPECT_EQ(p.at("scopes"), (json::array{"operator.read", "operator.admin"}));
    EXPECT_TRUE(ev.contains("seq"));

    // Asking again returns the stored request, not a new one.
    EXPECT_EQ(upgrade(*gw), request_id);

    // The original scopes still work without approval.
    {
        client::GatewayClient c;
        auto o = cli_device_opts(*gw, id);
        o.scopes = std::vector<std::string>{"operator.read"};
        EXPECT_EQ(c.connect(o).at("type"), "hello-ok");
    }

    // The pending request is stored: after a restart on the same state dir, it is the same one.
    admin.close();
    auto st = gw->stop(SIGTERM);
    EXPECT_TRUE(st.exited);
    EXPECT_EQ(st.code, 0);
    gw.reset();
    e2e::GatewayProcess gw2(go);
    EXPECT_EQ(upgrade(gw2), request_id);
}

TEST(Device, NodeRoleWithoutDeviceNeedsADeviceIdentity) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    auto o = cli_opts(gw);
    o.client_id = "node-host";
    o.client_mode = "node";
    o.role = "node";
    auto [err, close] = connect_error(c, o);
    EXPECT_EQ(err.at("code"), "NOT_PAIRED");
    EXPECT_EQ(err.at("message"), "device identity required");
    EXPECT_EQ(err.at("details").at("code"), "DEVICE_IDENTITY_REQUIRED");
    EXPECT_EQ(close.code, 1008);
    EXPECT_EQ(close.reason, "device identity required");
}

TEST(Device, NodeRoleWithSignedDeviceOnV3IsAccepted) {
    e2e::GatewayProcess gw;
    auto id = client::DeviceIdentity::generate();
    client::GatewayClient c;
    auto o = cli_device_opts(gw, id);
    o.client_id = "node-host";
    o.client_mode = "node";
    o.role = "node";
    o.min_protocol = o.max_protocol = 3;
    auto hello = c.connect(o);
    EXPECT_EQ(hello.at("auth").at("role"), "node");
    EXPECT_TRUE(hello.at("auth").at("scopes").as_array().empty());
    EXPECT_EQ(hello.at("auth").at("deviceToken").as_string().size(), 43u);
}
