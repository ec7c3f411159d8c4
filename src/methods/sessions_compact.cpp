// sessions.compact (methods.md §4.10): with `maxLines`, the 3.x line trim (the full transcript is
// archived first); without, the 5.x compaction: the model writes a summary that replaces all but
// the last few messages in the context of later turns (the transcript itself keeps everything).
#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "dispatch/loop.hpp"
#include "methods/chat.hpp"
#include "methods/sessions.hpp"
#include "runtime/model_call.hpp"
#include "util/crypto.hpp"

namespace pincer::methods {
namespace {

namespace fs = std::filesystem;
using dispatch::CallView;
using dispatch::Responder;

/// Messages kept verbatim after a summary compaction.
constexpr size_t kKeptMessages = 4;
/// Transcript entries a compaction reads.
constexpr size_t kCompactWindow = 2000;
/// Characters of conversation sent to the model to summarise (the most recent ones win).
constexpr size_t kMaxSummaryInput = 200'000;
constexpr size_t kMaxToolTextInSummary = 2'000;

const json::object kClearTokens{{"inputTokens", nullptr}, {"outputTokens", nullptr}, {"totalTokens", nullptr},
                                {"cacheRead", nullptr},   {"cacheWrite", nullptr},   {"estimatedCostUsd", nullptr}};

std::string text_of(const json::value& content) {
    if (content.is_string()) return std::string(content.as_string());
    std::string out;
    if (!content.is_array()) return out;
    for (const auto& b : content.as_array()) {
        if (!b.is_object()) continue;
        const auto& o = b.as_object();
        auto* type = o.if_contains("type");
        if (!type || !type->is_string()) continue;
        if (*type == "text" && o.contains("text") && o.at("text").is_string()) {
            out += o.at("text").as_string();
        } else if (*type == "toolCall") {
            out += "\n[called tool " + std::string(o.contains("name") ? o.at("name").as_string() : "") + " " +
                   (o.contains("arguments") ? json::serialize(o.at("arguments")) : "{}") + "]";
        } else if (*type == "image") {
            out += "[image]";
        }
    }
    return out;
}

/// The conversation as plain text for the summariser: no tool schemas are needed that way.
std::string conversation_text(const json::array& messages) {
    std::string out;
    for (const auto& v : messages) {
        const auto& m = v.as_object();
        const auto role = m.at("role").as_string();
        std::string text = m.contains("content") ? text_of(m.at("content")) : std::string();
        if (role == "toolResult") {
            if (text.size() > kMaxToolTextInSummary) text = text.substr(0, kMaxToolTextInSummary) + "…";
            out += "Tool result (" + std::string(m.contains("toolName") ? m.at("toolName").as_string() : "") +
                   "): " + text + "\n\n";
        } else {
            out += (role == "user" ? "User: " : "Assistant: ") + text + "\n\n";
        }
    }
    if (out.size() > kMaxSummaryInput) out = "…" + out.substr(out.size() - kMaxSummaryInput);
    return out;
}

struct CompactJob {
    std::string key;
    std::string session_id;
    std::string first_kept_id;
    int64_t tokens_before = 0;
    runtime::ModelRequest request;
};

json::object not_compacted(const std::string& key, std::string_view reason) {
    return json::object{{"ok", true}, {"key", key}, {"compacted", false}, {"reason", reason}};
}

/// Pool: chooses what to summarise and builds the request; nullopt payload = answer at once.
std::variant<json::object, CompactJob> plan_summary(ChatRuntime& rt, const std::string& key) {
    const auto& deps = rt.deps();
    auto entry = deps.sessions.get(key);
    if (!entry) return not_compacted(key, "no sessionId");
    auto entries = deps.transcripts.tail(entry->session_id, kCompactWindow);
    if (entries.empty()) return not_compacted(key, "no transcript");
    // Message entries after the last compaction; the kept tail starts at a user or assistant turn.
    std::vector<size_t> messages;
    for (size_t i = 0; i < entries.size(); ++i) {
        if (entries[i].type == "compaction") messages.clear();
        if (entries[i].type == "message" && entries[i].role && *entries[i].role != "system") messages.push_back(i);
    }
    if (messages.size() <= kKeptMessages) return not_compacted(key, "too short");
    size_t first_kept = messages.size() - kKeptMessages;
    while (first_kept > 0 && entries[messages[first_kept]].role == "toolResult") --first_kept;
    if (first_kept == 0) return not_compacted(key, "too short");
    std::vector<storage::TranscriptEntry> older(entries.begin(), entries.begin() + messages[first_kept]);
    json::array history = model_history(older);
    if (history.empty()) return not_compacted(key, "too short");

    json::value cfg = deps.config.store().load().parsed;
    auto agent_id = storage::agent_id_from_key(key).value_or("main");
    auto chain = runtime::resolve_model_chain(cfg, agent_id, deps.env);
    if (chain.models.empty())
        throw core::RpcException(core::RpcError::unavailable("compaction failed: " + chain.problems));

    CompactJob job;
    job.key = key;
    job.session_id = entry->session_id;
    job.first_kept_id = entries[messages[first_kept]].entry_id;
    if (auto it = entry->fields.find("totalTokens"); it != entry->fields.end() && it->value().is_int64())
        job.tokens_before = it->value().as_int64();
    job.request.model = chain.models.front();
    job.request.system_prompt =
        "You write compact, faithful summaries of conversations between a user and an AI assistant, so the "
        "assistant can continue the conversation without the full history.";
    job.request.messages.push_back(json::object{
        {"role", "user"},
        {"content",
         "Summarize the conversation below. Keep decisions, facts about the user, open tasks, file names "
         "and anything the assistant promised. Write plain prose or short bullet points, no preamble.\n\n" +
             conversation_text(history)},
        {"timestamp", entries.back().ts_ms}});
    return job;
}

class CompactMethod {
public:
    explicit CompactMethod(ChatRuntime& rt) : rt_(rt), gw_(rt.deps().gateway) {}

    void operator()(const CallView& call, Responder reply) {
        std::string key = canonical_session_key(dispatch::param_string(call.params, "key"));
        if (dispatch::param_string(call.params, "key").empty()) core::throw_invalid("key is required");
        // A compaction rewrites what the next turn sees: the active run must not race it.
        rt_.abort(rt_.active_runs(key), "compact");
        if (auto max_lines = dispatch::param_int(call.params, "maxLines")) {
            trim(std::move(reply), key, static_cast<size_t>(*max_lines));
        } else {
            summarise(std::move(reply), key);
        }
    }

private:
    void trim(Responder reply, const std::string& key, size_t max_lines) {
        auto& rt = rt_;
        auto& gw = gw_;
        dispatch::reply_from_pool_then(gw.loop(), std::move(reply), "sessions.compact", [&rt, &gw, key, max_lines] {
            const auto& deps = rt.deps();
            auto entry = deps.sessions.get(key);
            if (!entry) return dispatch::PoolResult{not_compacted(key, "no sessionId"), {}};
            const size_t count = deps.transcripts.count(entry->session_id);
            if (count == 0) return dispatch::PoolResult{not_compacted(key, "no transcript"), {}};
            if (count <= max_lines) {
                return dispatch::PoolResult{
                    json::object{{"ok", true}, {"key", key}, {"compacted", false}, {"kept", count}}, {}};
            }
            // Archive everything before trimming: a trim must never lose data for good.
            const int64_t now = gw.clock().now_ms();
            fs::path dir = deps.state_dir / "sessions" / "archive";
            fs::create_directories(dir);
            fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
            fs::path archive = dir / (entry->session_id + "." + std::to_string(now) + ".jsonl.bak");
            {
                std::ofstream out(archive, std::ios::binary | std::ios::trunc);
                out << deps.transcripts.export_jsonl(
                    entry->session_id,
                    storage::TranscriptHeader{entry->session_id, entry->created_at_ms, "", std::nullopt});
                out.flush();
                if (!out) throw core::RpcException(core::RpcError::unavailable("cannot write " + archive.string()));
            }
            fs::permissions(archive, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
            auto tail = deps.transcripts.tail(entry->session_id, max_lines);
            deps.transcripts.trim_before(entry->session_id, tail.front().seq);
            auto updated = deps.sessions.patch(key, kClearTokens, now);
            json::object ev = session_changed_event(key, "compact", now, updated ? &*updated : nullptr);
            ev["compacted"] = true;
            return dispatch::PoolResult{json::object{{"ok", true},
                                                     {"key", key},
                                                     {"compacted", true},
                                                     {"archived", archive.string()},
                                                     {"kept", max_lines}},
                                        [&gw, ev] { broadcast_sessions_changed(gw, ev); }};
        });
    }

    void summarise(Responder reply, const std::string& key) {
        auto shared = std::make_shared<Responder>(std::move(reply));
        auto& rt = rt_;
        auto& gw = gw_;
        gw.loop().post_blocking([&rt, &gw, shared, key] {
            try {
                auto plan = plan_summary(rt, key);
                gw.loop().post([&rt, &gw, shared, plan = std::move(plan)]() mutable {
                    if (auto* done = std::get_if<json::object>(&plan)) {
                        shared->ok(std::move(*done));
                        return;
                    }
                    call_model(rt, gw, shared, std::move(std::get<CompactJob>(plan)));
                });
            } catch (const core::RpcException& e) {
                gw.loop().post([shared, err = e.error] { shared->fail(err); });
            } catch (const std::exception& e) {
                gw.loop().post([shared, m = std::string(e.what())] {
                    shared->fail(core::RpcError::unavailable("compaction failed: " + m));
                });
            }
        });
    }

    static void call_model(ChatRuntime& rt, dispatch::Gateway& gw, std::shared_ptr<Responder> reply, CompactJob job) {
        auto request = job.request;
        auto job_ptr = std::make_shared<CompactJob>(std::move(job));
        runtime::ModelCall::start(
            rt.deps().fetcher,
            [&gw](int64_t delay, std::function<void()> fn) { gw.loop().post_after(delay, std::move(fn)); },
            std::move(request), runtime::CallPolicy{}, [](const runtime::StreamDelta&) {},
            [&rt, &gw, reply, job_ptr](runtime::CallOutcome out) {
                if (out.error != runtime::CallError::none || out.turn.text.empty()) {
                    reply->fail(core::RpcError::unavailable(
                        "compaction failed: " +
                        (out.message.empty() ? std::string("the model wrote no summary") : out.message)));
                    return;
                }
                const int64_t now = gw.clock().now_ms();
                dispatch::reply_from_pool_then(
                    gw.loop(), std::move(*reply), "sessions.compact",
                    [&rt, &gw, job_ptr, summary = out.turn.text, now] {
                        const auto& deps = rt.deps();
                        storage::TranscriptEntry e;
                        e.type = "compaction";
                        e.ts_ms = now;
                        e.payload = json::serialize(json::object{{"summary", summary},
                                                                 {"firstKeptEntryId", job_ptr->first_kept_id},
                                                                 {"tokensBefore", job_ptr->tokens_before}});
                        deps.transcripts.append(job_ptr->session_id, {std::move(e)});
                        int64_t count = 0;
                        if (auto cur = deps.sessions.get(job_ptr->key)) {
                            if (auto it = cur->fields.find("compactionCount");
                                it != cur->fields.end() && it->value().is_int64())
                                count = it->value().as_int64();
                        }
                        json::object patch = kClearTokens;
                        patch["compactionCount"] = count + 1;
                        auto updated = deps.sessions.patch(job_ptr->key, patch, now);
                        json::object ev =
                            session_changed_event(job_ptr->key, "compact", now, updated ? &*updated : nullptr);
                        ev["compacted"] = true;
                        json::object result{{"summary", summary},
                                            {"firstKeptEntryId", job_ptr->first_kept_id},
                                            {"tokensBefore", job_ptr->tokens_before},
                                            {"sessionId", job_ptr->session_id}};
                        return dispatch::PoolResult{
                            json::object{{"ok", true}, {"key", job_ptr->key}, {"compacted", true}, {"result", result}},
                            [&gw, ev] { broadcast_sessions_changed(gw, ev); }};
                    });
            });
    }

    ChatRuntime& rt_;
    dispatch::Gateway& gw_;
};

}  // namespace

void register_sessions_compact(dispatch::MethodTable& table, ChatRuntime& runtime) {
    dispatch::add_method(table, "sessions.compact", "operator.admin",
                         dispatch::ParamSchema().string("key", true).integer("maxLines", 1),
                         dispatch::AsyncHandler([m = std::make_shared<CompactMethod>(runtime)](
                                                    const CallView& c, Responder r) { (*m)(c, std::move(r)); }));
}

}  // namespace pincer::methods
