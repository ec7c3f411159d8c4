#pragma once
/// A client connection as dispatch sees it: a place to queue frames and protocol state. The
/// transport implements the I/O; only the network thread touches a Connection.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/scopes.hpp"

namespace pincer::dispatch {

/// One outbound frame: a shared, serialise-once body plus a small per-connection tail (for a
/// broadcast, `,"seq":N}`), written together as a scatter buffer so fan-out copies nothing.
struct OutboundFrame {
    std::shared_ptr<const std::string> body;
    std::string tail;
    size_t size() const { return body->size() + tail.size(); }
};

enum class ConnPhase { awaiting_connect, connecting, connected, closing };

struct ConnState {
    std::string conn_id;
    std::string remote_ip;
    bool loopback = false;
    ConnPhase phase = ConnPhase::awaiting_connect;
    std::string nonce;
    int64_t challenge_ts = 0;
    int64_t connected_at_ms = 0;
    int protocol = 0;
    core::Role role = core::Role::operator_role;
    std::vector<std::string> scopes;
    std::vector<std::string> caps;
    std::string client_id, client_mode, client_version, client_platform, display_name, device_family,
        model_identifier, instance_id, device_id;
    int64_t next_seq = 1;
    uint32_t unauthorized_calls = 0;
    std::string presence_key;  // empty = not tracked in presence
    /// `sessions.subscribe` was called (and not undone): gets the targeted `sessions.changed`.
    bool sessions_subscribed = false;
};

class Connection {
public:
    virtual ~Connection() = default;
    /// Queues a frame; never blocks. Sent in queue order.
    virtual void send(OutboundFrame frame) = 0;
    void send(std::string text) { send(OutboundFrame{std::make_shared<const std::string>(std::move(text)), {}}); }
    /// Sends a close frame after the queued frames and stops reading.
    virtual void close(int code, std::string_view reason) = 0;
    /// Bytes queued and not yet written to the socket.
    virtual uint64_t buffered_bytes() const = 0;
    /// Called once `hello-ok` is queued: lift the frame limit, stop the handshake timer, start pings.
    virtual void on_authenticated(uint64_t max_payload) = 0;

    ConnState state;
};

}  // namespace pincer::dispatch
