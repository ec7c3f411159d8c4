#include "runtime/system_prompt.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace pincer::runtime {
namespace {

namespace fs = std::filesystem;

class SystemPromptTest : public testing::Test {
protected:
    void SetUp() override {
        std::random_device rd;
        base_ = fs::path(testing::TempDir()) /
                ("pincer-prompt-" + std::to_string(::getpid()) + "-" + std::to_string(rd()) + std::to_string(rd()));
        ws_ = base_ / "ws";
        fs::create_directories(ws_);
        fs::create_directories(base_ / "outside");
        in_.workspace = ws_;
        in_.now_ms = 1'700'000'000'000;  // 2023-11-14T22:13:20Z, a Tuesday
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(base_, ec);
    }
    static void put(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }
    static size_t count(const std::string& hay, const std::string& needle) {
        size_t n = 0;
        for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
        return n;
    }

    fs::path base_, ws_;
    PromptInputs in_;
};

TEST_F(SystemPromptTest, FileNamesInPromptOrder) {
    EXPECT_EQ(prompt_file_names(),
              (std::vector<std::string>{"AGENTS.md", "SOUL.md", "TOOLS.md", "IDENTITY.md", "USER.md"}));
}

TEST_F(SystemPromptTest, FullPromptIsDeterministic) {
    put(ws_ / "AGENTS.md", "# Agents\nBe useful.\n\n");
    put(ws_ / "USER.md", "The user is Ada.");
    in_.agent_name = "Molty";
    in_.tools = {ToolSpec{"read", "Read a file.", {}}, ToolSpec{"exec", "", {}}};
    in_.system_events = {"Cron job finished", "Node\nconnected"};
    const std::string expected =
        "You are Molty running inside Pincer, an OpenClaw-compatible gateway.\n"
        "\n## Tooling\n\nTools available to you (call them by these exact names):\n"
        "- read: Read a file.\n"
        "- exec\n"
        "\n## Workspace\n\nWorkspace: " +
        ws_.string() +
        "\n"
        "Treat this directory as your working directory; relative file paths resolve "
        "against it.\n"
        "\n## Current Date & Time\n\nCurrent time (UTC): 2023-11-14T22:13:20.000Z (Tuesday)\n"
        "\n## Runtime\n\nAgent: main\n"
        "\n# Project Context\n\nThe following workspace files have been loaded:\n"
        "\n## AGENTS.md\n\n# Agents\nBe useful.\n"
        "\n## USER.md\n\nThe user is Ada.\n"
        "\n# System events\n\nThese happened since your last turn (oldest first):\n"
        "- Cron job finished\n"
        "- Node\n  connected\n";
    const std::string got = build_system_prompt(in_);
    EXPECT_EQ(got, expected);
    EXPECT_EQ(build_system_prompt(in_), got);
}

TEST_F(SystemPromptTest, DefaultIdentityAndNoOptionalSections) {
    const std::string p = build_system_prompt(in_);
    EXPECT_EQ(p.rfind("You are a personal assistant running inside Pincer, an OpenClaw-compatible gateway.\n", 0), 0u);
    EXPECT_EQ(p.find("## Tooling"), std::string::npos);
    EXPECT_EQ(p.find("# Project Context"), std::string::npos);
    EXPECT_EQ(p.find("# System events"), std::string::npos);
    EXPECT_NE(p.find("Workspace: " + ws_.string() + "\n"), std::string::npos);
}

TEST_F(SystemPromptTest, FilesInFixedOrderMissingSkipped) {
    // Written in reverse order; the prompt order is the list's, not the directory's.
    put(ws_ / "USER.md", "user");
    put(ws_ / "IDENTITY.md", "identity");
    put(ws_ / "SOUL.md", "soul");
    put(ws_ / "AGENTS.md", "agents");
    put(ws_ / "MEMORY.md", "not part of the prompt");
    put(ws_ / "TOOLS.md", "  \n\n");  // blank: nothing worth a heading
    const std::string p = build_system_prompt(in_);
    const size_t a = p.find("## AGENTS.md\n\nagents\n");
    const size_t s = p.find("## SOUL.md\n\nsoul\n");
    const size_t i = p.find("## IDENTITY.md\n\nidentity\n");
    const size_t u = p.find("## USER.md\n\nuser\n");
    ASSERT_NE(a, std::string::npos) << p;
    ASSERT_NE(s, std::string::npos);
    ASSERT_NE(i, std::string::npos);
    ASSERT_NE(u, std::string::npos);
    EXPECT_LT(a, s);
    EXPECT_LT(s, i);
    EXPECT_LT(i, u);
    EXPECT_EQ(p.find("TOOLS.md"), std::string::npos);
    EXPECT_EQ(p.find("MEMORY.md"), std::string::npos);
    EXPECT_NE(p.find("Embody the persona and tone described in SOUL.md."), std::string::npos);
}

TEST_F(SystemPromptTest, LongFileKeepsHeadAndTail) {
    std::string content;
    for (int i = 0; i < 300; ++i) content += static_cast<char>('a' + i % 26);
    put(ws_ / "AGENTS.md", content);
    in_.max_file_chars = 100;
    const std::string p = build_system_prompt(in_);
    const std::string expected = "## AGENTS.md\n\n" + content.substr(0, 70) +
                                 "\n[...truncated, read AGENTS.md for full content...]\n" + content.substr(280) + "\n";
    EXPECT_NE(p.find(expected), std::string::npos) << p;
}

TEST_F(SystemPromptTest, TruncationCountsCharactersNotBytes) {
    // 10 two-byte characters fit a 10-character cap; 11 do not, and no character is split.
    std::string ten;
    for (int i = 0; i < 10; ++i) ten += "\xC3\xA9";  // é
    put(ws_ / "SOUL.md", ten);
    in_.max_file_chars = 10;
    EXPECT_NE(build_system_prompt(in_).find("## SOUL.md\n\n" + ten + "\n"), std::string::npos);
    put(ws_ / "SOUL.md", ten + "\xC3\xA9");
    const std::string p = build_system_prompt(in_);
    const std::string head = ten.substr(0, 14);  // 7 characters
    const std::string tail = ten.substr(0, 4);   // 2 characters
    EXPECT_NE(p.find("## SOUL.md\n\n" + head + "\n[...truncated, read SOUL.md for full content...]\n" + tail + "\n"),
              std::string::npos)
        << p;
}

TEST_F(SystemPromptTest, HugeFileReadOnlyAtHeadAndTail) {
    std::string content = "HEAD" + std::string(1'000'000, 'x') + "TAIL\n\n";
    put(ws_ / "TOOLS.md", content);
    in_.max_file_chars = 1000;
    const std::string p = build_system_prompt(in_);
    const size_t start = p.find("## TOOLS.md\n\nHEAD");
    ASSERT_NE(start, std::string::npos);
    const size_t marker = p.find("\n[...truncated, read TOOLS.md for full content...]\n", start);
    ASSERT_NE(marker, std::string::npos);
    EXPECT_EQ(marker - (start + 13), 700u);                                  // head: 70% of the cap
    EXPECT_NE(p.find(std::string(196, 'x') + "TAIL\n"), std::string::npos);  // tail: 20%, trailing space trimmed
    EXPECT_LT(p.size(), 2000u);
}

TEST_F(SystemPromptTest, SymlinkOutsideSkippedInsideFollowed) {
    put(base_ / "outside" / "secret.md", "SECRET");
    fs::create_symlink(base_ / "outside" / "secret.md", ws_ / "SOUL.md");
    put(ws_ / "real-user.md", "inside user");
    fs::create_symlink("real-user.md", ws_ / "USER.md");
    const std::string p = build_system_prompt(in_);
    EXPECT_EQ(p.find("SECRET"), std::string::npos);
    EXPECT_EQ(p.find("## SOUL.md"), std::string::npos);
    EXPECT_NE(p.find("## USER.md\n\ninside user\n"), std::string::npos) << p;
}

TEST_F(SystemPromptTest, DirectoryInPlaceOfFileSkipped) {
    fs::create_directories(ws_ / "AGENTS.md");
    put(ws_ / "SOUL.md", "soul");
    const std::string p = build_system_prompt(in_);
    EXPECT_EQ(p.find("## AGENTS.md"), std::string::npos);
    EXPECT_NE(p.find("## SOUL.md"), std::string::npos);
}

TEST_F(SystemPromptTest, MissingWorkspaceStillBuilds) {
    in_.workspace = base_ / "absent";
    const std::string p = build_system_prompt(in_);
    EXPECT_NE(p.find("Workspace: " + (base_ / "absent").string()), std::string::npos);
    EXPECT_EQ(p.find("# Project Context"), std::string::npos);
}

TEST_F(SystemPromptTest, SystemEventsSectionAfterFiles) {
    put(ws_ / "AGENTS.md", "agents");
    in_.system_events = {"first", "  ", "second\n"};
    const std::string p = build_system_prompt(in_);
    const size_t ev = p.find("# System events\n");
    ASSERT_NE(ev, std::string::npos);
    EXPECT_GT(ev, p.find("## AGENTS.md"));
    EXPECT_EQ(p.substr(ev),
              "# System events\n\nThese happened since your last turn (oldest first):\n- first\n- second\n");
    EXPECT_EQ(count(p, "\n- "), 2u);
}

TEST_F(SystemPromptTest, ToolsListedInGivenOrderOnOneLine) {
    in_.tools = {ToolSpec{"write", "Write a file.\nCreates parents.", {}}, ToolSpec{"read", "Read.", {}}};
    const std::string p = build_system_prompt(in_);
    EXPECT_NE(p.find("- write: Write a file. Creates parents.\n- read: Read.\n"), std::string::npos) << p;
}

TEST_F(SystemPromptTest, TimeBeforeEpochAndMilliseconds) {
    in_.now_ms = -1;
    EXPECT_NE(build_system_prompt(in_).find("1969-12-31T23:59:59.999Z (Wednesday)"), std::string::npos);
    in_.now_ms = 1'700'000'000'123;
    EXPECT_NE(build_system_prompt(in_).find("2023-11-14T22:13:20.123Z"), std::string::npos);
}

}  // namespace
}  // namespace pincer::runtime
