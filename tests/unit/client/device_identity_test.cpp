// DeviceIdentity and connect-params building, checked against OpenSSL and the server-side verifier.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include "client/gateway_client.hpp"
#include "core/device_auth.hpp"
#include "util/base64url.hpp"
#include "util/crypto.hpp"

namespace pincer::client {
namespace {

namespace json = boost::json;

// Verifies with OpenSSL directly so the test does not trust our own verifier alone.
bool openssl_verify(const std::array<uint8_t, 32>& pub, std::string_view msg, std::string_view sig_b64url) {
    auto sig = util::base64_decode_any(sig_b64url);
    if (!sig || sig->size() != 64) return false;
    EVP_PKEY* key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, pub.data(), pub.size());
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok =
        key && ctx && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
        EVP_DigestVerify(ctx, sig->data(), sig->size(), reinterpret_cast<const uint8_t*>(msg.data()), msg.size()) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return ok;
}

TEST(DeviceIdentity, SignVerifyRoundTrip) {
    auto d = DeviceIdentity::generate();
    auto sig = d.sign_b64url("hello");
    EXPECT_EQ(sig.size(), 86u);  // 64 bytes, base64url without padding
    EXPECT_EQ(sig.find('='), std::string::npos);
    EXPECT_TRUE(openssl_verify(d.public_key(), "hello", sig));
    EXPECT_FALSE(openssl_verify(d.public_key(), "hellO", sig));
}

TEST(DeviceIdentity, IdIsSha256OfRawKey) {
    auto d = DeviceIdentity::generate();
    std::string raw(d.public_key().begin(), d.public_key().end());
    EXPECT_EQ(d.id(), util::sha256_hex(raw));
    EXPECT_EQ(d.id().size(), 64u);
    auto decoded = util::base64_decode_any(d.public_key_b64url());
    ASSERT_TRUE(decoded);
    EXPECT_TRUE(std::equal(decoded->begin(), decoded->end(), d.public_key().begin()));
}

TEST(DeviceIdentity, FromPrivateKeyIsDeterministic) {
    auto a = DeviceIdentity::generate();
    auto b = DeviceIdentity::from_private_key(a.private_seed());
    EXPECT_EQ(a.id(), b.id());
    // Ed25519 signatures are deterministic.
    EXPECT_EQ(a.sign_b64url("x"), b.sign_b64url("x"));
    EXPECT_NE(DeviceIdentity::generate().id(), a.id());
}

TEST(ConnectParams, DefaultShape) {
    ConnectOptions o;
    auto p = build_connect_params(o, {});
    EXPECT_EQ(p.at("minProtocol"), 3);
    EXPECT_EQ(p.at("maxProtocol"), 4);
    const auto& client = p.at("client").as_object();
    EXPECT_EQ(client.at("id"), "cli");
    EXPECT_EQ(client.at("mode"), "cli");
    EXPECT_EQ(client.at("platform"), "linux");
    EXPECT_FALSE(client.contains("deviceFamily"));
    EXPECT_FALSE(p.contains("role"));
    EXPECT_FALSE(p.contains("scopes"));
    EXPECT_FALSE(p.contains("auth"));
    EXPECT_FALSE(p.contains("device"));
    EXPECT_TRUE(p.at("caps").as_array().empty());
}

TEST(ConnectParams, SignedDeviceBlockVerifiesOnTheServerSide) {
    auto d = DeviceIdentity::generate();
    ConnectOptions o;
    o.token = "secret-token";
    o.role = "operator";
    o.scopes = std::vector<std::string>{"operator.read", "operator.write"};
    o.platform = " Linux ";
    o.device_family = "Desktop";
    o.device = &d;
    json::object challenge{{"nonce", "abc-nonce"}, {"ts", 1700000000123}};
    auto p = build_connect_params(o, challenge);
    EXPECT_EQ(p.at("auth").at("token"), "secret-token");
    const auto& dev = p.at("device").as_object();
    EXPECT_EQ(dev.at("id").as_string(), d.id());
    EXPECT_EQ(dev.at("publicKey").as_string(), d.public_key_b64url());
    EXPECT_EQ(dev.at("nonce"), "abc-nonce");
    EXPECT_EQ(dev.at("signedAt"), 1700000000123);

    core::DeviceSignatureInput in{
        d.id(),        "cli",          "cli",       "operator", {"operator.read", "operator.write"},
        1700000000123, "secret-token", "abc-nonce", " Linux ",  "Desktop"};
    std::string sig(dev.at("signature").as_string());
    EXPECT_EQ(core::verify_device_signature(d.public_key(), sig, in), core::DeviceSignatureVersion::v3);
    EXPECT_TRUE(openssl_verify(d.public_key(),
                               "v3|" + d.id() +
                                   "|cli|cli|operator|operator.read,operator.write|1700000000123|"
                                   "secret-token|abc-nonce|linux|desktop",
                               sig));
}

TEST(ConnectParams, DeviceTokenFillsTheTokenSlotWithoutSharedToken) {
    auto d = DeviceIdentity::generate();
    ConnectOptions o;
    o.device_token = "dev-token";
    o.device = &d;
    auto p = build_connect_params(o, json::object{{"nonce", "n"}, {"ts", 5}});
    EXPECT_EQ(p.at("auth").at("deviceToken"), "dev-token");
    EXPECT_FALSE(p.at("auth").as_object().contains("token"));
    core::DeviceSignatureInput in{d.id(), "cli", "cli", "operator", {}, 5, "dev-token", "n", "linux", ""};
    EXPECT_EQ(
        core::verify_device_signature(d.public_key(), std::string(p.at("device").at("signature").as_string()), in),
        core::DeviceSignatureVersion::v3);
}

TEST(ConnectParams, ExtraIsAMergePatch) {
    ConnectOptions o;
    o.token = "t";
    o.extra = json::parse(R"({"client":{"platform":null,"displayName":"x"},"auth":{"token":"u"},"maxProtocol":99,
                             "caps":["a"],"locale":"en-US"})")
                  .as_object();
    auto p = build_connect_params(o, {});
    EXPECT_FALSE(p.at("client").as_object().contains("platform"));
    EXPECT_EQ(p.at("client").at("displayName"), "x");
    EXPECT_EQ(p.at("client").at("id"), "cli");
    EXPECT_EQ(p.at("auth").at("token"), "u");
    EXPECT_EQ(p.at("maxProtocol"), 99);
    EXPECT_EQ(p.at("caps").as_array().size(), 1u);
    EXPECT_EQ(p.at("locale"), "en-US");
}

TEST(WsUrl, Parses) {
    auto u = parse_ws_url("ws://127.0.0.1:18789/");
    EXPECT_EQ(u.host, "127.0.0.1");
    EXPECT_EQ(u.port, 18789);
    EXPECT_EQ(u.target, "/");
    u = parse_ws_url("ws://localhost/a/b?x=1");
    EXPECT_EQ(u.host, "localhost");
    EXPECT_EQ(u.port, 80);
    EXPECT_EQ(u.target, "/a/b?x=1");
    u = parse_ws_url("ws://[::1]:9");
    EXPECT_EQ(u.host, "::1");
    EXPECT_EQ(u.port, 9);
    EXPECT_EQ(u.target, "/");
    EXPECT_THROW(parse_ws_url("wss://h/"), std::invalid_argument);
    EXPECT_THROW(parse_ws_url("http://h/"), std::invalid_argument);
    EXPECT_THROW(parse_ws_url("not a url"), std::invalid_argument);
}

}  // namespace
}  // namespace pincer::client
