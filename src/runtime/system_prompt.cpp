// The agent's system prompt: preamble, tools, workspace, time, bootstrap files, system events.
#include "runtime/system_prompt.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string_view>

#include "runtime/tools.hpp"
#include "runtime/workspace_fs.hpp"

namespace pincer::runtime {

namespace {

namespace fs = std::filesystem;

/// `percent`% of `n`, floored, without overflow. OpenClaw keeps 70% head and 20% tail of an
/// oversized bootstrap file.
size_t percent_of(size_t n, size_t percent) { return n / 100 * percent + n % 100 * percent / 100; }
// Bytes per character at most (UTF-8), used to size partial reads of huge files.
constexpr size_t kMaxUtf8 = 4;

bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

/// Characters (UTF-8 code points) in `s`.
size_t char_count(std::string_view s) {
    size_t n = 0;
    for (char c : s) n += continuation(c) ? 0 : 1;
    return n;
}

/// The first `n` characters of `s`.
std::string_view head_chars(std::string_view s, size_t n) {
    size_t i = 0;
    for (; i < s.size(); ++i) {
        if (!continuation(s[i])) {
            if (n == 0) break;
            --n;
        }
    }
    return s.substr(0, i);
}

/// The last `n` characters of `s`.
std::string_view tail_chars(std::string_view s, size_t n) {
    if (n == 0) return {};
    size_t i = s.size();
    while (i > 0) {
        --i;
        if (!continuation(s[i]) && --n == 0) break;
    }
    return s.substr(i);
}

std::string_view trim_end(std::string_view s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

std::string_view trim(std::string_view s) {
    s = trim_end(s);
    while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t'))
        s.remove_prefix(1);
    return s;
}

bool pread_all(int fd, std::string& out, size_t len, off_t at) {
    out.resize(len);
    size_t got = 0;
    while (got < len) {
        const ssize_t n = ::pread(fd, out.data() + got, len - got, at + static_cast<off_t>(got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<size_t>(n);
    }
    out.resize(got);
    return got == len;
}

/// The file's content for the prompt, cut to `max_chars` (head + marker + tail), or nullopt when
/// it is missing, unreadable, empty or a symlink leading out of the workspace.
std::optional<std::string> bootstrap_content(const fs::path& workspace, const std::string& name, size_t max_chars) {
    const ConfinedPath cp = confine_to_workspace(workspace, name, false);
    if (!cp.error.empty()) return std::nullopt;
    struct stat st {};
    std::string err;
    const int fd = wsfs::open_regular(cp.path, name, st, err);
    if (fd < 0) return std::nullopt;

    const size_t head_n = percent_of(max_chars, 70);
    const size_t tail_n = percent_of(max_chars, 20);
    const size_t size = static_cast<size_t>(st.st_size);
    std::string text;
    std::string tail_text;
    bool truncated = false;
    // Whatever the file's size, at most max_chars characters can reach the prompt: a huge file
    // is read only where the head and the tail come from.
    if (max_chars >= SIZE_MAX / (2 * kMaxUtf8) || size <= (max_chars + 1) * kMaxUtf8) {
        if (!pread_all(fd, text, size, 0)) {
            ::close(fd);
            return std::nullopt;
        }
        const std::string_view body = trim_end(text);
        if (char_count(body) > max_chars) {
            truncated = true;
            tail_text = std::string(tail_chars(body, tail_n));
            text = std::string(head_chars(body, head_n));
        } else {
            text.resize(body.size());
        }
    } else {
        truncated = true;
        const size_t tail_bytes = (tail_n + 1) * kMaxUtf8 + 4096;  // slack for trailing whitespace
        const size_t tail_at = size > tail_bytes ? size - tail_bytes : 0;
        std::string tail_raw;
        if (!pread_all(fd, text, std::min(size, head_n * kMaxUtf8), 0) ||
            !pread_all(fd, tail_raw, size - tail_at, static_cast<off_t>(tail_at))) {
            ::close(fd);
            return std::nullopt;
        }
        text = std::string(head_chars(text, head_n));
        tail_text = std::string(tail_chars(trim_end(tail_raw), tail_n));
    }
    ::close(fd);
    if (text.empty() && !truncated) return std::nullopt;
    if (!truncated) return text;
    return text + "\n[...truncated, read " + name + " for full content...]\n" + tail_text;
}

/// `ms` since the epoch as ISO 8601 UTC with milliseconds (JavaScript's toISOString).
std::string iso_utc(int64_t ms) {
    int64_t secs = ms / 1000;
    int64_t rem = ms % 1000;
    if (rem < 0) {
        rem += 1000;
        --secs;
    }
    const std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(rem));
    static constexpr const char* kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                            "Thursday", "Friday", "Saturday"};
    return std::string(buf) + " (" + kDays[tm.tm_wday % 7] + ")";
}

/// `s` on one line: a name or description must not break the prompt's structure.
std::string one_line(std::string_view s) {
    std::string out;
    for (char c : trim(s)) out += (c == '\n' || c == '\r') ? ' ' : c;
    return out;
}

}  // namespace

const std::vector<std::string>& prompt_file_names() {
    static const std::vector<std::string> names = {"AGENTS.md", "SOUL.md", "TOOLS.md", "IDENTITY.md", "USER.md"};
    return names;
}

std::string build_system_prompt(const PromptInputs& in) {
    std::string out;
    const std::string name = one_line(in.agent_name);
    out += "You are " + (name.empty() ? std::string("a personal assistant") : name) +
           " running inside Pincer, an OpenClaw-compatible gateway.\n";

    if (!in.tools.empty()) {
        out += "\n## Tooling\n\nTools available to you (call them by these exact names):\n";
        for (const ToolSpec& t : in.tools) {
            const std::string desc = one_line(t.description);
            out += "- " + t.name + (desc.empty() ? "" : ": " + desc) + "\n";
        }
    }

    out += "\n## Workspace\n\nWorkspace: " + in.workspace.string() + "\n";
    out += "Treat this directory as your working directory; relative file paths resolve against it.\n";
    out += "\n## Current Date & Time\n\nCurrent time (UTC): " + iso_utc(in.now_ms) + "\n";
    out += "\n## Runtime\n\nAgent: " + one_line(in.agent_id) + "\n";

    std::string files;
    bool soul = false;
    for (const std::string& file : prompt_file_names()) {
        auto content = bootstrap_content(in.workspace, file, in.max_file_chars);
        if (!content) continue;
        soul = soul || file == "SOUL.md";
        files += "\n## " + file + "\n\n" + *content + "\n";
    }
    if (!files.empty()) {
        out += "\n# Project Context\n\nThe following workspace files have been loaded:\n";
        if (soul) out += "Embody the persona and tone described in SOUL.md.\n";
        out += files;
    }

    std::string events;
    for (const std::string& e : in.system_events) {
        const std::string_view text = trim(e);
        if (text.empty()) continue;
        // Continuation lines are indented so a multi-line event stays one list item.
        events += "- ";
        for (char c : text) {
            events += c;
            if (c == '\n') events += "  ";
        }
        events += "\n";
    }
    if (!events.empty()) out += "\n# System events\n\nThese happened since your last turn (oldest first):\n" + events;
    return out;
}

}  // namespace pincer::runtime
