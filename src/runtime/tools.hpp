#pragma once
/// Agent tools: what the model can call. Each tool is a spec (name, description, JSON Schema) and
/// an asynchronous invoke, so tools that wait on someone (exec behind an approval, a node, a
/// browser) fit the same interface as the file tools, which finish inline.
#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "runtime/model_call.hpp"

namespace pincer::runtime {

struct ToolContext {
    std::filesystem::path workspace;  // the agent's workspace; file tools never leave it
    std::string agent_id;
    std::string session_key;
    std::string run_id;
    std::string tool_call_id;
    /// Set when the run is aborted; long-running tools poll it and finish early.
    std::shared_ptr<std::atomic<bool>> cancelled;
};

struct ToolResult {
    std::string text;  // what the model sees (the toolResult message's text block)
    bool is_error = false;
    /// Small structured summary for `agent` tool events (e.g. {path, bytes}); not sent to the model.
    json::object meta;
};

class Tool {
public:
    virtual ~Tool() = default;
    virtual const ToolSpec& spec() const = 0;
    /// True when invoke() does blocking I/O and must be called on the blocking pool (file tools);
    /// false when it only starts work and completes later (exec waiting for an approval).
    virtual bool blocking() const { return true; }
    /// Runs one call with the already-parsed arguments object. Calls `done` exactly once, from any
    /// thread. Never throws: bad arguments and failures become is_error results whose text names
    /// the argument or the problem, so the model can correct itself.
    virtual void invoke(const json::object& args, const ToolContext& ctx, std::function<void(ToolResult)> done) = 0;
};

class ToolRegistry {
public:
    void add(std::unique_ptr<Tool> tool);  // replaces a tool of the same name
    Tool* find(std::string_view name) const;
    std::vector<ToolSpec> specs() const;  // in registration order
    bool empty() const { return tools_.empty(); }

private:
    std::vector<std::unique_ptr<Tool>> tools_;
};

/// Limits of the file tools (docs/limits.md).
struct FileToolLimits {
    size_t max_read_bytes = 256 * 1024;        // read returns at most this much (then says so)
    size_t max_read_lines = 2000;              // default `limit` of read
    size_t max_write_bytes = 4 * 1024 * 1024;  // write/edit refuse larger content
};

/// `read {path, offset?, limit?}`, `write {path, content}`, `edit {path, oldText, newText}` (also
/// accepting `file_path`, `old_string`/`new_string`), confined to ctx.workspace: relative paths
/// resolve against it; absolute paths must lie inside it; `..` escapes, symlinks (at any
/// component) that resolve outside it, and (for write and edit) hard-linked files are refused. Writes are atomic
/// (temp file + rename, 0600 for new files) and create missing parent directories inside the
/// workspace.
std::unique_ptr<ToolRegistry> make_builtin_tools(FileToolLimits limits = {});

/// The workspace-confined absolute path for `requested`, or an error message naming the path.
/// `for_write` allows a missing final component (and missing parents). Exposed for tests.
struct ConfinedPath {
    std::filesystem::path path;
    std::string error;  // non-empty on refusal
};
ConfinedPath confine_to_workspace(const std::filesystem::path& workspace, std::string_view requested, bool for_write);

}  // namespace pincer::runtime
