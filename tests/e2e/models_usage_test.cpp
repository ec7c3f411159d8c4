// models.list and usage.* over the real socket, against the config and the state store.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "client/gateway_client.hpp"
#include "support/gateway_process.hpp"
#include "support/helpers.hpp"

using namespace pincer;
using namespace pincer::e2e;

TEST(ModelsList, EmptyWithNothingConfiguredAsTheReference) {
    GatewayOptions opts;
    opts.env = {{"OPENAI_API_KEY", ""}, {"ANTHROPIC_API_KEY", ""}, {"OPENROUTER_API_KEY", ""}};
    GatewayProcess gw(opts);
    auto c = connect_client(cli_opts(gw));
    auto res = c->call("models.list");
    EXPECT_EQ(boost::json::serialize(res), R"({"models":[]})");
}

TEST(ModelsList, ListsConfiguredProvidersAndIsAdvertised) {
    GatewayOptions opts;
    opts.env = {{"OPENAI_API_KEY", ""}, {"ANTHROPIC_API_KEY", ""}, {"OPENROUTER_API_KEY", ""}};
    opts.config = R"({
      // an OpenAI-compatible local server, as OpenClaw configures it
      models: { providers: { ollama: { baseUrl: "http://127.0.0.1:11434/v1", api: "openai-completions",
                 models: [ { id: "llama3.1", name: "Llama 3.1", contextWindow: 131072 } ] } } },
    })";
    GatewayProcess gw(opts);
    auto c = std::make_unique<client::GatewayClient>();
    auto hello = c->connect(cli_opts(gw));
    bool advertised = false;
    for (const auto& m : hello.at("features").at("methods").as_array()) advertised |= m.as_string() == "models.list";
    EXPECT_TRUE(advertised);
    auto models = c->call("models.list").at("models").as_array();
    ASSERT_EQ(models.size(), 1u);
    EXPECT_EQ(models[0].at("id").as_string(), "llama3.1");
    EXPECT_EQ(models[0].at("provider").as_string(), "ollama");
    EXPECT_EQ(models[0].at("contextWindow").as_int64(), 131072);
    EXPECT_FALSE(models[0].as_object().contains("configured"));  // not in the schema's ModelChoice
    EXPECT_TRUE(models[0].at("available").as_bool());            // loopback: no key needed
}

// What the 2026.9.6 CLI's `openclaw models list` sends: view + includeDetails.
TEST(ModelsList, PublishedModelCatalogParams) {
    GatewayOptions opts;
    opts.env = {{"OPENAI_API_KEY", ""}, {"ANTHROPIC_API_KEY", ""}, {"OPENROUTER_API_KEY", ""}};
    opts.config = R"({
      models: { providers: { fake: { baseUrl: "http://127.0.0.1:9/v1", api: "openai-completions", apiKey: "k",
                 models: [ { id: "fake-model" } ] } } },
      agents: { defaults: { model: "fake/fake-model" } },
    })";
    GatewayProcess gw(opts);
    auto c = connect_client(cli_opts(gw));
    auto res = c->call("models.list", boost::json::object{{"view", "default"}, {"includeDetails", true}});
    EXPECT_EQ(boost::json::serialize(res),
              R"({"models":[{"id":"fake-model","name":"fake-model","provider":"fake","tags":["default"],)"
              R"("available":true,"local":true}]})");
    auto err = rpc_error([&] { c->call("models.list", boost::json::object{{"view", "nope"}}); });
    EXPECT_EQ(err.code(), "INVALID_REQUEST");
    err = rpc_error([&] { c->call("models.list", boost::json::object{{"preparedOnly", true}, {"refresh", true}}); });
    EXPECT_EQ(err.code(), "INVALID_REQUEST");
}

TEST(UsageCost, ThirtyZeroDaysOnAFreshGatewayAndValidatedParams) {
    GatewayProcess gw;
    auto c = connect_client(cli_opts(gw));
    auto cost = c->call("usage.cost").as_object();
    EXPECT_EQ(cost.at("days").as_int64(), 30);
    ASSERT_EQ(cost.at("daily").as_array().size(), 30u);
    EXPECT_EQ(cost.at("totals").at("totalTokens").as_int64(), 0);
    auto week = c->call("usage.cost", boost::json::object{{"days", 7}}).as_object();
    EXPECT_EQ(week.at("daily").as_array().size(), 7u);
    auto err = rpc_error([&] { c->call("usage.cost", boost::json::object{{"startDate", "2026-13-01"}}); });
    EXPECT_EQ(err.code(), "INVALID_REQUEST");
    EXPECT_EQ(err.message_text(), "invalid usage.cost params: at /startDate: must be YYYY-MM-DD");
    auto status = c->call("usage.status").as_object();
    EXPECT_TRUE(status.at("providers").as_array().empty());
}
