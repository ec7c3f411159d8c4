#include "core/scopes.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace pincer::core {
namespace {

struct ScopeRow {
    std::string_view method;
    std::string_view scope;
};

// Sorted by method name (the generator emits them sorted), so lookups binary-search.
constexpr ScopeRow kScopeTable[] = {
#include "core/method_scopes_table.inc"
};

constexpr std::array<std::string_view, 8> kOperatorScopes = {
    "operator.read",      "operator.write",   "operator.admin", "operator.approvals",
    "operator.questions", "operator.pairing", "operator.talk",  "operator.talk.secrets"};

const ScopeRow* find_row(std::string_view method) {
    auto it = std::lower_bound(std::begin(kScopeTable), std::end(kScopeTable), method,
                               [](const ScopeRow& r, std::string_view m) { return r.method < m; });
    return (it != std::end(kScopeTable) && it->method == method) ? &*it : nullptr;
}

bool holds(std::span<const std::string> held, std::string_view s) {
    return std::find(held.begin(), held.end(), s) != held.end();
}

}  // namespace

std::string_view to_string(Role r) { return r == Role::node ? "node" : "operator"; }

std::span<const std::string_view> all_operator_scopes() { return kOperatorScopes; }

bool is_operator_scope(std::string_view scope) {
    return std::find(kOperatorScopes.begin(), kOperatorScopes.end(), scope) != kOperatorScopes.end();
}

bool scope_satisfied(std::span<const std::string> held, std::string_view required) {
    if (holds(held, required)) return true;
    if (required.starts_with("operator.") && holds(held, kScopeAdmin)) return true;
    return required == kScopeRead && holds(held, kScopeWrite);
}

std::string_view required_scope(std::string_view method) {
    if (const ScopeRow* row = find_row(method)) return row->scope;
    return kScopeAdmin;  // reserved prefixes and unknown methods alike: admin
}

bool is_known_method(std::string_view method) { return find_row(method) != nullptr; }

Authz authorize(std::string_view method, Role role, std::span<const std::string> scopes) {
    return authorize_scope(method, required_scope(method), role, scopes);
}

Authz authorize_scope(std::string_view method, std::string_view required, Role role,
                      std::span<const std::string> scopes) {
    if (method == "health") return {};
    const bool node_method = required == kNodeOnly;
    if (node_method != (role == Role::node)) return {AuthzOutcome::unauthorized_role, {}};
    if (role == Role::node) return {};
    if (holds(scopes, kScopeAdmin)) return {};
    if (scope_satisfied(scopes, required)) return {};
    return {AuthzOutcome::missing_scope, required};
}

bool event_allowed(std::string_view event, Role role, std::span<const std::string> scopes) {
    static constexpr std::string_view kOpen[] = {"tick", "presence", "health", "heartbeat", "shutdown",
                                                 "update.available"};
    if (std::find(std::begin(kOpen), std::end(kOpen), event) != std::end(kOpen)) return true;
    if (event == "voicewake.changed" || event == "voicewake.routing.changed") {
        return role == Role::node || scope_satisfied(scopes, kScopeRead);
    }
    if (role == Role::node) return false;
    static constexpr std::string_view kRead[] = {"agent",          "chat",           "chat.side_result", "cron",
                                                 "sessions.changed", "session.message", "session.tool"};
    if (std::find(std::begin(kRead), std::end(kRead), event) != std::end(kRead))
        return scope_satisfied(scopes, kScopeRead);
    if (event == "talk.mode") return scope_satisfied(scopes, kScopeWrite);
    if (event.starts_with("exec.approval.") || event.starts_with("plugin.approval."))
        return scope_satisfied(scopes, kScopeApprovals);
    if (event.starts_with("device.pair.") || event.starts_with("node.pair."))
        return scope_satisfied(scopes, kScopePairing);
    if (event.starts_with("plugin.")) return scope_satisfied(scopes, kScopeWrite);
    return false;
}

}  // namespace pincer::core
