// The tool registry and the built-in file tools (read, write, edit).
#include "runtime/tools.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <optional>
#include <utility>

#include "runtime/workspace_fs.hpp"

namespace pincer::runtime {

namespace fs = std::filesystem;

// ---- registry -----------------------------------------------------------------------------------

void ToolRegistry::add(std::unique_ptr<Tool> tool) {
    if (!tool) return;
    for (auto& t : tools_) {
        if (t->spec().name == tool->spec().name) {
            t = std::move(tool);  // keep the original position: specs() order is stable
            return;
        }
    }
    tools_.push_back(std::move(tool));
}

Tool* ToolRegistry::find(std::string_view name) const {
    for (const auto& t : tools_)
        if (t->spec().name == name) return t.get();
    return nullptr;
}

std::vector<ToolSpec> ToolRegistry::specs() const {
    std::vector<ToolSpec> out;
    out.reserve(tools_.size());
    for (const auto& t : tools_) out.push_back(t->spec());
    return out;
}

namespace {

// ---- arguments ----------------------------------------------------------------------------------

ToolResult fail(std::string text) {
    ToolResult r;
    r.text = std::move(text);
    r.is_error = true;
    return r;
}

/// A string argument under any of `names` (the first is canonical, the rest are aliases).
/// Missing → nullopt with `err` empty; wrong type → nullopt with `err` naming the key used.
std::optional<std::string> string_arg(const json::object& args, std::initializer_list<std::string_view> names,
                                      std::string& err) {
    for (std::string_view name : names) {
        auto it = args.find(name);
        if (it == args.end() || it->value().is_null()) continue;
        if (!it->value().is_string()) {
            err = "Invalid argument: " + std::string(name) + " must be a string";
            return std::nullopt;
        }
        const json::string& s = it->value().get_string();
        return std::string(s.data(), s.size());
    }
    return std::nullopt;
}

std::string missing(std::string_view name) { return "Missing required argument: " + std::string(name); }

/// The path argument (`path` or `file_path`), or an error result.
std::optional<std::string> path_arg(const json::object& args, ToolResult& error) {
    std::string err;
    auto p = string_arg(args, {"path", "file_path"}, err);
    if (!p) {
        error = fail(err.empty() ? missing("path") : err);
        return std::nullopt;
    }
    if (p->empty()) {
        error = fail("Invalid argument: path must not be empty");
        return std::nullopt;
    }
    return p;
}

/// A positive integer argument; models sometimes send numbers as strings, which are accepted.
/// Absent → 0.
std::optional<size_t> positive_arg(const json::object& args, std::string_view name, std::string& err) {
    auto it = args.find(name);
    if (it == args.end() || it->value().is_null()) return size_t{0};
    const json::value& v = it->value();
    int64_t n = -1;
    if (v.is_int64()) {
        n = v.get_int64();
    } else if (v.is_uint64()) {
        n = v.get_uint64() > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(v.get_uint64());
    } else if (v.is_double()) {
        const double d = v.get_double();
        if (d >= 1 && d < 9e18 && d == static_cast<double>(static_cast<int64_t>(d))) n = static_cast<int64_t>(d);
    } else if (v.is_string()) {
        const json::string& s = v.get_string();
        if (!s.empty() && s.size() <= 18 &&
            std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
            n = std::stoll(std::string(s.data(), s.size()));
    }
    if (n < 1) {
        err = "Invalid argument: " + std::string(name) + " must be a positive integer";
        return std::nullopt;
    }
    return static_cast<size_t>(n);
}

bool cancelled(const ToolContext& ctx) { return ctx.cancelled && ctx.cancelled->load(); }

json::object schema(json::object properties, std::initializer_list<std::string_view> required) {
    json::array req;
    for (std::string_view r : required) req.emplace_back(r);
    return json::object{{"type", "object"}, {"properties", std::move(properties)}, {"required", std::move(req)}};
}

json::object prop(std::string_view type, std::string_view description) {
    return json::object{{"type", type}, {"description", description}};
}

constexpr std::string_view kPathHelp = "Path to the file, relative to the workspace (or absolute inside it)";

/// Base of the blocking tools: runs `run` and turns any exception into an error result, so
/// invoke() never throws and calls `done` exactly once.
class FileTool : public Tool {
public:
    const ToolSpec& spec() const override { return spec_; }
    void invoke(const json::object& args, const ToolContext& ctx, std::function<void(ToolResult)> done) override {
        ToolResult result;
        try {
            result = cancelled(ctx) ? fail("Cancelled") : run(args, ctx);
        } catch (const std::exception& e) {
            result = fail(std::string("Tool failed: ") + e.what());
        } catch (...) {
            result = fail("Tool failed");
        }
        if (done) done(std::move(result));
    }

protected:
    virtual ToolResult run(const json::object& args, const ToolContext& ctx) = 0;
    ToolSpec spec_;
};

// ---- read ---------------------------------------------------------------------------------------

/// Where `s` may be cut without splitting a UTF-8 sequence, at most `n`.
size_t utf8_cut(std::string_view s, size_t n) {
    if (n >= s.size()) return s.size();
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return n;
}

class ReadTool final : public FileTool {
public:
    explicit ReadTool(FileToolLimits limits) : limits_(limits) {
        spec_.name = "read";
        spec_.description = "Read a text file from the workspace. Output is capped at " +
                            std::to_string(limits.max_read_lines) + " lines or " +
                            std::to_string(limits.max_read_bytes / 1024) +
                            " KB; use offset and limit to page through longer files.";
        spec_.parameters =
            schema(json::object{{"path", prop("string", kPathHelp)},
                                {"offset", prop("integer", "Line number to start reading from (1-based)")},
                                {"limit", prop("integer", "Maximum number of lines to read")}},
                   {"path"});
    }

protected:
    ToolResult run(const json::object& args, const ToolContext& ctx) override {
        ToolResult bad;
        auto path = path_arg(args, bad);
        if (!path) return bad;
        std::string err;
        auto offset = positive_arg(args, "offset", err);
        if (!offset) return fail(err);
        auto limit = positive_arg(args, "limit", err);
        if (!limit) return fail(err);
        const size_t first = *offset == 0 ? 1 : *offset;
        const size_t count = *limit == 0 ? limits_.max_read_lines : *limit;

        const ConfinedPath cp = confine_to_workspace(ctx.workspace, *path, false);
        if (!cp.error.empty()) return fail(cp.error);
        struct stat st {};
        const int fd = wsfs::open_regular(cp.path, *path, st, err);
        if (fd < 0) return fail(err);
        ToolResult r = scan(fd, *path, first, count, ctx);
        ::close(fd);
        return r;
    }

private:
    /// One pass over the file: collects the requested lines within the byte cap, counts all
    /// lines (for the truncation note) and rejects binary content.
    ToolResult scan(int fd, const std::string& shown, size_t first, size_t count, const ToolContext& ctx) const {
        std::string out;
        size_t line = 1;                        // the line the next byte belongs to
        size_t last_shown = 0;                  // last complete line in `out`
        size_t line_start = std::string::npos;  // offset in `out` of the line being collected
        bool collecting = true;
        bool cut_line = false;  // the first requested line alone exceeded the byte cap
        char last = '\n';
        size_t total_bytes = 0;
        char buf[65536];
        for (;;) {
            if (cancelled(ctx)) return fail("Cancelled");
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return fail("Cannot read " + shown + ": " + std::strerror(errno));
            if (n == 0) break;
            const std::string_view chunk(buf, static_cast<size_t>(n));
            if (chunk.find('\0') != std::string_view::npos) return fail("Cannot read binary file: " + shown);
            total_bytes += chunk.size();
            last = chunk.back();
            size_t pos = 0;
            while (pos < chunk.size()) {
                const size_t nl = chunk.find('\n', pos);
                const size_t end = nl == std::string_view::npos ? chunk.size() : nl + 1;
                const std::string_view seg = chunk.substr(pos, end - pos);
                if (collecting && line >= first) {
                    if (line >= first + count) {
                        collecting = false;
                    } else if (out.size() + seg.size() > limits_.max_read_bytes) {
                        collecting = false;
                        if (line == first) {
                            out.append(seg.substr(0, limits_.max_read_bytes - out.size()));
                            out.resize(utf8_cut(out, out.size()));
                            cut_line = true;
                        } else if (line_start != std::string::npos) {
                            out.resize(line_start);  // drop the partial line; it is shown next time
                        }
                    } else {
                        if (line_start == std::string::npos) line_start = out.size();
                        out.append(seg);
                    }
                }
                if (nl != std::string_view::npos) {
                    if (collecting && line >= first) last_shown = line;
                    line_start = std::string::npos;
                    ++line;
                }
                pos = end;
            }
        }
        const size_t total = line - 1 + (total_bytes > 0 && last != '\n' ? 1 : 0);
        if (collecting && line_start != std::string::npos) last_shown = line;  // final line without '\n'

        ToolResult r;
        r.meta = json::object{{"path", shown}};
        if (total == 0) {
            r.text = "(file is empty)";
            r.meta["truncated"] = false;
            return r;
        }
        if (first > total)
            return fail("Offset " + std::to_string(first) + " is beyond the end of " + shown + " (" +
                        std::to_string(total) + " lines)");
        r.text = std::move(out);
        std::string note;
        if (cut_line) {
            note = "[truncated: line " + std::to_string(first) + " is longer than " +
                   std::to_string(limits_.max_read_bytes) + " bytes; showing its beginning]";
        } else if (last_shown < total) {
            note = "[truncated: showing lines " + std::to_string(first) + "-" + std::to_string(last_shown) + " of " +
                   std::to_string(total) + "; use offset to read more]";
        }
        if (!note.empty()) {
            if (!r.text.empty() && r.text.back() != '\n') r.text += '\n';
            r.text += "\n" + note;
        }
        r.meta["truncated"] = !note.empty();
        return r;
    }

    FileToolLimits limits_;
};

// ---- write --------------------------------------------------------------------------------------

/// Confines `path` for writing and creates its missing parent directories, re-checking the
/// confinement afterwards so a symlink planted meanwhile is noticed.
ConfinedPath prepare_write(const fs::path& workspace, const std::string& path) {
    ConfinedPath cp = confine_to_workspace(workspace, path, true);
    if (!cp.error.empty()) return cp;
    std::error_code ec;
    const fs::path root = fs::canonical(workspace, ec);
    std::string err;
    if (ec || !wsfs::make_dirs(root, cp.path.parent_path(), path, err)) {
        cp.error = err.empty() ? "Workspace is not accessible: " + workspace.string() : err;
        return cp;
    }
    ConfinedPath again = confine_to_workspace(workspace, path, true);
    if (again.error.empty() && again.path != cp.path) again.error = "Path escapes the workspace: " + path;
    return again;
}

class WriteTool final : public FileTool {
public:
    explicit WriteTool(FileToolLimits limits) : limits_(limits) {
        spec_.name = "write";
        spec_.description =
            "Write a file in the workspace, creating it (and missing parent directories) or replacing its "
            "entire content. Use edit for small changes to an existing file.";
        spec_.parameters = schema(json::object{{"path", prop("string", kPathHelp)},
                                               {"content", prop("string", "The complete new content of the file")}},
                                  {"path", "content"});
    }

protected:
    ToolResult run(const json::object& args, const ToolContext& ctx) override {
        ToolResult bad;
        auto path = path_arg(args, bad);
        if (!path) return bad;
        std::string err;
        auto content = string_arg(args, {"content"}, err);
        if (!content) return fail(err.empty() ? missing("content") : err);
        if (content->size() > limits_.max_write_bytes)
            return fail("Content too large: " + std::to_string(content->size()) + " bytes (limit " +
                        std::to_string(limits_.max_write_bytes) + ")");
        const ConfinedPath cp = prepare_write(ctx.workspace, *path);
        if (!cp.error.empty()) return fail(cp.error);
        if (!wsfs::write_atomic(cp.path, *content, *path, err)) return fail(err);
        ToolResult r;
        r.text = "Successfully wrote " + std::to_string(content->size()) + " bytes to " + *path;
        r.meta = json::object{{"path", *path}, {"bytes", static_cast<int64_t>(content->size())}};
        return r;
    }

private:
    FileToolLimits limits_;
};

// ---- edit ---------------------------------------------------------------------------------------

/// Occurrences of `needle` in `hay`, overlapping ones included: an overlap is just as ambiguous.
size_t count_matches(std::string_view hay, std::string_view needle, size_t* first) {
    size_t n = 0;
    for (size_t pos = hay.find(needle); pos != std::string_view::npos; pos = hay.find(needle, pos + 1)) {
        if (n == 0 && first) *first = pos;
        ++n;
    }
    return n;
}

std::string to_crlf(std::string_view s) {
    std::string out;
    out.reserve(s.size() + s.size() / 16);
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) out += '\r';
        out += s[i];
    }
    return out;
}

class EditTool final : public FileTool {
public:
    explicit EditTool(FileToolLimits limits) : limits_(limits) {
        spec_.name = "edit";
        spec_.description =
            "Edit a file in the workspace by replacing exact text. oldText must match exactly one place in the "
            "file, including whitespace and indentation; include enough surrounding lines to make it unique.";
        spec_.parameters =
            schema(json::object{{"path", prop("string", kPathHelp)},
                                {"oldText", prop("string", "Exact text to find (must occur exactly once)")},
                                {"newText", prop("string", "Text to replace it with")}},
                   {"path", "oldText", "newText"});
    }

protected:
    ToolResult run(const json::object& args, const ToolContext& ctx) override {
        ToolResult bad;
        auto path = path_arg(args, bad);
        if (!path) return bad;
        std::string err;
        auto old_text = string_arg(args, {"oldText", "old_string"}, err);
        if (!old_text) return fail(err.empty() ? missing("oldText") : err);
        auto new_text = string_arg(args, {"newText", "new_string"}, err);
        if (!new_text) return fail(err.empty() ? missing("newText") : err);
        if (old_text->empty()) return fail("Invalid argument: oldText must not be empty");

        const ConfinedPath cp = confine_to_workspace(ctx.workspace, *path, true);
        if (!cp.error.empty()) return fail(cp.error);
        struct stat st {};
        const int fd = wsfs::open_regular(cp.path, *path, st, err);
        if (fd < 0) return fail(err);
        std::string content;
        const bool read_ok = st.st_nlink <= 1 && wsfs::read_fd(fd, limits_.max_write_bytes, content, err, *path);
        ::close(fd);
        if (st.st_nlink > 1) return fail("Refusing to modify a hard-linked file: " + *path);
        if (!read_ok) return fail(err);

        size_t at = 0;
        size_t matches = count_matches(content, *old_text, &at);
        if (matches == 0 && content.find("\r\n") != std::string::npos && old_text->find('\n') != std::string::npos) {
            // Models write "\n"; a CRLF file still means the same lines.
            std::string old_crlf = to_crlf(*old_text);
            matches = count_matches(content, old_crlf, &at);
            if (matches > 0) {
                *old_text = std::move(old_crlf);
                *new_text = to_crlf(*new_text);
            }
        }
        if (matches == 0)
            return fail("oldText not found in " + *path +
                        ". It must match the file exactly, including whitespace and line breaks.");
        if (matches > 1)
            return fail("Found " + std::to_string(matches) + " matches of oldText in " + *path +
                        "; it must match exactly once. Add more surrounding context to oldText to make it unique.");
        if (*old_text == *new_text) return fail("No changes made to " + *path + ": newText is identical to oldText");

        content.replace(at, old_text->size(), *new_text);
        if (content.size() > limits_.max_write_bytes)
            return fail("Edited file would be too large: " + std::to_string(content.size()) + " bytes (limit " +
                        std::to_string(limits_.max_write_bytes) + ")");
        if (!wsfs::write_atomic(cp.path, content, *path, err)) return fail(err);
        ToolResult r;
        r.text = "Successfully replaced text in " + *path;
        r.meta = json::object{{"path", *path}};
        return r;
    }

private:
    FileToolLimits limits_;
};

}  // namespace

std::unique_ptr<ToolRegistry> make_builtin_tools(FileToolLimits limits) {
    auto reg = std::make_unique<ToolRegistry>();
    reg->add(std::make_unique<ReadTool>(limits));
    reg->add(std::make_unique<WriteTool>(limits));
    reg->add(std::make_unique<EditTool>(limits));
    return reg;
}

}  // namespace pincer::runtime
