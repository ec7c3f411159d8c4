#pragma once
/// `agents.list/create/update/delete` and `agents.files.list/get/set` (methods.md §3): agents are
/// config-backed (`agents.list[]` in the JSON5 config); workspace files live on disk.
#include <filesystem>
#include <string>
#include <string_view>

#include "dispatch/gateway.hpp"
#include "dispatch/method_table.hpp"
#include "methods/config.hpp"

namespace pincer::methods {

/// The reference's normalizeAgentId: lowercase; runs of characters outside [a-z0-9_-] become '-';
/// leading/trailing '-' trimmed; at most 64 characters; empty -> "main".
std::string normalize_agent_id(std::string_view raw);

/// Registers the agents group. `config` and `gateway` must outlive the table; `state_dir` holds
/// the default workspaces (`<state>/workspace`, `<state>/workspace-<id>`) and the trash.
void register_agents(dispatch::MethodTable& table, dispatch::Gateway& gateway, ConfigService& config,
                     std::filesystem::path state_dir);

}  // namespace pincer::methods
