#pragma once
/// `models.list`: the models the gateway can run, from the config's `models.providers` (OpenClaw's
/// shape) merged with a built-in catalogue (model_catalog.inc) of context windows and list prices.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "dispatch/gateway.hpp"
#include "dispatch/method_table.hpp"
#include "methods/config.hpp"

namespace pincer::methods {

/// USD per 1M tokens.
struct ModelCost {
    double input = 0;
    double output = 0;
    std::optional<double> cache_read;
    std::optional<double> cache_write;
};

struct ModelInfo {
    std::string id;
    std::string name;
    std::string provider;
    std::optional<int64_t> context_window;
    std::optional<int64_t> max_tokens;
    std::optional<bool> reasoning;
    std::vector<std::string> input;  // e.g. {"text","image"}; empty = unknown (omitted)
    std::optional<ModelCost> cost;
    bool configured = false;  // listed in models.providers.<provider>.models (not on the wire)

    /// `{id, name, provider, contextWindow?, maxTokens?, reasoning?, input?, cost?}`.
    json::object to_json() const;
};

/// Environment lookup (nullopt or "" = unset). Tests pass a fake; the gateway uses process_env().
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;
EnvLookup process_env();

/// Every model the gateway knows for this config: for each provider in `models.providers` (config
/// order) its configured models (configured:true, config fields win over the catalogue's), then
/// the catalogue's other models for that provider (configured:false); then the catalogue models of
/// providers enabled only by an API key in the environment (OPENAI_API_KEY, ANTHROPIC_API_KEY,
/// OPENROUTER_API_KEY). Nothing configured → empty.
std::vector<ModelInfo> collect_models(const json::value& config_root, const EnvLookup& env);

/// The `models.list` result `{models:[ModelChoice]}` (what `published-model-catalog` promises):
/// params `view` (default/all = every model; configured = the models.providers entries, or all
/// when none; provider-config = those entries only), `provider` filter, `agentId` (whose
/// default/fallback models get `tags`; default agent otherwise) and `includeDetails` (adds
/// `local`); unknown keys ignored. Each row has `available` (the runtime could call it now).
json::object list_models(const json::value& config_root, const json::object& params,
                         const EnvLookup& env = process_env());

/// One model by provider and id: the config's entry merged over the catalogue's (configured says
/// whether the config lists it), else the catalogue's alone; nullopt when neither knows it. Does
/// not require the provider to be configured (the runtime asks for prices of what it ran).
std::optional<ModelInfo> find_model(const json::value& config_root, std::string_view provider,
                                    std::string_view model_id);

/// The built-in catalogue, in table order (all configured:false).
std::vector<ModelInfo> builtin_catalog();

void register_models(dispatch::MethodTable& table, dispatch::Gateway& gateway, ConfigService& config);

}  // namespace pincer::methods
