#pragma once
/// `chat.send`, `chat.history`, `chat.abort`, `chat.inject`, `agent` and `agent.wait`
/// (methods.md §1–2) over the ChatRuntime.
#include <cstddef>
#include <vector>

#include "core/json.hpp"
#include "dispatch/method_table.hpp"
#include "methods/chat_runs.hpp"
#include "storage/transcripts_repo.hpp"

namespace pincer::methods {

/// chat.history's per-text-field cap when the request gives no `maxChars` (the reference's default).
inline constexpr size_t kDefaultHistoryMaxChars = 8000;
/// A single projected message larger than this is replaced by a placeholder.
inline constexpr size_t kMaxHistoryMessageBytes = 128 * 1024;

/// One transcript message as chat.history shows it (methods.md §1.3): image data removed,
/// thinking signatures and tool `details` dropped, usage reduced, every text clipped to
/// `max_chars` with a `…(truncated)…` suffix, and `__openclaw: {id, seq}` attached.
json::object project_message(const storage::TranscriptEntry& entry, size_t max_chars);

/// chat.history's `messages`: projected message entries oldest first, assistant `NO_REPLY`-only
/// turns dropped, compaction entries as a synthetic system row, oversized messages replaced by a
/// placeholder, and the oldest dropped until the serialised array fits `max_bytes`.
json::array project_history(const std::vector<storage::TranscriptEntry>& entries, size_t max_chars, size_t max_bytes);

void register_chat(dispatch::MethodTable& table, ChatRuntime& runtime);
/// `sessions.compact` (methods.md §4.10): the line trim with `maxLines`, else a model-written summary.
void register_sessions_compact(dispatch::MethodTable& table, ChatRuntime& runtime);

}  // namespace pincer::methods
