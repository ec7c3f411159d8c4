#pragma once
/// One streamed model call: the provider request built from a provider-neutral conversation
/// (pi-ai transcript messages, as OpenClaw stores them), sent over core::HttpFetcher, retried with
/// backoff on 429/5xx/connect failures (honouring `retry-after`) until the body starts, then
/// decoded into StreamDelta callbacks. Runs on the network thread; cancellable at any moment.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/http_fetch.hpp"
#include "core/json.hpp"
#include "runtime/provider_stream.hpp"

namespace pincer::runtime {

/// The wire format of a provider, with OpenClaw's config names.
inline constexpr std::string_view kApiOpenAiCompletions = "openai-completions";
inline constexpr std::string_view kApiAnthropicMessages = "anthropic-messages";

/// A model ready to call: everything the request needs, resolved from the config and environment.
struct ModelRef {
    std::string provider;        // config id, e.g. "openai", "anthropic", "ollama"
    std::string model;           // the provider's model id, e.g. "gpt-4o-mini"
    std::string api;             // kApiOpenAiCompletions | kApiAnthropicMessages
    std::string base_url;        // without a trailing slash, e.g. "https://api.openai.com/v1"
    std::string api_key;         // "" for keyless local servers (Ollama, LM Studio)
    core::HttpHeaders headers;   // extra headers from models.providers.<id>.headers
    int64_t max_tokens = 8192;   // output cap sent with the request
    int64_t context_window = 0;  // 0 = unknown
    bool supports_images = false;
    bool reasoning = false;
    /// "provider/model", for messages and events.
    std::string label() const { return provider + "/" + model; }
};

/// A tool as the model sees it (function calling).
struct ToolSpec {
    std::string name;
    std::string description;
    json::object parameters;  // JSON Schema of the arguments object
};

struct ModelRequest {
    ModelRef model;
    std::string system_prompt;
    /// pi-ai messages, oldest first: `{role:"user", content: string | [{type:"text",text} |
    /// {type:"image", data:<base64>, mimeType}], timestamp}`, `{role:"assistant", content:
    /// [{type:"text",text} | {type:"thinking",thinking,thinkingSignature?} | {type:"toolCall",
    /// id,name,arguments:{...}}], ...}`, `{role:"toolResult", toolCallId, toolName, content:
    /// [{type:"text",text}], isError}`. Other roles and unknown block types are skipped.
    json::array messages;
    std::vector<ToolSpec> tools;
    /// OpenClaw thinking level: "" or "off" (none), "minimal", "low", "medium", "high", "xhigh".
    std::string thinking;
};

/// Timeouts and retries of one call.
struct CallPolicy {
    int64_t connect_timeout_ms = 10'000;
    /// Longest silence between two reads of the stream; a stalled provider ends with `timeout`.
    int64_t idle_timeout_ms = 60'000;
    /// Attempts in total (1 = no retry). Retries only happen before any delta was delivered.
    int max_attempts = 3;
    int64_t base_backoff_ms = 1'000;  // doubled each retry, with jitter
    int64_t max_backoff_ms = 30'000;  // also caps a server's `retry-after`
};

/// Builds the HTTP request for `req` (URL, headers incl. auth, JSON body with `stream: true`).
/// Pure. OpenAI: POST {base}/chat/completions, `Authorization: Bearer`, messages with a system
/// message first, `tools` as functions, `stream_options.include_usage`, `reasoning_effort` when
/// thinking is set on a reasoning model, `max_completion_tokens` on api.openai.com and `max_tokens`
/// elsewhere. Anthropic: POST {base}/messages when base ends in /v1, else {base}/v1/messages
/// (OpenClaw configs omit the /v1; base defaults to https://api.anthropic.com/v1), `x-api-key`,
/// `anthropic-version: 2023-06-01`, `system`, `max_tokens`, tools as `input_schema`,
/// `thinking: {type:"enabled", budget_tokens}` when set. Tool calls left without a result by an
/// interrupted run get an error result; results without their call are dropped.
core::FetchRequest build_fetch_request(const ModelRequest& req, const CallPolicy& policy);

/// Why a call failed, in the buckets the agent loop acts on (retry, fall back, tell the user).
enum class CallError {
    none,
    auth,            // 401/403: bad or missing key
    rate_limit,      // 429 after the retries
    server,          // 5xx / 529 after the retries
    bad_request,     // other 4xx (the provider's message is kept)
    context_length,  // 400 saying the prompt is too long
    network,         // resolve/connect/TLS failure after the retries
    timeout,         // connect or idle timeout
    stream,          // malformed or truncated stream, or an in-stream provider error
    cancelled,
};
std::string_view to_string(CallError e);

struct CallOutcome {
    /// Everything decoded, also on failure (a cut stream keeps the text received so far).
    AssistantTurn turn;
    CallError error = CallError::none;
    /// For the user: names the provider and what went wrong, e.g. `openai returned HTTP 401:
    /// Incorrect API key provided`; never contains the key or request headers.
    std::string message;
    int http_status = 0;  // last status seen (0 when none)
    int attempts = 0;
    /// True once at least one delta was delivered (fallback to another model is then unsafe).
    bool streamed = false;
};

/// Runs `fn` on the network thread after `delay_ms` (backoff timers).
using Scheduler = std::function<void(int64_t delay_ms, std::function<void()> fn)>;

class ModelCall : public std::enable_shared_from_this<ModelCall> {
public:
    using DeltaFn = std::function<void(const StreamDelta&)>;
    using DoneFn = std::function<void(CallOutcome)>;

    /// Starts the call. `on_delta` sees every decoded delta (also folded into the outcome's turn);
    /// `on_done` is called exactly once, last, also after cancel(). Network thread only.
    static std::shared_ptr<ModelCall> start(core::HttpFetcher& fetcher, Scheduler scheduler, ModelRequest request,
                                            CallPolicy policy, DeltaFn on_delta, DoneFn on_done);

    /// Stops the call (in flight or waiting to retry); on_done reports CallError::cancelled with
    /// what was decoded so far. No-op once done.
    void cancel();

    virtual ~ModelCall() = default;

protected:
    ModelCall() = default;
};

}  // namespace pincer::runtime
