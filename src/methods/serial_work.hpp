#pragma once
/// Ordered work on the blocking pool, one task at a time in submission order: a run's transcript
/// appends, usage records and final state must land in the order they happened.
#include <spdlog/spdlog.h>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "dispatch/loop.hpp"

namespace pincer::methods {

class SerialWork : public std::enable_shared_from_this<SerialWork> {
public:
    explicit SerialWork(dispatch::EventLoop& loop) : loop_(loop) {}

    void push(std::function<void()> fn) {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(fn));
        if (running_) return;
        running_ = true;
        loop_.post_blocking([self = shared_from_this()] { self->drain(); });
    }

private:
    void drain() {
        for (;;) {
            std::function<void()> fn;
            {
                std::lock_guard lock(mutex_);
                if (queue_.empty()) {
                    running_ = false;
                    return;
                }
                fn = std::move(queue_.front());
                queue_.pop_front();
            }
            try {
                fn();
            } catch (const std::exception& e) {
                spdlog::error("agent run persistence failed: {}", e.what());
            }
        }
    }

    dispatch::EventLoop& loop_;
    std::mutex mutex_;
    std::deque<std::function<void()>> queue_;
    bool running_ = false;
};

}  // namespace pincer::methods
