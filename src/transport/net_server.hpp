#pragma once
/// The listener: one port for WebSocket (the gateway protocol) and plain HTTP routes. Beast and
/// Asio stay inside transport's .cpp files; this header exposes only what the app wires.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/limits.hpp"
#include "dispatch/gateway.hpp"
#include "dispatch/http_route.hpp"
#include "dispatch/loop.hpp"

namespace boost::asio {
class io_context;
}

namespace pincer::transport {

using dispatch::HttpReply;
using dispatch::HttpRequestView;
using dispatch::HttpRoute;

/// EventLoop over an io_context (network thread) and a small pool for blocking work.
std::unique_ptr<dispatch::EventLoop> make_event_loop(boost::asio::io_context& ioc, unsigned blocking_threads);

class NetServer {
public:
    NetServer(boost::asio::io_context& ioc, dispatch::Gateway& gateway, std::vector<HttpRoute> routes);
    ~NetServer();

    /// Binds and starts accepting. Returns the bound port (useful with port 0). Throws
    /// std::runtime_error with the OS reason when the address cannot be bound.
    uint16_t listen(const std::string& address, uint16_t port);
    /// Stops accepting and closes sockets that never authenticated.
    void stop_accepting();
    size_t open_sockets() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace pincer::transport
