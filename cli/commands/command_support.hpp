#pragma once
/// What every client subcommand shares: the common options, the connect-and-map-errors wrapper,
/// the error printer and Ctrl-C handling. Used by client_commands.cpp and agent_commands.cpp.
#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "client/gateway_client.hpp"
#include "commands/gateway_target.hpp"

namespace CLI {
class App;
}

namespace pincer::cli {

constexpr int kExitOk = 0;
constexpr int kExitRpcError = 1;
constexpr int kExitNoAnswer = 2;

extern const std::vector<std::string> kReadScopes;
extern const std::vector<std::string> kAllScopes;

/// Options every client command shares. Owned by the command's callback via shared_ptr.
struct CommonOptions {
    std::string url, token, password;
    bool json = false;
    int timeout_ms = 10000;
};

/// Adds --url, --token, --password, --json and (when `with_timeout`) --timeout in milliseconds.
void add_common_options(CLI::App* cmd, CommonOptions& o, bool with_timeout = true);

std::chrono::milliseconds timeout_of(const CommonOptions& o);

/// Prints `error: CODE message` (plus a hint for auth failures) on stderr.
void print_error(const client::RpcError& e);

using GatewayBody = std::function<int(client::GatewayClient&, const boost::json::object& hello, const GatewayTarget&)>;

/// Resolves the target, connects with `scopes` and runs `body`; maps every failure to an exit code
/// and a message on stderr (RpcError → 1, anything that leaves no answer → 2).
int with_gateway(const CommonOptions& o, const std::vector<std::string>& scopes, const GatewayBody& body);

/// While alive (and `active`), SIGINT and SIGTERM set a flag instead of killing the process, so
/// long-running commands can stop cleanly; the previous handlers come back on destruction.
class InterruptGuard {
public:
    explicit InterruptGuard(bool active = true);
    ~InterruptGuard();
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;

    static bool interrupted();
    static void clear();
    /// Puts the previous handlers back early, so the next Ctrl-C acts as it did before the guard.
    void release();

private:
    bool active_;
    void (*old_int_)(int) = nullptr;
    void (*old_term_)(int) = nullptr;
};

}  // namespace pincer::cli
