#pragma once
/// Where state and config live, shared by the gateway and the client commands: PINCER_*
/// variables, then the OPENCLAW_* names (so Pincer drops in where OpenClaw ran), then ~/.pincer.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace pincer::util {

/// Reads an environment variable; nullopt when unset or empty. Injected so tests can fake it.
using EnvLookup = std::function<std::optional<std::string>(const char*)>;
EnvLookup process_env();

/// The first set, non-empty variable of the two.
std::optional<std::string> env_either(const EnvLookup& env, const char* pincer_name, const char* openclaw_name);

std::filesystem::path state_dir(const EnvLookup& env);
std::filesystem::path config_path(const EnvLookup& env);

}  // namespace pincer::util
