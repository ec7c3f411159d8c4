#include "util/env_paths.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

namespace pincer::util {
namespace {

std::filesystem::path home_dir(const EnvLookup& env) {
    if (auto h = env("HOME")) return *h;
    if (const passwd* pw = getpwuid(getuid()); pw && pw->pw_dir) return pw->pw_dir;
    return ".";
}

}  // namespace

EnvLookup process_env() {
    return [](const char* name) -> std::optional<std::string> {
        const char* v = std::getenv(name);
        if (!v || !*v) return std::nullopt;
        return std::string(v);
    };
}

std::optional<std::string> env_either(const EnvLookup& env, const char* pincer_name, const char* openclaw_name) {
    if (auto v = env(pincer_name)) return v;
    return env(openclaw_name);
}

std::filesystem::path state_dir(const EnvLookup& env) {
    if (auto v = env_either(env, "PINCER_STATE_DIR", "OPENCLAW_STATE_DIR")) return *v;
    return home_dir(env) / ".pincer";
}

std::filesystem::path config_path(const EnvLookup& env) {
    if (auto v = env_either(env, "PINCER_CONFIG_PATH", "OPENCLAW_CONFIG_PATH")) return *v;
    return state_dir(env) / "pincer.json";
}

}  // namespace pincer::util
