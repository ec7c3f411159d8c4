// The `pincer` client commands (health, status, call, logs) run as separate processes against a
// real gateway: exit codes, output and token resolution.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "support/cli_runner.hpp"
#include "support/gateway_process.hpp"

using namespace pincer;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

using e2e::cli;
using e2e::target;
using e2e::with;

uint16_t unused_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);  // nothing listens there now
    return ntohs(a.sin_port);
}

size_t count_lines(const std::string& s) {
    size_t n = 0;
    for (char c : s) n += c == '\n';
    return n;
}

}  // namespace

TEST(Cli, HealthPrintsReadableSummary) {
    e2e::GatewayProcess gw;
    auto r = cli(gw, with({"health"}, target(gw)));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("Gateway healthy (ok)", 0), 0u) << r.out;
    EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(Cli, HealthJsonIsParseable) {
    e2e::GatewayProcess gw;
    auto r = cli(gw, with({"health", "--json"}, target(gw)));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    json::value v = json::parse(r.out);
    EXPECT_EQ(v.at("ok"), json::value(true));
}

TEST(Cli, CallConfigGetJson) {
    e2e::GatewayProcess gw;
    auto r = cli(gw, with({"call", "config.get", "--json"}, target(gw)));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    json::value v = json::parse(r.out);
    EXPECT_EQ(v.at("path").as_string(), gw.config_path().string());
    EXPECT_EQ(v.at("valid"), json::value(true));
    // Params are passed through: logs.tail with limit 1 gives one line.
    auto t = cli(gw, with({"call", "logs.tail", "--params", "{limit: 1}", "--json"}, target(gw)));
    EXPECT_EQ(t.exit_code, 0) << t.err;
    EXPECT_EQ(json::parse(t.out).at("lines").as_array().size(), 1u);
}

TEST(Cli, CallUnknownMethodExits1) {
    e2e::GatewayProcess gw;
    auto r = cli(gw, with({"call", "no.such.method"}, target(gw)));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_NE(r.err.find("error: INVALID_REQUEST unknown method: no.such.method"), std::string::npos) << r.err;
}

TEST(Cli, CallWithBadParamsExplains) {
    e2e::GatewayProcess gw;
    auto r = cli(gw, with({"call", "health", "--params", "{bad"}, target(gw)));
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("error: --params is not valid JSON"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(Cli, WrongTokenIsUnauthorized) {
    e2e::GatewayProcess gw;
    auto r = cli(gw, {"health", "--url", gw.url(), "--token", "definitely-not-the-token-0123456789"});
    EXPECT_TRUE(r.exit_code == 1 || r.exit_code == 2) << r.exit_code;
    EXPECT_NE(r.err.find("unauthorized"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("hint: pass --token or set PINCER_GATEWAY_TOKEN"), std::string::npos) << r.err;
    // Missing token entirely (no flag, env or config) is the same class of error.
    auto none = cli(gw, {"health", "--url", gw.url()});
    EXPECT_TRUE(none.exit_code == 1 || none.exit_code == 2) << none.exit_code;
    EXPECT_NE(none.err.find("unauthorized"), std::string::npos) << none.err;
}

TEST(Cli, UnreachableGatewayExits2) {
    e2e::GatewayProcess gw;  // only for the environment (HOME); the URL points elsewhere
    const std::string url = "ws://127.0.0.1:" + std::to_string(unused_port()) + "/";
    auto r = cli(gw, {"health", "--url", url, "--token", "x", "--timeout", "3000"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("error: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("is the gateway running?"), std::string::npos) << r.err;
}

TEST(Cli, TokenFromEnvironment) {
    e2e::GatewayProcess gw;
    auto r = cli(gw, {"health", "--url", gw.url()}, {{"PINCER_GATEWAY_TOKEN", gw.token()}});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto o = cli(gw, {"health", "--url", gw.url()}, {{"OPENCLAW_GATEWAY_TOKEN", gw.token()}});
    EXPECT_EQ(o.exit_code, 0) << o.err;
    // The flag wins over the environment.
    auto f = cli(gw, {"health", "--url", gw.url(), "--token", gw.token()}, {{"PINCER_GATEWAY_TOKEN", "wrong"}});
    EXPECT_EQ(f.exit_code, 0) << f.err;
}

TEST(Cli, TokenFromConfigFile) {
    const std::string token = "cli-config-token-0123456789abcdefgh";
    e2e::GatewayOptions opts;
    opts.token = "";
    opts.config = "{gateway: {auth: {mode: 'token', token: '" + token + "'}}}";
    e2e::GatewayProcess gw(opts);
    auto r = cli(gw, {"health", "--url", gw.url()}, {{"PINCER_STATE_DIR", gw.state_dir().string()}});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto o = cli(gw, {"status", "--url", gw.url()}, {{"OPENCLAW_STATE_DIR", gw.state_dir().string()}});
    EXPECT_EQ(o.exit_code, 0) << o.err;
    // Port from the environment, token from the config: no flags at all.
    auto p = cli(gw, {"health"},
                 {{"PINCER_STATE_DIR", gw.state_dir().string()}, {"PINCER_GATEWAY_PORT", std::to_string(gw.port())}});
    EXPECT_EQ(p.exit_code, 0) << p.err;
}

TEST(Cli, LogsPrintsLines) {
    e2e::GatewayProcess gw;
    auto r = cli(gw, with({"logs", "--limit", "5"}, target(gw)));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const size_t n = count_lines(r.out);
    EXPECT_GE(n, 1u) << r.out;
    EXPECT_LE(n, 5u) << r.out;
    // Rendered, not raw JSON.
    EXPECT_NE(r.out.front(), '{') << r.out;
    auto j = cli(gw, with({"logs", "--limit", "2", "--json"}, target(gw)));
    EXPECT_EQ(j.exit_code, 0) << j.err;
    EXPECT_EQ(count_lines(j.out), 2u) << j.out;
    EXPECT_NO_THROW(json::parse(j.out.substr(0, j.out.find('\n'))));
    auto bad = cli(gw, with({"logs", "--limit", "0"}, target(gw)));
    EXPECT_NE(bad.exit_code, 0);
}

TEST(Cli, StatusSucceeds) {
    e2e::GatewayProcess gw;
    auto r = cli(gw, with({"status"}, target(gw)));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("Gateway " + gw.url(), 0), 0u) << r.out;
    auto j = cli(gw, with({"status", "--json"}, target(gw)));
    EXPECT_EQ(j.exit_code, 0) << j.err;
    EXPECT_TRUE(json::parse(j.out).at("queuedSystemEvents").is_array());
}
