#pragma once
// Per-process scratch directories for fuzz targets that need a real filesystem.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace pincer::fuzz {

/// A fresh directory `<prefix><pid>-XXXXXX` on tmpfs (/dev/shm, else /tmp). A crashing input ends
/// the process without running destructors, so the directories of processes that are gone are
/// removed first: at most one crashed run's directory is ever left behind.
inline std::filesystem::path make_scratch_dir(std::string_view prefix) {
    namespace fs = std::filesystem;
    const fs::path parent = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    std::error_code ec;
    for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (!name.starts_with(prefix)) continue;
        const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
        std::error_code ignored;
        if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove_all(it->path(), ignored);
    }
    std::string tmpl = (parent / (std::string(prefix) + std::to_string(::getpid()) + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    return tmpl;
}

}  // namespace pincer::fuzz
