#include "methods/models.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "methods/agents.hpp"
#include "runtime/model_resolve.hpp"

namespace pincer::methods {

namespace {

struct CatalogRow {
    const char* provider;
    const char* id;
    const char* name;
    int64_t context_window;
    int64_t max_tokens;
    bool reasoning;
    bool image;
    double input;
    double output;
    double cache_read;   // < 0: unknown
    double cache_write;  // < 0: unknown
};

constexpr CatalogRow kCatalog[] = {
// clang-format off
#include "methods/model_catalog.inc"
    // clang-format on
};

/// Providers whose catalogue entries an API key in the environment enables.
struct EnvProvider {
    const char* provider;
    const char* env_var;
};
constexpr EnvProvider kEnvProviders[] = {
    {"openai", "OPENAI_API_KEY"},
    {"anthropic", "ANTHROPIC_API_KEY"},
    {"openrouter", "OPENROUTER_API_KEY"},
};

ModelInfo from_row(const CatalogRow& r) {
    ModelInfo m;
    m.id = r.id;
    m.name = r.name;
    m.provider = r.provider;
    m.context_window = r.context_window;
    m.max_tokens = r.max_tokens;
    m.reasoning = r.reasoning;
    m.input = r.image ? std::vector<std::string>{"text", "image"} : std::vector<std::string>{"text"};
    ModelCost c;
    c.input = r.input;
    c.output = r.output;
    if (r.cache_read >= 0) c.cache_read = r.cache_read;
    if (r.cache_write >= 0) c.cache_write = r.cache_write;
    m.cost = c;
    return m;
}

const CatalogRow* catalog_find(std::string_view provider, std::string_view id) {
    for (const auto& r : kCatalog) {
        if (provider == r.provider && id == r.id) return &r;
    }
    return nullptr;
}

std::optional<double> get_number(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end()) return std::nullopt;
    const auto& v = it->value();
    double d;
    if (v.is_int64())
        d = double(v.get_int64());
    else if (v.is_uint64())
        d = double(v.get_uint64());
    else if (v.is_double())
        d = v.get_double();
    else
        return std::nullopt;
    if (!std::isfinite(d) || d < 0) return std::nullopt;
    return d;
}

std::optional<int64_t> get_positive_int(const json::object& o, std::string_view key) {
    auto v = core::get_int(o, key);
    if (v && *v > 0) return v;
    return std::nullopt;
}

/// Overlays a `models.providers.<p>.models[]` entry on `m` (a catalogue entry or a bare id).
void apply_config_entry(ModelInfo& m, const json::object& e) {
    if (auto* s = core::get_string(e, "name"); s && !s->empty()) m.name = std::string(core::sv(*s));
    if (auto v = get_positive_int(e, "contextWindow")) m.context_window = v;
    if (auto v = get_positive_int(e, "maxTokens")) m.max_tokens = v;
    if (auto v = core::get_bool(e, "reasoning")) m.reasoning = v;
    if (auto* arr = core::get_array(e, "input")) {
        std::vector<std::string> in;
        for (const auto& x : *arr) {
            if (x.is_string()) in.emplace_back(core::sv(x.get_string()));
        }
        m.input = std::move(in);
    }
    if (auto* c = core::get_object(e, "cost")) {
        ModelCost cost = m.cost.value_or(ModelCost{});
        auto in = get_number(*c, "input");
        auto out = get_number(*c, "output");
        if (in) cost.input = *in;
        if (out) cost.output = *out;
        if (auto v = get_number(*c, "cacheRead")) cost.cache_read = v;
        if (auto v = get_number(*c, "cacheWrite")) cost.cache_write = v;
        if (m.cost || in || out) m.cost = cost;
    }
    m.configured = true;
}

ModelInfo configured_model(std::string_view provider, std::string_view id, const json::object& e) {
    ModelInfo m;
    if (const CatalogRow* row = catalog_find(provider, id)) {
        m = from_row(*row);
    } else {
        m.id = std::string(id);
        m.name = std::string(id);
        m.provider = std::string(provider);
    }
    apply_config_entry(m, e);
    return m;
}

const json::object* providers_of(const json::value& config_root) {
    const json::value* p = core::find_path(config_root, "models.providers");
    return (p && p->is_object()) ? &p->get_object() : nullptr;
}

bool env_set(const EnvLookup& env, const char* var) {
    if (!env) return false;
    auto v = env(var);
    return v && !v->empty();
}

}  // namespace

json::object ModelInfo::to_json() const {
    json::object o;
    o["id"] = id;
    o["name"] = name;
    o["provider"] = provider;
    if (context_window) o["contextWindow"] = *context_window;
    if (max_tokens) o["maxTokens"] = *max_tokens;
    if (reasoning) o["reasoning"] = *reasoning;
    if (!input.empty()) o["input"] = core::string_array(input);
    if (cost) {
        json::object c;
        c["input"] = cost->input;
        c["output"] = cost->output;
        if (cost->cache_read) c["cacheRead"] = *cost->cache_read;
        if (cost->cache_write) c["cacheWrite"] = *cost->cache_write;
        o["cost"] = std::move(c);
    }
    return o;
}

EnvLookup process_env() {
    return [](std::string_view name) -> std::optional<std::string> {
        const char* v = std::getenv(std::string(name).c_str());
        if (!v) return std::nullopt;
        return std::string(v);
    };
}

std::vector<ModelInfo> builtin_catalog() {
    std::vector<ModelInfo> out;
    for (const auto& r : kCatalog) out.push_back(from_row(r));
    return out;
}

std::vector<ModelInfo> collect_models(const json::value& config_root, const EnvLookup& env) {
    std::vector<ModelInfo> out;
    auto seen = [&out](std::string_view provider, std::string_view id) {
        for (const auto& m : out) {
            if (m.provider == provider && m.id == id) return true;
        }
        return false;
    };
    auto add_catalog = [&](std::string_view provider) {
        for (const auto& r : kCatalog) {
            if (provider == r.provider && !seen(provider, r.id)) out.push_back(from_row(r));
        }
    };
    const json::object* providers = providers_of(config_root);
    if (providers) {
        for (const auto& kv : *providers) {
            const std::string_view provider(kv.key().data(), kv.key().size());
            if (provider.empty() || !kv.value().is_object()) continue;
            if (const json::array* models = core::get_array(kv.value().get_object(), "models")) {
                for (const auto& mv : *models) {
                    if (!mv.is_object()) continue;
                    const auto* id = core::get_string(mv.get_object(), "id");
                    if (!id || id->empty()) continue;
                    const std::string_view sid = core::sv(*id);
                    if (seen(provider, sid)) {
                        // A repeated id in the config: the later entry refines the earlier one.
                        for (auto& m : out) {
                            if (m.provider == provider && m.id == sid) apply_config_entry(m, mv.get_object());
                        }
                        continue;
                    }
                    out.push_back(configured_model(provider, sid, mv.get_object()));
                }
            }
            add_catalog(provider);
        }
    }
    for (const auto& ep : kEnvProviders) {
        if (providers && providers->contains(ep.provider)) continue;
        if (env_set(env, ep.env_var)) add_catalog(ep.provider);
    }
    return out;
}

namespace {

// The agent's model refs as configured ("provider/model"): primary first, then fallbacks; the
// agent's own `model` wins over agents.defaults.model (an agent listing fallbacks replaces the
// defaults' list), kDefaultModel when neither names a primary. Mirrors resolve_model_chain.
std::vector<std::string> configured_refs(const json::value& cfg, std::string_view agent_id) {
    auto read = [](const json::value* v, std::optional<std::string>& primary,
                   std::optional<std::vector<std::string>>& fallbacks) {
        if (!v) return;
        if (v->is_string()) {
            if (!v->get_string().empty()) primary = std::string(core::sv(v->get_string()));
            return;
        }
        if (!v->is_object()) return;
        if (auto* p = core::get_string(v->get_object(), "primary"); p && !p->empty())
            primary = std::string(core::sv(*p));
        if (auto* f = core::get_array(v->get_object(), "fallbacks")) {
            fallbacks.emplace();
            for (const auto& x : *f) {
                if (x.is_string() && !x.get_string().empty()) fallbacks->emplace_back(core::sv(x.get_string()));
            }
        }
    };
    std::optional<std::string> agent_primary, default_primary;
    std::optional<std::vector<std::string>> agent_fallbacks, default_fallbacks;
    if (const json::value* list = core::find_path(cfg, "agents.list"); list && list->is_array()) {
        for (const auto& e : list->get_array()) {
            if (!e.is_object()) continue;
            auto* id = core::get_string(e.get_object(), "id");
            if (!id || normalize_agent_id(core::sv(*id)) != agent_id) continue;
            if (auto it = e.get_object().find("model"); it != e.get_object().end())
                read(&it->value(), agent_primary, agent_fallbacks);
            break;
        }
    }
    read(core::find_path(cfg, "agents.defaults.model"), default_primary, default_fallbacks);
    std::vector<std::string> refs{
        agent_primary.value_or(default_primary.value_or(std::string(runtime::kDefaultModel)))};
    const auto& fallbacks = agent_fallbacks ? agent_fallbacks : default_fallbacks;
    if (fallbacks) refs.insert(refs.end(), fallbacks->begin(), fallbacks->end());
    return refs;
}

bool loopback_url(std::string_view url) {
    auto scheme = url.find("://");
    if (scheme == std::string_view::npos) return false;
    std::string_view rest = url.substr(scheme + 3);
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
    std::string_view host;
    if (rest.starts_with('[')) {
        host = rest.substr(1, rest.find(']') == std::string_view::npos ? rest.size() - 1 : rest.find(']') - 1);
    } else {
        host = rest.substr(0, rest.find(':'));
    }
    return host == "localhost" || host.starts_with("127.") || host == "::1" || host == "0.0.0.0";
}

// Whether the provider's endpoint is on this machine; nullopt when its endpoint is unknown.
std::optional<bool> provider_is_local(const json::value& cfg, std::string_view provider) {
    if (const json::object* providers = providers_of(cfg)) {
        if (auto it = providers->find(provider); it != providers->end() && it->value().is_object()) {
            if (auto* url = core::get_string(it->value().get_object(), "baseUrl"); url && !url->empty())
                return loopback_url(core::sv(*url));
        }
    }
    for (const auto& ep : kEnvProviders) {
        if (provider == ep.provider) return false;  // the built-in endpoints are remote
    }
    return std::nullopt;
}

}  // namespace

json::object list_models(const json::value& config_root, const json::object& params, const EnvLookup& env) {
    std::string_view filter;
    if (const auto* p = core::get_string(params, "provider")) filter = core::sv(*p);
    std::string_view view = "default";
    if (const auto* v = core::get_string(params, "view")) view = core::sv(*v);
    const bool details = core::get_bool(params, "includeDetails").value_or(false);
    std::string agent;
    if (const auto* a = core::get_string(params, "agentId"); a && !a->empty()) agent = normalize_agent_id(core::sv(*a));
    if (agent.empty()) agent = default_agent_id(config_root);

    std::vector<ModelInfo> rows = collect_models(config_root, env);
    // Views (methods.md §6, 2026.9.6 models-list-result): Pincer has no model allowlist
    // (agents.defaults.modelPolicy), so `default` and `all` are the whole catalogue; `configured`
    // is the models.providers.<p>.models entries, or everything when there are none;
    // `provider-config` is those entries alone.
    if (view == "configured" || view == "provider-config") {
        const bool any = std::any_of(rows.begin(), rows.end(), [](const ModelInfo& m) { return m.configured; });
        if (any || view == "provider-config") std::erase_if(rows, [](const ModelInfo& m) { return !m.configured; });
    }

    const std::vector<std::string> refs = configured_refs(config_root, agent);
    json::array models;
    for (const auto& m : rows) {
        if (!filter.empty() && m.provider != filter) continue;
        json::object o = m.to_json();
        const std::string label = m.provider + "/" + m.id;
        json::array tags;
        for (size_t i = 0; i < refs.size(); ++i) {
            if (refs[i] != label) continue;
            if (i == 0)
                tags.emplace_back("default");
            else
                tags.emplace_back("fallback#" + std::to_string(i));
        }
        if (!tags.empty()) o["tags"] = std::move(tags);
        // Usable as the runtime would resolve it: a known provider with its key (or keyless local).
        const runtime::ModelChain chain = runtime::resolve_model_chain(config_root, agent, env, label);
        o["available"] = !chain.models.empty() && chain.models.front().label() == label;
        if (details) {
            if (auto local = provider_is_local(config_root, m.provider)) o["local"] = *local;
        }
        models.emplace_back(std::move(o));
    }
    json::object out;
    out["models"] = std::move(models);
    return out;
}

std::optional<ModelInfo> find_model(const json::value& config_root, std::string_view provider,
                                    std::string_view model_id) {
    std::optional<ModelInfo> found;
    if (const json::object* providers = providers_of(config_root)) {
        auto it = providers->find(provider);
        if (it != providers->end() && it->value().is_object()) {
            if (const json::array* models = core::get_array(it->value().get_object(), "models")) {
                for (const auto& mv : *models) {
                    if (!mv.is_object()) continue;
                    const auto* id = core::get_string(mv.get_object(), "id");
                    if (!id || core::sv(*id) != model_id) continue;
                    if (found)
                        apply_config_entry(*found, mv.get_object());
                    else
                        found = configured_model(provider, model_id, mv.get_object());
                }
            }
        }
    }
    if (found) return found;
    if (const CatalogRow* row = catalog_find(provider, model_id)) return from_row(*row);
    return std::nullopt;
}

void register_models(dispatch::MethodTable& table, dispatch::Gateway& gateway, ConfigService& config) {
    dispatch::MethodSpec spec;
    spec.name = "models.list";
    spec.scope = "operator.read";
    spec.params.string("provider")
        .string("agentId")
        .enumeration("view", {"default", "configured", "provider-config", "all"})
        .boolean("includeDetails")
        .boolean("preparedOnly")
        .boolean("refresh")
        .boolean("includeProviderCapabilities");
    spec.handler =
        dispatch::AsyncHandler([&gateway, &config](const dispatch::CallView& call, dispatch::Responder reply) {
            json::object params = call.params;
            // The `published-model-catalog` contract: a passive read (Pincer has no provider
            // discovery, so `refresh` reads the same catalogue), the two flags exclusive.
            if (core::get_bool(params, "preparedOnly").value_or(false) &&
                core::get_bool(params, "refresh").value_or(false)) {
                return reply.fail(core::RpcError::invalid(
                    "invalid models.list params: preparedOnly and refresh are mutually exclusive"));
            }
            dispatch::reply_from_pool(gateway.loop(), std::move(reply), "models.list", [&config, params] {
                // A missing or unreadable config (parsed == null) lists what the environment enables.
                const json::value cfg = config.store().load().parsed;
                return json::value(list_models(cfg, params));
            });
        });
    table.add(std::move(spec));
}

}  // namespace pincer::methods
