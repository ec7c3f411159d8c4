// HTTP on the gateway's port: probes, status codes for bad requests, keep-alive, and the server
// staying up after every kind of abuse (core.md §6, wire-notes.md §7).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <string>

#include "client/gateway_client.hpp"
#include "support/gateway_process.hpp"
#include "support/helpers.hpp"

using namespace pincer;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

client::HttpResponse send_http(const e2e::GatewayProcess& gw, const std::string& raw) {
    return client::http_request("127.0.0.1", gw.port(), raw, 3s);
}

std::string get_request(const std::string& method, const std::string& path, const std::string& extra = "") {
    return method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "Connection: close\r\n\r\n";
}

void expect_ws_health_works(const e2e::GatewayProcess& gw) {
    client::GatewayClient c;
    c.connect(e2e::cli_opts(gw, 3s));
    EXPECT_TRUE(c.call("health", json::object{}, 3s).at("ok").as_bool());
}

// A plain TCP connection for keep-alive checks: one request at a time, responses read by
// Content-Length, every wait bounded.
class RawConn {
public:
    explicit RawConn(uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            throw std::runtime_error("connect failed");
    }
    ~RawConn() {
        if (fd_ >= 0) ::close(fd_);
    }
    void send(const std::string& s) {
        size_t off = 0;
        while (off < s.size()) {
            ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
            if (n <= 0) throw std::runtime_error("send failed");
            off += size_t(n);
        }
    }
    /// Reads one response (head + Content-Length body); returns "" on EOF/timeout before a full one.
    std::string read_response(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            auto head_end = buf_.find("\r\n\r\n");
            if (head_end != std::string::npos) {
                size_t len = 0;
                auto cl = buf_.find("Content-Length: ");
                if (cl == std::string::npos) cl = buf_.find("content-length: ");
                if (cl != std::string::npos && cl < head_end) len = std::stoul(buf_.substr(cl + 16));
                if (buf_.size() >= head_end + 4 + len) {
                    std::string res = buf_.substr(0, head_end + 4 + len);
                    buf_.erase(0, head_end + 4 + len);
                    return res;
                }
            }
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return {};
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, int(left.count())) <= 0) return {};
            char tmp[4096];
            ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
            if (n <= 0) return {};
            buf_.append(tmp, size_t(n));
        }
    }
    /// True when the server closes the connection within `timeout`.
    bool wait_eof(std::chrono::milliseconds timeout) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, int(timeout.count())) <= 0) return false;
        char tmp[64];
        return ::recv(fd_, tmp, sizeof tmp, 0) == 0;
    }

private:
    int fd_ = -1;
    std::string buf_;
};

}  // namespace

TEST(Http, HealthzAndHealthAreLive) {
    e2e::GatewayProcess gw;
    for (const char* path : {"/healthz", "/health"}) {
        SCOPED_TRACE(path);
        auto r = send_http(gw, get_request("GET", path));
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, R"({"ok":true,"status":"live"})");
        EXPECT_NE(r.headers["content-type"].find("application/json"), std::string::npos);
        // A query string does not change the route.
        auto q = send_http(gw, get_request("GET", std::string(path) + "?x=1"));
        EXPECT_EQ(q.status, 200);
        EXPECT_EQ(q.body, R"({"ok":true,"status":"live"})");
    }
}

TEST(Http, HeadHasNoBody) {
    e2e::GatewayProcess gw;
    for (const char* path : {"/healthz", "/health", "/readyz", "/ready"}) {
        SCOPED_TRACE(path);
        auto r = send_http(gw, get_request("HEAD", path));
        EXPECT_EQ(r.status, 200);
        EXPECT_TRUE(r.body.empty()) << r.body;
        auto head_end = r.raw.find("\r\n\r\n");
        ASSERT_NE(head_end, std::string::npos);
        EXPECT_EQ(r.raw.size(), head_end + 4) << "bytes after the head of a HEAD response";
    }
}

TEST(Http, WrongMethodIs405WithAllow) {
    e2e::GatewayProcess gw;
    for (const char* path : {"/healthz", "/readyz"}) {
        SCOPED_TRACE(path);
        auto r = send_http(gw, "POST " + std::string(path) +
                                   " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
        EXPECT_EQ(r.status, 405);
        EXPECT_EQ(r.headers["allow"], "GET, HEAD");
    }
    auto del = send_http(gw, get_request("DELETE", "/health"));
    EXPECT_EQ(del.status, 405);
    EXPECT_EQ(del.headers["allow"], "GET, HEAD");
}

TEST(Http, ReadyzReportsReadyWithLocalDetails) {
    e2e::GatewayProcess gw;
    for (const char* path : {"/readyz", "/ready"}) {
        SCOPED_TRACE(path);
        auto r = send_http(gw, get_request("GET", path));
        EXPECT_EQ(r.status, 200);
        auto v = json::parse(r.body);
        const auto& o = v.as_object();
        EXPECT_EQ(o.at("ready"), json::value(true));
        ASSERT_TRUE(o.at("failing").is_array());
        EXPECT_TRUE(o.at("failing").as_array().empty());
        ASSERT_TRUE(o.contains("uptimeMs")) << "loopback callers get uptimeMs";
        EXPECT_TRUE(o.at("uptimeMs").is_int64() || o.at("uptimeMs").is_uint64());
        EXPECT_GE(o.at("uptimeMs").to_number<int64_t>(), 0);
    }
}

TEST(Http, UnknownPathIs404) {
    e2e::GatewayProcess gw;
    for (const char* path : {"/nope", "/v1/models", "/healthz/extra", "/HEALTHZ"}) {
        SCOPED_TRACE(path);
        auto r = send_http(gw, get_request("GET", path));
        EXPECT_EQ(r.status, 404);
        EXPECT_EQ(r.body, "Not Found");
        EXPECT_NE(r.headers["content-type"].find("text/plain"), std::string::npos);
    }
    expect_ws_health_works(gw);
}

TEST(Http, MalformedRequestLineIs400) {
    e2e::GatewayProcess gw;
    for (const std::string& raw : {std::string("GARBAGE\r\n\r\n"), std::string("GET /healthz HTTP/9.Z\r\n\r\n"),
                                   std::string("GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n"),
                                   std::string("GET /healthz HTTP/1.1\r\nBad Header Line\r\n\r\n")}) {
        SCOPED_TRACE(raw);
        auto r = send_http(gw, raw);
        EXPECT_EQ(r.status, 400);
        EXPECT_EQ(r.body, "Bad Request");
    }
    expect_ws_health_works(gw);
}

TEST(Http, OversizedHeaderIs413) {
    e2e::GatewayProcess gw;
    std::string raw = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(17 * 1024, 'a') + "\r\n\r\n";
    auto r = send_http(gw, raw);
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(r.body, "Payload Too Large");
    // Just under the limit is fine.
    std::string ok =
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: " + std::string(15 * 1024, 'a') + "\r\n\r\n";
    EXPECT_EQ(send_http(gw, ok).status, 200);
    expect_ws_health_works(gw);
}

TEST(Http, OversizedBodyIs413) {
    e2e::GatewayProcess gw;
    // The declared length alone exceeds the 1 MiB body cap: refused before the body is read.
    auto r = send_http(gw, "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                               std::to_string(1024 * 1024 + 1) + "\r\n\r\n{");
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(r.body, "Payload Too Large");
    expect_ws_health_works(gw);
}

TEST(Http, UpgradeWithoutKeyIs400) {
    e2e::GatewayProcess gw;
    auto r = send_http(gw,
                       "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Version: 13\r\n\r\n");
    EXPECT_EQ(r.status, 400);
    expect_ws_health_works(gw);
}

TEST(Http, KeepAliveServesTwoRequestsOnOneConnection) {
    e2e::GatewayProcess gw;
    RawConn conn(gw.port());
    conn.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string first = conn.read_response(3s);
    ASSERT_FALSE(first.empty());
    EXPECT_EQ(first.rfind("HTTP/1.1 200", 0), 0u) << first;
    EXPECT_NE(first.find(R"({"ok":true,"status":"live"})"), std::string::npos);
    conn.send("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string second = conn.read_response(3s);
    ASSERT_FALSE(second.empty()) << "second request on the same connection was not answered";
    EXPECT_EQ(second.rfind("HTTP/1.1 200", 0), 0u) << second;
    EXPECT_NE(second.find(R"("ready":true)"), std::string::npos);
    // A third, pipelined pair with Connection: close on the last one: both answered, then EOF.
    conn.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    std::string third = conn.read_response(3s);
    std::string fourth = conn.read_response(3s);
    EXPECT_EQ(third.rfind("HTTP/1.1 200", 0), 0u) << third;
    EXPECT_EQ(fourth.rfind("HTTP/1.1 404", 0), 0u) << fourth;
    EXPECT_TRUE(conn.wait_eof(3s));
}

TEST(Http, ServerSurvivesAbuseSequence) {
    e2e::GatewayProcess gw;
    send_http(gw, "GARBAGE\r\n\r\n");
    send_http(gw, "GET /healthz HTTP/1.1\r\nX-Big: " + std::string(20 * 1024, 'b') + "\r\n\r\n");
    send_http(gw, "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n");
    send_http(gw, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    send_http(gw, get_request("GET", "/nope"));
    // A half request, abandoned.
    {
        RawConn half(gw.port());
        half.send("GET /heal");
    }
    expect_ws_health_works(gw);
    EXPECT_EQ(send_http(gw, get_request("GET", "/healthz")).status, 200);
}
