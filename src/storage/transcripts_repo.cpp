#include "storage/transcripts_repo.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <limits>
#include <unordered_set>

#include "core/json.hpp"
#include "util/crypto.hpp"

namespace pincer::storage {
namespace {

namespace json = boost::json;

constexpr int kTranscriptVersion = 3;

// Export writes timestamps as ISO-8601 with a four-digit year, which is all import reads: a
// timestamp outside years 0000-9999 would export to a line that does not import again.
constexpr int64_t kMinTimestampMs = -62'167'219'200'000;  // 0000-01-01T00:00:00.000Z
constexpr int64_t kMaxTimestampMs = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z

// Line members that are entry columns; a non-message payload must not repeat them.
constexpr std::array<std::string_view, 4> kLineMembers{"type", "id", "parentId", "timestamp"};

constexpr std::string_view kEntryColumns = "seq, entry_id, parent_id, ts_ms, type, role, payload";

TranscriptEntry read_entry(const Statement& st) {
    TranscriptEntry e;
    e.seq = st.column_int64(0);
    e.entry_id = st.column_text(1);
    if (!st.column_is_null(2)) e.parent_id = st.column_text(2);
    e.ts_ms = st.column_int64(3);
    e.type = st.column_text(4);
    if (!st.column_is_null(5)) e.role = st.column_text(5);
    e.payload = st.column_text(6);
    return e;
}

std::vector<TranscriptEntry> read_entries(Statement& st) {
    std::vector<TranscriptEntry> out;
    while (st.step()) out.push_back(read_entry(st));
    return out;
}

int64_t to_sql_limit(size_t n) {
    return static_cast<int64_t>(std::min<size_t>(n, std::numeric_limits<int64_t>::max()));
}

std::string quote(std::string_view s) { return json::serialize(json::value(json::string(s))); }

std::optional<std::string> role_of(const json::object& message) {
    const json::value* role = message.if_contains("role");
    if (role == nullptr || !role->is_string()) return std::nullopt;
    return std::string(role->as_string());
}

// Validates and canonicalises an entry's payload (compact JSON object text) and fills the role
// of a message from it.
void normalize_payload(TranscriptEntry& e) {
    std::error_code ec;
    json::value parsed = json::parse(e.payload, ec);
    if (ec || !parsed.is_object()) {
        throw StorageError("transcript entry " + e.entry_id + ": payload is not a JSON object");
    }
    const json::object& obj = parsed.as_object();
    if (e.type == "message") {
        if (!e.role) e.role = role_of(obj);
    } else {
        for (auto name : kLineMembers) {
            if (obj.contains(name)) {
                throw StorageError("transcript entry " + e.entry_id + ": a " + e.type + " payload must not contain `" +
                                   std::string(name) + "`");
            }
        }
    }
    e.payload = json::serialize(obj);
}

bool entry_exists(Statement& st, std::string_view session_id, std::string_view entry_id) {
    st.reset();
    st.bind(1, session_id).bind(2, entry_id);
    return st.step();
}

// Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard Hinnant's algorithms).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2 ? 1 : 0;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int64_t& y, int64_t& m, int64_t& d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp + (mp < 10 ? 3 : -9);
    y = yoe + era * 400 + (m <= 2 ? 1 : 0);
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

// Reads exactly `n` digits at `pos`.
bool read_digits(std::string_view s, size_t& pos, size_t n, int64_t& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (size_t i = 0; i < n; ++i) {
        char c = s[pos + i];
        if (c < '0' || c > '9') return false;
        out = out * 10 + (c - '0');
    }
    pos += n;
    return true;
}

bool expect(std::string_view s, size_t& pos, char c) {
    if (pos >= s.size() || s[pos] != c) return false;
    ++pos;
    return true;
}

}  // namespace

TranscriptImportError::TranscriptImportError(size_t line, const std::string& message)
    : StorageError("transcript line " + std::to_string(line) + ": " + message), line_(line) {}

std::string iso8601_from_ms(int64_t ms) {
    const int64_t days = floor_div(ms, 86'400'000);
    const int64_t rem = ms - days * 86'400'000;
    int64_t y = 0, mo = 0, d = 0;
    civil_from_days(days, y, mo, d);
    char buf[96];  // room for any int64 year, keeps -Wformat-truncation quiet
    std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ", static_cast<long long>(y),
                  static_cast<long long>(mo), static_cast<long long>(d), static_cast<long long>(rem / 3'600'000),
                  static_cast<long long>(rem / 60'000 % 60), static_cast<long long>(rem / 1000 % 60),
                  static_cast<long long>(rem % 1000));
    return buf;
}

std::optional<int64_t> ms_from_iso8601(std::string_view s) {
    size_t pos = 0;
    int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    if (!read_digits(s, pos, 4, y) || !expect(s, pos, '-') || !read_digits(s, pos, 2, mo) || !expect(s, pos, '-') ||
        !read_digits(s, pos, 2, d)) {
        return std::nullopt;
    }
    if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')) return std::nullopt;
    ++pos;
    if (!read_digits(s, pos, 2, h) || !expect(s, pos, ':') || !read_digits(s, pos, 2, mi) || !expect(s, pos, ':') ||
        !read_digits(s, pos, 2, sec)) {
        return std::nullopt;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
    int64_t frac_ms = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        size_t digits = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (digits < 3) frac_ms = frac_ms * 10 + (s[pos] - '0');
            ++digits;
            ++pos;
        }
        if (digits == 0) return std::nullopt;
        for (size_t i = digits; i < 3; ++i) frac_ms *= 10;
    }
    int64_t offset_min = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        const int64_t sign = s[pos] == '-' ? -1 : 1;
        ++pos;
        int64_t oh = 0, om = 0;
        if (!read_digits(s, pos, 2, oh)) return std::nullopt;
        if (pos < s.size() && s[pos] == ':') ++pos;
        if (!read_digits(s, pos, 2, om) || oh > 23 || om > 59) return std::nullopt;
        offset_min = sign * (oh * 60 + om);
    } else {
        return std::nullopt;  // a timestamp without a zone is ambiguous
    }
    if (pos != s.size()) return std::nullopt;
    const int64_t seconds = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    return seconds * 1000 + frac_ms;
}

std::vector<TranscriptEntry> TranscriptsRepo::append(std::string_view session_id, std::vector<TranscriptEntry> entries,
                                                     ParentLinking linking) {
    if (session_id.empty()) throw StorageError("transcript append: session id must not be empty");
    Transaction tx(db_);
    int64_t seq = 0;
    std::optional<std::string> previous;
    {
        auto last =
            db_.prepare("SELECT seq, entry_id FROM transcript_entries WHERE session_id = ?1 ORDER BY seq DESC LIMIT 1");
        last.bind(1, session_id);
        if (last.step()) {
            seq = last.column_int64(0);
            previous = last.column_text(1);
        }
    }
    auto exists = db_.prepare("SELECT 1 FROM transcript_entries WHERE session_id = ?1 AND entry_id = ?2");
    auto insert = db_.prepare(
        "INSERT INTO transcript_entries (session_id, seq, entry_id, parent_id, ts_ms, type, role, payload) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    std::unordered_set<std::string> batch_ids;
    for (TranscriptEntry& e : entries) {
        if (e.entry_id.empty()) e.entry_id = util::uuid_v4();
        if (e.type.empty()) throw StorageError("transcript entry " + e.entry_id + ": type must not be empty");
        normalize_payload(e);
        if (batch_ids.contains(e.entry_id) || entry_exists(exists, session_id, e.entry_id)) {
            throw StorageError("transcript entry id " + e.entry_id + " already exists in session " +
                               std::string(session_id));
        }
        if (linking == ParentLinking::kPrevious && !e.parent_id) {
            e.parent_id = previous;
        } else if (e.parent_id && !batch_ids.contains(*e.parent_id) &&
                   !entry_exists(exists, session_id, *e.parent_id)) {
            throw StorageError("transcript entry " + e.entry_id + ": parent " + *e.parent_id +
                               " is not an entry of session " + std::string(session_id));
        }
        e.seq = ++seq;
        insert.reset();
        insert.bind(1, session_id)
            .bind(2, e.seq)
            .bind(3, e.entry_id)
            .bind(5, e.ts_ms)
            .bind(6, e.type)
            .bind(8, e.payload);
        if (e.parent_id) {
            insert.bind(4, *e.parent_id);
        } else {
            insert.bind_null(4);
        }
        if (e.role) {
            insert.bind(7, *e.role);
        } else {
            insert.bind_null(7);
        }
        insert.run();
        batch_ids.insert(e.entry_id);
        previous = e.entry_id;
    }
    tx.commit();
    return entries;
}

std::vector<TranscriptEntry> TranscriptsRepo::tail(std::string_view session_id, size_t limit) {
    auto guard = db_.lock();
    auto st = db_.prepare("SELECT " + std::string(kEntryColumns) +
                          " FROM transcript_entries WHERE session_id = ?1 ORDER BY seq DESC LIMIT ?2");
    st.bind(1, session_id).bind(2, to_sql_limit(limit));
    std::vector<TranscriptEntry> out = read_entries(st);
    std::reverse(out.begin(), out.end());
    return out;
}

std::vector<TranscriptEntry> TranscriptsRepo::after(std::string_view session_id, int64_t after_seq, size_t limit) {
    auto guard = db_.lock();
    auto st = db_.prepare("SELECT " + std::string(kEntryColumns) +
                          " FROM transcript_entries WHERE session_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3");
    st.bind(1, session_id).bind(2, after_seq).bind(3, to_sql_limit(limit));
    return read_entries(st);
}

std::optional<TranscriptEntry> TranscriptsRepo::find(std::string_view session_id, std::string_view entry_id) {
    auto guard = db_.lock();
    auto st = db_.prepare("SELECT " + std::string(kEntryColumns) +
                          " FROM transcript_entries WHERE session_id = ?1 AND entry_id = ?2");
    st.bind(1, session_id).bind(2, entry_id);
    if (!st.step()) return std::nullopt;
    return read_entry(st);
}

size_t TranscriptsRepo::count(std::string_view session_id) {
    auto guard = db_.lock();
    auto st = db_.prepare("SELECT count(*) FROM transcript_entries WHERE session_id = ?1");
    st.bind(1, session_id);
    return st.step() ? static_cast<size_t>(st.column_int64(0)) : 0;
}

bool TranscriptsRepo::update_payload(std::string_view session_id, std::string_view entry_id,
                                     std::string_view payload_json) {
    std::error_code ec;
    json::value parsed = json::parse(payload_json, ec);
    if (ec || !parsed.is_object()) {
        throw StorageError("transcript entry " + std::string(entry_id) + ": payload is not a JSON object");
    }
    const std::string payload = json::serialize(parsed);
    std::optional<std::string> role = role_of(parsed.as_object());
    Transaction tx(db_);
    std::string type;
    {
        auto st = db_.prepare("SELECT type FROM transcript_entries WHERE session_id = ?1 AND entry_id = ?2");
        st.bind(1, session_id).bind(2, entry_id);
        if (!st.step()) return false;
        type = st.column_text(0);
    }
    if (type != "message") {
        for (auto name : kLineMembers) {
            if (parsed.as_object().contains(name)) {
                throw StorageError("transcript entry " + std::string(entry_id) + ": a " + type +
                                   " payload must not contain `" + std::string(name) + "`");
            }
        }
    }
    auto st = db_.prepare(
        "UPDATE transcript_entries SET payload = ?3, role = CASE WHEN type = 'message' THEN ?4 ELSE role END "
        "WHERE session_id = ?1 AND entry_id = ?2");
    st.bind(1, session_id).bind(2, entry_id).bind(3, payload);
    if (role) {
        st.bind(4, *role);
    } else {
        st.bind_null(4);
    }
    st.run();
    tx.commit();
    return true;
}

std::string TranscriptsRepo::export_jsonl(std::string_view session_id, const TranscriptHeader& header) {
    json::object head;
    head["type"] = "session";
    head["version"] = kTranscriptVersion;
    head["id"] = session_id;
    head["timestamp"] = iso8601_from_ms(header.timestamp_ms);
    head["cwd"] = header.cwd;
    if (header.parent_session) head["parentSession"] = *header.parent_session;
    std::string out = json::serialize(head);
    out += '\n';

    auto guard = db_.lock();
    auto st = db_.prepare(
        "SELECT entry_id, parent_id, ts_ms, type, payload FROM transcript_entries WHERE session_id = ?1 ORDER BY seq");
    st.bind(1, session_id);
    while (st.step()) {
        const std::string type = st.column_text(3);
        const std::string payload = st.column_text(4);
        // Payloads are stored canonical (normalize_payload), so they can be spliced as text
        // instead of being parsed and re-serialised line by line.
        if (payload.size() < 2 || payload.front() != '{' || payload.back() != '}') {
            throw StorageError("corrupt transcript payload in session " + std::string(session_id) + " entry " +
                               st.column_text(0));
        }
        out += "{\"type\":";
        out += quote(type);
        out += ",\"id\":";
        out += quote(st.column_text(0));
        out += ",\"parentId\":";
        out += st.column_is_null(1) ? std::string("null") : quote(st.column_text(1));
        out += ",\"timestamp\":\"";
        out += iso8601_from_ms(st.column_int64(2));
        out += '"';
        if (type == "message") {
            out += ",\"message\":";
            out += payload;
            out += '}';
        } else if (payload == "{}") {
            out += '}';
        } else {
            out += ',';
            out.append(payload, 1, std::string::npos);
        }
        out += '\n';
    }
    return out;
}

ImportedTranscript TranscriptsRepo::import_jsonl(std::string_view text) {
    ImportedTranscript result;
    bool have_header = false;
    std::unordered_set<std::string> ids;
    std::optional<std::string> previous;
    size_t line_no = 0;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(start, end - start);
        start = end + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.find_first_not_of(" \t") == std::string_view::npos) continue;

        std::error_code ec;
        json::value parsed = json::parse(line, ec);
        if (ec) throw TranscriptImportError(line_no, "invalid JSON: " + ec.message());
        if (!parsed.is_object()) throw TranscriptImportError(line_no, "expected a JSON object");
        if (core::has_non_finite(parsed)) throw TranscriptImportError(line_no, "a number is out of range");
        json::object& obj = parsed.as_object();
        const json::value* type = obj.if_contains("type");
        if (type == nullptr || !type->is_string() || type->as_string().empty()) {
            throw TranscriptImportError(line_no, "missing `type`");
        }

        if (!have_header) {
            if (type->as_string() != "session") {
                throw TranscriptImportError(line_no, "the first line must be the session header (type \"session\")");
            }
            // Version 1 headers had no version member. A uint64 holds only numbers above int64's
            // range, so it is unsupported as well.
            const json::value* v = obj.if_contains("version");
            if (v != nullptr && !v->is_int64() && !v->is_uint64()) {
                throw TranscriptImportError(line_no, "`version` is not a number");
            }
            const int64_t version = v == nullptr ? 1 : v->is_int64() ? v->get_int64() : 0;
            if (version < 1 || version > kTranscriptVersion) {
                throw TranscriptImportError(line_no, "unsupported transcript version " + json::serialize(*v) +
                                                         " (this pincer reads versions 1 to 3)");
            }
            const json::value* id = obj.if_contains("id");
            if (id == nullptr || !id->is_string() || id->as_string().empty()) {
                throw TranscriptImportError(line_no, "the session header has no `id`");
            }
            result.header.session_id = std::string(id->as_string());
            const json::value* ts = obj.if_contains("timestamp");
            std::optional<int64_t> ms =
                ts != nullptr && ts->is_string() ? ms_from_iso8601(ts->as_string()) : std::nullopt;
            if (!ms) throw TranscriptImportError(line_no, "the session header has no ISO-8601 `timestamp`");
            if (*ms < kMinTimestampMs || *ms > kMaxTimestampMs) {
                throw TranscriptImportError(line_no, "`timestamp` is out of range (years 0000 to 9999)");
            }
            result.header.timestamp_ms = *ms;
            if (const json::value* cwd = obj.if_contains("cwd"); cwd != nullptr && cwd->is_string()) {
                result.header.cwd = std::string(cwd->as_string());
            }
            if (const json::value* p = obj.if_contains("parentSession"); p != nullptr && p->is_string()) {
                result.header.parent_session = std::string(p->as_string());
            }
            have_header = true;
            continue;
        }

        TranscriptEntry e;
        e.type = std::string(type->as_string());
        const json::value* id = obj.if_contains("id");
        const json::value* parent = obj.if_contains("parentId");
        if (id == nullptr) {
            // Legacy linear transcripts carry no ids: link each line to the one before.
            e.entry_id = util::uuid_v4();
            e.parent_id = previous;
        } else {
            if (!id->is_string() || id->as_string().empty()) {
                throw TranscriptImportError(line_no, "`id` must be a non-empty string");
            }
            e.entry_id = std::string(id->as_string());
            if (parent != nullptr && !parent->is_null()) {
                if (!parent->is_string()) throw TranscriptImportError(line_no, "`parentId` must be a string or null");
                e.parent_id = std::string(parent->as_string());
                if (!ids.contains(*e.parent_id)) {
                    throw TranscriptImportError(line_no,
                                                "parentId " + *e.parent_id + " does not name an earlier entry");
                }
            }
        }
        if (ids.contains(e.entry_id)) throw TranscriptImportError(line_no, "duplicate id " + e.entry_id);

        const json::value* ts = obj.if_contains("timestamp");
        std::optional<int64_t> ms;
        if (ts != nullptr && ts->is_string()) {
            ms = ms_from_iso8601(ts->as_string());
        } else if (ts != nullptr && ts->is_int64()) {  // a uint64 is beyond any valid timestamp
            ms = ts->get_int64();
        }
        if (!ms) throw TranscriptImportError(line_no, "missing or malformed `timestamp` (expected ISO-8601)");
        if (*ms < kMinTimestampMs || *ms > kMaxTimestampMs) {
            throw TranscriptImportError(line_no, "`timestamp` is out of range (years 0000 to 9999)");
        }
        e.ts_ms = *ms;

        if (e.type == "message") {
            const json::value* message = obj.if_contains("message");
            if (message == nullptr || !message->is_object()) {
                throw TranscriptImportError(line_no, "a message line needs a `message` object");
            }
            e.role = role_of(message->as_object());
            e.payload = json::serialize(*message);
        } else {
            // Copied rather than erased: Boost.JSON's erase moves the last member into the hole,
            // and the payload should keep the file's member order.
            json::object rest;
            for (const auto& member : obj) {
                if (std::find(kLineMembers.begin(), kLineMembers.end(), member.key()) == kLineMembers.end()) {
                    rest.emplace(member.key(), member.value());
                }
            }
            e.payload = json::serialize(rest);
        }
        ids.insert(e.entry_id);
        previous = e.entry_id;
        result.entries.push_back(std::move(e));
    }
    if (!have_header) throw TranscriptImportError(line_no == 0 ? 1 : line_no, "empty transcript: no session header");
    return result;
}

size_t TranscriptsRepo::trim_before(std::string_view session_id, int64_t first_kept_seq) {
    Transaction tx(db_);
    auto del = db_.prepare("DELETE FROM transcript_entries WHERE session_id = ?1 AND seq < ?2");
    del.bind(1, session_id).bind(2, first_kept_seq);
    del.run();
    const auto removed = static_cast<size_t>(db_.changes());
    // Entries whose parent was trimmed away start the remaining tree.
    auto orphan = db_.prepare(
        "UPDATE transcript_entries SET parent_id = NULL WHERE session_id = ?1 AND parent_id IS NOT NULL AND "
        "parent_id NOT IN (SELECT entry_id FROM transcript_entries WHERE session_id = ?1)");
    orphan.bind(1, session_id);
    orphan.run();
    tx.commit();
    return removed;
}

size_t TranscriptsRepo::remove_session(std::string_view session_id) {
    auto guard = db_.lock();
    auto st = db_.prepare("DELETE FROM transcript_entries WHERE session_id = ?1");
    st.bind(1, session_id);
    st.run();
    return static_cast<size_t>(db_.changes());
}

}  // namespace pincer::storage
