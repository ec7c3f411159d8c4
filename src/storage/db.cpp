#include "storage/db.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace pincer::storage {
namespace {

[[noreturn]] void throw_sqlite(sqlite3* db, std::string_view what) {
    std::string msg = "sqlite: ";
    msg += what;
    msg += ": ";
    msg += db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    throw StorageError(msg);
}

[[noreturn]] void throw_errno(std::string_view what, const std::filesystem::path& path) {
    int err = errno;
    throw StorageError(std::string(what) + " " + path.string() + ": " + std::strerror(err));
}

// Creates each missing ancestor with 0700 ourselves: std::filesystem::create_directories uses
// 0777 & ~umask, which would leave the state directory world-readable under the usual umask.
// Existing directories are left alone (the user may have chosen their permissions).
void create_private_dirs(const std::filesystem::path& dir) {
    if (dir.empty()) return;
    std::filesystem::path prefix;
    for (const auto& part : dir) {
        prefix /= part;
        if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) throw_errno("cannot create directory", prefix);
    }
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) throw_errno("cannot stat", dir);
    if (!S_ISDIR(st.st_mode)) throw StorageError("not a directory: " + dir.string());
}

// Creates the database file 0600 before SQLite sees it (SQLite would use 0644), and tightens an
// existing file that is readable by others: it holds device tokens. SQLite gives the -wal and
// -shm files the main file's mode, so they inherit 0600.
void create_private_file(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) throw_errno("cannot open database", path);
    struct stat st {};
    bool ok = ::fstat(fd, &st) == 0 && ((st.st_mode & 077) == 0 || ::fchmod(fd, 0600) == 0);
    int err = errno;
    ::close(fd);
    errno = err;
    if (!ok) throw_errno("cannot secure database file", path);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Statement

Statement::Statement(sqlite3* db, std::string_view sql) {
    const char* tail = nullptr;
    if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, &tail) != SQLITE_OK) {
        throw_sqlite(db, "prepare");
    }
    if (stmt_ == nullptr) throw StorageError("sqlite: prepare: empty statement");
    // Anything after the first statement would be silently ignored; treat it as a bug.
    for (const char* p = tail; p != nullptr && p < sql.data() + sql.size(); ++p) {
        if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r' && *p != ';') {
            sqlite3_finalize(stmt_);
            stmt_ = nullptr;
            throw StorageError("sqlite: prepare: more than one statement in: " + std::string(sql));
        }
    }
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
    if (this != &other) {
        sqlite3_finalize(stmt_);
        stmt_ = std::exchange(other.stmt_, nullptr);
    }
    return *this;
}

Statement& Statement::bind(int index, int64_t value) {
    if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) throw_sqlite(sqlite3_db_handle(stmt_), "bind");
    return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
    // A null data pointer would bind SQL NULL; an empty view must stay an empty string.
    const char* data = value.data() != nullptr ? value.data() : "";
    if (sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8) != SQLITE_OK) {
        throw_sqlite(sqlite3_db_handle(stmt_), "bind");
    }
    return *this;
}

Statement& Statement::bind_null(int index) {
    if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) throw_sqlite(sqlite3_db_handle(stmt_), "bind");
    return *this;
}

bool Statement::step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    std::string msg = std::string("sqlite: step: ") + sqlite3_errmsg(sqlite3_db_handle(stmt_));
    sqlite3_reset(stmt_);
    throw StorageError(msg);
}

void Statement::run() {
    if (step()) throw StorageError("sqlite: statement returned rows where none were expected");
}

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

int64_t Statement::column_int64(int index) const { return sqlite3_column_int64(stmt_, index); }

std::string Statement::column_text(int index) const {
    const auto* text = sqlite3_column_text(stmt_, index);
    if (text == nullptr) return {};
    return {reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_column_bytes(stmt_, index))};
}

bool Statement::column_is_null(int index) const { return sqlite3_column_type(stmt_, index) == SQLITE_NULL; }

// ---------------------------------------------------------------------------------------------
// Database

Database::Database(std::filesystem::path path) : path_(std::move(path)) {
    create_private_dirs(path_.parent_path());
    create_private_file(path_);
    // NOMUTEX: our own mutex serializes the connection, so SQLite's would be redundant.
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    if (sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
        std::string msg = "sqlite: open " + path_.string() + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory");
        sqlite3_close(db_);
        throw StorageError(msg);
    }
    try {
        configure();
        migrate();
    } catch (...) {
        sqlite3_close(db_);
        throw;
    }
}

Database::~Database() { sqlite3_close_v2(db_); }

std::unique_lock<std::recursive_mutex> Database::lock() const { return std::unique_lock(mutex_); }

Statement Database::prepare(std::string_view sql) {
    auto guard = lock();
    return Statement(db_, sql);
}

void Database::exec(std::string_view sql) {
    auto guard = lock();
    std::string owned(sql);  // sqlite3_exec needs NUL termination
    char* err = nullptr;
    if (sqlite3_exec(db_, owned.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = std::string("sqlite: exec: ") + (err ? err : sqlite3_errmsg(db_));
        sqlite3_free(err);
        throw StorageError(msg);
    }
}

int Database::user_version() {
    auto guard = lock();
    Statement st(db_, "PRAGMA user_version");
    return st.step() ? static_cast<int>(st.column_int64(0)) : 0;
}

int64_t Database::last_insert_rowid() {
    auto guard = lock();
    return sqlite3_last_insert_rowid(db_);
}

int64_t Database::changes() {
    auto guard = lock();
    return sqlite3_changes64(db_);
}

void Database::configure() {
    // Waits on another process's lock instead of failing at once (e.g. the CLI inspecting state).
    if (sqlite3_busy_timeout(db_, 5000) != SQLITE_OK) throw_sqlite(db_, "busy_timeout");
    {
        Statement st(db_, "PRAGMA journal_mode=WAL");
        if (!st.step() || st.column_text(0) != "wal") {
            throw StorageError("sqlite: cannot enable WAL journal mode on " + path_.string());
        }
    }
    // See the class comment for why FULL.
    exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
}

void Database::migrate() {
    const int latest = latest_schema_version();
    const int found = user_version();
    if (found > latest) {
        throw StorageError("database " + path_.string() + " has schema version " + std::to_string(found) +
                           " but this pincer build supports at most version " + std::to_string(latest) +
                           "; it was written by a newer pincer. Upgrade pincer (or restore an older backup) "
                           "instead of downgrading the data.");
    }
    for (const Migration& m : migrations()) {
        if (m.version <= found) continue;
        Transaction tx(*this);
        // Re-checked under the write lock: another process may have migrated meanwhile.
        if (user_version() >= m.version) continue;
        try {
            exec(m.sql);
        } catch (const StorageError& e) {
            throw StorageError("migration " + std::to_string(m.version) + " failed: " + e.what());
        }
        exec("PRAGMA user_version = " + std::to_string(m.version));
        tx.commit();
    }
}

// ---------------------------------------------------------------------------------------------
// Transaction

Transaction::Transaction(Database& db) : db_(db), lock_(db.lock()) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
    // A failed statement may already have rolled the transaction back (autocommit is on again).
    if (!done_ && sqlite3_get_autocommit(db_.handle()) == 0) {
        sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

void Transaction::commit() {
    db_.exec("COMMIT");
    done_ = true;
}

}  // namespace pincer::storage
