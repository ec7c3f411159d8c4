#include "app/paths.hpp"

#include <cstdlib>

namespace pincer::app {

std::optional<std::string> env(const char* name) {
    const char* v = std::getenv(name);
    if (!v || !*v) return std::nullopt;
    return std::string(v);
}

std::optional<std::string> env_either(const char* pincer_name, const char* openclaw_name) {
    if (auto v = env(pincer_name)) return v;
    return env(openclaw_name);
}

std::filesystem::path state_dir() {
    if (auto v = env_either("PINCER_STATE_DIR", "OPENCLAW_STATE_DIR")) return *v;
    auto home = env("HOME");
    return std::filesystem::path(home.value_or(".")) / ".pincer";
}

std::filesystem::path config_path() {
    if (auto v = env_either("PINCER_CONFIG_PATH", "OPENCLAW_CONFIG_PATH")) return *v;
    return state_dir() / "pincer.json";
}

}  // namespace pincer::app
