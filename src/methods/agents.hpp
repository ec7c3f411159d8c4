#pragma once
/// `agents.list/create/update/delete` and `agents.files.list/get/set` (methods.md §3): agents are
/// config-backed (`agents.list[]` in the JSON5 config); workspace files live on disk.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "dispatch/gateway.hpp"
#include "dispatch/method_table.hpp"
#include "methods/config.hpp"

namespace pincer::methods {

/// The reference's normalizeAgentId: lowercase; runs of characters outside [a-z0-9_-] become '-';
/// leading/trailing '-' trimmed; at most 64 characters; empty -> "main".
std::string normalize_agent_id(std::string_view raw);

/// An agent as a run needs it: its id, display name and workspace directory.
struct AgentTarget {
    std::string id;
    std::string name;  // agents.list[].name or identity.name; may be empty
    std::filesystem::path workspace;
};

/// The default agent id: the `agents.list` entry with default:true, else the first, else `main`.
std::string default_agent_id(const json::value& cfg);
/// The configured agent `id` (the implicit `main` always exists); nullopt when unknown.
std::optional<AgentTarget> find_agent(const json::value& cfg, const std::filesystem::path& state_dir,
                                      std::string_view id);
/// Creates the agent's workspace (0700) with the bootstrap files that are missing, as the first
/// run of an agent does in OpenClaw. Blocking; throws core::RpcException (UNAVAILABLE) on failure.
void ensure_agent_workspace(const AgentTarget& agent);

/// Registers the agents group. `config` and `gateway` must outlive the table; `state_dir` holds
/// the default workspaces (`<state>/workspace`, `<state>/workspace-<id>`) and the trash.
void register_agents(dispatch::MethodTable& table, dispatch::Gateway& gateway, ConfigService& config,
                     std::filesystem::path state_dir);

}  // namespace pincer::methods
