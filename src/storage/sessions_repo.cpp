#include "storage/sessions_repo.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <limits>

namespace pincer::storage {
namespace {

namespace json = boost::json;

constexpr std::string_view kColumns = "key, agent_id, session_id, created_at_ms, updated_at_ms, label, fields";

// Members of SessionEntry JSON that live in columns, never in `fields`.
constexpr std::array<std::string_view, 3> kColumnFields{"sessionId", "updatedAt", "label"};

json::object decode_fields(const std::string& text, const std::string& key) {
    std::error_code ec;
    json::value parsed = json::parse(text, ec);
    if (ec || !parsed.is_object()) throw StorageError("corrupt sessions.fields for " + key + ": " + text);
    return std::move(parsed.as_object());
}

bool is_column_field(std::string_view name) {
    return std::find(kColumnFields.begin(), kColumnFields.end(), name) != kColumnFields.end();
}

// `fields` without the column-backed members. Copied rather than erased: Boost.JSON's erase moves
// the last member into the hole, and stored entries should keep their member order.
json::object without_column_fields(const json::object& fields) {
    json::object out;
    out.reserve(fields.size());
    for (const auto& member : fields) {
        if (!is_column_field(member.key())) out.emplace(member.key(), member.value());
    }
    return out;
}

std::string encode_fields(const json::object& fields) { return json::serialize(without_column_fields(fields)); }

SessionEntry read_entry(const Statement& st) {
    SessionEntry e;
    e.key = st.column_text(0);
    e.agent_id = st.column_text(1);
    e.session_id = st.column_text(2);
    e.created_at_ms = st.column_int64(3);
    e.updated_at_ms = st.column_int64(4);
    if (!st.column_is_null(5)) e.label = st.column_text(5);
    e.fields = decode_fields(st.column_text(6), e.key);
    return e;
}

std::optional<SessionEntry> select_entry(Database& db, std::string_view key) {
    auto st = db.prepare("SELECT " + std::string(kColumns) + " FROM sessions WHERE key = ?1");
    st.bind(1, key);
    if (!st.step()) return std::nullopt;
    return read_entry(st);
}

// Throws LabelInUse when a row other than `key` holds `label`. Run inside the writing transaction
// (BEGIN IMMEDIATE holds the write lock, so nobody can take the label in between); the UNIQUE
// constraint stays as the backstop.
void check_label_free(Database& db, std::string_view label, std::string_view key) {
    auto st = db.prepare("SELECT 1 FROM sessions WHERE label = ?1 AND key <> ?2");
    st.bind(1, label).bind(2, key);
    if (st.step()) throw LabelInUse(std::string(label));
}

void validate_label(const std::optional<std::string>& label) {
    if (label && label->empty()) throw StorageError("session label must not be empty (use null to clear it)");
}

// Fills agent_id from an `agent:` key, or checks that the given one matches.
std::string resolve_agent_id(std::string_view key, std::string_view agent_id) {
    if (key.empty()) throw StorageError("session key must not be empty");
    auto from_key = agent_id_from_key(key);
    if (!from_key) {
        if (key.starts_with("agent:")) throw StorageError("malformed session key: " + std::string(key));
        if (agent_id.empty()) throw StorageError("agent id required for session key " + std::string(key));
        return std::string(agent_id);
    }
    if (!agent_id.empty() && agent_id != *from_key) {
        throw StorageError("session key " + std::string(key) + " belongs to agent " + *from_key + ", not " +
                           std::string(agent_id));
    }
    return *from_key;
}

// Writes every column of `e` (insert or full replace), keeping created_at_ms of an existing row.
void write_entry(Database& db, const SessionEntry& e) {
    auto st = db.prepare(
        "INSERT INTO sessions (key, agent_id, session_id, created_at_ms, updated_at_ms, label, fields) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (key) DO UPDATE SET agent_id = excluded.agent_id, "
        "session_id = excluded.session_id, updated_at_ms = excluded.updated_at_ms, label = excluded.label, "
        "fields = excluded.fields");
    st.bind(1, e.key).bind(2, e.agent_id).bind(3, e.session_id).bind(4, e.created_at_ms).bind(5, e.updated_at_ms);
    if (e.label) {
        st.bind(6, *e.label);
    } else {
        st.bind_null(6);
    }
    st.bind(7, encode_fields(e.fields));
    st.run();
}


// A search walks the updated_at index only when it matches at least this many times the rows the
// page needs (see SessionsRepo::list); an index walk costs roughly five sequential row reads.
constexpr size_t kIndexWalkMinMatchRatio = 5;

int64_t to_sql_limit(size_t n) {
    return static_cast<int64_t>(std::min<size_t>(n, std::numeric_limits<int64_t>::max()));
}

// The WHERE clause for `f`, assembled from fixed fragments: values are always bound, under fixed
// parameter numbers ?1..?5, so the statement text depends only on which filters are present.
std::string where_clause(const SessionFilter& f) {
    std::string sql;
    auto add = [&sql](std::string_view term) {
        sql += sql.empty() ? " WHERE " : " AND ";
        sql += term;
    };
    if (f.agent_id) add("agent_id = ?1");
    if (f.label) add("label = ?2");
    if (f.search) {
        // Checking displayName and subject means parsing `fields`, the expensive part of a search
        // scan. When the needle contains nothing the JSON serializer escapes, it must appear in the
        // raw text of any row whose displayName or subject matches, so that is checked first.
        const bool raw_prefilter = std::none_of(f.search->begin(), f.search->end(), [](char c) {
            return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
        });
        add(raw_prefilter ? "(instr(lower(key), ?3) > 0 OR instr(lower(coalesce(label, '')), ?3) > 0 "
                            "OR instr(lower(session_id), ?3) > 0 OR (instr(lower(fields), ?3) > 0 AND ("
                            "instr(lower(coalesce(json_extract(fields, '$.displayName'), '')), ?3) > 0 "
                            "OR instr(lower(coalesce(json_extract(fields, '$.subject'), '')), ?3) > 0)))"
                          : "(instr(lower(key), ?3) > 0 OR instr(lower(coalesce(label, '')), ?3) > 0 "
                            "OR instr(lower(session_id), ?3) > 0 "
                            "OR instr(lower(coalesce(json_extract(fields, '$.displayName'), '')), ?3) > 0 "
                            "OR instr(lower(coalesce(json_extract(fields, '$.subject'), '')), ?3) > 0)");
    }
    if (f.active_since_ms) add("updated_at_ms >= ?4");
    // Same expression as the partial index sessions_spawned_by, so the planner can use it.
    if (f.spawned_by) add("json_extract(fields, '$.spawnedBy') = ?5");
    return sql;
}

void bind_filter(Statement& st, const SessionFilter& f) {
    if (f.agent_id) st.bind(1, *f.agent_id);
    if (f.label) st.bind(2, *f.label);
    if (f.search) st.bind(3, util::ascii_lower(*f.search));
    if (f.active_since_ms) st.bind(4, *f.active_since_ms);
    if (f.spawned_by) st.bind(5, *f.spawned_by);
}

}  // namespace

LabelInUse::LabelInUse(const std::string& label) : StorageError("label already in use: " + label), label_(label) {}

json::object session_entry_json(const SessionEntry& entry) {
    json::object out = without_column_fields(entry.fields);
    out["sessionId"] = entry.session_id;
    out["updatedAt"] = entry.updated_at_ms;
    if (entry.label) out["label"] = *entry.label;
    return out;
}

std::optional<std::string> agent_id_from_key(std::string_view key) {
    constexpr std::string_view kPrefix = "agent:";
    if (!key.starts_with(kPrefix)) return std::nullopt;
    std::string_view rest = key.substr(kPrefix.size());
    size_t colon = rest.find(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    std::string_view tail = rest.substr(colon + 1);
    // The remainder needs at least one non-empty part.
    bool has_part = std::any_of(tail.begin(), tail.end(), [](char c) { return c != ':'; });
    if (!has_part) return std::nullopt;
    return std::string(rest.substr(0, colon));
}

std::optional<SessionEntry> SessionsRepo::get(std::string_view key) {
    auto guard = db_.lock();
    return select_entry(db_, key);
}

std::vector<std::string> SessionsRepo::keys_for_session_id(std::string_view session_id) {
    auto guard = db_.lock();
    auto st = db_.prepare("SELECT key FROM sessions WHERE session_id = ?1 ORDER BY key");
    st.bind(1, session_id);
    std::vector<std::string> keys;
    while (st.step()) keys.push_back(st.column_text(0));
    return keys;
}

SessionEntry SessionsRepo::upsert(const SessionEntry& entry) {
    SessionEntry e = entry;
    e.agent_id = resolve_agent_id(e.key, e.agent_id);
    if (e.session_id.empty()) throw StorageError("session " + e.key + ": sessionId must not be empty");
    validate_label(e.label);
    e.fields = without_column_fields(e.fields);
    Transaction tx(db_);
    if (e.label) check_label_free(db_, *e.label, e.key);
    if (auto existing = select_entry(db_, e.key)) {
        e.created_at_ms = existing->created_at_ms;
    } else if (e.created_at_ms == 0) {
        e.created_at_ms = e.updated_at_ms;
    }
    write_entry(db_, e);
    tx.commit();
    return e;
}

std::optional<SessionEntry> SessionsRepo::patch(std::string_view key, const json::object& patch, int64_t now_ms,
                                                std::string_view session_id_if_new) {
    for (std::string_view refused : {"key", "agentId", "updatedAt"}) {
        if (patch.contains(refused)) throw StorageError("session patch cannot set " + std::string(refused));
    }
    Transaction tx(db_);
    std::optional<SessionEntry> current = select_entry(db_, key);
    SessionEntry e;
    if (current) {
        e = std::move(*current);
    } else {
        if (session_id_if_new.empty()) return std::nullopt;
        e.key = std::string(key);
        e.agent_id = resolve_agent_id(key, {});
        e.session_id = std::string(session_id_if_new);
        e.created_at_ms = now_ms;
    }
    for (const auto& [name, value] : patch) {
        if (name == "label") {
            if (value.is_null()) {
                e.label.reset();
            } else if (value.is_string()) {
                e.label = std::string(value.as_string());
            } else {
                throw StorageError("session patch: label must be a string or null");
            }
        } else if (name == "sessionId") {
            if (!value.is_string() || value.as_string().empty()) {
                throw StorageError("session patch: sessionId must be a non-empty string");
            }
            e.session_id = std::string(value.as_string());
        } else if (value.is_null()) {
            e.fields.erase(name);
        } else {
            e.fields[name] = value;
        }
    }
    validate_label(e.label);
    if (e.label) check_label_free(db_, *e.label, e.key);
    e.updated_at_ms = now_ms;
    write_entry(db_, e);
    tx.commit();
    return e;
}

SessionPage SessionsRepo::list(const SessionFilter& filter) {
    const std::string where = where_clause(filter);
    auto guard = db_.lock();
    SessionPage page;
    {
        auto count = db_.prepare("SELECT count(*) FROM sessions" + where);
        bind_filter(count, filter);
        if (count.step()) page.total_count = static_cast<size_t>(count.column_int64(0));
    }
    if (filter.limit == 0 || filter.offset >= page.total_count) return page;
    // Walking the updated_at index visits about (offset + limit) * rows / matches rows, each a
    // random table lookup; a search (no index) with few matches would visit nearly all of them
    // that way (~230 ms for 11 matches among 100,000, against ~45 ms for a scan and a sort). So
    // when a search matches few rows, "+" keeps the planner off the index for ORDER BY.
    const bool scan_and_sort = filter.search && page.total_count / kIndexWalkMinMatchRatio <
                                                    std::min(filter.offset + filter.limit, page.total_count);
    auto st = db_.prepare("SELECT " + std::string(kColumns) + " FROM sessions" + where +
                          (scan_and_sort ? " ORDER BY +updated_at_ms DESC, key" : " ORDER BY updated_at_ms DESC, key") +
                          " LIMIT ?6 OFFSET ?7");
    bind_filter(st, filter);
    st.bind(6, to_sql_limit(filter.limit)).bind(7, to_sql_limit(filter.offset));
    page.rows.reserve(std::min(filter.limit, page.total_count - filter.offset));
    while (st.step()) page.rows.push_back(read_entry(st));
    return page;
}

bool SessionsRepo::remove(std::string_view key) {
    auto guard = db_.lock();
    auto st = db_.prepare("DELETE FROM sessions WHERE key = ?1");
    st.bind(1, key);
    st.run();
    return db_.changes() > 0;
}

std::optional<SessionEntry> SessionsRepo::reset(std::string_view key, std::string_view new_session_id, int64_t now_ms) {
    if (new_session_id.empty()) throw StorageError("session reset: new sessionId must not be empty");
    Transaction tx(db_);
    std::optional<SessionEntry> current = select_entry(db_, key);
    if (!current) return std::nullopt;
    SessionEntry e = std::move(*current);
    const json::value* source = e.fields.if_contains("modelOverrideSource");
    const bool user_selected = source != nullptr && source->is_string() && source->as_string() == "user";
    auto cleared = [user_selected](std::string_view name) {
        auto listed = [name](const auto& list) { return std::find(list.begin(), list.end(), name) != list.end(); };
        return listed(kResetClearedFields) || name.starts_with(kResetClearedPrefix) ||
               (!user_selected && listed(kResetModelOverrideFields));
    };
    json::object f;
    f.reserve(e.fields.size() + 4);
    for (const auto& member : e.fields) {
        if (!cleared(member.key())) f.emplace(member.key(), member.value());
    }
    f["totalTokensFresh"] = true;
    f["systemSent"] = false;
    f["abortedLastRun"] = false;
    f["sessionStartedAt"] = now_ms;
    e.fields = std::move(f);
    e.session_id = std::string(new_session_id);
    e.updated_at_ms = now_ms;
    write_entry(db_, e);
    tx.commit();
    return e;
}

}  // namespace pincer::storage
