#pragma once
/// Session entries (methods.md §4.2) in the SQLite store, one row per session key. The columns hold
/// what listing filters, sorts or enforces on (key, agent, sessionId, times, label); every other
/// SessionEntry field stays in one JSON object, so new fields need no migration. Every method
/// blocks on disk (writes fsync); call it off the network thread. All methods throw StorageError
/// on SQLite failure, invalid input or a corrupt stored row.
#include <array>
#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/db.hpp"

namespace pincer::storage {

/// Another session already has this label (labels are unique across the store). what() is
/// OpenClaw's own message, `label already in use: <label>`, so a method can return it as is.
class LabelInUse : public StorageError {
public:
    explicit LabelInUse(const std::string& label);
    const std::string& label() const { return label_; }

private:
    std::string label_;
};

struct SessionEntry {
    std::string key;         // canonical `agent:<agentId>:<rest>` (or a special key such as `global`)
    std::string agent_id;    // derived from an `agent:` key when empty
    std::string session_id;  // uuid of the current transcript; changes on reset
    int64_t created_at_ms = 0;
    int64_t updated_at_ms = 0;  // SessionEntry.updatedAt
    std::optional<std::string> label;
    /// Every other SessionEntry field, camelCase as on the wire (thinkingLevel, inputTokens, ...).
    /// sessionId, updatedAt and label are columns: members of those names here are ignored.
    boost::json::object fields;
};

/// The entry as OpenClaw's SessionEntry JSON: `fields` plus sessionId, updatedAt and label.
boost::json::object session_entry_json(const SessionEntry& entry);

/// The agent id of a canonical key `agent:<agentId>:<rest>` (at least three non-empty parts);
/// nullopt for any other key.
std::optional<std::string> agent_id_from_key(std::string_view key);

/// sessions.list filters (methods.md §4.4). Absent filters match everything.
struct SessionFilter {
    std::optional<std::string> agent_id;
    std::optional<std::string> label;  // exact match
    /// Case-insensitive (ASCII) substring of key, label, displayName, subject or sessionId.
    std::optional<std::string> search;
    std::optional<int64_t> active_since_ms;  // updated_at_ms >= this
    std::optional<std::string> spawned_by;   // fields.spawnedBy == this (children of a session)
    size_t limit = 100;
    size_t offset = 0;
};

struct SessionPage {
    std::vector<SessionEntry> rows;  // most recently updated first, ties by key
    size_t total_count = 0;          // rows matching the filter, ignoring limit and offset
};

class SessionsRepo {
public:
    /// Fields sessions.reset removes (methods.md §4.8): token and cost counters, per-transcript
    /// state (compaction, memory flush, transcript file) and the last run's state. Fields whose
    /// name starts with kResetClearedPrefix (fallbackNoticeSelectedModel, ...) go too.
    static constexpr auto kResetClearedFields = std::to_array<std::string_view>({
        "inputTokens",
        "outputTokens",
        "totalTokens",
        "cacheRead",
        "cacheWrite",
        "estimatedCostUsd",
        "compactionCount",
        "compactionCheckpoints",
        "memoryFlushAt",
        "memoryFlushCompactionCount",
        "memoryFlushContextHash",
        "sessionFile",
        "status",
        "startedAt",
        "endedAt",
        "runtimeMs",
        "abortCutoffMessageSid",
        "abortCutoffTimestamp",
        "liveModelSwitchPending",
    });
    static constexpr std::string_view kResetClearedPrefix = "fallbackNotice";
    /// Model override fields reset also removes, unless modelOverrideSource is "user".
    static constexpr auto kResetModelOverrideFields = std::to_array<std::string_view>({
        "providerOverride",
        "modelOverride",
        "modelOverrideSource",
        "authProfileOverride",
        "authProfileOverrideSource",
        "authProfileOverrideCompactionCount",
    });

    /// `db` must outlive the repository.
    explicit SessionsRepo(Database& db) : db_(db) {}

    std::optional<SessionEntry> get(std::string_view key);
    /// Keys whose current transcript is `session_id` (sessions.resolve by sessionId), sorted.
    std::vector<std::string> keys_for_session_id(std::string_view session_id);

    /// Inserts or replaces the whole entry in one transaction and returns what was stored. An
    /// existing row keeps its created_at_ms; a new one gets entry.created_at_ms, or updated_at_ms
    /// when that is 0. Throws LabelInUse when another key has the label; StorageError when key or
    /// session_id is empty, the label is empty, an `agent:` key is malformed or names a different
    /// agent than agent_id, or agent_id is empty for a non-agent key.
    SessionEntry upsert(const SessionEntry& entry);

    /// Applies `patch` to the top-level fields in one transaction: a JSON null removes the field,
    /// any other value replaces it (objects are replaced, not merged). "label" (string or null)
    /// and "sessionId" (non-empty string) go to their columns; "key", "agentId" and "updatedAt"
    /// are refused. Sets updated_at_ms = now_ms. When the key doesn't exist: creates it with
    /// `session_id_if_new` (created_at_ms = now_ms) when that is non-empty, else returns nullopt.
    /// Throws LabelInUse when another key has the label; nothing is written on any error.
    std::optional<SessionEntry> patch(std::string_view key, const boost::json::object& patch, int64_t now_ms,
                                      std::string_view session_id_if_new = {});

    /// One page plus the total match count, read under one lock. Pages walk the
    /// (updated_at_ms DESC, key) indexes, so cost grows with offset + limit, not with the table.
    SessionPage list(const SessionFilter& filter);

    /// False when no such key.
    bool remove(std::string_view key);

    /// sessions.reset's store half (methods.md §4.8), in one transaction: session_id =
    /// new_session_id, updated_at_ms = now_ms; removes kResetClearedFields (and the prefix), and
    /// kResetModelOverrideFields unless modelOverrideSource is "user"; sets totalTokensFresh = true,
    /// systemSent = false, abortedLastRun = false, sessionStartedAt = now_ms. Keeps everything
    /// else: label, displayName, toggles (thinking/verbose/reasoning/elevated/exec*/sendPolicy/...),
    /// queue settings, routing, lineage, contextTokens and the last runtime model/modelProvider.
    /// Returns the new entry; nullopt when no such key.
    std::optional<SessionEntry> reset(std::string_view key, std::string_view new_session_id, int64_t now_ms);

private:
    Database& db_;
};

}  // namespace pincer::storage
