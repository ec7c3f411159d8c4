// config.get / set / patch / apply / schema against the real binary and the file on disk
// (methods.md §5), plus hot reload of auth and of external edits.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "client/gateway_client.hpp"
#include "support/gateway_process.hpp"
#include "support/helpers.hpp"
#include "util/crypto.hpp"

using namespace pincer;
using namespace pincer::e2e;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

constexpr const char* kRedacted = "__OPENCLAW_REDACTED__";
const std::string kToken = "cfg-token-AAAAbbbbCCCCddddEEEEffff0123";

// Replaces the file the way an editor with atomic save does (no half-written file is ever seen).
void write_file_atomic(const std::filesystem::path& p, const std::string& text) {
    auto tmp = p;
    tmp += ".e2e-tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
    }
    std::filesystem::rename(tmp, p);
}

json::value file_json(const e2e::GatewayProcess& gw) { return json::parse(read_file(gw.config_path())); }

const json::value* at_path(const json::value& root, std::initializer_list<std::string_view> keys) {
    const json::value* cur = &root;
    for (auto k : keys) {
        const auto* o = cur->if_object();
        if (!o) return nullptr;
        auto it = o->find(k);
        if (it == o->end()) return nullptr;
        cur = &it->value();
    }
    return cur;
}

std::string str_at(const json::value& root, std::initializer_list<std::string_view> keys) {
    const json::value* v = at_path(root, keys);
    return v && v->is_string() ? std::string(v->get_string()) : std::string("<missing>");
}

std::string base_config(const std::string& token = kToken, const std::string& extra = "") {
    return "// written by the e2e test\n{\n  gateway: {\n    port: 18789,\n    auth: { mode: \"token\", token: \"" +
           token + "\" }, // the secret\n  },\n  logging: { level: \"info\" },\n" + extra + "}\n";
}

e2e::GatewayOptions opts_with_config(std::string cfg) {
    e2e::GatewayOptions o;
    o.config = std::move(cfg);
    o.token = "";  // the config file's token is the only one (no --token override)
    return o;
}

// Options for a cli client authenticated with `token` (3 s timeouts, as everywhere in this file).
client::ConnectOptions token_opts(const e2e::GatewayProcess& gw, const std::string& token) {
    auto o = cli_opts(gw, 3s);
    o.token = token;
    return o;
}

std::unique_ptr<client::GatewayClient> connect(const e2e::GatewayProcess& gw, const std::string& token) {
    return connect_client(token_opts(gw, token));
}

json::value get(client::GatewayClient& c) { return c.call("config.get", json::object{}, 3s); }
std::string hash_of(client::GatewayClient& c) { return std::string(get(c).at("hash").as_string()); }

bool array_has(const json::value& arr, std::string_view s) {
    if (!arr.is_array()) return false;
    for (const auto& v : arr.get_array())
        if (v.is_string() && v.get_string() == s) return true;
    return false;
}

}  // namespace

TEST(Config, GetReturnsRedactedSnapshotWithFileHash) {
    e2e::GatewayProcess gw(opts_with_config(base_config()));
    auto c = connect(gw, kToken);
    json::value v = get(*c);
    const auto& o = v.as_object();
    EXPECT_EQ(o.at("path").as_string(), gw.config_path().string());
    EXPECT_EQ(o.at("exists"), json::value(true));
    ASSERT_TRUE(o.at("raw").is_string());
    const std::string raw(o.at("raw").as_string());
    EXPECT_NE(raw.find(std::string("\"") + kRedacted + "\""), std::string::npos) << raw;
    EXPECT_NE(raw.find("// written by the e2e test"), std::string::npos) << "raw keeps comments: " << raw;
    EXPECT_EQ(str_at(o.at("parsed"), {"gateway", "auth", "token"}), kRedacted);
    EXPECT_EQ(at_path(o.at("parsed"), {"gateway", "port"})->to_number<int64_t>(), 18789);
    EXPECT_EQ(str_at(o.at("parsed"), {"logging", "level"}), "info");
    EXPECT_EQ(o.at("valid"), json::value(true));
    EXPECT_EQ(o.at("hash").as_string(), util::sha256_hex(read_file(gw.config_path())));
    EXPECT_EQ(o.at("hash").as_string().size(), 64u);
    ASSERT_TRUE(o.at("issues").is_array());
    EXPECT_TRUE(o.at("issues").as_array().empty());
    // The real secret appears nowhere in the answer.
    EXPECT_EQ(json::serialize(v).find(kToken), std::string::npos);
}

TEST(Config, SetRequiresFreshBaseHash) {
    e2e::GatewayProcess gw(opts_with_config(base_config()));
    auto c = connect(gw, kToken);
    const std::string before = read_file(gw.config_path());
    json::object params{{"raw", base_config(kRedacted)}};
    auto missing = rpc_error([&] { c->call("config.set", params, 3s); });
    EXPECT_EQ(missing.code(), "INVALID_REQUEST");
    EXPECT_EQ(missing.message_text(), "config base hash required; re-run config.get and retry");
    params["baseHash"] = "";
    EXPECT_EQ(rpc_error([&] { c->call("config.set", params, 3s); }).message_text(),
              "config base hash required; re-run config.get and retry");
    params["baseHash"] = std::string(64, '0');
    auto stale = rpc_error([&] { c->call("config.set", params, 3s); });
    EXPECT_EQ(stale.code(), "INVALID_REQUEST");
    EXPECT_EQ(stale.message_text(), "config changed since last load; re-run config.get and retry");
    EXPECT_EQ(read_file(gw.config_path()), before);

    // A fresh hash works once; afterwards that hash is stale.
    const std::string h1 = hash_of(*c);
    params["baseHash"] = h1;
    auto ok = c->call("config.set", params, 3s).as_object();
    EXPECT_EQ(ok.at("ok"), json::value(true));
    EXPECT_EQ(ok.at("path").as_string(), gw.config_path().string());
    EXPECT_NE(read_file(gw.config_path()), before);
    EXPECT_EQ(rpc_error([&] { c->call("config.set", params, 3s); }).message_text(),
              "config changed since last load; re-run config.get and retry");
}

TEST(Config, SetWithRedactedTokenKeepsRealToken) {
    e2e::GatewayProcess gw(opts_with_config(base_config()));
    auto c = connect(gw, kToken);

    // 1. The redacted raw text from config.get, sent back unchanged.
    json::value snap = get(*c);
    auto r1 =
        c->call("config.set", json::object{{"raw", snap.at("raw")}, {"baseHash", snap.at("hash")}}, 3s).as_object();
    EXPECT_EQ(r1.at("ok"), json::value(true));
    EXPECT_EQ(str_at(r1.at("config"), {"gateway", "auth", "token"}), kRedacted);
    EXPECT_EQ(json::serialize(r1).find(kToken), std::string::npos);
    EXPECT_EQ(str_at(file_json(gw), {"gateway", "auth", "token"}), kToken);

    // 2. The redacted parsed object, edited, serialized and sent back.
    snap = get(*c);
    json::value edited = snap.at("parsed");
    edited.as_object()["logging"].as_object()["level"] = "debug";
    c->call("config.set", json::object{{"raw", json::serialize(edited)}, {"baseHash", snap.at("hash")}}, 3s);
    json::value on_disk = file_json(gw);
    EXPECT_EQ(str_at(on_disk, {"gateway", "auth", "token"}), kToken);
    EXPECT_EQ(str_at(on_disk, {"logging", "level"}), "debug");
    EXPECT_EQ(get(*c).at("hash").as_string(), util::sha256_hex(read_file(gw.config_path())));

    // The token still authenticates, and the first connection was not dropped.
    auto c2 = connect(gw, kToken);
    EXPECT_TRUE(c2->call("health", json::object{}, 3s).at("ok").as_bool());
    EXPECT_TRUE(c->call("health", json::object{}, 3s).at("ok").as_bool());
}

TEST(Config, InvalidConfigIsRejectedAndFileUntouched) {
    e2e::GatewayProcess gw(opts_with_config(base_config()));
    auto c = connect(gw, kToken);
    const std::string before = read_file(gw.config_path());
    const std::string hash = hash_of(*c);
    for (const char* port : {"\"abc\"", "70000", "0", "1.5"}) {
        SCOPED_TRACE(port);
        std::string raw = "{gateway: {port: " + std::string(port) + ", auth: {mode: \"token\", token: \"" +
                          std::string(kRedacted) + "\"}}}";
        auto e = rpc_error([&] { c->call("config.set", json::object{{"raw", raw}, {"baseHash", hash}}, 3s); });
        EXPECT_EQ(e.code(), "INVALID_REQUEST");
        EXPECT_EQ(e.message_text().rfind("invalid config: gateway.port: ", 0), 0u) << e.message_text();
        const json::value err(e.error);
        const json::value* issues = at_path(err, {"details", "issues"});
        ASSERT_NE(issues, nullptr) << json::serialize(e.error);
        ASSERT_TRUE(issues->is_array());
        ASSERT_FALSE(issues->as_array().empty());
        EXPECT_EQ(str_at(issues->as_array()[0], {"path"}), "gateway.port");
        EXPECT_NE(str_at(issues->as_array()[0], {"message"}), "<missing>");
        EXPECT_EQ(read_file(gw.config_path()), before) << "file changed by a rejected config.set";
    }
    // The same through config.patch.
    auto e = rpc_error([&] {
        c->call("config.patch", json::object{{"raw", "{gateway: {port: 70000}}"}, {"baseHash", hash}}, 3s);
    });
    EXPECT_EQ(e.code(), "INVALID_REQUEST");
    EXPECT_NE(e.message_text().find("gateway.port"), std::string::npos) << e.message_text();
    const json::value patch_err(e.error);
    EXPECT_NE(at_path(patch_err, {"details", "issues"}), nullptr);
    EXPECT_EQ(read_file(gw.config_path()), before);
    EXPECT_EQ(get(*c).at("valid"), json::value(true));
}

TEST(Config, Json5SyntaxErrorIsRejected) {
    e2e::GatewayProcess gw(opts_with_config(base_config()));
    auto c = connect(gw, kToken);
    const std::string before = read_file(gw.config_path());
    const std::string hash = hash_of(*c);
    for (const char* raw : {"{gateway: {port: 1,,}}", "{gateway: ", "{'a': tru}"}) {
        SCOPED_TRACE(raw);
        auto e = rpc_error([&] { c->call("config.set", json::object{{"raw", raw}, {"baseHash", hash}}, 3s); });
        EXPECT_EQ(e.code(), "INVALID_REQUEST");
        EXPECT_EQ(e.message_text().rfind("JSON5:", 0), 0u) << e.message_text();
    }
    EXPECT_EQ(read_file(gw.config_path()), before);
}

TEST(Config, PatchMergeSemanticsAndNoop) {
    const std::string extra =
        "  agents: {\n    defaults: { model: \"openai/gpt-5\", workspace: \"~/work\" },\n"
        "    list: [ { id: \"a\", name: \"A\" }, { id: \"b\", name: \"B\", keep: true } ],\n  },\n"
        "  channels: { telegram: { enabled: true } },\n";
    e2e::GatewayProcess gw(opts_with_config(base_config(kToken, extra)));
    auto c = connect(gw, kToken);
    const std::string patch =
        "{\n  agents: {\n    defaults: { workspace: null, thinking: 'low' },\n"
        "    list: [ { id: 'b', name: 'B2' }, { id: 'c', name: 'C' } ],\n  },\n"
        "  channels: null,\n  logging: { level: 'debug' },\n}";
    auto res = c->call("config.patch", json::object{{"raw", patch}, {"baseHash", hash_of(*c)}}, 3s).as_object();
    EXPECT_EQ(res.at("ok"), json::value(true));
    EXPECT_FALSE(res.contains("noop"));
    EXPECT_EQ(res.at("path").as_string(), gw.config_path().string());
    EXPECT_EQ(str_at(res.at("config"), {"gateway", "auth", "token"}), kRedacted);
    EXPECT_EQ(str_at(res, {"sentinel", "payload", "kind"}), "config-patch");
    EXPECT_EQ(str_at(res, {"sentinel", "payload", "stats", "mode"}), "config.patch");

    const json::value expected_agents =
        json::parse(R"({"defaults":{"model":"openai/gpt-5","thinking":"low"},)"
                    R"("list":[{"id":"a","name":"A"},{"id":"b","name":"B2","keep":true},{"id":"c","name":"C"}]})");
    json::value disk = file_json(gw);
    EXPECT_EQ(*at_path(disk, {"agents"}), expected_agents) << json::serialize(disk);
    EXPECT_EQ(at_path(disk, {"channels"}), nullptr) << "null deletes the key";
    EXPECT_EQ(str_at(disk, {"logging", "level"}), "debug");
    EXPECT_EQ(str_at(disk, {"gateway", "auth", "token"}), kToken);
    EXPECT_EQ(at_path(disk, {"gateway", "port"})->to_number<int64_t>(), 18789);

    json::value snap = get(*c);
    EXPECT_EQ(*at_path(snap, {"parsed", "agents"}), expected_agents);
    EXPECT_EQ(at_path(snap, {"parsed", "channels"}), nullptr);
    // agents is read (model, workspace, ...); only its sub-keys Pincer does not use are listed.
    EXPECT_FALSE(array_has(snap.at("ignored"), "agents"));
    EXPECT_TRUE(array_has(snap.at("ignored"), "agents.defaults.thinking")) << json::serialize(snap.at("ignored"));
    EXPECT_FALSE(array_has(snap.at("ignored"), "channels"));

    // Re-sending values already there (the redacted token included) changes nothing.
    const std::string before = read_file(gw.config_path());
    auto noop = c->call("config.patch",
                        json::object{{"raw", "{gateway: {auth: {token: '" + std::string(kRedacted) +
                                                 "'}}, logging: {level: 'debug'}, channels: null}"},
                                     {"baseHash", snap.at("hash")}},
                        3s)
                    .as_object();
    EXPECT_EQ(noop.at("ok"), json::value(true));
    EXPECT_EQ(noop.at("noop"), json::value(true));
    EXPECT_EQ(noop.at("path").as_string(), gw.config_path().string());
    EXPECT_EQ(str_at(noop.at("config"), {"gateway", "auth", "token"}), kRedacted);
    EXPECT_EQ(read_file(gw.config_path()), before);

    // A non-object patch is refused.
    auto e = rpc_error([&] {
        c->call("config.patch", json::object{{"raw", "[1,2]"}, {"baseHash", snap.at("hash")}}, 3s);
    });
    EXPECT_EQ(e.message_text(), "config.patch raw must be an object");
}

TEST(Config, ApplyReplacesWholeConfig) {
    const std::string extra = "  agents: { defaults: { model: \"openai/gpt-5\" } },\n  channels: {},\n";
    e2e::GatewayProcess gw(opts_with_config(base_config(kToken, extra)));
    auto c = connect(gw, kToken);
    const std::string raw =
        "{gateway: {auth: {mode: 'token', token: '" + std::string(kRedacted) + "'}}, logging: {level: 'warn'}}";
    auto res =
        c->call("config.apply", json::object{{"raw", raw}, {"baseHash", hash_of(*c)}, {"note", "e2e"}}, 3s).as_object();
    EXPECT_EQ(res.at("ok"), json::value(true));
    EXPECT_FALSE(res.contains("noop"));
    EXPECT_EQ(str_at(res, {"sentinel", "payload", "kind"}), "config-apply");
    EXPECT_EQ(str_at(res, {"sentinel", "payload", "message"}), "e2e");
    const json::value expected =
        json::parse(R"({"gateway":{"auth":{"mode":"token","token":")" + kToken + R"("}},"logging":{"level":"warn"}})");
    EXPECT_EQ(file_json(gw), expected);
    json::value snap = get(*c);
    EXPECT_TRUE(snap.at("ignored").as_array().empty()) << json::serialize(snap.at("ignored"));
    EXPECT_EQ(at_path(snap, {"parsed", "agents"}), nullptr);
    // Still the same token: a new connect works.
    auto c2 = connect(gw, kToken);
    EXPECT_TRUE(c2->call("health", json::object{}, 3s).at("ok").as_bool());
}

TEST(Config, UnknownTopLevelKeysAreKeptAndListedAsIgnored) {
    const std::string extra = "  agents: { defaults: { model: \"openai/gpt-5\" } },\n  channels: {},\n";
    e2e::GatewayProcess gw(opts_with_config(base_config(kToken, extra)));
    auto c = connect(gw, kToken);
    json::value snap = get(*c);
    EXPECT_EQ(snap.at("valid"), json::value(true));
    EXPECT_FALSE(array_has(snap.at("ignored"), "agents")) << "agents.defaults.model is used";
    EXPECT_TRUE(array_has(snap.at("ignored"), "channels")) << json::serialize(snap.at("ignored"));

    // Write through config.set (touching only logging): the unknown keys survive unchanged.
    json::value edited = snap.at("parsed");
    edited.as_object()["logging"].as_object()["level"] = "warn";
    c->call("config.set", json::object{{"raw", json::serialize(edited)}, {"baseHash", snap.at("hash")}}, 3s);
    json::value disk = file_json(gw);
    EXPECT_EQ(str_at(disk, {"agents", "defaults", "model"}), "openai/gpt-5");
    ASSERT_NE(at_path(disk, {"channels"}), nullptr);
    EXPECT_EQ(*at_path(disk, {"channels"}), json::value(json::object{}));
    json::value after = get(*c);
    EXPECT_FALSE(array_has(after.at("ignored"), "agents"));
    EXPECT_TRUE(array_has(after.at("ignored"), "channels"));
}

TEST(Config, SchemaHasDraft07SchemaAndSensitiveHints) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    c.connect(cli_opts(gw, 3s));
    auto res = c.call("config.schema", json::object{}, 3s).as_object();
    const json::value& schema = res.at("schema");
    EXPECT_EQ(str_at(schema, {"$schema"}), "http://json-schema.org/draft-07/schema#");
    ASSERT_NE(at_path(schema, {"properties", "gateway"}), nullptr);
    EXPECT_TRUE(at_path(schema, {"properties", "gateway"})->is_object());
    const json::value* hint = at_path(res.at("uiHints"), {"gateway.auth.token"});
    ASSERT_NE(hint, nullptr);
    EXPECT_EQ(*at_path(*hint, {"sensitive"}), json::value(true));
    ASSERT_TRUE(res.at("version").is_string());
    EXPECT_FALSE(res.at("version").as_string().empty());
    ASSERT_TRUE(res.at("generatedAt").is_string());
    EXPECT_FALSE(res.at("generatedAt").as_string().empty());
}

TEST(Config, PatchingTheTokenRotatesAuthLive) {
    e2e::GatewayProcess gw(opts_with_config(base_config()));
    auto admin = connect(gw, kToken);
    auto bystander = connect(gw, kToken);
    const std::string next = "cfg-token-rotated-0123456789abcdefXYZ";
    auto res =
        admin
            ->call("config.patch",
                   json::object{{"raw", "{gateway: {auth: {token: '" + next + "'}}}"}, {"baseHash", hash_of(*admin)}},
                   3s)
            .as_object();
    EXPECT_EQ(res.at("ok"), json::value(true));
    EXPECT_EQ(str_at(res.at("config"), {"gateway", "auth", "token"}), kRedacted);
    EXPECT_EQ(json::serialize(res).find(next), std::string::npos);
    EXPECT_EQ(str_at(file_json(gw), {"gateway", "auth", "token"}), next);

    // Connections authenticated with the old secret are closed.
    auto closed = bystander->wait_close(3s);
    EXPECT_EQ(closed.code, 4001);
    EXPECT_EQ(closed.reason, "gateway auth changed");
    auto closed_admin = admin->wait_close(3s);
    EXPECT_EQ(closed_admin.code, 4001);

    auto fresh = connect(gw, next);
    EXPECT_TRUE(fresh->call("health", json::object{}, 3s).at("ok").as_bool());
    client::GatewayClient old;
    auto o = token_opts(gw, kToken);
    auto e = rpc_error([&] { old.connect(o); });
    EXPECT_NE(e.message_text().find("unauthorized"), std::string::npos) << e.message_text();
}

TEST(Config, ExternalEditIsPickedUp) {
    e2e::GatewayProcess gw(opts_with_config(base_config()));
    auto watcher = connect(gw, kToken);
    const std::string next = "cfg-token-edited-by-hand-0123456789abc";
    write_file_atomic(gw.config_path(), "{\n  // edited by hand\n  gateway: { auth: { mode: 'token', token: '" + next +
                                            "' } },\n  logging: { level: 'warn' },\n}\n");
    // The watcher polls the file; awaiting the 4001 close is the bounded wait for the reload.
    auto closed = watcher->wait_close(8s);
    EXPECT_EQ(closed.code, 4001);
    EXPECT_EQ(closed.reason, "gateway auth changed");

    const auto log_file = gw.state_dir() / "logs" / "pincer.log";
    const auto size_before = std::filesystem::exists(log_file) ? std::filesystem::file_size(log_file) : 0;
    auto fresh = connect(gw, next);
    EXPECT_TRUE(fresh->call("health", json::object{}, 3s).at("ok").as_bool());
    // logging.level warn applied too: the info-level "ws connected" line is no longer written.
    const std::string log = read_file(log_file);
    EXPECT_EQ(log.find("ws connected", size_before), std::string::npos) << log.substr(size_before);
    // config.get reports the edited file.
    json::value snap = get(*fresh);
    EXPECT_EQ(str_at(snap.at("parsed"), {"logging", "level"}), "warn");
    EXPECT_EQ(snap.at("hash").as_string(), util::sha256_hex(read_file(gw.config_path())));

    client::GatewayClient old;
    auto o = token_opts(gw, kToken);
    EXPECT_THROW(old.connect(o), client::RpcError);
}
