#pragma once
/// Where state and config live: PINCER_* variables, then the OPENCLAW_* names so Pincer drops in
/// where OpenClaw ran, then ~/.pincer.
#include <filesystem>
#include <optional>
#include <string>

namespace pincer::app {

std::optional<std::string> env(const char* name);
/// The first set, non-empty variable of the two.
std::optional<std::string> env_either(const char* pincer_name, const char* openclaw_name);

std::filesystem::path state_dir();
std::filesystem::path config_path();

}  // namespace pincer::app
