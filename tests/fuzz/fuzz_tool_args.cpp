// libFuzzer target for the agent's file tools, whose paths and arguments the model chooses: the
// input is a JSON object of tool arguments (anything else becomes {"path": <input>}) given to the
// built-in read, edit and write tools, and its path to confine_to_workspace for reading and
// writing. The workspace is real: one per process (tmpfs when available), with files, a subdir,
// an inside symlink, symlinks out to a sibling directory holding a canary, a dangling symlink, a
// FIFO and a file hard-linked to one outside; it is restored after every input.
// Oracles: confine_to_workspace never returns a path outside the canonical root (also once its
// symlinks are resolved) without an error; the files outside the workspace are never changed,
// nothing is created next to them, and the canary's secret never shows up in a tool's output;
// every tool calls `done` exactly once and never throws; a successful write leaves the written
// content at the confined path.
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/tools.hpp"
#include "scratch_dir.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace pincer;

constexpr std::string_view kSecret = "CANARY-7f3a9c1e-outside-the-workspace";

/// Small files: the restore after each input compares and rewrites them.
const std::map<std::string, std::string> kFiles = {
    {"a.txt", "hello\nworld\n"},
    {"notes/a.md", "# Notes\n\na\nb\nc\n"},
    {"notes/b.md", "line one\r\nline two\r\n"},
    {"sub/deep/c.txt", "deep"},
    {"empty.txt", ""},
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void put(const fs::path& p, std::string_view content) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) std::abort();
}

struct Snapshot {
    std::string content;
    struct timespec mtime {};
    ino_t ino = 0;
    nlink_t nlink = 0;
};

Snapshot snap(const fs::path& p) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) std::abort();
    return Snapshot{slurp(p), st.st_mtim, st.st_ino, st.st_nlink};
}

bool same(const Snapshot& a, const Snapshot& b) {
    return a.content == b.content && a.mtime.tv_sec == b.mtime.tv_sec && a.mtime.tv_nsec == b.mtime.tv_nsec &&
           a.ino == b.ino && a.nlink == b.nlink;
}

/// base/ws (the workspace), base/ws-link -> ws (a workspace configured through a symlink),
/// base/outside (canary.txt, hard.txt, the hard link's other name).
struct World {
    fs::path base, ws, ws_link, root, outside;
    std::set<fs::path> initial;  // every path in the workspace after setup
    Snapshot canary, hard;
    std::unique_ptr<runtime::ToolRegistry> tools;

    World() : base(fuzz::make_scratch_dir("pincer-fuzz-tools-")) {
        ws = base / "ws";
        ws_link = base / "ws-link";
        outside = base / "outside";
        fs::create_directories(ws / "notes");
        fs::create_directories(ws / "sub" / "deep");
        fs::create_directories(outside);
        fs::create_directory_symlink("ws", ws_link);
        put(outside / "canary.txt", std::string(kSecret) + "\n");
        put(outside / "hard.txt", "hard-linked\n");
        for (const auto& [rel, content] : kFiles) put(ws / rel, content);
        fs::create_hard_link(outside / "hard.txt", ws / "hard.txt");
        fs::create_directory_symlink("../outside", ws / "out");          // escapes
        fs::create_symlink("../outside/canary.txt", ws / "canary.txt");  // escapes, to a file
        fs::create_symlink(outside / "canary.txt", ws / "sub" / "abs");  // escapes, absolute
        fs::create_directory_symlink("notes", ws / "in");                // stays inside
        fs::create_symlink("../a.txt", ws / "notes" / "up.txt");         // stays inside
        fs::create_symlink("../outside/new.txt", ws / "dangling");       // would create outside
        fs::create_symlink("loop", ws / "loop");                         // ELOOP
        if (::mkfifo((ws / "fifo").c_str(), 0600) != 0) std::abort();
        root = fs::canonical(ws);
        for (const auto& e : fs::recursive_directory_iterator(ws)) initial.insert(e.path());
        canary = snap(outside / "canary.txt");
        hard = snap(outside / "hard.txt");
        tools = runtime::make_builtin_tools(
            runtime::FileToolLimits{.max_read_bytes = 512, .max_read_lines = 20, .max_write_bytes = 8192});
    }
    ~World() {
        std::error_code ec;
        fs::remove_all(base, ec);
    }

    /// Outside untouched; the workspace back to its initial state.
    void check_and_restore() {
        if (!same(snap(outside / "canary.txt"), canary) || !same(snap(outside / "hard.txt"), hard)) std::abort();
        size_t outside_entries = 0;
        for ([[maybe_unused]] const auto& e : fs::directory_iterator(outside)) ++outside_entries;
        if (outside_entries != 2) std::abort();  // nothing created next to the canary
        if (std::distance(fs::directory_iterator(base), fs::directory_iterator()) != 3)
            std::abort();  // ws, ws-link, outside
        // Drop what the tools created: each new file, link or directory tree as a whole.
        std::vector<fs::path> extra;
        for (auto it = fs::recursive_directory_iterator(ws); it != fs::recursive_directory_iterator(); ++it) {
            if (!initial.contains(it->path())) {
                extra.push_back(it->path());
                it.disable_recursion_pending();
            }
        }
        for (const auto& p : extra) fs::remove_all(p);
        for (const auto& [rel, content] : kFiles) {
            if (slurp(ws / rel) != content) put(ws / rel, content);
        }
    }
};

World& world() {
    static World w;
    return w;
}

bool inside(const fs::path& root, const fs::path& p) {
    auto q = p.begin();
    for (const auto& part : root) {
        if (q == p.end() || *q != part) return false;
        ++q;
    }
    return true;
}

void check_confined(World& w, std::string_view requested, bool for_write) {
    for (const fs::path& ws : {w.ws, w.ws_link}) {
        const runtime::ConfinedPath cp = runtime::confine_to_workspace(ws, requested, for_write);
        if (!cp.error.empty()) {
            if (!cp.path.empty()) std::abort();
            continue;
        }
        if (!cp.path.is_absolute() || !inside(w.root, cp.path)) std::abort();
        // Resolving whatever of it exists must stay inside too.
        std::error_code ec;
        const fs::path real = fs::weakly_canonical(cp.path, ec);
        if (!ec && !inside(w.root, real)) std::abort();
        struct stat st {};
        if (!for_write && ::lstat(cp.path.c_str(), &st) != 0) std::abort();  // read confines existing paths only
    }
}

runtime::ToolResult call(World& w, std::string_view name, const json::object& args, const runtime::ToolContext& ctx) {
    runtime::Tool* tool = w.tools->find(name);
    if (tool == nullptr) std::abort();
    int calls = 0;
    runtime::ToolResult result;
    try {
        tool->invoke(args, ctx, [&](runtime::ToolResult r) {
            ++calls;
            result = std::move(r);
        });
    } catch (...) {
        std::abort();  // tools never throw
    }
    if (calls != 1) std::abort();
    return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    World& w = world();
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    boost::system::error_code ec;
    json::value parsed = json::parse(input, ec);
    json::object args;
    if (!ec && parsed.is_object()) {
        args = std::move(parsed.as_object());
    } else {
        args["path"] = json::string(input);
    }
    std::string path;
    for (std::string_view key : {"path", "file_path"}) {
        if (const auto* v = args.if_contains(key); v != nullptr && v->is_string()) {
            path = std::string(v->as_string());
            break;
        }
    }
    if (path.empty()) path = std::string(input);

    check_confined(w, path, false);
    check_confined(w, path, true);

    runtime::ToolContext ctx;
    ctx.workspace = (size & 1) != 0 ? w.ws_link : w.ws;
    ctx.agent_id = "main";
    ctx.cancelled = std::make_shared<std::atomic<bool>>(false);
    const bool secret_in_input = input.find(kSecret.substr(0, 16)) != std::string_view::npos;
    for (std::string_view name : {"read", "edit", "write"}) {
        const runtime::ToolResult r = call(w, name, args, ctx);
        if (!secret_in_input && r.text.find(kSecret.substr(0, 16)) != std::string::npos) std::abort();
        if (name == "write" && !r.is_error) {
            // A reported write is there to read back, inside the workspace.
            const runtime::ConfinedPath cp = runtime::confine_to_workspace(ctx.workspace, path, false);
            if (!cp.error.empty()) std::abort();
            const auto* content = args.if_contains("content");
            if (content == nullptr || !content->is_string() || slurp(cp.path) != content->as_string()) std::abort();
        }
        if (r.is_error && r.text.empty()) std::abort();
    }
    ctx.cancelled->store(true);
    if (!call(w, "read", args, ctx).is_error) std::abort();  // cancelled runs do nothing

    w.check_and_restore();
    return 0;
}
