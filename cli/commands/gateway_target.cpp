#include "commands/gateway_target.hpp"

#include <boost/json/parse.hpp>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "config/json5.hpp"
#include "core/json.hpp"

namespace pincer::cli {

namespace json = boost::json;

namespace {

constexpr int kDefaultPort = 18789;

std::optional<int> parse_port(std::string_view text) {
    int port = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (ec != std::errc() || ptr != text.data() + text.size() || port < 1 || port > 65535) return std::nullopt;
    return port;
}

std::string str_at(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    return (it != o.end() && it->value().is_string()) ? std::string(it->value().get_string()) : std::string();
}

std::optional<double> num_at(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_number()) return std::nullopt;
    return it->value().to_number<double>();
}

const json::object* obj_at(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it == o.end() ? nullptr : it->value().if_object();
}

std::string plural(int64_t n, std::string_view word) {
    return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

}  // namespace

const char* const kTargetHelp =
    "Gateway resolution:\n"
    "  URL      --url, else ws://127.0.0.1:<port>/ with port from $PINCER_GATEWAY_PORT,\n"
    "           $OPENCLAW_GATEWAY_PORT, config gateway.port, else 18789\n"
    "  token    --token, $PINCER_GATEWAY_TOKEN, $OPENCLAW_GATEWAY_TOKEN, config gateway.auth.token\n"
    "  password --password, $PINCER_GATEWAY_PASSWORD, $OPENCLAW_GATEWAY_PASSWORD,\n"
    "           config gateway.auth.password\n"
    "  config   $PINCER_CONFIG_PATH, $OPENCLAW_CONFIG_PATH, else <state dir>/pincer.json;\n"
    "           state dir = $PINCER_STATE_DIR, $OPENCLAW_STATE_DIR, else ~/.pincer\n"
    "Exit codes: 0 ok, 1 the gateway returned an error, 2 no answer (bad arguments,\n"
    "connection refused, timeout, connection closed).";

GatewayTarget resolve_gateway_target(const std::string& url_flag, const std::string& token_flag,
                                     const std::string& password_flag, const EnvLookup& env) {
    GatewayTarget t;
    auto first_env = [&](const char* a, const char* b) { return util::env_either(env, a, b); };
    t.config_path = util::config_path(env).string();

    std::optional<int> port;
    if (url_flag.empty()) {
        for (const char* name : {"PINCER_GATEWAY_PORT", "OPENCLAW_GATEWAY_PORT"}) {
            if (auto v = env(name)) {
                port = parse_port(*v);
                if (port) break;
                t.warnings.push_back(std::string("ignoring $") + name + "='" + *v + "': not a port number");
            }
        }
    }
    t.token =
        !token_flag.empty() ? token_flag : first_env("PINCER_GATEWAY_TOKEN", "OPENCLAW_GATEWAY_TOKEN").value_or("");
    t.password = !password_flag.empty()
                     ? password_flag
                     : first_env("PINCER_GATEWAY_PASSWORD", "OPENCLAW_GATEWAY_PASSWORD").value_or("");

    // The config file is only a fallback; skip reading it when flags and environment said it all.
    const bool need_config = (url_flag.empty() && !port) || (t.token.empty() && t.password.empty());
    if (need_config) {
        std::ifstream in(t.config_path, std::ios::binary);
        if (in) {
            std::stringstream ss;
            ss << in.rdbuf();
            auto parsed = config::parse_json5(ss.str());
            if (const auto* err = std::get_if<config::Json5Error>(&parsed)) {
                t.warnings.push_back("ignoring config " + t.config_path + ": " + err->message);
            } else {
                const auto& root = std::get<json::value>(parsed);
                if (url_flag.empty() && !port) {
                    if (const auto* v = core::find_path(root, "gateway.port")) {
                        if (v->is_number() && v->to_number<double>() >= 1 && v->to_number<double>() <= 65535) {
                            port = static_cast<int>(v->to_number<double>());
                        } else if (v->is_string()) {
                            port = parse_port(v->get_string());
                        }
                        if (!port) t.warnings.push_back("ignoring gateway.port in " + t.config_path + ": not a port");
                    }
                }
                if (t.token.empty() && t.password.empty()) {
                    if (const auto* v = core::find_path(root, "gateway.auth.token"); v && v->is_string()) {
                        t.token = std::string(v->get_string());
                    }
                    if (const auto* v = core::find_path(root, "gateway.auth.password"); v && v->is_string()) {
                        t.password = std::string(v->get_string());
                    }
                }
            }
        }
    }
    t.url = !url_flag.empty() ? url_flag : "ws://127.0.0.1:" + std::to_string(port.value_or(kDefaultPort)) + "/";
    return t;
}

std::string format_duration_ms(int64_t ms) {
    if (ms < 0) ms = 0;
    if (ms < 1000) return std::to_string(ms) + "ms";
    int64_t s = ms / 1000, m = s / 60, h = m / 60, d = h / 24;
    if (d > 0) return std::to_string(d) + "d " + std::to_string(h % 24) + "h";
    if (h > 0) return std::to_string(h) + "h " + std::to_string(m % 60) + "m";
    if (m > 0) return std::to_string(m) + "m " + std::to_string(s % 60) + "s";
    return std::to_string(s) + "s";
}

std::string render_log_line(std::string_view line) {
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) return std::string(line);
    const auto& o = v.get_object();
    const json::object* meta = obj_at(o, "_meta");

    std::string time = str_at(o, "time");
    if (time.empty()) time = str_at(o, "ts");
    if (time.empty() && meta) time = str_at(*meta, "date");

    std::string level = str_at(o, "level");
    if (level.empty()) level = str_at(o, "lvl");
    if (level.empty() && meta) level = str_at(*meta, "logLevelName");
    for (auto& c : level) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));

    std::string message = str_at(o, "message");
    if (message.empty()) message = str_at(o, "msg");
    if (message.empty()) message = str_at(o, "1");  // tslog positional arguments
    if (message.empty()) message = str_at(o, "0");
    if (message.empty()) return std::string(line);

    std::string subsystem = str_at(o, "subsystem");
    std::string out;
    if (!time.empty()) out += time + " ";
    if (!level.empty()) out += level + " ";
    if (!subsystem.empty()) out += "[" + subsystem + "] ";
    return out + message;
}

std::string health_summary(const json::value& health, const json::object& hello) {
    const json::object empty;
    const json::object& h = health.is_object() ? health.get_object() : empty;
    const json::object* server = obj_at(hello, "server");
    const json::object* snapshot = obj_at(hello, "snapshot");

    bool ok = true;
    if (auto it = h.find("ok"); it != h.end() && it->value().is_bool()) ok = it->value().get_bool();
    std::string out = ok ? "Gateway healthy (ok)" : "Gateway unhealthy";
    if (server) {
        if (auto version = str_at(*server, "version"); !version.empty()) out += " · version " + version;
    }
    auto uptime = num_at(h, "uptimeMs");
    if (!uptime && snapshot) uptime = num_at(*snapshot, "uptimeMs");
    if (uptime) out += " · uptime " + format_duration_ms(static_cast<int64_t>(*uptime));
    for (auto key : {"clients", "connections"}) {
        if (auto n = num_at(h, key)) {
            out += " · " + plural(static_cast<int64_t>(*n), "client");
            break;
        }
        if (const auto* o = obj_at(h, key)) {
            if (auto n = num_at(*o, "count"); n) out += " · " + plural(static_cast<int64_t>(*n), "client");
            break;
        }
    }
    if (auto it = h.find("agents"); it != h.end() && it->value().is_array()) {
        out += " · " + plural(static_cast<int64_t>(it->value().get_array().size()), "agent");
    }
    if (const auto* sessions = obj_at(h, "sessions")) {
        if (auto n = num_at(*sessions, "count")) out += " · " + plural(static_cast<int64_t>(*n), "session");
    }
    if (const auto* channels = obj_at(h, "channels"); channels && !channels->empty()) {
        out += " · " + plural(static_cast<int64_t>(channels->size()), "channel");
    }
    if (auto d = num_at(h, "durationMs")) out += " · probe " + format_duration_ms(static_cast<int64_t>(*d));
    if (const auto* loop = obj_at(h, "eventLoop")) {
        if (auto it = loop->find("degraded"); it != loop->end() && it->value().is_bool() && it->value().get_bool()) {
            out += " · event loop degraded";
        }
    }
    return out;
}

std::string status_summary(const json::value& status, const json::object& hello, const std::string& url) {
    const json::object empty;
    const json::object& s = status.is_object() ? status.get_object() : empty;
    const json::object* server = obj_at(hello, "server");
    const json::object* snapshot = obj_at(hello, "snapshot");
    std::vector<std::string> lines;

    std::string version = str_at(s, "runtimeVersion");
    if (version.empty() && server) version = str_at(*server, "version");
    std::string head = "Gateway " + url;
    if (!version.empty()) head += " · version " + version;
    if (auto p = num_at(hello, "protocol")) head += " · protocol " + std::to_string(static_cast<int>(*p));
    lines.push_back(head);

    auto uptime = num_at(s, "uptimeMs");
    if (!uptime && snapshot) uptime = num_at(*snapshot, "uptimeMs");
    if (uptime) lines.push_back("uptime    " + format_duration_ms(static_cast<int64_t>(*uptime)));
    if (snapshot) {
        if (auto mode = str_at(*snapshot, "authMode"); !mode.empty()) lines.push_back("auth      " + mode);
    }
    if (const auto* sessions = obj_at(s, "sessions")) {
        std::string line = "sessions  ";
        if (auto n = num_at(*sessions, "count")) line += std::to_string(static_cast<int64_t>(*n));
        if (const auto* d = obj_at(*sessions, "defaults")) {
            if (auto model = str_at(*d, "model"); !model.empty()) line += " · default model " + model;
        }
        lines.push_back(line);
    }
    if (const auto* hb = obj_at(s, "heartbeat")) {
        if (auto it = hb->find("agents"); it != hb->end() && it->value().is_array()) {
            std::string line = "agents    ";
            bool first = true;
            for (const auto& a : it->value().get_array()) {
                if (!a.is_object()) continue;
                const auto& ao = a.get_object();
                line += (first ? "" : ", ") + str_at(ao, "agentId");
                first = false;
                auto en = ao.find("enabled");
                if (en != ao.end() && en->value().is_bool() && en->value().get_bool()) {
                    if (auto every = str_at(ao, "every"); !every.empty()) line += " (heartbeat " + every + ")";
                }
            }
            if (!first) lines.push_back(line);
        }
    }
    if (auto it = s.find("channelSummary"); it != s.end() && it->value().is_array()) {
        const auto& arr = it->value().get_array();
        if (arr.empty()) lines.push_back("channels  none");
        for (size_t i = 0; i < arr.size(); ++i) {
            if (arr[i].is_string())
                lines.push_back((i == 0 ? "channels  " : "          ") + std::string(arr[i].get_string()));
        }
    }
    if (const auto* tasks = obj_at(s, "tasks")) {
        auto active = num_at(*tasks, "active"), total = num_at(*tasks, "total");
        if (active || total) {
            lines.push_back("tasks     " + std::to_string(static_cast<int64_t>(active.value_or(0))) + " active / " +
                            std::to_string(static_cast<int64_t>(total.value_or(0))) + " total");
        }
    }
    if (auto it = s.find("queuedSystemEvents");
        it != s.end() && it->value().is_array() && !it->value().get_array().empty()) {
        lines.push_back("queued    " + plural(static_cast<int64_t>(it->value().get_array().size()), "system event"));
    }
    std::string out;
    for (size_t i = 0; i < lines.size(); ++i) out += (i ? "\n" : "") + lines[i];
    return out;
}

}  // namespace pincer::cli
