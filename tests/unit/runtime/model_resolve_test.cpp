// resolve_model_chain: which models an agent calls, from OpenClaw-shaped config and a fake environment.
#include "runtime/model_resolve.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <map>
#include <string>

namespace pincer::runtime {
namespace {

struct FakeEnv {
    std::map<std::string, std::string, std::less<>> vars;
    EnvLookup lookup() const {
        return [this](std::string_view name) -> std::optional<std::string> {
            auto it = vars.find(name);
            if (it == vars.end()) return std::nullopt;
            return it->second;
        };
    }
};

json::value config(std::string_view text) { return json::parse(text); }

std::vector<std::string> labels(const ModelChain& chain) {
    std::vector<std::string> out;
    for (const ModelRef& m : chain.models) out.push_back(m.label());
    return out;
}

TEST(ModelResolve, EmptyConfigUsesTheDefaultOpenAiModelWithTheEnvironmentKey) {
    FakeEnv env{{{"OPENAI_API_KEY", "sk-env"}}};
    const ModelChain chain = resolve_model_chain(json::object{}, "main", env.lookup());
    ASSERT_EQ(chain.models.size(), 1u) << chain.problems;
    const ModelRef& m = chain.models[0];
    EXPECT_EQ(m.label(), kDefaultModel);
    EXPECT_EQ(m.api, kApiOpenAiCompletions);
    EXPECT_EQ(m.base_url, "https://api.openai.com/v1");
    EXPECT_EQ(m.api_key, "sk-env");
    EXPECT_EQ(m.max_tokens, 8192);
    EXPECT_TRUE(m.supports_images);
    EXPECT_FALSE(m.reasoning);
    EXPECT_EQ(m.context_window, 128000);
    EXPECT_TRUE(chain.problems.empty());
}

TEST(ModelResolve, MissingKeyNamesTheConfigPathAndTheEnvironmentVariable) {
    FakeEnv env;
    const ModelChain chain = resolve_model_chain(json::object{}, "main", env.lookup());
    EXPECT_TRUE(chain.models.empty());
    EXPECT_EQ(chain.problems,
              "No API key for provider \"openai\": set models.providers.openai.apiKey or the OPENAI_API_KEY "
              "environment variable");
}

TEST(ModelResolve, DefaultsPrimaryAndFallbacksInOrderWithSkippedOnesReported) {
    FakeEnv env{{{"ANTHROPIC_API_KEY", "sk-ant"}, {"OPENROUTER_API_KEY", "sk-or"}}};
    const auto cfg = config(R"({"agents":{"defaults":{"model":{
        "primary":"anthropic/claude-sonnet-4-5",
        "fallbacks":["openai/gpt-4o","openrouter/anthropic/claude-3.5-haiku","anthropic/claude-sonnet-4-5"]}}}})");
    const ModelChain chain = resolve_model_chain(cfg, "main", env.lookup());
    EXPECT_EQ(labels(chain),
              (std::vector<std::string>{"anthropic/claude-sonnet-4-5", "openrouter/anthropic/claude-3.5-haiku"}));
    EXPECT_EQ(chain.problems,
              "No API key for provider \"openai\": set models.providers.openai.apiKey or the OPENAI_API_KEY "
              "environment variable");

    const ModelRef& claude = chain.models[0];
    EXPECT_EQ(claude.api, kApiAnthropicMessages);
    EXPECT_EQ(claude.base_url, "https://api.anthropic.com/v1");
    EXPECT_EQ(claude.api_key, "sk-ant");
    EXPECT_TRUE(claude.reasoning);
    EXPECT_TRUE(claude.supports_images);
    EXPECT_EQ(claude.context_window, 200000);

    const ModelRef& router = chain.models[1];
    EXPECT_EQ(router.provider, "openrouter");
    EXPECT_EQ(router.model, "anthropic/claude-3.5-haiku");
    EXPECT_EQ(router.api, kApiOpenAiCompletions);
    EXPECT_EQ(router.base_url, "https://openrouter.ai/api/v1");
    EXPECT_FALSE(router.reasoning) << "Claude 3.5 has no extended thinking";
}

TEST(ModelResolve, AgentModelWinsAndItsFallbacksReplaceTheDefaults) {
    FakeEnv env{{{"OPENAI_API_KEY", "k"}, {"ANTHROPIC_API_KEY", "k2"}}};
    const auto cfg = config(R"({"agents":{
        "defaults":{"model":{"primary":"openai/gpt-4o","fallbacks":["openai/gpt-4o-mini"]}},
        "list":[{"id":"main"},
                {"id":"writer","model":"anthropic/claude-opus-4-1"},
                {"id":"coder","model":{"primary":"openai/gpt-5","fallbacks":[]}}]}})");
    EXPECT_EQ(labels(resolve_model_chain(cfg, "main", env.lookup())),
              (std::vector<std::string>{"openai/gpt-4o", "openai/gpt-4o-mini"}));
    EXPECT_EQ(labels(resolve_model_chain(cfg, "writer", env.lookup())),
              (std::vector<std::string>{"anthropic/claude-opus-4-1", "openai/gpt-4o-mini"}));
    EXPECT_EQ(labels(resolve_model_chain(cfg, "coder", env.lookup())), (std::vector<std::string>{"openai/gpt-5"}));
    EXPECT_EQ(labels(resolve_model_chain(cfg, "unknown-agent", env.lookup())),
              (std::vector<std::string>{"openai/gpt-4o", "openai/gpt-4o-mini"}));

    const ModelChain gpt5 = resolve_model_chain(cfg, "coder", env.lookup());
    EXPECT_TRUE(gpt5.models.at(0).reasoning);
    EXPECT_EQ(gpt5.models.at(0).context_window, 400000);
}

TEST(ModelResolve, OverrideReplacesThePrimaryAndDuplicatesCollapse) {
    FakeEnv env{{{"OPENAI_API_KEY", "k"}}};
    const auto cfg = config(R"({"agents":{"defaults":{"model":{"primary":"openai/gpt-4o",
                                                               "fallbacks":["openai/gpt-4.1","openai/gpt-4o"]}}}})");
    EXPECT_EQ(labels(resolve_model_chain(cfg, "main", env.lookup(), "openai/gpt-4.1")),
              (std::vector<std::string>{"openai/gpt-4.1", "openai/gpt-4o"}));
}

TEST(ModelResolve, ConfiguredLoopbackProviderNeedsNoKeyAndDescribesItsModels) {
    FakeEnv env;
    const auto cfg = config(R"({
      "models":{"providers":{"ollama":{"baseUrl":"http://127.0.0.1:11434/v1/","headers":{"X-Org":"me"},
        "models":[{"id":"llava:13b","name":"LLaVA","contextWindow":32768,"maxTokens":2048,"reasoning":false,
                   "input":["text","image"]},
                  {"id":"qwen3:8b","reasoning":true,"input":["text"]}]}}},
      "agents":{"defaults":{"model":{"primary":"ollama/llava:13b","fallbacks":["qwen3:8b"]}}}})");
    const ModelChain chain = resolve_model_chain(cfg, "main", env.lookup());
    ASSERT_EQ(chain.models.size(), 2u) << chain.problems;
    const ModelRef& llava = chain.models[0];
    EXPECT_EQ(llava.api, kApiOpenAiCompletions);
    EXPECT_EQ(llava.base_url, "http://127.0.0.1:11434/v1");
    EXPECT_EQ(llava.api_key, "");
    EXPECT_EQ(llava.headers, (core::HttpHeaders{{"X-Org", "me"}}));
    EXPECT_EQ(llava.context_window, 32768);
    EXPECT_EQ(llava.max_tokens, 2048);
    EXPECT_TRUE(llava.supports_images);
    EXPECT_FALSE(llava.reasoning);
    const ModelRef& qwen = chain.models[1];
    EXPECT_EQ(qwen.label(), "ollama/qwen3:8b") << "a bare id belongs to the provider that lists it";
    EXPECT_TRUE(qwen.reasoning);
    EXPECT_FALSE(qwen.supports_images);
    EXPECT_TRUE(chain.problems.empty());
}

TEST(ModelResolve, LoopbackHostsInAllSpellings) {
    FakeEnv env;
    for (const char* url : {"http://localhost:1234/v1", "http://[::1]:8000/v1", "http://127.0.0.2/v1"}) {
        json::value cfg = config(R"({"models":{"providers":{"local":{}}},"agents":{"defaults":{"model":"local/m"}}})");
        cfg.at("models").at("providers").at("local").as_object()["baseUrl"] = url;
        EXPECT_EQ(resolve_model_chain(cfg, "main", env.lookup()).models.size(), 1u) << url;
    }
    const auto remote = config(R"({"models":{"providers":{"my-lab.gpu":{"baseUrl":"https://gpu.example/v1"}}},
                                   "agents":{"defaults":{"model":"my-lab.gpu/m"}}})");
    const ModelChain chain = resolve_model_chain(remote, "main", env.lookup());
    EXPECT_TRUE(chain.models.empty());
    EXPECT_EQ(chain.problems,
              "No API key for provider \"my-lab.gpu\": set models.providers.my-lab.gpu.apiKey or the "
              "MY_LAB_GPU_API_KEY environment variable");
    env.vars["MY_LAB_GPU_API_KEY"] = "from-env";
    EXPECT_EQ(resolve_model_chain(remote, "main", env.lookup()).models.at(0).api_key, "from-env");
}

TEST(ModelResolve, UnknownProviderSaysWhatToAdd) {
    FakeEnv env;
    const ModelChain chain =
        resolve_model_chain(config(R"({"agents":{"defaults":{"model":"groq/llama-3.1"}}})"), "main", env.lookup());
    EXPECT_TRUE(chain.models.empty());
    EXPECT_EQ(chain.problems,
              "Unknown model provider \"groq\" in \"groq/llama-3.1\": add models.providers.groq with baseUrl and api");
}

TEST(ModelResolve, ConfiguredEntryOverridesBuiltinAndExpandsEnvReferences) {
    FakeEnv env{{{"OPENAI_API_KEY", "ignored"}, {"AZ_KEY", "sk-az"}, {"ORG", "acme"}}};
    const auto cfg = config(R"({"models":{"providers":{"openai":{
        "baseUrl":"https://proxy.example/openai/v1","apiKey":"${AZ_KEY}","headers":{"OpenAI-Organization":"${ORG}"}}}}})");
    const ModelChain chain = resolve_model_chain(cfg, "main", env.lookup());
    ASSERT_EQ(chain.models.size(), 1u) << chain.problems;
    EXPECT_EQ(chain.models[0].base_url, "https://proxy.example/openai/v1");
    EXPECT_EQ(chain.models[0].api_key, "sk-az");
    EXPECT_EQ(chain.models[0].headers, (core::HttpHeaders{{"OpenAI-Organization", "acme"}}));

    const auto literal = config(R"({"models":{"providers":{"openai":{"apiKey":"sk-literal"}}}})");
    EXPECT_EQ(resolve_model_chain(literal, "main", env.lookup()).models.at(0).api_key, "sk-literal");
    EXPECT_EQ(resolve_model_chain(literal, "main", env.lookup()).models.at(0).base_url, "https://api.openai.com/v1");
}

TEST(ModelResolve, UnsetEnvReferenceFallsBackToTheStandardVariableOrIsReported) {
    FakeEnv env;
    const auto cfg = config(R"({"models":{"providers":{"anthropic":{"apiKey":"${MY_CLAUDE_KEY}"}}},
                                "agents":{"defaults":{"model":"anthropic/claude-haiku-4-5"}}})");
    EXPECT_EQ(resolve_model_chain(cfg, "main", env.lookup()).problems,
              "No API key for provider \"anthropic\": models.providers.anthropic.apiKey refers to ${MY_CLAUDE_KEY}, "
              "which is not set");
    env.vars["ANTHROPIC_API_KEY"] = "sk-ant-std";
    EXPECT_EQ(resolve_model_chain(cfg, "main", env.lookup()).models.at(0).api_key, "sk-ant-std");
}

TEST(ModelResolve, ApiDefaultsAndUnsupportedApis) {
    FakeEnv env{{{"PROXY_API_KEY", "k"}}};
    auto cfg = config(R"({"models":{"providers":{"proxy":{"baseUrl":"https://p.example/v1"}}},
                          "agents":{"defaults":{"model":"proxy/claude-sonnet-4-5"}}})");
    EXPECT_EQ(resolve_model_chain(cfg, "main", env.lookup()).models.at(0).api, kApiOpenAiCompletions);

    cfg.at("models").at("providers").at("proxy").as_object()["api"] = "anthropic-messages";
    EXPECT_EQ(resolve_model_chain(cfg, "main", env.lookup()).models.at(0).api, kApiAnthropicMessages);

    cfg.at("models").at("providers").at("proxy").as_object()["api"] = "openai-responses";
    EXPECT_EQ(resolve_model_chain(cfg, "main", env.lookup()).models.at(0).api, kApiOpenAiCompletions);

    cfg.at("models").at("providers").at("proxy").as_object()["api"] = "google-generative-ai";
    const ModelChain chain = resolve_model_chain(cfg, "main", env.lookup());
    EXPECT_TRUE(chain.models.empty());
    EXPECT_EQ(chain.problems,
              "Provider \"proxy\" uses api \"google-generative-ai\", which is not supported: set "
              "models.providers.proxy.api to \"openai-completions\" or \"anthropic-messages\"");
}

TEST(ModelResolve, ConfiguredProviderWithoutBaseUrlAndInvalidRefs) {
    FakeEnv env{{{"OPENAI_API_KEY", "k"}}};
    const auto cfg = config(R"({"models":{"providers":{"vllm":{"models":[{"id":"m"}]}}},
                                "agents":{"defaults":{"model":{"primary":"vllm/m","fallbacks":["openai/","gpt-4o"]}}}})");
    const ModelChain chain = resolve_model_chain(cfg, "main", env.lookup());
    EXPECT_EQ(labels(chain), (std::vector<std::string>{"openai/gpt-4o"})) << "a bare unknown id means openai";
    EXPECT_EQ(chain.problems,
              "Provider \"vllm\" has no baseUrl: set models.providers.vllm.baseUrl\n"
              "Invalid model \"openai/\": use \"provider/model\", e.g. \"openai/gpt-4o-mini\"");
}

TEST(ModelResolve, KnownCapabilities) {
    FakeEnv env{{{"OPENAI_API_KEY", "k"}, {"ANTHROPIC_API_KEY", "k"}}};
    auto first = [&](std::string_view ref) {
        return resolve_model_chain(json::object{}, "main", env.lookup(), ref).models.at(0);
    };
    EXPECT_TRUE(first("anthropic/claude-3-7-sonnet-latest").reasoning);
    EXPECT_TRUE(first("anthropic/claude-opus-4-1-20250805").reasoning);
    EXPECT_TRUE(first("anthropic/claude-sonnet-4-20250514").reasoning);
    EXPECT_FALSE(first("anthropic/claude-3-5-haiku-20241022").reasoning);
    EXPECT_FALSE(first("anthropic/claude-3-5-sonnet-latest").reasoning);
    EXPECT_TRUE(first("anthropic/claude-sonnet-4.5").reasoning);
    EXPECT_TRUE(first("openai/o3-mini").reasoning);
    EXPECT_FALSE(first("openai/o3-mini").supports_images);
    EXPECT_TRUE(first("openai/gpt-4.1-mini").supports_images);
    EXPECT_EQ(first("openai/gpt-4.1-mini").context_window, 1047576);
    EXPECT_FALSE(first("openai/gpt-3.5-turbo").supports_images);
    EXPECT_EQ(first("openai/gpt-3.5-turbo").context_window, 0);
}

}  // namespace
}  // namespace pincer::runtime
