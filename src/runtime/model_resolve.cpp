// resolve_model_chain: config refs → callable ModelRefs. Everything a user can get wrong here
// (unknown provider, missing key, unsupported api) becomes one line naming what to set, because
// the alternative is an opaque 401 or connection error in the middle of a chat.
#include "runtime/model_resolve.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace pincer::runtime {
namespace {

struct BuiltinProvider {
    std::string_view id, base_url, api;
};

constexpr BuiltinProvider kBuiltinProviders[] = {
    {"openai", "https://api.openai.com/v1", kApiOpenAiCompletions},
    {"anthropic", "https://api.anthropic.com/v1", kApiAnthropicMessages},
    {"openrouter", "https://openrouter.ai/api/v1", kApiOpenAiCompletions},
};

constexpr int64_t kDefaultMaxTokens = 8192;

const BuiltinProvider* find_builtin(std::string_view id) {
    for (const BuiltinProvider& p : kBuiltinProviders) {
        if (p.id == id) return &p;
    }
    return nullptr;
}

std::string lowercase(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

std::string_view str(const json::object& o, std::string_view key) {
    const json::string* s = core::get_string(o, key);
    return s != nullptr ? core::sv(*s) : std::string_view{};
}

// ---- Which refs -----------------------------------------------------------------------------

struct ModelSetting {
    std::optional<std::string> primary;
    std::optional<std::vector<std::string>> fallbacks;  // set (maybe empty) when the config lists them
};

// `model` is "provider/model" or {primary, fallbacks}.
ModelSetting read_model_setting(const json::value* v) {
    ModelSetting out;
    if (v == nullptr) return out;
    if (v->is_string()) {
        if (!trim(core::sv(v->get_string())).empty()) out.primary = std::string(trim(core::sv(v->get_string())));
        return out;
    }
    const json::object* o = v->if_object();
    if (o == nullptr) return out;
    if (!trim(str(*o, "primary")).empty()) out.primary = std::string(trim(str(*o, "primary")));
    if (const json::array* fallbacks = core::get_array(*o, "fallbacks")) {
        out.fallbacks.emplace();
        for (const json::value& f : *fallbacks) {
            if (f.is_string() && !trim(core::sv(f.get_string())).empty()) {
                out.fallbacks->emplace_back(trim(core::sv(f.get_string())));
            }
        }
    }
    return out;
}

const json::value* agent_model(const json::value& root, std::string_view agent_id) {
    const json::value* list = core::find_path(root, "agents.list");
    if (list == nullptr || !list->is_array()) return nullptr;
    for (const json::value& entry : list->get_array()) {
        const json::object* agent = entry.if_object();
        if (agent == nullptr || str(*agent, "id") != agent_id) continue;
        auto it = agent->find("model");
        return it == agent->end() ? nullptr : &it->value();
    }
    return nullptr;
}

std::vector<std::string> candidate_refs(const json::value& root, std::string_view agent_id,
                                        std::optional<std::string_view> override_ref) {
    const ModelSetting agent = read_model_setting(agent_model(root, agent_id));
    const ModelSetting defaults = read_model_setting(core::find_path(root, "agents.defaults.model"));
    std::vector<std::string> refs;
    if (override_ref && !trim(*override_ref).empty()) {
        refs.emplace_back(trim(*override_ref));
    } else if (agent.primary) {
        refs.push_back(*agent.primary);
    } else if (defaults.primary) {
        refs.push_back(*defaults.primary);
    } else {
        refs.emplace_back(kDefaultModel);
    }
    // An agent that lists its own fallbacks (even none) replaces the defaults' list, as in OpenClaw.
    const auto& fallbacks = agent.fallbacks ? agent.fallbacks : defaults.fallbacks;
    if (fallbacks) refs.insert(refs.end(), fallbacks->begin(), fallbacks->end());
    return refs;
}

// ---- Providers ------------------------------------------------------------------------------

const json::object* configured_providers(const json::value& root) {
    const json::value* p = core::find_path(root, "models.providers");
    return p != nullptr ? p->if_object() : nullptr;
}

// The entry for `id`, matched exactly first and then ignoring case (OpenClaw lowercases ids).
std::pair<std::string, const json::object*> find_configured(const json::object* providers, std::string_view id) {
    if (providers == nullptr) return {std::string(id), nullptr};
    if (auto it = providers->find(id); it != providers->end() && it->value().is_object()) {
        return {std::string(id), &it->value().get_object()};
    }
    const std::string wanted = lowercase(id);
    for (const auto& kv : *providers) {
        if (kv.value().is_object() && lowercase(kv.key()) == wanted) {
            return {std::string(kv.key()), &kv.value().get_object()};
        }
    }
    return {std::string(id), nullptr};
}

bool lists_model(const json::object& provider, std::string_view model_id) {
    const json::array* models = core::get_array(provider, "models");
    if (models == nullptr) return false;
    return std::any_of(models->begin(), models->end(),
                       [&](const json::value& m) { return m.is_object() && str(m.get_object(), "id") == model_id; });
}

// "${VAR}" references, as OpenClaw allows in its config; `missing` names the first unset one.
std::string expand_env(std::string_view text, const EnvLookup& env, std::string& missing) {
    std::string out;
    while (!text.empty()) {
        const size_t open = text.find("${");
        const size_t close = open == std::string_view::npos ? open : text.find('}', open);
        if (close == std::string_view::npos) break;
        out.append(text.substr(0, open));
        const std::string_view name = text.substr(open + 2, close - open - 2);
        std::optional<std::string> value = env ? env(name) : std::nullopt;
        if (value && !value->empty()) {
            out += *value;
        } else if (missing.empty()) {
            missing.assign(name);
        }
        text.remove_prefix(close + 1);
    }
    out.append(text);
    return out;
}

std::string key_env_var(std::string_view provider) {
    std::string var;
    for (char c : provider) {
        var += std::isalnum(static_cast<unsigned char>(c))
                   ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                   : '_';
    }
    return var + "_API_KEY";
}

bool is_loopback_url(std::string_view url) {
    if (const size_t scheme = url.find("://"); scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
    url = url.substr(0, url.find_first_of("/?#"));
    if (const size_t at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
    std::string_view host = url;
    if (host.starts_with("[")) {
        host = host.substr(1, host.find(']') == std::string_view::npos ? host.npos : host.find(']') - 1);
    } else if (host.find(':') != std::string_view::npos) {
        host = host.substr(0, host.find(':'));
    }
    const std::string h = lowercase(host);
    return h == "localhost" || h == "::1" || h.starts_with("127.") || h.ends_with(".localhost");
}

// ---- Model capabilities ---------------------------------------------------------------------

// Claude 4 and later think; so does 3.7, which callers check by name.
bool claude_generation_at_least_4(std::string_view id) {
    size_t start = 0;
    while (start <= id.size()) {
        const size_t end = std::min(id.find('-', start), id.size());
        const std::string_view token = id.substr(start, end - start);
        int major = 0;
        auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), major);
        const bool numeric = ec == std::errc{} && (ptr == token.data() + token.size() || *ptr == '.');
        // The first number is the generation: "claude-3-5-haiku" is a 3, "claude-sonnet-4-5" a 4.
        if (numeric) return major >= 4 && major < 100;
        start = end + 1;
    }
    return false;
}

// Defaults for models the config does not describe; OpenRouter-style "vendor/model" ids are
// judged by their last segment.
void apply_known_capabilities(ModelRef& ref) {
    std::string id = lowercase(ref.model);
    if (const size_t slash = id.rfind('/'); slash != std::string::npos) id.erase(0, slash + 1);
    const bool claude = id.starts_with("claude-");
    const bool gpt5 = id.starts_with("gpt-5");
    const bool o_series = id.starts_with("o1") || id.starts_with("o3") || id.starts_with("o4");
    ref.supports_images = claude || gpt5 || id.starts_with("gpt-4o") || id.starts_with("gpt-4.1") ||
                          id.starts_with("chatgpt-4o") || id == "o1" || id == "o3" || id.starts_with("o3-pro") ||
                          id.starts_with("o4") || id.starts_with("gemini");
    ref.reasoning =
        o_series || gpt5 ||
        (claude && (claude_generation_at_least_4(id) || id.starts_with("claude-3-7") || id.starts_with("claude-3.7")));
    if (claude) {
        ref.context_window = 200'000;
    } else if (gpt5) {
        ref.context_window = 400'000;
    } else if (id.starts_with("gpt-4.1")) {
        ref.context_window = 1'047'576;
    } else if (id.starts_with("gpt-4o") || id.starts_with("gpt-4-turbo")) {
        ref.context_window = 128'000;
    } else if (o_series) {
        ref.context_window = 200'000;
    }
    ref.max_tokens = kDefaultMaxTokens;
}

// models.providers.<id>.models[] entries for this model; later entries refine earlier ones.
void apply_configured_capabilities(ModelRef& ref, const json::object& provider) {
    const json::array* models = core::get_array(provider, "models");
    if (models == nullptr) return;
    for (const json::value& mv : *models) {
        const json::object* m = mv.if_object();
        if (m == nullptr || str(*m, "id") != ref.model) continue;
        if (auto v = core::get_int(*m, "contextWindow"); v && *v > 0) ref.context_window = *v;
        if (auto v = core::get_int(*m, "maxTokens"); v && *v > 0) ref.max_tokens = *v;
        if (auto v = core::get_bool(*m, "reasoning")) ref.reasoning = *v;
        if (const json::array* input = core::get_array(*m, "input")) {
            ref.supports_images = std::any_of(input->begin(), input->end(), [](const json::value& x) {
                return x.is_string() && x.get_string() == "image";
            });
        }
    }
}

// ---- One ref --------------------------------------------------------------------------------

struct Resolved {
    std::optional<ModelRef> model;
    std::string problem;
};

// "provider/model" split at the first slash (model ids may hold more: "openrouter/openai/gpt-4o").
// A bare id belongs to the configured provider listing it, else to openai.
std::pair<std::string, std::string> split_ref(std::string_view ref, const json::object* providers) {
    if (const size_t slash = ref.find('/'); slash != std::string_view::npos) {
        return {std::string(trim(ref.substr(0, slash))), std::string(trim(ref.substr(slash + 1)))};
    }
    if (providers != nullptr) {
        for (const auto& kv : *providers) {
            if (kv.value().is_object() && lists_model(kv.value().get_object(), ref)) {
                return {std::string(kv.key()), std::string(ref)};
            }
        }
    }
    return {"openai", std::string(ref)};
}

Resolved resolve_ref(std::string_view provider_id, std::string_view model_id, std::string_view ref,
                     const json::object* providers, const EnvLookup& env) {
    Resolved out;
    if (provider_id.empty() || model_id.empty()) {
        out.problem = "Invalid model \"" + std::string(ref) + "\": use \"provider/model\", e.g. \"" +
                      std::string(kDefaultModel) + "\"";
        return out;
    }
    auto [config_id, config] = find_configured(providers, provider_id);
    const std::string provider = config != nullptr ? config_id : lowercase(provider_id);
    const BuiltinProvider* builtin = find_builtin(provider);
    const std::string config_path = "models.providers." + provider;
    if (config == nullptr && builtin == nullptr) {
        out.problem = "Unknown model provider \"" + std::string(provider_id) + "\" in \"" + std::string(ref) +
                      "\": add " + config_path + " with baseUrl and api";
        return out;
    }

    ModelRef m;
    m.provider = provider;
    m.model.assign(model_id);
    apply_known_capabilities(m);
    if (builtin != nullptr) {
        m.base_url.assign(builtin->base_url);
        m.api.assign(builtin->api);
    } else {
        m.api.assign(provider == "anthropic" ? kApiAnthropicMessages : kApiOpenAiCompletions);
    }

    std::string missing_var;
    std::string configured_key;
    if (config != nullptr) {
        if (std::string_view base = trim(str(*config, "baseUrl")); !base.empty()) {
            while (base.ends_with('/')) base.remove_suffix(1);
            m.base_url.assign(base);
        }
        if (std::string_view api = trim(str(*config, "api")); !api.empty()) {
            // The Responses API serves the same models as Chat Completions, which we speak.
            if (api == "openai-responses") api = kApiOpenAiCompletions;
            if (api != kApiOpenAiCompletions && api != kApiAnthropicMessages) {
                out.problem = "Provider \"" + provider + "\" uses api \"" + std::string(api) +
                              "\", which is not supported: set " + config_path + ".api to \"" +
                              std::string(kApiOpenAiCompletions) + "\" or \"" + std::string(kApiAnthropicMessages) +
                              "\"";
                return out;
            }
            m.api.assign(api);
        }
        configured_key = expand_env(trim(str(*config, "apiKey")), env, missing_var);
        if (const json::object* headers = core::get_object(*config, "headers")) {
            for (const auto& kv : *headers) {
                if (!kv.value().is_string()) continue;
                std::string unused;
                m.headers.emplace_back(std::string(kv.key()),
                                       expand_env(core::sv(kv.value().get_string()), env, unused));
            }
        }
        apply_configured_capabilities(m, *config);
    }
    if (m.base_url.empty()) {
        out.problem = "Provider \"" + provider + "\" has no baseUrl: set " + config_path + ".baseUrl";
        return out;
    }

    const std::string env_var = key_env_var(provider);
    if (!configured_key.empty() && missing_var.empty()) {
        m.api_key = std::move(configured_key);
    } else if (auto from_env = env ? env(env_var) : std::nullopt; from_env && !trim(*from_env).empty()) {
        m.api_key.assign(trim(*from_env));
    } else if (!is_loopback_url(m.base_url)) {
        out.problem = "No API key for provider \"" + provider + "\": ";
        if (!missing_var.empty()) {
            out.problem += config_path + ".apiKey refers to ${" + missing_var + "}, which is not set";
        } else {
            out.problem += "set " + config_path + ".apiKey or the " + env_var + " environment variable";
        }
        return out;
    }
    out.model = std::move(m);
    return out;
}

}  // namespace

ModelChain resolve_model_chain(const json::value& config_root, std::string_view agent_id, const EnvLookup& env,
                               std::optional<std::string_view> override_ref) {
    const json::object* providers = configured_providers(config_root);
    ModelChain chain;
    std::vector<std::string> seen;
    auto add_problem = [&chain](const std::string& line) {
        if (!chain.problems.empty()) chain.problems += "\n";
        chain.problems += line;
    };
    for (const std::string& ref : candidate_refs(config_root, agent_id, override_ref)) {
        auto [provider, model] = split_ref(ref, providers);
        const std::string key = lowercase(provider) + "/" + model;
        if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
        seen.push_back(key);
        Resolved resolved = resolve_ref(provider, model, ref, providers, env);
        if (resolved.model) {
            chain.models.push_back(std::move(*resolved.model));
        } else {
            add_problem(resolved.problem);
        }
    }
    return chain;
}

}  // namespace pincer::runtime
