#include "support/cli_runner.hpp"

namespace pincer::e2e {

std::map<std::string, std::string> cli_clean_env(const std::filesystem::path& home) {
    return {{"PINCER_GATEWAY_TOKEN", ""},      {"OPENCLAW_GATEWAY_TOKEN", ""}, {"PINCER_GATEWAY_PASSWORD", ""},
            {"OPENCLAW_GATEWAY_PASSWORD", ""}, {"PINCER_CONFIG_PATH", ""},     {"OPENCLAW_CONFIG_PATH", ""},
            {"PINCER_STATE_DIR", ""},          {"OPENCLAW_STATE_DIR", ""},     {"PINCER_GATEWAY_PORT", ""},
            {"OPENCLAW_GATEWAY_PORT", ""},     {"HOME", home.string()}};
}

CommandResult run_cli(const std::filesystem::path& home, const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& extra_env, std::chrono::milliseconds timeout,
                      const CommandInput& input) {
    std::vector<std::string> argv{PINCER_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    auto env = cli_clean_env(home);
    for (const auto& [k, v] : extra_env) env[k] = v;
    return run_command(argv, env, timeout, input);
}

CommandResult cli(const GatewayProcess& gw, const std::vector<std::string>& args,
                  const std::map<std::string, std::string>& extra_env) {
    return run_cli(gw.state_dir(), args, extra_env);
}

std::vector<std::string> target(const GatewayProcess& gw) { return {"--url", gw.url(), "--token", gw.token()}; }

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

}  // namespace pincer::e2e
