// pincer_loadgen: opens N gateway connections (at most H handshakes at a time), optionally holds them
// idle, then keeps k requests in flight on each active connection for a bounded duration, and
// reports handshake and request latency, throughput, errors by code and the server's RSS.
// See bench/run.sh for the scenarios and `pincer_loadgen --help` for the options.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client/gateway_client.hpp"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using net::awaitable;
using net::use_awaitable;
namespace client = pincer::client;

struct Options {
    std::string url = "ws://127.0.0.1:18789/";
    std::string token, password;
    int connections = 1;
    int inflight = 1;
    int active = -1;  // connections that send requests; -1 = all
    std::string method = "health";
    std::string params = "{}";
    double duration_s = 10;
    double hold_s = 0;
    int handshake_concurrency = 16;
    int handshake_timeout_ms = 10000;
    double drain_s = 5;
    int threads = 1;
    int server_pid = 0;
    bool json = false;
    bool md_row = false;
    bool md_header = false;
    std::string label;
    std::string client_id = "gateway-client", client_mode = "backend";
    std::vector<std::string> scopes = {"operator.read"};
    bool first_hello = false;
    int64_t t0_ms = 0;
    double wait_s = 30;
};

int64_t epoch_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

struct MemInfo {
    int64_t rss_kb = -1, hwm_kb = -1;
};

MemInfo read_mem(const std::string& pid) {
    MemInfo m;
    std::ifstream in("/proc/" + pid + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) m.rss_kb = std::atoll(line.c_str() + 6);
        if (line.rfind("VmHWM:", 0) == 0) m.hwm_kb = std::atoll(line.c_str() + 6);
    }
    return m;
}

void raise_fd_limit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

struct Worker;

// State shared by all workers; counters are atomics because the main thread watches them.
struct Shared {
    Options opt;
    client::WsUrl url;
    std::string host_header;
    tcp::resolver::results_type endpoints;
    client::ConnectOptions connect_opts;
    std::string req_prefix, req_suffix;  // a request frame is prefix + id + suffix
    std::atomic<int> next_index{0};
    std::atomic<int> established{0}, failed{0}, open{0};
    std::atomic<int64_t> inflight{0};
    std::atomic<int64_t> load_end_ns{0};  // steady-clock ns; 0 = not in the load phase
    std::atomic<int64_t> load_start_ns{0};
};

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

struct Conn;

struct Worker {
    net::io_context ioc{1};
    std::vector<std::shared_ptr<Conn>> conns;
    std::vector<uint32_t> latency_us;
    std::vector<uint32_t> handshake_us;
    uint64_t ok_in_window = 0, ok_total = 0, events = 0, event_bytes = 0, lost = 0;
    std::map<std::string, uint64_t> error_codes;
    std::map<std::string, uint64_t> handshake_failures;
    std::thread thread;
};

struct Conn : std::enable_shared_from_this<Conn> {
    Conn(Worker& w, Shared& sh, bool active) : w(w), sh(sh), ws(w.ioc), active(active) {}
    Worker& w;
    Shared& sh;
    websocket::stream<beast::tcp_stream> ws;
    beast::flat_buffer buf;
    bool active;
    bool open = false;
    bool writing = false;
    bool stopping = false;
    int want_send = 0;
    uint64_t next_id = 1;
    std::vector<std::pair<uint64_t, Clock::time_point>> pending;
    std::string out;

    void kick() {
        if (writing || want_send == 0 || !open || stopping) return;
        writing = true;
        net::co_spawn(w.ioc, write_loop(shared_from_this()), net::detached);
    }

    static awaitable<void> write_loop(std::shared_ptr<Conn> self) {
        while (self->want_send > 0 && self->open && !self->stopping) {
            --self->want_send;
            uint64_t id = self->next_id++;
            self->out = self->sh.req_prefix + std::to_string(id) + self->sh.req_suffix;
            self->pending.emplace_back(id, Clock::now());
            self->sh.inflight.fetch_add(1);
            beast::error_code ec;
            co_await self->ws.async_write(net::buffer(self->out), net::redirect_error(use_awaitable, ec));
            if (ec) break;
        }
        self->writing = false;
    }

    void on_frame(std::string_view text, Clock::time_point at) {
        // Broadcast events (presence lists can be tens of KB each) would dominate our CPU if parsed;
        // only responses need parsing.
        if (text.find(R"("type":"res")") == std::string_view::npos) {
            ++w.events;
            w.event_bytes += text.size();
            return;
        }
        unsigned char scratch[4096];
        json::monotonic_resource mr(scratch, sizeof(scratch));
        boost::system::error_code ec;
        json::value v = json::parse(text, ec, &mr);
        const json::object* o = ec ? nullptr : v.if_object();
        if (!o) return;
        auto type = o->if_contains("type");
        if (!type || !type->is_string()) return;
        if (type->get_string() == "event") {
            ++w.events;
            return;
        }
        if (type->get_string() != "res") return;
        auto idv = o->if_contains("id");
        if (!idv || !idv->is_string()) return;
        uint64_t id = 0;
        auto ids = idv->get_string();
        std::from_chars(ids.data(), ids.data() + ids.size(), id);
        auto it = std::find_if(pending.begin(), pending.end(), [&](const auto& p) { return p.first == id; });
        if (it == pending.end()) return;
        auto sent = it->second;
        *it = pending.back();
        pending.pop_back();
        sh.inflight.fetch_sub(1);
        const int64_t end = sh.load_end_ns.load();
        const bool in_window = end != 0 && at.time_since_epoch().count() <= end;
        auto okv = o->if_contains("ok");
        if (okv && okv->is_bool() && okv->get_bool()) {
            ++w.ok_total;
            if (in_window) ++w.ok_in_window;
            auto us = std::chrono::duration_cast<std::chrono::microseconds>(at - sent).count();
            w.latency_us.push_back(static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX)));
        } else {
            std::string code = "UNKNOWN";
            if (auto err = o->if_contains("error"); err && err->is_object()) {
                if (auto c = err->get_object().if_contains("code"); c && c->is_string()) code = c->get_string();
            }
            ++w.error_codes[code];
        }
        if (active && in_window && !stopping && now_ns() < end) {
            ++want_send;
            kick();
        }
    }

    static awaitable<void> read_loop(std::shared_ptr<Conn> self) {
        for (;;) {
            beast::error_code ec;
            co_await self->ws.async_read(self->buf, net::redirect_error(use_awaitable, ec));
            if (ec) break;
            auto data = self->buf.cdata();
            self->on_frame(std::string_view(static_cast<const char*>(data.data()), data.size()), Clock::now());
            self->buf.consume(self->buf.size());
        }
        self->open = false;
        self->sh.open.fetch_sub(1);
        if (!self->pending.empty()) {
            self->w.lost += self->pending.size();
            self->sh.inflight.fetch_sub(static_cast<int64_t>(self->pending.size()));
            self->pending.clear();
        }
    }
};

std::string frame_error_text(const json::object& res) {
    std::string code = "UNKNOWN", msg;
    if (auto err = res.if_contains("error"); err && err->is_object()) {
        if (auto c = err->get_object().if_contains("code"); c && c->is_string()) code = c->get_string();
        if (auto m = err->get_object().if_contains("message"); m && m->is_string()) msg = m->get_string();
    }
    if (msg.size() > 60) msg.resize(60);
    return code + (msg.empty() ? "" : " " + msg);
}

// Performs one connection's handshake; returns "" on hello-ok, else a failure label.
awaitable<std::string> handshake(std::shared_ptr<Conn> conn) {
    Shared& sh = conn->sh;
    auto& stream = beast::get_lowest_layer(conn->ws);
    stream.expires_after(std::chrono::milliseconds(sh.opt.handshake_timeout_ms));
    beast::error_code ec;
    co_await stream.async_connect(sh.endpoints, net::redirect_error(use_awaitable, ec));
    if (ec) co_return ec == beast::error::timeout ? "timeout (tcp connect)" : "tcp: " + ec.message();
    stream.socket().set_option(tcp::no_delay(true), ec);
    conn->ws.auto_fragment(false);
    conn->ws.read_message_max(64u * 1024 * 1024);
    conn->ws.set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(beast::http::field::user_agent, "pincer-loadgen/0.1"); }));
    websocket::response_type upgrade;
    co_await conn->ws.async_handshake(upgrade, sh.host_header, sh.url.target, net::redirect_error(use_awaitable, ec));
    if (ec) {
        if (upgrade.result_int() != 0 && upgrade.result_int() != 101)
            co_return "HTTP " + std::to_string(upgrade.result_int());
        co_return ec == beast::error::timeout ? "timeout (upgrade)" : "upgrade: " + ec.message();
    }
    beast::flat_buffer buf;
    json::object challenge;
    for (;;) {
        co_await conn->ws.async_read(buf, net::redirect_error(use_awaitable, ec));
        if (ec)
            co_return ec == beast::error::timeout ? "timeout (challenge)" : "closed before challenge: " + ec.message();
        boost::system::error_code jec;
        json::value v = json::parse(beast::buffers_to_string(buf.data()), jec);
        buf.consume(buf.size());
        if (jec || !v.is_object()) continue;
        auto& o = v.get_object();
        if (auto e = o.if_contains("event"); e && e->is_string() && e->get_string() == "connect.challenge") {
            if (auto p = o.if_contains("payload"); p && p->is_object()) challenge = p->get_object();
            break;
        }
    }
    json::object frame{{"type", "req"}, {"id", "c"}, {"method", "connect"}};
    frame["params"] = client::build_connect_params(sh.connect_opts, challenge);
    std::string text = json::serialize(frame);
    co_await conn->ws.async_write(net::buffer(text), net::redirect_error(use_awaitable, ec));
    if (ec) co_return "write connect: " + ec.message();
    for (;;) {
        co_await conn->ws.async_read(buf, net::redirect_error(use_awaitable, ec));
        if (ec) co_return ec == beast::error::timeout ? "timeout (hello)" : "closed before hello: " + ec.message();
        boost::system::error_code jec;
        json::value v = json::parse(beast::buffers_to_string(buf.data()), jec);
        buf.consume(buf.size());
        if (jec || !v.is_object()) continue;
        auto& o = v.get_object();
        auto id = o.if_contains("id");
        if (!id || !id->is_string() || id->get_string() != "c") continue;
        auto ok = o.if_contains("ok");
        if (!ok || !ok->is_bool() || !ok->get_bool()) co_return frame_error_text(o);
        break;
    }
    stream.expires_never();
    co_return std::string();
}

awaitable<void> handshake_worker(Worker& w, Shared& sh) {
    const int active = sh.opt.active < 0 ? sh.opt.connections : sh.opt.active;
    for (;;) {
        int idx = sh.next_index.fetch_add(1);
        if (idx >= sh.opt.connections) co_return;
        auto conn = std::make_shared<Conn>(w, sh, idx < active);
        auto t0 = Clock::now();
        std::string failure;
        try {
            failure = co_await handshake(conn);
        } catch (const std::exception& e) {
            failure = e.what();
        }
        if (!failure.empty()) {
            ++w.handshake_failures[failure];
            sh.failed.fetch_add(1);
            continue;
        }
        w.handshake_us.push_back(
            static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count()));
        conn->open = true;
        sh.open.fetch_add(1);
        w.conns.push_back(conn);
        net::co_spawn(w.ioc, Conn::read_loop(conn), net::detached);
        sh.established.fetch_add(1);
    }
}

double percentile_ms(std::vector<uint32_t>& v, double p) {
    if (v.empty()) return 0;
    size_t idx = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(idx), v.end());
    return v[idx] / 1000.0;
}

std::string fmt_ms(double ms) {
    char b[32];
    std::snprintf(b, sizeof b, ms < 10 ? "%.2f ms" : (ms < 100 ? "%.1f ms" : "%.0f ms"), ms);
    return b;
}

std::string fmt_mb(int64_t kb) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f MB", kb / 1024.0);
    return b;
}

// --first-hello: retry connects until one yields hello-ok; reports the time since t0.
int run_first_hello(const Options& opt) {
    const int64_t t0 = opt.t0_ms ? opt.t0_ms : epoch_ms();
    const auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(opt.wait_s * 1000));
    int attempts = 0;
    std::string last_error;
    while (Clock::now() < deadline) {
        ++attempts;
        auto a0 = Clock::now();
        try {
            client::GatewayClient gw;
            client::ConnectOptions co;
            co.url = opt.url;
            co.token = opt.token;
            co.password = opt.password;
            co.client_id = opt.client_id;
            co.client_mode = opt.client_mode;
            co.role = "operator";
            co.scopes = opt.scopes;
            co.timeout = std::chrono::milliseconds(2000);
            gw.connect(co);
            const int64_t since = epoch_ms() - t0;
            const double connect_ms =
                std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - a0).count() / 1000.0;
            if (opt.json) {
                std::cout << json::serialize(json::object{
                                 {"firstHelloMs", since}, {"attempts", attempts}, {"connectMs", connect_ms}})
                          << "\n";
            } else {
                std::cout << "first hello-ok after " << since << " ms (" << attempts << " attempts, last connect "
                          << fmt_ms(connect_ms) << ")\n";
            }
            return 0;
        } catch (const std::exception& e) {
            last_error = e.what();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::cerr << "pincer_loadgen: no hello-ok within " << opt.wait_s << " s (" << attempts
              << " attempts; last error: " << last_error << ")\n";
    return 1;
}

void merge_into(std::map<std::string, uint64_t>& dst, const std::map<std::string, uint64_t>& src) {
    for (const auto& [k, v] : src) dst[k] += v;
}

int run_load(const Options& opt) {
    raise_fd_limit();
    Shared sh;
    sh.opt = opt;
    sh.url = client::parse_ws_url(opt.url);
    sh.host_header = sh.url.host + ":" + std::to_string(sh.url.port);
    {
        net::io_context tmp;
        tcp::resolver r(tmp);
        sh.endpoints = r.resolve(sh.url.host, std::to_string(sh.url.port));
    }
    auto& co = sh.connect_opts;
    co.token = opt.token;
    co.password = opt.password;
    co.client_id = opt.client_id;
    co.client_mode = opt.client_mode;
    co.role = "operator";
    co.scopes = opt.scopes;
    json::value params = json::parse(opt.params);
    sh.req_prefix = R"({"type":"req","id":")";
    sh.req_suffix =
        R"(","method":)" + json::serialize(json::value(opt.method)) + R"(,"params":)" + json::serialize(params) + "}";

    const std::string pid = std::to_string(opt.server_pid);
    MemInfo mem_before, mem_connected, mem_after;
    if (opt.server_pid) mem_before = read_mem(pid);

    const int nthreads = std::max(1, opt.threads);
    std::vector<std::unique_ptr<Worker>> workers;
    for (int i = 0; i < nthreads; ++i) workers.push_back(std::make_unique<Worker>());
    std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
    for (auto& w : workers) guards.emplace_back(w->ioc.get_executor());

    const auto hs_start = Clock::now();
    const int hcount = std::max(1, std::min(opt.handshake_concurrency, opt.connections));
    for (int i = 0; i < hcount; ++i) {
        Worker& w = *workers[static_cast<size_t>(i % nthreads)];
        net::co_spawn(w.ioc, handshake_worker(w, sh), net::detached);
    }
    for (auto& w : workers) w->thread = std::thread([&ioc = w->ioc] { ioc.run(); });

    while (sh.established.load() + sh.failed.load() < opt.connections) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    const double hs_total_ms =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - hs_start).count() / 1000.0;
    if (!opt.json && !opt.md_row) {
        std::cerr << "pincer_loadgen: " << sh.established.load() << "/" << opt.connections << " connected in "
                  << fmt_ms(hs_total_ms) << "\n";
    }

    if (opt.hold_s > 0) std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(opt.hold_s * 1000)));
    if (opt.server_pid) mem_connected = read_mem(pid);

    double window_s = 0;
    if (opt.duration_s > 0 && sh.established.load() > 0) {
        const int64_t start = now_ns();
        const int64_t end = start + static_cast<int64_t>(opt.duration_s * 1e9);
        sh.load_start_ns = start;
        sh.load_end_ns = end;
        for (auto& w : workers) {
            net::post(w->ioc, [wp = w.get(), k = opt.inflight] {
                for (auto& c : wp->conns) {
                    if (!c->active || !c->open) continue;
                    c->want_send += k;
                    c->kick();
                }
            });
        }
        std::this_thread::sleep_until(Clock::time_point(std::chrono::nanoseconds(end)));
        window_s = opt.duration_s;
        const auto drain_deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(opt.drain_s * 1000));
        while (sh.inflight.load() > 0 && Clock::now() < drain_deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
    if (opt.server_pid) mem_after = read_mem(pid);
    const int64_t unanswered = sh.inflight.load();

    // Close everything: a bounded close handshake per connection, then stop.
    for (auto& w : workers) {
        net::post(w->ioc, [wp = w.get()] {
            for (auto& c : wp->conns) {
                c->stopping = true;
                if (!c->open) continue;
                beast::get_lowest_layer(c->ws).expires_after(std::chrono::seconds(3));
                c->ws.async_close(websocket::close_code::normal, [c](beast::error_code) {});
            }
        });
    }
    guards.clear();
    const auto close_deadline = Clock::now() + std::chrono::seconds(5);
    while (sh.open.load() > 0 && Clock::now() < close_deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    for (auto& w : workers) w->ioc.stop();
    for (auto& w : workers) w->thread.join();

    std::vector<uint32_t> lat, hs;
    uint64_t ok_window = 0, ok_total = 0, events = 0, event_bytes = 0, lost = 0;
    std::map<std::string, uint64_t> errors, hs_failures;
    for (auto& w : workers) {
        lat.insert(lat.end(), w->latency_us.begin(), w->latency_us.end());
        hs.insert(hs.end(), w->handshake_us.begin(), w->handshake_us.end());
        ok_window += w->ok_in_window;
        ok_total += w->ok_total;
        events += w->events;
        event_bytes += w->event_bytes;
        lost += w->lost;
        merge_into(errors, w->error_codes);
        merge_into(hs_failures, w->handshake_failures);
    }
    uint64_t error_count = 0;
    for (const auto& [k, v] : errors) error_count += v;
    const double rps = window_s > 0 ? static_cast<double>(ok_window) / window_s : 0;
    const double lat_p50 = percentile_ms(lat, 0.50), lat_p99 = percentile_ms(lat, 0.99);
    const double lat_max = lat.empty() ? 0 : *std::max_element(lat.begin(), lat.end()) / 1000.0;
    const double hs_p50 = percentile_ms(hs, 0.50), hs_p99 = percentile_ms(hs, 0.99);
    const int established = sh.established.load();
    const int64_t rss_delta_kb =
        (mem_connected.rss_kb >= 0 && mem_before.rss_kb >= 0) ? mem_connected.rss_kb - mem_before.rss_kb : -1;
    const double kb_per_conn =
        (rss_delta_kb >= 0 && established > 0) ? static_cast<double>(rss_delta_kb) / established : -1;
    const MemInfo self_mem = read_mem("self");

    if (opt.md_row) {
        std::string errs;
        for (const auto& [k, v] : errors) errs += (errs.empty() ? "" : ", ") + std::to_string(v) + " × " + k;
        for (const auto& [k, v] : hs_failures) {
            errs += (errs.empty() ? "" : ", ") + std::to_string(v) + " × handshake " + k;
        }
        if (unanswered > 0) errs += (errs.empty() ? "" : ", ") + std::to_string(unanswered) + " unanswered";
        char rate[32];
        std::snprintf(rate, sizeof rate, "%.0f", rps);
        const int active = opt.active < 0 ? opt.connections : std::min(opt.active, opt.connections);
        std::cout << "| " << (opt.label.empty() ? opt.method : opt.label) << " | " << opt.connections << " | " << active
                  << " | " << opt.inflight << " | " << fmt_ms(hs_total_ms) << " / " << fmt_ms(hs_p50) << " / "
                  << fmt_ms(hs_p99) << " | " << (window_s > 0 ? rate : "–") << " | "
                  << (window_s > 0 ? fmt_ms(lat_p50) : "–") << " | " << (window_s > 0 ? fmt_ms(lat_p99) : "–") << " | "
                  << (window_s > 0 ? fmt_ms(lat_max) : "–") << " | " << (errs.empty() ? "0" : errs) << " | " << events
                  << " (" << fmt_mb(static_cast<int64_t>(event_bytes / 1024)) << ") | ";
        if (opt.server_pid) {
            std::cout << fmt_mb(mem_before.rss_kb) << " → " << fmt_mb(mem_connected.rss_kb) << " → "
                      << fmt_mb(mem_after.rss_kb) << " | ";
            if (kb_per_conn >= 0) {
                char b[32];
                std::snprintf(b, sizeof b, "%.1f", kb_per_conn);
                std::cout << b;
            } else {
                std::cout << "–";
            }
            std::cout << " |\n";
        } else {
            std::cout << "– | – |\n";
        }
    } else if (opt.json) {
        json::object out{{"url", opt.url},
                         {"method", opt.method},
                         {"connections", opt.connections},
                         {"active", opt.active < 0 ? opt.connections : std::min(opt.active, opt.connections)},
                         {"inflight", opt.inflight},
                         {"threads", nthreads},
                         {"durationS", opt.duration_s},
                         {"established", established},
                         {"handshakeFailed", sh.failed.load()},
                         {"handshakeTotalMs", hs_total_ms},
                         {"handshakeP50Ms", hs_p50},
                         {"handshakeP99Ms", hs_p99},
                         {"okInWindow", ok_window},
                         {"okTotal", ok_total},
                         {"okPerSec", rps},
                         {"latencyP50Ms", lat_p50},
                         {"latencyP99Ms", lat_p99},
                         {"latencyMaxMs", lat_max},
                         {"errorCount", error_count},
                         {"unanswered", unanswered},
                         {"lostOnDisconnect", lost},
                         {"events", events},
                         {"eventBytes", event_bytes},
                         {"loadgenRssKb", self_mem.rss_kb}};
        json::object e, hf;
        for (const auto& [k, v] : errors) e[k] = v;
        for (const auto& [k, v] : hs_failures) hf[k] = v;
        out["errors"] = std::move(e);
        out["handshakeFailures"] = std::move(hf);
        if (opt.server_pid) {
            out["serverRssBeforeKb"] = mem_before.rss_kb;
            out["serverRssConnectedKb"] = mem_connected.rss_kb;
            out["serverRssAfterKb"] = mem_after.rss_kb;
            out["serverHwmAfterKb"] = mem_after.hwm_kb;
            out["serverKbPerConnection"] = kb_per_conn;
        }
        std::cout << json::serialize(out) << "\n";
    } else {
        std::cout << "target       " << opt.url << " · method " << opt.method << " · N=" << opt.connections
                  << " k=" << opt.inflight << " threads=" << nthreads << " duration=" << opt.duration_s << "s\n";
        std::cout << "connections  " << established << " established, " << sh.failed.load() << " failed\n";
        for (const auto& [k, v] : hs_failures) std::cout << "             " << v << " × " << k << "\n";
        std::cout << "handshakes   total " << fmt_ms(hs_total_ms) << " · p50 " << fmt_ms(hs_p50) << " · p99 "
                  << fmt_ms(hs_p99) << "\n";
        if (window_s > 0) {
            char rate[32];
            std::snprintf(rate, sizeof rate, "%.0f", rps);
            std::cout << "requests     " << ok_total << " ok (" << rate << " req/s in window) · p50 " << fmt_ms(lat_p50)
                      << " · p99 " << fmt_ms(lat_p99) << " · max " << fmt_ms(lat_max) << "\n";
            std::cout << "errors       " << (errors.empty() ? "none" : "");
            bool first = true;
            for (const auto& [k, v] : errors) {
                std::cout << (first ? "" : ", ") << v << " × " << k;
                first = false;
            }
            std::cout << "\n";
            if (unanswered > 0 || lost > 0) {
                std::cout << "unanswered   " << unanswered << " after drain, " << lost << " lost on disconnect\n";
            }
        }
        std::cout << "events       " << events << " received (" << fmt_mb(static_cast<int64_t>(event_bytes / 1024))
                  << ")\n";
        if (opt.server_pid) {
            std::cout << "server RSS   before " << fmt_mb(mem_before.rss_kb) << " → connected "
                      << fmt_mb(mem_connected.rss_kb) << " → after " << fmt_mb(mem_after.rss_kb) << " (HWM "
                      << fmt_mb(mem_after.hwm_kb) << ")";
            if (kb_per_conn >= 0) {
                char b[48];
                std::snprintf(b, sizeof b, " · %.1f KB per connection", kb_per_conn);
                std::cout << b;
            }
            std::cout << "\n";
        }
    }
    return established == opt.connections ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    CLI::App app{"pincer_loadgen: bounded load generator for the Pincer/OpenClaw gateway WebSocket protocol"};
    app.add_option("--url", opt.url, "Gateway URL")->capture_default_str();
    app.add_option("--token", opt.token, "Gateway auth token");
    app.add_option("--password", opt.password, "Gateway auth password");
    app.add_option("-c,--connections", opt.connections, "Connections to open")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    app.add_option("-k,--inflight", opt.inflight, "Requests kept in flight per active connection")
        ->check(CLI::Range(1, 10000))
        ->capture_default_str();
    app.add_option("--active", opt.active, "Connections that send requests (default: all); the rest stay idle");
    app.add_option("--method", opt.method, "Method to call")->capture_default_str();
    app.add_option("--params", opt.params, "Params (JSON)")->capture_default_str();
    app.add_option("-d,--duration", opt.duration_s, "Load phase in seconds (0: handshake only)")
        ->check(CLI::Range(0.0, 3600.0))
        ->capture_default_str();
    app.add_option("--hold", opt.hold_s, "Keep connections idle this many seconds after the handshakes")
        ->check(CLI::Range(0.0, 3600.0));
    app.add_option("--handshake-concurrency", opt.handshake_concurrency,
                   "Handshakes in progress at once (the server allows 32 unauthenticated sockets per IP)")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    app.add_option("--handshake-timeout", opt.handshake_timeout_ms, "Per-handshake timeout (ms)")
        ->capture_default_str();
    app.add_option("--drain", opt.drain_s, "Seconds to wait for in-flight replies after the load phase")
        ->capture_default_str();
    app.add_option("-t,--threads", opt.threads, "Client threads (one io_context each)")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    app.add_option("--server-pid", opt.server_pid, "Server PID, to report its VmRSS/VmHWM");
    app.add_flag("--json", opt.json, "Print one JSON object");
    app.add_option("--client-id", opt.client_id, "connect client.id")->capture_default_str();
    app.add_option("--client-mode", opt.client_mode, "connect client.mode")->capture_default_str();
    app.add_option("--scopes", opt.scopes, "Operator scopes to request")->delimiter(',');
    app.add_flag("--first-hello", opt.first_hello,
                 "Retry a single connect until hello-ok and print the ms elapsed since --t0-ms");
    app.add_option("--t0-ms", opt.t0_ms, "Epoch ms the clock starts at for --first-hello (default: now)");
    app.add_option("--wait", opt.wait_s, "Give up --first-hello after this many seconds")->capture_default_str();
    app.add_flag("--md", opt.md_row, "Print one markdown table row (see --md-header)");
    app.add_flag("--md-header", opt.md_header, "Print the markdown table header for --md rows and exit");
    app.add_option("--label", opt.label, "Scenario label for --md (default: the method)");
    CLI11_PARSE(app, argc, argv);
    if (opt.md_header) {
        std::cout << "| scenario | N | active | k | handshakes total / p50 / p99 | ok req/s | p50 | p99 | max | errors "
                     "| events | "
                     "server RSS before → connected → after | server KB/conn |\n"
                     "| --- | --: | --: | --: | --- | --: | --: | --: | --: | --- | --: | --- | --: |\n";
        return 0;
    }

    try {
        if (opt.first_hello) return run_first_hello(opt);
        return run_load(opt);
    } catch (const std::exception& e) {
        std::cerr << "pincer_loadgen: " << e.what() << "\n";
        return 2;
    }
}
