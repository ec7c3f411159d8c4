#pragma once
/// Outbound HTTP as the runtime sees it (LLM providers, webhooks): one request, a streamed
/// response body, cancellation. Implemented over Beast in transport/; callbacks run on the
/// network thread, so the runtime never touches a socket.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pincer::core {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct FetchRequest {
    std::string method = "POST";
    std::string url;  // http:// or https://
    HttpHeaders headers;
    std::string body;
    /// DNS + TCP connect + TLS handshake.
    int64_t connect_timeout_ms = 10'000;
    /// Longest silence between two reads of the response (a stalled stream ends with `timeout`).
    int64_t idle_timeout_ms = 60'000;
    /// Largest response body kept or streamed; more ends the request with `too_large`.
    uint64_t max_body_bytes = 64ull << 20;
};

enum class FetchError { none, bad_url, resolve, connect, tls, timeout, closed_early, too_large, protocol, cancelled };
std::string_view to_string(FetchError e);

struct FetchHead {
    int status = 0;
    HttpHeaders headers;  // names lowercased
    /// The header's value, or "" when absent (name must be lowercase).
    std::string header(std::string_view name) const;
};

struct FetchCallbacks {
    std::function<void(const FetchHead&)> on_head;
    /// Each decoded body chunk as it arrives; return false to stop reading (ends with `cancelled`).
    std::function<bool(std::string_view)> on_body;
    /// Exactly once, last. `message` says what failed in words (never contains request headers).
    std::function<void(FetchError, const std::string& message)> on_done;
};

class FetchHandle {
public:
    virtual ~FetchHandle() = default;
    /// Aborts the request; on_done then reports `cancelled` (unless it already completed).
    virtual void cancel() = 0;
};

class HttpFetcher {
public:
    virtual ~HttpFetcher() = default;
    /// Starts a request. Safe to call from the network thread only.
    virtual std::shared_ptr<FetchHandle> fetch(FetchRequest request, FetchCallbacks callbacks) = 0;
};

}  // namespace pincer::core
