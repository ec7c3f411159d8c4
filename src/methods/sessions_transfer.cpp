#include "methods/sessions_transfer.hpp"

#include <algorithm>

#include "methods/agents.hpp"
#include "methods/sessions.hpp"
#include "util/crypto.hpp"
#include "util/strings.hpp"

namespace pincer::methods {
namespace {

using core::throw_invalid;

// hello-ok.features.methods lists only methods the protocol schema knows; these two are Pincer's
// own, so clients find them in the docs, not in the handshake.
constexpr uint32_t kUnadvertised = 0;

std::string required_key(const json::object& p) {
    std::string key = dispatch::param_string(p, "key");
    if (util::trim(key).empty()) throw_invalid("key is required");
    return canonical_session_key(key);
}

// The header's cwd: where the session's agent works, as OpenClaw records the process cwd. A
// missing or broken config is no reason to refuse an export, so it falls back to "".
std::string workspace_of(const ConfigService* config, const std::string& state_dir, const std::string& agent_id) {
    if (!config) return {};
    try {
        const json::value cfg = config->store().load().parsed;
        if (!cfg.is_object()) return {};
        if (auto agent = find_agent(cfg, state_dir, agent_id)) return agent->workspace.string();
    } catch (const std::exception&) {
    }
    return {};
}

json::object export_session(storage::SessionsRepo& sessions, storage::TranscriptsRepo& transcripts,
                            const ConfigService* config, const std::string& state_dir, const std::string& key,
                            uint64_t max_bytes) {
    auto e = sessions.get(key);
    if (!e) throw_invalid("session not found: " + key);
    storage::TranscriptHeader header;
    header.session_id = e->session_id;
    header.timestamp_ms = e->created_at_ms;
    header.cwd = workspace_of(config, state_dir, e->agent_id);
    std::string jsonl = transcripts.export_jsonl(e->session_id, header);
    // What cannot come back in one frame could not be imported again either, and a reply that
    // big would only stall the client's socket.
    if (jsonl.size() > max_bytes) {
        throw_invalid("transcript too large to export: " + std::to_string(jsonl.size()) + " bytes (limit " +
                      std::to_string(max_bytes) + ")");
    }
    return json::object{{"key", key}, {"sessionId", e->session_id}, {"jsonl", std::move(jsonl)}};
}

struct ImportResult {
    json::object reply;
    json::object event;
};

ImportResult import_session(storage::SessionsRepo& sessions, storage::TranscriptsRepo& transcripts,
                            const std::string& key, const std::string& jsonl, bool replace, int64_t now) {
    storage::ImportedTranscript file;
    try {
        file = storage::TranscriptsRepo::import_jsonl(jsonl);
    } catch (const storage::TranscriptImportError& err) {
        throw_invalid(err.what());
    }
    auto cur = sessions.get(key);
    if (cur && transcripts.count(cur->session_id) > 0 && !replace)
        throw_invalid("session already has a transcript: " + key + " (pass replace:true)");

    // The file's id is kept so the session stays recognisable across installs, unless it would
    // merge two conversations: another key uses it, or entries are stored under it already (an
    // earlier transcript of a reset or deleted session).
    std::string sid = file.header.session_id;
    const bool own = cur && cur->session_id == sid;
    const auto users = sessions.keys_for_session_id(sid);
    const bool shared = std::any_of(users.begin(), users.end(), [&](const std::string& k) { return k != key; });
    if (shared || (!own && transcripts.count(sid) > 0)) sid = util::uuid_v4();

    std::optional<std::string> old_transcript;
    if (cur && cur->session_id != sid && sessions.keys_for_session_id(cur->session_id) == std::vector<std::string>{key})
        old_transcript = cur->session_id;
    if (cur && cur->session_id == sid) transcripts.remove_session(sid);
    const size_t count = file.entries.size();
    transcripts.append(sid, std::move(file.entries), storage::ParentLinking::kAsGiven);

    // Token counters, compaction state and the like described the old transcript; settings
    // (label, model override, toggles) stay with the key.
    json::object patch{{"sessionId", sid}};
    for (std::string_view f : storage::SessionsRepo::kResetClearedFields) patch[f] = nullptr;
    if (!cur) {
        // A new session starts when the file says it did, so export gives the same header back.
        // `global` / `unknown` need an agent in the store, as sessions.patch gives them.
        storage::SessionEntry fresh;
        fresh.key = key;
        fresh.agent_id = storage::agent_id_from_key(key).value_or("main");
        fresh.session_id = sid;
        fresh.created_at_ms = file.header.timestamp_ms;
        fresh.updated_at_ms = now;
        sessions.upsert(fresh);
    }
    auto entry = sessions.patch(key, patch, now, sid);
    if (old_transcript) transcripts.remove_session(*old_transcript);

    ImportResult out;
    out.reply = json::object{{"ok", true}, {"key", key}, {"sessionId", sid}, {"entries", static_cast<int64_t>(count)}};
    out.event = session_changed_event(key, "import", now, entry ? &*entry : nullptr);
    return out;
}

}  // namespace

void register_sessions_transfer(dispatch::MethodTable& table, dispatch::Gateway& gateway,
                                storage::SessionsRepo& sessions, storage::TranscriptsRepo& transcripts,
                                const ConfigService* config) {
    using dispatch::CallView;
    using dispatch::Responder;
    {
        dispatch::MethodSpec spec;
        spec.name = "sessions.export";
        spec.scope = "operator.read";
        spec.flags = kUnadvertised;
        spec.params = dispatch::ParamSchema().string("key", true);
        spec.handler =
            dispatch::AsyncHandler([&gateway, &sessions, &transcripts, config](const CallView& call, Responder reply) {
                std::string key;
                try {
                    key = required_key(call.params);
                } catch (const core::RpcException& e) {
                    return reply.fail(e.error);
                }
                // Limits change on the network thread (hot reload): read them here, not on the pool.
                const uint64_t max_bytes = gateway.limits().max_payload;
                dispatch::reply_from_pool(
                    gateway.loop(), std::move(reply), "sessions.export",
                    [&sessions, &transcripts, config, state_dir = gateway.info().state_dir, key, max_bytes] {
                        return json::value(export_session(sessions, transcripts, config, state_dir, key, max_bytes));
                    });
            });
        table.add(std::move(spec));
    }
    {
        dispatch::MethodSpec spec;
        spec.name = "sessions.import";
        spec.scope = "operator.admin";
        spec.flags = kUnadvertised;
        spec.params = dispatch::ParamSchema().string("key", true).string("jsonl", true).boolean("replace");
        spec.handler =
            dispatch::AsyncHandler([&gateway, &sessions, &transcripts](const CallView& call, Responder reply) {
                std::string key;
                try {
                    key = required_key(call.params);
                } catch (const core::RpcException& e) {
                    return reply.fail(e.error);
                }
                const bool replace = dispatch::param_bool(call.params, "replace").value_or(false);
                dispatch::reply_from_pool_then(
                    gateway.loop(), std::move(reply), "sessions.import",
                    [&gateway, &sessions, &transcripts, key, jsonl = dispatch::param_string(call.params, "jsonl"),
                     replace] {
                        ImportResult r =
                            import_session(sessions, transcripts, key, jsonl, replace, gateway.clock().now_ms());
                        return dispatch::PoolResult{std::move(r.reply), [&gateway, event = std::move(r.event)] {
                                                        broadcast_sessions_changed(gateway, event);
                                                    }};
                    });
            });
        table.add(std::move(spec));
    }
}

}  // namespace pincer::methods
