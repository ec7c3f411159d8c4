#include "commands/session_transfer_commands.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>

#include "client/gateway_client.hpp"
#include "commands/command_support.hpp"
#include "core/json.hpp"

namespace pincer::cli {

namespace json = boost::json;
using client::GatewayClient;

namespace {

struct TransferOptions {
    std::string key, file, out;
    bool replace = false;
};

std::string text_at(const json::value& v, std::string_view key) {
    const json::object* o = v.if_object();
    const json::string* s = o ? core::get_string(*o, key) : nullptr;
    return s ? std::string(core::sv(*s)) : std::string();
}

// Lines after the header: one per transcript entry.
size_t entry_lines(const std::string& jsonl) {
    const auto lines = static_cast<size_t>(std::count(jsonl.begin(), jsonl.end(), '\n'));
    return lines > 0 ? lines - 1 : 0;
}

void register_export(CLI::App* sessions, int& exit_code) {
    auto o = std::make_shared<CommonOptions>();
    auto t = std::make_shared<TransferOptions>();
    auto* cmd = sessions->add_subcommand("export", "Write a session's transcript as OpenClaw JSONL (sessions.export)");
    cmd->add_option("key", t->key, "Session key")->required();
    cmd->add_option("-o,--out", t->out, "Write to FILE instead of stdout");
    add_common_options(cmd, *o);
    cmd->callback([&exit_code, o, t] {
        exit_code = with_gateway(*o, kReadScopes, [&](GatewayClient& gw, const json::object&, const GatewayTarget&) {
            json::value payload = gw.call("sessions.export", json::object{{"key", t->key}}, timeout_of(*o));
            const std::string jsonl = text_at(payload, "jsonl");
            if (o->json) {
                std::cout << json::serialize(payload) << "\n";
                return kExitOk;
            }
            if (t->out.empty()) {
                std::cout << jsonl;
                return kExitOk;
            }
            std::ofstream f(t->out, std::ios::binary | std::ios::trunc);
            f << jsonl;
            f.close();
            if (!f) {
                std::cerr << "error: cannot write " << t->out << "\n";
                return kExitNoAnswer;
            }
            std::cout << "Wrote " << entry_lines(jsonl) << " entries of " << text_at(payload, "key") << " to " << t->out
                      << "\n";
            return kExitOk;
        });
    });
}

void register_import(CLI::App* sessions, int& exit_code) {
    auto o = std::make_shared<CommonOptions>();
    auto t = std::make_shared<TransferOptions>();
    auto* cmd =
        sessions->add_subcommand("import", "Load an OpenClaw JSONL transcript into a session (sessions.import)");
    cmd->add_option("key", t->key, "Session key")->required();
    cmd->add_option("file", t->file, "Transcript file (- for stdin)")->required();
    cmd->add_flag("--replace", t->replace, "Replace the session's transcript if it has one");
    add_common_options(cmd, *o);
    cmd->callback([&exit_code, o, t] {
        std::string jsonl;
        if (t->file == "-") {
            jsonl.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
        } else {
            std::ifstream f(t->file, std::ios::binary);
            std::ostringstream buf;
            buf << f.rdbuf();
            if (!f) {
                std::cerr << "error: cannot read " << t->file << "\n";
                exit_code = kExitNoAnswer;
                return;
            }
            jsonl = std::move(buf).str();
        }
        exit_code = with_gateway(*o, kAllScopes, [&](GatewayClient& gw, const json::object&, const GatewayTarget&) {
            json::object params{{"key", t->key}, {"jsonl", jsonl}};
            if (t->replace) params["replace"] = true;
            json::value payload = gw.call("sessions.import", params, timeout_of(*o));
            if (o->json) {
                std::cout << json::serialize(payload) << "\n";
            } else {
                const json::object* p = payload.if_object();
                std::cout << "Imported " << (p ? core::get_int(*p, "entries").value_or(0) : 0) << " entries into "
                          << text_at(payload, "key") << " (session " << text_at(payload, "sessionId") << ")\n";
            }
            return kExitOk;
        });
    });
}

}  // namespace

void register_session_transfer_commands(CLI::App* sessions, int& exit_code) {
    register_export(sessions, exit_code);
    register_import(sessions, exit_code);
}

}  // namespace pincer::cli
