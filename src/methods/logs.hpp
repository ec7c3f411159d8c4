#pragma once
/// `logs.tail`: incremental reads of the gateway's JSONL log with a byte cursor.
#include <filesystem>
#include <functional>

#include "core/json.hpp"
#include "dispatch/loop.hpp"
#include "dispatch/method_table.hpp"

namespace pincer::methods {

struct TailRequest {
    std::optional<int64_t> cursor;
    int64_t limit = 500;         // lines, 1..5000
    int64_t max_bytes = 250'000;  // 1..1'000'000
};

/// Reads the tail of `file` as the reference does: no cursor → the last max_bytes; a cursor past
/// the end (rotation) → reset:true and the tail; a cursor more than max_bytes behind →
/// reset:true, truncated:true; else from the cursor. Drops a partial first line; keeps the
/// last `limit` lines; the new cursor is the file size. Throws std::runtime_error on I/O errors.
json::object tail_log_file(const std::filesystem::path& file, const TailRequest& req);

void register_logs(dispatch::MethodTable& table, dispatch::EventLoop& loop,
                   std::function<std::filesystem::path()> log_file);

}  // namespace pincer::methods
