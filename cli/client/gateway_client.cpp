#include "client/gateway_client.hpp"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <deque>

namespace pincer::client {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr size_t kReadMessageMax = 64u * 1024 * 1024;
// Bounds the close handshake in close() and the destructor: a dead peer must not stall teardown.
constexpr std::chrono::milliseconds kCloseWait{2000};
constexpr std::chrono::milliseconds kDestructorCloseWait{500};

std::string str(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : std::string(); }

std::string field(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it == o.end() ? std::string() : str(it->value());
}

std::string describe_close(const CloseInfo& c) {
    std::string s = "connection closed (code " + std::to_string(c.code);
    if (!c.reason.empty()) s += ", reason \"" + c.reason + "\"";
    return s + ")";
}

std::chrono::milliseconds remaining(SteadyClock::time_point deadline) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - SteadyClock::now());
    return std::max(left, std::chrono::milliseconds(0));
}

// Completion state of one async operation. Handlers hold it by shared_ptr so an abandoned
// operation (timeout) can still complete safely later.
struct OpState {
    bool done = false;
    beast::error_code ec;
};

// Runs handlers on `ioc` until done() holds or the deadline passes. Returns done(). Ready handlers
// are always given one chance to run, so a zero timeout still observes frames that already arrived.
template <class Done>
bool run_until(net::io_context& ioc, SteadyClock::time_point deadline, Done done) {
    if (ioc.stopped()) ioc.restart();
    ioc.poll();
    while (!done()) {
        if (SteadyClock::now() >= deadline) return false;
        if (ioc.stopped()) ioc.restart();
        if (ioc.run_one_until(deadline) == 0 && ioc.stopped() && !done()) {
            // No outstanding work: nothing can ever make done() true.
            return done();
        }
    }
    return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Errors and URL

RpcError::RpcError(json::object err, json::object res)
    : std::runtime_error([&] {
          std::string code = field(err, "code"), msg = field(err, "message");
          return (code.empty() ? std::string("error") : code) + (msg.empty() ? "" : ": " + msg);
      }()),
      error(std::move(err)),
      response(std::move(res)) {}

std::string RpcError::code() const { return field(error, "code"); }
std::string RpcError::message_text() const { return field(error, "message"); }

WsUrl parse_ws_url(const std::string& url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) throw std::invalid_argument("invalid gateway URL '" + url + "': " + parsed.error().message());
    const auto& u = *parsed;
    std::string scheme(u.scheme());
    std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
    if (scheme == "wss") {
        throw std::invalid_argument("wss:// (TLS) gateway URLs are not supported yet; use ws://host:port/");
    }
    if (scheme != "ws") throw std::invalid_argument("gateway URL must start with ws:// (got '" + url + "')");
    WsUrl out;
    out.host = u.host_address();
    if (out.host.empty()) throw std::invalid_argument("gateway URL has no host: '" + url + "'");
    if (u.has_port()) {
        auto p = u.port_number();
        if (p == 0 && u.port() != "0") throw std::invalid_argument("gateway URL has an invalid port: '" + url + "'");
        out.port = p;
    }
    out.target = std::string(u.encoded_path());
    if (out.target.empty()) out.target = "/";
    if (u.has_query()) out.target += "?" + std::string(u.encoded_query());
    return out;
}

// ---------------------------------------------------------------------------------------------
// GatewayClient

struct GatewayClient::Impl {
    // Declared first so it is destroyed last: pending handlers die with it, after the stream.
    net::io_context ioc{1};
    std::unique_ptr<websocket::stream<beast::tcp_stream>> ws;
    beast::flat_buffer rbuf;
    bool reading = false;
    bool closing = false;  // close() in progress: its own result decides the close info
    std::optional<CloseInfo> closed;
    std::string close_detail;  // transport error text when the connection dropped
    std::deque<Frame> inbox;
    json::object challenge, hello;
    uint64_t next_id = 1;

    ~Impl() {
        if (ws && !closed) {
            try {
                close(1000, {}, kDestructorCloseWait);
            } catch (...) {
            }
        }
        abort();
    }

    bool is_open() const { return ws && !closed; }

    void start_read() {
        if (reading || closed || !ws) return;
        reading = true;
        ws->async_read(rbuf, [this](beast::error_code ec, size_t) { on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        reading = false;
        if (ec) {
            // Beast aborts a pending read when our own close handshake takes over the socket.
            if (closing && ec == net::error::operation_aborted) return;
            mark_closed(ec);
            return;
        }
        Frame f;
        f.text = beast::buffers_to_string(rbuf.data());
        rbuf.consume(rbuf.size());
        f.binary = !ws->got_text();
        boost::system::error_code jec;
        f.json = json::parse(f.text, jec);
        if (jec) f.json = nullptr;
        inbox.push_back(std::move(f));
        start_read();
    }

    void mark_closed(beast::error_code ec) {
        if (closed) return;
        // A close frame from the server counts even when our reply then failed (EPIPE from a
        // gateway that already exited): report its code, not 1006.
        if (ws && (ec == websocket::error::closed || ws->reason().code != websocket::close_code::none)) {
            const auto& r = ws->reason();
            closed = CloseInfo{r.code == websocket::close_code::none ? 1005 : static_cast<int>(r.code),
                               std::string(r.reason.data(), r.reason.size())};
        } else {
            closed = CloseInfo{1006, {}};
            close_detail = ec.message();
        }
    }

    ClosedError closed_error(const std::string& while_doing) const {
        CloseInfo info = closed.value_or(CloseInfo{1006, {}});
        std::string what = while_doing + ": " + describe_close(info);
        if (!close_detail.empty()) what += " [" + close_detail + "]";
        return ClosedError(what, info);
    }

    // Drops the socket; in-flight handlers complete with errors and are drained right here.
    void abort() {
        if (!ws) return;
        beast::error_code ignored;
        beast::get_lowest_layer(*ws).socket().close(ignored);
        if (!closed) closed = CloseInfo{1006, {}};
        ioc.restart();
        ioc.run_for(std::chrono::milliseconds(200));
    }

    void reset() {
        if (ws) abort();
        ws.reset();
        rbuf.clear();
        reading = false;
        closing = false;
        closed.reset();
        close_detail.clear();
        inbox.clear();
        challenge = {};
        hello = {};
        ioc.restart();
    }

    void open(const std::string& url, std::chrono::milliseconds timeout,
              const std::vector<std::pair<std::string, std::string>>& headers) {
        reset();
        const WsUrl u = parse_ws_url(url);
        const auto deadline = SteadyClock::now() + timeout;
        const std::string where = u.host + ":" + std::to_string(u.port);
        ws = std::make_unique<websocket::stream<beast::tcp_stream>>(ioc);

        tcp::resolver resolver(ioc);
        auto rst = std::make_shared<OpState>();
        auto results = std::make_shared<tcp::resolver::results_type>();
        resolver.async_resolve(u.host, std::to_string(u.port),
                               [rst, results](beast::error_code ec, tcp::resolver::results_type r) {
                                   rst->done = true;
                                   rst->ec = ec;
                                   *results = std::move(r);
                               });
        if (!run_until(ioc, deadline, [&] { return rst->done; })) {
            resolver.cancel();
            run_until(ioc, SteadyClock::now() + std::chrono::seconds(1), [&] { return rst->done; });
            throw TimeoutError("timed out resolving " + u.host);
        }
        if (rst->ec) throw ConnectError("cannot resolve " + u.host + ": " + rst->ec.message());

        auto cst = std::make_shared<OpState>();
        beast::get_lowest_layer(*ws).async_connect(*results, [cst](beast::error_code ec, const tcp::endpoint&) {
            cst->done = true;
            cst->ec = ec;
        });
        if (!run_until(ioc, deadline, [&] { return cst->done; })) {
            abort();
            throw TimeoutError("timed out connecting to " + where);
        }
        if (cst->ec) {
            closed = CloseInfo{1006, {}};
            throw ConnectError("cannot connect to gateway at " + where + ": " + cst->ec.message());
        }
        beast::error_code ignored;
        beast::get_lowest_layer(*ws).socket().set_option(tcp::no_delay(true), ignored);

        ws->auto_fragment(false);
        ws->read_message_max(kReadMessageMax);
        ws->set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
            req.set(beast::http::field::user_agent, "pincer-client/0.1");
            for (const auto& [name, value] : headers) req.set(name, value);
        }));
        const bool v6 = u.host.find(':') != std::string::npos;
        std::string host_header = (v6 ? "[" + u.host + "]" : u.host);
        if (u.port != 80) host_header += ":" + std::to_string(u.port);

        auto hst = std::make_shared<OpState>();
        auto response = std::make_shared<websocket::response_type>();
        ws->async_handshake(*response, host_header, u.target, [hst, response](beast::error_code ec) {
            hst->done = true;
            hst->ec = ec;
        });
        if (!run_until(ioc, deadline, [&] { return hst->done; })) {
            abort();
            throw TimeoutError("timed out in the WebSocket upgrade with " + where);
        }
        if (hst->ec) {
            int status = static_cast<int>(response->result_int());
            std::string body = response->body();
            abort();
            if (status != 0 && status != 101) {
                throw ConnectError("gateway at " + where + " refused the WebSocket upgrade: HTTP " +
                                       std::to_string(status) + (body.empty() ? "" : " " + body),
                                   status, body);
            }
            throw ConnectError("WebSocket upgrade with " + where + " failed: " + hst->ec.message());
        }
        start_read();
    }

    // Removes and returns the first buffered frame satisfying `pred`, reading more as needed.
    template <class Pred>
    Frame take_matching(Pred pred, SteadyClock::time_point deadline, std::chrono::milliseconds timeout,
                        const std::string& what) {
        size_t scanned = 0;
        for (;;) {
            for (; scanned < inbox.size(); ++scanned) {
                if (pred(inbox[scanned])) {
                    Frame f = std::move(inbox[scanned]);
                    inbox.erase(inbox.begin() + static_cast<std::ptrdiff_t>(scanned));
                    return f;
                }
            }
            if (!ws) throw ClosedError(what + ": not connected", CloseInfo{1006, {}});
            if (closed) throw closed_error(what);
            if (!run_until(ioc, deadline, [&] { return inbox.size() > scanned || closed.has_value(); })) {
                if (!closed && inbox.size() <= scanned) {
                    throw TimeoutError("timed out after " + std::to_string(timeout.count()) + " ms " + what);
                }
            }
        }
    }

    void write(std::string_view data, bool binary) {
        if (!ws) throw ClosedError("send: not connected", CloseInfo{1006, {}});
        if (closed) throw closed_error("send");
        auto st = std::make_shared<OpState>();
        auto copy = std::make_shared<std::string>(data);
        ws->binary(binary);
        ws->async_write(net::buffer(*copy), [st, copy](beast::error_code ec, size_t) {
            st->done = true;
            st->ec = ec;
        });
        if (!run_until(ioc, SteadyClock::now() + kWriteTimeout, [&] { return st->done; })) {
            abort();
            throw TimeoutError("timed out writing a frame");
        }
        if (st->ec) {
            // The read side usually learns why (close frame, reset); give it a moment to say so.
            run_until(ioc, SteadyClock::now() + std::chrono::milliseconds(50), [&] { return closed.has_value(); });
            if (!closed) mark_closed(st->ec);
            throw closed_error("send");
        }
    }

    void close(int code, std::string_view reason, std::chrono::milliseconds wait) {
        if (!ws || closed) return;
        closing = true;
        auto st = std::make_shared<OpState>();
        websocket::close_reason cr(static_cast<websocket::close_code>(code),
                                   beast::string_view(reason.data(), reason.size()));
        ws->async_close(cr, [st](beast::error_code ec) {
            st->done = true;
            st->ec = ec;
        });
        const auto deadline = SteadyClock::now() + wait;
        run_until(ioc, deadline, [&] { return st->done && !reading; });
        if (!closed) {
            if (st->done && !st->ec) {
                const auto& r = ws->reason();
                closed = CloseInfo{r.code == websocket::close_code::none ? 1005 : static_cast<int>(r.code),
                                   std::string(r.reason.data(), r.reason.size())};
            } else {
                closed = CloseInfo{1006, {}};
            }
        }
        abort();
    }
};

GatewayClient::GatewayClient() : impl_(std::make_unique<Impl>()) {}
GatewayClient::~GatewayClient() = default;

void GatewayClient::open(const std::string& url, std::chrono::milliseconds timeout,
                         const std::vector<std::pair<std::string, std::string>>& headers) {
    impl_->open(url, timeout, headers);
}

bool GatewayClient::is_open() const { return impl_->is_open(); }

Frame GatewayClient::read_frame(std::chrono::milliseconds timeout) {
    return impl_->take_matching([](const Frame&) { return true; }, SteadyClock::now() + timeout, timeout,
                                "waiting for a frame");
}

void GatewayClient::send_text(std::string_view text) { impl_->write(text, false); }
void GatewayClient::send_binary(std::string_view bytes) { impl_->write(bytes, true); }
void GatewayClient::send_json(const json::value& v) { impl_->write(json::serialize(v), false); }

CloseInfo GatewayClient::wait_close(std::chrono::milliseconds timeout) {
    auto& d = *impl_;
    if (!d.ws) throw ClosedError("wait_close: never connected", CloseInfo{1006, {}});
    if (!run_until(d.ioc, SteadyClock::now() + timeout, [&] { return d.closed.has_value(); })) {
        throw TimeoutError("timed out after " + std::to_string(timeout.count()) +
                           " ms waiting for the server to close");
    }
    // Let the transport finish so the server observes a completed close.
    if (d.reading) run_until(d.ioc, SteadyClock::now() + std::chrono::milliseconds(200), [&] { return !d.reading; });
    return *d.closed;
}

void GatewayClient::close(int code, std::string_view reason) { impl_->close(code, reason, kCloseWait); }
void GatewayClient::abort() { impl_->abort(); }
std::optional<CloseInfo> GatewayClient::close_info() const { return impl_->closed; }

const json::object& GatewayClient::wait_challenge(std::chrono::milliseconds timeout) {
    auto f = impl_->take_matching(
        [](const Frame& fr) {
            const auto* o = fr.json.if_object();
            return o && field(*o, "type") == "event" && field(*o, "event") == "connect.challenge";
        },
        SteadyClock::now() + timeout, timeout, "waiting for connect.challenge");
    const auto& o = f.json.get_object();
    auto it = o.find("payload");
    impl_->challenge = (it != o.end() && it->value().is_object()) ? it->value().get_object() : json::object{};
    return impl_->challenge;
}

json::object GatewayClient::connect(const ConnectOptions& opts) {
    const auto deadline = SteadyClock::now() + opts.timeout;
    open(opts.url, opts.timeout, opts.headers);
    wait_challenge(remaining(deadline));
    json::value params = build_connect_params(opts, impl_->challenge);
    std::string id = send_request("connect", &params);
    json::object res = wait_response(id, remaining(deadline));
    auto ok = res.find("ok");
    if (ok == res.end() || !ok->value().is_bool() || !ok->value().get_bool()) {
        auto err = res.find("error");
        throw RpcError(err != res.end() && err->value().is_object() ? err->value().get_object() : json::object{}, res);
    }
    auto payload = res.find("payload");
    impl_->hello =
        (payload != res.end() && payload->value().is_object()) ? payload->value().get_object() : json::object{};
    return impl_->hello;
}

const json::object& GatewayClient::challenge() const { return impl_->challenge; }
const json::object& GatewayClient::hello() const { return impl_->hello; }

std::string GatewayClient::send_request(std::string_view method, const json::value* params) {
    std::string id = std::to_string(impl_->next_id++);
    json::object frame;
    frame["type"] = "req";
    frame["id"] = id;
    frame["method"] = method;
    if (params) frame["params"] = *params;
    impl_->write(json::serialize(frame), false);
    return id;
}

json::object GatewayClient::wait_response(const std::string& id, std::chrono::milliseconds timeout) {
    auto f = impl_->take_matching(
        [&](const Frame& fr) {
            const auto* o = fr.json.if_object();
            return o && field(*o, "type") == "res" && field(*o, "id") == id;
        },
        SteadyClock::now() + timeout, timeout, "waiting for the response to request " + id);
    return std::move(f.json.get_object());
}

json::value GatewayClient::call(std::string_view method, const json::value& params, std::chrono::milliseconds timeout) {
    std::string id = send_request(method, &params);
    json::object res = wait_response(id, timeout);
    auto ok = res.find("ok");
    if (ok == res.end() || !ok->value().is_bool() || !ok->value().get_bool()) {
        auto err = res.find("error");
        throw RpcError(err != res.end() && err->value().is_object() ? err->value().get_object() : json::object{}, res);
    }
    auto payload = res.find("payload");
    return payload == res.end() ? json::value(nullptr) : payload->value();
}

json::object GatewayClient::wait_event(std::string_view event, std::chrono::milliseconds timeout,
                                       std::function<bool(const json::object&)> pred) {
    auto f = impl_->take_matching(
        [&](const Frame& fr) {
            const auto* o = fr.json.if_object();
            return o && field(*o, "type") == "event" && field(*o, "event") == event && (!pred || pred(*o));
        },
        SteadyClock::now() + timeout, timeout, "waiting for event " + std::string(event));
    return std::move(f.json.get_object());
}

std::vector<json::object> GatewayClient::take_buffered_events() {
    auto& d = *impl_;
    if (d.ws) run_until(d.ioc, SteadyClock::now(), [] { return false; });
    std::vector<json::object> out;
    for (auto it = d.inbox.begin(); it != d.inbox.end();) {
        const auto* o = it->json.if_object();
        if (o && field(*o, "type") == "event") {
            out.push_back(std::move(it->json.get_object()));
            it = d.inbox.erase(it);
        } else {
            ++it;
        }
    }
    return out;
}

size_t GatewayClient::buffered_count() const { return impl_->inbox.size(); }

// ---------------------------------------------------------------------------------------------
// Raw HTTP

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return std::string(s);
}

// Decodes a chunked body. Returns true once the terminating chunk (and trailers) are complete.
bool decode_chunked(std::string_view in, std::string& out) {
    out.clear();
    size_t pos = 0;
    for (;;) {
        size_t eol = in.find("\r\n", pos);
        if (eol == std::string_view::npos) return false;
        std::string size_text(in.substr(pos, eol - pos));
        size_t semi = size_text.find(';');
        if (semi != std::string::npos) size_text.resize(semi);
        size_t size = 0;
        try {
            size = std::stoul(trim(size_text), nullptr, 16);
        } catch (...) {
            throw std::runtime_error("malformed chunk size in HTTP response");
        }
        pos = eol + 2;
        if (size == 0) {
            // Trailers end with an empty line.
            for (;;) {
                size_t e = in.find("\r\n", pos);
                if (e == std::string_view::npos) return false;
                if (e == pos) return true;
                pos = e + 2;
            }
        }
        if (in.size() < pos + size + 2) return false;
        out.append(in.substr(pos, size));
        pos += size + 2;
    }
}

// Parses what arrived so far; returns true when the response is complete without waiting for EOF.
bool parse_http(const std::string& raw, bool eof, HttpResponse& r) {
    size_t head_end = raw.find("\r\n\r\n");
    if (head_end == std::string::npos) {
        if (eof && !raw.empty()) throw std::runtime_error("incomplete HTTP response head: " + raw.substr(0, 200));
        return false;
    }
    std::string_view head(raw.data(), head_end);
    size_t line_end = head.find("\r\n");
    std::string_view status_line = head.substr(0, line_end);
    if (status_line.substr(0, 5) != "HTTP/" || status_line.size() < 12) {
        throw std::runtime_error("malformed HTTP status line: " + std::string(status_line));
    }
    r.status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
    r.reason = status_line.size() > 13 ? std::string(status_line.substr(13)) : std::string();
    r.headers.clear();
    size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
        size_t e = head.find("\r\n", pos);
        if (e == std::string_view::npos) e = head.size();
        std::string_view line = head.substr(pos, e - pos);
        size_t colon = line.find(':');
        if (colon != std::string_view::npos) {
            std::string name = lower(trim(line.substr(0, colon)));
            std::string value = trim(line.substr(colon + 1));
            auto [it, inserted] = r.headers.emplace(name, value);
            if (!inserted) it->second += ", " + value;
        }
        pos = e + 2;
    }
    std::string_view body(raw.data() + head_end + 4, raw.size() - head_end - 4);
    if ((r.status >= 100 && r.status < 200) || r.status == 204 || r.status == 304) {
        r.body.clear();
        return true;
    }
    if (auto te = r.headers.find("transfer-encoding");
        te != r.headers.end() && lower(te->second).find("chunked") != std::string::npos) {
        bool complete = decode_chunked(body, r.body);
        if (!complete && eof) r.body.assign(body);  // truncated: hand back what came
        return complete;
    }
    if (auto cl = r.headers.find("content-length"); cl != r.headers.end()) {
        size_t want = std::strtoull(cl->second.c_str(), nullptr, 10);
        r.body.assign(body.substr(0, std::min(want, body.size())));
        return body.size() >= want;
    }
    r.body.assign(body);
    return false;  // delimited by EOF
}

}  // namespace

HttpResponse http_request(const std::string& host, uint16_t port, const std::string& raw_request_bytes,
                          std::chrono::milliseconds timeout) {
    net::io_context ioc{1};
    const auto deadline = SteadyClock::now() + timeout;
    const std::string where = host + ":" + std::to_string(port);
    tcp::socket sock(ioc);
    auto guard_close = [&] {
        beast::error_code ignored;
        sock.close(ignored);
        ioc.restart();
        ioc.run_for(std::chrono::milliseconds(100));
    };

    tcp::resolver resolver(ioc);
    beast::error_code ec;
    auto endpoints = resolver.resolve(host, std::to_string(port), ec);
    if (ec) throw ConnectError("cannot resolve " + host + ": " + ec.message());

    auto cst = std::make_shared<OpState>();
    net::async_connect(sock, endpoints, [cst](beast::error_code e, const tcp::endpoint&) {
        cst->done = true;
        cst->ec = e;
    });
    if (!run_until(ioc, deadline, [&] { return cst->done; })) {
        guard_close();
        throw TimeoutError("timed out connecting to " + where);
    }
    if (cst->ec) throw ConnectError("cannot connect to " + where + ": " + cst->ec.message());

    auto wst = std::make_shared<OpState>();
    auto payload = std::make_shared<std::string>(raw_request_bytes);
    net::async_write(sock, net::buffer(*payload), [wst, payload](beast::error_code e, size_t) {
        wst->done = true;
        wst->ec = e;
    });
    if (!run_until(ioc, deadline, [&] { return wst->done; })) {
        guard_close();
        throw TimeoutError("timed out writing the HTTP request to " + where);
    }
    // A write error (the server reset us mid-request) still leaves a response worth reading.

    HttpResponse r;
    auto chunk = std::make_shared<std::array<char, 16384>>();
    bool eof = false;
    while (!eof) {
        auto rst = std::make_shared<OpState>();
        auto n = std::make_shared<size_t>(0);
        sock.async_read_some(net::buffer(*chunk), [rst, n, chunk](beast::error_code e, size_t got) {
            rst->done = true;
            rst->ec = e;
            *n = got;
        });
        if (!run_until(ioc, deadline, [&] { return rst->done; })) {
            guard_close();
            throw TimeoutError("timed out reading the HTTP response from " + where + " (" +
                               std::to_string(r.raw.size()) + " bytes so far)");
        }
        r.raw.append(chunk->data(), *n);
        if (rst->ec) eof = true;
        if (r.raw.empty()) {
            if (eof) break;
            continue;
        }
        if (parse_http(r.raw, eof, r)) break;
    }
    guard_close();
    return r;
}

}  // namespace pincer::client
