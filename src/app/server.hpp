#pragma once
/// `pincer gateway run`: resolves settings (flags > env > config > defaults), builds the services
/// in dependency order, serves until SIGTERM/SIGINT, and shuts down cleanly.
#include <cstdint>
#include <optional>
#include <string>

namespace pincer::app {

struct RunOptions {
    std::optional<int> port;           // 0 = pick a free port
    std::optional<std::string> bind;   // loopback | lan | auto | custom | IP literal
    std::optional<std::string> token;
};

/// Returns the process exit code.
int run_gateway(const RunOptions& options);

}  // namespace pincer::app
