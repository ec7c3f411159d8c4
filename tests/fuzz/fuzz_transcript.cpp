// libFuzzer target for imported transcripts (sessions.import): arbitrary bytes as OpenClaw JSONL
// through TranscriptsRepo::import_jsonl, and every accepted transcript through what later reads
// it: chat.history's projection, the model history and both providers' request builders, then a
// round trip through a SQLite store (append as given, export, import again).
// Oracles: import fails only with TranscriptImportError; accepted entries have a non-empty id and
// type, unique ids and parents naming an earlier entry; project_history's serialised array fits
// max_bytes; both request bodies are valid JSON in which every tool call is answered exactly once
// by the tool results right after it (Anthropic: ids match ^[a-zA-Z0-9_-]+$, no empty text block);
// append accepts what import accepted, and export then import gives the same header and entries
// back (numbers within a few ulps: Boost.JSON 1.81 parses long numbers imprecisely).
#include <boost/json.hpp>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "methods/chat.hpp"
#include "methods/chat_runs.hpp"
#include "runtime/model_call.hpp"
#include "scratch_dir.hpp"
#include "storage/db.hpp"
#include "storage/transcripts_repo.hpp"

namespace {

namespace json = boost::json;
using namespace pincer;

/// One SQLite store per process on tmpfs (removed at exit); each input uses and then empties one session.
struct Store {
    std::filesystem::path dir;
    std::unique_ptr<storage::Database> db;
    std::unique_ptr<storage::TranscriptsRepo> repo;

    Store() : dir(fuzz::make_scratch_dir("pincer-fuzz-transcript-")) {
        db = std::make_unique<storage::Database>(dir / "pincer.sqlite");
        repo = std::make_unique<storage::TranscriptsRepo>(*db);
    }
    ~Store() {
        repo.reset();
        db.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

Store& store() {
    static Store s;
    return s;
}

uint32_t hash(const uint8_t* data, size_t size) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 16777619u;
    return h;
}

void check_entries(const std::vector<storage::TranscriptEntry>& entries) {
    std::unordered_set<std::string> seen;
    for (const auto& e : entries) {
        if (e.entry_id.empty() || e.type.empty()) std::abort();
        if (e.parent_id && !seen.contains(*e.parent_id)) std::abort();
        if (!seen.insert(e.entry_id).second) std::abort();
        boost::system::error_code ec;
        const json::value payload = json::parse(e.payload, ec);
        if (ec || !payload.is_object()) std::abort();
        if (e.type == "message") {
            const auto* role = payload.as_object().if_contains("role");
            const bool string_role = role != nullptr && role->is_string();
            if (string_role != e.role.has_value()) std::abort();
            if (string_role && *e.role != std::string_view(role->as_string())) std::abort();
        } else if (e.role) {
            std::abort();
        }
    }
}

json::value parse_or_abort(std::string_view text) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec) std::abort();
    return v;
}

std::string_view string_at(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string_view(v->as_string()) : std::string_view{};
}

/// OpenAI: the `tool` messages right after an assistant answer exactly its tool_calls; no others.
void check_openai(const json::value& body) {
    const auto& messages = body.at("messages").as_array();
    std::multiset<std::string> open;
    bool in_results = false;
    for (const auto& mv : messages) {
        const auto& m = mv.as_object();
        const std::string_view role = string_at(m, "role");
        if (role == "tool") {
            if (!in_results) std::abort();  // a result with no call before it
            auto it = open.find(std::string(string_at(m, "tool_call_id")));
            if (it == open.end()) std::abort();
            open.erase(it);
            continue;
        }
        if (!open.empty()) std::abort();  // a call left without its result
        in_results = false;
        if (role == "assistant") {
            if (const auto* calls = m.if_contains("tool_calls")) {
                if (calls->as_array().empty()) std::abort();
                for (const auto& c : calls->as_array()) {
                    open.insert(std::string(string_at(c.as_object(), "id")));
                    // Arguments travel as JSON text and must parse as an object.
                    const auto& fn = c.as_object().at("function").as_object();
                    if (!parse_or_abort(string_at(fn, "arguments")).is_object()) std::abort();
                }
                in_results = true;
            }
        }
    }
    if (!open.empty()) std::abort();
}

/// Anthropic: every tool_use is answered once by a tool_result in the very next (user) message,
/// and tool_result blocks answer only the assistant message right before them.
void check_anthropic(const json::value& body) {
    const auto& messages = body.at("messages").as_array();
    std::multiset<std::string> open;
    for (const auto& mv : messages) {
        const auto& m = mv.as_object();
        const std::string_view role = string_at(m, "role");
        const auto& content = m.at("content").as_array();
        if (content.empty()) std::abort();
        std::multiset<std::string> next;
        for (const auto& bv : content) {
            const auto& b = bv.as_object();
            const std::string_view type = string_at(b, "type");
            if (type == "tool_result") {
                if (role != "user") std::abort();
                auto it = open.find(std::string(string_at(b, "tool_use_id")));
                if (it == open.end()) std::abort();
                open.erase(it);
            } else if (type == "tool_use") {
                if (role != "assistant") std::abort();
                const std::string_view id = string_at(b, "id");
                if (id.empty()) std::abort();  // Anthropic requires ^[a-zA-Z0-9_-]+$
                for (char c : id) {
                    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') std::abort();
                }
                if (!b.at("input").is_object()) std::abort();
                next.insert(std::string(id));
            } else if (type == "text") {
                if (string_at(b, "text").empty()) std::abort();  // Anthropic rejects empty text blocks
            }
        }
        if (!open.empty()) std::abort();
        open = std::move(next);
    }
    if (!open.empty()) std::abort();
}

void check_requests(const json::array& history, uint32_t h) {
    runtime::ModelRequest req;
    req.system_prompt = "You are a test.";
    req.messages = history;
    req.model.provider = "p";
    req.model.model = "m";
    req.model.supports_images = (h & 1) != 0;
    req.model.reasoning = (h & 2) != 0;
    req.thinking = (h & 4) != 0 ? "high" : "";
    req.tools.push_back(runtime::ToolSpec{"read", "Read a file", json::object{{"type", "object"}}});
    const runtime::CallPolicy policy;

    req.model.api = runtime::kApiOpenAiCompletions;
    const json::value openai = parse_or_abort(runtime::build_fetch_request(req, policy).body);
    check_openai(openai);

    req.model.api = runtime::kApiAnthropicMessages;
    const json::value anthropic = parse_or_abort(runtime::build_fetch_request(req, policy).body);
    check_anthropic(anthropic);
}

void check_history(const std::vector<storage::TranscriptEntry>& entries, size_t max_chars, size_t max_bytes) {
    const json::array out = methods::project_history(entries, max_chars, max_bytes);
    const size_t bytes = json::serialize(out).size();
    if (!out.empty() && bytes > max_bytes) std::abort();
    if (out.size() > entries.size()) std::abort();
}

/// Equal JSON, doubles within a few ulps: Boost.JSON 1.81 parses long numbers imprecisely, so a
/// payload's number may move by an ulp when the store parses and serialises it again.
bool same_json(const json::value& a, const json::value& b) {
    if (a.is_double() && b.is_double()) {
        const double x = a.get_double(), y = b.get_double();
        return x == y || std::fabs(x - y) <= 4 * std::numeric_limits<double>::epsilon() * std::fabs(x);
    }
    if (a.kind() != b.kind()) return false;
    if (const auto* x = a.if_array()) {
        const auto& y = b.get_array();
        if (x->size() != y.size()) return false;
        for (size_t i = 0; i < x->size(); ++i) {
            if (!same_json((*x)[i], y[i])) return false;
        }
        return true;
    }
    if (const auto* x = a.if_object()) {
        const auto& y = b.get_object();
        if (x->size() != y.size()) return false;
        for (auto i = x->begin(), j = y.begin(); i != x->end(); ++i, ++j) {
            if (i->key() != j->key() || !same_json(i->value(), j->value())) return false;  // order kept too
        }
        return true;
    }
    return a == b;
}

bool same_entry(const storage::TranscriptEntry& a, const storage::TranscriptEntry& b) {
    return a.entry_id == b.entry_id && a.parent_id == b.parent_id && a.ts_ms == b.ts_ms && a.type == b.type &&
           a.role == b.role &&
           (a.payload == b.payload || same_json(parse_or_abort(a.payload), parse_or_abort(b.payload)));
}

void round_trip(const storage::ImportedTranscript& file) {
    constexpr std::string_view kSession = "fuzz-session";
    auto& repo = *store().repo;
    std::vector<storage::TranscriptEntry> stored;
    try {
        stored = repo.append(kSession, file.entries, storage::ParentLinking::kAsGiven);
    } catch (const storage::StorageError&) {
        std::abort();  // import promises that its result appends as given
    }
    if (stored.size() != file.entries.size()) std::abort();
    for (size_t i = 0; i < stored.size(); ++i) {
        if (stored[i].seq != static_cast<int64_t>(i + 1)) std::abort();
        if (!same_entry(stored[i], file.entries[i])) std::abort();
    }
    const std::string jsonl = repo.export_jsonl(kSession, file.header);
    if (repo.remove_session(kSession) != stored.size()) std::abort();
    storage::ImportedTranscript again;
    try {
        again = storage::TranscriptsRepo::import_jsonl(jsonl);
    } catch (const storage::TranscriptImportError&) {
        std::abort();  // an exported transcript must import again
    }
    if (again.header.session_id != kSession || again.header.timestamp_ms != file.header.timestamp_ms ||
        again.header.cwd != file.header.cwd || again.header.parent_session != file.header.parent_session) {
        std::abort();
    }
    if (again.entries.size() != file.entries.size()) std::abort();
    for (size_t i = 0; i < again.entries.size(); ++i) {
        if (!same_entry(again.entries[i], file.entries[i])) std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    storage::ImportedTranscript file;
    try {
        file = storage::TranscriptsRepo::import_jsonl(text);
    } catch (const storage::TranscriptImportError& e) {
        if (std::string_view(e.what()).rfind("transcript line ", 0) != 0) std::abort();
        return 0;
    }
    // Any other exception escapes and libFuzzer reports it: import must only throw its own error.
    if (file.header.session_id.empty()) std::abort();
    check_entries(file.entries);

    std::vector<storage::TranscriptEntry> entries = file.entries;
    for (size_t i = 0; i < entries.size(); ++i) entries[i].seq = static_cast<int64_t>(i + 1);
    const uint32_t h = hash(data, size);
    check_history(entries, 1 + h % 64, 2 + (h >> 6) % 1024);
    check_history(entries, methods::kDefaultHistoryMaxChars, 1 << 20);

    check_requests(methods::model_history(entries), h >> 16);

    round_trip(file);
    return 0;
}
