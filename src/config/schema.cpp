#include "config/schema.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <optional>
#include <string_view>

#include "config/json5.hpp"

namespace pincer::config {
namespace {

// Ranges and defaults mirror core/limits.cpp (apply_limits_config), which enforces the same
// bounds at load; keep them in step.
constexpr std::string_view kSchemaText = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "Pincer configuration (openclaw.json)",
  "description": "OpenClaw-compatible config. Pincer uses gateway, logging, models, agents and session; other keys are kept unchanged.",
  "type": "object",
  "properties": {
    "gateway": {
      "type": "object",
      "properties": {
        "mode": {"type": "string", "enum": ["local", "remote"], "default": "local"},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 18789},
        "bind": {
          "type": "string",
          "default": "loopback",
          "anyOf": [
            {"enum": ["loopback", "lan", "auto", "tailnet", "custom"]},
            {"format": "ipv4"},
            {"format": "ipv6"}
          ]
        },
        "customBindHost": {"type": "string"},
        "auth": {
          "type": "object",
          "properties": {
            "mode": {"type": "string", "enum": ["token", "password", "none", "trusted-proxy"], "default": "token"},
            "token": {"type": "string"},
            "password": {"type": "string"},
            "defaultScopes": {
              "type": "array",
              "uniqueItems": true,
              "items": {
                "type": "string",
                "enum": ["operator.read", "operator.write", "operator.admin", "operator.approvals",
                         "operator.questions", "operator.pairing", "operator.talk", "operator.talk.secrets"]
              }
            },
            "rateLimit": {
              "type": "object",
              "properties": {
                "maxAttempts": {"type": "integer", "minimum": 1, "maximum": 1000000, "default": 10},
                "windowMs": {"type": "integer", "minimum": 1000, "maximum": 86400000, "default": 60000},
                "lockoutMs": {"type": "integer", "minimum": 0, "maximum": 86400000, "default": 300000}
              }
            }
          }
        },
        "reload": {
          "type": "object",
          "properties": {
            "mode": {"type": "string", "enum": ["off", "hot", "restart", "hybrid"], "default": "hybrid"}
          }
        },
        "tickIntervalMs": {"type": "integer", "minimum": 1000, "maximum": 3600000, "default": 30000},
        "limits": {
          "type": "object",
          "properties": {
            "maxPayload": {"type": "integer", "minimum": 1024, "maximum": 1073741824, "default": 26214400},
            "maxPreauthPayload": {"type": "integer", "minimum": 1024, "maximum": 16777216, "default": 65536},
            "maxBufferedBytes": {"type": "integer", "minimum": 65536, "maximum": 1099511627776, "default": 52428800},
            "handshakeTimeoutMs": {"type": "integer", "minimum": 100, "maximum": 600000, "default": 10000},
            "maxPreauthConnectionsPerIp": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 32},
            "maxUnauthorizedCalls": {"type": "integer", "minimum": 1, "maximum": 1000000, "default": 10},
            "maxPendingHandshakeFrames": {"type": "integer", "minimum": 0, "maximum": 10000, "default": 15},
            "healthRefreshMs": {"type": "integer", "minimum": 1000, "maximum": 86400000, "default": 60000},
            "wsPingIntervalMs": {"type": "integer", "minimum": 1000, "maximum": 3600000, "default": 25000},
            "presenceBroadcastIntervalMs": {"type": "integer", "minimum": 0, "maximum": 60000, "default": 1000},
            "maxHttpHeaderBytes": {"type": "integer", "minimum": 1024, "maximum": 1048576, "default": 16384},
            "maxHttpBodyBytes": {"type": "integer", "minimum": 1024, "maximum": 1073741824, "default": 1048576},
            "maxConnections": {"type": "integer", "minimum": 1, "maximum": 1000000, "default": 20000},
            "controlPlaneWritesPerMinute": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 3},
            "agentMaxSteps": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 32},
            "chatHistoryMaxBytes": {"type": "integer", "minimum": 65536, "maximum": 67108864, "default": 6291456}
          }
        }
      }
    },
    "logging": {
      "type": "object",
      "properties": {
        "level": {"type": "string", "enum": ["trace", "debug", "info", "warn", "error"], "default": "info"},
        "file": {"type": "string"},
        "maxFileBytes": {"type": "integer", "minimum": 4096, "default": 10485760},
        "maxFiles": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 5}
      }
    },
    "models": {
      "type": "object",
      "properties": {
        "providers": {
          "type": "object",
          "additionalProperties": {
            "type": "object",
            "properties": {
              "baseUrl": {"type": "string"},
              "apiKey": {},
              "api": {"type": "string"},
              "headers": {"type": "object", "additionalProperties": {}},
              "models": {
                "type": "array",
                "items": {
                  "type": "object",
                  "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "contextWindow": {"type": "number"},
                    "maxTokens": {"type": "number"},
                    "reasoning": {"type": "boolean"},
                    "input": {"type": "array", "items": {"type": "string"}},
                    "cost": {
                      "type": "object",
                      "properties": {
                        "input": {"type": "number"},
                        "output": {"type": "number"},
                        "cacheRead": {"type": "number"},
                        "cacheWrite": {"type": "number"}
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    },
    "agents": {
      "type": "object",
      "properties": {
        "defaults": {
          "type": "object",
          "properties": {
            "model": {"properties": {"primary": {"type": "string"}, "fallbacks": {"type": "array", "items": {"type": "string"}}}},
            "workspace": {"type": "string"},
            "timeoutSeconds": {"type": "number"}
          }
        },
        "list": {
          "type": "array",
          "items": {
            "type": "object",
            "properties": {
              "id": {"type": "string"},
              "default": {"type": "boolean"},
              "name": {"type": "string"},
              "workspace": {"type": "string"},
              "model": {"properties": {"primary": {"type": "string"}, "fallbacks": {"type": "array", "items": {"type": "string"}}}},
              "identity": {
                "type": "object",
                "properties": {
                  "name": {"type": "string"},
                  "theme": {"type": "string"},
                  "emoji": {"type": "string"},
                  "avatar": {"type": "string"},
                  "avatarUrl": {"type": "string"}
                }
              }
            }
          }
        }
      }
    },
    "session": {
      "type": "object",
      "properties": {
        "mainKey": {"type": "string"},
        "scope": {"type": "string"}
      }
    }
  }
})json";

// Top-level keys of OpenClaw 5.7's OpenClawConfig that Pincer keeps but does not interpret.
constexpr std::string_view kOpenClawKeys[] = {
    "$schema",    "meta",       "auth",   "accessGroups", "acp",       "env",         "wizard", "diagnostics",
    "cli",        "crestodian", "update", "browser",      "ui",        "secrets",     "skills", "plugins",
    "surfaces",   "nodeHost",   "tools",  "bindings",     "broadcast", "audio",       "media",  "messages",
    "commands",   "approvals",  "web",    "channels",     "cron",      "commitments", "hooks",  "discovery",
    "canvasHost", "talk",       "memory", "mcp",          "proxy"};

// Keys Pincer reads (with the sub-keys the schema above lists): gateway.*, logging.*,
// models.providers (runtime/model_resolve, methods/models), agents.defaults / agents.list
// (model, workspace, timeoutSeconds, identity) and session.mainKey / session.scope (agents.list).
constexpr std::string_view kUsedTopLevelKeys[] = {"gateway", "logging", "models", "agents", "session"};

struct HintRow {
    std::string_view path;
    std::string_view label;
    std::string_view help;
    std::string_view group = {};
    int order = 0;
    bool sensitive = false;
    bool advanced = false;
    std::string_view placeholder = {};
};

// Order within a group follows the docs; `advanced` marks knobs most users never touch.
constexpr HintRow kHints[] = {
    {"gateway", "Gateway", "WebSocket gateway server settings.", "Gateway", 10},
    {"gateway.mode", "Gateway mode", "local runs the gateway on this machine; remote connects to another one.",
     "Gateway", 11},
    {"gateway.port", "Port", "TCP port for the WebSocket/HTTP listener.", "Gateway", 12, false, false, "18789"},
    {"gateway.bind", "Bind address",
     "loopback (127.0.0.1), lan (all interfaces), auto, tailnet, custom (see customBindHost), or an IP literal.",
     "Gateway", 13, false, false, "loopback"},
    {"gateway.customBindHost", "Custom bind host", "Address to listen on when bind is custom.", "Gateway", 14, false,
     true, "192.168.1.10"},
    {"gateway.auth", "Authentication", "How clients prove they may connect.", "Auth", 20},
    {"gateway.auth.mode", "Auth mode", "token or password (shared secret), none (loopback only), trusted-proxy.",
     "Auth", 21},
    {"gateway.auth.token", "Gateway token", "Shared secret clients send as auth.token.", "Auth", 22, true},
    {"gateway.auth.password", "Gateway password", "Shared secret clients send as auth.password.", "Auth", 23, true},
    {"gateway.auth.defaultScopes", "Default scopes",
     "Operator scopes granted to shared-secret clients that request none.", "Auth", 24, false, true},
    {"gateway.auth.rateLimit", "Auth rate limit", "Lock out a client IP after repeated failed attempts.", "Auth", 25,
     false, true},
    {"gateway.auth.rateLimit.maxAttempts", "Max failed attempts", "Failures allowed per window before lock-out.",
     "Auth", 26, false, true},
    {"gateway.auth.rateLimit.windowMs", "Window (ms)", "Window in which failures are counted.", "Auth", 27, false,
     true},
    {"gateway.auth.rateLimit.lockoutMs", "Lock-out (ms)", "How long a locked-out IP is refused.", "Auth", 28, false,
     true},
    {"gateway.remote.token", "Remote gateway token", "Token used to reach a remote gateway.", "Gateway", 30, true},
    {"gateway.remote.password", "Remote gateway password", "Password used to reach a remote gateway.", "Gateway", 31,
     true},
    {"gateway.reload", "Config reload", "What happens when the config file changes.", "Gateway", 40},
    {"gateway.reload.mode", "Reload mode",
     "off (ignore changes), hot (apply in place), restart (restart the gateway), hybrid (hot when possible).",
     "Gateway", 41},
    {"gateway.tickIntervalMs", "Tick interval (ms)", "Keepalive tick event interval, advertised to clients.", "Gateway",
     42, false, true},
    {"gateway.limits", "Limits", "Resource limits of the gateway.", "Limits", 50, false, true},
    {"gateway.limits.maxPayload", "Max frame (bytes)", "Largest inbound frame after the handshake.", "Limits", 51,
     false, true},
    {"gateway.limits.maxPreauthPayload", "Max pre-auth frame (bytes)", "Largest inbound frame before the handshake.",
     "Limits", 52, false, true},
    {"gateway.limits.maxBufferedBytes", "Max buffered bytes", "Outbound bytes queued per client before shedding.",
     "Limits", 53, false, true},
    {"gateway.limits.handshakeTimeoutMs", "Handshake timeout (ms)", "Time allowed to complete connect.", "Limits", 54,
     false, true},
    {"gateway.limits.maxPreauthConnectionsPerIp", "Pre-auth connections per IP",
     "Unauthenticated sockets allowed per client IP.", "Limits", 55, false, true},
    {"gateway.limits.maxUnauthorizedCalls", "Max unauthorized calls",
     "Scope/role failures on one socket before it is closed.", "Limits", 56, false, true},
    {"gateway.limits.maxPendingHandshakeFrames", "Max pending handshake frames",
     "Requests queued behind an unanswered connect.", "Limits", 57, false, true},
    {"gateway.limits.healthRefreshMs", "Health refresh (ms)", "Interval of the cached health refresh.", "Limits", 58,
     false, true},
    {"gateway.limits.wsPingIntervalMs", "WebSocket ping (ms)", "WebSocket ping interval after the handshake.", "Limits",
     59, false, true},
    {"gateway.limits.presenceBroadcastIntervalMs", "Presence broadcast interval (ms)",
     "Presence changes are broadcast at most this often.", "Limits", 59, false, true},
    {"gateway.limits.maxHttpHeaderBytes", "Max HTTP header bytes", "Largest HTTP request head accepted.", "Limits", 60,
     false, true},
    {"gateway.limits.maxHttpBodyBytes", "Max HTTP body bytes", "Largest HTTP request body accepted.", "Limits", 61,
     false, true},
    {"gateway.limits.maxConnections", "Max connections", "Total open sockets.", "Limits", 62, false, true},
    {"gateway.limits.controlPlaneWritesPerMinute", "Config writes per minute",
     "config.apply / config.patch calls allowed per client per minute.", "Limits", 63, false, true},
    {"gateway.limits.agentMaxSteps", "Agent steps per run", "Model calls one agent run may make.", "Limits", 64, false,
     true},
    {"gateway.limits.chatHistoryMaxBytes", "chat.history cap (bytes)", "Largest chat.history response.", "Limits", 65,
     false, true},
    {"logging", "Logging", "Log output settings.", "Logging", 70},
    {"logging.level", "Log level", "Minimum level written: trace, debug, info, warn, error.", "Logging", 71},
    {"logging.file", "Log file", "Path of the log file (rotated).", "Logging", 72, false, false,
     "~/.pincer/logs/pincer.log"},
    {"logging.maxFileBytes", "Max log file bytes", "Size at which the log file rotates.", "Logging", 73, false, true},
    {"logging.maxFiles", "Rotated files kept", "Number of rotated log files kept.", "Logging", 74, false, true},
    // Secrets inside sections Pincer keeps but does not interpret, so editors mask them too.
    {"models.providers.*.apiKey", "API key", "Provider API key.", "Models", 100, true},
    {"channels.*.token", "Channel token", "Channel access token.", "Channels", 110, true},
    {"channels.*.botToken", "Bot token", "Channel bot token.", "Channels", 111, true},
    {"channels.*.appToken", "App token", "Channel app token.", "Channels", 112, true},
    {"hooks.token", "Hooks token", "Token required by the webhook endpoints.", "Hooks", 120, true},
};

boost::json::object build_hints() {
    boost::json::object hints;
    for (const auto& row : kHints) {
        boost::json::object h;
        h["label"] = row.label;
        h["help"] = row.help;
        if (!row.group.empty()) h["group"] = row.group;
        if (row.order != 0) h["order"] = row.order;
        if (row.sensitive) h["sensitive"] = true;
        if (row.advanced) h["advanced"] = true;
        if (!row.placeholder.empty()) h["placeholder"] = row.placeholder;
        hints[row.path] = std::move(h);
    }
    return hints;
}

boost::json::object* schema_node(boost::json::value& schema, std::string_view path) {
    boost::json::value* node = &schema;
    while (!path.empty()) {
        const auto dot = path.find('.');
        const std::string_view seg = path.substr(0, dot);
        path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
        auto* props = node->as_object().if_contains("properties");
        if (props == nullptr) return nullptr;
        node = props->as_object().if_contains(seg);
        if (node == nullptr) return nullptr;
    }
    return &node->as_object();
}

boost::json::value build_schema() {
    auto parsed = parse_json5(kSchemaText);
    boost::json::value schema = std::move(std::get<boost::json::value>(parsed));
    auto& props = schema.as_object()["properties"].as_object();
    for (auto key : kOpenClawKeys) {
        props[key] =
            boost::json::object{{"title", key}, {"description", "OpenClaw setting; Pincer keeps it unchanged."}};
    }
    for (const auto& row : kHints) {
        if (auto* node = schema_node(schema, row.path)) {
            (*node)["title"] = row.label;
            (*node)["description"] = row.help;
        }
    }
    return schema;
}

std::string kind_name(const boost::json::value& v) {
    switch (v.kind()) {
        case boost::json::kind::null:
            return "null";
        case boost::json::kind::bool_:
            return "boolean";
        case boost::json::kind::int64:
        case boost::json::kind::uint64:
            return "integer";
        case boost::json::kind::double_:
            return std::isfinite(v.get_double()) ? "number" : "non-finite number";
        case boost::json::kind::string:
            return "string";
        case boost::json::kind::array:
            return "array";
        case boost::json::kind::object:
            return "object";
    }
    return "unknown";
}

std::optional<double> number_of(const boost::json::value& v) {
    if (v.is_int64()) return double(v.get_int64());
    if (v.is_uint64()) return double(v.get_uint64());
    if (v.is_double() && std::isfinite(v.get_double())) return v.get_double();
    return std::nullopt;
}

bool matches_type(const boost::json::value& v, std::string_view type) {
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "string") return v.is_string();
    if (type == "boolean") return v.is_bool();
    if (type == "null") return v.is_null();
    if (type == "number") return number_of(v).has_value();
    if (type == "integer") {
        const auto d = number_of(v);
        return v.is_int64() || v.is_uint64() || (d && std::trunc(*d) == *d);
    }
    return true;
}

std::string display(const boost::json::value& v) {
    if (v.is_string()) return std::string(v.get_string());
    return boost::json::serialize(v);
}

bool matches_format(const boost::json::value& v, std::string_view format) {
    if (!v.is_string()) return false;
    const std::string s(v.get_string());
    unsigned char buf[16];
    if (format == "ipv4") return inet_pton(AF_INET, s.c_str(), buf) == 1;
    if (format == "ipv6") return inet_pton(AF_INET6, s.c_str(), buf) == 1;
    return true;
}

bool in_enum(const boost::json::value& v, const boost::json::array& values) {
    return std::any_of(values.begin(), values.end(), [&](const boost::json::value& e) { return e == v; });
}

std::string join_path(const std::string& base, std::string_view seg) {
    return base.empty() ? std::string(seg) : base + "." + std::string(seg);
}

std::string quoted_list(const std::vector<std::string>& values) {
    std::string out;
    for (const auto& v : values) out += (out.empty() ? "\"" : ", \"") + v + "\"";
    return out;
}

// The schema of an object's member `key`: its `properties` entry, else an `additionalProperties`
// schema (maps such as models.providers); null when the schema does not describe it.
const boost::json::object* child_schema(const boost::json::object& schema, std::string_view key) {
    if (const auto* props = schema.if_contains("properties")) {
        if (const auto* sub = props->as_object().if_contains(key)) return &sub->as_object();
    }
    if (const auto* extra = schema.if_contains("additionalProperties"); extra != nullptr && extra->is_object()) {
        return &extra->get_object();
    }
    return nullptr;
}

// The subset of draft-07 the schema above uses: type, enum, anyOf(enum|format), minimum,
// maximum, properties, additionalProperties (a schema), items, uniqueItems.
void validate_node(const boost::json::value& v, const boost::json::object& schema, const std::string& path,
                   std::vector<ConfigIssue>& issues) {
    if (const auto* type = schema.if_contains("type"); type != nullptr && type->is_string()) {
        if (!matches_type(v, type->get_string())) {
            issues.push_back({path, "expected " + std::string(type->get_string()) + ", received " + kind_name(v), {}});
            return;
        }
    }
    if (const auto* values = schema.if_contains("enum"); values != nullptr && !in_enum(v, values->as_array())) {
        ConfigIssue issue{path, {}, {}};
        for (const auto& e : values->as_array()) issue.allowed_values.push_back(display(e));
        issue.message = "invalid value \"" + display(v) + "\"; expected one of " + quoted_list(issue.allowed_values);
        issues.push_back(std::move(issue));
        return;
    }
    if (const auto* any_of = schema.if_contains("anyOf")) {
        bool ok = false;
        ConfigIssue issue{path, {}, {}};
        std::vector<std::string> formats;
        for (const auto& branch : any_of->as_array()) {
            const auto& b = branch.as_object();
            if (const auto* values = b.if_contains("enum")) {
                ok = ok || in_enum(v, values->as_array());
                for (const auto& e : values->as_array()) issue.allowed_values.push_back(display(e));
            }
            if (const auto* format = b.if_contains("format")) {
                ok = ok || matches_format(v, format->as_string());
                formats.emplace_back(format->as_string());
            }
        }
        if (!ok) {
            issue.message =
                "invalid value \"" + display(v) + "\"; expected one of " + quoted_list(issue.allowed_values);
            for (std::size_t i = 0; i < formats.size(); ++i) {
                issue.message += (i == 0 ? " or an " : " or ") + formats[i];
            }
            if (!formats.empty()) issue.message += " address";
            issues.push_back(std::move(issue));
            return;
        }
    }
    if (const auto d = number_of(v)) {
        if (const auto* min = schema.if_contains("minimum"); min != nullptr && *d < min->to_number<double>()) {
            issues.push_back({path, "must be >= " + display(*min), {}});
        }
        if (const auto* max = schema.if_contains("maximum"); max != nullptr && *d > max->to_number<double>()) {
            issues.push_back({path, "must be <= " + display(*max), {}});
        }
    }
    if (const auto* obj = v.if_object()) {
        for (const auto& kv : *obj) {
            if (const auto* sub = child_schema(schema, kv.key())) {
                validate_node(kv.value(), *sub, join_path(path, kv.key()), issues);
            }
        }
    }
    if (const auto* arr = v.if_array()) {
        const auto* items = schema.if_contains("items");
        for (std::size_t i = 0; i < arr->size(); ++i) {
            const std::string item_path = join_path(path, std::to_string(i));
            if (items != nullptr) validate_node((*arr)[i], items->as_object(), item_path, issues);
            if (const auto* unique = schema.if_contains("uniqueItems");
                unique != nullptr && unique->is_bool() && unique->get_bool()) {
                for (std::size_t j = 0; j < i; ++j) {
                    if ((*arr)[j] == (*arr)[i]) {
                        issues.push_back({item_path, "duplicate item \"" + display((*arr)[i]) + "\"", {}});
                        break;
                    }
                }
            }
        }
    }
}

void collect_ignored(const boost::json::object& obj, const boost::json::object& schema, const std::string& path,
                     std::vector<std::string>& out) {
    for (const auto& kv : obj) {
        const std::string child = join_path(path, kv.key());
        const auto* sub = child_schema(schema, kv.key());
        if (sub == nullptr) {
            out.push_back(child);
        } else if (kv.value().is_object() && (sub->contains("properties") || sub->contains("additionalProperties"))) {
            collect_ignored(kv.value().get_object(), *sub, child, out);
        }
    }
}

}  // namespace

const boost::json::value& config_schema() {
    static const boost::json::value schema = build_schema();
    return schema;
}

const boost::json::object& config_ui_hints() {
    static const boost::json::object hints = build_hints();
    return hints;
}

std::vector<ConfigIssue> validate_config(const boost::json::value& cfg) {
    std::vector<ConfigIssue> issues;
    if (!cfg.is_object()) {
        issues.push_back({"", "config must be an object, received " + kind_name(cfg), {}});
        return issues;
    }
    const auto& props = config_schema().as_object().at("properties").as_object();
    for (auto key : kUsedTopLevelKeys) {
        if (const auto* v = cfg.get_object().if_contains(key)) {
            validate_node(*v, props.at(key).as_object(), std::string(key), issues);
        }
    }
    return issues;
}

std::vector<std::string> ignored_keys(const boost::json::value& cfg) {
    std::vector<std::string> out;
    const auto* obj = cfg.if_object();
    if (obj == nullptr) return out;
    const auto& props = config_schema().as_object().at("properties").as_object();
    for (const auto& kv : *obj) {
        const bool used = std::find(std::begin(kUsedTopLevelKeys), std::end(kUsedTopLevelKeys), kv.key()) !=
                          std::end(kUsedTopLevelKeys);
        if (!used) {
            out.emplace_back(kv.key());
        } else if (kv.value().is_object()) {
            collect_ignored(kv.value().get_object(), props.at(kv.key()).as_object(), std::string(kv.key()), out);
        }
    }
    return out;
}

boost::json::array issues_to_json(const std::vector<ConfigIssue>& issues) {
    boost::json::array out;
    for (const auto& issue : issues) {
        boost::json::object o{{"path", issue.path}, {"message", issue.message}};
        if (!issue.allowed_values.empty()) {
            boost::json::array allowed;
            for (const auto& v : issue.allowed_values) allowed.emplace_back(v);
            o["allowedValues"] = std::move(allowed);
        }
        out.emplace_back(std::move(o));
    }
    return out;
}

std::string summarize_issues(const std::vector<ConfigIssue>& issues) {
    std::string out = "invalid config: ";
    const std::size_t shown = std::min<std::size_t>(issues.size(), 3);
    for (std::size_t i = 0; i < shown; ++i) {
        if (i > 0) out += "; ";
        out += (issues[i].path.empty() ? "<root>" : issues[i].path) + ": " + issues[i].message;
    }
    if (issues.size() > shown) out += " (+" + std::to_string(issues.size() - shown) + " more issues)";
    return out;
}

}  // namespace pincer::config
