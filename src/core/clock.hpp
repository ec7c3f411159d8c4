#pragma once
/// Every reader of wall-clock time goes through Clock so tests can drive time.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace pincer::core {

class Clock {
public:
    virtual ~Clock() = default;
    /// Milliseconds since the Unix epoch.
    virtual int64_t now_ms() const = 0;
};

class SystemClock final : public Clock {
public:
    int64_t now_ms() const override {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
};

/// A clock that only moves when told to (unit tests, test-control methods).
class ManualClock final : public Clock {
public:
    explicit ManualClock(int64_t start_ms = 1'700'000'000'000) : now_(start_ms) {}
    int64_t now_ms() const override { return now_.load(); }
    void set(int64_t ms) { now_.store(ms); }
    void advance(int64_t ms) { now_.fetch_add(ms); }

private:
    std::atomic<int64_t> now_;
};

}  // namespace pincer::core
