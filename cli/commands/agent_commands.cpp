#include "commands/agent_commands.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/gateway_client.hpp"
#include "commands/command_support.hpp"
#include "commands/gateway_target.hpp"
#include "commands/session_transfer_commands.hpp"
#include "core/json.hpp"
#include "util/crypto.hpp"

namespace pincer::cli {

namespace json = boost::json;
using client::GatewayClient;

namespace {

// ---- formatting -------------------------------------------------------------------------------

std::string str_or(const json::object& o, std::string_view key, std::string fallback = {}) {
    const json::string* s = core::get_string(o, key);
    return (s && !s->empty()) ? std::string(core::sv(*s)) : fallback;
}

std::optional<double> number_at(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_number()) return std::nullopt;
    return it->value().to_number<double>();
}

std::string plural(int64_t n, std::string_view word) {
    return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

/// 1234567 → "1,234,567".
std::string thousands(int64_t n) {
    std::string digits = std::to_string(n < 0 ? -n : n);
    std::string out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return n < 0 ? "-" + out : out;
}

/// Token counts as context windows are usually quoted: 8192 → "8.2k", 200000 → "200k", 1047576 → "1.0M".
std::string compact_count(int64_t n) {
    char buf[32];
    if (n >= 1'000'000) {
        std::snprintf(buf, sizeof buf, "%.1fM", double(n) / 1e6);
    } else if (n >= 1000 && n % 1000 == 0) {
        std::snprintf(buf, sizeof buf, "%lldk", static_cast<long long>(n / 1000));
    } else if (n >= 1000) {
        std::snprintf(buf, sizeof buf, "%.1fk", double(n) / 1e3);
    } else {
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
    }
    return buf;
}

/// US dollars; sub-cent amounts keep their significant digits instead of rounding to $0.00.
std::string dollars(double v) {
    char buf[48];
    if (v == 0 || std::fabs(v) >= 0.01) {
        std::snprintf(buf, sizeof buf, "$%.2f", v);
    } else {
        std::snprintf(buf, sizeof buf, "$%.4g", v);
    }
    return buf;
}

std::string iso_date_utc(int64_t ms) {
    const std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

/// "just now", "5m ago", "3h ago", "2d ago"; older than 30 days as the ISO date (UTC).
std::string relative_time(int64_t then_ms, int64_t now_ms) {
    const int64_t age = now_ms - then_ms;
    if (age < 60'000) return "just now";
    if (age < 3'600'000) return std::to_string(age / 60'000) + "m ago";
    if (age < 86'400'000) return std::to_string(age / 3'600'000) + "h ago";
    if (age < 30 * 86'400'000LL) return std::to_string(age / 86'400'000) + "d ago";
    return iso_date_utc(then_ms);
}

int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// Terminal columns taken by UTF-8 text, counting one per code point (good enough for labels).
size_t display_width(std::string_view s) {
    return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

/// Left-aligned columns (right-aligned where asked) separated by two spaces, no trailing blanks.
struct Table {
    std::vector<std::string> headers;
    std::vector<bool> right;
    std::vector<std::vector<std::string>> rows;

    std::string render() const {
        std::vector<size_t> width(headers.size(), 0);
        auto measure = [&](const std::vector<std::string>& r) {
            for (size_t i = 0; i < r.size() && i < width.size(); ++i)
                width[i] = std::max(width[i], display_width(r[i]));
        };
        measure(headers);
        for (const auto& r : rows) measure(r);
        std::string out;
        auto line = [&](const std::vector<std::string>& r) {
            std::string l;
            for (size_t i = 0; i < width.size(); ++i) {
                const std::string cell = i < r.size() ? r[i] : std::string();
                const std::string pad(width[i] - display_width(cell), ' ');
                if (i) l += "  ";
                l += (i < right.size() && right[i]) ? pad + cell : cell + pad;
            }
            while (!l.empty() && l.back() == ' ') l.pop_back();
            out += l + "\n";
        };
        line(headers);
        for (const auto& r : rows) line(r);
        return out;
    }
};

// ---- sessions, agents, models, usage ----------------------------------------------------------

std::string sessions_text(const json::value& payload) {
    const json::object* p = payload.if_object();
    if (!p) return "No sessions.\n";
    const json::array* sessions = core::get_array(*p, "sessions");
    const int64_t count = sessions ? static_cast<int64_t>(sessions->size()) : 0;
    if (count == 0) return "No sessions.\n";
    const int64_t now = core::get_int(*p, "ts").value_or(now_ms());
    Table t{{"KEY", "UPDATED", "TOKENS", "MODEL", "LABEL"}, {false, false, true, false, false}, {}};
    for (const auto& v : *sessions) {
        if (!v.is_object()) continue;
        const auto& s = v.get_object();
        std::string updated = "-";
        if (auto at = core::get_int(s, "updatedAt")) updated = relative_time(*at, now);
        std::string tokens = "-";
        if (auto total = core::get_int(s, "totalTokens")) {
            tokens = thousands(*total);
        } else {
            auto in = core::get_int(s, "inputTokens"), out = core::get_int(s, "outputTokens");
            if (in || out) tokens = thousands(in.value_or(0) + out.value_or(0));
        }
        std::string model = str_or(s, "model");
        if (auto provider = str_or(s, "modelProvider"); !provider.empty() && !model.empty())
            model = provider + "/" + model;
        t.rows.push_back({str_or(s, "key"), updated, tokens, model.empty() ? "-" : model,
                          str_or(s, "label", str_or(s, "displayName"))});
    }
    const int64_t total = core::get_int(*p, "totalCount").value_or(count);
    return t.render() + std::to_string(count) + " of " + plural(total, "session") + "\n";
}

std::string agents_text(const json::value& payload) {
    const json::object* p = payload.if_object();
    const json::array* agents = p ? core::get_array(*p, "agents") : nullptr;
    if (!agents || agents->empty()) return "No agents.\n";
    const std::string default_id = str_or(*p, "defaultId");
    Table t{{"ID", "NAME", "WORKSPACE", "DEFAULT"}, {}, {}};
    for (const auto& v : *agents) {
        if (!v.is_object()) continue;
        const auto& a = v.get_object();
        std::string name = str_or(a, "name");
        if (const json::object* ident = core::get_object(a, "identity"); name.empty() && ident)
            name = str_or(*ident, "name");
        const std::string id = str_or(a, "id");
        t.rows.push_back({id, name.empty() ? "-" : name, str_or(a, "workspace", "-"), id == default_id ? "yes" : ""});
    }
    return t.render() + plural(static_cast<int64_t>(t.rows.size()), "agent") + "\n";
}

std::string models_text(const json::value& payload) {
    const json::object* p = payload.if_object();
    const json::array* models = p ? core::get_array(*p, "models") : nullptr;
    if (!models || models->empty()) {
        return "No models. Declare providers under models.providers in the config, or set OPENAI_API_KEY,\n"
               "ANTHROPIC_API_KEY or OPENROUTER_API_KEY for the gateway.\n";
    }
    Table t{{"MODEL", "CONTEXT", "INPUT $/1M", "OUTPUT $/1M", "TAGS"}, {false, true, true, true, false}, {}};
    for (const auto& v : *models) {
        if (!v.is_object()) continue;
        const auto& m = v.get_object();
        std::string context = "-";
        if (auto cw = core::get_int(m, "contextWindow")) context = compact_count(*cw);
        std::string in = "-", out = "-";
        if (const json::object* cost = core::get_object(m, "cost")) {
            if (auto x = number_at(*cost, "input")) in = dollars(*x);
            if (auto x = number_at(*cost, "output")) out = dollars(*x);
        }
        std::string tags;  // default, fallback#N (the default agent's model chain)
        if (const json::array* ts = core::get_array(m, "tags")) {
            for (const auto& tag : *ts) {
                if (!tag.is_string()) continue;
                if (!tags.empty()) tags += ',';
                tags += core::sv(tag.get_string());
            }
        }
        t.rows.push_back({str_or(m, "provider") + "/" + str_or(m, "id"), context, in, out, tags});
    }
    return t.render() + plural(static_cast<int64_t>(t.rows.size()), "model") + "\n";
}

std::string usage_text(const json::value& payload) {
    const json::object* p = payload.if_object();
    if (!p) return "No usage data.\n";
    const int64_t days = core::get_int(*p, "days").value_or(0);
    Table t{{"DATE", "INPUT", "OUTPUT", "TOKENS", "COST"}, {false, true, true, true, true}, {}};
    if (const json::array* daily = core::get_array(*p, "daily")) {
        for (const auto& v : *daily) {
            if (!v.is_object()) continue;
            const auto& d = v.get_object();
            const int64_t tokens = core::get_int(d, "totalTokens").value_or(0);
            const double cost = number_at(d, "totalCost").value_or(0);
            if (tokens == 0 && cost == 0) continue;  // a month of zero rows says nothing
            t.rows.push_back({str_or(d, "date"), thousands(core::get_int(d, "input").value_or(0)),
                              thousands(core::get_int(d, "output").value_or(0)), thousands(tokens), dollars(cost)});
        }
    }
    std::string out = t.rows.empty() ? "No usage recorded in the last " + plural(days, "day") + ".\n" : t.render();
    json::object none;
    const json::object* totals = core::get_object(*p, "totals");
    if (!totals) totals = &none;
    out += "Total (" + plural(days, "day") + "): " + thousands(core::get_int(*totals, "totalTokens").value_or(0)) +
           " tokens, " + dollars(number_at(*totals, "totalCost").value_or(0));
    if (auto missing = core::get_int(*totals, "missingCostEntries"); missing && *missing > 0)
        out += " (plus " + plural(*missing, "model call") + " without a known price)";
    return out + "\n";
}

/// Registers a read-only command that calls `method` with the params `build` returns and prints
/// the payload as JSON (--json) or as `render` makes it.
template <class Opts, class Build, class Render>
void register_listing(CLI::App* cmd, int& exit_code, const char* method, std::shared_ptr<Opts> opts, Build build,
                      Render render) {
    auto o = std::make_shared<CommonOptions>();
    add_common_options(cmd, *o);
    cmd->callback([cmd, &exit_code, o, opts, method, build, render] {
        if (!cmd->get_subcommands().empty()) return;  // `sessions export` etc. did the work
        exit_code = with_gateway(*o, kReadScopes, [&](GatewayClient& gw, const json::object&, const GatewayTarget&) {
            json::value payload = gw.call(method, build(*opts), timeout_of(*o));
            std::cout << (o->json ? json::serialize(payload) + "\n" : render(payload));
            return kExitOk;
        });
    });
}

struct SessionsOptions {
    int limit = 0;
    std::string agent, search;
};

void register_sessions(CLI::App& app, int& exit_code) {
    auto so = std::make_shared<SessionsOptions>();
    auto* cmd = app.add_subcommand(
        "sessions", "List sessions, most recently updated first (sessions.list); export/import move transcripts");
    cmd->add_option("-n,--limit", so->limit, "Show at most N sessions (default: the gateway's, 100)")
        ->check(CLI::Range(1, 100000));
    cmd->add_option("--agent", so->agent, "Only the sessions of this agent id");
    cmd->add_option("--search", so->search, "Only sessions whose key, label or name contains TEXT");
    register_listing(
        cmd, exit_code, "sessions.list", so,
        [](const SessionsOptions& s) {
            json::object params;
            if (s.limit > 0) params["limit"] = s.limit;
            if (!s.agent.empty()) params["agentId"] = s.agent;
            if (!s.search.empty()) params["search"] = s.search;
            return params;
        },
        sessions_text);
    register_session_transfer_commands(cmd, exit_code);
}

struct NoOptions {};

void register_agents(CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("agents", "List the configured agents (agents.list)");
    register_listing(
        cmd, exit_code, "agents.list", std::make_shared<NoOptions>(), [](const NoOptions&) { return json::object{}; },
        agents_text);
}

struct ModelsOptions {
    std::string provider;
};

void register_models(CLI::App& app, int& exit_code) {
    auto mo = std::make_shared<ModelsOptions>();
    auto* cmd = app.add_subcommand("models", "List the models the gateway can use, with prices (models.list)");
    cmd->add_option("--provider", mo->provider, "Only this provider's models, e.g. openai");
    register_listing(
        cmd, exit_code, "models.list", mo,
        [](const ModelsOptions& m) {
            json::object params;
            if (!m.provider.empty()) params["provider"] = m.provider;
            return params;
        },
        models_text);
}

struct UsageOptions {
    int days = 0;
};

void register_usage(CLI::App& app, int& exit_code) {
    auto uo = std::make_shared<UsageOptions>();
    auto* cmd = app.add_subcommand("usage", "Token usage and cost per day (usage.cost)");
    cmd->add_option("--days", uo->days, "Cover the last N days, today included (1-366; default 30)")
        ->check(CLI::Range(1, 366));
    register_listing(
        cmd, exit_code, "usage.cost", uo,
        [](const UsageOptions& u) {
            json::object params;
            if (u.days > 0) params["days"] = u.days;
            return params;
        },
        usage_text);
}

// ---- chat ---------------------------------------------------------------------------------------

struct ChatOptions {
    std::string session = "agent:main:main";
    std::string message;
    CLI::Option* message_opt = nullptr;
    std::string thinking;
    int timeout_s = 600;
};

const std::vector<std::string> kChatScopes = {"operator.read", "operator.write"};
constexpr std::chrono::milliseconds kPollInterval{100};
// After chat.abort, how long to wait for the gateway's `aborted` event before giving up on it.
constexpr std::chrono::seconds kAbortGrace{10};

/// The assistant text a `chat` event carries: the text blocks of `message` (cumulative), or, when
/// a v4 event has no message, `deltaText` applied to what was shown so far.
std::optional<std::string> event_text(const json::object& ev, const std::string& shown) {
    if (const json::object* m = core::get_object(ev, "message")) {
        auto it = m->find("content");
        if (it != m->end() && it->value().is_string()) return std::string(it->value().get_string());
        if (it != m->end() && it->value().is_array()) {
            std::string text;
            for (const auto& b : it->value().get_array()) {
                if (!b.is_object() || str_or(b.get_object(), "type") != "text") continue;
                if (const json::string* s = core::get_string(b.get_object(), "text")) text += core::sv(*s);
            }
            return text;
        }
        return std::nullopt;
    }
    if (const json::string* d = core::get_string(ev, "deltaText")) {
        if (core::get_bool(ev, "replace").value_or(false)) return std::string(core::sv(*d));
        return shown + std::string(core::sv(*d));
    }
    return std::nullopt;
}

/// Streams one run's text to stdout: only what was not printed yet.
struct ReplyPrinter {
    std::string shown;

    void update(const std::string& text) {
        if (text.starts_with(shown)) {
            std::cout << std::string_view(text).substr(shown.size());
        } else {
            // The text was rewritten (v4 replace, a retry): start over on a fresh line.
            std::cout << (shown.empty() ? "" : "\n") << text;
        }
        shown = text;
        std::cout.flush();
    }
    void end_line() {
        if (!shown.empty() && shown.back() != '\n') std::cout << "\n";
        std::cout.flush();
    }
};

/// Sends one user message and follows its run to the end. Returns the turn's exit code.
int chat_turn(GatewayClient& gw, const ChatOptions& co, bool json_out, const std::string& text) {
    const std::string idem = util::uuid_v4();
    json::object params{{"sessionKey", co.session}, {"message", text}, {"idempotencyKey", idem}};
    if (!co.thinking.empty()) params["thinking"] = co.thinking;
    json::value ack_value;
    try {
        ack_value = gw.call("chat.send", params, std::chrono::seconds(10));
    } catch (const client::RpcError& e) {
        print_error(e);
        return kExitRpcError;
    }
    const json::object empty;
    const json::object& ack = ack_value.is_object() ? ack_value.get_object() : empty;
    const std::string run_id = str_or(ack, "runId", idem);
    const std::string status = str_or(ack, "status");
    if (status.empty() && ack.contains("aborted")) {
        // A stop phrase ("/stop", "stop"): the gateway aborted the session's runs, started none.
        if (json_out) {
            std::cout << json::serialize(ack) << "\n";
        } else {
            std::cout << (core::get_bool(ack, "aborted").value_or(false) ? "[aborted]" : "[nothing to abort]") << "\n";
        }
        return kExitOk;
    }
    if (status == "ok") return kExitOk;  // a cached final for this key: the run ended before

    InterruptGuard guard;
    InterruptGuard::clear();
    ReplyPrinter out;
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::seconds(co.timeout_s);
    std::optional<Clock::time_point> abort_deadline;
    auto send_abort = [&] {
        json::value p = json::object{{"sessionKey", co.session}, {"runId", run_id}};
        gw.send_request("chat.abort", &p);  // best effort: its reply is read and dropped below
        abort_deadline = Clock::now() + kAbortGrace;
    };
    for (;;) {
        if (InterruptGuard::interrupted() && !abort_deadline) {
            send_abort();
            // A second Ctrl-C should end the CLI even if the gateway never confirms the abort.
            guard.release();
        }
        if (!abort_deadline && Clock::now() >= deadline) {
            send_abort();
            out.end_line();
            std::cerr << "error: no end of the reply within " << co.timeout_s << " s; asked the gateway to abort it\n";
            return kExitNoAnswer;
        }
        if (abort_deadline && Clock::now() >= *abort_deadline) {
            out.end_line();
            if (!json_out) std::cout << "[aborted]\n";
            std::cerr << "error: the gateway did not confirm the abort\n";
            return kExitRpcError;
        }
        client::Frame frame;
        try {
            frame = gw.read_frame(kPollInterval);
        } catch (const client::TimeoutError&) {
            continue;
        }
        const json::object* f = frame.json.if_object();
        if (!f || str_or(*f, "type") != "event" || str_or(*f, "event") != "chat") continue;
        const json::object* ev = core::get_object(*f, "payload");
        if (!ev || str_or(*ev, "runId") != run_id) continue;
        const std::string state = str_or(*ev, "state");
        if (json_out) {
            std::cout << json::serialize(*ev) << "\n";
            std::cout.flush();
        } else if (state != "error") {
            if (auto t = event_text(*ev, out.shown)) out.update(*t);
        }
        if (state == "final") {
            out.end_line();
            return kExitOk;
        }
        if (state == "aborted") {
            out.end_line();
            if (!json_out) std::cout << "[aborted]\n";
            return kExitRpcError;
        }
        if (state == "error") {
            out.end_line();
            std::cerr << "error: " << str_or(*ev, "errorMessage", "the run failed") << "\n";
            return kExitRpcError;
        }
    }
}

void register_chat(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<CommonOptions>();
    auto co = std::make_shared<ChatOptions>();
    auto* cmd = app.add_subcommand(
        "chat", "Talk to an agent: sends each line (or --message) with chat.send and streams the reply");
    cmd->add_option("-s,--session", co->session, "Session key")->capture_default_str();
    co->message_opt = cmd->add_option("-m,--message", co->message, "Send this one message, then exit");
    cmd->add_option("--thinking", co->thinking, "Thinking level for each turn (off, minimal, low, medium, high)");
    cmd->add_option("--timeout", co->timeout_s, "Seconds to wait for each reply to end (then it is aborted)")
        ->check(CLI::Range(1, 24 * 3600))
        ->capture_default_str();
    add_common_options(cmd, *o, /*with_timeout=*/false);
    cmd->footer(std::string("Without --message, reads one message per line from stdin until EOF or /exit.\n"
                            "Ctrl-C during a reply aborts it (chat.abort); --json prints each chat event.\n") +
                kTargetHelp);
    cmd->callback([&exit_code, o, co] {
        if (co->session.empty()) {
            std::cerr << "error: --session must not be empty\n";
            exit_code = kExitNoAnswer;
            return;
        }
        exit_code = with_gateway(*o, kChatScopes, [&](GatewayClient& gw, const json::object&, const GatewayTarget&) {
            if (co->message_opt->count() > 0) return chat_turn(gw, *co, o->json, co->message);
            const bool tty = ::isatty(STDIN_FILENO) == 1;
            int rc = kExitOk;
            std::string line;
            for (;;) {
                if (tty) std::cout << "> " << std::flush;
                if (!std::getline(std::cin, line)) {
                    if (tty) std::cout << "\n";
                    break;
                }
                while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
                    line.pop_back();
                if (line.empty()) continue;
                if (line == "/exit") break;
                rc = std::max(rc, chat_turn(gw, *co, o->json, line));
            }
            return rc;
        });
    });
}

}  // namespace

void register_agent_commands(CLI::App& app, int& exit_code) {
    register_sessions(app, exit_code);
    register_agents(app, exit_code);
    register_models(app, exit_code);
    register_usage(app, exit_code);
    register_chat(app, exit_code);
}

}  // namespace pincer::cli
