#pragma once
/// The method table (Redis's command table is the model): every method Pincer implements is one
/// row saying its name, required scope, flags, param validator and handler, plus live counters.
/// `hello-ok.features.methods` is built from it. Built at start-up, checked, then frozen.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "dispatch/connection.hpp"
#include "dispatch/params.hpp"

namespace pincer::dispatch {

class EventLoop;

/// What a handler sees of its request. `params` is an object (missing params become {}).
struct CallView {
    const ConnState& conn;
    std::string_view method;
    const json::object& params;
};

/// The reply side of an asynchronous call. Must be completed exactly once, on the network thread
/// (use `complete_from_pool` when finishing from the blocking pool). Dropping it unanswered
/// replies UNAVAILABLE so no client ever waits forever.
class Responder {
public:
    struct State;
    explicit Responder(std::shared_ptr<State> s) : state_(std::move(s)) {}
    Responder(Responder&&) = default;
    Responder& operator=(Responder&&) = default;
    ~Responder();
    void ok(json::value payload);
    void fail(core::RpcError error);
    /// Sends an ok response without completing the call: the `agent` method answers twice under
    /// one request id (accepted, then the final result), as the reference does.
    void progress(const json::value& payload);

private:
    std::shared_ptr<State> state_;
};

using SyncHandler = std::function<json::value(const CallView&)>;
using AsyncHandler = std::function<void(const CallView&, Responder)>;

enum MethodFlags : uint32_t {
    kAdvertise = 1u << 0,          // listed in hello-ok.features.methods
    kControlPlaneWrite = 1u << 1,  // counted against the control-plane write budget
};

struct MethodStats {
    uint64_t calls = 0;
    uint64_t failures = 0;
    uint64_t total_us = 0;
};

struct MethodSpec {
    std::string name;
    std::string scope;  // must equal core::required_scope(name) for methods the reference knows
    uint32_t flags = kAdvertise;
    ParamSchema params;
    std::variant<SyncHandler, AsyncHandler> handler;
    MethodStats stats;
};

class MethodTable {
public:
    /// Adds a row; throws std::logic_error on a duplicate name, an empty scope, or a scope that
    /// disagrees with the reference's table (a typo caught at start-up, not in production).
    void add(MethodSpec spec);
    /// After freeze() no rows can be added; lookups are read-only.
    void freeze();
    MethodSpec* find(std::string_view name);
    /// Advertised method names in registration order.
    const std::vector<std::string>& advertised() const { return advertised_; }
    const std::vector<std::unique_ptr<MethodSpec>>& rows() const { return rows_; }

private:
    std::vector<std::unique_ptr<MethodSpec>> rows_;
    std::unordered_map<std::string_view, MethodSpec*> index_;
    std::vector<std::string> advertised_;
    bool frozen_ = false;
};

/// Adds one row: the common case of MethodTable::add without spelling out a MethodSpec.
void add_method(MethodTable& table, std::string name, std::string scope, ParamSchema params,
                std::variant<SyncHandler, AsyncHandler> handler, uint32_t flags = kAdvertise);

/// Runs `work` on the blocking pool and replies with its result on the network thread. `work`
/// may throw core::RpcException (sent as is) or any std::exception (logged, sent as a generic
/// UNAVAILABLE naming `what`).
void reply_from_pool(EventLoop& loop, Responder reply, std::string what, std::function<json::value()> work);

/// What pool work hands back: the payload, and optionally a step to run on the network thread
/// right after the reply is queued (e.g. applying a config that may close the caller's socket).
struct PoolResult {
    json::value payload;
    std::function<void()> after_reply;
};
void reply_from_pool_then(EventLoop& loop, Responder reply, std::string what, std::function<PoolResult()> work);

/// Convenience for handlers: reads validated params.
std::string param_string(const json::object& p, std::string_view key, std::string_view fallback = {});
std::optional<int64_t> param_int(const json::object& p, std::string_view key);
std::optional<bool> param_bool(const json::object& p, std::string_view key);

}  // namespace pincer::dispatch
