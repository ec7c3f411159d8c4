#pragma once
/// Runs the `pincer` client commands as separate processes with a clean environment, for the CLI
/// end-to-end tests.
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "support/gateway_process.hpp"

namespace pincer::e2e {

/// Every variable the CLI reads, blanked (the CLI treats empty as unset), so the test runner's
/// environment cannot leak in; HOME points at `home`, a directory without a ~/.pincer.
std::map<std::string, std::string> cli_clean_env(const std::filesystem::path& home);

/// Runs `pincer <args...>` with cli_clean_env(home) plus `extra_env`.
CommandResult run_cli(const std::filesystem::path& home, const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& extra_env = {},
                      std::chrono::milliseconds timeout = std::chrono::seconds(10), const CommandInput& input = {});

/// run_cli with HOME in `gw`'s state directory.
CommandResult cli(const GatewayProcess& gw, const std::vector<std::string>& args,
                  const std::map<std::string, std::string>& extra_env = {});

/// `--url <gw> --token <token>`.
std::vector<std::string> target(const GatewayProcess& gw);

/// `a` followed by `b`.
std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b);

}  // namespace pincer::e2e
