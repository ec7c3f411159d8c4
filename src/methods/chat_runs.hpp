#pragma once
/// The gateway side of agent runs: preparing a run (session, transcript, prompt, model chain),
/// launching it on the runtime, turning what it does into `chat`/`agent`/`sessions.changed`
/// events, persisting its messages and usage in order, aborts, `agent.wait`, and closing runs a
/// crash interrupted. Shared by chat.send, agent and (later) cron and channels.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/http_fetch.hpp"
#include "core/json.hpp"
#include "dispatch/gateway.hpp"
#include "methods/config.hpp"
#include "runtime/agent_loop.hpp"
#include "runtime/model_resolve.hpp"
#include "runtime/tools.hpp"
#include "storage/idempotency_repo.hpp"
#include "storage/runs_repo.hpp"
#include "storage/sessions_repo.hpp"
#include "storage/system_events.hpp"
#include "storage/transcripts_repo.hpp"
#include "storage/usage_repo.hpp"

namespace pincer::methods {

struct ChatDeps {
    dispatch::Gateway& gateway;
    ConfigService& config;
    storage::SessionsRepo& sessions;
    storage::TranscriptsRepo& transcripts;
    storage::UsageRepo& usage;
    storage::IdempotencyRepo& idempotency;
    storage::RunsRepo& runs;
    storage::SystemEventStore& system_events;
    core::HttpFetcher& fetcher;
    std::filesystem::path state_dir;
    runtime::EnvLookup env;
};

/// A validated request to run the agent on a session.
struct RunRequest {
    std::string kind = "chat";  // dedupe namespace: "chat" (chat.send) or "agent"
    std::string run_id;         // the idempotency key
    std::string session_key;    // canonical
    std::string agent_id;       // "" = the session key's agent
    std::string session_id;     // transcript id for a session that does not exist yet ("" = new uuid)
    std::string message;
    json::array images;  // pi-ai image blocks {type:"image", data, mimeType}
    std::string thinking;
    std::optional<int64_t> timeout_ms;
    std::optional<std::string> label;  // `agent`: sets the session label
    std::string started_by;            // connection id of the caller
};

/// A run ready to launch: what prepare() found and built.
struct PreparedRun {
    RunRequest request;
    std::string session_id;
    runtime::AgentRunSpec spec;
    json::value config;   // the config the run started with (prices)
    std::string problem;  // non-empty: no usable model; the run ends with this error at once
};

/// `{role:"assistant", content:[{type:"text", text}], timestamp}`.
json::object assistant_text_message(const std::string& text, int64_t ts);

/// What preparing a run found: a duplicate of an earlier request (answer `duplicate`), or a run
/// ready to launch.
struct PrepareResult {
    std::optional<json::object> duplicate;
    std::string duplicate_status;  // in_flight | ok | error | timeout
    std::shared_ptr<PreparedRun> run;
};

/// How a run ended, for the `agent` method's final response and agent.wait.
struct RunSummary {
    std::string run_id;
    std::string session_key;
    std::string session_id;
    runtime::RunOutcome outcome;
};

class ChatRuntime {
public:
    explicit ChatRuntime(ChatDeps deps);
    ~ChatRuntime();

    /// Blocking, at start-up before serving: runs a crash left `running` are closed as aborted,
    /// their saved partial text appended to the transcript. Returns how many.
    size_t recover_interrupted();

    /// Blocking (pool): claims the idempotency key, creates the session if needed, appends the
    /// user turn durably, loads history, builds the system prompt and resolves the model chain.
    /// Throws core::RpcException for requests the reference refuses.
    PrepareResult prepare(const RunRequest& request);
    /// Network thread: starts a prepared run (events follow). `on_end` runs once it ended and
    /// everything it wrote is durable.
    void launch(std::shared_ptr<PreparedRun> run, std::function<void(const RunSummary&)> on_end = {});

    /// Network thread. Active run ids of a session, oldest first.
    std::vector<std::string> active_runs(const std::string& session_key) const;
    /// The session of an active run; nullopt when the run is not active.
    std::optional<std::string> session_of(const std::string& run_id) const;
    /// Aborts the given runs (those still active); returns the ids actually aborted.
    std::vector<std::string> abort(const std::vector<std::string>& run_ids, const std::string& stop_reason);
    /// Aborts every active run (gateway shutdown).
    void abort_all(const std::string& stop_reason);
    /// Calls `fn` once when a run with this id ends (also one that has not started yet); returns a
    /// token for cancel_wait. Network thread.
    uint64_t on_run_end(const std::string& run_id, std::function<void(const RunSummary&)> fn);
    void cancel_wait(const std::string& run_id, uint64_t token);
    bool is_active(const std::string& run_id) const { return active_.contains(run_id); }

    const ChatDeps& deps() const { return deps_; }
    /// The gateway's built-in tools (read, write, edit).
    const runtime::ToolRegistry& tools() const { return *tools_; }

private:
    class Observer;
    struct ActiveRun;
    void run_finished(const std::string& run_id, const RunSummary& summary);

    ChatDeps deps_;
    std::unique_ptr<runtime::ToolRegistry> tools_;
    std::unordered_map<std::string, std::shared_ptr<ActiveRun>> active_;
    std::unordered_map<std::string, std::vector<std::pair<uint64_t, std::function<void(const RunSummary&)>>>>
        end_waiters_;
    uint64_t next_wait_token_ = 1;
};

/// The stop phrases that turn a chat.send into an abort (`/stop`, `stop`, `abort`, ...; case and
/// trailing punctuation ignored).
bool is_stop_phrase(std::string_view message);

/// pi-ai messages for the model from transcript entries: message entries with role user,
/// assistant or toolResult, starting after the last compaction (whose summary becomes a user
/// message), without dangling tool results or failed empty assistant turns.
json::array model_history(const std::vector<storage::TranscriptEntry>& entries);

}  // namespace pincer::methods
