#pragma once
/// Session transcripts in the SQLite store: the entries of OpenClaw's `<sessionId>.jsonl`
/// (methods.md §4.3), one row each, ordered by a per-session seq and linked into a tree by
/// id/parentId. Export and import speak OpenClaw's JSONL (version 3). Every method blocks on disk
/// (appends fsync before returning, so a returned append survives kill -9 and power loss); call
/// it off the network thread. All methods throw StorageError on SQLite failure or invalid input.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/db.hpp"

namespace pincer::storage {

/// A malformed JSONL transcript; line() is 1-based. what() starts with "transcript line <n>: ".
class TranscriptImportError : public StorageError {
public:
    TranscriptImportError(size_t line, const std::string& message);
    size_t line() const { return line_; }

private:
    size_t line_;
};

struct TranscriptEntry {
    int64_t seq = 0;       // assigned by append: 1, 2, 3, ... per session
    std::string entry_id;  // the line's `id`; append generates a uuid when empty
    /// The line's `parentId`; nullopt is JSON null. On append with ParentLinking::kPrevious,
    /// nullopt means "the previous entry of the session" (null for the first).
    std::optional<std::string> parent_id;
    int64_t ts_ms = 0;             // the line's `timestamp`
    std::string type = "message";  // message | custom_message | custom | compaction | branch_summary | ...
    /// The message's role for type "message" (derived from payload.role when empty); else unset.
    std::optional<std::string> role;
    /// JSON object text. For type "message": the pi-ai message (the line's `message`). For any
    /// other type: the line's members other than type, id, parentId and timestamp.
    std::string payload = "{}";
};

/// The JSONL header line `{"type":"session","version":3,"id","timestamp","cwd","parentSession"?}`.
struct TranscriptHeader {
    std::string session_id;
    int64_t timestamp_ms = 0;
    std::string cwd;
    std::optional<std::string> parent_session;
};

struct ImportedTranscript {
    TranscriptHeader header;
    std::vector<TranscriptEntry> entries;  // seq 0; ids and parentIds as in the file
};

enum class ParentLinking {
    kPrevious,  // a nullopt parent_id becomes the previous entry's id: the chain stays intact
    kAsGiven,   // parent_id stored as given (import: keeps the file's tree, legacy null parents)
};

/// `2026-01-02T03:04:05.678Z` (UTC, milliseconds), as OpenClaw's transcripts write timestamps.
std::string iso8601_from_ms(int64_t ms);
/// Parses `YYYY-MM-DDTHH:MM:SS[.fff...](Z|±HH:MM)`; nullopt if malformed.
std::optional<int64_t> ms_from_iso8601(std::string_view text);

class TranscriptsRepo {
public:
    /// `db` must outlive the repository.
    explicit TranscriptsRepo(Database& db) : db_(db) {}

    /// Appends `entries` in order in one transaction and returns them as stored (seq, ids,
    /// parents, role filled in). Throws StorageError, writing nothing, when session_id is empty,
    /// a payload is not a JSON object (or, for a non-message type, uses a reserved member name),
    /// a type is empty, an id repeats one in the session, or a non-null parent_id names no entry
    /// of the session.
    std::vector<TranscriptEntry> append(std::string_view session_id, std::vector<TranscriptEntry> entries,
                                        ParentLinking linking = ParentLinking::kPrevious);

    /// The last `limit` entries, oldest first.
    std::vector<TranscriptEntry> tail(std::string_view session_id, size_t limit);
    /// Entries with seq > after_seq, oldest first, at most `limit`.
    std::vector<TranscriptEntry> after(std::string_view session_id, int64_t after_seq, size_t limit);
    std::optional<TranscriptEntry> find(std::string_view session_id, std::string_view entry_id);
    size_t count(std::string_view session_id);

    /// Replaces one entry's payload (finalising a streamed assistant message); for a message the
    /// role is re-derived. False when no such entry. Throws StorageError on a non-object payload.
    bool update_payload(std::string_view session_id, std::string_view entry_id, std::string_view payload_json);

    /// The session as OpenClaw JSONL: the header line (id = session_id), then one line per entry in
    /// seq order, each ending in '\n'. An unknown session gives just the header.
    std::string export_jsonl(std::string_view session_id, const TranscriptHeader& header);
    /// Parses OpenClaw JSONL (header line first, version <= 3; blank lines skipped). Keeps ids and
    /// parentIds; an entry without `id` (legacy linear files) gets a uuid and the previous entry as
    /// parent. Throws TranscriptImportError naming the line on invalid JSON, a missing or bad
    /// header, a missing type or timestamp, a timestamp outside years 0000-9999 (export could not
    /// write it back), a number beyond a double's range, a message line without a `message`
    /// object, a repeated id, or a parentId that names no earlier entry. Writes nothing: append
    /// the result with ParentLinking::kAsGiven.
    static ImportedTranscript import_jsonl(std::string_view text);

    /// Deletes the entries with seq < first_kept_seq (sessions.compact's line trim) in one
    /// transaction; the first kept entry becomes a root (parentId null) so the tree stays valid.
    /// Returns how many entries were deleted.
    size_t trim_before(std::string_view session_id, int64_t first_kept_seq);

    /// Deletes the session's transcript; returns how many entries.
    size_t remove_session(std::string_view session_id);

private:
    Database& db_;
};

}  // namespace pincer::storage
