#pragma once
/// How dispatch code schedules work without knowing Asio: everything that touches connections
/// runs on the network thread; anything that may block (disk, SQLite) runs on the blocking pool
/// and posts its result back.
#include <cstdint>
#include <functional>

namespace pincer::dispatch {

class EventLoop {
public:
    virtual ~EventLoop() = default;
    /// Runs `fn` on the network thread (safe to call from any thread).
    virtual void post(std::function<void()> fn) = 0;
    /// Runs `fn` on the blocking-work pool.
    virtual void post_blocking(std::function<void()> fn) = 0;
    /// Runs `fn` on the network thread after `delay_ms`.
    virtual void post_after(int64_t delay_ms, std::function<void()> fn) = 0;
    /// As post_after, and returns a function that cancels the timer (network thread only), so a
    /// long timer whose purpose ended (a run's timeout) frees what it holds at once.
    virtual std::function<void()> post_after_cancellable(int64_t delay_ms, std::function<void()> fn) {
        post_after(delay_ms, std::move(fn));
        return [] {};
    }
    /// At shutdown, after the network thread stopped: waits for the blocking pool's queued work,
    /// so nothing still runs when the services it uses are destroyed.
    virtual void join_blocking() {}
};

}  // namespace pincer::dispatch
