#pragma once
/// Decoders from the streamed responses of LLM providers to one provider-neutral delta model, so
/// the agent loop, transcripts and `chat`/`agent` events never see a provider's wire format.
/// Pure parsing: each decoder takes the already-parsed SSE events (see sse_parser.hpp) of one
/// response and keeps only the little state the format needs (open tool calls, terminal seen).
///
/// Stop reasons use OpenClaw's vocabulary (`stop` | `length` | `toolUse` | `error`), which is what
/// its transcripts and the `stopReason` of `chat`/`agent` events carry.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pincer::runtime {

/// `error_type` of the errors the decoders raise themselves (provider errors keep their own type).
inline constexpr std::string_view kErrorMalformedStream = "malformed_stream";
inline constexpr std::string_view kErrorTruncatedStream = "truncated_stream";

struct StreamDelta {
    enum class Kind {
        /// `text` is the next piece of visible assistant text.
        text,
        /// `text` is the next piece of reasoning ("thinking") text.
        thinking,
        /// `text` is the next piece of the opaque signature of the current thinking block; Anthropic
        /// needs it echoed back with the thinking when a tool-use turn continues.
        thinking_signature,
        /// A tool call at `index` begins (or, rarely, gets its id/name late): `tool_id`, `tool_name`;
        /// either may be empty if the provider has not sent it yet.
        tool_call_start,
        /// `text` is the next piece of the JSON arguments of the tool call at `index`.
        tool_call_args,
        /// Token counts reported so far; 0 means "not reported in this delta". Counts are running
        /// totals (Anthropic repeats and raises them), so consumers keep the maximum, not the sum.
        /// `input_tokens` excludes cached input on every provider.
        usage,
        /// The model finished: `stop_reason` normalized, `raw_stop_reason` as the provider sent it.
        stop,
        /// The response failed: `error_type` (the provider's, or kErrorMalformedStream /
        /// kErrorTruncatedStream) and a human-readable `error_message`. Always the decoder's last delta.
        error,
    };

    Kind kind = Kind::text;
    std::string text;
    /// Content block (Anthropic) or tool call (OpenAI) index the piece belongs to.
    int index = 0;
    std::string tool_id, tool_name;
    int64_t input_tokens = 0, output_tokens = 0, cache_read = 0, cache_write = 0;
    std::string stop_reason, raw_stop_reason;
    std::string error_type, error_message;
};

/// OpenAI-compatible Chat Completions streaming (`stream: true`), as served by OpenAI, Ollama,
/// vLLM, LM Studio, OpenRouter and friends. Only choice 0 is decoded (requests use n = 1).
class OpenAiChatStreamDecoder {
public:
    /// Decodes one SSE event's data (a `chat.completion.chunk` JSON, or `[DONE]`) and appends the
    /// resulting deltas to `out`. Malformed JSON or an in-stream `{"error": ...}` appends an error
    /// delta, after which the decoder ignores further input; so does anything after `[DONE]`.
    void feed(std::string_view data, std::vector<StreamDelta>& out);

    /// Call when the transport reached end of stream. If the response is incomplete, appends a
    /// kErrorTruncatedStream error delta. A response that sent its `finish_reason` but not `[DONE]`
    /// counts as complete, because some compatible servers never send `[DONE]`.
    void finish(std::vector<StreamDelta>& out);

    /// True once `[DONE]` or an error was seen: a stream that ends while this is false was cut.
    bool done() const { return done_; }
    bool failed() const { return failed_; }

private:
    struct ToolCallState {
        int index = 0;
        std::string id, name;
    };
    void fail(std::vector<StreamDelta>& out, std::string_view type, std::string message);

    std::vector<ToolCallState> tool_calls_;
    bool stop_seen_ = false;
    bool done_ = false;
    bool failed_ = false;
};

/// Anthropic Messages API streaming: message_start, content_block_start/delta/stop, message_delta,
/// message_stop, ping and error events. Unknown event and block types are ignored, as Anthropic's
/// versioning policy asks of clients.
class AnthropicStreamDecoder {
public:
    /// Decodes one SSE event (`event_type` from its `event:` field; the JSON's own `type` wins when
    /// present, so proxies that drop `event:` lines still work) and appends the deltas to `out`.
    /// Malformed JSON or an `error` event appends an error delta and ends decoding.
    void feed(std::string_view event_type, std::string_view data, std::vector<StreamDelta>& out);

    /// As OpenAiChatStreamDecoder::finish: a truncated error delta unless `message_stop`, an error,
    /// or at least the final `message_delta` with a stop reason was seen.
    void finish(std::vector<StreamDelta>& out);

    /// True once `message_stop` or an error was seen.
    bool done() const { return done_; }
    bool failed() const { return failed_; }

private:
    void fail(std::vector<StreamDelta>& out, std::string_view type, std::string message);

    std::vector<int> tool_blocks_;  // indexes of tool_use blocks (server tool blocks are not ours)
    bool stop_seen_ = false;
    bool done_ = false;
    bool failed_ = false;
};

/// One assistant message assembled from deltas: what the agent loop stores in the transcript and
/// uses to decide whether to run tools.
struct AssistantTurn {
    struct ToolCall {
        std::string id, name;
        /// The concatenated argument pieces; empty when the model sent none (treat as `{}`). Not
        /// validated here: a model can emit broken JSON and the tool layer must report it.
        std::string arguments_json;
        int index = 0;  // the stream index the pieces were keyed by
    };

    std::string text;
    std::string thinking;
    std::string thinking_signature;
    std::vector<ToolCall> tool_calls;  // in order of first appearance
    std::string stop_reason;           // "" until a stop or error delta arrives
    std::string raw_stop_reason;
    int64_t input_tokens = 0, output_tokens = 0, cache_read = 0, cache_write = 0;
    std::string error_type, error_message;
};

/// Folds one delta into the turn. An error delta sets `stop_reason` to "error" and later stop
/// deltas do not overwrite it.
void accumulate(AssistantTurn& turn, const StreamDelta& delta);

}  // namespace pincer::runtime
