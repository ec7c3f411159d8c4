#include "methods/logs.hpp"

#include <fstream>

namespace pincer::methods {

json::object tail_log_file(const std::filesystem::path& file, const TailRequest& req) {
    std::error_code ec;
    const auto exists = std::filesystem::exists(file, ec);
    const int64_t size = exists ? static_cast<int64_t>(std::filesystem::file_size(file, ec)) : 0;
    if (ec) throw std::runtime_error("log read failed: " + ec.message());
    json::object out;
    out["file"] = file.string();
    int64_t start = 0;
    bool reset = false, truncated = false;
    if (!req.cursor) {
        start = std::max<int64_t>(0, size - req.max_bytes);
        truncated = start > 0;
    } else if (*req.cursor > size) {
        reset = true;
        start = std::max<int64_t>(0, size - req.max_bytes);
        truncated = start > 0;
    } else if (size - *req.cursor > req.max_bytes) {
        reset = true;
        truncated = true;
        start = size - req.max_bytes;
    } else {
        start = *req.cursor;
    }
    std::string data;
    if (size > start) {
        std::ifstream in(file, std::ios::binary);
        if (!in) throw std::runtime_error("log read failed: cannot open " + file.string());
        in.seekg(start);
        data.resize(static_cast<size_t>(size - start));
        in.read(data.data(), static_cast<std::streamsize>(data.size()));
        data.resize(static_cast<size_t>(in.gcount()));
    }
    size_t pos = 0;
    // Starting anywhere but the caller's cursor lands mid-line: skip to the next line.
    if (start > 0 && (!req.cursor || start != *req.cursor)) {
        auto nl = data.find('\n');
        pos = nl == std::string::npos ? data.size() : nl + 1;
    }
    std::vector<std::string_view> lines;
    while (pos < data.size()) {
        auto nl = data.find('\n', pos);
        if (nl == std::string::npos) nl = data.size();
        if (nl > pos) lines.emplace_back(data.data() + pos, nl - pos);
        pos = nl + 1;
    }
    json::array arr;
    const size_t first = lines.size() > size_t(req.limit) ? lines.size() - size_t(req.limit) : 0;
    for (size_t i = first; i < lines.size(); ++i) arr.emplace_back(lines[i]);
    out["cursor"] = start + static_cast<int64_t>(data.size());
    out["size"] = size;
    out["lines"] = std::move(arr);
    if (truncated) out["truncated"] = true;
    if (reset) out["reset"] = true;
    return out;
}

void register_logs(dispatch::MethodTable& table, dispatch::EventLoop& loop,
                   std::function<std::filesystem::path()> log_file) {
    dispatch::MethodSpec spec;
    spec.name = "logs.tail";
    spec.scope = "operator.read";
    spec.params.integer("cursor", 0).integer("limit", 1, 5000).integer("maxBytes", 1, 1'000'000);
    spec.handler = dispatch::AsyncHandler([&loop, log_file](const dispatch::CallView& call, dispatch::Responder reply) {
        TailRequest req;
        req.cursor = dispatch::param_int(call.params, "cursor");
        req.limit = dispatch::param_int(call.params, "limit").value_or(500);
        req.max_bytes = dispatch::param_int(call.params, "maxBytes").value_or(250'000);
        auto file = log_file();
        dispatch::reply_from_pool(loop, std::move(reply), "log read", [file, req] {
            try {
                return json::value(tail_log_file(file, req));
            } catch (const std::runtime_error& e) {
                throw core::RpcException(core::RpcError::unavailable(e.what()));
            }
        });
    });
    table.add(std::move(spec));
}

}  // namespace pincer::methods
