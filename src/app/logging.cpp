#include "app/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace pincer::app {
namespace {

// One JSON object per line: {"time","level","subsystem","message"}.
class JsonFormatter final : public spdlog::formatter {
public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        const auto secs = std::chrono::time_point_cast<std::chrono::milliseconds>(msg.time);
        const auto ms = secs.time_since_epoch().count();
        std::time_t t = static_cast<std::time_t>(ms / 1000);
        std::tm tm{};
        gmtime_r(&t, &tm);
        char buf[64];
        std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms % 1000));
        std::string line = "{\"time\":\"";
        line += buf;
        line += "\",\"level\":\"";
        auto lv = spdlog::level::to_string_view(msg.level);
        line.append(lv.data(), lv.size());
        line += "\",\"subsystem\":";
        line += boost::json::serialize(
            boost::json::string(std::string_view(msg.logger_name.data(), msg.logger_name.size())));
        line += ",\"message\":";
        line += boost::json::serialize(boost::json::string(std::string_view(msg.payload.data(), msg.payload.size())));
        line += "}\n";
        dest.append(line.data(), line.data() + line.size());
    }
    std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

void init_logging(const LogSettings& s) {
    std::error_code ec;
    // The log directory sits in the state dir beside secrets: owner-only, like the rest of it.
    if (std::filesystem::create_directories(s.file.parent_path(), ec)) {
        std::filesystem::permissions(s.file.parent_path(), std::filesystem::perms::owner_all, ec);
    }
    auto file_sink =
        std::make_shared<spdlog::sinks::rotating_file_sink_mt>(s.file.string(), s.max_file_bytes, s.max_files);
    file_sink->set_formatter(std::make_unique<JsonFormatter>());
    auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    console->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    auto logger = std::make_shared<spdlog::logger>("gateway", spdlog::sinks_init_list{file_sink, console});
    spdlog::set_default_logger(logger);
    set_log_level(s.level);
    spdlog::flush_every(std::chrono::seconds(1));
    // Info lines are rare (connects, errors); flushing each keeps logs.tail current.
    spdlog::flush_on(spdlog::level::info);
}

void set_log_level(const std::string& level) { spdlog::set_level(spdlog::level::from_str(level)); }

}  // namespace pincer::app
