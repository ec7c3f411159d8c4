#pragma once
/// `pincer sessions export` and `pincer sessions import`: a session's transcript to and from
/// OpenClaw's JSONL file (sessions.export / sessions.import).
namespace CLI {
class App;
}

namespace pincer::cli {

/// Adds `export KEY [--out FILE]` and `import KEY FILE [--replace]` under `sessions`, with the exit
/// codes of the other client commands (2 also when a file cannot be read or written). `exit_code`
/// must outlive the app.
void register_session_transfer_commands(CLI::App* sessions, int& exit_code);

}  // namespace pincer::cli
