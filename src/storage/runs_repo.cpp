#include "storage/runs_repo.hpp"

namespace pincer::storage {
namespace {

constexpr std::string_view kColumns =
    "run_id, session_key, session_id, agent_id, status, started_at_ms, ended_at_ms, partial_text, stop_reason, "
    "error, result";

std::optional<std::string> opt_text(const Statement& st, int col) {
    if (st.column_is_null(col)) return std::nullopt;
    return st.column_text(col);
}

RunRecord read_run(const Statement& st) {
    RunRecord r;
    r.run_id = st.column_text(0);
    r.session_key = st.column_text(1);
    r.session_id = st.column_text(2);
    r.agent_id = st.column_text(3);
    r.status = st.column_text(4);
    r.started_at_ms = st.column_int64(5);
    if (!st.column_is_null(6)) r.ended_at_ms = st.column_int64(6);
    r.partial_text = st.column_text(7);
    r.stop_reason = opt_text(st, 8);
    r.error = opt_text(st, 9);
    r.result_json = opt_text(st, 10);
    return r;
}

void bind_opt(Statement& st, int index, std::optional<std::string_view> v) {
    if (v) {
        st.bind(index, *v);
    } else {
        st.bind_null(index);
    }
}

}  // namespace

void RunsRepo::start(const RunRecord& run) {
    if (run.run_id.empty()) throw StorageError("run id must not be empty");
    auto guard = db_.lock();
    auto st = db_.prepare(
        "INSERT OR REPLACE INTO agent_runs (run_id, session_key, session_id, agent_id, status, started_at_ms, "
        "partial_text) VALUES (?1, ?2, ?3, ?4, 'running', ?5, '')");
    st.bind(1, run.run_id).bind(2, run.session_key).bind(3, run.session_id).bind(4, run.agent_id);
    st.bind(5, run.started_at_ms);
    st.run();
}

void RunsRepo::save_partial(std::string_view run_id, std::string_view text) {
    auto guard = db_.lock();
    auto st = db_.prepare("UPDATE agent_runs SET partial_text = ?2 WHERE run_id = ?1 AND status = 'running'");
    st.bind(1, run_id).bind(2, text);
    st.run();
}

bool RunsRepo::finish(std::string_view run_id, std::string_view status, int64_t ended_at_ms,
                      std::optional<std::string_view> stop_reason, std::optional<std::string_view> error,
                      std::optional<std::string_view> result_json) {
    auto guard = db_.lock();
    auto st = db_.prepare(
        "UPDATE agent_runs SET status = ?2, ended_at_ms = ?3, stop_reason = ?4, error = ?5, result = ?6 WHERE "
        "run_id = ?1");
    st.bind(1, run_id).bind(2, status).bind(3, ended_at_ms);
    bind_opt(st, 4, stop_reason);
    bind_opt(st, 5, error);
    bind_opt(st, 6, result_json);
    st.run();
    return db_.changes() > 0;
}

std::optional<RunRecord> RunsRepo::get(std::string_view run_id) {
    auto guard = db_.lock();
    auto st = db_.prepare(std::string("SELECT ") + std::string(kColumns) + " FROM agent_runs WHERE run_id = ?1");
    st.bind(1, run_id);
    if (!st.step()) return std::nullopt;
    return read_run(st);
}

std::vector<RunRecord> RunsRepo::running() {
    auto guard = db_.lock();
    auto st = db_.prepare(std::string("SELECT ") + std::string(kColumns) +
                          " FROM agent_runs WHERE status = 'running' ORDER BY started_at_ms, run_id");
    std::vector<RunRecord> out;
    while (st.step()) out.push_back(read_run(st));
    return out;
}

size_t RunsRepo::prune_ended_before(int64_t before_ms) {
    auto guard = db_.lock();
    auto st = db_.prepare("DELETE FROM agent_runs WHERE status != 'running' AND ended_at_ms < ?1");
    st.bind(1, before_ms);
    st.run();
    return static_cast<size_t>(db_.changes());
}

}  // namespace pincer::storage
