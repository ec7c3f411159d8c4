#pragma once
/// Pincer-specific `sessions.export` and `sessions.import`: a session's transcript as OpenClaw's
/// JSONL file (methods.md §4.3), so conversations move between Pincer and OpenClaw installs.
#include "dispatch/gateway.hpp"
#include "dispatch/method_table.hpp"
#include "methods/config.hpp"
#include "storage/sessions_repo.hpp"
#include "storage/transcripts_repo.hpp"

namespace pincer::methods {

/// Registers:
/// - `sessions.export` (operator.read) `{key}` → `{key, sessionId, jsonl}`; the header's cwd is the
///   session agent's workspace when `config` is given, else "".
/// - `sessions.import` (operator.admin) `{key, jsonl, replace?}` → `{ok, key, sessionId, entries}`;
///   refuses to overwrite a non-empty transcript without replace:true, keeps the file's session id
///   unless another session uses it, and broadcasts `sessions.changed` (reason "import").
/// Neither is advertised in hello-ok (the protocol schema does not know them). The repositories
/// (and `config`, when given) must outlive the table.
void register_sessions_transfer(dispatch::MethodTable& table, dispatch::Gateway& gateway,
                                storage::SessionsRepo& sessions, storage::TranscriptsRepo& transcripts,
                                const ConfigService* config = nullptr);

}  // namespace pincer::methods
