// Preparing a run (session, durable user turn, model context, prompt, model chain) and closing
// the runs a crash interrupted.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/error.hpp"
#include "methods/agents.hpp"
#include "methods/chat_runs.hpp"
#include "runtime/system_prompt.hpp"
#include "util/crypto.hpp"

namespace pincer::methods {
namespace {

/// Transcript entries loaded as model context.
constexpr size_t kHistoryEntries = 400;
constexpr int64_t kDefaultRunTimeoutMs = 600'000;

int64_t timeout_from_config(const json::value& cfg) {
    if (const json::value* v = core::find_path(cfg, "agents.defaults.timeoutSeconds")) {
        if (auto s = v->if_int64(); s && *s > 0) return *s * 1000;
    }
    return kDefaultRunTimeoutMs;
}

std::string entry_string(const storage::SessionEntry& e, std::string_view field) {
    auto it = e.fields.find(field);
    return it != e.fields.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
}

}  // namespace

size_t ChatRuntime::recover_interrupted() {
    const int64_t now = deps_.gateway.clock().now_ms();
    auto interrupted = deps_.runs.running();
    for (const auto& run : interrupted) {
        if (!run.partial_text.empty()) {
            json::object m = assistant_text_message(run.partial_text, now);
            m["stopReason"] = "aborted";
            m["openclawAbort"] = true;
            storage::TranscriptEntry e;
            e.payload = json::serialize(m);
            e.ts_ms = now;
            deps_.transcripts.append(run.session_id, {std::move(e)});
        }
        deps_.runs.finish(run.run_id, "aborted", now, "restart", "the gateway stopped during the run", std::nullopt);
        deps_.idempotency.remove("chat:" + run.run_id);
        deps_.idempotency.remove("agent:" + run.run_id);
        if (deps_.sessions.get(run.session_key)) {
            deps_.sessions.patch(run.session_key, json::object{{"abortedLastRun", true}}, now);
        }
        spdlog::warn("run {} of {} was interrupted by a restart; kept {} characters of its reply", run.run_id,
                     run.session_key, run.partial_text.size());
    }
    deps_.runs.prune_ended_before(now - 30LL * 24 * 3600 * 1000);
    return interrupted.size();
}

PrepareResult ChatRuntime::prepare(const RunRequest& r) {
    const int64_t now = deps_.gateway.clock().now_ms();
    json::value cfg = deps_.config.store().load().parsed;
    std::string agent_id = r.agent_id;
    if (agent_id.empty()) agent_id = storage::agent_id_from_key(r.session_key).value_or(default_agent_id(cfg));
    auto agent = find_agent(cfg, deps_.state_dir, agent_id);
    if (!agent) core::throw_invalid("Agent \"" + agent_id + "\" no longer exists in configuration");

    const int64_t timeout = r.timeout_ms.value_or(timeout_from_config(cfg));
    const std::string dedupe_key = r.kind + ":" + r.run_id;
    json::object in_flight{{"runId", r.run_id}, {"status", "in_flight"}};
    const int64_t hold = std::clamp<int64_t>(timeout + 60'000, 120'000, 24LL * 3600 * 1000);
    if (auto existing =
            deps_.idempotency.put_if_absent({dedupe_key, json::serialize(in_flight), "in_flight", now + hold}, now)) {
        PrepareResult dup;
        boost::system::error_code ec;
        auto v = json::parse(existing->payload, ec);
        dup.duplicate = (!ec && v.is_object()) ? v.as_object() : in_flight;
        dup.duplicate_status = existing->status;
        return dup;
    }
    try {
        auto prepared = std::make_shared<PreparedRun>();
        prepared->request = r;
        prepared->config = cfg;
        auto entry = deps_.sessions.get(r.session_key);
        if (!entry) {
            const std::string sid = r.session_id.empty() ? util::uuid_v4() : r.session_id;
            entry = deps_.sessions.patch(r.session_key, json::object{}, now, sid);
        }
        if (r.label) {
            try {
                entry = deps_.sessions.patch(r.session_key, json::object{{"label", *r.label}}, now);
            } catch (const storage::LabelInUse& e) {
                core::throw_invalid(e.what());
            }
        }
        prepared->session_id = entry->session_id;
        ensure_agent_workspace(*agent);

        json::object user{{"role", "user"}, {"timestamp", now}};
        if (r.images.empty()) {
            user["content"] = r.message;
        } else {
            json::array content;
            if (!r.message.empty()) content.push_back(json::object{{"type", "text"}, {"text", r.message}});
            for (const auto& img : r.images) content.push_back(img);
            user["content"] = std::move(content);
        }
        storage::TranscriptEntry ue;
        ue.ts_ms = now;
        ue.payload = json::serialize(user);
        deps_.transcripts.append(entry->session_id, {std::move(ue)});

        auto& spec = prepared->spec;
        spec.run_id = r.run_id;
        spec.session_key = r.session_key;
        spec.agent_id = agent->id;
        spec.workspace = agent->workspace;
        spec.messages = model_history(deps_.transcripts.tail(entry->session_id, kHistoryEntries));
        spec.thinking = r.thinking.empty() ? entry_string(*entry, "thinkingLevel") : r.thinking;
        spec.timeout_ms = timeout;
        spec.started_at_ms = now;
        spec.max_steps = static_cast<int>(deps_.gateway.limits().agent_max_steps);

        std::optional<std::string> override_ref;
        if (auto m = entry_string(*entry, "modelOverride"); !m.empty()) {
            auto p = entry_string(*entry, "providerOverride");
            override_ref = p.empty() ? m : p + "/" + m;
        }
        auto chain = runtime::resolve_model_chain(
            cfg, agent->id, deps_.env, override_ref ? std::optional<std::string_view>(*override_ref) : std::nullopt);
        spec.models = std::move(chain.models);
        if (spec.models.empty()) prepared->problem = chain.problems.empty() ? "No model is configured" : chain.problems;

        runtime::PromptInputs prompt;
        prompt.workspace = agent->workspace;
        prompt.agent_id = agent->id;
        prompt.agent_name = agent->name;
        prompt.tools = tools_->specs();
        for (auto& ev : deps_.system_events.drain(r.session_key)) prompt.system_events.push_back(std::move(ev.text));
        prompt.now_ms = now;
        spec.system_prompt = runtime::build_system_prompt(prompt);

        storage::RunRecord rec;
        rec.run_id = r.run_id;
        rec.session_key = r.session_key;
        rec.session_id = entry->session_id;
        rec.agent_id = agent->id;
        rec.started_at_ms = now;
        deps_.runs.start(rec);
        return PrepareResult{std::nullopt, {}, std::move(prepared)};
    } catch (...) {
        deps_.idempotency.remove(dedupe_key);
        throw;
    }
}

}  // namespace pincer::methods
