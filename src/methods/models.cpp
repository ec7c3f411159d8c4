#include "methods/models.hpp"

#include <cmath>
#include <cstdlib>

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
    o["configured"] = configured;
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

json::object list_models(const json::value& config_root, const json::object& params, const EnvLookup& env) {
    std::string_view filter;
    if (const auto* p = core::get_string(params, "provider")) filter = core::sv(*p);
    json::array models;
    for (const auto& m : collect_models(config_root, env)) {
        if (!filter.empty() && m.provider != filter) continue;
        models.emplace_back(m.to_json());
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
    spec.params.string("provider");
    spec.handler =
        dispatch::AsyncHandler([&gateway, &config](const dispatch::CallView& call, dispatch::Responder reply) {
            json::object params = call.params;
            dispatch::reply_from_pool(gateway.loop(), std::move(reply), "models.list", [&config, params] {
                // A missing or unreadable config (parsed == null) lists what the environment enables.
                const json::value cfg = config.store().load().parsed;
                return json::value(list_models(cfg, params));
            });
        });
    table.add(std::move(spec));
}

}  // namespace pincer::methods
