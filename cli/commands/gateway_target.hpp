#pragma once
/// How the client commands find the gateway (URL, credentials) and render its replies as text.
/// Pure functions: the environment is passed in so tests can fake it.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/env_paths.hpp"

namespace pincer::cli {

using util::EnvLookup;
using util::process_env;

/// Help text listing the resolution order below (used as the commands' --help footer).
extern const char* const kTargetHelp;

struct GatewayTarget {
    std::string url;
    std::string token;
    std::string password;
    std::string config_path;            // the config file consulted (may not exist)
    std::vector<std::string> warnings;  // e.g. an unparseable config file; printed on stderr
};

/// Resolves the target. URL: `url_flag`, else ws://127.0.0.1:<port>/ with port from
/// PINCER_GATEWAY_PORT, OPENCLAW_GATEWAY_PORT, config `gateway.port`, else 18789. Token:
/// `token_flag`, PINCER_GATEWAY_TOKEN, OPENCLAW_GATEWAY_TOKEN, config `gateway.auth.token`.
/// Password likewise (PINCER_GATEWAY_PASSWORD, OPENCLAW_GATEWAY_PASSWORD, `gateway.auth.password`).
/// Config file: PINCER_CONFIG_PATH, OPENCLAW_CONFIG_PATH, else <state dir>/pincer.json, state dir
/// = PINCER_STATE_DIR, OPENCLAW_STATE_DIR, else ~/.pincer. The file is read (JSON5) only when a
/// value is still missing after flags and environment. Never throws.
GatewayTarget resolve_gateway_target(const std::string& url_flag, const std::string& token_flag,
                                     const std::string& password_flag, const EnvLookup& env);

/// `1d 2h`, `3h 4m`, `5m 6s`, `7s`, `250ms`.
std::string format_duration_ms(int64_t ms);

/// One `logs.tail` line for humans: `time level message` for a JSON log line (our format and the
/// reference's tslog format), the raw text otherwise.
std::string render_log_line(std::string_view line);

/// One-line summary of a `health` payload, enriched with the hello-ok payload (version, uptime).
std::string health_summary(const boost::json::value& health, const boost::json::object& hello);

/// Short multi-line summary of a `status` payload (no trailing newline).
std::string status_summary(const boost::json::value& status, const boost::json::object& hello, const std::string& url);

}  // namespace pincer::cli
