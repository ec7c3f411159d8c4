#include "commands/client_commands.hpp"

#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <iostream>
#include <memory>
#include <thread>

#include "client/gateway_client.hpp"
#include "commands/command_support.hpp"
#include "commands/gateway_target.hpp"
#include "config/json5.hpp"

namespace pincer::cli {

namespace json = boost::json;
using client::GatewayClient;

namespace {

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
            InterruptGuard guard(lo->follow);
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
                while (!InterruptGuard::interrupted() && std::chrono::steady_clock::now() < wake) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
                }
                if (InterruptGuard::interrupted()) return kExitOk;
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
