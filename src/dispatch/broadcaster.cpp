#include "dispatch/broadcaster.hpp"

#include <algorithm>

#include "core/frame.hpp"
#include "core/scopes.hpp"

namespace pincer::dispatch {

std::shared_ptr<const std::string> event_body(std::string_view event, const json::value& payload,
                                              const json::value& state_version) {
    return std::make_shared<const std::string>(core::event_prefix(event, payload, state_version));
}

void Broadcaster::add(const std::shared_ptr<Connection>& conn) { conns_.push_back(conn); }

void Broadcaster::remove(const Connection* conn) {
    auto it = std::find_if(conns_.begin(), conns_.end(), [&](const auto& c) { return c.get() == conn; });
    if (it == conns_.end()) return;
    // Order does not matter for fan-out; swap-and-pop keeps removal O(1).
    std::swap(*it, conns_.back());
    conns_.pop_back();
}

Connection* Broadcaster::find(std::string_view conn_id) const {
    for (const auto& c : conns_) {
        if (c->state.conn_id == conn_id) return c.get();
    }
    return nullptr;
}

bool Broadcaster::deliver(Connection& conn, const std::shared_ptr<const std::string>& body, bool drop_if_slow) {
    const int64_t seq = conn.state.next_seq++;
    if (conn.buffered_bytes() > max_buffered_) {
        if (!drop_if_slow) conn.close(1008, "slow consumer");
        return false;
    }
    std::string tail = R"(,"seq":)";
    tail += std::to_string(seq);
    tail += '}';
    conn.send(OutboundFrame{body, std::move(tail)});
    return true;
}

bool Broadcaster::deliver_unsequenced(Connection& conn, const std::shared_ptr<const std::string>& body,
                                      bool drop_if_slow) {
    if (conn.buffered_bytes() > max_buffered_) {
        if (!drop_if_slow) conn.close(1008, "slow consumer");
        return false;
    }
    conn.send(OutboundFrame{body, {}});
    return true;
}

size_t Broadcaster::broadcast(std::string_view event, const json::value& payload, const BroadcastOptions& opts) {
    if (conns_.empty()) return 0;
    // Serialised on the first recipient: a filtered event nobody gets costs nothing.
    std::shared_ptr<const std::string> body;
    size_t delivered = 0;
    // Copy: a slow-consumer close may re-enter remove() through the transport.
    auto targets = conns_;
    for (const auto& c : targets) {
        if (c->state.phase != ConnPhase::connected) continue;
        if (!core::event_allowed(event, c->state.role, c->state.scopes)) continue;
        if (opts.filter && !opts.filter(c->state)) continue;
        if (!body) body = event_body(event, payload, opts.state_version);
        if (deliver(*c, body, opts.drop_if_slow)) ++delivered;
    }
    return delivered;
}

size_t Broadcaster::send_targeted(std::string_view event, const json::value& payload,
                                  const std::function<bool(const ConnState&)>& filter, bool drop_if_slow) {
    if (conns_.empty()) return 0;
    std::shared_ptr<const std::string> body;
    size_t delivered = 0;
    auto targets = conns_;  // a slow-consumer close may re-enter remove()
    for (const auto& c : targets) {
        if (c->state.phase != ConnPhase::connected) continue;
        if (!core::event_allowed(event, c->state.role, c->state.scopes)) continue;
        if (filter && !filter(c->state)) continue;
        // The whole frame, closed here: a targeted event has no per-connection tail.
        if (!body) body = std::make_shared<const std::string>(core::event_prefix(event, payload, nullptr) + '}');
        if (deliver_unsequenced(*c, body, drop_if_slow)) ++delivered;
    }
    return delivered;
}

bool Broadcaster::send_to(Connection& conn, std::string_view event, const json::value& payload,
                          const BroadcastOptions& opts) {
    if (!core::event_allowed(event, conn.state.role, conn.state.scopes)) return false;
    return deliver(conn, event_body(event, payload, opts.state_version), opts.drop_if_slow);
}

}  // namespace pincer::dispatch
