#include "runtime/tools.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>

namespace pincer::runtime {
namespace {

namespace fs = std::filesystem;

/// A fresh directory holding `ws` (the workspace) and `outside` (a sibling the tools must not
/// reach); removed afterwards.
class TempWorkspace : public testing::Test {
protected:
    void SetUp() override {
        std::random_device rd;
        base_ = fs::path(testing::TempDir()) /
                ("pincer-tools-" + std::to_string(::getpid()) + "-" + std::to_string(rd()) + std::to_string(rd()));
        ws_ = base_ / "ws";
        outside_ = base_ / "outside";
        fs::create_directories(ws_);
        fs::create_directories(outside_);
        ctx_.workspace = ws_;
        ctx_.agent_id = "main";
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(base_, ec);
    }

    static void put(const fs::path& p, const std::string& s) {
        fs::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << s;
    }
    static std::string slurp(const fs::path& p) {
        std::ifstream in(p, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    static mode_t mode_of(const fs::path& p) {
        struct stat st {};
        EXPECT_EQ(::stat(p.c_str(), &st), 0);
        return st.st_mode & 07777;
    }
    /// Names in `dir` that look like leftover temp files of an atomic write.
    static std::vector<std::string> temp_files(const fs::path& dir) {
        std::vector<std::string> out;
        for (const auto& e : fs::recursive_directory_iterator(dir)) {
            const std::string n = e.path().filename().string();
            if (n.find(".tmp-") != std::string::npos) out.push_back(n);
        }
        return out;
    }

    ToolResult call(std::string_view tool, const json::object& args, FileToolLimits limits = {}) {
        auto reg = make_builtin_tools(limits);
        Tool* t = reg->find(tool);
        EXPECT_NE(t, nullptr) << tool;
        if (!t) return {};
        int calls = 0;
        ToolResult out;
        t->invoke(args, ctx_, [&](ToolResult r) {
            ++calls;
            out = std::move(r);
        });
        EXPECT_EQ(calls, 1) << "done must be called exactly once, inline";
        return out;
    }

    fs::path base_, ws_, outside_;
    ToolContext ctx_;
};

// ---- registry -----------------------------------------------------------------------------------

class FakeTool final : public Tool {
public:
    FakeTool(std::string name, std::string description) {
        spec_.name = std::move(name);
        spec_.description = std::move(description);
    }
    const ToolSpec& spec() const override { return spec_; }
    void invoke(const json::object&, const ToolContext&, std::function<void(ToolResult)> done) override {
        done(ToolResult{spec_.description, false, {}});
    }

private:
    ToolSpec spec_;
};

TEST(ToolRegistryTest, BuiltinsInRegistrationOrderWithSchemas) {
    auto reg = make_builtin_tools();
    ASSERT_FALSE(reg->empty());
    const auto specs = reg->specs();
    ASSERT_EQ(specs.size(), 3u);
    EXPECT_EQ(specs[0].name, "read");
    EXPECT_EQ(specs[1].name, "write");
    EXPECT_EQ(specs[2].name, "edit");
    for (const auto& s : specs) {
        EXPECT_FALSE(s.description.empty()) << s.name;
        EXPECT_EQ(s.parameters.at("type"), "object") << s.name;
        ASSERT_TRUE(s.parameters.at("properties").is_object()) << s.name;
        EXPECT_TRUE(s.parameters.at("properties").get_object().contains("path")) << s.name;
        EXPECT_EQ(s.parameters.at("required").get_array().at(0), "path") << s.name;
    }
    EXPECT_EQ(specs[1].parameters.at("required"), (json::array{"path", "content"}));
    EXPECT_EQ(specs[2].parameters.at("required"), (json::array{"path", "oldText", "newText"}));
    EXPECT_TRUE(reg->find("read")->blocking());
}

TEST(ToolRegistryTest, FindUnknownIsNull) {
    auto reg = make_builtin_tools();
    EXPECT_EQ(reg->find("exec"), nullptr);
    EXPECT_EQ(reg->find(""), nullptr);
    EXPECT_EQ(reg->find("Read"), nullptr);
    ToolRegistry empty;
    EXPECT_TRUE(empty.empty());
    EXPECT_EQ(empty.find("read"), nullptr);
    EXPECT_TRUE(empty.specs().empty());
}

TEST(ToolRegistryTest, AddReplacesSameNameInPlace) {
    ToolRegistry reg;
    reg.add(std::make_unique<FakeTool>("a", "first a"));
    reg.add(std::make_unique<FakeTool>("b", "b"));
    reg.add(std::make_unique<FakeTool>("a", "second a"));
    reg.add(nullptr);
    const auto specs = reg.specs();
    ASSERT_EQ(specs.size(), 2u);
    EXPECT_EQ(specs[0].name, "a");
    EXPECT_EQ(specs[0].description, "second a");
    EXPECT_EQ(specs[1].name, "b");
    ASSERT_NE(reg.find("a"), nullptr);
    EXPECT_EQ(reg.find("a")->spec().description, "second a");
}

// ---- read ---------------------------------------------------------------------------------------

using ToolReadTest = TempWorkspace;

TEST_F(ToolReadTest, ReadsWholeFile) {
    put(ws_ / "notes.txt", "alpha\nbeta\n");
    const auto r = call("read", {{"path", "notes.txt"}});
    EXPECT_FALSE(r.is_error) << r.text;
    EXPECT_EQ(r.text, "alpha\nbeta\n");
    EXPECT_EQ(r.meta.at("path"), "notes.txt");
    EXPECT_EQ(r.meta.at("truncated"), false);
}

TEST_F(ToolReadTest, ReadsNestedAndFilePathAlias) {
    put(ws_ / "dir" / "f.md", "x");
    const auto r = call("read", {{"file_path", "dir/f.md"}});
    EXPECT_FALSE(r.is_error) << r.text;
    EXPECT_EQ(r.text, "x");
}

TEST_F(ToolReadTest, OffsetAndLimit) {
    put(ws_ / "f.txt", "1\n2\n3\n4\n5\n");
    auto r = call("read", {{"path", "f.txt"}, {"offset", 2}, {"limit", 2}});
    EXPECT_FALSE(r.is_error) << r.text;
    EXPECT_EQ(r.text, "2\n3\n\n[truncated: showing lines 2-3 of 5; use offset to read more]");
    EXPECT_EQ(r.meta.at("truncated"), true);

    r = call("read", {{"path", "f.txt"}, {"offset", 4}});
    EXPECT_EQ(r.text, "4\n5\n");

    // Numbers as strings and integral doubles are accepted: models send both.
    r = call("read", {{"path", "f.txt"}, {"offset", "5"}, {"limit", 10.0}});
    EXPECT_FALSE(r.is_error) << r.text;
    EXPECT_EQ(r.text, "5\n");
}

TEST_F(ToolReadTest, LastLineWithoutNewline) {
    put(ws_ / "f.txt", "a\nb");
    auto r = call("read", {{"path", "f.txt"}, {"offset", 2}});
    EXPECT_EQ(r.text, "b");
    r = call("read", {{"path", "f.txt"}, {"limit", 1}});
    EXPECT_EQ(r.text, "a\n\n[truncated: showing lines 1-1 of 2; use offset to read more]");
}

TEST_F(ToolReadTest, OffsetBeyondEndIsError) {
    put(ws_ / "f.txt", "1\n2\n");
    const auto r = call("read", {{"path", "f.txt"}, {"offset", 3}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Offset 3 is beyond the end of f.txt (2 lines)");
}

TEST_F(ToolReadTest, TruncatesAtMaxLines) {
    std::string s;
    for (int i = 1; i <= 10; ++i) s += "line " + std::to_string(i) + "\n";
    put(ws_ / "f.txt", s);
    FileToolLimits lim;
    lim.max_read_lines = 3;
    const auto r = call("read", {{"path", "f.txt"}}, lim);
    EXPECT_FALSE(r.is_error);
    EXPECT_EQ(r.text, "line 1\nline 2\nline 3\n\n[truncated: showing lines 1-3 of 10; use offset to read more]");
}

TEST_F(ToolReadTest, TruncatesAtMaxBytesOnLineBoundary) {
    put(ws_ / "f.txt", "aaaa\nbbbb\ncccc\n");
    FileToolLimits lim;
    lim.max_read_bytes = 12;
    const auto r = call("read", {{"path", "f.txt"}}, lim);
    EXPECT_FALSE(r.is_error);
    EXPECT_EQ(r.text, "aaaa\nbbbb\n\n[truncated: showing lines 1-2 of 3; use offset to read more]");
}

TEST_F(ToolReadTest, LargeFileAcrossReadChunks) {
    // Lines straddle the reader's 64 KiB chunks; the byte cap falls in the middle of a line.
    std::string s;
    for (int i = 0; i < 20000; ++i) s += "line-" + std::to_string(i) + "\n";
    put(ws_ / "big.txt", s);
    FileToolLimits lim;
    lim.max_read_bytes = 70000;
    lim.max_read_lines = 100000;
    const auto r = call("read", {{"path", "big.txt"}}, lim);
    EXPECT_FALSE(r.is_error);
    const size_t note = r.text.find("\n\n[truncated: showing lines 1-");
    ASSERT_NE(note, std::string::npos);
    const std::string body = r.text.substr(0, note + 1);
    EXPECT_LE(body.size(), 70000u);
    EXPECT_EQ(s.compare(0, body.size(), body), 0);
    EXPECT_EQ(body.back(), '\n');
    EXPECT_NE(r.text.find(" of 20000; use offset to read more]"), std::string::npos);
}

TEST_F(ToolReadTest, OverlongFirstLineIsCut) {
    put(ws_ / "f.txt", std::string(100, 'x') + "\nnext\n");
    FileToolLimits lim;
    lim.max_read_bytes = 10;
    const auto r = call("read", {{"path", "f.txt"}}, lim);
    EXPECT_FALSE(r.is_error);
    EXPECT_EQ(r.text, std::string(10, 'x') + "\n\n[truncated: line 1 is longer than 10 bytes; showing its beginning]");
}

TEST_F(ToolReadTest, EmptyFile) {
    put(ws_ / "empty.txt", "");
    const auto r = call("read", {{"path", "empty.txt"}});
    EXPECT_FALSE(r.is_error);
    EXPECT_EQ(r.text, "(file is empty)");
}

TEST_F(ToolReadTest, MissingFile) {
    const auto r = call("read", {{"path", "nope.txt"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "File not found: nope.txt");
}

TEST_F(ToolReadTest, BinaryFileRefused) {
    put(ws_ / "bin.dat", std::string("ab\0cd", 5));
    const auto r = call("read", {{"path", "bin.dat"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Cannot read binary file: bin.dat");
}

TEST_F(ToolReadTest, DirectoryRefused) {
    fs::create_directories(ws_ / "sub");
    const auto r = call("read", {{"path", "sub"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Path is a directory, not a file: sub");
}

TEST_F(ToolReadTest, BadArguments) {
    put(ws_ / "f.txt", "x\n");
    auto r = call("read", json::object{});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Missing required argument: path");
    r = call("read", {{"path", 42}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Invalid argument: path must be a string");
    r = call("read", {{"file_path", true}});
    EXPECT_EQ(r.text, "Invalid argument: file_path must be a string");
    r = call("read", {{"path", ""}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Invalid argument: path must not be empty");
    r = call("read", {{"path", "f.txt"}, {"offset", "abc"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Invalid argument: offset must be a positive integer");
    r = call("read", {{"path", "f.txt"}, {"offset", 0}});
    EXPECT_EQ(r.text, "Invalid argument: offset must be a positive integer");
    r = call("read", {{"path", "f.txt"}, {"limit", -1}});
    EXPECT_EQ(r.text, "Invalid argument: limit must be a positive integer");
    r = call("read", {{"path", "f.txt"}, {"limit", 1.5}});
    EXPECT_EQ(r.text, "Invalid argument: limit must be a positive integer");
}

TEST_F(ToolReadTest, CancelledBeforeStart) {
    put(ws_ / "f.txt", "x\n");
    ctx_.cancelled = std::make_shared<std::atomic<bool>>(true);
    const auto r = call("read", {{"path", "f.txt"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Cancelled");
}

TEST_F(ToolReadTest, RefusesEscapes) {
    put(outside_ / "secret.txt", "secret\n");
    auto r = call("read", {{"path", "../outside/secret.txt"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Path escapes the workspace: ../outside/secret.txt");

    const std::string abs = (outside_ / "secret.txt").string();
    r = call("read", {{"path", abs}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Path escapes the workspace: " + abs);

    fs::create_directory_symlink(outside_, ws_ / "linkdir");
    r = call("read", {{"path", "linkdir/secret.txt"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Path escapes the workspace: linkdir/secret.txt");

    fs::create_symlink(outside_ / "secret.txt", ws_ / "link.txt");
    r = call("read", {{"path", "link.txt"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Path escapes the workspace: link.txt");
    EXPECT_EQ(r.text.find("secret\n"), std::string::npos);
}

TEST_F(ToolReadTest, SymlinkInsideWorkspaceAllowed) {
    put(ws_ / "real" / "a.txt", "inside\n");
    fs::create_symlink(ws_ / "real" / "a.txt", ws_ / "alias.txt");
    fs::create_directory_symlink("real", ws_ / "dirlink");  // relative target
    auto r = call("read", {{"path", "alias.txt"}});
    EXPECT_FALSE(r.is_error) << r.text;
    EXPECT_EQ(r.text, "inside\n");
    r = call("read", {{"path", "dirlink/a.txt"}});
    EXPECT_FALSE(r.is_error) << r.text;
    EXPECT_EQ(r.text, "inside\n");
}

TEST_F(ToolReadTest, AbsolutePathInsideWorkspace) {
    put(ws_ / "f.txt", "abs\n");
    const auto r = call("read", {{"path", (ws_ / "f.txt").string()}});
    EXPECT_FALSE(r.is_error) << r.text;
    EXPECT_EQ(r.text, "abs\n");
}

// ---- write --------------------------------------------------------------------------------------

using ToolWriteTest = TempWorkspace;

TEST_F(ToolWriteTest, CreatesFileAndParentsPrivately) {
    const auto r = call("write", {{"path", "a/b/new.txt"}, {"content", "hello"}});
    EXPECT_FALSE(r.is_error) << r.text;
    EXPECT_EQ(r.text, "Successfully wrote 5 bytes to a/b/new.txt");
    EXPECT_EQ(r.meta.at("path"), "a/b/new.txt");
    EXPECT_EQ(r.meta.at("bytes"), 5);
    EXPECT_EQ(slurp(ws_ / "a/b/new.txt"), "hello");
    EXPECT_EQ(mode_of(ws_ / "a/b/new.txt"), 0600u);
    EXPECT_EQ(mode_of(ws_ / "a"), 0700u);
    EXPECT_TRUE(temp_files(base_).empty());
}

TEST_F(ToolWriteTest, OverwritePreservesModeAndLeavesNoTemp) {
    put(ws_ / "f.sh", "old");
    fs::permissions(ws_ / "f.sh", static_cast<fs::perms>(0750));
    const auto r = call("write", {{"file_path", "f.sh"}, {"content", "new content"}});
    EXPECT_FALSE(r.is_error) << r.text;
    EXPECT_EQ(slurp(ws_ / "f.sh"), "new content");
    EXPECT_EQ(mode_of(ws_ / "f.sh"), 0750u);
    EXPECT_TRUE(temp_files(base_).empty());
}

TEST_F(ToolWriteTest, EmptyContentAllowed) {
    const auto r = call("write", {{"path", "e.txt"}, {"content", ""}});
    EXPECT_FALSE(r.is_error) << r.text;
    EXPECT_EQ(r.text, "Successfully wrote 0 bytes to e.txt");
    EXPECT_TRUE(fs::exists(ws_ / "e.txt"));
}

TEST_F(ToolWriteTest, AbsolutePathInsideWorkspace) {
    const std::string abs = (ws_ / "abs.txt").string();
    const auto r = call("write", {{"path", abs}, {"content", "x"}});
    EXPECT_FALSE(r.is_error) << r.text;
    EXPECT_EQ(slurp(ws_ / "abs.txt"), "x");
}

TEST_F(ToolWriteTest, RefusesTraversalAndAbsoluteOutside) {
    auto r = call("write", {{"path", "../outside/x.txt"}, {"content", "x"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Path escapes the workspace: ../outside/x.txt");
    r = call("write", {{"path", "new/../../x.txt"}, {"content", "x"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Path escapes the workspace: new/../../x.txt");
    const std::string abs = (outside_ / "y.txt").string();
    r = call("write", {{"path", abs}, {"content", "x"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Path escapes the workspace: " + abs);
    EXPECT_TRUE(fs::is_empty(outside_));
    EXPECT_FALSE(fs::exists(base_ / "x.txt"));
    EXPECT_FALSE(fs::exists(ws_ / "new")) << "refused before creating directories";
}

TEST_F(ToolWriteTest, RefusesSymlinkedDirectoryOutside) {
    fs::create_directory_symlink(outside_, ws_ / "out");
    const auto r = call("write", {{"path", "out/sub/x.txt"}, {"content", "x"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Path escapes the workspace: out/sub/x.txt");
    EXPECT_TRUE(fs::is_empty(outside_));
}

TEST_F(ToolWriteTest, RefusesSymlinkedFileOutside) {
    put(outside_ / "target.txt", "original");
    fs::create_symlink(outside_ / "target.txt", ws_ / "link.txt");
    const auto r = call("write", {{"path", "link.txt"}, {"content", "pwned"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Path escapes the workspace: link.txt");
    EXPECT_EQ(slurp(outside_ / "target.txt"), "original");
}

TEST_F(ToolWriteTest, RefusesDanglingSymlink) {
    fs::create_symlink(outside_ / "not-yet.txt", ws_ / "dangling.txt");
    const auto r = call("write", {{"path", "dangling.txt"}, {"content", "x"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Path contains a broken symlink: dangling.txt");
    EXPECT_FALSE(fs::exists(outside_ / "not-yet.txt"));
}

TEST_F(ToolWriteTest, SymlinkInsideWorkspaceWritesTarget) {
    put(ws_ / "real.txt", "old");
    fs::create_symlink("real.txt", ws_ / "alias.txt");
    const auto r = call("write", {{"path", "alias.txt"}, {"content", "new"}});
    EXPECT_FALSE(r.is_error) << r.text;
    EXPECT_EQ(slurp(ws_ / "real.txt"), "new");
    EXPECT_TRUE(fs::is_symlink(ws_ / "alias.txt"));
}

TEST_F(ToolWriteTest, RefusesHardLinkedFile) {
    put(outside_ / "shared.txt", "original");
    fs::create_hard_link(outside_ / "shared.txt", ws_ / "hard.txt");
    const auto r = call("write", {{"path", "hard.txt"}, {"content", "x"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Refusing to modify a hard-linked file: hard.txt");
    EXPECT_EQ(slurp(outside_ / "shared.txt"), "original");
}

TEST_F(ToolWriteTest, RefusesDirectoryTargets) {
    fs::create_directories(ws_ / "d");
    auto r = call("write", {{"path", "d"}, {"content", "x"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Path is a directory, not a file: d");
    r = call("write", {{"path", "."}, {"content", "x"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Path is a directory, not a file: .");
    EXPECT_TRUE(fs::is_directory(ws_));
}

TEST_F(ToolWriteTest, FileInTheWayOfParent) {
    put(ws_ / "file", "x");
    const auto r = call("write", {{"path", "file/child.txt"}, {"content", "x"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_NE(r.text.find("file/child.txt"), std::string::npos) << r.text;
}

TEST_F(ToolWriteTest, BadArgumentsAndLimits) {
    auto r = call("write", {{"path", "f.txt"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Missing required argument: content");
    r = call("write", {{"path", "f.txt"}, {"content", json::array{}}});
    EXPECT_EQ(r.text, "Invalid argument: content must be a string");
    r = call("write", {{"content", "x"}});
    EXPECT_EQ(r.text, "Missing required argument: path");
    r = call("write", {{"path", json::object{}}, {"content", "x"}});
    EXPECT_EQ(r.text, "Invalid argument: path must be a string");
    FileToolLimits lim;
    lim.max_write_bytes = 4;
    r = call("write", {{"path", "f.txt"}, {"content", "12345"}}, lim);
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Content too large: 5 bytes (limit 4)");
    EXPECT_FALSE(fs::exists(ws_ / "f.txt"));
}

TEST_F(ToolWriteTest, WorkspaceReachedThroughSymlink) {
    // The configured workspace may itself be a symlink (as /tmp is on some systems); absolute
    // paths spelled either way are inside.
    fs::create_directory_symlink(ws_, base_ / "ws-link");
    ctx_.workspace = base_ / "ws-link";
    auto r = call("write", {{"path", (base_ / "ws-link" / "a.txt").string()}, {"content", "1"}});
    EXPECT_FALSE(r.is_error) << r.text;
    r = call("write", {{"path", (fs::canonical(ws_) / "b.txt").string()}, {"content", "2"}});
    EXPECT_FALSE(r.is_error) << r.text;
    r = call("write", {{"path", "c.txt"}, {"content", "3"}});
    EXPECT_FALSE(r.is_error) << r.text;
    EXPECT_EQ(slurp(ws_ / "a.txt"), "1");
    EXPECT_EQ(slurp(ws_ / "b.txt"), "2");
    EXPECT_EQ(slurp(ws_ / "c.txt"), "3");
}

// ---- edit ---------------------------------------------------------------------------------------

using ToolEditTest = TempWorkspace;

TEST_F(ToolEditTest, ReplacesUniqueMatch) {
    put(ws_ / "f.txt", "one\ntwo\nthree\n");
    fs::permissions(ws_ / "f.txt", static_cast<fs::perms>(0644));
    const auto r = call("edit", {{"path", "f.txt"}, {"oldText", "two\n"}, {"newText", "TWO\n2\n"}});
    EXPECT_FALSE(r.is_error) << r.text;
    EXPECT_EQ(r.text, "Successfully replaced text in f.txt");
    EXPECT_EQ(r.meta, (json::object{{"path", "f.txt"}}));
    EXPECT_EQ(slurp(ws_ / "f.txt"), "one\nTWO\n2\nthree\n");
    EXPECT_EQ(mode_of(ws_ / "f.txt"), 0644u);
    EXPECT_TRUE(temp_files(base_).empty());
}

TEST_F(ToolEditTest, AliasesAndDeletion) {
    put(ws_ / "f.txt", "keep remove keep");
    const auto r = call("edit", {{"file_path", "f.txt"}, {"old_string", " remove"}, {"new_string", ""}});
    EXPECT_FALSE(r.is_error) << r.text;
    EXPECT_EQ(slurp(ws_ / "f.txt"), "keep keep");
}

TEST_F(ToolEditTest, NotFound) {
    put(ws_ / "f.txt", "abc");
    const auto r = call("edit", {{"path", "f.txt"}, {"oldText", "xyz"}, {"newText", "q"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text.rfind("oldText not found in f.txt", 0), 0u) << r.text;
    EXPECT_EQ(slurp(ws_ / "f.txt"), "abc");
}

TEST_F(ToolEditTest, MultipleMatchesRefused) {
    put(ws_ / "f.txt", "x = 1;\nx = 1;\n");
    const auto r = call("edit", {{"path", "f.txt"}, {"oldText", "x = 1;"}, {"newText", "x = 2;"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_NE(r.text.find("Found 2 matches of oldText in f.txt"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("context"), std::string::npos) << r.text;
    EXPECT_EQ(slurp(ws_ / "f.txt"), "x = 1;\nx = 1;\n");
}

TEST_F(ToolEditTest, OverlappingMatchesCountAsAmbiguous) {
    put(ws_ / "f.txt", "aaa");
    const auto r = call("edit", {{"path", "f.txt"}, {"oldText", "aa"}, {"newText", "b"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_NE(r.text.find("Found 2 matches"), std::string::npos) << r.text;
}

TEST_F(ToolEditTest, CrlfFileMatchesLfOldText) {
    put(ws_ / "f.txt", "a\r\nb\r\nc\r\n");
    const auto r = call("edit", {{"path", "f.txt"}, {"oldText", "a\nb\n"}, {"newText", "A\nB\n"}});
    EXPECT_FALSE(r.is_error) << r.text;
    EXPECT_EQ(slurp(ws_ / "f.txt"), "A\r\nB\r\nc\r\n");
}

TEST_F(ToolEditTest, MissingFileAndBadArguments) {
    auto r = call("edit", {{"path", "nope.txt"}, {"oldText", "a"}, {"newText", "b"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "File not found: nope.txt");
    EXPECT_FALSE(fs::exists(ws_ / "nope.txt"));
    put(ws_ / "f.txt", "abc");
    r = call("edit", {{"path", "f.txt"}, {"newText", "b"}});
    EXPECT_EQ(r.text, "Missing required argument: oldText");
    r = call("edit", {{"path", "f.txt"}, {"oldText", "a"}});
    EXPECT_EQ(r.text, "Missing required argument: newText");
    r = call("edit", {{"path", "f.txt"}, {"oldText", 1}, {"newText", "b"}});
    EXPECT_EQ(r.text, "Invalid argument: oldText must be a string");
    r = call("edit", {{"path", "f.txt"}, {"old_string", "a"}, {"new_string", false}});
    EXPECT_EQ(r.text, "Invalid argument: new_string must be a string");
    r = call("edit", {{"path", "f.txt"}, {"oldText", ""}, {"newText", "b"}});
    EXPECT_EQ(r.text, "Invalid argument: oldText must not be empty");
    r = call("edit", {{"path", "f.txt"}, {"oldText", "b"}, {"newText", "b"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "No changes made to f.txt: newText is identical to oldText");
    EXPECT_EQ(slurp(ws_ / "f.txt"), "abc");
}

TEST_F(ToolEditTest, RefusesHardLinkAndSymlinkOutside) {
    put(outside_ / "t.txt", "abc");
    fs::create_hard_link(outside_ / "t.txt", ws_ / "hard.txt");
    auto r = call("edit", {{"path", "hard.txt"}, {"oldText", "a"}, {"newText", "z"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Refusing to modify a hard-linked file: hard.txt");
    fs::create_symlink(outside_ / "t.txt", ws_ / "soft.txt");
    r = call("edit", {{"path", "soft.txt"}, {"oldText", "a"}, {"newText", "z"}});
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text, "Path escapes the workspace: soft.txt");
    EXPECT_EQ(slurp(outside_ / "t.txt"), "abc");
}

TEST_F(ToolEditTest, TooLargeFileRefused) {
    put(ws_ / "f.txt", "0123456789");
    FileToolLimits lim;
    lim.max_write_bytes = 5;
    const auto r = call("edit", {{"path", "f.txt"}, {"oldText", "0"}, {"newText", "x"}}, lim);
    EXPECT_TRUE(r.is_error);
    EXPECT_NE(r.text.find("File too large: f.txt"), std::string::npos) << r.text;
}

// ---- confinement --------------------------------------------------------------------------------

using WorkspaceConfineTest = TempWorkspace;

TEST_F(WorkspaceConfineTest, RelativeAndDotDotInside) {
    const fs::path root = fs::canonical(ws_);
    fs::create_directories(ws_ / "a");
    auto c = confine_to_workspace(ws_, "a/../b.txt", true);
    EXPECT_EQ(c.error, "");
    EXPECT_EQ(c.path, root / "b.txt");
    c = confine_to_workspace(ws_, "./x/y/z.txt", true);
    EXPECT_EQ(c.error, "");
    EXPECT_EQ(c.path, root / "x/y/z.txt");
    c = confine_to_workspace(ws_, "missing/../c.txt", true);
    EXPECT_EQ(c.error, "");
    EXPECT_EQ(c.path, root / "c.txt");
}

TEST_F(WorkspaceConfineTest, EscapesRefusedNamingThePath) {
    for (const char* p : {"..", "../x", "a/../../x", "missing/../../x", "./../ws/../../x"}) {
        const auto c = confine_to_workspace(ws_, p, true);
        EXPECT_EQ(c.error, std::string("Path escapes the workspace: ") + p) << p;
        EXPECT_TRUE(c.path.empty()) << p;
    }
    const std::string abs = (base_ / "ws-other" / "x").string();  // shares a name prefix with ws
    EXPECT_EQ(confine_to_workspace(ws_, abs, true).error, "Path escapes the workspace: " + abs);
    EXPECT_EQ(confine_to_workspace(ws_, "/etc/passwd", false).error, "Path escapes the workspace: /etc/passwd");
    const std::string dotted = (ws_ / ".." / "outside").string();
    EXPECT_EQ(confine_to_workspace(ws_, dotted, true).error, "Path escapes the workspace: " + dotted);
}

TEST_F(WorkspaceConfineTest, DotDotIsPhysicalAfterSymlink) {
    // "in/.." is the parent of the link's target, not the workspace: resolving it lexically
    // would disagree with what the kernel opens.
    fs::create_directories(ws_ / "sub" / "deep");
    fs::create_directory_symlink(ws_ / "sub" / "deep", ws_ / "in");
    const auto c = confine_to_workspace(ws_, "in/../x.txt", true);
    EXPECT_EQ(c.error, "");
    EXPECT_EQ(c.path, fs::canonical(ws_) / "sub" / "x.txt");

    fs::create_directory_symlink(ws_, ws_ / "self");
    EXPECT_EQ(confine_to_workspace(ws_, "self/../x", true).error, "Path escapes the workspace: self/../x");
}

TEST_F(WorkspaceConfineTest, SymlinksResolvedAtEveryComponent) {
    fs::create_directories(outside_ / "d");
    fs::create_directory_symlink(outside_, ws_ / "o");
    EXPECT_EQ(confine_to_workspace(ws_, "o/d/f", true).error, "Path escapes the workspace: o/d/f");
    fs::create_directory_symlink("../outside", ws_ / "rel");
    EXPECT_EQ(confine_to_workspace(ws_, "rel", false).error, "Path escapes the workspace: rel");
    fs::create_symlink("loop", ws_ / "loop");
    EXPECT_EQ(confine_to_workspace(ws_, "loop/x", true).error, "Path contains a broken symlink: loop/x");
}

TEST_F(WorkspaceConfineTest, MissingFileForReadOnly) {
    EXPECT_EQ(confine_to_workspace(ws_, "a/b.txt", false).error, "File not found: a/b.txt");
    const auto c = confine_to_workspace(ws_, "a/b.txt", true);
    EXPECT_EQ(c.error, "");
    EXPECT_EQ(c.path, fs::canonical(ws_) / "a" / "b.txt");
}

TEST_F(WorkspaceConfineTest, HardLinkRefusedOnlyForWrite) {
    put(ws_ / "f", "x");
    fs::create_hard_link(ws_ / "f", ws_ / "g");
    EXPECT_EQ(confine_to_workspace(ws_, "g", false).error, "");
    EXPECT_EQ(confine_to_workspace(ws_, "g", true).error, "Refusing to modify a hard-linked file: g");
}

TEST_F(WorkspaceConfineTest, BadInputs) {
    EXPECT_EQ(confine_to_workspace(ws_, "", false).error, "Path is empty");
    EXPECT_EQ(confine_to_workspace(ws_, std::string_view("a\0b", 3), true).error, "Path contains a NUL byte");
    EXPECT_EQ(confine_to_workspace(base_ / "no-such-ws", "a", true).error,
              "Workspace is not accessible: " + (base_ / "no-such-ws").string());
    EXPECT_EQ(confine_to_workspace("", "a", true).error, "No workspace is configured");
}

}  // namespace
}  // namespace pincer::runtime
