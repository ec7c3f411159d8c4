// Start-up: token generation, refusal to expose a weak secret, OpenClaw environment names and
// config files, invalid configs, and time to the first hello-ok.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "client/gateway_client.hpp"
#include "support/gateway_process.hpp"
#include "support/helpers.hpp"

using namespace pincer;
using namespace pincer::e2e;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// Variables that would change where the gateway looks, blanked for run_command.
std::map<std::string, std::string> blank_env(const std::filesystem::path& home) {
    return {{"PINCER_GATEWAY_TOKEN", ""},      {"OPENCLAW_GATEWAY_TOKEN", ""}, {"PINCER_GATEWAY_PASSWORD", ""},
            {"OPENCLAW_GATEWAY_PASSWORD", ""}, {"PINCER_CONFIG_PATH", ""},     {"OPENCLAW_CONFIG_PATH", ""},
            {"PINCER_GATEWAY_PORT", ""},       {"OPENCLAW_GATEWAY_PORT", ""},  {"HOME", home.string()}};
}

// A gateway started with full control of its environment: the PINCER_* names are removed (not just
// blanked), so only the OPENCLAW_* fallbacks can point it anywhere. Killed on destruction.
class RawGateway {
public:
    RawGateway(const std::map<std::string, std::string>& env, const std::filesystem::path& home) {
        int out[2];
        if (pipe(out) != 0) throw std::runtime_error("pipe failed");
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            dup2(out[1], 1);
            int devnull = open("/dev/null", O_WRONLY);
            if (devnull >= 0) dup2(devnull, 2);
            for (int fd = 3; fd < 1024; ++fd) close(fd);
            for (const char* k :
                 {"PINCER_STATE_DIR", "PINCER_CONFIG_PATH", "PINCER_GATEWAY_TOKEN", "PINCER_GATEWAY_PASSWORD",
                  "PINCER_GATEWAY_PORT", "OPENCLAW_STATE_DIR", "OPENCLAW_CONFIG_PATH", "OPENCLAW_GATEWAY_TOKEN",
                  "OPENCLAW_GATEWAY_PASSWORD", "OPENCLAW_GATEWAY_PORT"})
                unsetenv(k);
            setenv("HOME", home.c_str(), 1);
            for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
            execl(PINCER_BINARY, PINCER_BINARY, "gateway", "run", "--port", "0", static_cast<char*>(nullptr));
            _exit(127);
        }
        close(out[1]);
        fd_ = out[0];
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        const std::string marker = "pincer: listening on ";
        while (std::chrono::steady_clock::now() < deadline) {
            auto pos = stdout_.find(marker);
            auto eol = pos == std::string::npos ? std::string::npos : stdout_.find('\n', pos);
            if (eol != std::string::npos) {
                auto colon = stdout_.rfind(':', eol);
                port_ = static_cast<uint16_t>(std::stoi(stdout_.substr(colon + 1, eol - colon - 1)));
                return;
            }
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, 100) <= 0) continue;
            char buf[4096];
            ssize_t n = read(fd_, buf, sizeof buf);
            if (n <= 0) break;
            stdout_.append(buf, size_t(n));
        }
        throw std::runtime_error("gateway did not start: " + stdout_);
    }
    ~RawGateway() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            int st = 0;
            waitpid(pid_, &st, 0);
        }
        if (fd_ >= 0) close(fd_);
    }
    std::string url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/"; }
    const std::string& stdout_text() const { return stdout_; }

private:
    pid_t pid_ = -1;
    int fd_ = -1;
    uint16_t port_ = 0;
    std::string stdout_;
};

json::object connect_and_health(client::GatewayClient& c, const std::string& url, const std::string& token) {
    client::ConnectOptions o;
    o.url = url;
    o.token = token;
    o.timeout = 3s;
    auto hello = c.connect(o);
    EXPECT_TRUE(c.call("health", json::object{}, 3s).at("ok").as_bool());
    return hello;
}

std::string saved_token(const std::filesystem::path& cfg) {
    json::value v = json::parse(read_file(cfg));
    return std::string(v.at("gateway").at("auth").at("token").as_string());
}

}  // namespace

TEST(Startup, GeneratesTokenOnceAndKeepsIt) {
    e2e::GatewayOptions o;
    o.token = "";
    e2e::GatewayProcess first(o);
    ASSERT_TRUE(std::filesystem::exists(first.config_path()));
    const std::string token = saved_token(first.config_path());
    EXPECT_GE(token.size(), 32u);
    struct stat st {};
    ASSERT_EQ(stat(first.config_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_NE(first.stdout_text().find("generated gateway token"), std::string::npos) << first.stdout_text();
    EXPECT_NE(first.stdout_text().find(token), std::string::npos) << "the token is printed once, on first start";
    EXPECT_EQ(json::parse(read_file(first.config_path())).at("gateway").at("auth").at("mode").as_string(), "token");
    {
        client::GatewayClient c;
        connect_and_health(c, first.url(), token);
    }
    auto stopped = first.stop(SIGTERM, 3s);
    EXPECT_EQ(stopped.code, 0);

    e2e::GatewayOptions again;
    again.token = "";
    again.state_dir = first.state_dir();
    e2e::GatewayProcess second(again);
    EXPECT_EQ(second.stdout_text().find("generated gateway token"), std::string::npos) << second.stdout_text();
    EXPECT_EQ(saved_token(second.config_path()), token);
    client::GatewayClient c;
    connect_and_health(c, second.url(), token);
}

TEST(Startup, LanBindRefusesShortToken) {
    TempDir dir("startup");
    auto env = blank_env(dir.path);
    env["PINCER_STATE_DIR"] = dir.path.string();
    auto r = e2e::run_command(
        {PINCER_BINARY, "gateway", "run", "--port", "0", "--bind", "lan", "--token", "short-token"}, env, 5s);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("24 characters"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("refusing to bind"), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("listening on"), std::string::npos) << r.out;

    // Password mode with a short password, configured in the file: refused the same way.
    std::ofstream(dir.path / "pincer.json") << "{gateway: {bind: 'lan', auth: {mode: 'password', password: 'pw'}}}";
    auto p = e2e::run_command({PINCER_BINARY, "gateway", "run", "--port", "0"}, env, 5s);
    EXPECT_EQ(p.exit_code, 1) << p.out << p.err;
    EXPECT_NE(p.err.find("24 characters"), std::string::npos) << p.err;
}

TEST(Startup, OpenClawEnvironmentFallbacks) {
    TempDir home("startup");
    TempDir state("startup");
    const std::string token = "openclaw-env-token-0123456789abcdef";
    RawGateway gw({{"OPENCLAW_STATE_DIR", state.path.string()}, {"OPENCLAW_GATEWAY_TOKEN", token}}, home.path);
    EXPECT_EQ(gw.stdout_text().find("generated gateway token"), std::string::npos) << gw.stdout_text();
    client::GatewayClient c;
    connect_and_health(c, gw.url(), token);
    auto cfg = c.call("config.get", json::object{}, 3s).as_object();
    EXPECT_EQ(cfg.at("path").as_string(), (state.path / "pincer.json").string());
    EXPECT_EQ(cfg.at("exists"), json::value(false));
    EXPECT_TRUE(std::filesystem::exists(state.path / "logs" / "pincer.log"));
    EXPECT_FALSE(std::filesystem::exists(home.path / ".pincer")) << "state went to $HOME instead";
}

TEST(Startup, LoadsOpenClawStyleConfig) {
    const std::string token = "openclaw-style-token-0123456789abcdef";
    e2e::GatewayOptions o;
    o.token = "";
    o.config = R"(// ~/.openclaw/openclaw.json, as OpenClaw writes it (plus comments)
{
  gateway: {
    mode: "local",
    port: 18789,
    bind: "loopback",
    auth: { mode: "token", token: ")" +
               token + R"(", }, // trailing comma
    tailscale: { mode: "off" },
  },
  /* keys Pincer does not use yet */
  update: { checkOnStart: false },
  telemetry: { enabled: false, },
}
)";
    e2e::GatewayProcess gw(o);
    const std::string before = read_file(gw.config_path());
    EXPECT_EQ(before, o.config) << "loading must not rewrite the file";
    client::GatewayClient c;
    connect_and_health(c, gw.url(), token);
    auto cfg = c.call("config.get", json::object{}, 3s).as_object();
    EXPECT_EQ(cfg.at("valid"), json::value(true));
    EXPECT_TRUE(cfg.at("issues").as_array().empty()) << json::serialize(cfg.at("issues"));
    std::vector<std::string> ignored;
    for (const auto& k : cfg.at("ignored").as_array()) ignored.emplace_back(k.as_string());
    EXPECT_NE(std::find(ignored.begin(), ignored.end(), "update"), ignored.end()) << json::serialize(cfg.at("ignored"));
    EXPECT_NE(std::find(ignored.begin(), ignored.end(), "telemetry"), ignored.end());
}

TEST(Startup, InvalidConfigFailsWithPath) {
    TempDir dir("startup");
    auto env = blank_env(dir.path);
    env["PINCER_STATE_DIR"] = dir.path.string();
    std::ofstream(dir.path / "pincer.json") << "{gateway: {port: \"x\"}}";
    auto r = e2e::run_command({PINCER_BINARY, "gateway", "run", "--port", "0", "--token", "t0123456789"}, env, 5s);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("gateway.port"), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("listening on"), std::string::npos) << r.out;

    // A JSON5 syntax error is a start failure too, with the position.
    std::ofstream(dir.path / "pincer.json", std::ios::trunc) << "{gateway: {port: 1,,}}";
    auto s = e2e::run_command({PINCER_BINARY, "gateway", "run", "--port", "0", "--token", "t0123456789"}, env, 5s);
    EXPECT_EQ(s.exit_code, 1) << s.out << s.err;
    EXPECT_NE(s.err.find("JSON5:"), std::string::npos) << s.err;
}

TEST(Startup, FirstHelloWithinOneSecond) {
    const auto t0 = std::chrono::steady_clock::now();
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    auto hello = c.connect(cli_opts(gw, 3s));
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(hello.at("type").as_string(), "hello-ok");
    EXPECT_LT(elapsed, 1s) << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";
}
