// agents.* and agents.files.* over the real socket, against the config file and the workspace on disk.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>

#include "client/gateway_client.hpp"
#include "support/gateway_process.hpp"
#include "support/helpers.hpp"

using namespace pincer;
using namespace pincer::e2e;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

const json::object* find_agent(const json::value& list, std::string_view id) {
    for (const auto& a : list.at("agents").as_array()) {
        if (a.at("id").as_string() == id) return &a.as_object();
    }
    return nullptr;
}

int mode_of(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return -1;
    return static_cast<int>(st.st_mode & 0777);
}

}  // namespace

TEST(AgentsList, DefaultIsMainWithTheStateWorkspace) {
    GatewayProcess gw;
    auto c = std::make_unique<client::GatewayClient>();
    auto hello = c->connect(cli_opts(gw));
    int advertised = 0;
    for (const auto& m : hello.at("features").at("methods").as_array()) {
        const auto& s = m.as_string();
        advertised += s == "agents.list" || s == "agents.create" || s == "agents.files.set";
    }
    EXPECT_EQ(advertised, 3);
    auto res = c->call("agents.list");
    EXPECT_EQ(res.at("defaultId"), "main");
    EXPECT_EQ(res.at("mainKey"), "main");
    EXPECT_EQ(res.at("scope"), "per-sender");
    ASSERT_EQ(res.at("agents").as_array().size(), 1u);
    const auto& main = res.at("agents").as_array()[0];
    EXPECT_EQ(main.at("id"), "main");
    EXPECT_EQ(str(main.at("workspace")), (gw.state_dir() / "workspace").string());

    auto files = c->call("agents.files.list", json::object{{"agentId", "main"}});
    EXPECT_EQ(files.at("agentId"), "main");
    ASSERT_EQ(files.at("files").as_array().size(), 8u);
    EXPECT_EQ(files.at("files").as_array()[0].at("name"), "AGENTS.md");
    EXPECT_TRUE(files.at("files").as_array()[0].at("missing").as_bool());
}

TEST(AgentsList, ReadsConfiguredAgents) {
    GatewayOptions opts;
    opts.config = R"({
      agents: { list: [ { id: "main" }, { id: "ops", name: "Ops", default: true, workspace: "/tmp/pincer-ops-ws",
                          model: { primary: "openai/gpt-5", fallbacks: ["anthropic/claude"] },
                          identity: { emoji: "🦀" } } ] },
      session: { mainKey: "home", scope: "global" },
    })";
    GatewayProcess gw(opts);
    auto c = connect_client(cli_opts(gw));
    auto res = c->call("agents.list");
    EXPECT_EQ(res.at("defaultId"), "ops");
    EXPECT_EQ(res.at("mainKey"), "home");
    EXPECT_EQ(res.at("scope"), "global");
    const auto* ops = find_agent(res, "ops");
    ASSERT_NE(ops, nullptr);
    EXPECT_EQ(ops->at("name"), "Ops");
    EXPECT_EQ(ops->at("workspace"), "/tmp/pincer-ops-ws");
    EXPECT_EQ(ops->at("model").at("primary"), "openai/gpt-5");
    EXPECT_EQ(ops->at("model").at("fallbacks"), json::array{"anthropic/claude"});
    EXPECT_EQ(ops->at("identity").at("emoji"), "🦀");
    const auto* main = find_agent(res, "main");
    ASSERT_NE(main, nullptr);
    EXPECT_EQ(str(main->at("workspace")), (gw.state_dir() / "workspace-main").string()) << "main is not the default";
}

TEST(AgentsCrud, CreateListFilesRoundTripUpdateDelete) {
    GatewayProcess gw;
    auto c = connect_client(cli_opts(gw));
    const fs::path ws = gw.state_dir() / "ws-research";
    auto created = c->call(
        "agents.create",
        json::object{{"name", "Research Bot"}, {"workspace", ws.string()}, {"model", "openai/gpt-5"}, {"emoji", "🔬"}});
    EXPECT_EQ(created.at("ok"), true);
    EXPECT_EQ(created.at("agentId"), "research-bot");
    EXPECT_EQ(created.at("name"), "Research Bot");
    EXPECT_EQ(str(created.at("workspace")), ws.string());
    EXPECT_TRUE(fs::is_directory(ws));
    EXPECT_EQ(mode_of(ws), 0700);
    EXPECT_TRUE(fs::exists(ws / "AGENTS.md"));
    EXPECT_NE(read_file(ws / "IDENTITY.md").find("Research Bot"), std::string::npos);
    EXPECT_FALSE(fs::exists(ws / "MEMORY.md"));
    EXPECT_NE(read_file(gw.config_path()).find("research-bot"), std::string::npos) << "written to the config";

    auto list = c->call("agents.list");
    EXPECT_EQ(list.at("defaultId"), "main") << "main stays the default";
    ASSERT_EQ(list.at("agents").as_array().size(), 2u);
    const auto* bot = find_agent(list, "research-bot");
    ASSERT_NE(bot, nullptr);
    EXPECT_EQ(bot->at("model").at("primary"), "openai/gpt-5");
    EXPECT_EQ(bot->at("identity").at("emoji"), "🔬");

    auto dup = rpc_error([&] { c->call("agents.create", json::object{{"name", "research bot"}}); });
    EXPECT_EQ(dup.code(), "INVALID_REQUEST");
    EXPECT_EQ(dup.message_text(), "agent \"research-bot\" already exists");
    auto reserved = rpc_error([&] { c->call("agents.create", json::object{{"name", "Main"}}); });
    EXPECT_EQ(reserved.message_text(), "\"main\" is reserved");

    // files.set -> files.get -> on disk.
    const std::string content = "# Memory\n\nremember: the user likes crabs 🦀\n";
    auto set = c->call("agents.files.set",
                       json::object{{"agentId", "research-bot"}, {"name", "MEMORY.md"}, {"content", content}});
    EXPECT_EQ(set.at("ok"), true);
    EXPECT_EQ(set.at("agentId"), "research-bot");
    EXPECT_EQ(set.at("file").at("missing"), false);
    EXPECT_EQ(str(set.at("file").at("content")), content);
    EXPECT_EQ(set.at("file").at("size").as_int64(), static_cast<int64_t>(content.size()));
    EXPECT_EQ(read_file(ws / "MEMORY.md"), content);
    EXPECT_EQ(mode_of(ws / "MEMORY.md"), 0600);
    auto got = c->call("agents.files.get", json::object{{"agentId", "research-bot"}, {"name", "MEMORY.md"}});
    EXPECT_EQ(str(got.at("file").at("content")), content);
    EXPECT_EQ(str(got.at("file").at("path")), (ws / "MEMORY.md").string());
    EXPECT_GT(got.at("file").at("updatedAtMs").as_int64(), 0);
    auto listed = c->call("agents.files.list", json::object{{"agentId", "research-bot"}});
    for (const auto& f : listed.at("files").as_array()) {
        EXPECT_FALSE(f.at("missing").as_bool()) << f;
        EXPECT_FALSE(f.as_object().contains("content"));
    }
    // A missing file is still ok.
    auto missing = c->call("agents.files.get", json::object{{"agentId", "main"}, {"name", "SOUL.md"}});
    EXPECT_EQ(missing.at("file").at("missing"), true);
    EXPECT_FALSE(missing.at("file").as_object().contains("content"));

    // update
    const fs::path ws2 = gw.state_dir() / "ws-research-2";
    auto upd = c->call("agents.update", json::object{{"agentId", "research-bot"},
                                                     {"name", "Researcher"},
                                                     {"workspace", ws2.string()},
                                                     {"model", json::object{{"primary", "anthropic/claude"}}}});
    EXPECT_EQ(boost::json::serialize(upd), R"({"ok":true,"agentId":"research-bot"})");
    EXPECT_TRUE(fs::exists(ws2 / "AGENTS.md"));
    list = c->call("agents.list");
    bot = find_agent(list, "research-bot");
    ASSERT_NE(bot, nullptr);
    EXPECT_EQ(bot->at("name"), "Researcher");
    EXPECT_EQ(str(bot->at("workspace")), ws2.string());
    EXPECT_EQ(bot->at("model").at("primary"), "anthropic/claude");
    auto upd_missing = rpc_error([&] { c->call("agents.update", json::object{{"agentId", "nope"}}); });
    EXPECT_EQ(upd_missing.message_text(), "agent \"nope\" not found");

    // delete (default deleteFiles:true moves the workspace to the trash)
    auto del = c->call("agents.delete", json::object{{"agentId", "research-bot"}});
    EXPECT_EQ(boost::json::serialize(del), R"({"ok":true,"agentId":"research-bot","removedBindings":0})");
    EXPECT_FALSE(fs::exists(ws2));
    EXPECT_TRUE(fs::exists(ws)) << "the old workspace is no longer the agent's";
    list = c->call("agents.list");
    EXPECT_EQ(list.at("agents").as_array().size(), 1u);
    EXPECT_EQ(find_agent(list, "research-bot"), nullptr);
    auto gone = rpc_error([&] { c->call("agents.files.list", json::object{{"agentId", "research-bot"}}); });
    EXPECT_EQ(gone.message_text(), "unknown agent id");
}

TEST(AgentsErrors, UnknownAgentBadNamesTraversalAndMain) {
    GatewayProcess gw;
    auto c = connect_client(cli_opts(gw));
    auto unknown = rpc_error([&] {
        c->call("agents.files.get", json::object{{"agentId", "ghost"}, {"name", "SOUL.md"}});
    });
    EXPECT_EQ(unknown.code(), "INVALID_REQUEST");
    EXPECT_EQ(unknown.message_text(), "unknown agent id");

    for (const char* name : {"notes.txt", "../AGENTS.md", "sub/SOUL.md", "..", "agents.md"}) {
        auto e = rpc_error([&] {
            c->call("agents.files.set", json::object{{"agentId", "main"}, {"name", name}, {"content", "x"}});
        });
        EXPECT_EQ(e.code(), "INVALID_REQUEST") << name;
        EXPECT_EQ(e.message_text(), std::string("unsupported file \"") + name + "\"");
        auto g = rpc_error([&] { c->call("agents.files.get", json::object{{"agentId", "main"}, {"name", name}}); });
        EXPECT_EQ(g.message_text(), std::string("unsupported file \"") + name + "\"");
    }
    EXPECT_FALSE(fs::exists(gw.state_dir() / "notes.txt"));

    // A symlink inside the workspace that points outside it is refused for reads and writes.
    const fs::path ws = gw.state_dir() / "workspace";
    fs::create_directories(ws);
    const fs::path outside = gw.state_dir() / "secret.txt";
    { std::ofstream(outside) << "secret"; }
    fs::create_symlink(outside, ws / "USER.md");
    auto escape = rpc_error([&] {
        c->call("agents.files.get", json::object{{"agentId", "main"}, {"name", "USER.md"}});
    });
    EXPECT_EQ(escape.code(), "INVALID_REQUEST");
    EXPECT_EQ(escape.message_text(), "unsafe workspace file \"USER.md\"");
    auto escape_set = rpc_error([&] {
        c->call("agents.files.set", json::object{{"agentId", "main"}, {"name", "USER.md"}, {"content", "pwned"}});
    });
    EXPECT_EQ(escape_set.message_text(), "unsafe workspace file \"USER.md\"");
    EXPECT_EQ(read_file(outside), "secret");
    auto listed = c->call("agents.files.list", json::object{{"agentId", "main"}});
    for (const auto& f : listed.at("files").as_array()) {
        if (f.at("name") == "USER.md") {
            EXPECT_EQ(f.at("missing"), true) << "an unsafe file is not stat'ed";
        }
    }

    auto del_main = rpc_error([&] { c->call("agents.delete", json::object{{"agentId", "main"}}); });
    EXPECT_EQ(del_main.code(), "INVALID_REQUEST");
    EXPECT_EQ(del_main.message_text(), "\"main\" cannot be deleted");
    auto del_unknown = rpc_error([&] { c->call("agents.delete", json::object{{"agentId", "ghost"}}); });
    EXPECT_EQ(del_unknown.message_text(), "agent \"ghost\" not found");
    auto no_name = rpc_error([&] { c->call("agents.create", json::object{}); });
    EXPECT_EQ(no_name.code(), "INVALID_REQUEST");
}

TEST(AgentsScopes, ReadOnlyClientCannotUseAdminMethods) {
    GatewayProcess gw;
    client::GatewayClient c;
    auto o = backend_opts(gw);
    o.min_protocol = o.max_protocol = 4;
    o.scopes = std::vector<std::string>{"operator.read", "operator.write"};
    c.connect(o);
    EXPECT_EQ(c.call("agents.list").at("defaultId"), "main");
    EXPECT_EQ(c.call("agents.files.list", json::object{{"agentId", "main"}}).at("agentId"), "main");
    const std::pair<const char*, json::object> calls[] = {
        {"agents.create", json::object{{"name", "x"}}},
        {"agents.update", json::object{{"agentId", "main"}, {"name", "x"}}},
        {"agents.delete", json::object{{"agentId", "x"}}},
        {"agents.files.set", json::object{{"agentId", "main"}, {"name", "SOUL.md"}, {"content", "x"}}},
    };
    for (const auto& [method, params] : calls) {
        auto e = rpc_error([&] { c.call(method, params); });
        EXPECT_EQ(e.code(), "FORBIDDEN") << method;
        EXPECT_EQ(e.message_text(), "missing scope: operator.admin") << method;
    }
    EXPECT_FALSE(fs::exists(gw.state_dir() / "workspace" / "SOUL.md"));
}
