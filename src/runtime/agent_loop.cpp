#include "runtime/agent_loop.hpp"

#include <boost/json/parse.hpp>
#include <utility>

namespace pincer::runtime {

std::string_view to_string(RunStatus s) {
    switch (s) {
        case RunStatus::ok:
            return "ok";
        case RunStatus::error:
            return "error";
        case RunStatus::aborted:
            return "aborted";
        case RunStatus::timeout:
            return "timeout";
    }
    return "error";
}

namespace {

/// A failed call may move on to the next model only when nothing reached the user yet and the
/// failure is about this provider (key, quota, outage), not about the conversation itself.
bool may_fall_back(const CallOutcome& out) {
    if (out.streamed) return false;
    switch (out.error) {
        case CallError::auth:
        case CallError::rate_limit:
        case CallError::server:
        case CallError::network:
        case CallError::timeout:
        case CallError::stream:
            return true;
        default:
            return false;
    }
}

std::string error_kind(CallError e) {
    switch (e) {
        case CallError::rate_limit:
            return "rate_limit";
        case CallError::timeout:
            return "timeout";
        case CallError::context_length:
            return "context_length";
        default:
            return "unknown";
    }
}

json::object usage_json(const AssistantTurn& t) {
    return json::object{{"input", t.input_tokens},
                        {"output", t.output_tokens},
                        {"cacheRead", t.cache_read},
                        {"cacheWrite", t.cache_write},
                        {"totalTokens", t.input_tokens + t.output_tokens + t.cache_read + t.cache_write}};
}

class AgentRunImpl final : public AgentRun {
public:
    AgentRunImpl(RunExecutor ex, core::HttpFetcher& fetcher, const ToolRegistry& tools, AgentRunSpec spec,
                 std::shared_ptr<RunObserver> observer)
        : ex_(std::move(ex)),
          fetcher_(fetcher),
          tools_(tools),
          spec_(std::move(spec)),
          observer_(std::move(observer)),
          cancelled_(std::make_shared<std::atomic<bool>>(false)) {}

    void begin() {
        outcome_.started_at_ms = spec_.started_at_ms ? spec_.started_at_ms : ex_.now_ms();
        if (spec_.timeout_ms > 0) {
            std::weak_ptr<AgentRunImpl> weak = self();
            auto on_fire = [weak] {
                if (auto run = weak.lock()) run->on_timeout();
            };
            if (ex_.schedule_cancellable) {
                cancel_timeout_ = ex_.schedule_cancellable(spec_.timeout_ms, std::move(on_fire));
            } else {
                ex_.schedule(spec_.timeout_ms, std::move(on_fire));
            }
        }
        call_model();
    }

    void abort(std::string stop_reason) override {
        if (ended_) return;
        stop(RunStatus::aborted, std::move(stop_reason), {});
    }

    bool ended() const override { return ended_; }

private:
    std::shared_ptr<AgentRunImpl> self() { return std::static_pointer_cast<AgentRunImpl>(shared_from_this()); }

    void on_timeout() {
        if (ended_) return;
        stop(RunStatus::timeout, "timeout",
             "The agent run timed out after " + std::to_string(spec_.timeout_ms / 1000) +
                 " s (agents.defaults.timeoutSeconds, or timeoutMs on the request)");
    }

    /// Ends the run from outside the model/tool flow (abort, timeout): whatever is in flight is
    /// cancelled and its late completion ignored.
    void stop(RunStatus status, std::string stop_reason, std::string message) {
        cancelled_->store(true);
        outcome_.partial_text = current_text_;
        outcome_.error_message = std::move(message);
        if (status == RunStatus::timeout) outcome_.error_kind = "timeout";
        finish(status, std::move(stop_reason));
        // cancel() reports back through on_call_done, which resets call_: keep the call alive here.
        if (auto call = std::move(call_)) call->cancel();
    }

    void finish(RunStatus status, std::string stop_reason) {
        if (ended_) return;
        ended_ = true;
        // The pending timeout would keep this run's memory until it fires (10 minutes by default).
        if (cancel_timeout_) std::exchange(cancel_timeout_, nullptr)();
        outcome_.status = status;
        outcome_.stop_reason = std::move(stop_reason);
        outcome_.ended_at_ms = ex_.now_ms();
        observer_->on_end(outcome_);
    }

    void call_model() {
        if (ended_) return;
        if (outcome_.steps >= spec_.max_steps) {
            outcome_.error_message = "The agent stopped after " + std::to_string(spec_.max_steps) +
                                     " model calls without finishing (gateway.limits.agentMaxSteps)";
            outcome_.error_kind = "unknown";
            finish(RunStatus::error, "error");
            return;
        }
        ++outcome_.steps;
        const ModelRef& model = spec_.models[model_index_];
        outcome_.model = model;
        ModelRequest req{model, spec_.system_prompt, spec_.messages, tools_.specs(), spec_.thinking};
        current_text_.clear();
        current_thinking_.clear();
        auto weak = std::weak_ptr<AgentRunImpl>(self());
        call_ = ModelCall::start(
            fetcher_, ex_.schedule, std::move(req), spec_.policy,
            [weak](const StreamDelta& d) {
                if (auto run = weak.lock()) run->on_delta(d);
            },
            [weak](CallOutcome out) {
                if (auto run = weak.lock()) run->on_call_done(std::move(out));
            });
    }

    void on_delta(const StreamDelta& d) {
        if (ended_) return;
        if (d.kind == StreamDelta::Kind::text) {
            if (d.text.empty()) return;
            // The first text of a later message does not extend what clients show: they replace it.
            bool replace = current_text_.empty() && !shown_text_.empty();
            current_text_ += d.text;
            shown_text_ = current_text_;
            observer_->on_text(current_text_, d.text, replace);
        } else if (d.kind == StreamDelta::Kind::thinking) {
            if (d.text.empty()) return;
            current_thinking_ += d.text;
            observer_->on_thinking(current_thinking_, d.text);
        }
    }

    json::object assistant_message(const AssistantTurn& turn, const ModelRef& model) {
        json::array content;
        if (!turn.thinking.empty()) {
            json::object block{{"type", "thinking"}, {"thinking", turn.thinking}};
            if (!turn.thinking_signature.empty()) block["thinkingSignature"] = turn.thinking_signature;
            content.push_back(std::move(block));
        }
        if (!turn.text.empty()) content.push_back(json::object{{"type", "text"}, {"text", turn.text}});
        for (const auto& call : turn.tool_calls) {
            json::value args = json::object{};
            if (!call.arguments_json.empty()) {
                boost::system::error_code ec;
                auto parsed = json::parse(call.arguments_json, ec);
                // Keep broken arguments visible as text so the history shows what the model sent.
                args = (ec || core::has_non_finite(parsed)) ? json::value(json::object{{"_raw", call.arguments_json}})
                                                            : std::move(parsed);
            }
            content.push_back(json::object{
                {"type", "toolCall"}, {"id", call.id}, {"name", call.name}, {"arguments", std::move(args)}});
        }
        json::object msg{{"role", "assistant"},
                         {"content", std::move(content)},
                         {"api", model.api},
                         {"provider", model.provider},
                         {"model", model.model},
                         {"usage", usage_json(turn)},
                         {"stopReason", turn.stop_reason.empty() ? "stop" : turn.stop_reason},
                         {"timestamp", ex_.now_ms()}};
        return msg;
    }

    void add_usage(const AssistantTurn& t) {
        outcome_.usage.input += t.input_tokens;
        outcome_.usage.output += t.output_tokens;
        outcome_.usage.cache_read += t.cache_read;
        outcome_.usage.cache_write += t.cache_write;
    }

    void on_call_done(CallOutcome out) {
        call_.reset();
        if (ended_) return;
        const ModelRef model = spec_.models[model_index_];
        if (out.error != CallError::none) {
            if (may_fall_back(out) && model_index_ + 1 < spec_.models.size()) {
                ++model_index_;
                --outcome_.steps;  // the failed attempt produced nothing; it does not use a step
                observer_->on_fallback(model, spec_.models[model_index_], out.message);
                call_model();
                return;
            }
            add_usage(out.turn);
            auto msg = assistant_message(out.turn, model);
            msg["stopReason"] = "error";
            msg["errorMessage"] = out.message;
            observer_->on_assistant_message(std::move(msg), model, out.turn);
            outcome_.partial_text = out.turn.text;
            outcome_.error_message = out.message;
            outcome_.error_kind = error_kind(out.error);
            finish(RunStatus::error, "error");
            return;
        }
        add_usage(out.turn);
        AssistantTurn& turn = out.turn;
        for (size_t i = 0; i < turn.tool_calls.size(); ++i) {
            // Some compatible servers omit ids; the model needs one to match results to calls.
            if (turn.tool_calls[i].id.empty()) {
                turn.tool_calls[i].id = "call_" + std::to_string(outcome_.steps) + "_" + std::to_string(i);
            }
        }
        auto msg = assistant_message(turn, model);
        spec_.messages.push_back(msg);
        if (!turn.text.empty()) outcome_.final_text = turn.text;
        observer_->on_assistant_message(std::move(msg), model, turn);
        if (ended_) return;
        if (!turn.tool_calls.empty() && turn.stop_reason != "length") {
            pending_calls_ = std::move(turn.tool_calls);
            next_tool_ = 0;
            run_next_tool();
            return;
        }
        finish(RunStatus::ok, turn.stop_reason.empty() ? "stop" : turn.stop_reason);
    }

    void run_next_tool() {
        if (ended_) return;
        if (next_tool_ >= pending_calls_.size()) {
            pending_calls_.clear();
            call_model();
            return;
        }
        const auto& call = pending_calls_[next_tool_];
        json::value args = json::object{};
        std::string arg_error;
        if (!call.arguments_json.empty()) {
            boost::system::error_code ec;
            args = json::parse(call.arguments_json, ec);
            if (ec || !args.is_object() || core::has_non_finite(args)) {
                arg_error = "Invalid arguments for tool " + call.name +
                            ": expected a JSON object, got: " + call.arguments_json.substr(0, 200);
                args = json::object{};
            }
        }
        observer_->on_tool_start(call, args);
        auto weak = std::weak_ptr<AgentRunImpl>(self());
        auto deliver = [weak, post = ex_.post](ToolResult result) {
            post([weak, result = std::move(result)]() mutable {
                if (auto run = weak.lock()) run->on_tool_done(std::move(result));
            });
        };
        Tool* tool = tools_.find(call.name);
        if (!arg_error.empty() || tool == nullptr) {
            ToolResult r;
            r.is_error = true;
            r.text = tool == nullptr ? "Tool " + call.name + " not found" : arg_error;
            deliver(std::move(r));
            return;
        }
        ToolContext ctx{spec_.workspace, spec_.agent_id, spec_.session_key, spec_.run_id, call.id, cancelled_};
        if (tool->blocking()) {
            ex_.post_blocking([tool, args = args.as_object(), ctx = std::move(ctx), deliver]() mutable {
                tool->invoke(args, ctx, deliver);
            });
        } else {
            tool->invoke(args.as_object(), ctx, deliver);
        }
    }

    void on_tool_done(ToolResult result) {
        if (ended_) return;
        const auto& call = pending_calls_[next_tool_];
        json::object msg{{"role", "toolResult"},
                         {"toolCallId", call.id},
                         {"toolName", call.name},
                         {"content", json::array{json::object{{"type", "text"}, {"text", result.text}}}},
                         {"isError", result.is_error},
                         {"timestamp", ex_.now_ms()}};
        spec_.messages.push_back(msg);
        observer_->on_tool_result(call, result, std::move(msg));
        ++next_tool_;
        run_next_tool();
    }

    RunExecutor ex_;
    core::HttpFetcher& fetcher_;
    const ToolRegistry& tools_;
    AgentRunSpec spec_;
    std::shared_ptr<RunObserver> observer_;
    std::shared_ptr<std::atomic<bool>> cancelled_;
    std::shared_ptr<ModelCall> call_;
    size_t model_index_ = 0;
    std::vector<AssistantTurn::ToolCall> pending_calls_;
    size_t next_tool_ = 0;
    std::string current_text_;  // visible text of the message being streamed
    std::string shown_text_;    // what on_text last reported (across messages)
    std::string current_thinking_;
    RunOutcome outcome_;
    std::function<void()> cancel_timeout_;
    bool ended_ = false;
};

}  // namespace

std::shared_ptr<AgentRun> AgentRun::start(RunExecutor executor, core::HttpFetcher& fetcher, const ToolRegistry& tools,
                                          AgentRunSpec spec, std::shared_ptr<RunObserver> observer) {
    auto run =
        std::make_shared<AgentRunImpl>(std::move(executor), fetcher, tools, std::move(spec), std::move(observer));
    run->begin();
    return run;
}

}  // namespace pincer::runtime
