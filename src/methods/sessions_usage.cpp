#include "methods/sessions_usage.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <ctime>
#include <limits>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "methods/sessions.hpp"
#include "methods/usage.hpp"
#include "util/strings.hpp"

namespace pincer::methods {
namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kDefaultDays = 30;
constexpr int64_t kMaxDays = 366;
constexpr int64_t kMaxLimit = 1000;
constexpr size_t kTranscriptPage = 500;
constexpr size_t kSessionPage = 500;

int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

[[noreturn]] void invalid(std::string_view field, std::string_view problem) {
    core::throw_invalid("invalid sessions.usage params: at /" + std::string(field) + ": " + std::string(problem));
}

struct MessageCounts {
    int64_t total = 0, user = 0, assistant = 0, tool_calls = 0, tool_results = 0, errors = 0;

    void add(const MessageCounts& o) {
        total += o.total;
        user += o.user;
        assistant += o.assistant;
        tool_calls += o.tool_calls;
        tool_results += o.tool_results;
        errors += o.errors;
    }
    void put(json::object& o) const {
        o["total"] = total;
        o["user"] = user;
        o["assistant"] = assistant;
        o["toolCalls"] = tool_calls;
        o["toolResults"] = tool_results;
        o["errors"] = errors;
    }
    json::object to_json() const {
        json::object o;
        put(o);
        return o;
    }
};

using ModelKey = std::pair<std::string, std::string>;  // provider, model

// One session's activity in the window.
struct Activity {
    storage::UsageTotals totals;
    bool has_usage = false;
    int64_t first = std::numeric_limits<int64_t>::max();
    int64_t last = std::numeric_limits<int64_t>::min();
    std::map<std::string, storage::UsageTotals> daily;
    std::map<ModelKey, storage::UsageTotals> models;
    std::map<std::tuple<std::string, std::string, std::string>, storage::UsageTotals> daily_models;
    MessageCounts messages;
    bool has_messages = false;
    std::map<std::string, MessageCounts> daily_messages;
    std::map<std::string, int64_t> tools;

    void touch(int64_t ts) {
        first = std::min(first, ts);
        last = std::max(last, ts);
    }
};

json::object totals_json(const storage::UsageTotals& t) {
    json::object o;
    put_cost_usage_totals(o, t);
    return o;
}

// Biggest spend first, then most tokens: what a usage screen lists on top.
template <class Map>
std::vector<typename Map::const_iterator> by_cost(const Map& m) {
    std::vector<typename Map::const_iterator> out;
    for (auto it = m.begin(); it != m.end(); ++it) out.push_back(it);
    std::stable_sort(out.begin(), out.end(), [](auto a, auto b) {
        if (a->second.total_cost != b->second.total_cost) return a->second.total_cost > b->second.total_cost;
        return a->second.total_tokens > b->second.total_tokens;
    });
    return out;
}

json::array model_rows(const std::map<ModelKey, storage::UsageTotals>& models) {
    json::array out;
    for (auto it : by_cost(models)) {
        out.emplace_back(json::object{{"provider", it->first.first},
                                      {"model", it->first.second},
                                      {"count", it->second.records},
                                      {"totals", totals_json(it->second)}});
    }
    return out;
}

json::array tool_rows(const std::map<std::string, int64_t>& tools) {
    std::vector<std::pair<std::string, int64_t>> v(tools.begin(), tools.end());
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    json::array out;
    for (const auto& [name, count] : v) out.emplace_back(json::object{{"name", name}, {"count", count}});
    return out;
}

json::object daily_model_row(const std::tuple<std::string, std::string, std::string>& k,
                             const storage::UsageTotals& t) {
    return json::object{{"date", std::get<0>(k)},   {"provider", std::get<1>(k)},       {"model", std::get<2>(k)},
                        {"tokens", t.total_tokens}, {"cost", cost_value(t.total_cost)}, {"count", t.records}};
}

// Adds the session's transcript entries timestamped in [from_ms, to_ms) to `a`.
void scan_transcript(storage::TranscriptsRepo& transcripts, const std::string& session_id, int64_t from_ms,
                     int64_t to_ms, int64_t offset_ms, Activity& a) {
    int64_t after = 0;
    for (;;) {
        auto page = transcripts.after(session_id, after, kTranscriptPage);
        for (const auto& e : page) {
            after = e.seq;
            if (e.type != "message" || e.ts_ms < from_ms || e.ts_ms >= to_ms) continue;
            std::error_code ec;
            json::value v = json::parse(e.payload, ec);
            if (ec || !v.is_object()) continue;
            const json::object& msg = v.get_object();
            MessageCounts c;
            c.total = 1;
            const std::string role = e.role.value_or("");
            if (role == "user") {
                c.user = 1;
            } else if (role == "toolResult") {
                c.tool_results = 1;
            } else if (role == "assistant") {
                c.assistant = 1;
                if (const json::array* content = core::get_array(msg, "content")) {
                    for (const auto& b : *content) {
                        const json::object* block = b.if_object();
                        const json::string* type = block ? core::get_string(*block, "type") : nullptr;
                        if (!type || *type != "toolCall") continue;
                        ++c.tool_calls;
                        const json::string* name = core::get_string(*block, "name");
                        ++a.tools[name ? std::string(core::sv(*name)) : std::string("unknown")];
                    }
                }
                if (const json::string* stop = core::get_string(msg, "stopReason"); stop && *stop == "error")
                    c.errors = 1;
            }
            a.messages.add(c);
            a.daily_messages[format_iso_date(floor_div(e.ts_ms + offset_ms, kDayMs))].add(c);
            a.has_messages = true;
            a.touch(e.ts_ms);
        }
        if (page.size() < kTranscriptPage) return;
    }
}

json::object summary_json(const storage::SessionEntry& e, const Activity& a) {
    json::object o;
    put_cost_usage_totals(o, a.totals);
    o["sessionId"] = e.session_id;
    o["firstActivity"] = a.first;
    o["lastActivity"] = a.last;
    o["durationMs"] = a.last - a.first;
    std::set<std::string> dates;
    for (const auto& [d, t] : a.daily) dates.insert(d);
    for (const auto& [d, c] : a.daily_messages) dates.insert(d);
    json::array activity_dates, breakdown, daily_messages, daily_models;
    for (const auto& d : dates) {
        activity_dates.emplace_back(d);
        auto it = a.daily.find(d);
        const storage::UsageTotals t = it == a.daily.end() ? storage::UsageTotals{} : it->second;
        breakdown.emplace_back(
            json::object{{"date", d}, {"tokens", t.total_tokens}, {"cost", cost_value(t.total_cost)}});
        json::object m{{"date", d}};
        if (auto mit = a.daily_messages.find(d); mit != a.daily_messages.end()) {
            mit->second.put(m);
        } else {
            MessageCounts{}.put(m);
        }
        daily_messages.emplace_back(std::move(m));
    }
    for (const auto& [k, t] : a.daily_models) daily_models.emplace_back(daily_model_row(k, t));
    o["activityDates"] = std::move(activity_dates);
    o["dailyBreakdown"] = std::move(breakdown);
    o["dailyMessageCounts"] = std::move(daily_messages);
    o["dailyModelUsage"] = std::move(daily_models);
    o["messageCounts"] = a.messages.to_json();
    o["toolUsage"] = tool_rows(a.tools);
    o["modelUsage"] = model_rows(a.models);
    return o;
}

constexpr std::string_view kRowFields[] = {"channel",          "chatType",      "origin", "modelOverride",
                                           "providerOverride", "modelProvider", "model"};

struct Candidate {
    storage::SessionEntry entry;
    Activity activity;
    int64_t sort_ts = 0;
};

}  // namespace

std::optional<int> parse_utc_offset(std::string_view text) {
    if (!text.starts_with("UTC") || text.size() < 5) return std::nullopt;
    std::string_view rest = text.substr(3);
    const int sign = rest[0] == '+' ? 1 : rest[0] == '-' ? -1 : 0;
    if (sign == 0) return std::nullopt;
    rest.remove_prefix(1);
    auto digits = [](std::string_view d) -> std::optional<int> {
        if (d.empty() || d.size() > 2) return std::nullopt;
        int v = 0;
        for (char c : d) {
            if (c < '0' || c > '9') return std::nullopt;
            v = v * 10 + (c - '0');
        }
        return v;
    };
    const size_t colon = rest.find(':');
    auto hours = digits(rest.substr(0, colon));
    std::optional<int> minutes = 0;
    if (colon != std::string_view::npos) {
        minutes = rest.size() - colon - 1 == 2 ? digits(rest.substr(colon + 1)) : std::nullopt;
    }
    if (!hours || !minutes || *minutes >= 60) return std::nullopt;
    const int total = sign * (*hours * 60 + *minutes);
    if (total < -720 || total > 840) return std::nullopt;
    return total;
}

SessionsUsageQuery parse_sessions_usage_query(const json::object& params, int64_t now_ms, int local_offset_minutes) {
    SessionsUsageQuery q;
    if (auto k = core::get_string(params, "key"); k && !util::trim(core::sv(*k)).empty())
        q.key = canonical_session_key(core::sv(*k));
    q.limit = static_cast<size_t>(std::min(dispatch::param_int(params, "limit").value_or(50), kMaxLimit));

    std::optional<int> specific;
    if (const json::value* off = params.if_contains("utcOffset"); off && !off->is_null()) {
        if (off->is_string()) specific = parse_utc_offset(core::sv(off->get_string()));
        if (!specific) invalid("utcOffset", "must be UTC+H or UTC-HH:MM within UTC-12..UTC+14");
    }
    const std::string mode = dispatch::param_string(params, "mode", "utc");
    if (mode == "gateway") {
        q.utc_offset_minutes = std::clamp(local_offset_minutes, -720, 840);
    } else if (mode == "specific") {
        q.utc_offset_minutes = specific.value_or(0);
    }

    std::optional<int64_t> start, end;
    for (std::string_view field : {"startDate", "endDate"}) {
        const json::value* v = params.if_contains(field);
        if (!v || v->is_null()) continue;
        std::optional<int64_t> day;
        if (v->is_string()) day = parse_iso_date(core::sv(v->get_string()));
        if (!day) invalid(field, "must be YYYY-MM-DD");
        (field == "startDate" ? start : end) = day;
    }
    const int64_t today = floor_div(now_ms + int64_t{q.utc_offset_minutes} * 60'000, kDayMs);
    if (start && end) {
        if (*end < *start) invalid("endDate", "must not be before startDate");
        q.first_day = *start;
        q.last_day = *end;
    } else if (start) {  // startDate alone: from it through today
        q.first_day = *start;
        q.last_day = std::max(*start, today);
    } else {
        q.last_day = end.value_or(today);
        q.first_day = q.last_day - kDefaultDays + 1;
    }
    if (q.last_day - q.first_day + 1 > kMaxDays)
        invalid("startDate", "window must be at most " + std::to_string(kMaxDays) + " days");
    return q;
}

json::object build_sessions_usage(storage::SessionsRepo& sessions, storage::TranscriptsRepo& transcripts,
                                  storage::UsageRepo& usage, const SessionsUsageQuery& q, int64_t now_ms) {
    const int64_t offset_ms = int64_t{q.utc_offset_minutes} * 60'000;
    const int64_t from_ms = q.first_day * kDayMs - offset_ms;
    const int64_t to_ms = (q.last_day + 1) * kDayMs - offset_ms;

    std::map<std::string, Candidate> found;
    std::optional<std::string_view> only;
    if (q.key) only = *q.key;
    for (auto& g : usage.grouped(from_ms, to_ms, q.utc_offset_minutes, only)) {
        auto it = found.find(g.session_key);
        if (it == found.end()) {
            auto e = sessions.get(g.session_key);
            if (!e) continue;
            it = found.emplace(g.session_key, Candidate{std::move(*e), {}, 0}).first;
        }
        Activity& a = it->second.activity;
        a.has_usage = true;
        a.touch(g.first_ts_ms);
        a.touch(g.last_ts_ms);
        add_usage_totals(a.totals, g.totals);
        add_usage_totals(a.daily[g.date], g.totals);
        add_usage_totals(a.models[{g.provider, g.model}], g.totals);
        add_usage_totals(a.daily_models[{g.date, g.provider, g.model}], g.totals);
    }
    // Sessions without usage in the window but updated in it (a chat.inject, a failed run) are
    // listed too. They sort by updatedAt, so only the newest `limit` of them can make the cut.
    auto consider = [&](storage::SessionEntry e) {
        if (e.updated_at_ms < from_ms || e.updated_at_ms >= to_ms || found.contains(e.key)) return false;
        std::string key = e.key;
        found.emplace(std::move(key), Candidate{std::move(e), {}, 0});
        return true;
    };
    if (q.key) {
        if (auto e = sessions.get(*q.key)) consider(std::move(*e));
    } else {
        storage::SessionFilter f;
        f.active_since_ms = from_ms;
        f.limit = kSessionPage;
        size_t taken = 0;
        for (;;) {
            auto page = sessions.list(f);
            for (auto& e : page.rows) taken += consider(std::move(e)) ? 1 : 0;
            if (page.rows.size() < kSessionPage || taken >= q.limit) break;
            f.offset += kSessionPage;
        }
    }

    std::vector<Candidate*> rows;
    for (auto& [k, c] : found) {
        c.sort_ts = c.activity.has_usage ? c.activity.last : c.entry.updated_at_ms;
        rows.push_back(&c);
    }
    std::stable_sort(rows.begin(), rows.end(), [](const Candidate* a, const Candidate* b) {
        return a->sort_ts != b->sort_ts ? a->sort_ts > b->sort_ts : a->entry.key < b->entry.key;
    });
    if (rows.size() > q.limit) rows.resize(q.limit);

    storage::UsageTotals totals;
    MessageCounts messages;
    std::map<std::string, int64_t> tools;
    std::map<ModelKey, storage::UsageTotals> by_model;
    std::map<std::string, storage::UsageTotals> by_provider, by_agent, by_channel, daily_usage;
    std::map<std::string, MessageCounts> daily_messages;
    std::map<std::tuple<std::string, std::string, std::string>, storage::UsageTotals> model_daily;
    json::array session_rows;
    for (Candidate* c : rows) {
        const storage::SessionEntry& e = c->entry;
        Activity& a = c->activity;
        scan_transcript(transcripts, e.session_id, from_ms, to_ms, offset_ms, a);

        json::object row{{"key", e.key}};
        if (e.label) row["label"] = *e.label;
        row["sessionId"] = e.session_id;
        row["updatedAt"] = e.updated_at_ms;
        row["agentId"] = e.agent_id;
        for (std::string_view f : kRowFields) {
            if (const json::value* v = e.fields.if_contains(f); v && !v->is_null()) row[f] = *v;
        }
        row["usage"] = (a.has_usage || a.has_messages) ? json::value(summary_json(e, a)) : json::value(nullptr);
        session_rows.emplace_back(std::move(row));

        add_usage_totals(totals, a.totals);
        messages.add(a.messages);
        for (const auto& [name, n] : a.tools) tools[name] += n;
        for (const auto& [k, t] : a.models) {
            add_usage_totals(by_model[k], t);
            add_usage_totals(by_provider[k.first], t);
        }
        add_usage_totals(by_agent[e.agent_id], a.totals);
        if (const json::string* ch = core::get_string(e.fields, "channel"); ch && !ch->empty())
            add_usage_totals(by_channel[std::string(core::sv(*ch))], a.totals);
        for (const auto& [d, t] : a.daily) add_usage_totals(daily_usage[d], t);
        for (const auto& [d, m] : a.daily_messages) daily_messages[d].add(m);
        for (const auto& [k, t] : a.daily_models) add_usage_totals(model_daily[k], t);
    }

    json::object aggregates;
    aggregates["messages"] = messages.to_json();
    int64_t tool_calls = 0;
    for (const auto& [name, n] : tools) tool_calls += n;
    aggregates["tools"] = json::object{
        {"totalCalls", tool_calls}, {"uniqueTools", static_cast<int64_t>(tools.size())}, {"tools", tool_rows(tools)}};
    aggregates["byModel"] = model_rows(by_model);
    json::array providers, agents, channels;
    for (auto it : by_cost(by_provider)) {
        providers.emplace_back(
            json::object{{"provider", it->first}, {"count", it->second.records}, {"totals", totals_json(it->second)}});
    }
    for (auto it : by_cost(by_agent))
        agents.emplace_back(json::object{{"agentId", it->first}, {"totals", totals_json(it->second)}});
    for (auto it : by_cost(by_channel))
        channels.emplace_back(json::object{{"channel", it->first}, {"totals", totals_json(it->second)}});
    aggregates["byProvider"] = std::move(providers);
    aggregates["byAgent"] = std::move(agents);
    aggregates["byChannel"] = std::move(channels);
    // Model calls are not timed per message in the store, so there is no latency to report.
    aggregates["dailyLatency"] = json::array{};
    json::array model_daily_rows;
    for (const auto& [k, t] : model_daily) model_daily_rows.emplace_back(daily_model_row(k, t));
    aggregates["modelDaily"] = std::move(model_daily_rows);
    std::set<std::string> dates;
    for (const auto& [d, t] : daily_usage) dates.insert(d);
    for (const auto& [d, m] : daily_messages) dates.insert(d);
    json::array daily;
    for (const auto& d : dates) {
        const storage::UsageTotals t = daily_usage.contains(d) ? daily_usage[d] : storage::UsageTotals{};
        const MessageCounts m = daily_messages.contains(d) ? daily_messages[d] : MessageCounts{};
        daily.emplace_back(json::object{{"date", d},
                                        {"tokens", t.total_tokens},
                                        {"cost", cost_value(t.total_cost)},
                                        {"messages", m.total},
                                        {"toolCalls", m.tool_calls},
                                        {"errors", m.errors}});
    }
    aggregates["daily"] = std::move(daily);

    json::object out;
    out["updatedAt"] = now_ms;
    out["startDate"] = format_iso_date(q.first_day);
    out["endDate"] = format_iso_date(q.last_day);
    out["sessions"] = std::move(session_rows);
    out["totals"] = totals_json(totals);
    out["aggregates"] = std::move(aggregates);
    return out;
}

void register_sessions_usage(dispatch::MethodTable& table, dispatch::Gateway& gateway, storage::SessionsRepo& sessions,
                             storage::TranscriptsRepo& transcripts, storage::UsageRepo& usage) {
    dispatch::MethodSpec spec;
    spec.name = "sessions.usage";
    spec.scope = "operator.read";
    spec.params = dispatch::ParamSchema()
                      .string("key")
                      .any("startDate")
                      .any("endDate")
                      .enumeration("mode", {"utc", "gateway", "specific"})
                      .any("utcOffset")
                      .integer("limit", 1)
                      .boolean("includeContextWeight");
    spec.handler = dispatch::AsyncHandler(
        [&gateway, &sessions, &transcripts, &usage](const dispatch::CallView& call, dispatch::Responder reply) {
            const int64_t now = gateway.clock().now_ms();
            // The host's offset now: mode "gateway" means the gateway's local calendar.
            const std::time_t t = static_cast<std::time_t>(now / 1000);
            std::tm local{};
            localtime_r(&t, &local);
            SessionsUsageQuery query;
            try {
                query = parse_sessions_usage_query(call.params, now, static_cast<int>(local.tm_gmtoff / 60));
            } catch (const core::RpcException& e) {
                return reply.fail(e.error);
            }
            dispatch::reply_from_pool(
                gateway.loop(), std::move(reply), "sessions.usage", [&sessions, &transcripts, &usage, query, now] {
                    return json::value(build_sessions_usage(sessions, transcripts, usage, query, now));
                });
        });
    table.add(std::move(spec));
}

}  // namespace pincer::methods
