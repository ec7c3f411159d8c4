#pragma once
/// One agent run: model → tools → model until the model stops, a step limit, an abort or a
/// timeout. Streams what happens to a RunObserver (which turns it into `chat`/`agent` events and
/// persists messages) and falls back to the next model of the chain when a call fails before any
/// output. Lives on the network thread; blocking tools run on the pool.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/http_fetch.hpp"
#include "core/json.hpp"
#include "runtime/model_call.hpp"
#include "runtime/tools.hpp"

namespace pincer::runtime {

struct RunExecutor {
    std::function<void(std::function<void()>)> post;           // onto the network thread
    std::function<void(std::function<void()>)> post_blocking;  // onto the blocking pool
    Scheduler schedule;                                        // network thread, after a delay
    /// As schedule, returning a canceller (the run's timeout timer is cancelled when it ends).
    std::function<std::function<void()>(int64_t, std::function<void()>)> schedule_cancellable;
    std::function<int64_t()> now_ms;
};

struct AgentRunSpec {
    std::string run_id;
    std::string session_key;
    std::string agent_id;
    std::vector<ModelRef> models;  // primary first, then fallbacks; must not be empty
    std::string system_prompt;
    json::array messages;  // pi-ai history, ending with the new user turn
    std::string thinking;
    std::filesystem::path workspace;
    int max_steps = 32;         // model calls per run
    int64_t timeout_ms = 0;     // 0 = no run timeout
    int64_t started_at_ms = 0;  // when the run was accepted (0 = when start() is called)
    CallPolicy policy;
};

enum class RunStatus { ok, error, aborted, timeout };
std::string_view to_string(RunStatus s);

struct RunUsage {
    int64_t input = 0, output = 0, cache_read = 0, cache_write = 0;
};

struct RunOutcome {
    RunStatus status = RunStatus::ok;
    /// ok: the model's ("stop", "length"); aborted: who stopped it ("rpc", "stop", ...);
    /// timeout: "timeout"; error: "error".
    std::string stop_reason;
    std::string error_message;  // error/timeout: for the user, names the provider
    /// `chat` errorKind: refusal | timeout | rate_limit | context_length | unknown.
    std::string error_kind;
    std::string final_text;    // visible text of the last assistant message with text
    std::string partial_text;  // aborted/timeout/error: text of the message being streamed
    ModelRef model;            // the model that answered (or failed) last
    RunUsage usage;            // summed over the run's model calls
    int steps = 0;
    int64_t started_at_ms = 0, ended_at_ms = 0;
};

/// Callbacks, all on the network thread, in run order.
class RunObserver {
public:
    virtual ~RunObserver() = default;
    /// Visible text of the assistant message being streamed. `replace` is true when `text` does not
    /// extend the text reported before (a new assistant message after tools).
    virtual void on_text(const std::string& text, std::string_view delta, bool replace) = 0;
    virtual void on_thinking(const std::string& text, std::string_view delta) = 0;
    virtual void on_fallback(const ModelRef& from, const ModelRef& to, const std::string& reason) = 0;
    /// A finished assistant message (pi-ai JSON without usage.cost) to persist, with the model
    /// that wrote it and the call's token counts.
    virtual void on_assistant_message(json::object message, const ModelRef& model, const AssistantTurn& turn) = 0;
    virtual void on_tool_start(const AssistantTurn::ToolCall& call, const json::value& args) = 0;
    /// A tool finished; `message` is the toolResult pi-ai message to persist.
    virtual void on_tool_result(const AssistantTurn::ToolCall& call, const ToolResult& result,
                                json::object message) = 0;
    /// Exactly once, last.
    virtual void on_end(const RunOutcome& outcome) = 0;
};

class AgentRun : public std::enable_shared_from_this<AgentRun> {
public:
    /// Starts the first model call. `tools` and `fetcher` must outlive the run.
    static std::shared_ptr<AgentRun> start(RunExecutor executor, core::HttpFetcher& fetcher, const ToolRegistry& tools,
                                           AgentRunSpec spec, std::shared_ptr<RunObserver> observer);
    /// Stops the run (model call cancelled, tools told to stop); on_end reports `aborted` with
    /// `stop_reason` and the partial text. No-op once ended.
    virtual void abort(std::string stop_reason) = 0;
    virtual bool ended() const = 0;
    virtual ~AgentRun() = default;
};

}  // namespace pincer::runtime
