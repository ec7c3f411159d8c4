#include "methods/config.hpp"

#include "config/json5.hpp"
#include "config/merge_patch.hpp"
#include "config/redact.hpp"
#include "config/schema.hpp"

namespace pincer::methods {
namespace {

using core::throw_invalid;

// Paths whose change needs a process restart (the listener is bound once).
const char* const kRestartPaths[] = {"gateway.port", "gateway.bind", "gateway.customBindHost"};

json::array restart_required(const json::value& before, const json::value& after) {
    json::array out;
    for (const char* p : kRestartPaths) {
        const json::value* a = core::find_path(before, p);
        const json::value* b = core::find_path(after, p);
        if ((a == nullptr) != (b == nullptr) || (a && *a != *b)) out.emplace_back(p);
    }
    return out;
}

}  // namespace

json::object ConfigService::get() {
    config::LoadResult r = store_.load();
    json::object out;
    out["path"] = store_.path().string();
    out["exists"] = r.exists;
    const bool parsed = !r.parsed.is_null();
    json::value redacted = parsed ? config::redact(r.parsed) : json::value(nullptr);
    if (r.exists && parsed) {
        auto raw = config::redact_raw(r.raw, r.parsed);
        out["raw"] = raw ? json::value(json::string(*raw)) : json::value(nullptr);
    } else {
        out["raw"] = nullptr;
    }
    out["parsed"] = redacted;
    out["sourceConfig"] = redacted;
    out["resolved"] = redacted;
    out["runtimeConfig"] = parsed ? redacted : json::value(json::object{});
    out["config"] = parsed ? redacted : json::value(json::object{});
    out["valid"] = r.valid;
    if (r.exists) out["hash"] = r.hash;
    json::array issues = config::issues_to_json(r.issues);
    if (!r.error.empty()) issues.emplace_back(json::object{{"path", ""}, {"message", r.error}});
    out["issues"] = std::move(issues);
    out["warnings"] = json::array{};
    out["legacyIssues"] = json::array{};
    out["ignored"] = core::string_array(r.ignored);
    return out;
}

config::LoadResult ConfigService::load_checked(const json::object& params) {
    config::LoadResult current = store_.load();
    auto base = core::get_string(params, "baseHash");
    if (current.exists) {
        if (!base || base->empty()) throw_invalid("config base hash required; re-run config.get and retry");
        if (*base != current.hash) throw_invalid("config changed since last load; re-run config.get and retry");
    }
    return current;
}

json::value ConfigService::parse_raw(const json::object& params) {
    auto raw = core::get_string(params, "raw");
    if (!raw) throw_invalid("must have required property 'raw'");
    auto parsed = config::parse_json5(core::sv(*raw));
    if (auto* err = std::get_if<config::Json5Error>(&parsed)) {
        throw_invalid(err->message, json::object{{"line", err->line}, {"column", err->column}});
    }
    return std::move(std::get<json::value>(parsed));
}

json::object ConfigService::write_validated(json::value cfg, std::string_view mode, const json::object& params,
                                            int64_t now_ms, const json::value& previous) {
    auto issues = config::validate_config(cfg);
    if (!issues.empty()) {
        throw_invalid(config::summarize_issues(issues), json::object{{"issues", config::issues_to_json(issues)}});
    }
    auto written = store_.write_atomic(cfg);
    if (!written.ok) throw core::RpcException(core::RpcError::unavailable("config write failed: " + written.error));
    json::object out{
        {"ok", true}, {"path", store_.path().string()}, {"config", config::redact(cfg)}, {"hash", written.hash}};
    if (mode != "config.set") {
        json::object payload{
            {"kind", mode == "config.patch" ? "config-patch" : "config-apply"}, {"status", "ok"}, {"ts", now_ms}};
        if (auto sk = core::get_string(params, "sessionKey")) payload["sessionKey"] = *sk;
        auto note = core::get_string(params, "note");
        payload["message"] = note ? json::value(*note) : json::value(nullptr);
        payload["stats"] = json::object{{"mode", mode}, {"root", store_.path().string()}};
        // Pincer applies changes in-process, so no restart sentinel file is written.
        out["sentinel"] = json::object{{"path", nullptr}, {"payload", std::move(payload)}};
    }
    json::array needs_restart = restart_required(previous, cfg);
    if (!needs_restart.empty()) out["restartRequired"] = std::move(needs_restart);
    return out;
}

json::object ConfigService::set(const json::object& params) {
    std::lock_guard lock(write_mutex_);
    config::LoadResult current = load_checked(params);
    json::value cfg = parse_raw(params);
    if (!cfg.is_object()) throw_invalid("config raw must be an object");
    auto restored =
        config::restore_redacted(cfg, current.parsed.is_null() ? json::value(json::object{}) : current.parsed);
    if (!restored.ok) throw_invalid(restored.error);
    return write_validated(std::move(cfg), "config.set", params, 0, current.parsed);
}

json::object ConfigService::apply(const json::object& params, int64_t now_ms) {
    std::lock_guard lock(write_mutex_);
    config::LoadResult current = load_checked(params);
    json::value cfg = parse_raw(params);
    if (!cfg.is_object()) throw_invalid("config.apply raw must be an object");
    auto restored =
        config::restore_redacted(cfg, current.parsed.is_null() ? json::value(json::object{}) : current.parsed);
    if (!restored.ok) throw_invalid(restored.error);
    return write_validated(std::move(cfg), "config.apply", params, now_ms, current.parsed);
}

json::object ConfigService::patch(const json::object& params, int64_t now_ms) {
    std::lock_guard lock(write_mutex_);
    config::LoadResult current = load_checked(params);
    if (current.exists && (current.parsed.is_null() || !current.valid))
        throw_invalid("invalid config; fix before patching");
    json::value patch = parse_raw(params);
    if (!patch.is_object()) throw_invalid("config.patch raw must be an object");
    json::value base = current.parsed.is_null() ? json::value(json::object{}) : current.parsed;
    auto restored = config::restore_redacted(patch, base);
    if (!restored.ok) throw_invalid(restored.error);
    json::value next = base;
    config::apply_merge_patch(next, patch);
    if (next == base && current.exists) {
        return json::object{
            {"ok", true}, {"noop", true}, {"path", store_.path().string()}, {"config", config::redact(base)}};
    }
    return write_validated(std::move(next), "config.patch", params, now_ms, base);
}

json::object ConfigService::mutate(const std::function<void(json::value&)>& edit, int64_t now_ms) {
    std::lock_guard lock(write_mutex_);
    config::LoadResult current = store_.load();
    if (current.exists && (current.parsed.is_null() || !current.valid))
        throw_invalid("invalid config; fix before editing");
    json::value base = current.parsed.is_null() ? json::value(json::object{}) : current.parsed;
    json::value next = base;
    edit(next);
    if (next == base && current.exists) {
        return json::object{
            {"ok", true}, {"noop", true}, {"path", store_.path().string()}, {"config", config::redact(base)}};
    }
    return write_validated(std::move(next), "config.set", json::object{}, now_ms, base);
}

void register_config(dispatch::MethodTable& table, dispatch::Gateway& gateway, ConfigService& service) {
    using Fn = json::object (*)(ConfigService&, const json::object&, int64_t);
    struct Row {
        const char* name;
        uint32_t flags;
        bool needs_raw;
        Fn fn;
    };
    const Row rows[] = {
        {"config.get", dispatch::kAdvertise, false,
         [](ConfigService& s, const json::object&, int64_t) { return s.get(); }},
        {"config.set", dispatch::kAdvertise, true,
         [](ConfigService& s, const json::object& p, int64_t) { return s.set(p); }},
        {"config.patch", dispatch::kAdvertise | dispatch::kControlPlaneWrite, true,
         [](ConfigService& s, const json::object& p, int64_t now) { return s.patch(p, now); }},
        {"config.apply", dispatch::kAdvertise | dispatch::kControlPlaneWrite, true,
         [](ConfigService& s, const json::object& p, int64_t now) { return s.apply(p, now); }},
    };
    for (const Row& row : rows) {
        dispatch::MethodSpec spec;
        spec.name = row.name;
        spec.scope = std::string(core::required_scope(row.name));
        spec.flags = row.flags;
        if (row.needs_raw) {
            spec.params.string("raw", true)
                .string("baseHash")
                .string("sessionKey")
                .string("note")
                .integer("restartDelayMs", 0, 86'400'000);
        }
        Fn fn = row.fn;
        std::string what = row.name;
        spec.handler = dispatch::AsyncHandler([&gateway, &service, fn, what, writes = row.needs_raw](
                                                  const dispatch::CallView& call, dispatch::Responder reply) {
            json::object params = call.params;
            const int64_t now = gateway.clock().now_ms();
            dispatch::reply_from_pool_then(gateway.loop(), std::move(reply), what, [&service, fn, params, now, writes] {
                dispatch::PoolResult r{fn(service, params, now), {}};
                if (writes && !r.payload.as_object().contains("noop")) {
                    // Apply what is on disk now, after the reply is queued: a caller whose
                    // auth just changed still gets its answer before the 4001 close.
                    json::value applied = service.store().load().parsed;
                    r.after_reply = [&service, applied] { service.notify_applied(applied); };
                }
                return r;
            });
        });
        table.add(std::move(spec));
    }
    dispatch::MethodSpec schema;
    schema.name = "config.schema";
    schema.scope = "operator.admin";
    schema.params.unchecked();
    schema.handler = dispatch::SyncHandler([](const dispatch::CallView&) -> json::value {
        return json::object{{"schema", config::config_schema()},
                            {"uiHints", config::config_ui_hints()},
                            {"version", PINCER_VERSION},
                            {"generatedAt", PINCER_BUILD_TIME}};
    });
    table.add(std::move(schema));
}

}  // namespace pincer::methods
