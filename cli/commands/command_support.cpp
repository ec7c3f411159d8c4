#include "commands/command_support.hpp"

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <iostream>

#ifndef PINCER_VERSION
#define PINCER_VERSION "0.1.0"
#endif

namespace pincer::cli {

namespace json = boost::json;
using client::GatewayClient;

const std::vector<std::string> kReadScopes = {"operator.read"};
// `call` may target any method, admin ones included.
const std::vector<std::string> kAllScopes = {"operator.admin", "operator.read", "operator.write", "operator.approvals",
                                             "operator.pairing"};

void add_common_options(CLI::App* cmd, CommonOptions& o, bool with_timeout) {
    cmd->add_option("--url", o.url, "Gateway WebSocket URL (ws://host:port/)");
    cmd->add_option("--token", o.token, "Gateway auth token");
    cmd->add_option("--password", o.password, "Gateway auth password");
    cmd->add_flag("--json", o.json, "Print machine-readable JSON");
    if (with_timeout) {
        cmd->add_option("--timeout", o.timeout_ms, "Timeout in milliseconds for connecting and for each request")
            ->check(CLI::Range(1, 24 * 3600 * 1000))
            ->capture_default_str();
    }
    cmd->footer(kTargetHelp);
}

std::chrono::milliseconds timeout_of(const CommonOptions& o) { return std::chrono::milliseconds(o.timeout_ms); }

void print_error(const client::RpcError& e) {
    std::cerr << "error: " << (e.code().empty() ? "ERROR" : e.code()) << " " << e.message_text() << "\n";
    std::string detail;
    if (auto it = e.error.find("details"); it != e.error.end() && it->value().is_object()) {
        const auto& d = it->value().get_object();
        if (auto c = d.find("code"); c != d.end() && c->value().is_string())
            detail = std::string(c->value().get_string());
    }
    if (detail == "AUTH_TOKEN_MISSING" || detail == "AUTH_TOKEN_MISMATCH") {
        std::cerr << "hint: pass --token or set PINCER_GATEWAY_TOKEN (see --help)\n";
    } else if (detail == "AUTH_PASSWORD_MISSING" || detail == "AUTH_PASSWORD_MISMATCH") {
        std::cerr << "hint: pass --password or set PINCER_GATEWAY_PASSWORD (see --help)\n";
    }
}

int with_gateway(const CommonOptions& o, const std::vector<std::string>& scopes, const GatewayBody& body) {
    GatewayTarget target = resolve_gateway_target(o.url, o.token, o.password, process_env());
    for (const auto& w : target.warnings) std::cerr << "warning: " << w << "\n";
    try {
        GatewayClient gw;
        client::ConnectOptions opts;
        opts.url = target.url;
        opts.token = target.token;
        opts.password = target.password;
        opts.client_id = "cli";
        opts.client_mode = "cli";
        opts.client_version = PINCER_VERSION;
        opts.min_protocol = 3;
        opts.max_protocol = 4;
        opts.role = "operator";
        opts.scopes = scopes;
        opts.timeout = std::chrono::milliseconds(o.timeout_ms);
        json::object hello = gw.connect(opts);
        int rc = body(gw, hello, target);
        gw.close();
        return rc;
    } catch (const client::RpcError& e) {
        print_error(e);
        return kExitRpcError;
    } catch (const client::ConnectError& e) {
        std::cerr << "error: " << e.what() << "\n";
        if (e.http_status == 0) std::cerr << "hint: is the gateway running? (pincer gateway run)\n";
        return kExitNoAnswer;
    } catch (const client::TimeoutError& e) {
        std::cerr << "error: " << e.what() << " (gateway " << target.url << ")\n";
        return kExitNoAnswer;
    } catch (const client::ClosedError& e) {
        std::cerr << "error: the gateway closed the connection: " << e.what() << "\n";
        return kExitNoAnswer;
    } catch (const std::exception& e) {  // bad URL, malformed reply
        std::cerr << "error: " << e.what() << "\n";
        return kExitNoAnswer;
    }
}

namespace {
std::atomic<bool> g_interrupted{false};
extern "C" void on_interrupt(int) { g_interrupted.store(true); }
}  // namespace

InterruptGuard::InterruptGuard(bool active) : active_(active) {
    if (!active_) return;
    old_int_ = std::signal(SIGINT, on_interrupt);
    old_term_ = std::signal(SIGTERM, on_interrupt);
}

InterruptGuard::~InterruptGuard() { release(); }

void InterruptGuard::release() {
    if (!active_) return;
    active_ = false;
    std::signal(SIGINT, old_int_);
    std::signal(SIGTERM, old_term_);
}

bool InterruptGuard::interrupted() { return g_interrupted.load(); }
void InterruptGuard::clear() { g_interrupted.store(false); }

}  // namespace pincer::cli
