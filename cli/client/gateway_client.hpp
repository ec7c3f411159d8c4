#pragma once
/// Synchronous WebSocket client for the OpenClaw gateway protocol. It drives the `pincer` CLI
/// commands and every end-to-end test, so each blocking call takes a timeout and throws
/// TimeoutError when it expires: nothing here can hang.
///
/// One GatewayClient owns one connection and its own io_context; it is not thread-safe (use it
/// from one thread). Beast and Asio stay inside gateway_client.cpp.
#include <array>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pincer::client {

/// One received WebSocket data frame. `json` is null when the text is not valid JSON.
struct Frame {
    boost::json::value json;
    std::string text;
    bool binary = false;
};

/// How the connection ended: the server's close code and reason, 1005 when its close frame carried
/// no code, 1006 when the TCP connection dropped without a close frame.
struct CloseInfo {
    int code = 0;
    std::string reason;
};

/// An ok:false response. `error` is the response's error object ({code, message, details?, ...}).
struct RpcError : std::runtime_error {
    RpcError(boost::json::object err, boost::json::object res);
    boost::json::object error;
    boost::json::object response;      // the whole res frame
    std::string code() const;          // error.code, or "" when absent
    std::string message_text() const;  // error.message, or "" when absent
};

struct TimeoutError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// The connection was closed (by the server, or it dropped) before the awaited frame arrived.
struct ClosedError : std::runtime_error {
    ClosedError(const std::string& what, CloseInfo info) : std::runtime_error(what), close(std::move(info)) {}
    CloseInfo close;
};

/// TCP connect, DNS or WebSocket upgrade failure in open(). `http_status` is set (and `http_body`
/// filled) when the server answered the upgrade with a plain HTTP response, e.g. 503.
struct ConnectError : std::runtime_error {
    ConnectError(const std::string& what, int status = 0, std::string body = {})
        : std::runtime_error(what), http_status(status), http_body(std::move(body)) {}
    int http_status = 0;
    std::string http_body;
};

/// An Ed25519 device key pair (libsodium), as OpenClaw clients use to sign the connect challenge.
/// Cheap to copy: it holds the raw 32-byte private seed and public key.
struct DeviceIdentity {
    /// Fresh random key pair. Throws std::runtime_error if libsodium cannot initialise.
    static DeviceIdentity generate();
    /// Rebuilds the pair from a raw 32-byte private seed (for identities that persist across connects).
    static DeviceIdentity from_private_key(std::span<const uint8_t, 32> seed);

    /// Lowercase hex SHA-256 of the raw public key (the wire `device.id`).
    std::string id() const;
    /// Raw 32-byte public key, base64url without padding (the wire `device.publicKey`).
    std::string public_key_b64url() const;
    /// Ed25519 signature over the bytes of `payload`, base64url without padding.
    std::string sign_b64url(std::string_view payload) const;

    const std::array<uint8_t, 32>& public_key() const { return public_key_; }
    const std::array<uint8_t, 32>& private_seed() const { return seed_; }

private:
    std::array<uint8_t, 32> seed_{};
    std::array<uint8_t, 32> public_key_{};
};

struct ConnectOptions {
    std::string url = "ws://127.0.0.1:18789/";
    std::string token, password;  // auth.token / auth.password when non-empty
    int min_protocol = 3, max_protocol = 4;
    std::string client_id = "cli", client_mode = "cli", client_version = "0.1.0", platform = "linux", device_family;
    std::optional<std::string> role;                 // omitted when nullopt
    std::optional<std::vector<std::string>> scopes;  // omitted when nullopt
    std::vector<std::string> caps;
    /// When set, sends a signed device block: v3 payload, signedAt = challenge ts, nonce = challenge
    /// nonce, token slot = auth.token (else auth.deviceToken, as the server rebuilds it), role
    /// defaulting to "operator", scopes as sent. Must outlive the connect() call only.
    const DeviceIdentity* device = nullptr;
    std::string device_token;  // auth.deviceToken when non-empty
    /// Applied to the generated params as an RFC 7396 merge patch: objects merge recursively, a null
    /// value deletes the key, anything else replaces. The device signature is computed from the
    /// options above, not from the patched params, so a patch can produce a deliberately bad one.
    boost::json::object extra;
    /// Extra HTTP headers for the upgrade request (e.g. Origin).
    std::vector<std::pair<std::string, std::string>> headers;
    /// Bounds open + challenge + connect response together.
    std::chrono::milliseconds timeout{10000};
};

/// Builds the `connect` params for `opts` against a challenge payload ({nonce, ts}). Exposed for
/// tests that want to send the connect frame themselves.
boost::json::object build_connect_params(const ConnectOptions& opts, const boost::json::object& challenge);

class GatewayClient {
public:
    GatewayClient();
    /// Closes the connection if still open (close 1000, bounded to a short wait).
    ~GatewayClient();
    GatewayClient(const GatewayClient&) = delete;
    GatewayClient& operator=(const GatewayClient&) = delete;

    // ---- transport level ----

    /// TCP connect + WebSocket upgrade to `url` (`ws://host:port/path?query`; `wss` is rejected).
    /// Throws std::invalid_argument for a malformed or wss URL, ConnectError (refused, DNS, upgrade
    /// declined) or TimeoutError. Reading starts at once,
    /// so the server's first frames are buffered from here on.
    void open(const std::string& url, std::chrono::milliseconds timeout,
              const std::vector<std::pair<std::string, std::string>>& headers = {});
    bool is_open() const;

    /// Next received frame in arrival order (buffered ones first). Throws TimeoutError, or ClosedError
    /// once the connection is closed and nothing is buffered.
    Frame read_frame(std::chrono::milliseconds timeout);
    /// Send one frame; waits for the write to finish (bounded by `kWriteTimeout`). Throws ClosedError
    /// when the connection is already closed, TimeoutError when the write stalls.
    void send_text(std::string_view text);
    void send_binary(std::string_view bytes);
    void send_json(const boost::json::value& v);
    /// Reads (and buffers) until the server closes, then returns its close code and reason.
    /// Returns at once if the connection is already closed. Throws TimeoutError.
    CloseInfo wait_close(std::chrono::milliseconds timeout);
    /// Close handshake with `code`, waiting at most ~2 s for the server's answer; then the socket
    /// is shut. No-op when already closed.
    void close(int code = 1000, std::string_view reason = {});
    /// Drops the TCP connection without a close frame (the server sees 1006).
    void abort();
    /// Close information once closed, else nullopt.
    std::optional<CloseInfo> close_info() const;

    // ---- protocol level ----

    /// open() + wait for connect.challenge + send connect + wait for its response, all within
    /// opts.timeout. Returns the hello-ok payload. Throws RpcError on ok:false (the server then
    /// closes; wait_close() gives the code), ClosedError if the socket closes first, TimeoutError,
    /// ConnectError.
    boost::json::object connect(const ConnectOptions& opts);
    /// Waits for the connect.challenge event (removing it from the buffer) and returns its payload.
    const boost::json::object& wait_challenge(std::chrono::milliseconds timeout);
    /// Payload of the connect.challenge received (empty before one arrived).
    const boost::json::object& challenge() const;
    /// The hello-ok payload from the last successful connect() (empty before).
    const boost::json::object& hello() const;

    /// Sends a req with a fresh id ("1", "2", ...; unique per client) and returns the id without
    /// waiting. `params` is omitted from the frame when null.
    std::string send_request(std::string_view method, const boost::json::value* params = nullptr);
    /// Waits for the res frame with `id` and returns the whole frame. Frames arriving meanwhile
    /// stay buffered in order. Throws TimeoutError or ClosedError.
    boost::json::object wait_response(const std::string& id, std::chrono::milliseconds timeout);
    /// send_request + wait_response; returns the payload (null when absent). Throws RpcError on ok:false.
    boost::json::value call(std::string_view method, const boost::json::value& params = boost::json::object{},
                            std::chrono::milliseconds timeout = std::chrono::seconds(10));
    /// Waits for an event frame named `event` (for which `pred(frame)` holds, when given), removes it
    /// from the buffer and returns the whole frame. Throws TimeoutError or ClosedError.
    boost::json::object wait_event(std::string_view event, std::chrono::milliseconds timeout,
                                   std::function<bool(const boost::json::object&)> pred = {});
    /// Removes and returns every buffered event frame, in arrival order; never blocks, but first
    /// handles frames that have already arrived on the socket.
    std::vector<boost::json::object> take_buffered_events();
    /// Number of frames received but not yet consumed.
    size_t buffered_count() const;

    static constexpr std::chrono::milliseconds kWriteTimeout{10000};

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Response of http_request(). Header names are lowercased; repeated headers are joined with ", ".
/// `status` is 0 when the server closed without sending any byte. `raw` holds every byte received.
struct HttpResponse {
    int status = 0;
    std::string reason;
    std::string body;
    std::map<std::string, std::string> headers;
    std::string raw;
};

/// Writes `raw_request_bytes` verbatim to host:port and reads the response until the server
/// closes, or Content-Length / the final chunk is satisfied (chunked bodies are decoded).
/// Throws ConnectError when the TCP connect fails, TimeoutError when the response does not complete
/// in time, std::runtime_error on an unparseable status line.
HttpResponse http_request(const std::string& host, uint16_t port, const std::string& raw_request_bytes,
                          std::chrono::milliseconds timeout);

/// Parses `ws://host[:port][/path]` (port defaults to 80, path to "/"). Throws std::invalid_argument for
/// anything else, with a clear message for `wss`.
struct WsUrl {
    std::string host;
    uint16_t port = 80;
    std::string target = "/";
};
WsUrl parse_ws_url(const std::string& url);

}  // namespace pincer::client
