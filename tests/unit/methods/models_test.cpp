#include "methods/models.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <string>

namespace pincer::methods {
namespace {

namespace json = boost::json;

EnvLookup fake_env(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
        auto it = vars.find(std::string(name));
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

const EnvLookup kNoEnv = fake_env({});

const json::object* find_entry(const json::object& result, std::string_view provider, std::string_view id) {
    for (const auto& v : result.at("models").as_array()) {
        const auto& o = v.as_object();
        if (o.at("provider").as_string() == provider && o.at("id").as_string() == id) return &o;
    }
    return nullptr;
}

size_t count_provider(const json::object& result, std::string_view provider) {
    size_t n = 0;
    for (const auto& v : result.at("models").as_array()) n += v.as_object().at("provider").as_string() == provider;
    return n;
}

TEST(ModelsList, NothingConfiguredIsEmpty) {
    EXPECT_EQ(json::value(list_models(json::object{}, {}, kNoEnv)), json::parse(R"({"models":[]})"));
    // A missing/unreadable config (parsed == null) and an empty providers map behave the same.
    EXPECT_EQ(json::value(list_models(nullptr, {}, kNoEnv)), json::parse(R"({"models":[]})"));
    EXPECT_EQ(json::value(list_models(json::parse(R"({"models":{"providers":{}}})"), {}, kNoEnv)),
              json::parse(R"({"models":[]})"));
    // An empty env value does not count as a key.
    EXPECT_EQ(json::value(list_models(json::object{}, {}, fake_env({{"OPENAI_API_KEY", ""}}))),
              json::parse(R"({"models":[]})"));
}

TEST(ModelsList, ConfiguredOpenAiCompatibleProviderListsExactlyItsModels) {
    auto cfg = json::parse(R"({"models":{"providers":{"ollama":{
        "baseUrl":"http://127.0.0.1:11434/v1","apiKey":"ollama","api":"openai-completions",
        "models":[{"id":"llama3.1","contextWindow":131072}]}}}})");
    EXPECT_EQ(json::value(list_models(cfg, {}, kNoEnv)),
              json::parse(R"({"models":[{"id":"llama3.1","name":"llama3.1","provider":"ollama",
                  "contextWindow":131072,"available":true}]})"));
}

TEST(ModelsList, ConfiguredModelKeepsAllItsFields) {
    auto cfg = json::parse(R"({"models":{"providers":{"local":{"api":"openai-completions","models":[
        {"id":"m1","name":"Model One","contextWindow":32000,"maxTokens":4096,"reasoning":true,
         "input":["text","image"],"cost":{"input":1,"output":2.5,"cacheRead":0.1,"cacheWrite":0}},
        {"name":"no id, skipped"}, 7]}}}})");
    EXPECT_EQ(json::value(list_models(cfg, {}, kNoEnv)),
              json::parse(R"({"models":[{"id":"m1","name":"Model One","provider":"local","contextWindow":32000,
                  "maxTokens":4096,"reasoning":true,"input":["text","image"],
                  "cost":{"input":1.0,"output":2.5,"cacheRead":0.1,"cacheWrite":0.0},"available":false}]})"));
}

TEST(ModelsList, EnvKeyEnablesCatalogueWithPrices) {
    auto r = list_models(json::object{}, {}, fake_env({{"OPENAI_API_KEY", "sk-test"}}));
    EXPECT_EQ(count_provider(r, "anthropic"), 0u);
    for (const char* id : {"gpt-4.1", "gpt-4.1-mini", "gpt-4o", "gpt-4o-mini", "o3", "o4-mini"}) {
        EXPECT_NE(find_entry(r, "openai", id), nullptr) << id;
    }
    EXPECT_EQ(count_provider(r, "openai"), r.at("models").as_array().size());
    const json::object* m = find_entry(r, "openai", "gpt-4o-mini");
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(json::value(*m), json::parse(R"({"id":"gpt-4o-mini","name":"GPT-4o mini","provider":"openai",
        "contextWindow":128000,"maxTokens":16384,"reasoning":false,"input":["text","image"],
        "cost":{"input":0.15,"output":0.6,"cacheRead":0.075,"cacheWrite":0.0},"tags":["default"],"available":true})"));
    EXPECT_EQ(find_entry(r, "openai", "o3")->at("reasoning"), json::value(true));

    auto both = list_models(json::object{}, {}, fake_env({{"OPENAI_API_KEY", "a"}, {"ANTHROPIC_API_KEY", "b"}}));
    const json::object* sonnet = find_entry(both, "anthropic", "claude-sonnet-4-5");
    ASSERT_NE(sonnet, nullptr);
    EXPECT_EQ(sonnet->at("cost"), json::parse(R"({"input":3.0,"output":15.0,"cacheRead":0.3,"cacheWrite":3.75})"));
    EXPECT_NE(find_entry(both, "anthropic", "claude-3-5-haiku-latest"), nullptr);
}

TEST(ModelsList, ProviderEntryWithoutModelsEnablesCatalogue) {
    auto cfg = json::parse(R"({"models":{"providers":{"anthropic":{"apiKey":"x","api":"anthropic-messages"}}}})");
    auto r = list_models(cfg, {}, kNoEnv);
    EXPECT_GE(count_provider(r, "anthropic"), 4u);
    EXPECT_EQ(count_provider(r, "anthropic"), r.at("models").as_array().size());
    // `configured` stays internal: the schema's ModelChoice is closed and has no such key.
    for (const auto& v : r.at("models").as_array()) EXPECT_FALSE(v.as_object().contains("configured"));
}

TEST(ModelsList, ConfigOverridesCatalogueAndMerges) {
    auto cfg = json::parse(R"({"models":{"providers":{"openai":{"api":"openai-completions","models":[
        {"id":"gpt-4o","contextWindow":64000}]}}}})");
    auto r = list_models(cfg, {}, fake_env({{"OPENAI_API_KEY", "sk"}}));
    size_t gpt4o = 0;
    for (const auto& v : r.at("models").as_array()) gpt4o += v.at("id") == json::value("gpt-4o");
    EXPECT_EQ(gpt4o, 1u);  // merged, not duplicated
    const json::object* m = find_entry(r, "openai", "gpt-4o");
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->at("contextWindow"), json::value(64000));
    EXPECT_EQ(m->at("name"), json::value("GPT-4o"));    // filled from the catalogue
    EXPECT_EQ(m->at("maxTokens"), json::value(16384));  // filled from the catalogue
    EXPECT_EQ(m->at("cost").at("output"), json::value(10.0));
    // The configured model comes first; other catalogue entries follow unconfigured.
    EXPECT_EQ(r.at("models").as_array().front().at("id"), json::value("gpt-4o"));
}

TEST(ModelsList, ProviderFilter) {
    auto cfg = json::parse(R"({"models":{"providers":{"ollama":{"api":"openai-completions",
        "models":[{"id":"llama3.1"}]}}}})");
    auto env = fake_env({{"OPENAI_API_KEY", "a"}, {"ANTHROPIC_API_KEY", "b"}});
    auto all = list_models(cfg, {}, env);
    EXPECT_GT(count_provider(all, "openai"), 0u);
    EXPECT_GT(count_provider(all, "anthropic"), 0u);
    EXPECT_EQ(count_provider(all, "ollama"), 1u);

    auto only = list_models(cfg, json::object{{"provider", "anthropic"}, {"unknownKey", 1}}, env);
    EXPECT_EQ(count_provider(only, "anthropic"), only.at("models").as_array().size());
    EXPECT_EQ(count_provider(only, "anthropic"), count_provider(all, "anthropic"));

    EXPECT_EQ(json::value(list_models(cfg, json::object{{"provider", "nope"}}, env)), json::parse(R"({"models":[]})"));
}

TEST(ModelsList, ViewsTagsAvailabilityAndDetails) {
    auto cfg = json::parse(R"({
        "models":{"providers":{
            "ollama":{"baseUrl":"http://localhost:11434/v1","api":"openai-completions","models":[{"id":"llama3.1"}]},
            "remote":{"baseUrl":"https://llm.example/v1","api":"openai-completions","models":[{"id":"big"}]},
            "openai":{"api":"openai-completions"}}},
        "agents":{"defaults":{"model":{"primary":"ollama/llama3.1","fallbacks":["remote/big","openai/gpt-4o"]}},
                  "list":[{"id":"main"},{"id":"ops","model":"openai/gpt-4o-mini"}]}})");
    auto env = fake_env({{"OPENAI_API_KEY", "sk"}});
    auto all = list_models(cfg, json::object{{"view", "all"}}, env);
    EXPECT_EQ(json::value(all), json::value(list_models(cfg, {}, env)));  // default = all (no allowlist)
    EXPECT_GT(count_provider(all, "openai"), 1u);
    EXPECT_EQ(find_entry(all, "ollama", "llama3.1")->at("tags"), json::parse(R"(["default"])"));
    EXPECT_EQ(find_entry(all, "remote", "big")->at("tags"), json::parse(R"(["fallback#1"])"));
    EXPECT_EQ(find_entry(all, "openai", "gpt-4o")->at("tags"), json::parse(R"(["fallback#2"])"));
    EXPECT_FALSE(find_entry(all, "openai", "gpt-4.1")->contains("tags"));
    // Keyless loopback: available; a remote endpoint without a key: not.
    EXPECT_EQ(find_entry(all, "ollama", "llama3.1")->at("available"), json::value(true));
    EXPECT_EQ(find_entry(all, "remote", "big")->at("available"), json::value(false));
    EXPECT_EQ(find_entry(all, "openai", "gpt-4.1")->at("available"), json::value(true));
    EXPECT_FALSE(find_entry(all, "ollama", "llama3.1")->contains("local"));

    // includeDetails adds `local` (the endpoint's host is this machine).
    auto details = list_models(cfg, json::object{{"includeDetails", true}}, env);
    EXPECT_EQ(find_entry(details, "ollama", "llama3.1")->at("local"), json::value(true));
    EXPECT_EQ(find_entry(details, "remote", "big")->at("local"), json::value(false));
    EXPECT_EQ(find_entry(details, "openai", "gpt-4o")->at("local"), json::value(false));

    // configured / provider-config: the models.providers entries only.
    for (const char* view : {"configured", "provider-config"}) {
        auto r = list_models(cfg, json::object{{"view", view}}, env);
        EXPECT_EQ(r.at("models").as_array().size(), 2u) << view;
        EXPECT_NE(find_entry(r, "remote", "big"), nullptr) << view;
    }
    // With no configured model rows, `configured` falls back to everything; provider-config is empty.
    auto bare = json::parse(R"({"models":{"providers":{"openai":{"api":"openai-completions"}}}})");
    EXPECT_EQ(json::value(list_models(bare, json::object{{"view", "configured"}}, env)),
              json::value(list_models(bare, json::object{{"view", "all"}}, env)));
    EXPECT_EQ(json::value(list_models(bare, json::object{{"view", "provider-config"}}, env)),
              json::parse(R"({"models":[]})"));

    // agentId picks whose model chain is tagged.
    auto ops = list_models(cfg, json::object{{"agentId", "ops"}}, env);
    EXPECT_EQ(find_entry(ops, "openai", "gpt-4o-mini")->at("tags"), json::parse(R"(["default"])"));
    EXPECT_FALSE(find_entry(ops, "ollama", "llama3.1")->contains("tags"));
}

TEST(ModelsFind, ConfigThenCatalogue) {
    auto cfg = json::parse(R"({"models":{"providers":{
        "openai":{"models":[{"id":"gpt-4.1","contextWindow":100000,"cost":{"input":1.5,"output":6}}]},
        "ollama":{"models":[{"id":"llama3.1","contextWindow":131072}]}}}})");
    auto m = find_model(cfg, "openai", "gpt-4.1");
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->configured);
    EXPECT_EQ(m->context_window, 100000);
    EXPECT_EQ(m->max_tokens, 32768);
    ASSERT_TRUE(m->cost);
    EXPECT_DOUBLE_EQ(m->cost->input, 1.5);
    EXPECT_DOUBLE_EQ(m->cost->output, 6.0);
    EXPECT_EQ(m->cost->cache_read, 0.5);  // not overridden: the catalogue's

    auto cat = find_model(json::object{}, "anthropic", "claude-opus-4-1");
    ASSERT_TRUE(cat);
    EXPECT_FALSE(cat->configured);
    EXPECT_EQ(cat->context_window, 200000);
    EXPECT_DOUBLE_EQ(cat->cost->input, 15.0);
    EXPECT_DOUBLE_EQ(cat->cost->output, 75.0);

    auto local = find_model(cfg, "ollama", "llama3.1");
    ASSERT_TRUE(local);
    EXPECT_EQ(local->context_window, 131072);
    EXPECT_FALSE(local->cost);
    EXPECT_EQ(local->name, "llama3.1");

    EXPECT_FALSE(find_model(cfg, "ollama", "qwen"));
    EXPECT_FALSE(find_model(cfg, "anthropic", "gpt-4.1"));  // provider and id must both match
}

TEST(ModelsCatalog, RowsAreSane) {
    auto cat = builtin_catalog();
    EXPECT_GE(cat.size(), 15u);
    for (size_t i = 0; i < cat.size(); ++i) {
        const auto& m = cat[i];
        EXPECT_FALSE(m.id.empty());
        EXPECT_TRUE(m.provider == "openai" || m.provider == "anthropic" || m.provider == "openrouter") << m.provider;
        EXPECT_GT(m.context_window.value_or(0), 0) << m.id;
        EXPECT_GT(m.max_tokens.value_or(0), 0) << m.id;
        ASSERT_TRUE(m.cost) << m.id;
        EXPECT_GT(m.cost->input, 0) << m.id;
        EXPECT_GE(m.cost->output, m.cost->input) << m.id;
        for (size_t j = 0; j < i; ++j) EXPECT_FALSE(cat[j].provider == m.provider && cat[j].id == m.id) << m.id;
    }
}

}  // namespace
}  // namespace pincer::methods
