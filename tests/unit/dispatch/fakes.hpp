#pragma once
// Test doubles for driving dispatch::Gateway without sockets or threads.
#include <boost/json/parse.hpp>

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/pairing.hpp"
#include "dispatch/connection.hpp"
#include "dispatch/loop.hpp"

namespace pincer::testing {

class FakeLoop final : public dispatch::EventLoop {
public:
    void post(std::function<void()> fn) override { queue_.push_back(std::move(fn)); }
    void post_blocking(std::function<void()> fn) override { queue_.push_back(std::move(fn)); }
    void post_after(int64_t, std::function<void()> fn) override { timers_.push_back(std::move(fn)); }
    /// Runs everything posted so far (and whatever that posts).
    void run() {
        while (!queue_.empty()) {
            auto fn = std::move(queue_.front());
            queue_.pop_front();
            fn();
        }
    }

private:
    std::deque<std::function<void()>> queue_;
    std::vector<std::function<void()>> timers_;
};

class FakeConnection final : public dispatch::Connection {
public:
    void send(dispatch::OutboundFrame f) override {
        if (closed) return;
        frames.push_back(*f.body + f.tail);
    }
    void close(int code, std::string_view reason) override {
        if (closed) return;
        closed = true;
        close_code = code;
        close_reason = std::string(reason);
    }
    uint64_t buffered_bytes() const override { return buffered; }
    void on_authenticated(uint64_t max) override { max_payload = max; }

    boost::json::object frame(size_t i) const { return boost::json::parse(frames.at(i)).as_object(); }
    boost::json::object last() const { return frame(frames.size() - 1); }

    std::vector<std::string> frames;
    bool closed = false;
    int close_code = 0;
    std::string close_reason;
    uint64_t buffered = 0;
    uint64_t max_payload = 0;
};

class FakeRegistry final : public core::DeviceRegistry {
public:
    std::optional<core::PairedDevice> find_device(const std::string& id) override {
        auto it = devices.find(id);
        if (it == devices.end()) return std::nullopt;
        return it->second;
    }
    void upsert_device(const core::PairedDevice& d) override { devices[d.device_id] = d; }
    std::optional<core::DeviceToken> find_token(const std::string& id, const std::string& role) override {
        auto it = tokens.find(id + "/" + role);
        if (it == tokens.end()) return std::nullopt;
        return it->second;
    }
    core::DeviceToken ensure_token(const std::string& id, const std::string& role,
                                   const std::vector<std::string>& scopes, int64_t now) override {
        auto& t = tokens[id + "/" + role];
        if (t.token.empty() || t.scopes != scopes) t = {id, role, "tok-" + std::to_string(++issued), scopes, now};
        return t;
    }
    core::PairingRequest add_pending(const core::PairingRequest& r) override {
        for (auto& p : pending) {
            if (p.device_id == r.device_id && p.role == r.role && p.scopes == r.scopes) return p;
        }
        pending.push_back(r);
        pending.back().request_id = "req-" + std::to_string(pending.size());
        return pending.back();
    }
    std::vector<core::PairingRequest> list_pending() override { return pending; }
    std::vector<core::PairedDevice> list_devices() override {
        std::vector<core::PairedDevice> out;
        for (auto& [k, v] : devices) out.push_back(v);
        return out;
    }

    std::map<std::string, core::PairedDevice> devices;
    std::map<std::string, core::DeviceToken> tokens;
    std::vector<core::PairingRequest> pending;
    int issued = 0;
};

}  // namespace pincer::testing
