// ModelCall: one provider request with retries, decoded as it streams. Every fetch callback and
// retry timer carries the attempt number it belongs to, so anything arriving for an abandoned
// attempt, or after the call finished, is ignored instead of reaching the caller.
#include "runtime/model_call.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <cctype>
#include <charconv>
#include <cmath>
#include <random>
#include <utility>

#include "runtime/sse_parser.hpp"

namespace pincer::runtime {

std::string_view to_string(CallError e) {
    switch (e) {
        case CallError::none:
            return "none";
        case CallError::auth:
            return "auth";
        case CallError::rate_limit:
            return "rate_limit";
        case CallError::server:
            return "server";
        case CallError::bad_request:
            return "bad_request";
        case CallError::context_length:
            return "context_length";
        case CallError::network:
            return "network";
        case CallError::timeout:
            return "timeout";
        case CallError::stream:
            return "stream";
        case CallError::cancelled:
            return "cancelled";
    }
    return "stream";
}

namespace {

using core::FetchError;
using Kind = StreamDelta::Kind;

// Error bodies only feed a one-line message; a provider sending megabytes gets cut here.
constexpr size_t kMaxErrorBodyBytes = 16 * 1024;
constexpr size_t kMaxMessageSnippet = 300;

std::string lowercase(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool is_retryable_status(int status) {
    return status == 429 || status == 500 || status == 502 || status == 503 || status == 504 || status == 529;
}

CallError classify_status(int status, std::string_view provider_message) {
    if (status == 401 || status == 403) return CallError::auth;
    if (status == 429) return CallError::rate_limit;
    if (status >= 500) return CallError::server;
    if (status == 413) return CallError::context_length;  // Anthropic's request_too_large
    if (status == 400) {
        const std::string m = lowercase(provider_message);
        if (m.find("context") != std::string::npos || m.find("too long") != std::string::npos ||
            m.find("too many tokens") != std::string::npos) {
            return CallError::context_length;
        }
    }
    return CallError::bad_request;
}

bool is_retryable_transport(FetchError e) {
    return e == FetchError::resolve || e == FetchError::connect || e == FetchError::tls ||
           e == FetchError::closed_early;
}

struct ProviderError {
    std::string type, message;
};

// The `error` object OpenAI, Anthropic and most compatible servers send ({"error":{"type",
// "message"}}; Ollama sends {"error":"..."}), else a short excerpt of a plain-text body.
ProviderError parse_error_body(std::string_view body) {
    ProviderError out;
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (!ec && v.is_object()) {
        const json::object& o = v.get_object();
        if (const json::object* error = core::get_object(o, "error")) {
            if (const json::string* s = core::get_string(*error, "message")) out.message.assign(core::sv(*s));
            if (const json::string* s = core::get_string(*error, "type")) out.type.assign(core::sv(*s));
        } else if (const json::string* s = core::get_string(o, "error")) {
            out.message.assign(core::sv(*s));
        }
        if (out.message.empty()) {
            if (const json::string* s = core::get_string(o, "message")) out.message.assign(core::sv(*s));
        }
        return out;
    }
    std::string_view text = body;
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    // An HTML error page (a proxy's 502) says nothing a user can act on.
    if (text.empty() || text.front() == '<') return out;
    out.message.assign(text.substr(0, kMaxMessageSnippet));
    if (text.size() > kMaxMessageSnippet) out.message += "…";
    return out;
}

std::optional<double> parse_number(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    double value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(value) || value < 0) return std::nullopt;
    return value;
}

// `retry-after-ms` (OpenAI) is the precise one; `retry-after` in seconds is the standard one.
// The HTTP-date form of retry-after is not used by LLM providers and is ignored.
std::optional<int64_t> retry_after_ms(const core::FetchHead& head) {
    if (auto ms = parse_number(head.header("retry-after-ms"))) return static_cast<int64_t>(std::min(*ms, 1e12));
    if (auto s = parse_number(head.header("retry-after"))) return static_cast<int64_t>(std::min(*s, 1e9) * 1000);
    return std::nullopt;
}

double jitter_factor() {
    thread_local std::minstd_rand rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.8, 1.2)(rng);
}

std::string url_for_message(const std::string& url) { return url.substr(0, url.find('?')); }

class ModelCallImpl final : public ModelCall {
public:
    ModelCallImpl(core::HttpFetcher& fetcher, Scheduler scheduler, ModelRequest request, CallPolicy policy,
                  DeltaFn on_delta, DoneFn on_done)
        : fetcher_(fetcher),
          scheduler_(std::move(scheduler)),
          model_(request.model),
          policy_(policy),
          on_delta_(std::move(on_delta)),
          on_done_(std::move(on_done)),
          fetch_request_(build_fetch_request(request, policy)) {}

    void begin_attempt() {
        ++outcome_.attempts;
        const int attempt = outcome_.attempts;
        attempt_ = AttemptState{};
        parser_ = SseParser{};
        sse_failed_ = false;
        openai_ = OpenAiChatStreamDecoder{};
        anthropic_ = AnthropicStreamDecoder{};

        auto self = std::static_pointer_cast<ModelCallImpl>(shared_from_this());
        core::FetchCallbacks callbacks;
        callbacks.on_head = [self, attempt](const core::FetchHead& head) {
            if (self->is_current(attempt)) self->on_head(head);
        };
        callbacks.on_body = [self, attempt](std::string_view chunk) {
            return self->is_current(attempt) && self->on_body(chunk);
        };
        callbacks.on_done = [self, attempt](FetchError error, const std::string& message) {
            if (self->is_current(attempt)) self->on_fetch_done(error, message);
        };
        attempt_.fetching = true;
        auto handle = fetcher_.fetch(fetch_request_, std::move(callbacks));
        // A fetcher may report synchronously; then this attempt is already over.
        if (is_current(attempt) && attempt_.fetching) handle_ = std::move(handle);
    }

    void cancel_call() {
        if (finished_) return;
        auto keep_alive = shared_from_this();
        outcome_.error = CallError::cancelled;
        outcome_.message = model_.provider + ": cancelled";
        finish();
    }

private:
    struct AttemptState {
        bool fetching = false;
        bool head_seen = false;
        enum class Body { stream, json_instead_of_stream, error } body = Body::stream;
        std::string body_text;  // error or JSON body, capped
        std::optional<int64_t> retry_after_ms;
        bool stopped_reading = false;  // we returned false from on_body on purpose
    };

    bool is_current(int attempt) const { return !finished_ && attempt == outcome_.attempts; }

    void on_head(const core::FetchHead& head) {
        attempt_.head_seen = true;
        outcome_.http_status = head.status;
        if (head.status < 200 || head.status > 299) {
            attempt_.body = AttemptState::Body::error;
            attempt_.retry_after_ms = retry_after_ms(head);
        } else if (lowercase(head.header("content-type")).starts_with("application/json")) {
            attempt_.body = AttemptState::Body::json_instead_of_stream;
        }
    }

    bool on_body(std::string_view chunk) {
        if (attempt_.body != AttemptState::Body::stream) {
            const size_t room = kMaxErrorBodyBytes - attempt_.body_text.size();
            attempt_.body_text.append(chunk.substr(0, room));
            if (chunk.size() < room) return true;
            attempt_.stopped_reading = true;
            return false;
        }
        events_.clear();
        const bool sse_ok = parser_.feed(chunk, events_);
        for (const SseEvent& event : events_) {
            deltas_.clear();
            if (model_.api == kApiAnthropicMessages) {
                anthropic_.feed(event.type, event.data, deltas_);
            } else {
                openai_.feed(event.data, deltas_);
            }
            deliver(deltas_);
            if (finished_) return false;  // cancelled from inside on_delta
        }
        if (!sse_ok) {
            attempt_.stopped_reading = true;
            sse_failed_ = true;
            return false;
        }
        if (decoder_failed()) {
            attempt_.stopped_reading = true;
            return false;
        }
        return true;
    }

    void on_fetch_done(FetchError error, const std::string& fetch_message) {
        attempt_.fetching = false;
        handle_.reset();
        if (error == FetchError::cancelled && attempt_.stopped_reading) error = FetchError::none;
        if (error == FetchError::cancelled) return fail(CallError::cancelled, model_.provider + ": cancelled");

        if (!attempt_.head_seen) {
            const std::string where = " (" + url_for_message(fetch_request_.url) + ")";
            if (error == FetchError::timeout) {
                return fail(CallError::timeout, model_.provider + ": timed out: " + fetch_message + where);
            }
            // A certificate the store does not trust stays untrusted: retrying only delays the answer.
            const bool verify_failed =
                error == FetchError::tls && (fetch_message.find("verify failed") != std::string::npos ||
                                             fetch_message.find("mismatch") != std::string::npos);
            if (!verify_failed && is_retryable_transport(error) && retry(std::nullopt)) return;
            std::string message = model_.provider + ": " + fetch_message + where;
            if (verify_failed) {
                message += "; for a provider behind a private CA set NODE_EXTRA_CA_CERTS (or PINCER_EXTRA_CA_CERTS)";
            }
            return fail(CallError::network, attempts_suffixed(std::move(message)));
        }

        switch (attempt_.body) {
            case AttemptState::Body::error:
                return on_error_response();
            case AttemptState::Body::json_instead_of_stream: {
                ProviderError provider = parse_error_body(attempt_.body_text);
                std::string message = model_.provider + " answered with JSON instead of an event stream";
                if (!provider.message.empty()) message += ": " + provider.message;
                return fail(CallError::stream, std::move(message), provider.type);
            }
            case AttemptState::Body::stream:
                return on_stream_end(error, fetch_message);
        }
    }

    void on_error_response() {
        const int status = outcome_.http_status;
        if (is_retryable_status(status) && retry(attempt_.retry_after_ms)) return;
        ProviderError provider = parse_error_body(attempt_.body_text);
        std::string message = model_.provider + " returned HTTP " + std::to_string(status);
        if (!provider.message.empty()) message += ": " + provider.message;
        fail(classify_status(status, provider.message), attempts_suffixed(std::move(message)), provider.type);
    }

    void on_stream_end(FetchError error, const std::string& fetch_message) {
        if (sse_failed_) {
            return fail(CallError::stream, model_.provider + ": the event stream broke the parser's limits (" +
                                               std::string(to_string(parser_.error())) + ")");
        }
        if (!decoder_failed()) {
            (void)parser_.finish();  // an event cut in half is caught by the decoder's finish()
            deltas_.clear();
            if (model_.api == kApiAnthropicMessages) {
                anthropic_.finish(deltas_);
            } else {
                openai_.finish(deltas_);
            }
            const bool complete = deltas_.empty();
            if (error == FetchError::timeout && !complete) {
                return fail(CallError::timeout, model_.provider + ": the stream stalled (no data for " +
                                                    std::to_string(policy_.idle_timeout_ms) + " ms)");
            }
            if (error != FetchError::none && error != FetchError::closed_early && error != FetchError::timeout &&
                !complete) {
                return fail(CallError::stream, model_.provider + ": " + fetch_message);
            }
            deliver(deltas_);
            if (finished_) return;
        }
        if (outcome_.turn.stop_reason == "error") {
            return fail(CallError::stream, model_.provider + ": " + outcome_.turn.error_message);
        }
        finish();
    }

    bool decoder_failed() const { return model_.api == kApiAnthropicMessages ? anthropic_.failed() : openai_.failed(); }

    void deliver(const std::vector<StreamDelta>& deltas) {
        for (const StreamDelta& delta : deltas) {
            if (finished_) return;
            accumulate(outcome_.turn, delta);
            if (delta.kind == Kind::text || delta.kind == Kind::thinking || delta.kind == Kind::tool_call_start ||
                delta.kind == Kind::tool_call_args) {
                outcome_.streamed = true;
            }
            if (on_delta_) on_delta_(delta);
        }
    }

    // Schedules the next attempt if one is allowed; false when the caller must give up.
    bool retry(std::optional<int64_t> server_delay_ms) {
        if (outcome_.streamed || outcome_.attempts >= policy_.max_attempts || !scheduler_) return false;
        const double exponential =
            static_cast<double>(policy_.base_backoff_ms) * std::pow(2.0, outcome_.attempts - 1) * jitter_factor();
        int64_t delay = static_cast<int64_t>(std::min(exponential, 1e12));
        if (server_delay_ms) delay = std::max(delay, *server_delay_ms);
        delay = std::clamp<int64_t>(delay, 0, std::max<int64_t>(policy_.max_backoff_ms, 0));
        auto self = std::static_pointer_cast<ModelCallImpl>(shared_from_this());
        const int attempt = outcome_.attempts;
        scheduler_(delay, [self, attempt] {
            if (self->is_current(attempt)) self->begin_attempt();
        });
        return true;
    }

    std::string attempts_suffixed(std::string message) const {
        if (outcome_.attempts > 1) message += " (after " + std::to_string(outcome_.attempts) + " attempts)";
        return message;
    }

    // Providers echo keys in their messages ("Incorrect API key provided: sk-…"); a message may
    // end up in a chat, a log or a UI, so no secret we sent survives into it.
    std::string redacted(std::string message) const {
        auto scrub = [&message](std::string_view secret) {
            if (secret.size() < 6) return;
            for (size_t at = message.find(secret); at != std::string::npos; at = message.find(secret, at + 3)) {
                message.replace(at, secret.size(), "***");
            }
        };
        scrub(model_.api_key);
        for (const auto& [name, value] : model_.headers) scrub(value);
        return message;
    }

    void fail(CallError error, std::string message, std::string_view provider_error_type = {}) {
        if (finished_) return;
        outcome_.error = error;
        outcome_.message = redacted(std::move(message));
        if (error != CallError::cancelled && outcome_.turn.stop_reason != "error") {
            StreamDelta failure;
            failure.kind = Kind::error;
            failure.error_type =
                provider_error_type.empty() ? std::string(to_string(error)) : std::string(provider_error_type);
            failure.error_message = outcome_.message;
            accumulate(outcome_.turn, failure);
        } else if (error == CallError::stream) {
            outcome_.turn.error_message = redacted(std::move(outcome_.turn.error_message));
        }
        finish();
    }

    void finish() {
        if (finished_) return;
        finished_ = true;
        auto keep_alive = shared_from_this();
        if (auto handle = std::move(handle_)) handle->cancel();
        // The caller's callbacks often capture the call itself; dropping them breaks that cycle.
        on_delta_ = nullptr;
        DoneFn done = std::move(on_done_);
        on_done_ = nullptr;
        if (done) done(std::move(outcome_));
    }

    core::HttpFetcher& fetcher_;
    Scheduler scheduler_;
    ModelRef model_;
    CallPolicy policy_;
    DeltaFn on_delta_;
    DoneFn on_done_;
    core::FetchRequest fetch_request_;

    CallOutcome outcome_;
    bool finished_ = false;
    std::shared_ptr<core::FetchHandle> handle_;

    AttemptState attempt_;
    SseParser parser_;
    bool sse_failed_ = false;
    OpenAiChatStreamDecoder openai_;
    AnthropicStreamDecoder anthropic_;
    std::vector<SseEvent> events_;     // reused per chunk
    std::vector<StreamDelta> deltas_;  // reused per event
};

}  // namespace

std::shared_ptr<ModelCall> ModelCall::start(core::HttpFetcher& fetcher, Scheduler scheduler, ModelRequest request,
                                            CallPolicy policy, DeltaFn on_delta, DoneFn on_done) {
    if (policy.max_attempts < 1) policy.max_attempts = 1;
    auto call = std::make_shared<ModelCallImpl>(fetcher, std::move(scheduler), std::move(request), policy,
                                                std::move(on_delta), std::move(on_done));
    call->begin_attempt();
    return call;
}

void ModelCall::cancel() { static_cast<ModelCallImpl*>(this)->cancel_call(); }

}  // namespace pincer::runtime
