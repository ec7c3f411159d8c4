#include "methods/chat.hpp"

#include <boost/json/serialize.hpp>

#include "core/error.hpp"
#include "core/scopes.hpp"
#include "dispatch/loop.hpp"
#include "methods/agents.hpp"
#include "methods/sessions.hpp"
#include "util/base64url.hpp"
#include "util/crypto.hpp"
#include "util/strings.hpp"

namespace pincer::methods {
namespace {

using core::throw_invalid;
using dispatch::add_method;
using dispatch::AsyncHandler;
using dispatch::CallView;
using dispatch::ParamSchema;
using dispatch::Responder;

/// Largest image passed to a provider (the reference rejects bigger ones).
constexpr size_t kMaxImageBytes = 6 * 1024 * 1024;
constexpr size_t kMaxInjectLabel = 100;

/// The reference's message hygiene: NUL refused, other control characters except TAB/LF/CR dropped.
std::string clean_message(std::string_view raw, std::string_view field) {
    std::string out;
    out.reserve(raw.size());
    for (char c : raw) {
        const auto u = static_cast<unsigned char>(c);
        if (u == 0) throw_invalid(std::string(field) + " must not contain null bytes");
        if ((u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7f) continue;
        out.push_back(c);
    }
    return out;
}

/// MIME type from the first bytes, which win over what the client declared.
std::string sniff_image(const std::vector<uint8_t>& b) {
    auto starts = [&](std::initializer_list<uint8_t> sig) {
        return b.size() >= sig.size() && std::equal(sig.begin(), sig.end(), b.begin());
    };
    if (starts({0x89, 'P', 'N', 'G'})) return "image/png";
    if (starts({0xff, 0xd8, 0xff})) return "image/jpeg";
    if (starts({'G', 'I', 'F', '8'})) return "image/gif";
    if (b.size() >= 12 && starts({'R', 'I', 'F', 'F'}) && std::equal(b.begin() + 8, b.begin() + 12, "WEBP"))
        return "image/webp";
    return {};
}

/// chat.send/agent attachments → pi-ai image blocks. Both shapes of the reference are accepted:
/// `{mimeType?, fileName?, content}` (a data: URL prefix is stripped) and Anthropic's
/// `{source:{type:"base64", media_type, data}}`. Entries without content are dropped.
json::array parse_attachments(const json::object& params) {
    json::array images;
    const json::value* list = params.if_contains("attachments");
    if (!list || list->is_null()) return images;
    const auto& arr = list->as_array();
    for (size_t i = 0; i < arr.size(); ++i) {
        const std::string where = "attachments[" + std::to_string(i) + "]";
        if (!arr[i].is_object()) throw_invalid(where + " must be an object");
        const auto& a = arr[i].as_object();
        std::string data;
        if (auto* c = a.if_contains("content"); c && c->is_string()) {
            data = c->as_string();
        } else if (auto* src = a.if_contains("source"); src && src->is_object()) {
            if (auto* d = src->as_object().if_contains("data"); d && d->is_string()) data = d->as_string();
        }
        if (data.empty()) continue;
        if (data.starts_with("data:")) {
            auto comma = data.find(',');
            if (comma == std::string::npos) throw_invalid(where + ".content: malformed data URL");
            data.erase(0, comma + 1);
        }
        auto bytes = util::base64_decode_any(data);
        if (!bytes) throw_invalid(where + ".content: not valid base64");
        std::string mime = sniff_image(*bytes);
        if (mime.empty()) {
            throw_invalid(where + ": only image attachments (PNG, JPEG, GIF, WebP) are supported");
        }
        if (bytes->size() > kMaxImageBytes) {
            throw_invalid(where + ": image is larger than 6 MiB (" + std::to_string(bytes->size()) + " bytes)");
        }
        images.push_back(json::object{{"type", "image"}, {"data", data}, {"mimeType", mime}});
    }
    return images;
}

json::object summary_snapshot(const RunSummary& s) {
    const auto& o = s.outcome;
    json::object out{{"runId", s.run_id}, {"startedAt", o.started_at_ms}, {"endedAt", o.ended_at_ms}};
    switch (o.status) {
        case runtime::RunStatus::ok:
            out["status"] = "ok";
            break;
        case runtime::RunStatus::error:
            out["status"] = "error";
            out["error"] = o.error_message;
            break;
        case runtime::RunStatus::aborted:
        case runtime::RunStatus::timeout:
            out["status"] = "timeout";
            out["stopReason"] = o.stop_reason;
            break;
    }
    return out;
}

json::object record_snapshot(const storage::RunRecord& r) {
    json::object out{{"runId", r.run_id}, {"startedAt", r.started_at_ms}};
    if (r.ended_at_ms) out["endedAt"] = *r.ended_at_ms;
    if (r.status == "ok") {
        out["status"] = "ok";
    } else if (r.status == "error") {
        out["status"] = "error";
        if (r.error) out["error"] = *r.error;
    } else {
        out["status"] = "timeout";
        if (r.stop_reason) out["stopReason"] = *r.stop_reason;
    }
    return out;
}

/// The `agent` method's final response for a finished run.
json::object agent_final(const RunSummary& s) {
    const auto& o = s.outcome;
    if (o.status == runtime::RunStatus::aborted || o.status == runtime::RunStatus::timeout) {
        return json::object{
            {"runId", s.run_id}, {"status", "timeout"}, {"summary", "aborted"}, {"stopReason", o.stop_reason}};
    }
    json::array payloads;
    if (!o.final_text.empty()) payloads.push_back(json::object{{"text", o.final_text}});
    json::object agent_meta{
        {"sessionId", s.session_id},
        {"provider", o.model.provider},
        {"model", o.model.model},
        {"usage", json::object{{"input", o.usage.input},
                               {"output", o.usage.output},
                               {"cacheRead", o.usage.cache_read},
                               {"cacheWrite", o.usage.cache_write},
                               {"total", o.usage.input + o.usage.output + o.usage.cache_read + o.usage.cache_write}}}};
    if (o.model.context_window > 0) agent_meta["contextTokens"] = o.model.context_window;
    json::object meta{{"durationMs", o.ended_at_ms - o.started_at_ms},
                      {"agentMeta", std::move(agent_meta)},
                      {"stopReason", o.stop_reason}};
    return json::object{{"runId", s.run_id},
                        {"status", "ok"},
                        {"summary", "completed"},
                        {"result", json::object{{"payloads", std::move(payloads)}, {"meta", std::move(meta)}}}};
}

class ChatMethods {
public:
    ChatMethods(ChatRuntime& rt) : rt_(rt), gw_(rt.deps().gateway) {}

    void send(const CallView& call, Responder reply) {
        const auto& p = call.params;
        for (std::string_view f :
             {"originatingChannel", "originatingTo", "originatingAccountId", "originatingThreadId"}) {
            if (p.contains(f) && !core::scope_satisfied(call.conn.scopes, "operator.admin"))
                throw_invalid("originating route fields require admin scope");
        }
        for (std::string_view f : {"systemInputProvenance", "systemProvenanceReceipt"}) {
            if (p.contains(f) && !core::scope_satisfied(call.conn.scopes, "operator.admin"))
                throw_invalid("system provenance fields require admin scope");
        }
        RunRequest r;
        r.kind = "chat";
        r.session_key = canonical_session_key(dispatch::param_string(p, "sessionKey"));
        r.message = clean_message(dispatch::param_string(p, "message"), "message");
        r.images = parse_attachments(p);
        if (util::trim(r.message).empty() && r.images.empty()) throw_invalid("message or attachment required");
        r.run_id = dispatch::param_string(p, "idempotencyKey");
        if (r.run_id.empty()) r.run_id = util::uuid_v4();  // the hosted docs' minimal example omits it
        r.thinking = dispatch::param_string(p, "thinking");
        r.timeout_ms = dispatch::param_int(p, "timeoutMs");
        r.session_id = dispatch::param_string(p, "sessionId");
        r.started_by = call.conn.conn_id;

        if (r.images.empty() && is_stop_phrase(r.message)) {
            auto aborted = rt_.abort(rt_.active_runs(r.session_key), "stop");
            json::array ids;
            for (auto& id : aborted) ids.emplace_back(id);
            reply.ok(json::object{{"ok", true}, {"aborted", !aborted.empty()}, {"runIds", std::move(ids)}});
            return;
        }
        if (rt_.is_active(r.run_id)) {
            reply.ok(json::object{{"runId", r.run_id}, {"status", "in_flight"}});
            return;
        }
        auto& rt = rt_;
        dispatch::reply_from_pool_then(gw_.loop(), std::move(reply), "chat.send", [&rt, r] {
            auto result = rt.prepare(r);
            if (result.duplicate) {
                if (result.duplicate_status == "error") {
                    std::string summary = "run failed";
                    if (auto* s = result.duplicate->if_contains("summary"); s && s->is_string())
                        summary = s->as_string();
                    throw core::RpcException(core::RpcError::unavailable(summary));
                }
                return dispatch::PoolResult{json::object{{"runId", r.run_id}, {"status", result.duplicate_status}}, {}};
            }
            auto prepared = result.run;
            return dispatch::PoolResult{json::object{{"runId", r.run_id}, {"status", "started"}},
                                        [&rt, prepared] { rt.launch(prepared); }};
        });
    }

    void abort(const CallView& call, Responder reply) {
        const auto& p = call.params;
        std::string key = canonical_session_key(dispatch::param_string(p, "sessionKey"));
        std::vector<std::string> targets;
        if (auto run_id = dispatch::param_string(p, "runId"); !run_id.empty()) {
            auto session = rt_.session_of(run_id);
            if (session && *session != key) throw_invalid("runId does not match sessionKey");
            if (session) targets.push_back(run_id);
        } else {
            targets = rt_.active_runs(key);
        }
        auto aborted = rt_.abort(targets, "rpc");
        json::array ids;
        for (auto& id : aborted) ids.emplace_back(id);
        reply.ok(json::object{{"ok", true}, {"aborted", !aborted.empty()}, {"runIds", std::move(ids)}});
    }

    void inject(const CallView& call, Responder reply) {
        const auto& p = call.params;
        std::string key = canonical_session_key(dispatch::param_string(p, "sessionKey"));
        std::string text = clean_message(dispatch::param_string(p, "message"), "message");
        if (util::trim(text).empty()) throw_invalid("message is required");
        std::string label = dispatch::param_string(p, "label");
        if (label.size() > kMaxInjectLabel) throw_invalid("label must be at most 100 characters");
        if (!label.empty()) text = "[" + label + "]\n\n" + text;
        auto& deps = rt_.deps();
        auto& gw = gw_;
        const int64_t now = gw.clock().now_ms();
        dispatch::reply_from_pool_then(gw.loop(), std::move(reply), "chat.inject", [&deps, &gw, key, text, now] {
            auto entry = deps.sessions.get(key);
            if (!entry) throw_invalid("session not found");
            json::object zero_cost{{"input", 0}, {"output", 0}, {"cacheRead", 0}, {"cacheWrite", 0}, {"total", 0}};
            json::object msg{{"role", "assistant"},
                             {"content", json::array{json::object{{"type", "text"}, {"text", text}}}},
                             {"timestamp", now},
                             {"stopReason", "stop"},
                             {"usage", json::object{{"input", 0},
                                                    {"output", 0},
                                                    {"cacheRead", 0},
                                                    {"cacheWrite", 0},
                                                    {"totalTokens", 0},
                                                    {"cost", zero_cost}}},
                             {"api", "openai-responses"},
                             {"provider", "openclaw"},
                             {"model", "gateway-injected"}};
            storage::TranscriptEntry e;
            e.ts_ms = now;
            e.payload = json::serialize(msg);
            std::vector<storage::TranscriptEntry> stored;
            try {
                stored = deps.transcripts.append(entry->session_id, {std::move(e)});
            } catch (const std::exception& ex) {
                throw core::RpcException(
                    core::RpcError::unavailable(std::string("failed to write transcript: ") + ex.what()));
            }
            const std::string id = stored.front().entry_id;
            json::object projected = project_message(stored.front(), kDefaultHistoryMaxChars);
            json::object ev{{"runId", "inject-" + id},
                            {"sessionKey", key},
                            {"seq", 0},
                            {"state", "final"},
                            {"message", std::move(projected)}};
            return dispatch::PoolResult{json::object{{"ok", true}, {"messageId", id}},
                                        [&gw, ev] { gw.broadcaster().broadcast("chat", ev); }};
        });
    }

    void history(const CallView& call, Responder reply) {
        const auto& p = call.params;
        std::string key = canonical_session_key(dispatch::param_string(p, "sessionKey"));
        const size_t limit = static_cast<size_t>(dispatch::param_int(p, "limit").value_or(200));
        const size_t max_chars =
            static_cast<size_t>(dispatch::param_int(p, "maxChars").value_or(kDefaultHistoryMaxChars));
        auto& deps = rt_.deps();
        const size_t max_bytes = gw_.limits().chat_history_max_bytes;
        dispatch::reply_from_pool(
            gw_.loop(), std::move(reply), "chat.history", [&deps, key, limit, max_chars, max_bytes] {
                json::object out{{"sessionKey", key}};
                auto entry = deps.sessions.get(key);
                if (!entry) {
                    out["messages"] = json::array{};
                    return json::value(std::move(out));
                }
                out["sessionId"] = entry->session_id;
                out["messages"] =
                    project_history(deps.transcripts.tail(entry->session_id, limit), max_chars, max_bytes);
                for (std::string_view f : {"thinkingLevel", "verboseLevel", "fastMode"}) {
                    if (auto it = entry->fields.find(f); it != entry->fields.end()) out[f] = it->value();
                }
                return json::value(std::move(out));
            });
    }

    void agent(const CallView& call, Responder reply) {
        const auto& p = call.params;
        RunRequest r;
        r.kind = "agent";
        r.run_id = dispatch::param_string(p, "idempotencyKey");
        r.message = clean_message(dispatch::param_string(p, "message"), "message");
        r.images = parse_attachments(p);
        r.thinking = dispatch::param_string(p, "thinking");
        if (auto t = dispatch::param_int(p, "timeout")) r.timeout_ms = *t * 1000;
        if (auto l = dispatch::param_string(p, "label"); !l.empty()) r.label = l;
        r.session_id = dispatch::param_string(p, "sessionId");
        r.started_by = call.conn.conn_id;
        std::string agent_id = dispatch::param_string(p, "agentId");
        std::string raw_key = dispatch::param_string(p, "sessionKey");
        if (!raw_key.empty()) {
            r.session_key = canonical_session_key(raw_key);
            if (r.session_key.starts_with("agent:") && !storage::agent_id_from_key(r.session_key)) {
                throw_invalid("malformed session key \"" + raw_key + "\"");
            }
        }
        auto shared = std::make_shared<Responder>(std::move(reply));
        if (rt_.is_active(r.run_id)) {
            follow(shared, r.run_id);
            return;
        }
        auto& rt = rt_;
        auto& gw = gw_;
        gw.loop().post_blocking([&rt, &gw, shared, r, agent_id]() mutable {
            try {
                json::value cfg = rt.deps().config.store().load().parsed;
                if (!agent_id.empty()) {
                    auto agent = find_agent(cfg, rt.deps().state_dir, agent_id);
                    if (!agent) throw_invalid("unknown agent id \"" + agent_id + "\"");
                    agent_id = agent->id;
                }
                if (r.session_key.empty()) {
                    r.session_key = "agent:" + (agent_id.empty() ? default_agent_id(cfg) : agent_id) + ":main";
                }
                if (auto key_agent = storage::agent_id_from_key(r.session_key);
                    key_agent && !agent_id.empty() && *key_agent != agent_id) {
                    throw_invalid("agent \"" + agent_id + "\" does not match session key agent \"" + *key_agent + "\"");
                }
                r.agent_id = agent_id;
                auto result = rt.prepare(r);
                gw.loop().post([&rt, &gw, shared, r, result = std::move(result)]() mutable {
                    start_agent(rt, gw, shared, r, std::move(result));
                });
            } catch (const core::RpcException& e) {
                gw.loop().post([shared, err = e.error] { shared->fail(err); });
            } catch (const std::exception& e) {
                gw.loop().post([shared, msg = std::string(e.what())] {
                    shared->fail(core::RpcError::unavailable("agent failed: " + msg));
                });
            }
        });
    }

    void wait(const CallView& call, Responder reply) {
        const auto& p = call.params;
        std::string run_id = dispatch::param_string(p, "runId");
        const int64_t timeout = dispatch::param_int(p, "timeoutMs").value_or(30'000);
        auto shared = std::make_shared<Responder>(std::move(reply));
        auto& rt = rt_;
        auto& gw = gw_;
        if (rt.is_active(run_id)) {
            wait_active(rt, gw, shared, run_id, timeout);
            return;
        }
        gw.loop().post_blocking([&rt, &gw, shared, run_id, timeout] {
            std::optional<storage::RunRecord> rec;
            try {
                rec = rt.deps().runs.get(run_id);
            } catch (const std::exception&) {
            }
            gw.loop().post([&rt, &gw, shared, run_id, timeout, rec] {
                if (rec && rec->status != "running" && !rt.is_active(run_id)) {
                    shared->ok(record_snapshot(*rec));
                    return;
                }
                wait_active(rt, gw, shared, run_id, timeout);
            });
        });
    }

private:
    /// Waits for a run that is active, or about to start, until `timeout` ms.
    static void wait_active(ChatRuntime& rt, dispatch::Gateway& gw, std::shared_ptr<Responder> reply,
                            const std::string& run_id, int64_t timeout) {
        auto done = std::make_shared<bool>(false);
        auto cancel_timer = std::make_shared<std::function<void()>>();
        uint64_t token = rt.on_run_end(run_id, [reply, done, cancel_timer](const RunSummary& s) {
            if (*done) return;
            *done = true;
            if (*cancel_timer) (*cancel_timer)();
            reply->ok(summary_snapshot(s));
        });
        *cancel_timer = gw.loop().post_after_cancellable(timeout, [&rt, reply, done, run_id, token] {
            if (*done) return;
            *done = true;
            rt.cancel_wait(run_id, token);
            reply->ok(json::object{{"runId", run_id}, {"status", "timeout"}});
        });
    }

    /// A duplicate `agent` call for a run in progress: the same two answers as the original.
    void follow(const std::shared_ptr<Responder>& reply, const std::string& run_id) {
        reply->progress(json::object{{"runId", run_id}, {"status", "accepted"}, {"acceptedAt", gw_.clock().now_ms()}});
        rt_.on_run_end(run_id, [reply](const RunSummary& s) { finish_agent(*reply, s); });
    }

    static void finish_agent(Responder& reply, const RunSummary& s) {
        if (s.outcome.status == runtime::RunStatus::error) {
            reply.fail(core::RpcError::unavailable(s.outcome.error_message));
        } else {
            reply.ok(agent_final(s));
        }
    }

    static void start_agent(ChatRuntime& rt, dispatch::Gateway& gw, const std::shared_ptr<Responder>& reply,
                            const RunRequest& r, PrepareResult result) {
        if (result.duplicate) {
            const std::string& st = result.duplicate_status;
            if (st == "in_flight") {
                reply->progress(
                    json::object{{"runId", r.run_id}, {"status", "accepted"}, {"acceptedAt", gw.clock().now_ms()}});
                rt.on_run_end(r.run_id, [reply](const RunSummary& s) { finish_agent(*reply, s); });
            } else if (st == "error") {
                std::string summary = "run failed";
                if (auto* s = result.duplicate->if_contains("summary"); s && s->is_string()) summary = s->as_string();
                reply->fail(core::RpcError::unavailable(summary));
            } else {
                reply->ok(*result.duplicate);
            }
            return;
        }
        reply->progress(json::object{{"runId", r.run_id}, {"status", "accepted"}, {"acceptedAt", gw.clock().now_ms()}});
        auto& deps = rt.deps();
        rt.launch(result.run, [reply, &deps, &gw, key = "agent:" + r.run_id](const RunSummary& s) {
            finish_agent(*reply, s);
            if (s.outcome.status != runtime::RunStatus::ok) return;
            // Duplicates within the window get the whole final answer, not just its status.
            gw.loop().post_blocking([&deps, key, payload = json::serialize(agent_final(s)), now = gw.clock().now_ms()] {
                try {
                    deps.idempotency.put({key, payload, "ok", now + 5 * 60 * 1000});
                } catch (const std::exception&) {
                }
            });
        });
    }

    ChatRuntime& rt_;
    dispatch::Gateway& gw_;
};

}  // namespace

void register_chat(dispatch::MethodTable& table, ChatRuntime& runtime) {
    auto m = std::make_shared<ChatMethods>(runtime);
    add_method(table, "chat.send", "operator.write",
               ParamSchema()
                   .string("sessionKey")
                   .string("message")
                   .string("idempotencyKey")
                   .string("thinking")
                   .boolean("deliver")
                   .array("attachments")
                   .integer("timeoutMs", 0)
                   .string("sessionId"),
               [m](const CallView& c, Responder r) { m->send(c, std::move(r)); });
    add_method(table, "chat.history", "operator.read",
               ParamSchema().string("sessionKey", true).integer("limit", 1, 1000).integer("maxChars", 1, 500'000),
               [m](const CallView& c, Responder r) { m->history(c, std::move(r)); });
    add_method(table, "chat.abort", "operator.write", ParamSchema().string("sessionKey", true).string("runId"),
               [m](const CallView& c, Responder r) { m->abort(c, std::move(r)); });
    // Not advertised, as the reference (clients call it anyway).
    add_method(
        table, "chat.inject", "operator.admin",
        ParamSchema().string("sessionKey", true).string("message", true).string("label"),
        [m](const CallView& c, Responder r) { m->inject(c, std::move(r)); }, 0);
    add_method(table, "agent", "operator.write",
               ParamSchema()
                   .string("message", true, true)
                   .string("idempotencyKey", true, true)
                   .string("agentId")
                   .string("sessionKey")
                   .string("sessionId")
                   .string("thinking")
                   .integer("timeout", 0)
                   .array("attachments")
                   .string("label"),
               [m](const CallView& c, Responder r) { m->agent(c, std::move(r)); });
    add_method(table, "agent.wait", "operator.write",
               ParamSchema().string("runId", true, true).integer("timeoutMs", 0, 24LL * 3600 * 1000),
               [m](const CallView& c, Responder r) { m->wait(c, std::move(r)); });
}

}  // namespace pincer::methods
