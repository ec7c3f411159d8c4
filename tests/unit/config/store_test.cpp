#include "config/store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../storage/storage_fixture.hpp"
#include "util/crypto.hpp"

namespace pincer::config {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

class StoreTest : public ::testing::Test {
protected:
    static std::string slurp(const fs::path& p) {
        std::ifstream in(p, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    // Removed (after restoring owner permissions) when the test ends.
    storage::test_support::TempDir tmp_{"pincer-config-test-", fs::temp_directory_path()};
    fs::path dir_ = tmp_.path();
};

TEST_F(StoreTest, MissingFileIsEmptyValidConfig) {
    const auto r = ConfigStore(dir_ / "openclaw.json").load();
    EXPECT_FALSE(r.exists);
    EXPECT_TRUE(r.valid);
    EXPECT_EQ(r.parsed, json::object());
    EXPECT_EQ(r.hash, "");
    EXPECT_EQ(r.error, "");
}

TEST_F(StoreTest, WriteThenLoadGivesSameHash) {
    ConfigStore store(dir_ / "nested" / "deeper" / "openclaw.json");
    const auto cfg = json::parse(R"({"gateway":{"port":18789,"auth":{"token":"t"}},"agents":{"list":[]}})");
    const auto w = store.write_atomic(cfg);
    ASSERT_TRUE(w.ok) << w.error;
    EXPECT_EQ(w.raw.back(), '\n');
    EXPECT_EQ(w.hash, util::sha256_hex(w.raw));

    const auto r = store.load();
    EXPECT_TRUE(r.exists);
    EXPECT_TRUE(r.valid);
    EXPECT_EQ(r.raw, w.raw);
    EXPECT_EQ(r.hash, w.hash);
    EXPECT_EQ(r.parsed, cfg);
    EXPECT_TRUE(r.ignored.empty());  // agents is read by Pincer

    struct stat st {};
    ASSERT_EQ(::stat(store.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(store.path().parent_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u) << "created parent dirs are private";

    for (const auto& e : fs::directory_iterator(store.path().parent_path())) {
        EXPECT_EQ(e.path().filename(), "openclaw.json") << "no temp files left behind";
    }
}

TEST_F(StoreTest, OverwriteReplacesContentAndTightensMode) {
    const auto path = dir_ / "openclaw.json";
    std::ofstream(path) << "{gateway: {port: 1}}";
    fs::permissions(path,
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
    ConfigStore store(path);
    const auto w = store.write_atomic(json::parse(R"({"gateway":{"port":2}})"));
    ASSERT_TRUE(w.ok) << w.error;
    EXPECT_EQ(slurp(path), "{\n  \"gateway\": {\n    \"port\": 2\n  }\n}\n");
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(StoreTest, LoadReportsParseErrorsAndIssues) {
    const auto path = dir_ / "openclaw.json";
    std::ofstream(path) << "{\n  gateway: { port: }\n}";
    auto r = ConfigStore(path).load();
    EXPECT_TRUE(r.exists);
    EXPECT_FALSE(r.valid);
    EXPECT_TRUE(r.parsed.is_null());
    ASSERT_TRUE(r.parse_error.has_value());
    EXPECT_EQ(r.parse_error->line, 2);
    EXPECT_EQ(r.error, "JSON5: invalid character '}' at 2:20");
    EXPECT_EQ(r.hash, util::sha256_hex(r.raw));

    std::ofstream(path, std::ios::trunc) << "// comment\n{gateway: {port: 'x'}, agents: {}}";
    r = ConfigStore(path).load();
    EXPECT_FALSE(r.valid);
    ASSERT_EQ(r.issues.size(), 1u);
    EXPECT_EQ(r.issues[0].path, "gateway.port");
    EXPECT_EQ(r.error, "");
}

TEST_F(StoreTest, LoadOfDirectoryIsAnError) {
    const auto r = ConfigStore(dir_).load();
    EXPECT_TRUE(r.exists);
    EXPECT_FALSE(r.valid);
    EXPECT_NE(r.error.find("is a directory"), std::string::npos);
}

TEST_F(StoreTest, FailedWriteLeavesOldFileUntouched) {
    if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
    const auto path = dir_ / "openclaw.json";
    std::ofstream(path) << "{old: true}";
    fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
    const auto w = ConfigStore(path).write_atomic(json::parse(R"({"new":true})"));
    fs::permissions(dir_, fs::perms::owner_all);
    EXPECT_FALSE(w.ok);
    EXPECT_NE(w.error.find("Permission denied"), std::string::npos) << w.error;
    EXPECT_EQ(slurp(path), "{old: true}");
}

TEST_F(StoreTest, FailedRenameLeavesOldFileAndNoTemp) {
    // Works as root too: renaming a file over a non-empty directory always fails.
    const auto path = dir_ / "openclaw.json";
    fs::create_directories(path / "occupied");
    const auto w = ConfigStore(path).write_atomic(json::object());
    EXPECT_FALSE(w.ok);
    EXPECT_NE(w.error.find("cannot rename"), std::string::npos) << w.error;
    EXPECT_TRUE(fs::is_directory(path / "occupied"));
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++entries;
    EXPECT_EQ(entries, 1u) << "temp file removed";
}

}  // namespace
}  // namespace pincer::config
