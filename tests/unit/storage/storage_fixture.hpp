// Shared fixtures for the storage unit tests: a scratch directory that cleans up after itself, a
// fixture that opens a Database plus one repository over it, and the fork/ack/SIGKILL harness the
// crash-durability tests use.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "storage/db.hpp"

namespace pincer::storage::test_support {

// A fresh directory made with mkdtemp(<base>/<prefix>XXXXXX), removed with everything in it on
// destruction (owner permissions are restored first, in case a test made it read-only).
class TempDir {
public:
    explicit TempDir(const std::string& prefix, const std::filesystem::path& base = "/tmp") {
        std::string tmpl = (base / (prefix + "XXXXXX")).string();
        std::vector<char> buf(tmpl.begin(), tmpl.end());
        buf.push_back('\0');
        if (::mkdtemp(buf.data()) == nullptr) {
            throw std::system_error(errno, std::generic_category(), "mkdtemp " + tmpl);
        }
        path_ = buf.data();
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::permissions(path_, std::filesystem::perms::owner_all, ec);
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// Gives each test its own scratch directory in root_.
class StorageTest : public ::testing::Test {
protected:
    explicit StorageTest(const std::string& prefix) : tmp_(prefix), root_(tmp_.path()) {}

    // First column of the first row of `sql`, or "" when there is no row.
    static std::string query_text(Database& db, const std::string& sql) {
        auto guard = db.lock();
        auto st = db.prepare(sql);
        return st.step() ? st.column_text(0) : std::string();
    }

private:
    TempDir tmp_;

protected:
    std::filesystem::path root_;
};

// Opens <root_>/pincer.sqlite and a Repo over it before each test; open() reopens both.
template <class Repo>
class RepoTest : public StorageTest {
protected:
    using StorageTest::StorageTest;

    void SetUp() override { open(); }
    void TearDown() override { close(); }

    std::filesystem::path db_path() const { return root_ / "pincer.sqlite"; }

    void close() {
        repo_.reset();
        db_.reset();
    }
    void open() {
        close();
        db_ = std::make_unique<Database>(db_path());
        repo_ = std::make_unique<Repo>(*db_);
    }

    std::unique_ptr<Database> db_;
    std::unique_ptr<Repo> repo_;
};

// Call from the child after each durable write: sends `i` to the parent, exits if it can't.
inline void ack(int ack_fd, int i) {
    if (::write(ack_fd, &i, sizeof i) != static_cast<ssize_t>(sizeof i)) ::_exit(2);
}

// Forks a child that runs `child(ack_fd)` (which calls ack() once per acknowledged write, counting
// from 0), SIGKILLs it once `kill_after` acks have arrived, collects the acks still in the pipe
// and reaps it. *last_acked is the highest ack received (-1 for none). The child exits 1 if
// `child` throws and 0 if it returns; either counts as a failure here, since it must be killed.
// Use as ASSERT_NO_FATAL_FAILURE(run_child_until_killed(...)).
inline void run_child_until_killed(const std::function<void(int ack_fd)>& child, int kill_after, int* last_acked) {
    *last_acked = -1;
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(fds[0]);
        try {
            child(fds[1]);
        } catch (...) {
            ::_exit(1);
        }
        ::_exit(0);
    }
    ::close(fds[1]);
    int acked = -1;
    int value = 0;
    while (::read(fds[0], &value, sizeof value) == static_cast<ssize_t>(sizeof value)) {
        acked = value;
        if (acked + 1 == kill_after) break;
    }
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    // Acks written before the kill are still in the pipe.
    while (::read(fds[0], &value, sizeof value) == static_cast<ssize_t>(sizeof value)) acked = value;
    ::close(fds[0]);
    *last_acked = acked;
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with status " << WEXITSTATUS(status);
    ASSERT_GE(acked + 1, kill_after);
}

}  // namespace pincer::storage::test_support
