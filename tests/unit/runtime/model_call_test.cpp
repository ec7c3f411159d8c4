// ModelCall against a scripted fake fetcher and a manual scheduler: retries and their delays,
// error classification and messages, cancellation at every stage, stream decoding.
#include "runtime/model_call.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pincer::runtime {
namespace {

using core::FetchError;

class FakeHandle : public core::FetchHandle {
public:
    void cancel() override { cancelled = true; }
    bool cancelled = false;
};

// Records every fetch; the test plays the server through the recorded callbacks.
class FakeFetcher : public core::HttpFetcher {
public:
    struct Fetch {
        core::FetchRequest request;
        core::FetchCallbacks callbacks;
        std::shared_ptr<FakeHandle> handle;

        void head(int status, core::HttpHeaders headers = {{"content-type", "text/event-stream"}}) {
            callbacks.on_head(core::FetchHead{status, std::move(headers)});
        }
        bool body(std::string_view chunk) { return callbacks.on_body(chunk); }
        void done(FetchError error = FetchError::none, const std::string& message = {}) {
            callbacks.on_done(error, message);
        }
        // A whole response: head, body in one chunk, clean end.
        void respond(int status, std::string_view body, core::HttpHeaders headers) {
            head(status, std::move(headers));
            if (!body.empty()) this->body(body);
            done();
        }
    };

    std::shared_ptr<core::FetchHandle> fetch(core::FetchRequest request, core::FetchCallbacks callbacks) override {
        auto handle = std::make_shared<FakeHandle>();
        fetches.push_back(std::make_unique<Fetch>(Fetch{std::move(request), std::move(callbacks), handle}));
        return handle;
    }

    Fetch& last() { return *fetches.back(); }
    std::vector<std::unique_ptr<Fetch>> fetches;
};

class ManualScheduler {
public:
    struct Timer {
        int64_t delay_ms;
        std::function<void()> fn;
    };
    Scheduler scheduler() {
        return [this](int64_t delay_ms, std::function<void()> fn) { timers.push_back({delay_ms, std::move(fn)}); };
    }
    // Fires the oldest pending timer.
    void fire() {
        ASSERT_FALSE(timers.empty());
        Timer t = std::move(timers.front());
        timers.erase(timers.begin());
        t.fn();
    }
    std::vector<Timer> timers;
};

ModelRef openai_model() {
    ModelRef m;
    m.provider = "openai";
    m.model = "gpt-4o-mini";
    m.api = std::string(kApiOpenAiCompletions);
    m.base_url = "https://api.openai.com/v1";
    m.api_key = "sk-test-secret-123456";
    return m;
}

ModelRef anthropic_model() {
    ModelRef m;
    m.provider = "anthropic";
    m.model = "claude-sonnet-4-5";
    m.api = std::string(kApiAnthropicMessages);
    m.base_url = "http://127.0.0.1:9/v1";
    m.api_key = "sk-ant-secret-654321";
    return m;
}

constexpr std::string_view kOpenAiHello =
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n"
    "data: [DONE]\n\n";

const core::HttpHeaders kSse = {{"content-type", "text/event-stream"}};
const core::HttpHeaders kJson = {{"content-type", "application/json"}};

// One call under test, with everything it reported.
struct Harness {
    FakeFetcher fetcher;
    ManualScheduler timers;
    std::vector<StreamDelta> deltas;
    std::vector<CallOutcome> outcomes;
    std::shared_ptr<ModelCall> call;

    void start(ModelRef model, CallPolicy policy = fast_policy()) {
        ModelRequest req;
        req.model = std::move(model);
        req.messages = json::parse(R"([{"role":"user","content":"hi"}])").as_array();
        call = ModelCall::start(
            fetcher, timers.scheduler(), std::move(req), policy, [this](const StreamDelta& d) { deltas.push_back(d); },
            [this](CallOutcome o) { outcomes.push_back(std::move(o)); });
    }
    static CallPolicy fast_policy() {
        CallPolicy p;
        p.max_attempts = 3;
        p.base_backoff_ms = 100;
        p.max_backoff_ms = 5000;
        return p;
    }
    const CallOutcome& outcome() const { return outcomes.at(0); }
};

TEST(ModelCall, RetriesA429AfterTheServersRetryAfterThenStreams) {
    Harness h;
    h.start(openai_model());
    ASSERT_EQ(h.fetcher.fetches.size(), 1u);
    h.fetcher.last().respond(429, R"({"error":{"message":"Rate limit reached","type":"requests"}})",
                             {{"content-type", "application/json"}, {"retry-after", "2"}});
    ASSERT_EQ(h.timers.timers.size(), 1u);
    EXPECT_EQ(h.timers.timers[0].delay_ms, 2000) << "retry-after beats the 100 ms backoff";
    EXPECT_TRUE(h.outcomes.empty());
    EXPECT_EQ(h.fetcher.fetches.size(), 1u) << "nothing is sent before the timer fires";

    h.timers.fire();
    ASSERT_EQ(h.fetcher.fetches.size(), 2u);
    EXPECT_EQ(h.fetcher.fetches[1]->request.body, h.fetcher.fetches[0]->request.body);
    h.fetcher.last().respond(200, kOpenAiHello, kSse);

    ASSERT_EQ(h.outcomes.size(), 1u);
    const CallOutcome& o = h.outcome();
    EXPECT_EQ(o.error, CallError::none) << o.message;
    EXPECT_EQ(o.attempts, 2);
    EXPECT_EQ(o.http_status, 200);
    EXPECT_TRUE(o.streamed);
    EXPECT_EQ(o.turn.text, "Hello");
    EXPECT_EQ(o.turn.stop_reason, "stop");
    EXPECT_EQ(o.turn.input_tokens, 5);
    EXPECT_EQ(o.turn.output_tokens, 2);
    EXPECT_FALSE(h.deltas.empty());
}

TEST(ModelCall, RetryAfterMsIsPreciseAndEveryDelayIsCapped) {
    Harness h;
    h.start(openai_model());
    h.fetcher.last().respond(429, "", {{"retry-after-ms", "350"}, {"retry-after", "1"}});
    ASSERT_EQ(h.timers.timers.size(), 1u);
    EXPECT_EQ(h.timers.timers[0].delay_ms, 350);
    h.timers.fire();
    h.fetcher.last().respond(503, "", {{"retry-after", "3600"}});
    ASSERT_EQ(h.timers.timers.size(), 1u);
    EXPECT_EQ(h.timers.timers[0].delay_ms, 5000) << "max_backoff_ms caps a server's retry-after";
}

TEST(ModelCall, BackoffDoublesWithJitterAndGivesUpAsServerError) {
    Harness h;
    CallPolicy policy = Harness::fast_policy();
    policy.base_backoff_ms = 1000;
    policy.max_backoff_ms = 60000;
    h.start(anthropic_model(), policy);
    const std::string overloaded = R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})";
    h.fetcher.last().respond(529, overloaded, kJson);
    ASSERT_EQ(h.timers.timers.size(), 1u);
    EXPECT_GE(h.timers.timers[0].delay_ms, 800);
    EXPECT_LE(h.timers.timers[0].delay_ms, 1200);
    h.timers.fire();
    h.fetcher.last().respond(529, overloaded, kJson);
    ASSERT_EQ(h.timers.timers.size(), 1u);
    EXPECT_GE(h.timers.timers[0].delay_ms, 1600);
    EXPECT_LE(h.timers.timers[0].delay_ms, 2400);
    h.timers.fire();
    h.fetcher.last().respond(529, overloaded, kJson);

    EXPECT_TRUE(h.timers.timers.empty());
    ASSERT_EQ(h.outcomes.size(), 1u);
    EXPECT_EQ(h.outcome().error, CallError::server);
    EXPECT_EQ(h.outcome().attempts, 3);
    EXPECT_EQ(h.outcome().http_status, 529);
    EXPECT_EQ(h.outcome().message, "anthropic returned HTTP 529: Overloaded (after 3 attempts)");
    EXPECT_EQ(h.outcome().turn.stop_reason, "error");
    EXPECT_EQ(h.outcome().turn.error_type, "overloaded_error");
    EXPECT_FALSE(h.outcome().streamed);
}

TEST(ModelCall, Retries503ThenDecodesAnAnthropicStream) {
    Harness h;
    h.start(anthropic_model());
    h.fetcher.last().respond(503, "upstream unavailable", {{"content-type", "text/plain"}});
    h.timers.fire();
    const FakeFetcher::Fetch& second = h.fetcher.last();
    EXPECT_EQ(second.request.url, "http://127.0.0.1:9/v1/messages");
    h.fetcher.last().head(200);
    const std::string stream =
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":9}}}\n\n"
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
        "\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
        "\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"Hmm.\"}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
        "\"delta\":{\"type\":\"signature_delta\",\"signature\":\"sig\"}}\n\n"
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,"
        "\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"ls\",\"input\":{}}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,"
        "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"path\\\":\"}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,"
        "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\\\"/\\\"}\"}}\n\n"
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},"
        "\"usage\":{\"output_tokens\":30}}\n\n"
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    // Split mid-event, as a socket would.
    EXPECT_TRUE(h.fetcher.last().body(std::string_view(stream).substr(0, 100)));
    EXPECT_TRUE(h.fetcher.last().body(std::string_view(stream).substr(100)));
    h.fetcher.last().done();

    ASSERT_EQ(h.outcomes.size(), 1u);
    const CallOutcome& o = h.outcome();
    EXPECT_EQ(o.error, CallError::none) << o.message;
    EXPECT_EQ(o.attempts, 2);
    EXPECT_EQ(o.turn.thinking, "Hmm.");
    EXPECT_EQ(o.turn.thinking_signature, "sig");
    ASSERT_EQ(o.turn.tool_calls.size(), 1u);
    EXPECT_EQ(o.turn.tool_calls[0].id, "toolu_1");
    EXPECT_EQ(o.turn.tool_calls[0].arguments_json, R"({"path":"/"})");
    EXPECT_EQ(o.turn.stop_reason, "toolUse");
    EXPECT_EQ(o.turn.input_tokens, 9);
    EXPECT_EQ(o.turn.output_tokens, 30);
    EXPECT_TRUE(o.streamed);
}

TEST(ModelCall, Unauthorized401IsNotRetriedAndNeverEchoesTheKey) {
    Harness h;
    h.start(openai_model());
    h.fetcher.last().respond(
        401,
        R"({"error":{"message":"Incorrect API key provided: sk-test-secret-123456","type":"invalid_request_error"}})",
        kJson);
    EXPECT_TRUE(h.timers.timers.empty());
    ASSERT_EQ(h.outcomes.size(), 1u);
    const CallOutcome& o = h.outcome();
    EXPECT_EQ(o.error, CallError::auth);
    EXPECT_EQ(o.attempts, 1);
    EXPECT_EQ(o.http_status, 401);
    EXPECT_EQ(o.message, "openai returned HTTP 401: Incorrect API key provided: ***");
    EXPECT_EQ(o.turn.error_message.find("sk-test"), std::string::npos);
}

TEST(ModelCall, ClientErrorsAreClassifiedByStatusAndMessage) {
    struct Case {
        int status;
        std::string message;
        CallError expected;
    };
    const Case cases[] = {
        {403, "forbidden", CallError::auth},
        {400, "This model's maximum context length is 128000 tokens", CallError::context_length},
        {400, "prompt is too long: 210000 tokens > 200000 maximum", CallError::context_length},
        {413, "request too large", CallError::context_length},
        {400, "messages: text content blocks must be non-empty", CallError::bad_request},
        {404, "model not found", CallError::bad_request},
        {501, "not implemented", CallError::server},
    };
    for (const Case& c : cases) {
        Harness h;
        h.start(openai_model());
        h.fetcher.last().respond(c.status, R"({"error":{"message":")" + c.message + R"("}})", kJson);
        ASSERT_EQ(h.outcomes.size(), 1u) << c.status;
        EXPECT_EQ(h.outcome().error, c.expected) << c.status << " " << c.message;
        EXPECT_EQ(h.outcome().message, "openai returned HTTP " + std::to_string(c.status) + ": " + c.message);
    }
}

TEST(ModelCall, ConnectFailuresRetryThenReportANetworkError) {
    Harness h;
    h.start(anthropic_model());
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(h.fetcher.fetches.size(), static_cast<size_t>(i + 1));
        h.fetcher.last().done(FetchError::connect, "cannot connect to 127.0.0.1:9: Connection refused");
        if (i < 2) h.timers.fire();
    }
    ASSERT_EQ(h.outcomes.size(), 1u);
    const CallOutcome& o = h.outcome();
    EXPECT_EQ(o.error, CallError::network);
    EXPECT_EQ(o.attempts, 3);
    EXPECT_EQ(o.http_status, 0);
    EXPECT_EQ(o.message,
              "anthropic: cannot connect to 127.0.0.1:9: Connection refused (http://127.0.0.1:9/v1/messages) "
              "(after 3 attempts)");
    EXPECT_EQ(o.message.find("sk-ant"), std::string::npos);
}

TEST(ModelCall, ATimeoutBeforeTheHeadIsNotRetried) {
    Harness h;
    h.start(openai_model());
    h.fetcher.last().done(FetchError::timeout, "cannot connect to api.openai.com:443: timed out");
    ASSERT_EQ(h.outcomes.size(), 1u);
    EXPECT_EQ(h.outcome().error, CallError::timeout);
    EXPECT_EQ(h.outcome().message,
              "openai: timed out: cannot connect to api.openai.com:443: timed out "
              "(https://api.openai.com/v1/chat/completions)");
    EXPECT_TRUE(h.timers.timers.empty());
}

TEST(ModelCall, CancelDuringBackoffReportsCancelledOnceAndIgnoresTheTimer) {
    Harness h;
    h.start(openai_model());
    h.fetcher.last().respond(429, "", {});
    ASSERT_EQ(h.timers.timers.size(), 1u);
    h.call->cancel();
    ASSERT_EQ(h.outcomes.size(), 1u);
    EXPECT_EQ(h.outcome().error, CallError::cancelled);
    EXPECT_EQ(h.outcome().message, "openai: cancelled");
    h.timers.fire();
    EXPECT_EQ(h.fetcher.fetches.size(), 1u) << "a cancelled call never starts another attempt";
    h.call->cancel();
    EXPECT_EQ(h.outcomes.size(), 1u);
}

TEST(ModelCall, CancelDuringTheStreamKeepsTheTextAndIgnoresLateCallbacks) {
    Harness h;
    h.start(openai_model());
    FakeFetcher::Fetch& f = h.fetcher.last();
    f.head(200);
    EXPECT_TRUE(f.body("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"partial \"}}]}\n\n"));
    h.call->cancel();
    EXPECT_TRUE(f.handle->cancelled);
    ASSERT_EQ(h.outcomes.size(), 1u);
    EXPECT_EQ(h.outcome().error, CallError::cancelled);
    EXPECT_EQ(h.outcome().turn.text, "partial ");
    EXPECT_TRUE(h.outcome().streamed);

    const size_t deltas = h.deltas.size();
    EXPECT_FALSE(f.body("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"more\"}}]}\n\n"));
    f.done(FetchError::cancelled, "cancelled");
    EXPECT_EQ(h.deltas.size(), deltas);
    EXPECT_EQ(h.outcomes.size(), 1u);
}

TEST(ModelCall, CancelFromInsideOnDeltaStopsReading) {
    FakeFetcher fetcher;
    ManualScheduler timers;
    std::shared_ptr<ModelCall> call;
    int deltas = 0;
    std::vector<CallOutcome> outcomes;
    ModelRequest req;
    req.model = openai_model();
    call = ModelCall::start(
        fetcher, timers.scheduler(), req, Harness::fast_policy(),
        [&](const StreamDelta&) {
            ++deltas;
            call->cancel();
        },
        [&](CallOutcome o) { outcomes.push_back(std::move(o)); });
    fetcher.last().head(200);
    EXPECT_FALSE(fetcher.last().body(kOpenAiHello));
    EXPECT_EQ(deltas, 1);
    ASSERT_EQ(outcomes.size(), 1u);
    EXPECT_EQ(outcomes[0].error, CallError::cancelled);
    EXPECT_EQ(outcomes[0].turn.text, "Hel");
}

TEST(ModelCall, CancelAfterDoneIsANoOp) {
    Harness h;
    h.start(openai_model());
    h.fetcher.last().respond(200, kOpenAiHello, kSse);
    h.call->cancel();
    ASSERT_EQ(h.outcomes.size(), 1u);
    EXPECT_EQ(h.outcome().error, CallError::none);
}

TEST(ModelCall, OpenAiToolCallStream) {
    Harness h;
    h.start(openai_model());
    h.fetcher.last().respond(
        200,
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":"
        "\"function\",\"function\":{\"name\":\"ls\",\"arguments\":\"\"}}]}}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
        "\"{\\\"path\\\":\\\"/\\\"}\"}}]}}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
        "data: [DONE]\n\n",
        kSse);
    ASSERT_EQ(h.outcomes.size(), 1u);
    const CallOutcome& o = h.outcome();
    EXPECT_EQ(o.error, CallError::none) << o.message;
    ASSERT_EQ(o.turn.tool_calls.size(), 1u);
    EXPECT_EQ(o.turn.tool_calls[0].name, "ls");
    EXPECT_EQ(o.turn.tool_calls[0].arguments_json, R"({"path":"/"})");
    EXPECT_EQ(o.turn.stop_reason, "toolUse");
    EXPECT_TRUE(o.streamed);
}

TEST(ModelCall, ACutStreamIsAStreamErrorThatKeepsThePartialText) {
    Harness h;
    h.start(openai_model());
    FakeFetcher::Fetch& f = h.fetcher.last();
    f.head(200);
    f.body("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"half a\"}}]}\n\ndata: {\"choi");
    f.done(FetchError::closed_early, "connection closed mid-response");
    EXPECT_TRUE(h.timers.timers.empty()) << "no retry once text was streamed";
    ASSERT_EQ(h.outcomes.size(), 1u);
    const CallOutcome& o = h.outcome();
    EXPECT_EQ(o.error, CallError::stream);
    EXPECT_EQ(o.turn.text, "half a");
    EXPECT_EQ(o.turn.stop_reason, "error");
    EXPECT_EQ(o.turn.error_type, kErrorTruncatedStream);
    EXPECT_EQ(o.message, "openai: provider stream ended before the response was complete");
    EXPECT_TRUE(o.streamed);
    ASSERT_FALSE(h.deltas.empty());
    EXPECT_EQ(h.deltas.back().kind, StreamDelta::Kind::error);
}

TEST(ModelCall, AStreamCutAfterItsStopReasonStillSucceeds) {
    Harness h;
    h.start(openai_model());
    FakeFetcher::Fetch& f = h.fetcher.last();
    f.head(200);
    f.body(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"done\"}}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
    f.done(FetchError::closed_early, "connection closed mid-response");
    ASSERT_EQ(h.outcomes.size(), 1u);
    EXPECT_EQ(h.outcome().error, CallError::none) << h.outcome().message;
    EXPECT_EQ(h.outcome().turn.text, "done");
}

TEST(ModelCall, AStalledStreamIsATimeout) {
    Harness h;
    CallPolicy policy = Harness::fast_policy();
    policy.idle_timeout_ms = 250;
    h.start(anthropic_model(), policy);
    EXPECT_EQ(h.fetcher.last().request.idle_timeout_ms, 250);
    FakeFetcher::Fetch& f = h.fetcher.last();
    f.head(200);
    f.body(
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
        "\"delta\":{\"type\":\"text_delta\",\"text\":\"stal\"}}\n\n");
    f.done(FetchError::timeout, "reading the response failed: timeout");
    ASSERT_EQ(h.outcomes.size(), 1u);
    const CallOutcome& o = h.outcome();
    EXPECT_EQ(o.error, CallError::timeout);
    EXPECT_EQ(o.message, "anthropic: the stream stalled (no data for 250 ms)");
    EXPECT_EQ(o.turn.text, "stal");
    EXPECT_EQ(o.turn.stop_reason, "error");
}

TEST(ModelCall, MalformedStreamStopsReadingAndReportsAStreamError) {
    Harness h;
    h.start(openai_model());
    FakeFetcher::Fetch& f = h.fetcher.last();
    f.head(200);
    EXPECT_FALSE(f.body("data: {this is not json\n\ndata: {\"choices\":[]}\n\n"));
    EXPECT_TRUE(h.outcomes.empty()) << "the fetch still has to report its end";
    f.done(FetchError::cancelled, "stopped by the reader");
    ASSERT_EQ(h.outcomes.size(), 1u);
    EXPECT_EQ(h.outcome().error, CallError::stream);
    EXPECT_EQ(h.outcome().turn.error_type, kErrorMalformedStream);
    EXPECT_NE(h.outcome().message.find("openai: provider sent malformed JSON"), std::string::npos)
        << h.outcome().message;
    EXPECT_FALSE(h.outcome().streamed);
}

TEST(ModelCall, AnInStreamProviderErrorIsAStreamError) {
    Harness h;
    h.start(anthropic_model());
    h.fetcher.last().respond(
        200,
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}"
        "\n\n",
        kSse);
    ASSERT_EQ(h.outcomes.size(), 1u);
    EXPECT_EQ(h.outcome().error, CallError::stream);
    EXPECT_EQ(h.outcome().message, "anthropic: Overloaded");
    EXPECT_EQ(h.outcome().turn.error_type, "overloaded_error");
    EXPECT_FALSE(h.outcome().streamed) << "an error alone streams nothing";
}

TEST(ModelCall, AJsonBodyInsteadOfAStreamIsAStreamError) {
    Harness h;
    h.start(openai_model());
    h.fetcher.last().respond(200, R"({"error":{"message":"streaming is disabled for this key"}})", kJson);
    ASSERT_EQ(h.outcomes.size(), 1u);
    EXPECT_EQ(h.outcome().error, CallError::stream);
    EXPECT_EQ(h.outcome().message,
              "openai answered with JSON instead of an event stream: streaming is disabled for this key");
}

TEST(ModelCall, HugeErrorBodiesAreCutAndStillClassified) {
    Harness h;
    h.start(openai_model());
    FakeFetcher::Fetch& f = h.fetcher.last();
    f.head(400, kJson);
    const std::string huge(64 * 1024, 'x');
    EXPECT_FALSE(f.body(huge)) << "reading stops at the cap";
    f.done(FetchError::cancelled, "stopped by the reader");
    ASSERT_EQ(h.outcomes.size(), 1u);
    EXPECT_EQ(h.outcome().error, CallError::bad_request);
    EXPECT_LT(h.outcome().message.size(), 400u);
    EXPECT_TRUE(h.outcome().message.starts_with("openai returned HTTP 400: xxx"));
}

TEST(ModelCall, SynchronousFetcherFailuresStillRetryAndFinishOnce) {
    // A fetcher that fails inside fetch() itself, and a scheduler that runs timers at once.
    class FailingFetcher : public core::HttpFetcher {
    public:
        std::shared_ptr<core::FetchHandle> fetch(core::FetchRequest, core::FetchCallbacks cb) override {
            ++calls;
            cb.on_done(FetchError::resolve, "cannot resolve nowhere.invalid: Host not found");
            return std::make_shared<FakeHandle>();
        }
        int calls = 0;
    } fetcher;
    std::vector<CallOutcome> outcomes;
    ModelRequest req;
    req.model = openai_model();
    req.model.base_url = "https://nowhere.invalid/v1";
    ModelCall::start(
        fetcher, [](int64_t, std::function<void()> fn) { fn(); }, req, Harness::fast_policy(), nullptr,
        [&](CallOutcome o) { outcomes.push_back(std::move(o)); });
    EXPECT_EQ(fetcher.calls, 3);
    ASSERT_EQ(outcomes.size(), 1u);
    EXPECT_EQ(outcomes[0].error, CallError::network);
    EXPECT_EQ(outcomes[0].attempts, 3);
}

TEST(ModelCall, ToStringNamesEveryError) {
    EXPECT_EQ(to_string(CallError::rate_limit), "rate_limit");
    EXPECT_EQ(to_string(CallError::context_length), "context_length");
    EXPECT_EQ(to_string(CallError::cancelled), "cancelled");
}

}  // namespace
}  // namespace pincer::runtime
