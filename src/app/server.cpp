#include "app/server.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "app/logging.hpp"
#include "config/json5.hpp"
#include "config/store.hpp"
#include "core/clock.hpp"
#include "core/handshake.hpp"
#include "core/limits.hpp"
#include "methods/all.hpp"
#include "methods/models.hpp"
#include "storage/db.hpp"
#include "storage/device_registry.hpp"
#include "storage/idempotency_repo.hpp"
#include "storage/runs_repo.hpp"
#include "storage/sessions_repo.hpp"
#include "storage/system_events.hpp"
#include "storage/transcripts_repo.hpp"
#include "storage/usage_repo.hpp"
#include "transport/http_fetcher.hpp"
#include "transport/net_server.hpp"
#include "util/crypto.hpp"
#include "util/env_paths.hpp"

namespace pincer::app {
namespace {

constexpr size_t kMinRemoteSecretChars = 24;
constexpr uint16_t kDefaultPort = 18789;

std::string cfg_string(const json::value& cfg, std::string_view path, std::string fallback = {}) {
    const json::value* v = core::find_path(cfg, path);
    return v && v->is_string() ? std::string(core::sv(v->get_string())) : fallback;
}

// Settings that can change while running; rebuilt from the config on every reload.
struct LiveSettings {
    dispatch::AuthSettings auth;
    core::Limits limits;
    std::string log_level = "info";
};

struct SecretOverrides {
    std::optional<std::string> token;     // --token or env: wins over the config
    std::optional<std::string> password;  // env
};

// Returns an error message (naming the config path) when the config cannot be used.
std::optional<std::string> live_settings(const json::value& cfg, const SecretOverrides& ov, LiveSettings& out) {
    std::string mode = cfg_string(cfg, "gateway.auth.mode", "token");
    auto parsed = core::parse_auth_mode(mode);
    if (!parsed) {
        return "gateway.auth.mode: '" + mode + "' is not supported by Pincer (use token, password or none)";
    }
    out.auth.shared.mode = *parsed;
    out.auth.shared.token = ov.token.value_or(cfg_string(cfg, "gateway.auth.token"));
    out.auth.shared.password = ov.password.value_or(cfg_string(cfg, "gateway.auth.password"));
    out.auth.default_scopes.clear();
    if (const json::value* ds = core::find_path(cfg, "gateway.auth.defaultScopes"); ds && ds->is_array()) {
        for (const auto& s : ds->get_array()) {
            if (s.is_string()) out.auth.default_scopes.emplace_back(core::sv(s.get_string()));
        }
    } else {
        for (auto s : core::all_operator_scopes()) out.auth.default_scopes.emplace_back(s);
    }
    out.limits = core::Limits{};
    if (auto err = core::apply_limits_config(cfg, out.limits)) return err;
    out.log_level = cfg_string(cfg, "logging.level", "info");
    return std::nullopt;
}

std::vector<std::string> bind_addresses(const std::string& bind, const json::value& cfg) {
    if (bind == "loopback" || bind == "auto" || bind.empty()) return {"127.0.0.1", "::1"};
    if (bind == "lan") return {"0.0.0.0"};
    if (bind == "custom") return {cfg_string(cfg, "gateway.customBindHost", "127.0.0.1")};
    return {bind};
}

bool is_loopback_address(const std::string& a) { return a == "127.0.0.1" || a == "::1" || a.starts_with("127."); }

}  // namespace

int run_gateway(const RunOptions& opts) {
    const auto env = util::process_env();
    const auto state = util::state_dir(env);
    const auto cfg_path = util::config_path(env);
    config::ConfigStore store(cfg_path);
    auto loaded = store.load();
    if (loaded.exists && loaded.parsed.is_null()) {
        std::cerr << "pincer: cannot read config " << cfg_path << ": " << loaded.error << "\n";
        return 1;
    }
    if (!loaded.issues.empty()) {
        std::cerr << "pincer: invalid config " << cfg_path << ": " << config::summarize_issues(loaded.issues) << "\n";
        return 1;
    }
    json::value cfg = loaded.parsed.is_null() ? json::value(json::object{}) : loaded.parsed;

    SecretOverrides ov;
    ov.token = opts.token ? opts.token : util::env_either(env, "PINCER_GATEWAY_TOKEN", "OPENCLAW_GATEWAY_TOKEN");
    ov.password = util::env_either(env, "PINCER_GATEWAY_PASSWORD", "OPENCLAW_GATEWAY_PASSWORD");
    LiveSettings live;
    if (auto err = live_settings(cfg, ov, live)) {
        std::cerr << "pincer: invalid config " << cfg_path << ": " << *err << "\n";
        return 1;
    }
    std::optional<std::string> generated_token;
    if (live.auth.shared.mode == core::AuthMode::token && live.auth.shared.token.empty()) {
        // First start: make a token and keep it in the config (0600), so the CLI finds it too.
        generated_token = util::random_token();
        json::value next = cfg;
        if (!next.is_object()) next = json::object{};
        auto& gw = next.as_object()["gateway"];
        if (!gw.is_object()) gw = json::object{};
        auto& auth = gw.as_object()["auth"];
        if (!auth.is_object()) auth = json::object{};
        auth.as_object()["mode"] = "token";
        auth.as_object()["token"] = *generated_token;
        auto w = store.write_atomic(next);
        if (!w.ok) {
            std::cerr << "pincer: cannot save the generated token to " << cfg_path << ": " << w.error << "\n";
            return 1;
        }
        cfg = std::move(next);
        live.auth.shared.token = *generated_token;
    }

    int port = kDefaultPort;
    if (auto p = core::find_path(cfg, "gateway.port"); p && p->is_int64()) port = int(p->get_int64());
    if (auto e = util::env_either(env, "PINCER_GATEWAY_PORT", "OPENCLAW_GATEWAY_PORT")) port = std::atoi(e->c_str());
    if (opts.port) port = *opts.port;
    if (port < 0 || port > 65535) {
        std::cerr << "pincer: invalid port " << port << "\n";
        return 1;
    }
    const std::string bind = opts.bind.value_or(cfg_string(cfg, "gateway.bind", "loopback"));
    const auto addresses = bind_addresses(bind, cfg);
    const bool remote =
        std::any_of(addresses.begin(), addresses.end(), [](auto& a) { return !is_loopback_address(a); });
    if (remote) {
        const auto& secret =
            live.auth.shared.mode == core::AuthMode::password ? live.auth.shared.password : live.auth.shared.token;
        if (live.auth.shared.mode == core::AuthMode::none || secret.size() < kMinRemoteSecretChars) {
            std::cerr << "pincer: refusing to bind " << bind << " beyond loopback: anyone on the network could reach "
                      << "the gateway. Set a gateway token or password of at least " << kMinRemoteSecretChars
                      << " characters (--token, PINCER_GATEWAY_TOKEN or gateway.auth.token), or use --bind loopback.\n";
            return 1;
        }
    }

    LogSettings log;
    log.file = cfg_string(cfg, "logging.file", (state / "logs" / "pincer.log").string());
    log.level = live.log_level;
    init_logging(log);
    for (const auto& k : loaded.ignored) spdlog::info("config key {} is not used by Pincer yet (kept as is)", k);

    core::SystemClock clock;
    std::unique_ptr<storage::Database> db;
    try {
        db = std::make_unique<storage::Database>(state / "pincer.sqlite");
    } catch (const std::exception& e) {
        std::cerr << "pincer: cannot open state database: " << e.what() << "\n";
        return 1;
    }
    storage::SqliteDeviceRegistry devices(*db);
    storage::SystemEventStore system_events(*db);
    storage::UsageRepo usage_repo(*db);
    storage::SessionsRepo sessions_repo(*db);
    storage::TranscriptsRepo transcripts_repo(*db);
    storage::IdempotencyRepo idempotency_repo(*db);
    storage::RunsRepo runs_repo(*db);

    boost::asio::io_context ioc(1);
    auto loop = transport::make_event_loop(ioc, 2);
    dispatch::MethodTable table;
    char host[256] = "localhost";
    gethostname(host, sizeof(host) - 1);
    dispatch::ServerInfo info{PINCER_VERSION, util::uuid_v4(), host, cfg_path.string(), state.string(), clock.now_ms()};
    dispatch::Gateway gateway(*loop, clock, table, &devices, info, live.limits, live.auth);

    methods::Services services{gateway, system_events, log.file};
    auto apply_live = [&gateway, ov, &cfg_path](const json::value& next) {
        LiveSettings s;
        if (auto err = live_settings(next.is_null() ? json::value(json::object{}) : next, ov, s)) {
            spdlog::warn("config {} not applied: {}", cfg_path.string(), *err);
            return;
        }
        gateway.update_auth(s.auth);
        gateway.update_limits(s.limits);
        set_log_level(s.log_level);
        spdlog::info("config applied");
    };
    methods::ConfigService config_service(store, apply_live);
    methods::HealthService health(gateway);
    services.config = &config_service;
    services.health = &health;
    services.usage = &usage_repo;
    services.sessions = &sessions_repo;
    services.transcripts = &transcripts_repo;
    // Extra CAs for providers behind a private CA: OpenClaw users already set NODE_EXTRA_CA_CERTS.
    transport::FetcherOptions fetch_opts;
    for (const char* var : {"PINCER_EXTRA_CA_CERTS", "NODE_EXTRA_CA_CERTS"}) {
        if (const char* v = std::getenv(var); v && *v) {
            fetch_opts.extra_ca_file = v;
            break;
        }
    }
    auto fetcher = transport::make_http_fetcher(ioc, fetch_opts);
    methods::ChatRuntime chat(methods::ChatDeps{gateway, config_service, sessions_repo, transcripts_repo, usage_repo,
                                                idempotency_repo, runs_repo, system_events, *fetcher, state,
                                                methods::process_env()});
    try {
        if (size_t n = chat.recover_interrupted()) spdlog::warn("closed {} agent run(s) interrupted by a restart", n);
    } catch (const std::exception& e) {
        std::cerr << "pincer: cannot recover interrupted runs: " << e.what() << "\n";
        return 1;
    }
    services.chat = &chat;
    methods::register_all(table, services);
    table.freeze();
    gateway.set_health_provider([&health] { return health.cached(); });

    std::vector<transport::HttpRoute> routes = methods::http_routes(gateway);
    transport::NetServer server(ioc, gateway, std::move(routes));
    uint16_t bound = 0;
    for (const auto& addr : addresses) {
        try {
            bound = server.listen(addr, bound ? bound : uint16_t(port));
        } catch (const std::exception& e) {
            // ::1 is best effort: hosts without IPv6 still serve on 127.0.0.1.
            if (addr == "::1" && bound) continue;
            std::cerr << "pincer: " << e.what() << "\n";
            return 1;
        }
    }
    std::printf("pincer: listening on %s:%u\n", addresses.front().c_str(), unsigned(bound));
    if (generated_token) {
        std::printf("pincer: generated gateway token (saved to %s): %s\n", cfg_path.c_str(), generated_token->c_str());
    }
    std::fflush(stdout);
    spdlog::info("gateway listening on {}:{} (bind {}, auth {})", addresses.front(), bound, bind,
                 core::to_string(live.auth.shared.mode));

    // Periodic work: tick, health refresh, config file watch; each re-arms itself so interval
    // changes from a reload take effect on the next round.
    std::function<void()> tick = [&] {
        gateway.broadcaster().broadcast("tick", json::object{{"ts", clock.now_ms()}});
        loop->post_after(gateway.limits().tick_interval_ms, tick);
    };
    loop->post_after(gateway.limits().tick_interval_ms, tick);
    std::function<void()> refresh = [&] {
        gateway.broadcast_health(health.refresh());
        loop->post_after(gateway.limits().health_refresh_ms, refresh);
    };
    loop->post_after(gateway.limits().health_refresh_ms, refresh);
    std::string last_hash = loaded.exists ? store.load().hash : std::string();
    std::function<void()> watch = [&] {
        loop->post_blocking([&] {
            auto r = store.load();
            loop->post([&, r = std::move(r)] {
                if (r.hash != last_hash && !r.parsed.is_null() && r.valid) {
                    last_hash = r.hash;
                    apply_live(r.parsed);
                }
                loop->post_after(2000, watch);
            });
        });
    };
    loop->post_after(2000, watch);

    boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
    bool stopping = false;
    int shutdown_rounds = 0;
    // Polls until every socket is gone (or 1.5 s passed), then stops the loop.
    std::function<void()> wait_closed = [&] {
        if (server.open_sockets() == 0 || ++shutdown_rounds > 75) {
            ioc.stop();
            return;
        }
        loop->post_after(20, wait_closed);
    };
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec || stopping) return;
        stopping = true;
        spdlog::info("received signal {}, shutting down", sig);
        // Runs end as aborted ("shutdown") with their text saved, before the pool is drained.
        chat.abort_all("shutdown");
        gateway.shutdown("gateway stopping");
        server.stop_accepting();
        // Give clients a moment to receive the close frames, then stop regardless.
        loop->post_after(20, wait_closed);
    });
    signal(SIGPIPE, SIG_IGN);
    ioc.run();
    loop->join_blocking();
    spdlog::info("shutdown complete");
    spdlog::shutdown();
    return 0;
}

}  // namespace pincer::app
