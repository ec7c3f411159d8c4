#pragma once
/// A scripted fake LLM provider for the end-to-end tests: a real HTTP/1.1 server on 127.0.0.1 (port 0)
/// that speaks OpenAI Chat Completions (POST /v1/chat/completions) and Anthropic Messages
/// (POST /v1/messages), streamed over SSE with chunked transfer encoding or as one JSON body, plus
/// GET /v1/models. Each request to a chat endpoint consumes the next scripted MockStep pushed for
/// that endpoint; with the queue empty it answers a short text reply "ok" (or the default step).
///
/// With MockLlmOptions::tls_cert_file/tls_key_file set it serves HTTPS instead (same behaviour once
/// the handshake is done) and counts the handshakes that failed, e.g. because the client rejected the
/// certificate.
///
/// The server runs its own io_context on a background thread, started by the constructor and
/// stopped (bounded, thread joined, every connection dropped) by the destructor. Every public member
/// is thread-safe. Beast and Asio stay inside mock_llm.cpp.
#include <boost/json/value.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pincer::e2e {

/// One tool call of a scripted reply; `arguments` is the JSON text streamed in fragments.
struct MockToolCall {
    std::string id;
    std::string name;
    std::string arguments;
};

/// One scripted response. Text, thinking and tool arguments are streamed in small deltas (~4 bytes of
/// text, ~8 of arguments, never splitting a UTF-8 sequence), one SSE event per HTTP chunk.
struct MockStep {
    enum class Kind {
        text,                // `text` (stop_reason end_turn / finish_reason stop)
        tool_calls,          // optional `text` first, then `tool_calls` (tool_use / tool_calls)
        thinking_then_text,  // `thinking` (Anthropic thinking block; OpenAI delta.reasoning_content), then `text`
        http_error,          // `status` with `error_body` (or a provider-shaped error JSON) and retry-after
        malformed_sse,       // 200 event stream whose data lines are not JSON, then a clean end of stream
        cut_mid_reply,       // the first half of `text` deltas, then the socket is closed (no [DONE]/message_stop)
        stall,               // headers and the first delta, then nothing until the client closes
        slow_text,           // like text, delay_ms_between_chunks (100 when 0) between events
    };
    Kind kind = Kind::text;
    std::string text;
    std::vector<MockToolCall> tool_calls;
    std::string thinking;
    int status = 200;
    std::optional<int> retry_after_s;  // sent as `retry-after` on http_error
    std::string error_body;            // http_error body; empty: a provider-shaped error JSON
    int delay_ms_between_chunks = 0;   // pause between SSE events (any streamed kind)
    int64_t input_tokens = 12, output_tokens = 7;

    static MockStep make_text(std::string text);
    static MockStep make_tool_calls(std::vector<MockToolCall> calls, std::string text = {});
    static MockStep make_thinking(std::string thinking, std::string text);
    static MockStep make_http_error(int status, std::optional<int> retry_after_s = std::nullopt,
                                    std::string error_body = {});
    static MockStep make_malformed_sse();
    static MockStep make_cut_mid_reply(std::string text = "this reply is cut off before it ends");
    static MockStep make_stall(std::string text = "stalled reply");
    static MockStep make_slow_text(std::string text, int delay_ms_between_chunks = 100);
};

/// How a MockLlmServer listens; the defaults give plain HTTP on 127.0.0.1.
struct MockLlmOptions {
    /// PEM files of the server certificate (chain) and its private key; set both to serve HTTPS.
    std::string tls_cert_file, tls_key_file;
    /// The host the base URLs name (e.g. "localhost" to match a certificate); it must resolve to
    /// 127.0.0.1, the only address listened on.
    std::string url_host = "127.0.0.1";
};

class MockLlmServer {
public:
    /// One received request. Header names are lowercased (repeats joined with ", "); `path` is the
    /// target without its query; `body` is the whole body.
    struct Request {
        std::string method, target, path;
        std::map<std::string, std::string> headers;
        std::string body;
        /// The body parsed as JSON; null when it is not JSON.
        boost::json::value json() const;
        /// A header by lowercase name, "" when absent.
        std::string header(const std::string& name) const;
    };

    /// Binds 127.0.0.1:0 and starts serving. Throws std::runtime_error when it cannot bind (or load
    /// the TLS certificate and key).
    MockLlmServer();
    explicit MockLlmServer(MockLlmOptions options);
    /// Stops the io_context, drops every connection (stalled ones included) and joins the thread.
    ~MockLlmServer();
    MockLlmServer(const MockLlmServer&) = delete;
    MockLlmServer& operator=(const MockLlmServer&) = delete;

    uint16_t port() const;
    /// "http://127.0.0.1:P/v1" and "http://127.0.0.1:P" by default; https and the host per MockLlmOptions.
    std::string openai_base_url() const;
    std::string anthropic_base_url() const;

    /// Queue a step for the next request to POST /v1/chat/completions (resp. /v1/messages).
    void push_openai(MockStep step);
    void push_anthropic(MockStep step);
    /// Replaces the step used when an endpoint's queue is empty (initially make_text("ok")).
    void set_default_step(MockStep step);
    /// Steps still queued for each endpoint.
    size_t pending_openai() const;
    size_t pending_anthropic() const;

    /// Copy of every request received so far, in arrival order (recorded before the response starts).
    std::vector<Request> requests() const;
    /// Waits until at least `n` requests were received; false on timeout.
    bool wait_for_requests(size_t n, std::chrono::milliseconds timeout) const;

    /// Responses still being written: streams in progress, stalled ones included.
    size_t open_streams() const;
    /// Waits until exactly `n` responses are in progress; false on timeout.
    bool wait_for_open_streams(size_t n, std::chrono::milliseconds timeout) const;
    /// Responses whose connection the client closed (or reset) before the response was complete.
    size_t streams_closed_by_client() const;
    /// Waits until streams_closed_by_client() >= n; false on timeout.
    bool wait_for_stream_closed_by_client(std::chrono::milliseconds timeout, size_t n = 1) const;

    /// TLS handshakes that completed, and those that failed, each failure with its error message.
    size_t tls_handshakes() const;
    std::vector<std::string> tls_handshake_failures() const;
    /// Waits until at least `n` handshakes failed; false on timeout.
    bool wait_for_tls_handshake_failures(size_t n, std::chrono::milliseconds timeout) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace pincer::e2e
