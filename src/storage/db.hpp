#pragma once
/// The SQLite connection behind every durable store: opening, pragmas, schema migrations and
/// thin RAII wrappers over prepared statements and transactions. Raw C API, no ORM.
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace pincer::storage {

/// Any SQLite failure (or a refused open). The message carries SQLite's own text; callers map it
/// to a protocol error.
class StorageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// One schema step. Versions start at 1 and increase by exactly 1; `PRAGMA user_version` records
/// the last one applied.
struct Migration {
    int version;
    std::string_view sql;
};

/// Every migration this binary knows, in order.
std::span<const Migration> migrations();
/// The schema version a freshly opened database ends at (the last migration's version).
int latest_schema_version();

/// A prepared statement. Bind indexes are 1-based (SQLite's), column indexes 0-based. Not
/// thread-safe on its own: use it only while holding Database::lock() or a Transaction.
class Statement {
public:
    Statement(sqlite3* db, std::string_view sql);
    ~Statement();
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // Deliberately no bool overload: a string literal would silently convert to bool.
    Statement& bind(int index, int64_t value);
    Statement& bind(int index, std::string_view value);
    Statement& bind_null(int index);

    /// Advances one row: true when a row is available, false when the statement is done.
    /// Throws StorageError on any other result (and resets the statement).
    bool step();
    /// Runs a statement that returns no rows to completion; throws if it yields a row.
    void run();
    /// Rewinds for re-execution and clears bindings.
    void reset();

    int64_t column_int64(int index) const;
    /// Column text; NULL reads as "".
    std::string column_text(int index) const;
    bool column_is_null(int index) const;

private:
    sqlite3_stmt* stmt_ = nullptr;
};

/// One connection to `<state_dir>/pincer.sqlite`. Opening creates missing parent directories
/// (0700) and the file (0600, tightened if looser), sets WAL, synchronous=FULL, foreign keys and a
/// 5 s busy timeout, then applies pending migrations, each in its own transaction.
///
/// synchronous=FULL rather than WAL's usual NORMAL: NORMAL keeps the database consistent after a
/// crash but may lose the last commits on power loss, and this store acknowledges pairing
/// approvals and device tokens that a client keeps; forgetting them would force a re-pair.
///
/// Thread-safety: one connection guarded by a recursive mutex. Every method locks it; callers
/// that run several statements hold lock() (or a Transaction) across them.
class Database {
public:
    /// Throws StorageError when the file can't be created or opened, a pragma or migration fails,
    /// or the file's schema version is newer than latest_schema_version().
    explicit Database(std::filesystem::path path);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    [[nodiscard]] std::unique_lock<std::recursive_mutex> lock() const;

    /// Prepares `sql` on this connection; throws StorageError on a syntax or schema error.
    Statement prepare(std::string_view sql);
    /// Runs one or more statements that return no rows.
    void exec(std::string_view sql);

    /// PRAGMA user_version, i.e. the last migration applied.
    int user_version();
    int64_t last_insert_rowid();
    /// Rows changed by the most recent INSERT/UPDATE/DELETE.
    int64_t changes();

    const std::filesystem::path& path() const { return path_; }
    /// For diagnostics and tests; use under lock().
    sqlite3* handle() { return db_; }

private:
    void configure();
    void migrate();

    std::filesystem::path path_;
    sqlite3* db_ = nullptr;
    mutable std::recursive_mutex mutex_;
};

/// BEGIN IMMEDIATE on construction (takes the write lock up front so read-then-write sequences
/// can't fail half-way with SQLITE_BUSY), COMMIT on commit(), ROLLBACK on destruction otherwise.
/// Holds Database::lock() for its whole lifetime. Not nestable.
class Transaction {
public:
    explicit Transaction(Database& db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    /// Throws StorageError if COMMIT fails; the destructor then rolls back.
    void commit();

private:
    Database& db_;
    std::unique_lock<std::recursive_mutex> lock_;
    bool done_ = false;
};

}  // namespace pincer::storage
