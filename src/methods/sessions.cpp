#include "methods/sessions.hpp"

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <cctype>
#include <map>
#include <optional>
#include <vector>

#include "methods/agents.hpp"
#include "methods/models.hpp"
#include "runtime/model_resolve.hpp"
#include "util/crypto.hpp"
#include "util/strings.hpp"

namespace pincer::methods {
namespace {

constexpr std::string_view kMainKey = "agent:main:main";
constexpr size_t kPreviewMaxKeys = 64;
constexpr int64_t kPreviewMaxLimit = 50;
constexpr int64_t kPreviewMaxChars = 2000;

using util::trim;
std::string lower(std::string_view s) { return util::ascii_lower(s); }
using core::throw_invalid;

std::optional<std::string> opt_string(const json::object& p, std::string_view key) {
    const json::value* v = p.if_contains(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_string()) throw_invalid("invalid " + std::string(key) + ": must be a string");
    return std::string(core::sv(v->get_string()));
}

bool is_special_key(std::string_view key) { return key == "global" || key == "unknown"; }

// The store path reported by list/patch: Pincer keeps every agent's sessions in one database.
std::string store_path(const dispatch::Gateway& gateway) { return gateway.info().state_dir + "/pincer.sqlite"; }

// ---------------------------------------------------------------------------------------------
// sessions.list

constexpr auto kRowFields = std::to_array<std::string_view>({
    "displayName",
    "channel",
    "subject",
    "groupChannel",
    "space",
    "chatType",
    "origin",
    "systemSent",
    "abortedLastRun",
    "thinkingLevel",
    "verboseLevel",
    "reasoningLevel",
    "elevatedLevel",
    "sendPolicy",
    "inputTokens",
    "outputTokens",
    "totalTokens",
    "totalTokensFresh",
    "responseUsage",
    "modelProvider",
    "model",
    "contextTokens",
    "deliveryContext",
    "lastChannel",
    "lastTo",
    "lastAccountId",
    "spawnedBy",
    "spawnedWorkspaceDir",
    "forkedFromParent",
    "spawnDepth",
    "subagentRole",
    "subagentControlScope",
    "fastMode",
    "traceLevel",
    "estimatedCostUsd",
    "status",
    "startedAt",
    "endedAt",
    "runtimeMs",
    "parentSessionKey",
    "lastThreadId",
    "pluginExtensions",
});

std::string session_kind(const storage::SessionEntry& e) {
    if (e.key == "global") return "global";
    if (e.key == "unknown") return "unknown";
    if (const json::value* ct = e.fields.if_contains("chatType"); ct && ct->is_string()) {
        if (ct->get_string() == "group" || ct->get_string() == "channel") return "group";
    }
    if (e.key.find(":group:") != std::string::npos || e.key.find(":channel:") != std::string::npos) return "group";
    return "direct";
}

bool contains_ci(std::string_view hay, std::string_view needle) {
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
           }) != hay.end();
}

// The repository's filter in C++, for the special keys list must drop without includeGlobal /
// includeUnknown (the store does not know about them).
bool matches(const storage::SessionEntry& e, const storage::SessionFilter& f) {
    if (f.agent_id && e.agent_id != *f.agent_id) return false;
    if (f.label && e.label != f.label) return false;
    if (f.active_since_ms && e.updated_at_ms < *f.active_since_ms) return false;
    if (f.spawned_by) {
        const json::value* sb = e.fields.if_contains("spawnedBy");
        if (!sb || !sb->is_string() || core::sv(sb->get_string()) != *f.spawned_by) return false;
    }
    if (f.search) {
        bool hit = contains_ci(e.key, *f.search) || contains_ci(e.session_id, *f.search) ||
                   (e.label && contains_ci(*e.label, *f.search));
        for (std::string_view field : {"displayName", "subject"}) {
            const json::value* v = e.fields.if_contains(field);
            if (v && v->is_string()) hit = hit || contains_ci(core::sv(v->get_string()), *f.search);
        }
        if (!hit) return false;
    }
    return true;
}

json::object build_list(storage::SessionsRepo& repo, storage::TranscriptsRepo& transcripts, const json::object& p,
                        int64_t now, const std::string& db_path, json::object defaults) {
    storage::SessionFilter f;
    const int64_t limit = dispatch::param_int(p, "limit").value_or(100);
    const int64_t offset = dispatch::param_int(p, "offset").value_or(0);
    if (auto m = dispatch::param_int(p, "activeMinutes")) f.active_since_ms = now - *m * 60'000;
    const bool include_global = dispatch::param_bool(p, "includeGlobal").value_or(false);
    const bool include_unknown = dispatch::param_bool(p, "includeUnknown").value_or(false);
    f.label = opt_string(p, "label");
    if (auto s = opt_string(p, "spawnedBy"); s && !s->empty()) f.spawned_by = canonical_session_key(*s);
    if (auto a = opt_string(p, "agentId"); a && !trim(*a).empty()) f.agent_id = lower(trim(*a));
    if (auto s = opt_string(p, "search"); s && !trim(*s).empty()) f.search = trim(*s);

    // Special keys hidden from this listing that match the filter: the page is read from the
    // start with room for them, then they are dropped and the page cut out.
    std::vector<std::string> hidden;
    for (std::string_view special : {"global", "unknown"}) {
        if ((special == "global" && include_global) || (special == "unknown" && include_unknown)) continue;
        if (auto e = repo.get(special); e && matches(*e, f)) hidden.emplace_back(special);
    }
    f.offset = hidden.empty() ? static_cast<size_t>(offset) : 0;
    f.limit = static_cast<size_t>(hidden.empty() ? limit : offset + limit + static_cast<int64_t>(hidden.size()));
    storage::SessionPage page = repo.list(f);
    std::vector<storage::SessionEntry> rows;
    if (hidden.empty()) {
        rows = std::move(page.rows);
    } else {
        std::erase_if(page.rows, [&](const storage::SessionEntry& e) {
            return std::find(hidden.begin(), hidden.end(), e.key) != hidden.end();
        });
        for (size_t i = static_cast<size_t>(offset); i < page.rows.size() && rows.size() < static_cast<size_t>(limit);
             ++i)
            rows.push_back(std::move(page.rows[i]));
    }
    const size_t total = page.total_count - hidden.size();

    const bool titles = dispatch::param_bool(p, "includeDerivedTitles").value_or(false);
    const bool last = dispatch::param_bool(p, "includeLastMessage").value_or(false);
    json::array sessions;
    for (const auto& e : rows) {
        json::object row = session_row(e);
        if ((titles || last) && sessions.size() < kListExtrasRows) {
            add_list_extras(transcripts, e.session_id, titles, last, row);
        }
        sessions.emplace_back(std::move(row));
    }
    const size_t count = sessions.size();
    const bool has_more = static_cast<size_t>(offset) + count < total;
    json::object out;
    out["ts"] = now;
    out["path"] = f.agent_id ? json::value(db_path) : json::value("(multiple)");
    out["count"] = count;
    out["totalCount"] = total;
    out["limitApplied"] = limit;
    out["nextOffset"] = has_more ? json::value(offset + static_cast<int64_t>(count)) : json::value(nullptr);
    out["hasMore"] = has_more;
    out["defaults"] = std::move(defaults);
    out["sessions"] = std::move(sessions);
    return out;
}

// ---------------------------------------------------------------------------------------------

json::object changed_event(const std::string& key, std::string_view reason, int64_t ts,
                           const storage::SessionEntry* entry) {
    return session_changed_event(key, reason, ts, entry);
}

std::function<void()> broadcast_after(dispatch::Gateway& gateway, json::object event) {
    return [&gateway, event = std::move(event)] { broadcast_sessions_changed(gateway, event); };
}

// Marks the calling connection (un)subscribed to `sessions.changed`; false if it is gone.
bool set_subscribed(dispatch::Gateway& gateway, const dispatch::ConnState& caller, bool on) {
    dispatch::Connection* c = gateway.broadcaster().find(caller.conn_id);
    if (!c) return false;
    c->state.sessions_subscribed = on;
    return true;
}

// sessions.list's params (SessionsListParams); sessions.subscribe takes the same.
dispatch::ParamSchema list_params() {
    return dispatch::ParamSchema()
        .integer("limit", 1)
        .integer("offset", 0)
        .integer("activeMinutes", 1)
        .boolean("includeGlobal")
        .boolean("includeUnknown")
        .boolean("includeDerivedTitles")
        .boolean("includeLastMessage")
        .string("label")
        .string("spawnedBy")
        .string("agentId")
        .string("search");
}

// The config as sessions.list reads it (null when missing or unreadable). Blocks on disk.
json::value load_config(const ConfigService& config) { return config.store().load().parsed; }

std::string required_key(const json::object& p) {
    std::string key = dispatch::param_string(p, "key");
    if (trim(key).empty()) throw_invalid("key is required");
    return canonical_session_key(key);
}

}  // namespace

void broadcast_sessions_changed(dispatch::Gateway& gateway, const json::object& payload) {
    gateway.broadcaster().send_targeted(
        "sessions.changed", payload, [](const dispatch::ConnState& st) { return st.sessions_subscribed; }, true);
}

json::object session_defaults(const json::value& config_root) {
    json::object out{{"modelProvider", nullptr}, {"model", nullptr}, {"contextTokens", nullptr}};
    const runtime::ModelChain chain =
        runtime::resolve_model_chain(config_root, default_agent_id(config_root), process_env());
    if (chain.models.empty()) return out;
    const runtime::ModelRef& m = chain.models.front();
    out["modelProvider"] = m.provider;
    out["model"] = m.model;
    int64_t window = m.context_window;
    if (window <= 0) {
        if (auto info = find_model(config_root, m.provider, m.model); info && info->context_window)
            window = *info->context_window;
    }
    if (window > 0) out["contextTokens"] = window;
    return out;
}

json::object session_changed_event(const std::string& key, std::string_view reason, int64_t ts,
                                   const storage::SessionEntry* entry) {
    json::object ev{{"sessionKey", key}, {"reason", reason}, {"ts", ts}};
    if (entry) {
        ev["sessionId"] = entry->session_id;
        ev["updatedAt"] = entry->updated_at_ms;
        ev["kind"] = session_kind(*entry);
        if (entry->label) ev["label"] = *entry->label;
    }
    return ev;
}

std::string canonical_session_key(std::string_view raw) {
    std::string key = lower(trim(raw));
    if (key.empty() || key == "main") return std::string(kMainKey);
    if (key.starts_with("agent:") || is_special_key(key)) return key;
    return "agent:main:" + key;
}

json::object session_row(const storage::SessionEntry& e) {
    json::object row;
    row["key"] = e.key;
    row["kind"] = session_kind(e);
    if (e.label) row["label"] = *e.label;
    for (std::string_view f : kRowFields) {
        if (const json::value* v = e.fields.if_contains(f); v && !v->is_null()) row[f] = *v;
    }
    row["updatedAt"] = e.updated_at_ms;
    row["sessionId"] = e.session_id;
    return row;
}

void register_sessions(dispatch::MethodTable& table, dispatch::Gateway& gateway, storage::SessionsRepo& sessions,
                       storage::TranscriptsRepo& transcripts, ConfigService& config) {
    using dispatch::AsyncHandler;
    using dispatch::CallView;
    using dispatch::ParamSchema;
    using dispatch::Responder;

    dispatch::add_method(
        table, "sessions.list", "operator.read", list_params(),
        AsyncHandler([&gateway, &sessions, &transcripts, &config](const CallView& call, Responder reply) {
            const int64_t now = gateway.clock().now_ms();
            dispatch::reply_from_pool(
                gateway.loop(), std::move(reply), "sessions.list",
                [&sessions, &transcripts, &config, p = call.params, now, path = store_path(gateway)] {
                    return json::value(
                        build_list(sessions, transcripts, p, now, path, session_defaults(load_config(config))));
                });
        }));

    // The reference (2026.9.6 sessions-subscriptions.ts): subscribe first, so changes during the
    // read arrive as events; `{}` → {subscribed}, other (sessions.list) params → {subscribed, list}.
    dispatch::add_method(
        table, "sessions.subscribe", "operator.read", list_params(),
        AsyncHandler([&gateway, &sessions, &transcripts, &config](const CallView& call, Responder reply) {
            const bool subscribed = set_subscribed(gateway, call.conn, true);
            if (!subscribed || call.params.empty()) return reply.ok(json::object{{"subscribed", subscribed}});
            const int64_t now = gateway.clock().now_ms();
            dispatch::reply_from_pool(
                gateway.loop(), std::move(reply), "sessions.subscribe",
                [&sessions, &transcripts, &config, p = call.params, now, path = store_path(gateway)] {
                    json::object list =
                        build_list(sessions, transcripts, p, now, path, session_defaults(load_config(config)));
                    return json::value(json::object{{"subscribed", true}, {"list", std::move(list)}});
                });
        }));

    // 5.x (methods.md §4.11); 2026.9.6 dropped it from its method list, so it is callable but not
    // advertised (the pinned v4 schema does not know it).
    {
        dispatch::MethodSpec spec;
        spec.name = "sessions.unsubscribe";
        spec.scope = "operator.read";
        spec.flags = 0;
        spec.params.unchecked();
        spec.handler = dispatch::SyncHandler([&gateway](const CallView& call) -> json::value {
            set_subscribed(gateway, call.conn, false);
            return json::object{{"subscribed", false}};
        });
        table.add(std::move(spec));
    }

    dispatch::add_method(
        table, "sessions.describe", "operator.read",
        ParamSchema()
            .string("key", true)
            .string("agentId")
            .boolean("includeDerivedTitles")
            .boolean("includeLastMessage"),
        AsyncHandler([&gateway, &sessions, &transcripts](const CallView& call, Responder reply) {
            const std::string raw = trim(dispatch::param_string(call.params, "key"));
            if (raw.empty()) return reply.fail(core::RpcError::invalid("key required"));
            // A bare key with agentId belongs to that agent (`main` → agent:<id>:main).
            const std::string agent = trim(dispatch::param_string(call.params, "agentId"));
            const std::string bare = lower(raw);
            const std::string key = !agent.empty() && !bare.starts_with("agent:") && !is_special_key(bare)
                                        ? "agent:" + normalize_agent_id(agent) + ":" + bare
                                        : canonical_session_key(raw);
            const bool titles = dispatch::param_bool(call.params, "includeDerivedTitles").value_or(false);
            const bool last = dispatch::param_bool(call.params, "includeLastMessage").value_or(false);
            dispatch::reply_from_pool(gateway.loop(), std::move(reply), "sessions.describe",
                                      [&sessions, &transcripts, key, titles, last] {
                                          auto e = sessions.get(key);
                                          if (!e) return json::value(json::object{{"session", nullptr}});
                                          json::object row = session_row(*e);
                                          if (titles || last)
                                              add_list_extras(transcripts, e->session_id, titles, last, row);
                                          return json::value(json::object{{"session", std::move(row)}});
                                      });
        }));

    dispatch::add_method(
        table, "sessions.get", "operator.read", ParamSchema().string("key").string("sessionKey"),
        AsyncHandler([&gateway, &sessions](const CallView& call, Responder reply) {
            std::string raw = dispatch::param_string(call.params, "key");
            if (trim(raw).empty()) raw = dispatch::param_string(call.params, "sessionKey");
            if (trim(raw).empty()) return reply.fail(core::RpcError::invalid("key is required"));
            dispatch::reply_from_pool(
                gateway.loop(), std::move(reply), "sessions.get", [&sessions, key = canonical_session_key(raw)] {
                    auto e = sessions.get(key);
                    if (!e) throw_invalid("session not found: " + key);
                    return json::value(json::object{{"key", key}, {"entry", storage::session_entry_json(*e)}});
                });
        }));

    dispatch::add_method(
        table, "sessions.resolve", "operator.read",
        ParamSchema()
            .string("key")
            .string("sessionId")
            .string("label")
            .string("agentId")
            .string("spawnedBy")
            .boolean("includeGlobal")
            .boolean("includeUnknown"),
        AsyncHandler([&gateway, &sessions](const CallView& call, Responder reply) {
            const json::object& p = call.params;
            int given = 0;
            for (std::string_view f : {"key", "sessionId", "label"})
                given += !trim(dispatch::param_string(p, f)).empty();
            if (given > 1)
                return reply.fail(core::RpcError::invalid("Provide either key, sessionId, or label (not multiple)"));
            if (given == 0) return reply.fail(core::RpcError::invalid("Either key, sessionId, or label is required"));
            dispatch::reply_from_pool(gateway.loop(), std::move(reply), "sessions.resolve", [&sessions, p] {
                std::string key = trim(dispatch::param_string(p, "key"));
                std::string sid = trim(dispatch::param_string(p, "sessionId"));
                std::string label = trim(dispatch::param_string(p, "label"));
                std::string found;
                if (!key.empty()) {
                    found = canonical_session_key(key);
                    if (!sessions.get(found)) throw_invalid("No session found: " + key);
                } else if (!sid.empty()) {
                    auto keys = sessions.keys_for_session_id(sid);
                    if (keys.empty()) throw_invalid("No session found: " + sid);
                    if (keys.size() > 1) throw_invalid("Multiple sessions found for sessionId: " + sid);
                    found = keys[0];
                } else {
                    storage::SessionFilter f;
                    f.label = label;
                    if (auto a = trim(dispatch::param_string(p, "agentId")); !a.empty()) f.agent_id = lower(a);
                    if (auto s = trim(dispatch::param_string(p, "spawnedBy")); !s.empty())
                        f.spawned_by = canonical_session_key(s);
                    f.limit = 2;
                    auto page = sessions.list(f);
                    if (page.rows.empty()) throw_invalid("No session found: " + label);
                    if (page.rows.size() > 1) throw_invalid("Multiple sessions found for label: " + label);
                    found = page.rows[0].key;
                }
                return json::value(json::object{{"ok", true}, {"key", found}});
            });
        }));

    dispatch::add_method(
        table, "sessions.patch", "operator.admin", ParamSchema().string("key", true),
        AsyncHandler([&gateway, &sessions](const CallView& call, Responder reply) {
            std::string key;
            try {
                key = required_key(call.params);
            } catch (const core::RpcException& e) {
                return reply.fail(e.error);
            }
            dispatch::reply_from_pool_then(
                gateway.loop(), std::move(reply), "sessions.patch",
                [&gateway, &sessions, key, p = call.params, path = store_path(gateway)] {
                    auto cur = sessions.get(key);
                    json::object patch = build_session_patch(p, key, cur);
                    const int64_t now = gateway.clock().now_ms();
                    std::optional<storage::SessionEntry> e;
                    try {
                        if (!cur && !storage::agent_id_from_key(key)) {
                            // `global` / `unknown`: the store needs an agent for them.
                            storage::SessionEntry fresh;
                            fresh.key = key;
                            fresh.agent_id = "main";
                            fresh.session_id = util::uuid_v4();
                            fresh.created_at_ms = fresh.updated_at_ms = now;
                            sessions.upsert(fresh);
                        }
                        e = sessions.patch(key, patch, now, util::uuid_v4());
                    } catch (const storage::LabelInUse& err) {
                        throw_invalid(err.what());
                    }
                    json::object res{
                        {"ok", true}, {"path", path}, {"key", key}, {"entry", storage::session_entry_json(*e)}};
                    json::object resolved;
                    const json::value* prov = e->fields.if_contains("providerOverride");
                    const json::value* model = e->fields.if_contains("modelOverride");
                    if (!prov) prov = e->fields.if_contains("modelProvider");
                    if (!model) model = e->fields.if_contains("model");
                    resolved["modelProvider"] = prov ? *prov : json::value(nullptr);
                    resolved["model"] = model ? *model : json::value(nullptr);
                    res["resolved"] = std::move(resolved);
                    return dispatch::PoolResult{std::move(res),
                                                broadcast_after(gateway, changed_event(key, "patch", now, &*e))};
                });
        }));

    dispatch::add_method(
        table, "sessions.reset", "operator.admin",
        ParamSchema().string("key", true).enumeration("reason", {"new", "reset"}),
        AsyncHandler([&gateway, &sessions](const CallView& call, Responder reply) {
            std::string key;
            try {
                key = required_key(call.params);
            } catch (const core::RpcException& e) {
                return reply.fail(e.error);
            }
            std::string reason = dispatch::param_string(call.params, "reason", "reset");
            dispatch::reply_from_pool_then(
                gateway.loop(), std::move(reply), "sessions.reset", [&gateway, &sessions, key, reason] {
                    const int64_t now = gateway.clock().now_ms();
                    const std::string sid = util::uuid_v4();
                    auto e = sessions.reset(key, sid, now);
                    if (!e) {  // resetting a session that does not exist yet starts it
                        e = sessions.patch(key,
                                           json::object{{"sessionStartedAt", now},
                                                        {"systemSent", false},
                                                        {"abortedLastRun", false},
                                                        {"totalTokensFresh", true}},
                                           now, sid);
                    }
                    json::object res{{"ok", true}, {"key", key}, {"entry", storage::session_entry_json(*e)}};
                    return dispatch::PoolResult{std::move(res),
                                                broadcast_after(gateway, changed_event(key, reason, now, &*e))};
                });
        }));

    dispatch::add_method(
        table, "sessions.delete", "operator.admin",
        ParamSchema().string("key", true).boolean("deleteTranscript").boolean("emitLifecycleHooks"),
        AsyncHandler([&gateway, &sessions, &transcripts](const CallView& call, Responder reply) {
            std::string key;
            try {
                key = required_key(call.params);
            } catch (const core::RpcException& e) {
                return reply.fail(e.error);
            }
            if (key == kMainKey)
                return reply.fail(core::RpcError::invalid("Cannot delete the main session (" + key + ")."));
            const bool drop_transcript = dispatch::param_bool(call.params, "deleteTranscript").value_or(true);
            dispatch::reply_from_pool_then(
                gateway.loop(), std::move(reply), "sessions.delete",
                [&gateway, &sessions, &transcripts, key, drop_transcript] {
                    auto e = sessions.get(key);
                    const bool deleted = e && sessions.remove(key);
                    if (deleted && drop_transcript && sessions.keys_for_session_id(e->session_id).empty())
                        transcripts.remove_session(e->session_id);
                    json::object res{{"ok", true}, {"key", key}, {"deleted", deleted}, {"archived", json::array{}}};
                    std::function<void()> after;
                    if (deleted) {
                        after =
                            broadcast_after(gateway, changed_event(key, "delete", gateway.clock().now_ms(), nullptr));
                    }
                    return dispatch::PoolResult{std::move(res), std::move(after)};
                });
        }));

    dispatch::add_method(
        table, "sessions.preview", "operator.read",
        ParamSchema().array("keys", true).integer("limit", 1).integer("maxChars", 20),
        AsyncHandler([&gateway, &sessions, &transcripts](const CallView& call, Responder reply) {
            const json::array& arr = call.params.at("keys").get_array();
            if (arr.empty()) return reply.fail(core::RpcError::invalid("invalid keys: must not be empty"));
            std::vector<std::string> keys;
            for (const auto& k : arr) {
                if (keys.size() == kPreviewMaxKeys) break;
                if (!k.is_string()) return reply.fail(core::RpcError::invalid("invalid keys: must be strings"));
                keys.emplace_back(core::sv(k.get_string()));
            }
            const auto limit =
                static_cast<size_t>(std::min(dispatch::param_int(call.params, "limit").value_or(12), kPreviewMaxLimit));
            const auto max_chars = static_cast<size_t>(
                std::min(dispatch::param_int(call.params, "maxChars").value_or(240), kPreviewMaxChars));
            const int64_t now = gateway.clock().now_ms();
            dispatch::reply_from_pool(
                gateway.loop(), std::move(reply), "sessions.preview",
                [&sessions, &transcripts, keys, limit, max_chars, now] {
                    json::array previews;
                    for (const auto& k : keys)
                        previews.emplace_back(session_preview(sessions, transcripts, k, limit, max_chars));
                    return json::value(json::object{{"ts", now}, {"previews", std::move(previews)}});
                });
        }));
}

}  // namespace pincer::methods
