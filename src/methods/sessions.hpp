#pragma once
/// `sessions.list`, `sessions.get`, `sessions.resolve`, `sessions.patch`, `sessions.reset`,
/// `sessions.delete`, `sessions.preview`, `sessions.describe` and `sessions.subscribe` /
/// `sessions.unsubscribe` (methods.md §4.4–4.9, §4.11), answered from the SQLite session store and
/// transcripts. Writes send `sessions.changed` to subscribed connections after the reply.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/json.hpp"
#include "dispatch/gateway.hpp"
#include "dispatch/method_table.hpp"
#include "methods/config.hpp"
#include "storage/sessions_repo.hpp"
#include "storage/transcripts_repo.hpp"

namespace pincer::methods {

/// Request-key canonicalisation (methods.md §4.1): trimmed and lowercased; empty or `main` →
/// `agent:main:main`; `agent:` keys and the special `global`/`unknown` keys stay; any other `x`
/// becomes `agent:main:x`.
std::string canonical_session_key(std::string_view key);

/// A `sessions.changed` payload `{sessionKey, reason, ts, sessionId?, updatedAt?, kind?, label?}`.
json::object session_changed_event(const std::string& key, std::string_view reason, int64_t ts,
                                   const storage::SessionEntry* entry);

/// Sends `sessions.changed` as the reference does (methods.md §0.2, §4.11): a *targeted* event,
/// only to connections that called `sessions.subscribe`, without a frame `seq`, dropped for slow
/// consumers. Network thread only.
void broadcast_sessions_changed(dispatch::Gateway& gateway, const json::object& payload);

/// sessions.list's `defaults` `{modelProvider, model, contextTokens}` (methods.md §4.4): the
/// default agent's primary model as a run would resolve it (nulls when none is usable).
json::object session_defaults(const json::value& config_root);

/// SessionRow (methods.md §4.4) from a stored entry: key, kind, updatedAt, sessionId and the
/// SessionRow fields the entry holds.
json::object session_row(const storage::SessionEntry& entry);

/// The store patch (SessionsRepo::patch) for sessions.patch params (methods.md §4.7): absent =
/// unchanged, null = clear, a value is validated and normalised. `current` is the stored entry, if
/// any (lineage fields are write-once). Throws core::RpcException (INVALID_REQUEST naming the field).
json::object build_session_patch(const json::object& params, const std::string& key,
                                 const std::optional<storage::SessionEntry>& current);

/// One sessions.preview row `{key, status, items:[{role, text}]}` from the last `limit` transcript
/// entries of `key`'s session, each text clipped to `max_chars`. Never throws. Blocks on disk.
json::object session_preview(storage::SessionsRepo& sessions, storage::TranscriptsRepo& transcripts,
                             const std::string& key, size_t limit, size_t max_chars);

/// Characters of sessions.list's derivedTitle and lastMessagePreview.
inline constexpr size_t kDerivedTitleChars = 60;
inline constexpr size_t kLastMessageChars = 120;
/// Rows of one sessions.list page that get derivedTitle / lastMessagePreview (as the reference).
inline constexpr size_t kListExtrasRows = 100;

/// sessions.list's includeDerivedTitles (first user message) and includeLastMessage (latest user
/// or assistant text) for one row. Never throws. Blocks on disk.
void add_list_extras(storage::TranscriptsRepo& transcripts, const std::string& session_id, bool derived_title,
                     bool last_message, json::object& row);

/// Registers the methods above. The repositories and `config` must outlive the table.
void register_sessions(dispatch::MethodTable& table, dispatch::Gateway& gateway, storage::SessionsRepo& sessions,
                       storage::TranscriptsRepo& transcripts, ConfigService& config);

}  // namespace pincer::methods
