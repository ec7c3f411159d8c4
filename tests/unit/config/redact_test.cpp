#include "config/redact.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "config/json5.hpp"

namespace pincer::config {
namespace {

namespace json = boost::json;

constexpr std::string_view kConfig = R"json5({
  // gateway token: sk-gw-secret-1 (rotated monthly)
  gateway: {
    port: 18789,
    auth: { mode: 'token', token: 'sk-gw-secret-1', password: "", rateLimit: { maxAttempts: 5 } },
    remote: { url: 'wss://example', password: 'remote-pass' },
  },
  models: { providers: {
    openai: { apiKey: "sk-openai-\u0041BC", baseUrl: 'https://api.openai.com/v1', headers: { 'X-Org': 'org-1' } },
  } },
  channels: { telegram: { botToken: '123:abc', maxTokens: 'many' } },
  env: { OPENAI_API_KEY: 'sk-env', vars: { GITHUB_TOKEN: 'ghp_x', PLAIN: 'visible?' } },
  agents: { list: [ { id: 'main', apiKey: 'k-main' }, { id: 'work', apiKey: 'k-work' } ] },
  hooks: { token: 'hook-secret', enabled: true },
})json5";

json::value parse(std::string_view text) { return std::get<json::value>(parse_json5(text)); }
json::value redacted_value() { return json::value(kRedacted); }

TEST(Redact, KeyNameRule) {
    for (auto key : {"token", "password", "secret", "apiKey", "api_key", "botToken", "appToken", "accessToken",
                     "refreshToken", "privateKey", "clientSecret", "signingSecret", "OPENAI_API_KEY", "GITHUB_TOKEN",
                     "AWS_SECRET_ACCESS_KEY", "Authorization", "webhookPassword"}) {
        EXPECT_TRUE(is_sensitive_key(key)) << key;
    }
    for (auto key : {"maxTokens", "tokenizer", "mode", "port", "secrets", "tokenFile", "apiKeyEnv", "id"}) {
        EXPECT_FALSE(is_sensitive_key(key)) << key;
    }
    EXPECT_TRUE(is_sensitive_path("gateway.auth.token"));
    EXPECT_TRUE(is_sensitive_path("models.providers.openai.headers.X-Org"));
    EXPECT_TRUE(is_sensitive_path("agents.list.0.apiKey"));
    EXPECT_TRUE(is_sensitive_path("env.vars.PLAIN"));
    EXPECT_FALSE(is_sensitive_path("gateway.auth.mode"));
    EXPECT_FALSE(is_sensitive_path("gateway.bind"));
}

TEST(Redact, ReplacesSecretStringLeaves) {
    const auto cfg = parse(kConfig);
    const auto r = redact(cfg);
    const auto& gw = r.at("gateway").as_object();
    EXPECT_EQ(gw.at("auth").at("token"), redacted_value());
    EXPECT_EQ(gw.at("auth").at("password"), "") << "empty strings are not secrets";
    EXPECT_EQ(gw.at("auth").at("mode"), "token");
    EXPECT_EQ(gw.at("auth").at("rateLimit").at("maxAttempts"), 5);
    EXPECT_EQ(gw.at("remote").at("password"), redacted_value());
    EXPECT_EQ(gw.at("remote").at("url"), "wss://example");
    EXPECT_EQ(r.at("models").at("providers").at("openai").at("apiKey"), redacted_value());
    EXPECT_EQ(r.at("models").at("providers").at("openai").at("headers").at("X-Org"), redacted_value());
    EXPECT_EQ(r.at("channels").at("telegram").at("botToken"), redacted_value());
    EXPECT_EQ(r.at("channels").at("telegram").at("maxTokens"), "many");
    EXPECT_EQ(r.at("env").at("OPENAI_API_KEY"), redacted_value());
    EXPECT_EQ(r.at("env").at("vars").at("PLAIN"), redacted_value());
    EXPECT_EQ(r.at("agents").at("list").at(1).at("apiKey"), redacted_value());
    EXPECT_EQ(r.at("hooks").at("token"), redacted_value());
    EXPECT_EQ(r.at("hooks").at("enabled"), true);
    EXPECT_EQ(json::serialize(r).find("sk-"), std::string::npos);
}

TEST(Redact, RoundTripRestoresOriginal) {
    const auto cfg = parse(kConfig);
    json::value incoming = redact(cfg);
    const auto res = restore_redacted(incoming, cfg);
    ASSERT_TRUE(res.ok) << res.error;
    EXPECT_EQ(incoming, cfg);
}

TEST(Redact, RestoreKeepsEditsAndFollowsIds) {
    const auto cfg = parse(kConfig);
    json::value incoming = redact(cfg);
    incoming.at("gateway").at("auth").at("token") = "new-token";
    auto& list = incoming.at("agents").at("list").as_array();
    std::swap(list[0], list[1]);  // the client reordered the id-keyed list
    const auto res = restore_redacted(incoming, cfg);
    ASSERT_TRUE(res.ok) << res.error;
    EXPECT_EQ(incoming.at("gateway").at("auth").at("token"), "new-token");
    EXPECT_EQ(incoming.at("agents").at("list").at(0).at("apiKey"), "k-work");
    EXPECT_EQ(incoming.at("agents").at("list").at(1).at("apiKey"), "k-main");
}

TEST(Redact, RestoreWithoutStoredValueNamesPath) {
    json::value incoming = json::parse(R"({"gateway":{"auth":{"token":"__OPENCLAW_REDACTED__"}}})");
    const auto res = restore_redacted(incoming, json::parse(R"({"gateway":{"auth":{}}})"));
    EXPECT_FALSE(res.ok);
    EXPECT_EQ(res.path, "gateway.auth.token");
    EXPECT_EQ(res.error, "config.gateway.auth.token: redacted placeholder has no stored value");

    json::value list = json::parse(R"({"agents":{"list":[{"id":"gone","apiKey":"__OPENCLAW_REDACTED__"}]}})");
    const auto res2 = restore_redacted(list, parse(kConfig));
    EXPECT_FALSE(res2.ok);
    EXPECT_EQ(res2.path, "agents.list.0.apiKey");
}

TEST(Redact, PlaceholderAtNonSecretPathIsData) {
    json::value incoming = json::parse(R"({"gateway":{"mode":"__OPENCLAW_REDACTED__"}})");
    EXPECT_TRUE(restore_redacted(incoming, json::object()).ok);
    EXPECT_EQ(incoming.at("gateway").at("mode"), redacted_value());
}

TEST(Redact, RawTextHidesSecretsEverywhere) {
    const auto cfg = parse(kConfig);
    const auto raw = redact_raw(kConfig, cfg);
    ASSERT_TRUE(raw.has_value());
    for (auto secret : {"sk-gw-secret-1", "remote-pass", "sk-openai-", "123:abc", "sk-env", "ghp_x", "k-main",
                        "hook-secret", "org-1"}) {
        EXPECT_EQ(raw->find(secret), std::string::npos) << secret << " leaked:\n" << *raw;
    }
    EXPECT_NE(raw->find("// gateway token: __OPENCLAW_REDACTED__ (rotated monthly)"), std::string::npos) << *raw;
    EXPECT_NE(raw->find("token: '__OPENCLAW_REDACTED__'"), std::string::npos) << "quote style kept";
    EXPECT_NE(raw->find("https://api.openai.com/v1"), std::string::npos);
    EXPECT_EQ(parse(*raw), redact(cfg));
}

TEST(Redact, RawTextRefusesWhenSecretIsAlsoOtherData) {
    // The secret equals a non-secret value; replacing it would change data, so raw is withheld.
    constexpr std::string_view text = R"({gateway: {auth: {mode: "token", token: "token"}}})";
    EXPECT_FALSE(redact_raw(text, parse(text)).has_value());
    // A secret equal to a key name is fine: keys are never rewritten.
    constexpr std::string_view text2 = R"({"mode": 1, gateway: {auth: {token: "mode"}}})";
    const auto raw2 = redact_raw(text2, parse(text2));
    ASSERT_TRUE(raw2.has_value());
    EXPECT_EQ(*raw2, R"({"mode": 1, gateway: {auth: {token: "__OPENCLAW_REDACTED__"}}})");
}

TEST(Redact, RawTextWithoutSecretsIsUnchanged) {
    constexpr std::string_view text = "{gateway: {port: 1}} // hi\n";
    EXPECT_EQ(redact_raw(text, parse(text)), std::string(text));
}

}  // namespace
}  // namespace pincer::config
