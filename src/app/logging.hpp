#pragma once
/// Process logging: human-readable lines on stderr and a rotating JSONL file that `logs.tail`
/// reads. Secrets never reach either: callers log ids, never tokens.
#include <cstdint>
#include <filesystem>
#include <string>

namespace pincer::app {

struct LogSettings {
    std::filesystem::path file;        // <state>/logs/pincer.log unless `logging.file`
    std::string level = "info";        // trace|debug|info|warn|error
    uint64_t max_file_bytes = 10 << 20;  // rotate past this size
    size_t max_files = 5;              // rotated files kept
};

void init_logging(const LogSettings& settings);
void set_log_level(const std::string& level);

}  // namespace pincer::app
