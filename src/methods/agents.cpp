#include "methods/agents.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <system_error>
#include <vector>

namespace pincer::methods {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kFileNames[] = {"AGENTS.md", "SOUL.md",      "TOOLS.md",     "IDENTITY.md",
                                           "USER.md",   "HEARTBEAT.md", "BOOTSTRAP.md", "MEMORY.md"};
constexpr size_t kMaxFileBytes = 4 * 1024 * 1024;

using core::throw_invalid;
[[noreturn]] void unavailable(std::string msg) {
    throw core::RpcException(core::RpcError::unavailable(std::move(msg)));
}

std::string dq(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::optional<std::string> str_of(const json::object& o, std::string_view key) {
    if (const auto* s = core::get_string(o, key)) return std::string(core::sv(*s));
    return std::nullopt;
}

fs::path expand_user(const std::string& s) {
    if (s == "~" || s.rfind("~/", 0) == 0) {
        const char* home = std::getenv("HOME");
        if (home && *home) return fs::path(home) / s.substr(s == "~" ? 1 : 2);
    }
    return fs::path(s);
}

fs::path absolute_workspace(const std::string& raw) {
    std::error_code ec;
    fs::path p = fs::absolute(expand_user(raw), ec);
    if (ec) throw_invalid("invalid workspace path");
    return p.lexically_normal();
}

struct Agent {
    std::string id;
    const json::object* entry = nullptr;  // null for the implicit main agent
    fs::path workspace;
};

struct Roster {
    std::vector<Agent> agents;
    std::string default_id = "main";

    const Agent* find(std::string_view id) const {
        for (const auto& a : agents)
            if (a.id == id) return &a;
        return nullptr;
    }
};

const json::object* agents_object(const json::value& cfg) {
    return cfg.is_object() ? core::get_object(cfg.get_object(), "agents") : nullptr;
}

const json::array* agent_list(const json::value& cfg) {
    const json::object* agents = agents_object(cfg);
    return agents ? core::get_array(*agents, "list") : nullptr;
}

Roster build_roster(const json::value& cfg, const fs::path& state_dir) {
    Roster r;
    std::vector<const json::object*> entries;
    std::vector<std::string> ids;
    if (const json::array* list = agent_list(cfg)) {
        for (const auto& v : *list) {
            if (!v.is_object()) continue;
            auto raw = str_of(v.get_object(), "id");
            if (!raw) continue;
            std::string id = normalize_agent_id(*raw);
            if (std::find(ids.begin(), ids.end(), id) != ids.end()) continue;
            ids.push_back(id);
            entries.push_back(&v.get_object());
        }
    }
    // Default: the entry with default:true, else the first, else main.
    if (!ids.empty()) r.default_id = ids.front();
    for (size_t i = 0; i < entries.size(); ++i) {
        if (core::get_bool(*entries[i], "default").value_or(false)) {
            r.default_id = ids[i];
            break;
        }
    }
    std::optional<std::string> default_ws;
    if (const json::object* agents = agents_object(cfg)) {
        if (const json::object* d = core::get_object(*agents, "defaults")) default_ws = str_of(*d, "workspace");
    }
    auto workspace_for = [&](const std::string& id, const json::object* e) {
        if (e) {
            if (auto w = str_of(*e, "workspace"); w && !w->empty()) return absolute_workspace(*w);
        }
        if (id == r.default_id) {
            if (default_ws && !default_ws->empty()) return absolute_workspace(*default_ws);
            return state_dir / "workspace";
        }
        return state_dir / ("workspace-" + id);
    };
    if (std::find(ids.begin(), ids.end(), "main") == ids.end()) {
        r.agents.push_back(Agent{"main", nullptr, workspace_for("main", nullptr)});
    }
    for (size_t i = 0; i < entries.size(); ++i) {
        r.agents.push_back(Agent{ids[i], entries[i], workspace_for(ids[i], entries[i])});
    }
    return r;
}

json::object summary(const Agent& a) {
    json::object o;
    o["id"] = a.id;
    if (a.entry) {
        if (auto n = str_of(*a.entry, "name")) o["name"] = *n;
        if (const json::object* ident = core::get_object(*a.entry, "identity")) {
            json::object out;
            for (const char* k : {"name", "theme", "emoji", "avatar", "avatarUrl"}) {
                if (auto v = str_of(*ident, k)) out[k] = *v;
            }
            if (!out.empty()) o["identity"] = std::move(out);
        }
    }
    o["workspace"] = a.workspace.string();
    if (a.entry) {
        auto it = a.entry->find("model");
        if (it != a.entry->end()) {
            if (it->value().is_string()) {
                o["model"] = json::object{{"primary", it->value()}};
            } else if (it->value().is_object()) {
                json::object m;
                const auto& mo = it->value().get_object();
                if (auto p = str_of(mo, "primary")) m["primary"] = *p;
                if (const json::array* f = core::get_array(mo, "fallbacks")) m["fallbacks"] = *f;
                o["model"] = std::move(m);
            }
        }
    }
    return o;
}

json::object list_agents(const json::value& cfg, const fs::path& state_dir) {
    Roster r = build_roster(cfg, state_dir);
    json::object out;
    out["defaultId"] = r.default_id;
    std::string main_key = "main", scope = "per-sender";
    if (cfg.is_object()) {
        if (const json::object* s = core::get_object(cfg.get_object(), "session")) {
            if (auto k = str_of(*s, "mainKey"); k && !k->empty()) main_key = *k;
            if (auto k = str_of(*s, "scope"); k && (*k == "global" || *k == "per-sender")) scope = *k;
        }
    }
    out["mainKey"] = main_key;
    out["scope"] = scope;
    json::array agents;
    for (const auto& a : r.agents) agents.emplace_back(summary(a));
    out["agents"] = std::move(agents);
    return out;
}

// ---- files --------------------------------------------------------------------------------------

void fsync_dir(const fs::path& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

/// Creates `dir` (and parents) when missing; a newly created leaf gets 0700.
void ensure_dir(const fs::path& dir) {
    std::error_code ec;
    if (fs::is_directory(dir, ec)) return;
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir)) unavailable("cannot create workspace: " + dir.string());
    ::chmod(dir.c_str(), 0700);
}

/// Writes `content` to `dir/name` atomically (temp + fsync + rename, 0600).
bool write_atomic(const fs::path& dir, std::string_view name, std::string_view content, std::string* err) {
    std::string tmpl = (dir / ("." + std::string(name) + ".tmp-XXXXXX")).string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    int fd = ::mkostemp(buf.data(), O_CLOEXEC);
    if (fd < 0) {
        *err = std::strerror(errno);
        return false;
    }
    const std::string tmp(buf.data());
    bool ok = ::fchmod(fd, 0600) == 0;
    size_t off = 0;
    while (ok && off < content.size()) {
        ssize_t n = ::write(fd, content.data() + off, content.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
            ok = false;
        else
            off += static_cast<size_t>(n);
    }
    if (ok) ok = ::fsync(fd) == 0;
    if (!ok) *err = std::strerror(errno);
    ::close(fd);
    if (ok && ::rename(tmp.c_str(), (dir / std::string(name)).c_str()) != 0) {
        *err = std::strerror(errno);
        ok = false;
    }
    if (!ok) {
        ::unlink(tmp.c_str());
        return false;
    }
    fsync_dir(dir);
    return true;
}

std::string bootstrap_template(std::string_view name, std::string_view agent_name, std::string_view emoji,
                               std::string_view avatar) {
    if (name == "AGENTS.md")
        return "# AGENTS.md\n\nThis folder is your workspace. Read SOUL.md, USER.md and MEMORY.md at the start of "
               "each session.\n";
    if (name == "SOUL.md") return "# SOUL.md\n\nWho you are: helpful, direct, careful with the user's data.\n";
    if (name == "TOOLS.md") return "# TOOLS.md\n\nNotes about local tools and how to use them.\n";
    if (name == "IDENTITY.md") {
        std::string s = "# IDENTITY.md\n\n- Name: " + std::string(agent_name) + "\n";
        if (!emoji.empty()) s += "- Emoji: " + std::string(emoji) + "\n";
        if (!avatar.empty()) s += "- Avatar: " + std::string(avatar) + "\n";
        return s;
    }
    if (name == "USER.md") return "# USER.md\n\nAbout the user you help.\n";
    if (name == "HEARTBEAT.md") return "# HEARTBEAT.md\n\n";
    if (name == "BOOTSTRAP.md") return "# BOOTSTRAP.md\n\nFirst run: get to know the user, then delete this file.\n";
    return {};
}

/// Creates the workspace (0700) and the bootstrap files that are missing (MEMORY.md excluded).
void ensure_workspace(const fs::path& ws, std::string_view agent_name, std::string_view emoji,
                      std::string_view avatar) {
    ensure_dir(ws);
    for (std::string_view name : kFileNames) {
        if (name == "MEMORY.md") continue;
        struct stat st {};
        if (::lstat((ws / std::string(name)).c_str(), &st) == 0) continue;
        std::string err;
        if (!write_atomic(ws, name, bootstrap_template(name, agent_name, emoji, avatar), &err)) {
            unavailable("cannot write " + std::string(name) + ": " + err);
        }
    }
}

bool allowed_name(std::string_view name) {
    return std::find(std::begin(kFileNames), std::end(kFileNames), name) != std::end(kFileNames);
}

bool inside(const fs::path& root, const fs::path& p) {
    auto r = root.begin(), q = p.begin();
    for (; r != root.end(); ++r, ++q) {
        if (r->empty() && std::next(r) == root.end()) break;  // trailing separator
        if (q == p.end() || *r != *q) return false;
    }
    return true;
}

/// The file's path, refusing names outside the allow-list and paths that escape the workspace
/// (symlinks pointing outside, hard links).
fs::path safe_file_path(const fs::path& ws, const std::string& name) {
    if (!allowed_name(name)) throw_invalid("unsupported file " + dq(name));
    const fs::path p = ws / name;
    std::error_code ec;
    const fs::path root = fs::weakly_canonical(ws, ec);
    if (ec) throw_invalid("unsafe workspace file " + dq(name));
    const fs::path real = fs::weakly_canonical(p, ec);
    if (ec || !inside(root, real) || real.parent_path() != root) throw_invalid("unsafe workspace file " + dq(name));
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) {
        if (!S_ISREG(st.st_mode) || st.st_nlink > 1) throw_invalid("unsafe workspace file " + dq(name));
    }
    return p;
}

json::object file_entry(const fs::path& ws, const std::string& name, bool with_content) {
    const fs::path p = safe_file_path(ws, name);
    json::object o{{"name", name}, {"path", p.string()}};
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        o["missing"] = true;
        return o;
    }
    o["missing"] = false;
    o["size"] = static_cast<int64_t>(st.st_size);
    o["updatedAtMs"] = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
    if (with_content) {
        int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) unavailable("cannot read " + name + ": " + std::strerror(errno));
        std::string data;
        char buf[65536];
        for (;;) {
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            data.append(buf, static_cast<size_t>(n));
            if (data.size() > kMaxFileBytes) break;
        }
        ::close(fd);
        if (data.size() > kMaxFileBytes) throw_invalid("file too large: " + dq(name));
        o["content"] = data;
    }
    return o;
}

Agent resolve_agent(const json::value& cfg, const fs::path& state_dir, const std::string& raw_id, Roster& keep) {
    keep = build_roster(cfg, state_dir);
    const Agent* a = keep.find(normalize_agent_id(raw_id));
    if (!a) throw_invalid("unknown agent id");
    return *a;
}

json::value load_cfg(ConfigService& config) {
    json::value cfg = config.store().load().parsed;
    return cfg.is_null() ? json::value(json::object{}) : cfg;
}

// ---- config edits ---------------------------------------------------------------------------------

json::array& ensure_list(json::value& cfg) {
    if (!cfg.is_object()) cfg = json::object{};
    json::object& root = cfg.get_object();
    if (!root["agents"].is_object()) root["agents"] = json::object{};
    json::object& agents = root["agents"].get_object();
    if (!agents["list"].is_array()) agents["list"] = json::array{};
    return agents["list"].get_array();
}

json::object* find_entry(json::array& list, std::string_view id) {
    for (auto& v : list) {
        if (!v.is_object()) continue;
        auto raw = str_of(v.get_object(), "id");
        if (raw && normalize_agent_id(*raw) == id) return &v.get_object();
    }
    return nullptr;
}

void set_identity(json::object& entry, const json::object& params, const std::optional<std::string>& name) {
    auto emoji = str_of(params, "emoji");
    auto avatar = str_of(params, "avatar");
    if (!emoji && !avatar && !(name && entry.contains("identity"))) return;
    if (!entry["identity"].is_object()) entry["identity"] = json::object{};
    json::object& ident = entry["identity"].get_object();
    if (name) ident["name"] = *name;
    if (emoji) ident["emoji"] = *emoji;
    if (avatar) ident["avatar"] = *avatar;
}

std::string identity_field(const json::object& entry, std::string_view key) {
    if (const json::object* i = core::get_object(entry, "identity"))
        if (auto v = str_of(*i, key)) return *v;
    return {};
}

dispatch::PoolResult with_notify(ConfigService& config, json::object written, json::value payload) {
    dispatch::PoolResult r{std::move(payload), {}};
    if (!written.contains("noop")) {
        json::value applied = config.store().load().parsed;
        r.after_reply = [&config, applied] { config.notify_applied(applied); };
    }
    return r;
}

dispatch::PoolResult create_agent(ConfigService& config, const fs::path& state_dir, const json::object& params,
                                  int64_t now) {
    const std::string name = *str_of(params, "name");
    const std::string id = normalize_agent_id(name);
    if (id == "main") throw_invalid(dq("main") + " is reserved");
    auto ws_param = str_of(params, "workspace");
    fs::path ws;
    auto written = config.mutate(
        [&](json::value& cfg) {
            Roster r = build_roster(cfg, state_dir);
            if (r.find(id)) throw_invalid("agent " + dq(id) + " already exists");
            ws = ws_param && !ws_param->empty() ? absolute_workspace(*ws_param) : state_dir / ("workspace-" + id);
            json::array& list = ensure_list(cfg);
            // Seed the implicit main agent so it stays the default once the list is non-empty.
            if (list.empty()) list.emplace_back(json::object{{"id", "main"}});
            json::object entry{{"id", id}, {"name", name}, {"workspace", ws.string()}};
            if (auto it = params.find("model"); it != params.end() && !it->value().is_null())
                entry["model"] = it->value();
            if (params.contains("emoji") || params.contains("avatar")) {
                entry["identity"] = json::object{{"name", name}};
                set_identity(entry, params, name);
            }
            ensure_workspace(ws, name, str_of(params, "emoji").value_or(""), str_of(params, "avatar").value_or(""));
            list.emplace_back(std::move(entry));
        },
        now);
    json::object out{{"ok", true}, {"agentId", id}, {"name", name}, {"workspace", ws.string()}};
    if (auto it = params.find("model"); it != params.end() && !it->value().is_null()) out["model"] = it->value();
    return with_notify(config, std::move(written), std::move(out));
}

dispatch::PoolResult update_agent(ConfigService& config, const fs::path& state_dir, const json::object& params,
                                  int64_t now) {
    const std::string id = normalize_agent_id(*str_of(params, "agentId"));
    auto written = config.mutate(
        [&](json::value& cfg) {
            Roster r = build_roster(cfg, state_dir);
            const Agent* a = r.find(id);
            if (!a) throw_invalid("agent " + dq(id) + " not found");
            const fs::path old_ws = a->workspace;
            json::array& list = ensure_list(cfg);
            json::object* entry = find_entry(list, id);
            if (!entry) {  // the implicit main agent gets an explicit entry
                list.emplace_back(json::object{{"id", id}});
                entry = &list.back().get_object();
            }
            auto name = str_of(params, "name");
            if (name) (*entry)["name"] = *name;
            fs::path ws = old_ws;
            if (auto w = str_of(params, "workspace"); w && !w->empty()) {
                ws = absolute_workspace(*w);
                (*entry)["workspace"] = ws.string();
            }
            if (auto it = params.find("model"); it != params.end()) {
                if (it->value().is_null())
                    entry->erase("model");
                else
                    (*entry)["model"] = it->value();
            }
            set_identity(*entry, params, name);
            if (ws != old_ws) {
                const std::string shown = str_of(*entry, "name").value_or(id);
                ensure_workspace(ws, shown, identity_field(*entry, "emoji"), identity_field(*entry, "avatar"));
            }
        },
        now);
    return with_notify(config, std::move(written), json::object{{"ok", true}, {"agentId", id}});
}

/// Moves `p` to `<state>/trash/<id>-<ms>/<leaf>` (never deletes outright).
void move_to_trash(const fs::path& state_dir, const std::string& id, int64_t now, const fs::path& p,
                   std::string_view leaf) {
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(p, ec))) return;
    const fs::path dir = state_dir / "trash" / (id + "-" + std::to_string(now));
    fs::create_directories(dir, ec);
    ::chmod((state_dir / "trash").c_str(), 0700);
    fs::rename(p, dir / std::string(leaf), ec);
}

dispatch::PoolResult delete_agent(ConfigService& config, const fs::path& state_dir, const json::object& params,
                                  int64_t now) {
    const std::string id = normalize_agent_id(*str_of(params, "agentId"));
    if (id == "main") throw_invalid(dq("main") + " cannot be deleted");
    const bool delete_files = core::get_bool(params, "deleteFiles").value_or(true);
    int64_t removed_bindings = 0;
    fs::path ws;
    bool shared = false;
    auto written = config.mutate(
        [&](json::value& cfg) {
            Roster before = build_roster(cfg, state_dir);
            const Agent* a = before.find(id);
            if (!a || !a->entry) throw_invalid("agent " + dq(id) + " not found");
            ws = a->workspace;
            json::array& list = ensure_list(cfg);
            for (auto it = list.begin(); it != list.end();) {
                auto raw = it->is_object() ? str_of(it->get_object(), "id") : std::nullopt;
                if (raw && normalize_agent_id(*raw) == id)
                    it = list.erase(it);
                else
                    ++it;
            }
            json::object& root = cfg.get_object();
            if (auto b = root.find("bindings"); b != root.end() && b->value().is_array()) {
                json::array& bindings = b->value().get_array();
                for (auto it = bindings.begin(); it != bindings.end();) {
                    auto raw = it->is_object() ? str_of(it->get_object(), "agentId") : std::nullopt;
                    if (raw && normalize_agent_id(*raw) == id) {
                        it = bindings.erase(it);
                        ++removed_bindings;
                    } else {
                        ++it;
                    }
                }
            }
            Roster after = build_roster(cfg, state_dir);
            std::error_code ec;
            const fs::path canon = fs::weakly_canonical(ws, ec);
            for (const auto& other : after.agents) {
                if (fs::weakly_canonical(other.workspace, ec) == canon) shared = true;
            }
            // Never move a directory that holds the state directory (or is the home directory).
            const fs::path state = fs::weakly_canonical(state_dir, ec);
            const char* home = std::getenv("HOME");
            if (inside(canon, state) || canon == canon.root_path() || (home && canon == fs::weakly_canonical(home, ec)))
                shared = true;
        },
        now);
    if (delete_files) {
        if (!shared) move_to_trash(state_dir, id, now, ws, "workspace");
        move_to_trash(state_dir, id, now, state_dir / "agents" / id, "agent");
    }
    return with_notify(config, std::move(written),
                       json::object{{"ok", true}, {"agentId", id}, {"removedBindings", removed_bindings}});
}

json::value files_list(ConfigService& config, const fs::path& state_dir, const json::object& params) {
    Roster keep;
    Agent a = resolve_agent(load_cfg(config), state_dir, *str_of(params, "agentId"), keep);
    json::array files;
    for (std::string_view name : kFileNames) {
        try {
            files.emplace_back(file_entry(a.workspace, std::string(name), false));
        } catch (const core::RpcException&) {  // an unsafe file is listed as missing, not read
            files.emplace_back(
                json::object{{"name", name}, {"path", (a.workspace / std::string(name)).string()}, {"missing", true}});
        }
    }
    return json::object{{"agentId", a.id}, {"workspace", a.workspace.string()}, {"files", std::move(files)}};
}

json::value files_get(ConfigService& config, const fs::path& state_dir, const json::object& params) {
    Roster keep;
    Agent a = resolve_agent(load_cfg(config), state_dir, *str_of(params, "agentId"), keep);
    const std::string name = *str_of(params, "name");
    return json::object{
        {"agentId", a.id}, {"workspace", a.workspace.string()}, {"file", file_entry(a.workspace, name, true)}};
}

json::value files_set(ConfigService& config, const fs::path& state_dir, const json::object& params) {
    Roster keep;
    Agent a = resolve_agent(load_cfg(config), state_dir, *str_of(params, "agentId"), keep);
    const std::string name = *str_of(params, "name");
    const std::string content = *str_of(params, "content");
    if (!allowed_name(name)) throw_invalid("unsupported file " + dq(name));
    if (content.size() > kMaxFileBytes) throw_invalid("file too large: " + dq(name));
    ensure_dir(a.workspace);
    safe_file_path(a.workspace, name);
    std::string err;
    if (!write_atomic(a.workspace, name, content, &err)) unavailable("cannot write " + name + ": " + err);
    return json::object{{"ok", true},
                        {"agentId", a.id},
                        {"workspace", a.workspace.string()},
                        {"file", file_entry(a.workspace, name, true)}};
}

}  // namespace

std::string normalize_agent_id(std::string_view raw) {
    std::string out;
    bool dash = false;
    for (char c : raw) {
        char l = static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
        if ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '_' || l == '-') {
            out.push_back(l);
            dash = false;
        } else if (!dash) {
            out.push_back('-');
            dash = true;
        }
    }
    size_t b = out.find_first_not_of('-');
    if (b == std::string::npos) return "main";
    out = out.substr(b);
    out.erase(out.find_last_not_of('-') + 1);
    if (out.size() > 64) {
        out.resize(64);
        out.erase(out.find_last_not_of('-') + 1);
    }
    return out.empty() ? "main" : out;
}

std::string default_agent_id(const json::value& cfg) { return build_roster(cfg, {}).default_id; }

std::optional<AgentTarget> find_agent(const json::value& cfg, const fs::path& state_dir, std::string_view id) {
    Roster roster = build_roster(cfg, state_dir);
    const Agent* a = roster.find(normalize_agent_id(id));
    if (!a) return std::nullopt;
    std::string name;
    if (a->entry) {
        name = str_of(*a->entry, "name").value_or("");
        if (name.empty()) name = identity_field(*a->entry, "name");
    }
    return AgentTarget{a->id, name, a->workspace};
}

void ensure_agent_workspace(const AgentTarget& agent) { ensure_workspace(agent.workspace, agent.name, "", ""); }

void register_agents(dispatch::MethodTable& table, dispatch::Gateway& gateway, ConfigService& config,
                     std::filesystem::path state_dir) {
    using ReadFn = json::value (*)(ConfigService&, const fs::path&, const json::object&);
    using WriteFn = dispatch::PoolResult (*)(ConfigService&, const fs::path&, const json::object&, int64_t);
    auto add_read = [&](const char* name, ReadFn fn, dispatch::ParamSchema params) {
        dispatch::MethodSpec spec;
        spec.name = name;
        spec.scope = std::string(core::required_scope(name));
        spec.flags = dispatch::kAdvertise;
        spec.params = std::move(params);
        std::string what = name;
        spec.handler = dispatch::AsyncHandler(
            [&gateway, &config, state_dir, fn, what](const dispatch::CallView& call, dispatch::Responder reply) {
                json::object p = call.params;
                dispatch::reply_from_pool(gateway.loop(), std::move(reply), what,
                                          [&config, state_dir, fn, p] { return fn(config, state_dir, p); });
            });
        table.add(std::move(spec));
    };
    auto add_write = [&](const char* name, WriteFn fn, dispatch::ParamSchema params) {
        dispatch::MethodSpec spec;
        spec.name = name;
        spec.scope = std::string(core::required_scope(name));
        spec.flags = dispatch::kAdvertise;  // the reference budgets only config.apply/patch and update.run
        spec.params = std::move(params);
        std::string what = name;
        spec.handler = dispatch::AsyncHandler([&gateway, &config, state_dir, fn, what](const dispatch::CallView& call,
                                                                                       dispatch::Responder reply) {
            json::object p = call.params;
            const int64_t now = gateway.clock().now_ms();
            dispatch::reply_from_pool_then(gateway.loop(), std::move(reply), what,
                                           [&config, state_dir, fn, p, now] { return fn(config, state_dir, p, now); });
        });
        table.add(std::move(spec));
    };

    add_read(
        "agents.list",
        [](ConfigService& c, const fs::path& sd, const json::object&) -> json::value {
            return list_agents(load_cfg(c), sd);
        },
        dispatch::ParamSchema{});
    add_write("agents.create", create_agent,
              dispatch::ParamSchema{}
                  .string("name", true, true)
                  .string("workspace")
                  .any("model")
                  .string("emoji")
                  .string("avatar"));
    add_write("agents.update", update_agent,
              dispatch::ParamSchema{}
                  .string("agentId", true, true)
                  .string("name", false, true)
                  .string("workspace")
                  .any("model")
                  .string("emoji")
                  .string("avatar"));
    add_write("agents.delete", delete_agent,
              dispatch::ParamSchema{}.string("agentId", true, true).boolean("deleteFiles"));
    add_read("agents.files.list", files_list, dispatch::ParamSchema{}.string("agentId", true, true));
    add_read("agents.files.get", files_get, dispatch::ParamSchema{}.string("agentId", true, true).string("name", true));
    // files.set writes the workspace, not the config: no notify step.
    dispatch::ParamSchema set_params;
    set_params.string("agentId", true, true).string("name", true).string("content", true);
    add_read("agents.files.set", files_set, std::move(set_params));
}

}  // namespace pincer::methods
