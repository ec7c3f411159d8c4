#include "storage/db.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "storage/device_registry.hpp"
#include "storage_fixture.hpp"

namespace pincer::storage {
namespace {

namespace fs = std::filesystem;

class DatabaseTest : public test_support::StorageTest {
protected:
    DatabaseTest() : StorageTest("pincer-db-test-") {}

    // Nested and not yet existing, so the test also covers parent-directory creation.
    fs::path db_path() const { return root_ / "state" / "nested" / "pincer.sqlite"; }

    static mode_t mode_of(const fs::path& p) {
        struct stat st {};
        EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
        return st.st_mode & 0777;
    }
};

TEST_F(DatabaseTest, MigrationsApplyAndReopenIsNoOp) {
    {
        Database db(db_path());
        EXPECT_EQ(db.user_version(), latest_schema_version());
        for (const char* table : {"devices", "device_tokens", "pairing_requests", "system_events", "meta"}) {
            EXPECT_EQ(query_text(db, std::string("SELECT name FROM sqlite_master WHERE type='table' AND name='") +
                                         table + "'"),
                      table);
        }
        db.exec("INSERT INTO meta (key, value) VALUES ('boot_count', '1')");
    }
    Database db(db_path());
    EXPECT_EQ(db.user_version(), latest_schema_version());
    EXPECT_EQ(query_text(db, "SELECT value FROM meta WHERE key='boot_count'"), "1");
}

TEST_F(DatabaseTest, PragmasAreSet) {
    Database db(db_path());
    EXPECT_EQ(query_text(db, "PRAGMA journal_mode"), "wal");
    EXPECT_EQ(query_text(db, "PRAGMA synchronous"), "2");  // FULL
    EXPECT_EQ(query_text(db, "PRAGMA foreign_keys"), "1");
    EXPECT_EQ(query_text(db, "PRAGMA busy_timeout"), "5000");
}

TEST_F(DatabaseTest, NewerSchemaVersionIsRefused) {
    { Database db(db_path()); }
    {
        sqlite3* raw = nullptr;
        ASSERT_EQ(sqlite3_open(db_path().c_str(), &raw), SQLITE_OK);
        std::string sql = "PRAGMA user_version = " + std::to_string(latest_schema_version() + 1);
        ASSERT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(raw);
    }
    try {
        Database db(db_path());
        FAIL() << "opened a database from the future";
    } catch (const StorageError& e) {
        EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
    }
}

TEST_F(DatabaseTest, FileIsPrivate) {
    Database db(db_path());
    db.exec("INSERT INTO meta (key, value) VALUES ('k', 'v')");  // forces the -wal file to exist
    EXPECT_EQ(mode_of(db_path()), 0600u);
    EXPECT_EQ(mode_of(fs::path(db_path().string() + "-wal")), 0600u);
    EXPECT_EQ(mode_of(db_path().parent_path()), 0700u);
    EXPECT_EQ(mode_of(root_ / "state"), 0700u);
}

TEST_F(DatabaseTest, LooseFileModeIsTightened) {
    fs::create_directories(db_path().parent_path());
    { Database db(db_path()); }
    ASSERT_EQ(::chmod(db_path().c_str(), 0644), 0);
    Database db(db_path());
    EXPECT_EQ(mode_of(db_path()), 0600u);
}

TEST_F(DatabaseTest, TransactionRollsBackUnlessCommitted) {
    Database db(db_path());
    {
        Transaction tx(db);
        db.exec("INSERT INTO meta (key, value) VALUES ('a', '1')");
    }
    EXPECT_EQ(query_text(db, "SELECT count(*) FROM meta"), "0");
    {
        Transaction tx(db);
        db.exec("INSERT INTO meta (key, value) VALUES ('a', '1')");
        tx.commit();
    }
    EXPECT_EQ(query_text(db, "SELECT count(*) FROM meta"), "1");
}

TEST_F(DatabaseTest, ErrorsCarrySqliteMessage) {
    Database db(db_path());
    try {
        db.prepare("SELECT * FROM no_such_table");
        FAIL();
    } catch (const StorageError& e) {
        EXPECT_NE(std::string(e.what()).find("no such table"), std::string::npos) << e.what();
    }
    EXPECT_THROW(db.prepare("SELECT 1; SELECT 2"), StorageError);
    db.exec("INSERT INTO meta (key, value) VALUES ('a', '1')");
    auto guard = db.lock();
    auto dup = db.prepare("INSERT INTO meta (key, value) VALUES ('a', '2')");
    EXPECT_THROW(dup.run(), StorageError);
}

// A child acknowledges each committed row over a pipe and is SIGKILLed mid-stream. Every row it
// acknowledged must be there after reopening, and the file must be intact.
TEST_F(DatabaseTest, AcknowledgedWritesSurviveKill) {
    constexpr int kMaxRows = 100000;
    constexpr int kKillAfter = 150;
    int acked = -1;
    ASSERT_NO_FATAL_FAILURE(test_support::run_child_until_killed(
        [&](int ack_fd) {
            Database db(db_path());
            SqliteDeviceRegistry registry(db);
            for (int i = 0; i < kMaxRows; ++i) {
                core::PairedDevice d;
                d.device_id = "dev-" + std::to_string(i);
                d.public_key = "key-" + std::to_string(i);
                d.roles = {"operator"};
                d.scopes = {"operator.read"};
                d.approved_at_ms = i;
                registry.upsert_device(d);
                registry.ensure_token(d.device_id, "operator", d.scopes, i);
                test_support::ack(ack_fd, i);
            }
        },
        kKillAfter, &acked));

    Database db(db_path());
    EXPECT_EQ(query_text(db, "PRAGMA integrity_check"), "ok");
    SqliteDeviceRegistry registry(db);
    for (int i = 0; i <= acked; ++i) {
        std::string id = "dev-" + std::to_string(i);
        ASSERT_TRUE(registry.find_device(id).has_value()) << "lost acknowledged device " << id;
        ASSERT_TRUE(registry.find_token(id, "operator").has_value()) << "lost acknowledged token " << id;
    }
    int64_t rows = std::stoll(query_text(db, "SELECT count(*) FROM devices"));
    EXPECT_GE(rows, acked + 1);
    EXPECT_LE(rows, acked + 2);  // at most the one row committed but not yet acknowledged
}

}  // namespace
}  // namespace pincer::storage
