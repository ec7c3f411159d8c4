// pincer_chatbench: agent-runtime benchmarks against a running gateway (see bench/chat_bench.sh).
//
//   fanout  N clients connect; one sends chat.send and every client counts the run's `agent`
//           assistant events, `chat` deltas and the final. Reports the gateway's CPU time (all
//           threads, /proc/<pid>/task/*/schedstat; the user/system split from /proc/<pid>/stat)
//           per model delta per client, wall time and drops
//           (gaps in the per-connection event seq: the gateway skips droppable events for a client
//           whose queue is over maxBufferedBytes).
//   rpc     one client times sequential calls (client-observed round trip, send to last byte of
//           the response) for each --call LABEL|METHOD|PARAMS; reports p50/p99/max.
//   soak    C clients each run chat.send → wait for its final, back to back, for --duration s,
//           while the gateway's RSS is sampled every --sample s.
//
// One thread, one io_context, coroutines; clients connect as gateway-client/backend with
// operator.read + operator.write, at most 16 handshakes at a time. Events are classified by
// string search (fanout delivers a million frames), responses are parsed only where needed.
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_map>
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
using namespace std::chrono_literals;

struct Options {
    std::string mode;
    std::string url = "ws://127.0.0.1:18789/";
    std::string token;
    int server_pid = 0;
    int clients = 1000;
    int handshake_concurrency = 16;
    double hold_s = 3;
    // fanout
    int deltas = 1000;  // what the model streams per run (for the per-delta figure and the check)
    std::string session_key = "agent:main:main";
    double run_timeout_s = 300;
    // rpc
    std::vector<std::string> calls;
    int iterations = 200;
    int warmup = 5;
    // soak
    double duration_s = 600;
    double sample_s = 10;
    int soak_deltas = 50;
    std::string samples_out;
    bool md = false;
};

// ---- /proc helpers ----

struct Cpu {
    double user_s = 0, sys_s = 0;
    double total() const { return user_s + sys_s; }
};

Cpu read_cpu(int pid) {
    Cpu c;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = all.rfind(')');
    if (close == std::string::npos) return c;
    std::istringstream rest(all.substr(close + 2));
    std::vector<std::string> f;
    std::string tok;
    while (rest >> tok) f.push_back(tok);
    // Fields after "(comm)": state is field 3, utime 14, stime 15 (1-based) → indexes 11, 12 here.
    if (f.size() < 13) return c;
    const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
    c.user_s = std::stod(f[11]) / hz;
    c.sys_s = std::stod(f[12]) / hz;
    return c;
}

// Nanoseconds on CPU (user + system) of all the process's threads, from
// /proc/<pid>/task/*/schedstat: finer than /proc/<pid>/stat's clock ticks (10 ms), but a thread
// that exits takes its time with it (the gateway's threads live as long as the process).
double read_sched_s(int pid) {
    double total = 0;
    std::error_code ec;
    for (const auto& t : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        std::ifstream in(t.path() / "schedstat");
        long long ns = 0;
        if (in >> ns) total += static_cast<double>(ns) / 1e9;
    }
    return total;
}

struct Mem {
    int64_t rss_kb = -1, hwm_kb = -1;
};

Mem read_mem(int pid) {
    Mem m;
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) m.rss_kb = std::atoll(line.c_str() + 6);
        if (line.rfind("VmHWM:", 0) == 0) m.hwm_kb = std::atoll(line.c_str() + 6);
    }
    return m;
}

Cpu self_cpu() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return Cpu{ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6};
}

void raise_fd_limit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

std::string fmt(const char* f, double v) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

std::string fmt_ms(double ms) { return fmt(ms < 10 ? "%.2f ms" : (ms < 100 ? "%.1f ms" : "%.0f ms"), ms); }
std::string fmt_mb(int64_t kb) { return fmt("%.1f MB", kb / 1024.0); }

double percentile_ms(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    size_t idx = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(idx), v.end());
    return v[idx];
}

awaitable<void> sleep_for(Clock::duration d) {
    net::steady_timer t(co_await net::this_coro::executor, d);
    beast::error_code ec;
    co_await t.async_wait(net::redirect_error(use_awaitable, ec));
}

// The value of the string member `"name":"…"` at or after `from` (no unescaping; ids and states
// are plain ASCII). Empty when absent.
std::string_view string_member(std::string_view text, std::string_view name, size_t limit = std::string_view::npos) {
    std::string key = "\"" + std::string(name) + "\":\"";
    auto head = text.substr(0, limit);
    auto at = head.find(key);
    if (at == std::string_view::npos) return {};
    auto start = at + key.size();
    auto end = text.find('"', start);
    if (end == std::string_view::npos) return {};
    return text.substr(start, end - start);
}

// ---- connections ----

struct Waiter {
    explicit Waiter(const net::any_io_executor& ex) : timer(ex, Clock::time_point::max()) {}
    net::steady_timer timer;
    bool done = false;
    std::string frame;
    Clock::time_point at;
};

struct Counters {
    uint64_t events = 0, bytes = 0;
    uint64_t assistant = 0, chat_deltas = 0, finals = 0, errors = 0, aborted = 0;
    uint64_t seq_gaps = 0;
    int64_t last_seq = -1;
    Clock::time_point final_at;
};

struct Shared {
    Options opt;
    client::WsUrl url;
    std::string host_header;
    tcp::resolver::results_type endpoints;
    client::ConnectOptions connect_opts;
    int next_index = 0, established = 0, failed = 0;
    std::map<std::string, int> handshake_failures;
};

struct Conn : std::enable_shared_from_this<Conn> {
    Conn(net::io_context& ioc, Shared& sh) : sh(sh), ws(ioc) {}
    Shared& sh;
    websocket::stream<beast::tcp_stream> ws;
    beast::flat_buffer buf;
    bool open = false;
    uint64_t next_id = 1;
    std::unordered_map<std::string, std::shared_ptr<Waiter>> responses;  // by request id
    std::unordered_map<std::string, std::shared_ptr<Waiter>> finals;     // by runId
    Counters c;

    void on_frame(std::string_view text, Clock::time_point at) {
        if (text.size() > 14 && text.substr(0, 14) == R"({"type":"res",)") {
            auto id = string_member(text, "id", 64);
            auto it = responses.find(std::string(id));
            if (it == responses.end()) return;
            it->second->done = true;
            it->second->frame.assign(text);
            it->second->at = at;
            it->second->timer.cancel();
            responses.erase(it);
            return;
        }
        ++c.events;
        c.bytes += text.size();
        // Broadcast frames end in `,"seq":N}`; the gateway counts a dropped event too, so a gap
        // is a drop.
        if (auto s = text.rfind(R"(,"seq":)"); s != std::string_view::npos && text.back() == '}') {
            int64_t seq = -1;
            std::from_chars(text.data() + s + 7, text.data() + text.size() - 1, seq);
            if (seq >= 0) {
                if (c.last_seq >= 0 && seq > c.last_seq + 1) c.seq_gaps += static_cast<uint64_t>(seq - c.last_seq - 1);
                c.last_seq = seq;
            }
        }
        constexpr std::string_view kEvent = R"({"type":"event","event":")";
        if (text.substr(0, kEvent.size()) != kEvent) return;
        auto name = text.substr(kEvent.size(), 8);
        if (name.starts_with("agent\"")) {
            if (text.substr(0, 320).find(R"("stream":"assistant")") != std::string_view::npos) ++c.assistant;
        } else if (name.starts_with("chat\"")) {
            auto state = string_member(text, "state", 400);
            if (state == "delta") {
                ++c.chat_deltas;
                return;
            }
            if (state == "final") {
                ++c.finals;
            } else if (state == "error") {
                ++c.errors;
            } else if (state == "aborted") {
                ++c.aborted;
            } else {
                return;
            }
            c.final_at = at;
            auto run = string_member(text, "runId", 200);
            auto it = finals.find(std::string(run));
            if (it == finals.end()) return;
            it->second->done = true;
            it->second->frame.assign(text);
            it->second->at = at;
            it->second->timer.cancel();
            finals.erase(it);
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
        for (auto& [k, w] : self->responses) w->timer.cancel();
        for (auto& [k, w] : self->finals) w->timer.cancel();
        self->responses.clear();
        self->finals.clear();
    }

    std::shared_ptr<Waiter> expect_final(const std::string& run_id) {
        auto w = std::make_shared<Waiter>(ws.get_executor());
        finals[run_id] = w;
        return w;
    }

    struct Reply {
        bool ok = false;
        std::string frame;  // empty on timeout / closed
        double rtt_ms = 0;
    };

    // Sends one request and waits for its response.
    awaitable<Reply> call(std::string_view method, std::string_view params_json, Clock::duration timeout) {
        auto self = shared_from_this();
        std::string id = std::to_string(next_id++);
        auto w = std::make_shared<Waiter>(ws.get_executor());
        responses[id] = w;
        std::string text = R"({"type":"req","id":")" + id + R"(","method":)" +
                           json::serialize(json::string_view(method.data(), method.size())) + R"(,"params":)" +
                           std::string(params_json) + "}";
        const auto sent = Clock::now();
        beast::error_code ec;
        co_await ws.async_write(net::buffer(text), net::redirect_error(use_awaitable, ec));
        Reply r;
        if (ec) {
            responses.erase(id);
            co_return r;
        }
        if (!w->done) {
            w->timer.expires_at(sent + timeout);
            co_await w->timer.async_wait(net::redirect_error(use_awaitable, ec));
        }
        if (!w->done) {
            responses.erase(id);
            co_return r;
        }
        r.frame = std::move(w->frame);
        r.rtt_ms = std::chrono::duration_cast<std::chrono::nanoseconds>(w->at - sent).count() / 1e6;
        r.ok = r.frame.substr(0, 80).find(R"("ok":true)") != std::string::npos;
        co_return r;
    }
};

awaitable<bool> wait_for(std::shared_ptr<Waiter> w, Clock::duration timeout) {
    if (!w->done) {
        w->timer.expires_after(timeout);
        beast::error_code ec;
        co_await w->timer.async_wait(net::redirect_error(use_awaitable, ec));
    }
    co_return w->done;
}

std::string frame_error_text(const json::object& res) {
    std::string code = "UNKNOWN", msg;
    if (auto err = res.if_contains("error"); err && err->is_object()) {
        if (auto c = err->get_object().if_contains("code"); c && c->is_string()) code = c->get_string();
        if (auto m = err->get_object().if_contains("message"); m && m->is_string()) msg = m->get_string();
    }
    if (msg.size() > 80) msg.resize(80);
    return code + (msg.empty() ? "" : " " + msg);
}

// One connection's handshake; "" on hello-ok, else a failure label.
awaitable<std::string> handshake(std::shared_ptr<Conn> conn) {
    Shared& sh = conn->sh;
    auto& stream = beast::get_lowest_layer(conn->ws);
    stream.expires_after(15s);
    beast::error_code ec;
    co_await stream.async_connect(sh.endpoints, net::redirect_error(use_awaitable, ec));
    if (ec) co_return "tcp: " + ec.message();
    stream.socket().set_option(tcp::no_delay(true), ec);
    conn->ws.auto_fragment(false);
    conn->ws.read_message_max(256u * 1024 * 1024);
    websocket::response_type upgrade;
    co_await conn->ws.async_handshake(upgrade, sh.host_header, sh.url.target, net::redirect_error(use_awaitable, ec));
    if (ec) co_return "upgrade: " + ec.message();
    beast::flat_buffer buf;
    json::object challenge;
    for (;;) {
        co_await conn->ws.async_read(buf, net::redirect_error(use_awaitable, ec));
        if (ec) co_return "closed before challenge: " + ec.message();
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
        if (ec) co_return "closed before hello: " + ec.message();
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

awaitable<void> handshake_worker(net::io_context& ioc, Shared& sh, std::vector<std::shared_ptr<Conn>>& conns) {
    for (;;) {
        const int idx = sh.next_index++;
        if (idx >= sh.opt.clients) co_return;
        auto conn = std::make_shared<Conn>(ioc, sh);
        std::string failure;
        try {
            failure = co_await handshake(conn);
        } catch (const std::exception& e) {
            failure = e.what();
        }
        if (!failure.empty()) {
            ++sh.handshake_failures[failure];
            ++sh.failed;
            continue;
        }
        conn->open = true;
        conns[static_cast<size_t>(idx)] = conn;
        net::co_spawn(ioc, Conn::read_loop(conn), net::detached);
        ++sh.established;
    }
}

// Connects opt.clients connections; returns them (nullptr where the handshake failed).
awaitable<std::vector<std::shared_ptr<Conn>>> connect_all(net::io_context& ioc, Shared& sh) {
    std::vector<std::shared_ptr<Conn>> conns(static_cast<size_t>(sh.opt.clients));
    const int n = std::max(1, std::min(sh.opt.handshake_concurrency, sh.opt.clients));
    for (int i = 0; i < n; ++i) net::co_spawn(ioc, handshake_worker(ioc, sh, conns), net::detached);
    while (sh.established + sh.failed < sh.opt.clients) co_await sleep_for(2ms);
    co_return conns;
}

std::string random_id(std::string_view prefix) {
    static uint64_t counter = 0;
    return std::string(prefix) + "-" + std::to_string(getpid()) + "-" +
           std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1'000'000'000) + "-" +
           std::to_string(++counter);
}

std::string chat_send_params(const std::string& session_key, const std::string& message, const std::string& run_id) {
    return json::serialize(json::object{{"sessionKey", session_key}, {"message", message}, {"idempotencyKey", run_id}});
}

// ---- fanout ----

awaitable<int> run_fanout(net::io_context& ioc, Shared& sh) {
    const Options& opt = sh.opt;
    const auto hs0 = Clock::now();
    auto conns = co_await connect_all(ioc, sh);
    const double hs_ms = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - hs0).count() / 1000.0;
    std::cerr << "fanout: " << sh.established << "/" << opt.clients << " connected in " << fmt_ms(hs_ms) << "\n";
    for (const auto& [k, v] : sh.handshake_failures) std::cerr << "  " << v << " × " << k << "\n";
    if (sh.established == 0) co_return 1;
    // Presence broadcasts after connects are coalesced to one per second: let them pass.
    co_await sleep_for(std::chrono::milliseconds(static_cast<int64_t>(opt.hold_s * 1000)));
    std::vector<std::shared_ptr<Conn>> live;
    for (auto& c : conns) {
        if (c && c->open) {
            c->c = Counters{};
            live.push_back(c);
        }
    }
    const Mem mem0 = read_mem(opt.server_pid);
    const Cpu cpu0 = read_cpu(opt.server_pid);
    const double sched0 = read_sched_s(opt.server_pid);
    const Cpu self0 = self_cpu();
    const std::string run_id = random_id("fanout");
    auto sender = live.front();
    const auto t0 = Clock::now();
    auto ack = co_await sender->call("chat.send", chat_send_params(opt.session_key, "bench fanout", run_id), 30s);
    if (!ack.ok) {
        std::cerr << "fanout: chat.send failed: " << (ack.frame.empty() ? "no response" : ack.frame) << "\n";
        co_return 1;
    }
    const auto deadline = t0 + std::chrono::milliseconds(static_cast<int64_t>(opt.run_timeout_s * 1000));
    for (;;) {
        size_t done = 0;
        for (auto& c : live) done += (c->c.finals + c->c.errors + c->c.aborted) > 0 || !c->open;
        if (done == live.size() || Clock::now() > deadline) break;
        co_await sleep_for(1ms);
    }
    const Cpu cpu1 = read_cpu(opt.server_pid);
    const Cpu self1 = self_cpu();
    // The run's tail (transcript write, sessions.changed) finishes just after the final.
    co_await sleep_for(500ms);
    const Cpu cpu2 = read_cpu(opt.server_pid);
    const double sched_s = read_sched_s(opt.server_pid) - sched0;
    const Mem mem1 = read_mem(opt.server_pid);

    uint64_t min_a = UINT64_MAX, max_a = 0, sum_a = 0, finals = 0, errors = 0, gaps = 0, deltas = 0, bytes = 0;
    size_t closed = 0;
    Clock::time_point last_final = t0;
    for (auto& c : live) {
        min_a = std::min(min_a, c->c.assistant);
        max_a = std::max(max_a, c->c.assistant);
        sum_a += c->c.assistant;
        finals += c->c.finals;
        errors += c->c.errors + c->c.aborted;
        gaps += c->c.seq_gaps;
        deltas += c->c.chat_deltas;
        bytes += c->c.bytes;
        closed += !c->open;
        if (c->c.finals) last_final = std::max(last_final, c->c.final_at);
    }
    const double wall_ms = std::chrono::duration_cast<std::chrono::microseconds>(last_final - t0).count() / 1000.0;
    const double n = static_cast<double>(live.size());
    const double per_delta_client_us = sched_s * 1e6 / (opt.deltas * n);
    const double per_event_us = sum_a ? sched_s * 1e6 / static_cast<double>(sum_a) : 0;
    std::cerr << "fanout: " << live.size() << " clients, run " << run_id << "\n"
              << "  assistant events per client: min " << min_a << " max " << max_a << " (model deltas " << opt.deltas
              << "), total " << sum_a << "\n"
              << "  chat finals " << finals << "/" << live.size() << ", errors/aborted " << errors << ", chat deltas "
              << deltas << " (" << fmt("%.1f", deltas / n) << " per client), seq gaps (drops) " << gaps << ", closed "
              << closed << "\n"
              << "  wall " << fmt_ms(wall_ms) << " (chat.send → last final), received "
              << fmt_mb(static_cast<int64_t>(bytes / 1024)) << "\n"
              << "  gateway CPU " << fmt("%.2f s", cpu2.total() - cpu0.total()) << " (user "
              << fmt("%.2f", cpu2.user_s - cpu0.user_s) << ", sys " << fmt("%.2f", cpu2.sys_s - cpu0.sys_s)
              << "; at last final " << fmt("%.2f s", cpu1.total() - cpu0.total()) << "; schedstat "
              << fmt("%.4f s", sched_s) << ") → " << fmt("%.2f", per_delta_client_us) << " µs per delta per client ("
              << fmt("%.2f", per_event_us) << " µs per assistant event received)\n"
              << "  gateway RSS " << fmt_mb(mem0.rss_kb) << " → " << fmt_mb(mem1.rss_kb) << " (HWM "
              << fmt_mb(mem1.hwm_kb) << "); bench client CPU " << fmt("%.2f s", self1.total() - self0.total()) << "\n";
    if (opt.md) {
        std::cout << "| " << live.size() << " | " << opt.deltas << " | " << min_a << " / " << max_a << " | " << finals
                  << " | " << gaps << " | " << fmt("%.1f", deltas / n) << " | " << fmt_ms(wall_ms) << " | "
                  << fmt(sched_s < 1 ? "%.3f s" : "%.2f s", sched_s) << " (" << fmt("%.2f", cpu2.user_s - cpu0.user_s)
                  << " / " << fmt("%.2f", cpu2.sys_s - cpu0.sys_s) << ") | **" << fmt("%.2f µs", per_delta_client_us)
                  << "** | " << fmt_mb(static_cast<int64_t>(bytes / 1024)) << " | " << fmt_mb(mem0.rss_kb) << " → "
                  << fmt_mb(mem1.rss_kb) << " |\n";
    }
    // The gateway merges model deltas closer than 16 ms into one `agent` event, so fewer events than
    // deltas is expected for a fast model; every client must still get the stream and the final.
    const bool complete = min_a >= 1 && min_a <= static_cast<uint64_t>(opt.deltas) && finals == live.size() && gaps == 0;
    co_return complete&& static_cast<int>(live.size()) == opt.clients ? 0 : 1;
}

// ---- rpc ----

awaitable<int> run_rpc(net::io_context& ioc, Shared& sh) {
    const Options& opt = sh.opt;
    auto conns = co_await connect_all(ioc, sh);
    if (!conns.front()) {
        for (const auto& [k, v] : sh.handshake_failures) std::cerr << "rpc: " << v << " × " << k << "\n";
        co_return 1;
    }
    auto conn = conns.front();
    co_await sleep_for(std::chrono::milliseconds(static_cast<int64_t>(opt.hold_s * 1000)));
    int rc = 0;
    for (const auto& spec : opt.calls) {
        // LABEL|METHOD|PARAMS
        auto bar1 = spec.find('|');
        auto bar2 = bar1 == std::string::npos ? std::string::npos : spec.find('|', bar1 + 1);
        if (bar2 == std::string::npos) {
            std::cerr << "rpc: --call wants LABEL|METHOD|PARAMS: " << spec << "\n";
            co_return 2;
        }
        const std::string label = spec.substr(0, bar1), method = spec.substr(bar1 + 1, bar2 - bar1 - 1),
                          params = spec.substr(bar2 + 1);
        std::vector<double> warm, rtt;
        size_t bytes = 0, items = 0;
        int failures = 0;
        std::string first_error;
        for (int i = 0; i < opt.warmup + opt.iterations; ++i) {
            auto r = co_await conn->call(method, params, 30s);
            if (!r.ok) {
                ++failures;
                if (first_error.empty()) first_error = r.frame.empty() ? "no response" : r.frame.substr(0, 300);
                continue;
            }
            if (i < opt.warmup) {
                warm.push_back(r.rtt_ms);
            } else {
                rtt.push_back(r.rtt_ms);
            }
            if (bytes == 0) {
                bytes = r.frame.size();
                json::value v = json::parse(r.frame);
                const auto& p = v.at("payload").as_object();
                for (std::string_view k : {"messages", "sessions"}) {
                    if (auto a = p.if_contains(k); a && a->is_array()) items = a->as_array().size();
                }
            }
        }
        const double p50 = percentile_ms(rtt, 0.50), p90 = percentile_ms(rtt, 0.90), p99 = percentile_ms(rtt, 0.99);
        const double mx = rtt.empty() ? 0 : *std::max_element(rtt.begin(), rtt.end());
        double mean = 0;
        for (double x : rtt) mean += x;
        if (!rtt.empty()) mean /= static_cast<double>(rtt.size());
        std::cerr << "rpc: " << label << ": " << rtt.size() << " calls, p50 " << fmt_ms(p50) << ", p90 " << fmt_ms(p90)
                  << ", p99 " << fmt_ms(p99) << ", max " << fmt_ms(mx) << ", mean " << fmt_ms(mean) << ", first "
                  << fmt_ms(warm.empty() ? 0 : warm[0]) << ", " << items << " items, " << fmt("%.1f KB", bytes / 1024.0)
                  << ", failures " << failures << (first_error.empty() ? "" : " (" + first_error + ")") << "\n";
        if (opt.md) {
            std::cout << "| " << label << " | `" << method << " " << params << "` | " << rtt.size() << " | "
                      << fmt_ms(warm.empty() ? 0 : warm[0]) << " | **" << fmt_ms(p50) << "** | " << fmt_ms(p90)
                      << " | **" << fmt_ms(p99) << "** | " << fmt_ms(mx) << " | " << items << " | "
                      << fmt("%.1f KB", bytes / 1024.0) << " | " << failures << " |\n";
        }
        if (failures) rc = 1;
    }
    co_return rc;
}

// ---- soak ----

struct SoakStats {
    uint64_t runs = 0, failed = 0;
    std::vector<double> run_ms;
    std::map<std::string, int> errors;
};

awaitable<void> soak_worker(std::shared_ptr<Conn> conn, int index, Clock::time_point end, const Options& opt,
                            SoakStats& st, int& running) {
    ++running;
    const std::string key = "agent:main:soak-" + std::to_string(index);
    uint64_t n = 0;
    while (Clock::now() < end && conn->open) {
        const std::string run_id = random_id("soak" + std::to_string(index));
        auto fin = conn->expect_final(run_id);
        const auto t0 = Clock::now();
        auto ack = co_await conn->call(
            "chat.send",
            chat_send_params(key, "soak turn " + std::to_string(++n) + " chunks=" + std::to_string(opt.soak_deltas),
                             run_id),
            30s);
        if (!ack.ok) {
            conn->finals.erase(run_id);
            ++st.failed;
            ++st.errors[ack.frame.empty() ? "no ack" : ack.frame.substr(0, 160)];
            co_await sleep_for(100ms);
            continue;
        }
        if (!co_await wait_for(fin, 60s)) {
            conn->finals.erase(run_id);
            ++st.failed;
            ++st.errors["no final within 60 s"];
            continue;
        }
        if (fin->frame.find(R"("state":"final")") == std::string::npos) {
            ++st.failed;
            ++st.errors[fin->frame.substr(0, 200)];
            continue;
        }
        ++st.runs;
        st.run_ms.push_back(std::chrono::duration_cast<std::chrono::microseconds>(fin->at - t0).count() / 1000.0);
    }
    --running;
}

awaitable<int> run_soak(net::io_context& ioc, Shared& sh) {
    const Options& opt = sh.opt;
    auto conns = co_await connect_all(ioc, sh);
    if (sh.established != opt.clients) {
        for (const auto& [k, v] : sh.handshake_failures) std::cerr << "soak: " << v << " × " << k << "\n";
        co_return 1;
    }
    co_await sleep_for(std::chrono::milliseconds(static_cast<int64_t>(opt.hold_s * 1000)));
    const Mem idle = read_mem(opt.server_pid);
    const Cpu cpu0 = read_cpu(opt.server_pid);
    SoakStats st;
    int running = 0;
    const auto t0 = Clock::now();
    const auto end = t0 + std::chrono::milliseconds(static_cast<int64_t>(opt.duration_s * 1000));
    for (int i = 0; i < opt.clients; ++i) {
        net::co_spawn(ioc, soak_worker(conns[static_cast<size_t>(i)], i, end, opt, st, running), net::detached);
    }
    std::ofstream csv;
    if (!opt.samples_out.empty()) {
        csv.open(opt.samples_out);
        csv << "t_s,rss_kb,hwm_kb,runs,failed,cpu_s\n";
    }
    std::vector<std::pair<double, Mem>> samples;
    auto sample = [&] {
        const double t = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count() / 1000.0;
        const Mem m = read_mem(opt.server_pid);
        const Cpu c = read_cpu(opt.server_pid);
        samples.emplace_back(t, m);
        std::cerr << "soak: t=" << fmt("%.0f s", t) << " RSS " << fmt_mb(m.rss_kb) << " (HWM " << fmt_mb(m.hwm_kb)
                  << "), runs " << st.runs << ", failed " << st.failed << "\n";
        if (csv) {
            csv << fmt("%.1f", t) << "," << m.rss_kb << "," << m.hwm_kb << "," << st.runs << "," << st.failed << ","
                << fmt("%.2f", c.total() - cpu0.total()) << "\n"
                << std::flush;
        }
    };
    auto next = t0;
    while (Clock::now() < end) {
        next += std::chrono::milliseconds(static_cast<int64_t>(opt.sample_s * 1000));
        co_await sleep_for(std::min(next, end) - Clock::now());
        if (Clock::now() >= next) sample();
    }
    while (running > 0) co_await sleep_for(10ms);
    const double elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count() / 1000.0;
    const Cpu cpu1 = read_cpu(opt.server_pid);
    co_await sleep_for(1s);
    sample();

    int64_t max_rss = 0;
    for (auto& [t, m] : samples) max_rss = std::max(max_rss, m.rss_kb);
    const Mem first = samples.front().second, last = samples.back().second;
    const double growth = 100.0 * static_cast<double>(last.rss_kb - first.rss_kb) / static_cast<double>(first.rss_kb);
    const double growth_max = 100.0 * static_cast<double>(max_rss - first.rss_kb) / static_cast<double>(first.rss_kb);
    // Growth after warm-up: against the first sample at or after t = 60 s (the allocator, SQLite's
    // page cache and the first sessions' transcripts settle during the first half minute).
    Mem warm = first;
    double warm_t = samples.front().first;
    for (auto& [t, m] : samples) {
        if (t >= 60) {
            warm = m;
            warm_t = t;
            break;
        }
    }
    const double growth_warm =
        100.0 * static_cast<double>(last.rss_kb - warm.rss_kb) / static_cast<double>(warm.rss_kb);
    const double p50 = percentile_ms(st.run_ms, 0.5), p99 = percentile_ms(st.run_ms, 0.99);
    std::cerr << "soak: " << opt.clients << " clients × " << opt.soak_deltas << "-delta replies for "
              << fmt("%.0f s", elapsed) << ": " << st.runs << " runs (" << fmt("%.1f", st.runs / elapsed)
              << "/s), failed " << st.failed << ", run p50 " << fmt_ms(p50) << " p99 " << fmt_ms(p99) << "\n"
              << "  RSS idle " << fmt_mb(idle.rss_kb) << ", first sample (t=" << fmt("%.0f s", samples.front().first)
              << ") " << fmt_mb(first.rss_kb) << ", last " << fmt_mb(last.rss_kb) << ", max " << fmt_mb(max_rss)
              << " → growth " << fmt("%+.1f%%", growth) << " (max " << fmt("%+.1f%%", growth_max)
              << "); since t=" << fmt("%.0f s", warm_t) << " (" << fmt_mb(warm.rss_kb) << ") "
              << fmt("%+.1f%%", growth_warm) << "; HWM " << fmt_mb(last.hwm_kb) << "; gateway CPU "
              << fmt("%.1f s", cpu1.total() - cpu0.total()) << "\n";
    for (const auto& [k, v] : st.errors) std::cerr << "  " << v << " × " << k << "\n";
    if (opt.md) {
        std::cout << "| " << fmt("%.0f s", elapsed) << " | " << opt.clients << " × " << opt.soak_deltas << " | "
                  << st.runs << " (" << fmt("%.1f/s", st.runs / elapsed) << ") | " << st.failed << " | " << fmt_ms(p50)
                  << " / " << fmt_ms(p99) << " | " << fmt_mb(idle.rss_kb) << " | " << fmt_mb(first.rss_kb) << " | "
                  << fmt_mb(last.rss_kb) << " | " << fmt_mb(max_rss) << " | **" << fmt("%+.1f%%", growth) << "** (max "
                  << fmt("%+.1f%%", growth_max) << ") | " << fmt_mb(warm.rss_kb) << " → " << fmt("%+.1f%%", growth_warm)
                  << " | " << fmt("%.1f s", cpu1.total() - cpu0.total()) << " |\n";
    }
    co_return st.failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    CLI::App app{"pincer_chatbench: chat fan-out, history/list latency and soak benchmarks"};
    app.require_subcommand(1);
    app.add_option("--url", opt.url, "Gateway URL")->capture_default_str();
    app.add_option("--token", opt.token, "Gateway auth token");
    app.add_option("--server-pid", opt.server_pid, "Gateway PID (CPU and RSS from /proc)")->required();
    app.add_option("--hold", opt.hold_s, "Seconds to wait after connecting before measuring")->capture_default_str();
    app.add_option("--session-key", opt.session_key, "Session for chat.send (fanout)")->capture_default_str();
    app.add_flag("--md", opt.md, "Also print a markdown table row on stdout");
    auto* fan = app.add_subcommand("fanout", "One chat run streamed to N clients");
    fan->add_option("-c,--clients", opt.clients, "Connected clients")->capture_default_str();
    fan->add_option("--deltas", opt.deltas, "Deltas the model streams per run")->capture_default_str();
    fan->add_option("--timeout", opt.run_timeout_s, "Give up on the run after this many seconds");
    auto* rpc = app.add_subcommand("rpc", "Round-trip latency of sequential calls");
    rpc->add_option("--call", opt.calls, "LABEL|METHOD|PARAMS-JSON (repeatable)")->required();
    rpc->add_option("-n,--iterations", opt.iterations, "Timed calls per --call")->capture_default_str();
    rpc->add_option("--warmup", opt.warmup, "Untimed calls first (the first one is reported)")->capture_default_str();
    auto* soak = app.add_subcommand("soak", "Continuous chats while sampling the gateway's RSS");
    int soak_clients = 4;
    soak->add_option("-c,--clients", soak_clients, "Concurrent chatting clients (one session each)")
        ->capture_default_str();
    soak->add_option("-d,--duration", opt.duration_s, "Seconds")->capture_default_str();
    soak->add_option("--sample", opt.sample_s, "RSS sample interval (s)")->capture_default_str();
    soak->add_option("--deltas", opt.soak_deltas, "Deltas per reply (sent to the fake model as chunks=N)")
        ->capture_default_str();
    soak->add_option("--samples-out", opt.samples_out, "CSV of the RSS samples");
    CLI11_PARSE(app, argc, argv);
    if (fan->parsed()) opt.mode = "fanout";
    if (rpc->parsed()) opt.mode = "rpc";
    if (soak->parsed()) opt.mode = "soak";
    if (opt.mode == "soak") opt.clients = std::max(1, soak_clients);
    if (opt.mode == "rpc") opt.clients = 1;

    try {
        raise_fd_limit();
        net::io_context ioc{1};
        Shared sh;
        sh.opt = opt;
        sh.url = client::parse_ws_url(opt.url);
        sh.host_header = sh.url.host + ":" + std::to_string(sh.url.port);
        {
            tcp::resolver r(ioc);
            sh.endpoints = r.resolve(sh.url.host, std::to_string(sh.url.port));
        }
        auto& co = sh.connect_opts;
        co.token = opt.token;
        co.client_id = "gateway-client";
        co.client_mode = "backend";
        co.role = "operator";
        co.scopes = std::vector<std::string>{"operator.read", "operator.write"};
        int rc = 2;
        auto body = [&]() -> awaitable<void> {
            if (opt.mode == "fanout") rc = co_await run_fanout(ioc, sh);
            if (opt.mode == "rpc") rc = co_await run_rpc(ioc, sh);
            if (opt.mode == "soak") rc = co_await run_soak(ioc, sh);
            ioc.stop();
        };
        net::co_spawn(ioc, body(), [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
        });
        ioc.run();
        return rc;
    } catch (const std::exception& e) {
        std::cerr << "pincer_chatbench: " << e.what() << "\n";
        return 2;
    }
}
