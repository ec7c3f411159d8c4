#pragma once
/// Roles, operator scopes, the method -> scope table of the reference, and event delivery guards.
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pincer::core {

enum class Role { operator_role, node };
std::string_view to_string(Role r);

inline constexpr std::string_view kScopeAdmin = "operator.admin";
inline constexpr std::string_view kScopeRead = "operator.read";
inline constexpr std::string_view kScopeWrite = "operator.write";
inline constexpr std::string_view kScopeApprovals = "operator.approvals";
inline constexpr std::string_view kScopePairing = "operator.pairing";
/// Marker in the scope table for node-role-only methods.
inline constexpr std::string_view kNodeOnly = "node";

/// Every operator scope the reference knows, in the order its clients send them.
std::span<const std::string_view> all_operator_scopes();
bool is_operator_scope(std::string_view scope);

/// True when `held` satisfies `required`: admin satisfies every operator scope and write
/// satisfies read.
bool scope_satisfied(std::span<const std::string> held, std::string_view required);

/// The scope the reference requires for `method`: its table, then the reserved admin prefixes
/// (`config.`, `exec.approvals.`, `wizard.`, `update.`), then operator.admin (default deny).
/// Returns kNodeOnly for node-role methods.
std::string_view required_scope(std::string_view method);
/// True when the reference table lists `method` (built or not).
bool is_known_method(std::string_view method);

enum class AuthzOutcome { allowed, unauthorized_role, missing_scope };
struct Authz {
    AuthzOutcome outcome = AuthzOutcome::allowed;
    std::string_view missing;  // the required scope when outcome == missing_scope
};
/// The reference's per-request check: health for anyone; node methods only for nodes and nodes
/// only those; admin passes; otherwise the required scope must be held.
Authz authorize(std::string_view method, Role role, std::span<const std::string> scopes);
/// The same check against an explicit required scope (rows of Pincer's own method table).
Authz authorize_scope(std::string_view method, std::string_view required, Role role,
                      std::span<const std::string> scopes);

/// Whether a broadcast event may reach a client (fail-closed for unknown events).
bool event_allowed(std::string_view event, Role role, std::span<const std::string> scopes);

}  // namespace pincer::core
