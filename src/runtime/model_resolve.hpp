#pragma once
/// Which models an agent run calls, from the config in OpenClaw's own shape (`models.providers`,
/// `agents.defaults.model`, `agents.list[].model`) and the environment's API keys. Pure.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "runtime/model_call.hpp"

namespace pincer::runtime {

/// Environment lookup (nullopt or "" = unset); tests pass a fake.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;

struct ModelChain {
    /// Primary first, then fallbacks, each usable (known provider, key present unless keyless).
    std::vector<ModelRef> models;
    /// When `models` is empty: why, naming the provider and what to set, e.g. `No API key for
    /// provider "openai": set models.providers.openai.apiKey or OPENAI_API_KEY`. When some but not
    /// all candidates were skipped: one line per skipped candidate (shown as a fallback notice).
    std::string problems;
};

/// The default model when the config names none: "openai/gpt-4o-mini" (cheap, tool-capable).
inline constexpr std::string_view kDefaultModel = "openai/gpt-4o-mini";

/// Resolves the chain for `agent_id`: `override_ref` ("provider/model", e.g. from a session's
/// modelOverride) if given, else the agent's `model` from `agents.list`, else
/// `agents.defaults.model` (a "provider/model" string or `{primary, fallbacks:[...]}`), else
/// kDefaultModel. Built-in providers `openai` (https://api.openai.com/v1, OPENAI_API_KEY),
/// `anthropic` (https://api.anthropic.com/v1, ANTHROPIC_API_KEY) and `openrouter`
/// (https://openrouter.ai/api/v1, OPENROUTER_API_KEY) work without a `models.providers` entry;
/// a configured entry's baseUrl/apiKey/api/headers/models win. `apiKey` may be "${VAR}" (read from
/// the environment). A provider whose baseUrl is loopback needs no key (Ollama, LM Studio).
ModelChain resolve_model_chain(const json::value& config_root, std::string_view agent_id, const EnvLookup& env,
                               std::optional<std::string_view> override_ref = std::nullopt);

}  // namespace pincer::runtime
