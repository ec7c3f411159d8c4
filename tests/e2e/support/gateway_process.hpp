#pragma once
/// Starts the real `pincer` binary on port 0 with a fresh state directory, waits for its
/// "listening" line, and stops it (SIGTERM or SIGKILL) on request or destruction.
#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pincer::e2e {

struct GatewayOptions {
    /// Written to <state>/pincer.json before start when non-empty (JSON5 text).
    std::string config;
    /// Passed as --token unless empty; the default is 32+ characters.
    std::string token = "e2e-token-0123456789abcdefghijklmnop";
    std::vector<std::string> extra_args;
    std::map<std::string, std::string> env;
    /// Reuse this state directory (restart tests) instead of a new temp dir.
    std::filesystem::path state_dir;
};

struct ExitStatus {
    bool exited = false;
    int code = -1;
    int signal = 0;
    std::chrono::milliseconds elapsed{0};
};

class GatewayProcess {
public:
    explicit GatewayProcess(GatewayOptions opts = {});
    ~GatewayProcess();
    GatewayProcess(const GatewayProcess&) = delete;
    GatewayProcess& operator=(const GatewayProcess&) = delete;

    uint16_t port() const { return port_; }
    std::string url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/"; }
    const std::string& token() const { return opts_.token; }
    const std::filesystem::path& state_dir() const { return state_dir_; }
    std::filesystem::path config_path() const { return state_dir_ / "pincer.json"; }
    pid_t pid() const { return pid_; }
    /// Everything the process printed on stdout so far (after start: the listening line etc.).
    const std::string& stdout_text() const { return stdout_; }
    std::string stderr_text() const;

    /// Sends `sig` and waits up to `timeout` for the exit.
    ExitStatus stop(int sig, std::chrono::milliseconds timeout = std::chrono::seconds(5));

private:
    GatewayOptions opts_;
    std::filesystem::path state_dir_;
    bool own_state_dir_ = false;
    pid_t pid_ = -1;
    uint16_t port_ = 0;
    std::string stdout_;
};

/// Runs a command, returning its exit code and combined output (for CLI tests).
struct CommandResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};
CommandResult run_command(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(20));

/// What run_command can feed the child besides its arguments.
struct CommandInput {
    /// Written to the child's stdin, which is then closed (else stdin is inherited).
    std::optional<std::string> stdin_text;
    /// When non-empty, `signal` is sent once stdout contains this text (e.g. Ctrl-C mid-reply).
    std::string signal_when_stdout_contains;
    int signal = SIGINT;
};
CommandResult run_command(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                          std::chrono::milliseconds timeout, const CommandInput& input);

}  // namespace pincer::e2e
