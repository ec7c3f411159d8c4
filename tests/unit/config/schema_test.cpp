#include "config/schema.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "config/json5.hpp"

namespace pincer::config {
namespace {

namespace json = boost::json;

json::value parse(std::string_view text) { return std::get<json::value>(parse_json5(text)); }

TEST(Schema, IsDraft07WithTitlesAndDefaults) {
    const auto& s = config_schema().as_object();
    EXPECT_EQ(s.at("$schema"), "http://json-schema.org/draft-07/schema#");
    const auto& port = s.at("properties").at("gateway").at("properties").at("port").as_object();
    EXPECT_EQ(port.at("type"), "integer");
    EXPECT_EQ(port.at("default"), 18789);
    EXPECT_EQ(port.at("title"), "Port");
    EXPECT_TRUE(port.contains("description"));
    for (auto key : {"agents", "models", "channels", "$schema", "crestodian", "bindings"}) {
        EXPECT_TRUE(s.at("properties").as_object().contains(key)) << key;
    }
}

TEST(Schema, UiHintsMarkSecrets) {
    const auto& hints = config_ui_hints();
    EXPECT_EQ(hints.at("gateway.auth.token").at("sensitive"), true);
    EXPECT_EQ(hints.at("gateway.auth.password").at("sensitive"), true);
    EXPECT_EQ(hints.at("models.providers.*.apiKey").at("sensitive"), true);
    EXPECT_EQ(hints.at("gateway.port").at("label"), "Port");
    EXPECT_FALSE(hints.at("gateway.port").as_object().contains("sensitive"));
}

TEST(Schema, ValidConfigHasNoIssues) {
    const auto cfg = parse(R"({
        gateway: { mode: 'local', port: 18789, bind: '127.0.0.1', auth: { mode: 'token', token: 't',
                   defaultScopes: ['operator.read', 'operator.write'], rateLimit: { maxAttempts: 3 } },
                   reload: { mode: 'hot' }, tickIntervalMs: 15000, limits: { maxPayload: 1048576 } },
        logging: { level: 'debug', file: '/tmp/x.log', maxFiles: 3 },
        agents: { list: [] }, foo: 1,
    })");
    EXPECT_TRUE(validate_config(cfg).empty());
    EXPECT_TRUE(validate_config(json::object()).empty());
    EXPECT_TRUE(validate_config(parse("{gateway: {bind: '::1'}}")).empty());
    EXPECT_TRUE(validate_config(parse("{gateway: {port: 8080.0}}")).empty()) << "integral double is an integer";
}

TEST(Schema, BadPortTypeReportedAtPath) {
    const auto issues = validate_config(parse("{gateway: {port: '18789'}}"));
    ASSERT_EQ(issues.size(), 1u);
    EXPECT_EQ(issues[0].path, "gateway.port");
    EXPECT_EQ(issues[0].message, "expected integer, received string");
}

TEST(Schema, RangesChecked) {
    auto issues = validate_config(parse("{gateway: {port: 70000, tickIntervalMs: 10, limits: {maxPayload: 1.5}}}"));
    ASSERT_EQ(issues.size(), 3u);
    EXPECT_EQ(issues[0].path, "gateway.port");
    EXPECT_EQ(issues[0].message, "must be <= 65535");
    EXPECT_EQ(issues[1].path, "gateway.tickIntervalMs");
    EXPECT_EQ(issues[1].message, "must be >= 1000");
    EXPECT_EQ(issues[2].path, "gateway.limits.maxPayload");
}

TEST(Schema, BadEnumListsAllowedValues) {
    const auto issues = validate_config(parse("{gateway: {auth: {mode: 'oauth'}}, logging: {level: 'loud'}}"));
    ASSERT_EQ(issues.size(), 2u);
    EXPECT_EQ(issues[0].path, "gateway.auth.mode");
    EXPECT_EQ(issues[0].allowed_values, (std::vector<std::string>{"token", "password", "none", "trusted-proxy"}));
    EXPECT_EQ(issues[0].message,
              R"(invalid value "oauth"; expected one of "token", "password", "none", "trusted-proxy")");
    EXPECT_EQ(issues[1].path, "logging.level");
}

TEST(Schema, BindAcceptsModesOrIpLiterals) {
    const auto issues = validate_config(parse("{gateway: {bind: 'everywhere'}}"));
    ASSERT_EQ(issues.size(), 1u);
    EXPECT_EQ(issues[0].path, "gateway.bind");
    EXPECT_EQ(issues[0].allowed_values.size(), 5u);
    EXPECT_NE(issues[0].message.find("ipv4"), std::string::npos);
}

TEST(Schema, ScopesChecked) {
    const auto issues =
        validate_config(parse("{gateway: {auth: {defaultScopes: ['operator.read', 'root', 'operator.read']}}}"));
    ASSERT_EQ(issues.size(), 2u);
    EXPECT_EQ(issues[0].path, "gateway.auth.defaultScopes.1");
    EXPECT_EQ(issues[1].path, "gateway.auth.defaultScopes.2");
    EXPECT_EQ(issues[1].message, R"(duplicate item "operator.read")");
}

TEST(Schema, RootMustBeObject) {
    const auto issues = validate_config(json::array());
    ASSERT_EQ(issues.size(), 1u);
    EXPECT_EQ(issues[0].path, "");
}

TEST(Schema, UnknownKeysAreIgnoredNotInvalid) {
    const auto cfg = parse(R"({
        $schema: 'x', agents: {}, models: {providers: {}}, madeUp: [1],
        gateway: { port: 1, controlUi: { enabled: true }, auth: { mode: 'none', extra: 1 } },
        logging: { level: 'info', consoleStyle: 'pretty' },
    })");
    EXPECT_TRUE(validate_config(cfg).empty());
    EXPECT_EQ(ignored_keys(cfg), (std::vector<std::string>{"$schema", "madeUp", "gateway.controlUi",
                                                           "gateway.auth.extra", "logging.consoleStyle"}));
}

TEST(Schema, ModelsAgentsAndSessionAreUsedDownToTheKeysPincerReads) {
    const auto cfg = parse(R"({
        models: { mode: 'merge', providers: { fake: { baseUrl: 'http://127.0.0.1:1/v1', api: 'openai-completions',
                  apiKey: { source: 'env', id: 'K' }, headers: { 'x-a': 'b' }, authHeader: true,
                  models: [ { id: 'm', contextWindow: 1000, compat: {} } ] } } },
        agents: { defaults: { model: { primary: 'fake/m', fallbacks: [] }, workspace: '/w', thinkingDefault: 'low' },
                  list: [ { id: 'a', model: 'fake/m', identity: { emoji: 'x' } } ] },
        session: { mainKey: 'main', dmScope: 'main' },
    })");
    EXPECT_TRUE(validate_config(cfg).empty());
    EXPECT_EQ(ignored_keys(cfg), (std::vector<std::string>{"models.mode", "models.providers.fake.authHeader",
                                                           "agents.defaults.thinkingDefault", "session.dmScope"}));
    const auto bad = validate_config(parse("{models: {providers: {p: {baseUrl: 1}}}, agents: {list: 'x'}}"));
    ASSERT_EQ(bad.size(), 2u);
    EXPECT_EQ(bad[0].path, "models.providers.p.baseUrl");
    EXPECT_EQ(bad[1].path, "agents.list");
}

TEST(Schema, IssueHelpers) {
    const auto issues = validate_config(parse("{gateway: {port: 'x', mode: 'y', bind: 1, tickIntervalMs: 'z'}}"));
    ASSERT_EQ(issues.size(), 4u);
    const auto summary = summarize_issues(issues);
    EXPECT_EQ(summary.rfind("invalid config: gateway.port: expected integer, received string; ", 0), 0u) << summary;
    EXPECT_NE(summary.find("(+1 more issues)"), std::string::npos) << summary;
    const auto arr = issues_to_json(issues);
    EXPECT_EQ(arr.at(0).at("path"), "gateway.port");
    EXPECT_FALSE(arr.at(0).as_object().contains("allowedValues"));
    EXPECT_EQ(arr.at(1).at("allowedValues"), json::parse(R"(["local","remote"])"));
}

}  // namespace
}  // namespace pincer::config
