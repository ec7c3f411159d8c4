#include "dispatch/rate_limit.hpp"

namespace pincer::dispatch {
namespace {

void expire(std::deque<int64_t>& q, int64_t now_ms, int64_t window_ms) {
    while (!q.empty() && now_ms - q.front() >= window_ms) q.pop_front();
}

}  // namespace

std::optional<int64_t> AuthRateLimiter::locked_for(const std::string& ip, int64_t now_ms) {
    auto it = entries_.find(ip);
    if (it == entries_.end() || it->second.locked_until <= now_ms) return std::nullopt;
    return it->second.locked_until - now_ms;
}

void AuthRateLimiter::record_failure(const std::string& ip, int64_t now_ms) {
    if (entries_.size() >= kMaxTrackedIps && !entries_.contains(ip)) entries_.erase(entries_.begin());
    Entry& e = entries_[ip];
    expire(e.failures, now_ms, window_ms_);
    e.failures.push_back(now_ms);
    if (e.failures.size() >= max_attempts_) {
        e.locked_until = now_ms + lockout_ms_;
        e.failures.clear();
    }
}

std::optional<int64_t> WindowBudget::take(const std::string& key, int64_t now_ms) {
    if (calls_.size() >= kMaxKeys && !calls_.contains(key)) calls_.erase(calls_.begin());
    auto& q = calls_[key];
    expire(q, now_ms, window_ms_);
    if (q.size() >= max_calls_) return q.front() + window_ms_ - now_ms;
    q.push_back(now_ms);
    return std::nullopt;
}

}  // namespace pincer::dispatch
