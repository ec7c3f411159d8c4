// `pincer`: argument parsing only. `gateway run` serves; the other commands are clients.
#include <CLI/CLI.hpp>

#include "app/server.hpp"
#include "commands/agent_commands.hpp"
#include "commands/client_commands.hpp"

int main(int argc, char** argv) {
    CLI::App app{"Pincer: a fast, lean OpenClaw-compatible agent gateway (protocol v3 and v4)", "pincer"};
    app.set_version_flag("--version", PINCER_VERSION);
    app.require_subcommand(1);
    int exit_code = 0;

    auto* gateway = app.add_subcommand("gateway", "Run the gateway server");
    gateway->require_subcommand(1);
    auto* run = gateway->add_subcommand("run", "Start the gateway in the foreground (stop with Ctrl-C or SIGTERM)");
    pincer::app::RunOptions opts;
    int port = -1;
    std::string bind, token;
    run->add_option("--port", port, "Port to listen on (default 18789; 0 picks a free port and prints it)")
        ->check(CLI::Range(0, 65535));
    run->add_option("--bind", bind, "loopback (default), lan, or an IP address to bind");
    run->add_option("--token", token,
                    "Gateway token (else PINCER_GATEWAY_TOKEN, OPENCLAW_GATEWAY_TOKEN, config gateway.auth.token, "
                    "or one generated on first start)");
    run->footer(
        "State: PINCER_STATE_DIR (or OPENCLAW_STATE_DIR), default ~/.pincer.\n"
        "Config: PINCER_CONFIG_PATH (or OPENCLAW_CONFIG_PATH), default <state>/pincer.json (JSON5).");
    run->callback([&] {
        if (port >= 0) opts.port = port;
        if (!bind.empty()) opts.bind = bind;
        if (!token.empty()) opts.token = token;
        exit_code = pincer::app::run_gateway(opts);
    });

    register_client_commands(app, exit_code);
    register_agent_commands(app, exit_code);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // CLI11's own codes (105, 109, ...) become the documented "bad arguments" code 2.
        return app.exit(e) == 0 ? 0 : 2;
    }
    return exit_code;
}
