#include "methods/chat_runs.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <deque>
#include <mutex>

#include "core/error.hpp"
#include "methods/agents.hpp"
#include "methods/models.hpp"
#include "methods/serial_work.hpp"
#include "methods/sessions.hpp"
#include "methods/usage.hpp"
#include "runtime/system_prompt.hpp"
#include "util/crypto.hpp"

namespace pincer::methods {
namespace {

/// Chat deltas go out at most this often per run (the reference's throttle).
constexpr int64_t kDeltaIntervalMs = 150;
/// `agent` assistant/thinking events: model deltas closer together than this are merged into one
/// event (same text, the deltas concatenated). At a model's real pace (tens of ms per token) each
/// delta still gets its own event; a burst (a fast local model, a backlog after a stall) costs one
/// frame per client per window instead of one per token.
constexpr int64_t kAgentStreamIntervalMs = 16;
/// The streamed text is saved for crash recovery at most this often.
constexpr int64_t kPartialSaveIntervalMs = 500;
/// Finished results stay in the idempotency cache this long (reference: 5 minutes).
constexpr int64_t kDedupeWindowMs = 5 * 60 * 1000;

std::optional<double> cost_of(const json::value& cfg, const runtime::ModelRef& model, const runtime::AssistantTurn& t) {
    auto info = find_model(cfg, model.provider, model.model);
    if (!info || !info->cost) return std::nullopt;
    const ModelCost& c = *info->cost;
    return (double(t.input_tokens) * c.input + double(t.output_tokens) * c.output +
            double(t.cache_read) * c.cache_read.value_or(c.input) +
            double(t.cache_write) * c.cache_write.value_or(c.input)) /
           1e6;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct ChatRuntime::ActiveRun {
    std::string session_key;
    std::string started_by;
    std::shared_ptr<runtime::AgentRun> run;
    std::shared_ptr<Observer> observer;
};

/// Turns one run's progress into events and ordered persistence. Network thread only, except the
/// work it queues on the pool.
class ChatRuntime::Observer : public runtime::RunObserver, public std::enable_shared_from_this<Observer> {
public:
    Observer(ChatRuntime& rt, std::shared_ptr<PreparedRun> prepared, std::function<void(const RunSummary&)> on_end)
        : rt_(rt),
          gw_(rt.deps_.gateway),
          prepared_(std::move(prepared)),
          run_id_(prepared_->request.run_id),
          session_key_(prepared_->request.session_key),
          on_end_(std::move(on_end)),
          queue_(std::make_shared<SerialWork>(gw_.loop())),
          partial_(std::make_shared<PartialSlot>()) {}

    void started(int64_t started_at) {
        started_at_ = started_at;
        agent_event("lifecycle", json::object{{"phase", "start"}, {"startedAt", started_at}});
        json::object changed = session_changed_event(session_key_, "send", started_at, nullptr);
        changed["phase"] = "start";
        changed["runId"] = run_id_;
        changed["sessionId"] = prepared_->session_id;
        broadcast_sessions_changed(gw_, changed);
    }

    void on_text(const std::string& text, std::string_view delta, bool replace) override {
        stream_delta(assistant_, text, delta, replace);
        text_ = text;
        const int64_t now = gw_.clock().now_ms();
        if (now - last_delta_ms_ >= kDeltaIntervalMs) {
            emit_chat_delta();
        } else if (!flush_scheduled_) {
            flush_scheduled_ = true;
            std::weak_ptr<Observer> weak = shared_from_this();
            gw_.loop().post_after(kDeltaIntervalMs - (now - last_delta_ms_), [weak] {
                if (auto self = weak.lock()) {
                    self->flush_scheduled_ = false;
                    if (!self->ended_) self->emit_chat_delta();
                }
            });
        }
    }

    void on_thinking(const std::string& text, std::string_view delta) override {
        stream_delta(thinking_, text, delta, false);
    }

    void on_fallback(const runtime::ModelRef& from, const runtime::ModelRef& to, const std::string& reason) override {
        agent_event("lifecycle", json::object{{"phase", "fallback"},
                                              {"selectedProvider", from.provider},
                                              {"selectedModel", from.model},
                                              {"activeProvider", to.provider},
                                              {"activeModel", to.model},
                                              {"reasonSummary", reason}});
    }

    void on_assistant_message(json::object message, const runtime::ModelRef& model,
                              const runtime::AssistantTurn& turn) override {
        auto cost = cost_of(prepared_->config, model, turn);
        json::object& usage = message["usage"].as_object();
        usage["cost"] = json::object{{"total", cost_value(cost.value_or(0.0))}};
        storage::UsageRecord rec;
        rec.run_id = run_id_;
        rec.session_key = session_key_;
        rec.agent_id = prepared_->spec.agent_id;
        rec.provider = model.provider;
        rec.model = model.model;
        rec.input_tokens = turn.input_tokens;
        rec.output_tokens = turn.output_tokens;
        rec.cache_read = turn.cache_read;
        rec.cache_write = turn.cache_write;
        rec.cost_usd = cost;
        rec.ts_ms = gw_.clock().now_ms();
        if (cost) cost_total_ += *cost;
        const bool billed = turn.input_tokens + turn.output_tokens + turn.cache_read + turn.cache_write > 0;
        append(std::move(message), billed ? std::optional<storage::UsageRecord>(std::move(rec)) : std::nullopt);
    }

    void on_tool_start(const runtime::AssistantTurn::ToolCall& call, const json::value& args) override {
        flush_streams();
        flush_delta();
        agent_event("tool",
                    json::object{{"phase", "start"}, {"name", call.name}, {"toolCallId", call.id}, {"args", args}},
                    false, /*tool_event=*/true);
    }

    void on_tool_result(const runtime::AssistantTurn::ToolCall& call, const runtime::ToolResult& result,
                        json::object message) override {
        json::object data{{"phase", "result"},
                          {"name", call.name},
                          {"toolCallId", call.id},
                          {"isError", result.is_error},
                          {"result", result.text}};
        if (!result.meta.empty()) data["meta"] = result.meta;
        agent_event("tool", std::move(data), false, /*tool_event=*/true);
        append(std::move(message), std::nullopt);
    }

    void on_end(const runtime::RunOutcome& outcome) override {
        if (ended_) return;
        flush_streams();
        if (outcome.status == runtime::RunStatus::ok) flush_delta();
        ended_ = true;
        const bool aborted =
            outcome.status == runtime::RunStatus::aborted || outcome.status == runtime::RunStatus::timeout;
        const auto& deps = rt_.deps_;
        const std::string session_id = prepared_->session_id;
        const int64_t now = gw_.clock().now_ms();
        std::optional<json::object> partial_msg;
        if (aborted && !outcome.partial_text.empty()) {
            json::object m = assistant_text_message(outcome.partial_text, now);
            m["api"] = outcome.model.api;
            m["provider"] = outcome.model.provider;
            m["model"] = outcome.model.model;
            m["stopReason"] = "aborted";
            m["openclawAbort"] = true;
            partial_msg = std::move(m);
        }
        std::string status(runtime::to_string(outcome.status));
        std::string dedupe_key = prepared_->request.kind + ":" + run_id_;
        json::object cached{{"runId", run_id_}, {"status", status == "ok" ? "ok" : "error"}};
        if (status == "error") cached["summary"] = outcome.error_message;
        json::object session_patch{{"abortedLastRun", aborted},
                                   {"inputTokens", outcome.usage.input},
                                   {"outputTokens", outcome.usage.output},
                                   {"totalTokens", outcome.usage.input + outcome.usage.cache_read +
                                                       outcome.usage.cache_write + outcome.usage.output},
                                   {"model", outcome.model.model},
                                   {"modelProvider", outcome.model.provider}};
        if (outcome.model.model.empty()) {
            session_patch.erase("model");
            session_patch.erase("modelProvider");
        }
        json::object result{
            {"text", outcome.final_text}, {"steps", outcome.steps}, {"costUsd", cost_value(cost_total_)}};
        if (!outcome.model.model.empty()) {
            result["provider"] = outcome.model.provider;
            result["model"] = outcome.model.model;
        }
        result["usage"] = json::object{{"input", outcome.usage.input},
                                       {"output", outcome.usage.output},
                                       {"cacheRead", outcome.usage.cache_read},
                                       {"cacheWrite", outcome.usage.cache_write}};
        auto self = shared_from_this();
        queue_->push([&deps, self, session_id, partial_msg, status, outcome, dedupe_key, cached, session_patch, result,
                      now, aborted] {
            if (partial_msg) {
                storage::TranscriptEntry e;
                e.payload = json::serialize(*partial_msg);
                e.ts_ms = now;
                deps.transcripts.append(session_id, {std::move(e)});
            }
            std::optional<std::string_view> err;
            if (!outcome.error_message.empty()) err = outcome.error_message;
            deps.runs.finish(self->run_id_, status, outcome.ended_at_ms, outcome.stop_reason, err,
                             json::serialize(result));
            if (aborted) {
                deps.idempotency.remove(dedupe_key);
            } else {
                deps.idempotency.put({dedupe_key, json::serialize(cached), std::string(cached.at("status").as_string()),
                                      now + kDedupeWindowMs});
            }
            auto entry = deps.sessions.patch(self->session_key_, session_patch, now);
            deps.gateway.loop().post([self, outcome, entry] { self->announce_end(outcome, entry); });
        });
    }

    const std::string& run_id() const { return run_id_; }

private:
    struct PartialSlot {
        std::mutex mutex;
        std::string text;
        bool queued = false;
    };

    void agent_event(std::string_view stream, json::object data, bool droppable = false, bool tool_event = false) {
        json::object payload{{"runId", run_id_},           {"seq", ++seq_},           {"stream", stream},
                             {"ts", gw_.clock().now_ms()}, {"data", std::move(data)}, {"sessionKey", session_key_}};
        dispatch::BroadcastOptions opts;
        opts.drop_if_slow = droppable;
        if (tool_event) {
            opts.filter = [](const dispatch::ConnState& c) {
                return std::find(c.caps.begin(), c.caps.end(), "tool-events") != c.caps.end();
            };
        }
        gw_.broadcaster().broadcast("agent", payload, opts);
    }

    json::object chat_payload(std::string_view state) const {
        return json::object{{"runId", run_id_}, {"sessionKey", session_key_}, {"seq", seq_}, {"state", state}};
    }

    /// The same chat event in both protocol shapes: v4 clients also get `v4_extra`'s members.
    void chat_event(json::object payload, const json::object& v4_extra, bool droppable) {
        auto& b = gw_.broadcaster();
        dispatch::BroadcastOptions v3;
        v3.drop_if_slow = droppable;
        if (v4_extra.empty()) {
            b.broadcast("chat", payload, v3);
            return;
        }
        v3.filter = [](const dispatch::ConnState& c) { return c.protocol < 4; };
        b.broadcast("chat", payload, v3);
        for (const auto& kv : v4_extra) payload[kv.key()] = kv.value();
        dispatch::BroadcastOptions v4;
        v4.drop_if_slow = droppable;
        v4.filter = [](const dispatch::ConnState& c) { return c.protocol >= 4; };
        b.broadcast("chat", payload, v4);
    }

    /// One `agent` stream (assistant or thinking) with the deltas not yet sent.
    struct StreamBuffer {
        explicit StreamBuffer(std::string_view stream) : name(stream) {}
        std::string_view name;
        std::string text;
        std::string delta;
        bool replace = false;
        bool pending = false;
    };

    void stream_delta(StreamBuffer& s, const std::string& text, std::string_view delta, bool replace) {
        if (replace) {
            s.replace = true;
            s.delta = text;  // after a reset the client's buffer is exactly the new text
        } else {
            s.delta += delta;
        }
        s.text = text;
        s.pending = true;
        const int64_t now = gw_.clock().now_ms();
        if (now - last_stream_ms_ >= kAgentStreamIntervalMs) {
            flush_streams();
        } else if (!stream_flush_scheduled_) {
            stream_flush_scheduled_ = true;
            std::weak_ptr<Observer> weak = shared_from_this();
            gw_.loop().post_after(kAgentStreamIntervalMs - (now - last_stream_ms_), [weak] {
                if (auto self = weak.lock()) {
                    self->stream_flush_scheduled_ = false;
                    if (!self->ended_) self->flush_streams();
                }
            });
        }
    }

    void flush_streams() {
        for (StreamBuffer* s : {&thinking_, &assistant_}) {
            if (!s->pending) continue;
            json::object data{{"text", s->text}, {"delta", s->delta}};
            if (s->replace) data["replace"] = true;
            agent_event(s->name, std::move(data), /*droppable=*/true);
            s->delta.clear();
            s->replace = false;
            s->pending = false;
        }
        last_stream_ms_ = gw_.clock().now_ms();
    }

    void emit_chat_delta() {
        if (text_ == sent_text_) return;
        // The agent stream never lags behind the chat delta that repeats its text.
        flush_streams();
        const bool replace = text_.compare(0, sent_text_.size(), sent_text_) != 0;
        const int64_t now = gw_.clock().now_ms();
        json::object payload = chat_payload("delta");
        payload["message"] = assistant_text_message(text_, now);
        json::object v4{{"deltaText", replace ? text_ : text_.substr(sent_text_.size())}};
        if (replace) v4["replace"] = true;
        chat_event(std::move(payload), v4, /*droppable=*/true);
        sent_text_ = text_;
        last_delta_ms_ = now;
        save_partial(now);
    }

    void flush_delta() {
        if (text_ != sent_text_) emit_chat_delta();
    }

    /// Keeps the streamed text in the runs table (coalesced) so a crash keeps it.
    void save_partial(int64_t now) {
        if (now - last_partial_save_ms_ < kPartialSaveIntervalMs) return;
        last_partial_save_ms_ = now;
        {
            std::lock_guard lock(partial_->mutex);
            partial_->text = text_;
            if (partial_->queued) return;
            partial_->queued = true;
        }
        auto& runs = rt_.deps_.runs;
        queue_->push([&runs, slot = partial_, id = run_id_] {
            std::string text;
            {
                std::lock_guard lock(slot->mutex);
                text = std::move(slot->text);
                slot->queued = false;
            }
            runs.save_partial(id, text);
        });
    }

    void append(json::object message, std::optional<storage::UsageRecord> usage) {
        auto& deps = rt_.deps_;
        storage::TranscriptEntry e;
        e.ts_ms = gw_.clock().now_ms();
        e.payload = json::serialize(message);
        queue_->push([&deps, session_id = prepared_->session_id, e = std::move(e), usage = std::move(usage)]() mutable {
            deps.transcripts.append(session_id, {std::move(e)});
            if (usage) deps.usage.record(*usage);
        });
    }

    void announce_end(const runtime::RunOutcome& o, const std::optional<storage::SessionEntry>& entry) {
        const int64_t now = gw_.clock().now_ms();
        json::object chat;
        switch (o.status) {
            case runtime::RunStatus::ok: {
                agent_event("lifecycle", json::object{{"phase", "end"},
                                                      {"startedAt", o.started_at_ms},
                                                      {"endedAt", o.ended_at_ms},
                                                      {"stopReason", o.stop_reason}});
                chat = chat_payload("final");
                if (!o.final_text.empty()) chat["message"] = assistant_text_message(o.final_text, now);
                chat["stopReason"] = o.stop_reason;
                break;
            }
            case runtime::RunStatus::aborted: {
                agent_event("lifecycle", json::object{{"phase", "end"},
                                                      {"status", "cancelled"},
                                                      {"aborted", true},
                                                      {"stopReason", o.stop_reason},
                                                      {"startedAt", o.started_at_ms},
                                                      {"endedAt", o.ended_at_ms}});
                chat = chat_payload("aborted");
                chat["stopReason"] = o.stop_reason;
                if (!o.partial_text.empty()) chat["message"] = assistant_text_message(o.partial_text, now);
                break;
            }
            case runtime::RunStatus::timeout:
            case runtime::RunStatus::error: {
                agent_event("lifecycle", json::object{{"phase", "error"},
                                                      {"error", o.error_message},
                                                      {"startedAt", o.started_at_ms},
                                                      {"endedAt", o.ended_at_ms}});
                chat = chat_payload("error");
                chat["errorMessage"] = o.error_message;
                chat["errorKind"] = o.error_kind.empty() ? "unknown" : o.error_kind;
                break;
            }
        }
        chat_event(std::move(chat), {}, false);
        json::object changed = session_changed_event(session_key_, "send", now, entry ? &*entry : nullptr);
        changed["phase"] = o.status == runtime::RunStatus::ok ? "end" : "error";
        changed["runId"] = run_id_;
        broadcast_sessions_changed(gw_, changed);
        RunSummary summary{run_id_, session_key_, prepared_->session_id, o};
        if (on_end_) on_end_(summary);
        rt_.run_finished(run_id_, summary);
    }

    ChatRuntime& rt_;
    dispatch::Gateway& gw_;
    std::shared_ptr<PreparedRun> prepared_;
    std::string run_id_;
    std::string session_key_;
    std::function<void(const RunSummary&)> on_end_;
    std::shared_ptr<SerialWork> queue_;
    std::shared_ptr<PartialSlot> partial_;
    int64_t seq_ = 0;
    int64_t started_at_ = 0;
    std::string text_;       // visible text of the current message
    std::string sent_text_;  // what the last chat delta carried
    int64_t last_delta_ms_ = INT64_MIN / 2;
    int64_t last_partial_save_ms_ = INT64_MIN / 2;
    bool flush_scheduled_ = false;
    StreamBuffer assistant_{"assistant"};
    StreamBuffer thinking_{"thinking"};
    int64_t last_stream_ms_ = INT64_MIN / 2;
    bool stream_flush_scheduled_ = false;
    bool ended_ = false;
    double cost_total_ = 0;
};

// ---------------------------------------------------------------------------------------------

ChatRuntime::ChatRuntime(ChatDeps deps) : deps_(std::move(deps)), tools_(runtime::make_builtin_tools()) {}

ChatRuntime::~ChatRuntime() = default;

void ChatRuntime::launch(std::shared_ptr<PreparedRun> prepared, std::function<void(const RunSummary&)> on_end) {
    auto active = std::make_shared<ActiveRun>();
    active->session_key = prepared->request.session_key;
    active->started_by = prepared->request.started_by;
    active->observer = std::make_shared<Observer>(*this, prepared, std::move(on_end));
    const std::string run_id = prepared->request.run_id;
    active_[run_id] = active;
    auto& gw = deps_.gateway;
    const int64_t now = gw.clock().now_ms();
    active->observer->started(prepared->spec.started_at_ms ? prepared->spec.started_at_ms : now);
    if (!prepared->problem.empty()) {
        runtime::RunOutcome out;
        out.status = runtime::RunStatus::error;
        out.stop_reason = "error";
        out.error_message = prepared->problem;
        out.error_kind = "unknown";
        out.started_at_ms = prepared->spec.started_at_ms ? prepared->spec.started_at_ms : now;
        out.ended_at_ms = now;
        json::object msg{{"role", "assistant"},   {"content", json::array{}},
                         {"stopReason", "error"}, {"errorMessage", prepared->problem},
                         {"timestamp", now},      {"usage", json::object{}}};
        active->observer->on_assistant_message(std::move(msg), {}, {});
        active->observer->on_end(out);
        return;
    }
    runtime::RunExecutor ex{
        [&gw](std::function<void()> fn) { gw.loop().post(std::move(fn)); },
        [&gw](std::function<void()> fn) { gw.loop().post_blocking(std::move(fn)); },
        [&gw](int64_t delay, std::function<void()> fn) { gw.loop().post_after(delay, std::move(fn)); },
        [&gw](int64_t delay, std::function<void()> fn) {
            return gw.loop().post_after_cancellable(delay, std::move(fn));
        },
        [&gw] { return gw.clock().now_ms(); },
    };
    active->run = runtime::AgentRun::start(std::move(ex), deps_.fetcher, *tools_, prepared->spec, active->observer);
}

std::vector<std::string> ChatRuntime::active_runs(const std::string& session_key) const {
    std::vector<std::string> out;
    for (const auto& [id, run] : active_)
        if (run->session_key == session_key) out.push_back(id);
    std::sort(out.begin(), out.end());
    return out;
}

std::optional<std::string> ChatRuntime::session_of(const std::string& run_id) const {
    auto it = active_.find(run_id);
    if (it == active_.end()) return std::nullopt;
    return it->second->session_key;
}

std::vector<std::string> ChatRuntime::abort(const std::vector<std::string>& run_ids, const std::string& stop_reason) {
    std::vector<std::string> aborted;
    for (const auto& id : run_ids) {
        auto it = active_.find(id);
        if (it == active_.end() || !it->second->run || it->second->run->ended()) continue;
        auto run = it->second->run;  // abort() may end the run and erase it later
        run->abort(stop_reason);
        aborted.push_back(id);
    }
    return aborted;
}

void ChatRuntime::abort_all(const std::string& stop_reason) {
    std::vector<std::string> ids;
    for (const auto& [id, run] : active_) ids.push_back(id);
    abort(ids, stop_reason);
}

uint64_t ChatRuntime::on_run_end(const std::string& run_id, std::function<void(const RunSummary&)> fn) {
    const uint64_t token = next_wait_token_++;
    end_waiters_[run_id].emplace_back(token, std::move(fn));
    return token;
}

void ChatRuntime::cancel_wait(const std::string& run_id, uint64_t token) {
    auto it = end_waiters_.find(run_id);
    if (it == end_waiters_.end()) return;
    std::erase_if(it->second, [token](const auto& w) { return w.first == token; });
    if (it->second.empty()) end_waiters_.erase(it);
}

void ChatRuntime::run_finished(const std::string& run_id, const RunSummary& summary) {
    active_.erase(run_id);
    auto it = end_waiters_.find(run_id);
    if (it == end_waiters_.end()) return;
    auto waiters = std::move(it->second);
    end_waiters_.erase(it);
    for (auto& w : waiters) w.second(summary);
}

// ---------------------------------------------------------------------------------------------

}  // namespace pincer::methods
