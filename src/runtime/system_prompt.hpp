#pragma once
/// The system prompt of an agent turn, assembled the way OpenClaw bootstraps an agent: a short
/// gateway preamble (identity, tools, workspace, time), then the workspace files AGENTS.md,
/// SOUL.md, TOOLS.md, IDENTITY.md, USER.md (each under a `## <name>` heading, truncated past a
/// cap), then pending system events (cron results, node notices) for this turn.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "runtime/model_call.hpp"

namespace pincer::runtime {

struct PromptInputs {
    std::filesystem::path workspace;
    std::string agent_id = "main";
    std::string agent_name;  // from agents.list[].name or IDENTITY.md; may be empty
    std::vector<ToolSpec> tools;
    std::vector<std::string> system_events;  // oldest first
    int64_t now_ms = 0;
    /// Per-file cap (OpenClaw's bootstrapMaxChars default); longer files keep head and tail.
    size_t max_file_chars = 20'000;
};

/// Reads the workspace files (missing or unreadable ones are skipped; symlinks leaving the
/// workspace are not followed) and returns the prompt. Blocking: call on the pool.
std::string build_system_prompt(const PromptInputs& in);

/// The bootstrap file names read into the prompt, in prompt order.
const std::vector<std::string>& prompt_file_names();

}  // namespace pincer::runtime
