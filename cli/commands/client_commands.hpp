#pragma once
/// The `pincer` subcommands that talk to a running gateway: call, health, status, logs.
namespace CLI {
class App;
}

namespace pincer::cli {

/// Adds `call`, `health`, `status` and `logs` to `app`. When one of them runs (as a CLI11 callback
/// during app.parse()), it stores its exit code in `exit_code`: 0 success, 1 the gateway answered
/// with an error (printed as `error: CODE message` on stderr), 2 the command could not get an
/// answer (bad arguments, connection refused, timeout, connection closed). `exit_code` must
/// outlive `app`.
void register_client_commands(CLI::App& app, int& exit_code);

}  // namespace pincer::cli

using pincer::cli::register_client_commands;
