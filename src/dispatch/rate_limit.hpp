#pragma once
/// Sliding-window limiters: failed shared-secret attempts per client IP, and control-plane
/// writes per actor. Both are bounded in memory (oldest keys evicted).
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

namespace pincer::dispatch {

class AuthRateLimiter {
public:
    AuthRateLimiter(uint32_t max_attempts, int64_t window_ms, int64_t lockout_ms)
        : max_attempts_(max_attempts), window_ms_(window_ms), lockout_ms_(lockout_ms) {}
    void configure(uint32_t max_attempts, int64_t window_ms, int64_t lockout_ms) {
        max_attempts_ = max_attempts, window_ms_ = window_ms, lockout_ms_ = lockout_ms;
    }
    /// Milliseconds until `ip` may try again, or nullopt when it is not locked out.
    std::optional<int64_t> locked_for(const std::string& ip, int64_t now_ms);
    void record_failure(const std::string& ip, int64_t now_ms);
    void record_success(const std::string& ip) { entries_.erase(ip); }

private:
    struct Entry {
        std::deque<int64_t> failures;
        int64_t locked_until = 0;
    };
    static constexpr size_t kMaxTrackedIps = 10'000;
    uint32_t max_attempts_;
    int64_t window_ms_;
    int64_t lockout_ms_;
    std::unordered_map<std::string, Entry> entries_;
};

class WindowBudget {
public:
    WindowBudget(uint32_t max_calls, int64_t window_ms) : max_calls_(max_calls), window_ms_(window_ms) {}
    void set_max(uint32_t max_calls) { max_calls_ = max_calls; }
    /// Records a call for `key`; returns the ms to wait when the budget is spent (call not recorded).
    std::optional<int64_t> take(const std::string& key, int64_t now_ms);

private:
    static constexpr size_t kMaxKeys = 10'000;
    uint32_t max_calls_;
    int64_t window_ms_;
    std::unordered_map<std::string, std::deque<int64_t>> calls_;
};

}  // namespace pincer::dispatch
