// Listener, HTTP routes and WebSocket sessions over Boost.Beast with C++20 coroutines. One
// coroutine per socket owns the reads; a second one per WebSocket drains the write queue, so
// handlers and broadcasts only ever append to the queue.
#include "transport/net_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <list>

namespace pincer::transport {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

namespace {

constexpr auto kNoThrow = asio::as_tuple(use_awaitable);

class AsioLoop final : public dispatch::EventLoop {
public:
    AsioLoop(asio::io_context& ioc, unsigned threads) : ioc_(ioc), pool_(threads) {}
    ~AsioLoop() override { pool_.join(); }
    void join_blocking() override { pool_.join(); }
    std::function<void()> post_after_cancellable(int64_t delay_ms, std::function<void()> fn) override {
        auto timer = std::make_shared<asio::steady_timer>(ioc_, std::chrono::milliseconds(delay_ms));
        timer->async_wait([timer, fn = std::move(fn)](beast::error_code ec) {
            if (!ec) fn();
        });
        return [weak = std::weak_ptr<asio::steady_timer>(timer)] {
            if (auto t = weak.lock()) t->cancel();
        };
    }
    void post(std::function<void()> fn) override { asio::post(ioc_, std::move(fn)); }
    void post_blocking(std::function<void()> fn) override { asio::post(pool_, std::move(fn)); }
    void post_after(int64_t delay_ms, std::function<void()> fn) override {
        auto timer = std::make_shared<asio::steady_timer>(ioc_, std::chrono::milliseconds(delay_ms));
        timer->async_wait([timer, fn = std::move(fn)](beast::error_code ec) {
            if (!ec) fn();
        });
    }

private:
    asio::io_context& ioc_;
    asio::thread_pool pool_;
};

bool is_loopback(const asio::ip::address& a) {
    if (a.is_loopback()) return true;
    return a.is_v6() && a.to_v6().is_v4_mapped() &&
           asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).is_loopback();
}

std::string ip_string(const asio::ip::address& a) {
    if (a.is_v6() && a.to_v6().is_v4_mapped())
        return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_string();
    return a.to_string();
}

// A WebSocket client as dispatch sees it. The read loop is a coroutine; writes are a plain
// completion chain started by send(), so a reply costs no timer or extra wake-up.
class WsConnection final : public dispatch::Connection, public std::enable_shared_from_this<WsConnection> {
public:
    WsConnection(tcp::socket socket, dispatch::Gateway& gw)
        : ws_(std::move(socket)), gateway_(gw), handshake_timer_(ws_.get_executor()) {}

    void send(dispatch::OutboundFrame frame) override {
        if (closing_) return;
        buffered_ += frame.size();
        queue_.push_back(std::move(frame));
        if (!writing_) write_next();
    }

    void close(int code, std::string_view reason) override {
        if (closing_) return;
        closing_ = true;
        close_code_ = code;
        close_reason_ = std::string(reason);
        if (!writing_) write_next();
    }

    uint64_t buffered_bytes() const override { return buffered_; }

    void on_authenticated(uint64_t max_payload) override {
        ws_.read_message_max(max_payload);
        authenticated_ = true;
        handshake_timer_.cancel();
    }

    awaitable<void> run(http::request<http::string_body> req) {
        auto self = shared_from_this();
        ws_.auto_fragment(false);
        // The pre-auth limit is enforced in the read loop, not by Beast: Beast fails an oversized frame
        // from its header, sends 1009 without a reason and closes with the rest unread (an RST, so a
        // client still sending sees 1006). Beast keeps only the absolute bound.
        ws_.read_message_max(gateway_.limits().max_payload);
        websocket::stream_base::timeout opts{};
        // Bounds the opening write and the closing handshake.
        opts.handshake_timeout = std::chrono::seconds(5);
        // Beast pings after half the idle timeout without traffic: a 25 s ping, as the reference.
        opts.idle_timeout = std::chrono::milliseconds(gateway_.limits().ws_ping_interval_ms * 2);
        opts.keep_alive_pings = true;
        ws_.set_option(opts);
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& res) { res.set(http::field::server, "pincer"); }));
        auto [ec] = co_await ws_.async_accept(req, kNoThrow);
        if (ec) co_return;
        gateway_.on_open(self);
        arm_handshake_timer();
        beast::flat_buffer buffer;
        for (;;) {
            // Read in bounded chunks so a pre-auth frame can be rejected once it passes the limit.
            auto [rec, n] = co_await ws_.async_read_some(buffer, 64 * 1024, kNoThrow);
            if (rec) break;
            if (!closing_ && !authenticated_ && buffer.size() > gateway_.limits().max_preauth_payload) {
                // core.md §2.5 step 0; the loop goes on reading (and discarding) until the peer's close.
                close(1009, "preauth payload too large");
            }
            if (closing_) {
                buffer.consume(buffer.size());
                continue;
            }
            if (!ws_.is_message_done()) continue;
            {
                auto data = buffer.cdata();
                gateway_.on_message(self, std::string_view(static_cast<const char*>(data.data()), data.size()));
            }
            buffer.consume(buffer.size());
            // A 25 MiB frame must not pin 25 MiB for the life of the connection.
            if (buffer.capacity() > 64 * 1024) buffer = beast::flat_buffer();
        }
        read_done_ = true;
        handshake_timer_.cancel();
        gateway_.on_close(self);
        closing_ = true;
        if (!writing_) shutdown_socket();
    }

private:
    void arm_handshake_timer() {
        handshake_timer_.expires_after(std::chrono::milliseconds(gateway_.limits().handshake_timeout_ms));
        std::weak_ptr<WsConnection> weak = shared_from_this();
        handshake_timer_.async_wait([weak](beast::error_code ec) {
            if (ec) return;
            if (auto c = weak.lock(); c && c->state.phase != dispatch::ConnPhase::connected) c->close(1000, "");
        });
    }

    // Writes the queue front, then the next; once the queue is empty on a closing connection,
    // sends the close frame. Only one write is ever outstanding.
    void write_next() {
        if (queue_.empty()) {
            if (closing_ && !close_started_) start_close();
            return;
        }
        writing_ = true;
        const auto& f = queue_.front();
        write_bufs_ = {asio::buffer(*f.body), asio::buffer(f.tail)};
        ws_.async_write(write_bufs_, [self = shared_from_this()](beast::error_code ec, size_t) {
            self->writing_ = false;
            self->buffered_ -= self->queue_.front().size();
            self->queue_.pop_front();
            if (ec) {
                self->closing_ = true;
                self->queue_.clear();
                self->buffered_ = 0;
                self->shutdown_socket();
                return;
            }
            self->write_next();
        });
    }

    void start_close() {
        close_started_ = true;
        if (read_done_) return shutdown_socket();
        websocket::close_reason cr(static_cast<websocket::close_code>(close_code_), close_reason_);
        // The read loop sees the peer's close (or the handshake timeout) and ends the session.
        ws_.async_close(cr, [self = shared_from_this()](beast::error_code) {});
    }

    void shutdown_socket() {
        beast::error_code ignore;
        ws_.next_layer().shutdown(tcp::socket::shutdown_both, ignore);
        ws_.next_layer().close(ignore);
    }

    websocket::stream<tcp::socket> ws_;
    dispatch::Gateway& gateway_;
    std::deque<dispatch::OutboundFrame> queue_;
    std::array<asio::const_buffer, 2> write_bufs_;
    uint64_t buffered_ = 0;
    asio::steady_timer handshake_timer_;
    bool writing_ = false;
    bool closing_ = false;
    bool close_started_ = false;
    bool read_done_ = false;
    bool authenticated_ = false;
    int close_code_ = 1000;
    std::string close_reason_;
};

http::response<http::string_body> make_reply(const HttpReply& r, unsigned version, bool keep_alive, bool head) {
    http::response<http::string_body> res{static_cast<http::status>(r.status), version};
    res.set(http::field::server, "pincer");
    res.set(http::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) res.set(k, v);
    res.keep_alive(keep_alive);
    res.body() = r.body;
    res.prepare_payload();
    if (head) res.body().clear();
    return res;
}

HttpReply text_reply(int status, std::string body) {
    return HttpReply{status, "text/plain; charset=utf-8", std::move(body), {}};
}

}  // namespace

std::unique_ptr<dispatch::EventLoop> make_event_loop(asio::io_context& ioc, unsigned blocking_threads) {
    return std::make_unique<AsioLoop>(ioc, blocking_threads);
}

struct NetServer::Impl : std::enable_shared_from_this<Impl> {
    asio::io_context& ioc;
    dispatch::Gateway& gateway;
    std::vector<HttpRoute> routes;
    std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
    std::list<std::weak_ptr<beast::tcp_stream>> preauth_streams;
    size_t open = 0;
    bool stopping = false;

    Impl(asio::io_context& c, dispatch::Gateway& g, std::vector<HttpRoute> r)
        : ioc(c), gateway(g), routes(std::move(r)) {}

    awaitable<void> accept_loop(tcp::acceptor& acceptor) {
        auto self = shared_from_this();
        while (!stopping) {
            auto [ec, socket] = co_await acceptor.async_accept(kNoThrow);
            if (ec) {
                if (ec == asio::error::operation_aborted || stopping) co_return;
                // EMFILE and friends: back off briefly instead of spinning.
                asio::steady_timer t(ioc, std::chrono::milliseconds(50));
                co_await t.async_wait(kNoThrow);
                continue;
            }
            if (open >= gateway.limits().max_connections) {
                beast::error_code ignore;
                socket.close(ignore);
                continue;
            }
            socket.set_option(tcp::no_delay(true));
            asio::co_spawn(ioc, session(std::move(socket)), asio::detached);
        }
    }

    awaitable<void> session(tcp::socket socket) {
        auto self = shared_from_this();
        ++open;
        struct Guard {
            size_t& n;
            ~Guard() { --n; }
        } guard{open};
        beast::error_code ec;
        auto endpoint = socket.remote_endpoint(ec);
        if (ec) co_return;
        const std::string ip = ip_string(endpoint.address());
        const bool loopback = is_loopback(endpoint.address());
        auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
        preauth_streams.push_back(stream);
        auto it = std::prev(preauth_streams.end());
        struct Untrack {
            std::list<std::weak_ptr<beast::tcp_stream>>& l;
            std::list<std::weak_ptr<beast::tcp_stream>>::iterator it;
            bool active = true;
            void release() {
                if (active) l.erase(it);
                active = false;
            }
            ~Untrack() { release(); }
        } untrack{preauth_streams, it};
        const auto& limits = gateway.limits();
        beast::flat_buffer buffer;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.header_limit(limits.max_http_header_bytes);
            parser.body_limit(limits.max_http_body_bytes);
            stream->expires_after(std::chrono::seconds(30));
            auto [rec, n] = co_await http::async_read(*stream, buffer, parser, kNoThrow);
            if (rec == http::error::end_of_stream || rec == asio::error::eof || rec == beast::error::timeout ||
                rec == asio::error::operation_aborted) {
                break;
            }
            if (rec) {
                const bool too_big = rec == http::error::header_limit || rec == http::error::body_limit ||
                                     rec == http::error::buffer_overflow;
                auto reply = too_big ? text_reply(413, "Payload Too Large") : text_reply(400, "Bad Request");
                auto res = make_reply(reply, 11, false, false);
                co_await http::async_write(*stream, res, kNoThrow);
                break;
            }
            auto req = parser.release();
            if (websocket::is_upgrade(req)) {
                if (stopping) break;
                if (!gateway.admit_preauth(ip)) {
                    auto res =
                        make_reply(text_reply(503, "Too many unauthenticated sockets"), req.version(), false, false);
                    co_await http::async_write(*stream, res, kNoThrow);
                    break;
                }
                untrack.release();
                stream->expires_never();
                auto conn = std::make_shared<WsConnection>(stream->release_socket(), gateway);
                conn->state.remote_ip = ip;
                conn->state.loopback = loopback;
                ws_conns.push_back(conn);
                auto wit = std::prev(ws_conns.end());
                co_await conn->run(std::move(req));
                ws_conns.erase(wit);
                co_return;
            }
            HttpRequestView view;
            view.method = std::string(req.method_string());
            view.target = std::string(req.target());
            view.path = view.target.substr(0, view.target.find('?'));
            view.body = std::move(req.body());
            view.remote_ip = ip;
            view.loopback = loopback;
            for (const auto& f : req) view.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
            HttpReply reply = route(view);
            auto res = make_reply(reply, req.version(), req.keep_alive(), req.method() == http::verb::head);
            auto [wec, wn] = co_await http::async_write(*stream, res, kNoThrow);
            if (wec || !req.keep_alive()) break;
        }
        beast::error_code ignore;
        stream->socket().shutdown(tcp::socket::shutdown_send, ignore);
        stream->close();
    }

    HttpReply route(const HttpRequestView& req) {
        for (const auto& r : routes) {
            if (r.path != req.path) continue;
            if (std::find(r.methods.begin(), r.methods.end(), req.method) == r.methods.end()) {
                HttpReply reply = text_reply(405, "Method Not Allowed");
                std::string allow;
                for (const auto& m : r.methods) allow += (allow.empty() ? "" : ", ") + m;
                reply.headers.emplace_back("Allow", allow);
                return reply;
            }
            try {
                return r.handler(req);
            } catch (const std::exception& e) {
                spdlog::error("http route {} failed: {}", r.path, e.what());
                return text_reply(500, "Internal Server Error");
            }
        }
        return text_reply(404, "Not Found");
    }

    std::list<std::shared_ptr<WsConnection>> ws_conns;
};

NetServer::NetServer(asio::io_context& ioc, dispatch::Gateway& gateway, std::vector<HttpRoute> routes)
    : impl_(std::make_shared<Impl>(ioc, gateway, std::move(routes))) {}

NetServer::~NetServer() = default;

uint16_t NetServer::listen(const std::string& address, uint16_t port) {
    beast::error_code ec;
    auto addr = asio::ip::make_address(address, ec);
    if (ec) throw std::runtime_error("invalid bind address '" + address + "': " + ec.message());
    auto acceptor = std::make_unique<tcp::acceptor>(impl_->ioc);
    tcp::endpoint ep(addr, port);
    acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
    uint16_t bound = acceptor->local_endpoint().port();
    auto& ref = *acceptor;
    impl_->acceptors.push_back(std::move(acceptor));
    asio::co_spawn(impl_->ioc, impl_->accept_loop(ref), asio::detached);
    return bound;
}

void NetServer::stop_accepting() {
    impl_->stopping = true;
    for (auto& a : impl_->acceptors) {
        beast::error_code ignore;
        a->close(ignore);
    }
    for (auto& w : impl_->preauth_streams) {
        if (auto s = w.lock()) s->close();
    }
    for (auto& c : impl_->ws_conns) {
        if (c->state.phase != dispatch::ConnPhase::connected) c->close(1012, "service restart");
    }
}

size_t NetServer::open_sockets() const { return impl_->open; }

}  // namespace pincer::transport
