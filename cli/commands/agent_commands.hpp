#pragma once
/// The `pincer` subcommands about agents and their conversations: sessions, agents, models, usage
/// and chat.
namespace CLI {
class App;
}

namespace pincer::cli {

/// Adds `sessions`, `agents`, `models`, `usage` and `chat` to `app`, with the exit-code contract of
/// register_client_commands: 0 success, 1 the gateway answered with an error (for `chat`: a reply
/// ended in error or was aborted), 2 no answer. `exit_code` must outlive `app`.
void register_agent_commands(CLI::App& app, int& exit_code);

}  // namespace pincer::cli

using pincer::cli::register_agent_commands;
