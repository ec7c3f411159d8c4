#pragma once
/// Serialise-once fan-out of events to authenticated connections, with per-connection `seq`,
/// per-event scope guards and the slow-consumer policy.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "dispatch/connection.hpp"

namespace pincer::dispatch {

struct BroadcastOptions {
    /// Skip (instead of closing) a client whose queue is over the limit; its seq still advances.
    bool drop_if_slow = false;
    /// `stateVersion` to attach (presence/health); null = none.
    json::value state_version = nullptr;
    /// Only connections this accepts get the event (e.g. one protocol version's shape, or
    /// clients that asked for tool events); null = all. Skipped clients keep their seq.
    std::function<bool(const ConnState&)> filter;
};

class Broadcaster {
public:
    explicit Broadcaster(uint64_t max_buffered_bytes) : max_buffered_(max_buffered_bytes) {}

    void add(const std::shared_ptr<Connection>& conn);
    void remove(const Connection* conn);
    size_t size() const { return conns_.size(); }
    const std::vector<std::shared_ptr<Connection>>& connections() const { return conns_; }
    void set_max_buffered(uint64_t bytes) { max_buffered_ = bytes; }
    /// The registered connection with this connId, or null (network thread only).
    Connection* find(std::string_view conn_id) const;

    /// Sends `event` to every connection allowed to see it. Returns how many got it.
    size_t broadcast(std::string_view event, const json::value& payload, const BroadcastOptions& opts = {});
    /// Sends to one connection with the next seq of that connection (same slow-consumer policy).
    bool send_to(Connection& conn, std::string_view event, const json::value& payload,
                 const BroadcastOptions& opts = {});
    /// Sends `event` to the connected clients `filter` accepts (and allowed to see it) as a
    /// *targeted* event: no frame `seq`, and their seq does not advance (methods.md §0.2). Same
    /// serialise-once body and slow-consumer policy as broadcast(). Returns how many got it.
    size_t send_targeted(std::string_view event, const json::value& payload,
                         const std::function<bool(const ConnState&)>& filter, bool drop_if_slow = false);

private:
    bool deliver(Connection& conn, const std::shared_ptr<const std::string>& body, bool drop_if_slow);
    bool deliver_unsequenced(Connection& conn, const std::shared_ptr<const std::string>& body, bool drop_if_slow);

    std::vector<std::shared_ptr<Connection>> conns_;
    uint64_t max_buffered_;
};

/// `{"type":"event","event":..,"payload":..[,"stateVersion":..]` without the closing brace;
/// the per-connection tail `,"seq":N}` completes it.
std::shared_ptr<const std::string> event_body(std::string_view event, const json::value& payload,
                                              const json::value& state_version = nullptr);

}  // namespace pincer::dispatch
