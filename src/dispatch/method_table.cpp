#include "dispatch/method_table.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "core/scopes.hpp"
#include "dispatch/loop.hpp"

namespace pincer::dispatch {

void MethodTable::add(MethodSpec spec) {
    if (frozen_) throw std::logic_error("method table is frozen: " + spec.name);
    if (spec.name.empty() || spec.scope.empty()) throw std::logic_error("method row needs a name and a scope");
    if (index_.contains(spec.name)) throw std::logic_error("duplicate method: " + spec.name);
    if (core::is_known_method(spec.name) && core::required_scope(spec.name) != spec.scope) {
        throw std::logic_error("method " + spec.name + " declares scope " + spec.scope +
                               " but the reference requires " + std::string(core::required_scope(spec.name)));
    }
    auto row = std::make_unique<MethodSpec>(std::move(spec));
    if (row->flags & kAdvertise) advertised_.push_back(row->name);
    index_.emplace(row->name, row.get());
    rows_.push_back(std::move(row));
}

void MethodTable::freeze() { frozen_ = true; }

void add_method(MethodTable& table, std::string name, std::string scope, ParamSchema params,
                std::variant<SyncHandler, AsyncHandler> handler, uint32_t flags) {
    MethodSpec spec;
    spec.name = std::move(name);
    spec.scope = std::move(scope);
    spec.flags = flags;
    spec.params = std::move(params);
    spec.handler = std::move(handler);
    table.add(std::move(spec));
}

MethodSpec* MethodTable::find(std::string_view name) {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : it->second;
}

void reply_from_pool(EventLoop& loop, Responder reply, std::string what, std::function<json::value()> work) {
    reply_from_pool_then(loop, std::move(reply), std::move(what), [work = std::move(work)] {
        return PoolResult{work(), {}};
    });
}

void reply_from_pool_then(EventLoop& loop, Responder reply, std::string what, std::function<PoolResult()> work) {
    auto shared = std::make_shared<Responder>(std::move(reply));
    loop.post_blocking([&loop, shared, what = std::move(what), work = std::move(work)] {
        std::optional<PoolResult> result;
        std::optional<core::RpcError> error;
        try {
            result = work();
        } catch (const core::RpcException& e) {
            error = e.error;
        } catch (const std::exception& e) {
            spdlog::error("{} failed: {}", what, e.what());
            error = core::RpcError::unavailable(what + " failed");
        }
        loop.post([shared, result = std::move(result), error = std::move(error)]() mutable {
            if (error) return shared->fail(std::move(*error));
            shared->ok(std::move(result->payload));
            if (result->after_reply) result->after_reply();
        });
    });
}

std::string param_string(const json::object& p, std::string_view key, std::string_view fallback) {
    auto s = core::get_string(p, key);
    return s ? std::string(core::sv(*s)) : std::string(fallback);
}

std::optional<int64_t> param_int(const json::object& p, std::string_view key) { return core::get_int(p, key); }

std::optional<bool> param_bool(const json::object& p, std::string_view key) { return core::get_bool(p, key); }

}  // namespace pincer::dispatch
