#include "commands/client_commands.hpp"

#include <CLI/CLI.hpp>
#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <csignal>
#include <iostream>
#include <memory>
#include <thread>

#include "client/gateway_client.hpp"
#include "commands/gateway_target.hpp"
#include "config/json5.hpp"

#ifndef PINCER_VERSION
#define PINCER_VERSION "0.1.0"
#endif

namespace pincer::cli {

namespace json = boost::json;
using client::GatewayClient;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitRpcError = 1;
constexpr int kExitNoAnswer = 2;

const std::vector<std::string> kReadScopes = {"operator.read"};
// `call` may target any method, admin ones included.
const std::vector<std::string> kAllScopes = {"operator.admin", "operator.read", "operator.write", "operator.approvals",
                                             "operator.pairing"};

// Options every client command shares. Owned by the command's callback via shared_ptr.
struct CommonOptions {
    std::string url, token, password;
    bool json = false;
    int timeout_ms = 10000;
};

void add_common_options(CLI::App* cmd, CommonOptions& o) {
    cmd->add_option("--url", o.url, "Gateway WebSocket URL (ws://host:port/)");
    cmd->add_option("--token", o.token, "Gateway auth token");
    cmd->add_option("--password", o.password, "Gateway auth password");
    cmd->add_flag("--json", o.json, "Print machine-readable JSON");
    cmd->add_option("--timeout", o.timeout_ms, "Timeout in milliseconds for connecting and for each request")
        ->check(CLI::Range(1, 24 * 3600 * 1000))
        ->capture_default_str();
    cmd->footer(kTargetHelp);
}

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

// Resolves the target, connects and runs `body`; maps every failure to an exit code and message.
template <class Body>
int with_gateway(const CommonOptions& o, const std::vector<std::string>& scopes, Body body) {
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

std::chrono::milliseconds timeout_of(const CommonOptions& o) { return std::chrono::milliseconds(o.timeout_ms); }

void register_call(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<CommonOptions>();
    auto method = std::make_shared<std::string>();
    auto params_text = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand("call", "Call any gateway method and print its result");
    cmd->add_option("method", *method, "Method name, e.g. health or config.get")->required();
    cmd->add_option("--params", *params_text, "Params as a JSON (or JSON5) object; default {}");
    add_common_options(cmd, *o);
    cmd->callback([&exit_code, o, method, params_text] {
        json::value params = json::object{};
        if (!params_text->empty()) {
            auto parsed = config::parse_json5(*params_text);
            if (const auto* err = std::get_if<config::Json5Error>(&parsed)) {
                std::cerr << "error: --params is not valid JSON: " << err->message << "\n";
                exit_code = kExitNoAnswer;
                return;
            }
            params = std::move(std::get<json::value>(parsed));
        }
        exit_code = with_gateway(*o, kAllScopes, [&](GatewayClient& gw, const json::object&, const GatewayTarget&) {
            json::value payload = gw.call(*method, params, timeout_of(*o));
            std::cout << (o->json ? json::serialize(payload) : config::serialize_pretty(payload)) << "\n";
            return kExitOk;
        });
    });
}

void register_health(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<CommonOptions>();
    auto* cmd = app.add_subcommand("health", "Check that the gateway is up and healthy");
    add_common_options(cmd, *o);
    cmd->callback([&exit_code, o] {
        exit_code =
            with_gateway(*o, kReadScopes, [&](GatewayClient& gw, const json::object& hello, const GatewayTarget&) {
                json::value payload = gw.call("health", json::object{}, timeout_of(*o));
                bool ok = true;
                if (const auto* obj = payload.if_object()) {
                    if (auto it = obj->find("ok"); it != obj->end() && it->value().is_bool())
                        ok = it->value().get_bool();
                }
                if (o->json) {
                    std::cout << json::serialize(payload) << "\n";
                } else {
                    std::cout << health_summary(payload, hello) << "\n";
                }
                return ok ? kExitOk : kExitRpcError;
            });
    });
}

void register_status(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<CommonOptions>();
    auto* cmd = app.add_subcommand("status", "Show a short summary of the gateway's state");
    add_common_options(cmd, *o);
    cmd->callback([&exit_code, o] {
        exit_code = with_gateway(*o, kReadScopes,
                                 [&](GatewayClient& gw, const json::object& hello, const GatewayTarget& target) {
                                     json::value payload = gw.call("status", json::object{}, timeout_of(*o));
                                     if (o->json) {
                                         std::cout << json::serialize(payload) << "\n";
                                     } else {
                                         std::cout << status_summary(payload, hello, target.url) << "\n";
                                     }
                                     return kExitOk;
                                 });
    });
}

std::atomic<bool> g_interrupted{false};
extern "C" void on_interrupt(int) { g_interrupted.store(true); }

struct LogsOptions {
    bool follow = false;
    int limit = 200;
    int interval_ms = 1000;
};

void register_logs(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<CommonOptions>();
    auto lo = std::make_shared<LogsOptions>();
    auto* cmd = app.add_subcommand("logs", "Print the gateway's log (logs.tail); --follow keeps polling");
    cmd->add_flag("-f,--follow", lo->follow, "Keep polling for new lines until Ctrl-C");
    cmd->add_option("-n,--limit", lo->limit, "Maximum lines per fetch (1-5000)")
        ->check(CLI::Range(1, 5000))
        ->capture_default_str();
    cmd->add_option("--interval", lo->interval_ms, "Polling interval in milliseconds with --follow")
        ->check(CLI::Range(10, 3600 * 1000))
        ->capture_default_str();
    add_common_options(cmd, *o);
    cmd->callback([&exit_code, o, lo] {
        exit_code = with_gateway(*o, kReadScopes, [&](GatewayClient& gw, const json::object&, const GatewayTarget&) {
            std::optional<json::value> cursor;
            // Ctrl-C ends --follow cleanly (exit 0) instead of killing the process mid-line.
            auto old_int = lo->follow ? std::signal(SIGINT, on_interrupt) : SIG_DFL;
            auto old_term = lo->follow ? std::signal(SIGTERM, on_interrupt) : SIG_DFL;
            struct Restore {
                bool active;
                void (*i)(int);
                void (*t)(int);
                ~Restore() {
                    if (active) {
                        std::signal(SIGINT, i);
                        std::signal(SIGTERM, t);
                    }
                }
            } restore{lo->follow, old_int, old_term};
            for (bool first = true;; first = false) {
                json::object params{{"limit", lo->limit}};
                if (cursor) params["cursor"] = *cursor;
                json::value payload = gw.call("logs.tail", params, timeout_of(*o));
                const auto* obj = payload.if_object();
                if (!obj) throw std::runtime_error("logs.tail returned no object");
                if (auto it = obj->find("reset");
                    !first && it != obj->end() && it->value().is_bool() && it->value().get_bool()) {
                    std::cerr << "-- log file rotated or truncated; continuing from its tail --\n";
                }
                if (auto it = obj->find("lines"); it != obj->end() && it->value().is_array()) {
                    for (const auto& line : it->value().get_array()) {
                        if (!line.is_string()) continue;
                        std::string_view text = line.get_string();
                        if (o->json) {
                            std::cout << text << "\n";
                        } else {
                            std::cout << render_log_line(text) << "\n";
                        }
                    }
                }
                std::cout.flush();
                if (auto it = obj->find("cursor"); it != obj->end() && it->value().is_number()) cursor = it->value();
                if (!lo->follow) return kExitOk;
                const auto wake = std::chrono::steady_clock::now() + std::chrono::milliseconds(lo->interval_ms);
                while (!g_interrupted.load() && std::chrono::steady_clock::now() < wake) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
                }
                if (g_interrupted.load()) return kExitOk;
            }
        });
    });
}

}  // namespace

void register_client_commands(CLI::App& app, int& exit_code) {
    register_call(app, exit_code);
    register_health(app, exit_code);
    register_status(app, exit_code);
    register_logs(app, exit_code);
}

}  // namespace pincer::cli
