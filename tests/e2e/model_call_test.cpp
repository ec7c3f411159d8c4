// ModelCall over real sockets: the Beast fetcher against the scripted mock provider, for both wire
// formats. Retry delays are capped at a few milliseconds so the retry paths run fast.
#include "runtime/model_call.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>
#include <chrono>
#include <optional>

#include "support/mock_llm.hpp"
#include "transport/http_fetcher.hpp"

using namespace pincer;
using namespace std::chrono_literals;
using e2e::MockLlmServer;
using e2e::MockStep;
using runtime::CallError;
using runtime::CallOutcome;

namespace {

enum class Api { openai, anthropic };

std::string api_name(const testing::TestParamInfo<Api>& info) {
    return info.param == Api::openai ? "OpenAi" : "Anthropic";
}

class ModelCallE2e : public testing::TestWithParam<Api> {
protected:
    ModelCallE2e() : fetcher_(transport::make_http_fetcher(ioc_)) {}

    bool openai() const { return GetParam() == Api::openai; }
    void push(MockStep step) { openai() ? mock_.push_openai(std::move(step)) : mock_.push_anthropic(std::move(step)); }

    runtime::ModelRef model() const {
        runtime::ModelRef m;
        if (openai()) {
            m.provider = "openai";
            m.model = "gpt-test";
            m.api = std::string(runtime::kApiOpenAiCompletions);
            m.base_url = mock_.openai_base_url();
            m.api_key = "sk-e2e-openai-key";
        } else {
            m.provider = "anthropic";
            m.model = "claude-test";
            m.api = std::string(runtime::kApiAnthropicMessages);
            m.base_url = mock_.anthropic_base_url();  // no /v1, as OpenClaw configs write it
            m.api_key = "sk-e2e-anthropic-key";
        }
        m.reasoning = true;
        return m;
    }

    static runtime::CallPolicy policy() {
        runtime::CallPolicy p;
        p.connect_timeout_ms = 2000;
        p.idle_timeout_ms = 2000;
        p.max_attempts = 3;
        p.base_backoff_ms = 5;
        p.max_backoff_ms = 20;  // also caps the mock's `retry-after: 1`
        return p;
    }

    runtime::Scheduler scheduler() {
        return [this](int64_t delay_ms, std::function<void()> fn) {
            auto timer = std::make_shared<boost::asio::steady_timer>(ioc_, std::chrono::milliseconds(delay_ms));
            timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code& ec) {
                if (!ec) fn();
            });
        };
    }

    // Runs one call to completion on this thread's io_context.
    CallOutcome run(runtime::CallPolicy p = policy(), std::string thinking = {}) {
        runtime::ModelRequest req;
        req.model = model();
        req.system_prompt = "Be brief.";
        req.messages = boost::json::parse(R"([{"role":"user","content":"hi"}])").as_array();
        req.tools = {runtime::ToolSpec{"read", "Read a file", {}}};
        req.thinking = std::move(thinking);
        std::optional<CallOutcome> outcome;
        auto call = runtime::ModelCall::start(
            *fetcher_, scheduler(), std::move(req), p, [this](const runtime::StreamDelta& d) { deltas_.push_back(d); },
            [&outcome](CallOutcome o) { outcome = std::move(o); });
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (!outcome && std::chrono::steady_clock::now() < deadline) {
            ioc_.restart();
            ioc_.run_one_for(100ms);
        }
        EXPECT_TRUE(outcome.has_value()) << "the call did not finish in time";
        return outcome.value_or(CallOutcome{});
    }

    boost::asio::io_context ioc_;
    std::unique_ptr<core::HttpFetcher> fetcher_;
    MockLlmServer mock_;
    std::vector<runtime::StreamDelta> deltas_;
};

TEST_P(ModelCallE2e, StreamsATextReplyAndSendsAWellFormedRequest) {
    push(MockStep::make_text("Hello from the mock provider"));
    const CallOutcome o = run();
    EXPECT_EQ(o.error, CallError::none) << o.message;
    EXPECT_EQ(o.turn.text, "Hello from the mock provider");
    EXPECT_EQ(o.turn.stop_reason, "stop");
    EXPECT_EQ(o.turn.input_tokens, 12);
    EXPECT_EQ(o.turn.output_tokens, 7);
    EXPECT_TRUE(o.streamed);
    EXPECT_EQ(o.attempts, 1);
    EXPECT_GT(deltas_.size(), 3u) << "text arrives in several deltas";

    const auto requests = mock_.requests();
    ASSERT_EQ(requests.size(), 1u);
    const auto& r = requests[0];
    const boost::json::value body = r.json();
    EXPECT_EQ(body.at("stream"), true);
    EXPECT_EQ(body.at("tools").as_array().size(), 1u);
    if (openai()) {
        EXPECT_EQ(r.path, "/v1/chat/completions");
        EXPECT_EQ(r.header("authorization"), "Bearer sk-e2e-openai-key");
        EXPECT_EQ(body.at("messages").at(0).at("role"), "system");
    } else {
        EXPECT_EQ(r.path, "/v1/messages");
        EXPECT_EQ(r.header("x-api-key"), "sk-e2e-anthropic-key");
        EXPECT_EQ(r.header("anthropic-version"), "2023-06-01");
        EXPECT_EQ(body.at("system"), "Be brief.");
    }
}

TEST_P(ModelCallE2e, StreamsToolCalls) {
    push(MockStep::make_tool_calls(
        {{"call_a", "read", R"({"path":"/etc/hostname"})"}, {"call_b", "read", R"({"path":"/etc/os-release"})"}},
        "Reading both."));
    const CallOutcome o = run();
    EXPECT_EQ(o.error, CallError::none) << o.message;
    EXPECT_EQ(o.turn.text, "Reading both.");
    EXPECT_EQ(o.turn.stop_reason, "toolUse");
    ASSERT_EQ(o.turn.tool_calls.size(), 2u);
    EXPECT_EQ(o.turn.tool_calls[0].id, "call_a");
    EXPECT_EQ(o.turn.tool_calls[0].name, "read");
    EXPECT_EQ(boost::json::parse(o.turn.tool_calls[0].arguments_json),
              boost::json::parse(R"({"path":"/etc/hostname"})"));
    EXPECT_EQ(boost::json::parse(o.turn.tool_calls[1].arguments_json),
              boost::json::parse(R"({"path":"/etc/os-release"})"));
}

TEST_P(ModelCallE2e, StreamsThinkingBeforeTheAnswer) {
    push(MockStep::make_thinking("First, consider the question.", "The answer is 4."));
    const CallOutcome o = run(policy(), "low");
    EXPECT_EQ(o.error, CallError::none) << o.message;
    EXPECT_EQ(o.turn.thinking, "First, consider the question.");
    EXPECT_EQ(o.turn.text, "The answer is 4.");
    const boost::json::value body = mock_.requests().at(0).json();
    if (openai()) {
        EXPECT_EQ(body.at("reasoning_effort"), "low");
    } else {
        EXPECT_EQ(o.turn.thinking_signature, "mock-signature");
        EXPECT_EQ(body.at("thinking").at("budget_tokens"), 2048);
    }
}

TEST_P(ModelCallE2e, RetriesA429ThenSucceeds) {
    push(MockStep::make_http_error(429, 1));
    push(MockStep::make_text("after the rate limit"));
    const auto started = std::chrono::steady_clock::now();
    const CallOutcome o = run();
    EXPECT_EQ(o.error, CallError::none) << o.message;
    EXPECT_EQ(o.attempts, 2);
    EXPECT_EQ(o.turn.text, "after the rate limit");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 900ms) << "retry-after is capped by max_backoff_ms";
    EXPECT_EQ(mock_.requests().size(), 2u);
}

TEST_P(ModelCallE2e, ServerErrorsExhaustTheRetries) {
    for (int i = 0; i < 3; ++i) push(MockStep::make_http_error(500));
    push(MockStep::make_text("never reached"));
    const CallOutcome o = run();
    EXPECT_EQ(o.error, CallError::server);
    EXPECT_EQ(o.attempts, 3);
    EXPECT_EQ(o.http_status, 500);
    const std::string provider = openai() ? "openai" : "anthropic";
    EXPECT_EQ(o.message, provider + " returned HTTP 500: Scripted error 500 from the mock provider (after 3 attempts)");
    EXPECT_EQ(mock_.requests().size(), 3u);
    EXPECT_EQ(openai() ? mock_.pending_openai() : mock_.pending_anthropic(), 1u);
}

TEST_P(ModelCallE2e, AnAuthErrorIsNotRetried) {
    push(MockStep::make_http_error(401));
    const CallOutcome o = run();
    EXPECT_EQ(o.error, CallError::auth);
    EXPECT_EQ(o.attempts, 1);
    EXPECT_EQ(o.message.find("sk-e2e"), std::string::npos);
    EXPECT_EQ(mock_.requests().size(), 1u);
}

TEST_P(ModelCallE2e, MalformedSseIsAStreamError) {
    push(MockStep::make_malformed_sse());
    const CallOutcome o = run();
    EXPECT_EQ(o.error, CallError::stream);
    EXPECT_EQ(o.turn.error_type, runtime::kErrorMalformedStream);
    EXPECT_FALSE(o.streamed);
    EXPECT_EQ(o.attempts, 1);
}

TEST_P(ModelCallE2e, ACutReplyKeepsItsPartialText) {
    push(MockStep::make_cut_mid_reply("this reply is cut off before it ends"));
    const CallOutcome o = run();
    EXPECT_EQ(o.error, CallError::stream) << o.message;
    EXPECT_TRUE(o.streamed);
    EXPECT_FALSE(o.turn.text.empty());
    EXPECT_TRUE(std::string("this reply is cut off before it ends").starts_with(o.turn.text)) << o.turn.text;
    EXPECT_LT(o.turn.text.size(), std::string("this reply is cut off before it ends").size());
    EXPECT_EQ(o.turn.error_type, runtime::kErrorTruncatedStream);
    EXPECT_EQ(mock_.requests().size(), 1u) << "a streamed reply is never retried";
}

TEST_P(ModelCallE2e, AStalledStreamTimesOutAndClosesTheConnection) {
    push(MockStep::make_stall("stalled reply"));
    runtime::CallPolicy p = policy();
    p.idle_timeout_ms = 300;
    const CallOutcome o = run(p);
    EXPECT_EQ(o.error, CallError::timeout) << o.message;
    EXPECT_TRUE(o.streamed);
    EXPECT_FALSE(o.turn.text.empty());
    EXPECT_EQ(o.message, std::string(openai() ? "openai" : "anthropic") + ": the stream stalled (no data for 300 ms)");
    EXPECT_TRUE(mock_.wait_for_stream_closed_by_client(2s));
}

TEST_P(ModelCallE2e, CancelMidStreamReportsCancelledOnceAndClosesTheConnection) {
    push(MockStep::make_slow_text("one two three four five six seven eight", 50));
    runtime::ModelRequest req;
    req.model = model();
    req.messages = boost::json::parse(R"([{"role":"user","content":"hi"}])").as_array();
    int done_calls = 0;
    std::optional<CallOutcome> outcome;
    std::shared_ptr<runtime::ModelCall> call;
    call = runtime::ModelCall::start(
        *fetcher_, scheduler(), req, policy(),
        [&](const runtime::StreamDelta& d) {
            if (d.kind == runtime::StreamDelta::Kind::text) call->cancel();
        },
        [&](CallOutcome o) {
            ++done_calls;
            outcome = std::move(o);
        });
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!outcome && std::chrono::steady_clock::now() < deadline) {
        ioc_.restart();
        ioc_.run_one_for(100ms);
    }
    ASSERT_TRUE(outcome.has_value());
    EXPECT_EQ(outcome->error, CallError::cancelled);
    EXPECT_FALSE(outcome->turn.text.empty());
    EXPECT_TRUE(mock_.wait_for_stream_closed_by_client(2s));
    ioc_.restart();
    ioc_.run_for(50ms);  // let the fetch report its own end, which must not reach us
    EXPECT_EQ(done_calls, 1);
}

TEST_P(ModelCallE2e, ConnectionRefusedRetriesThenIsANetworkError) {
    runtime::ModelRequest req;
    // Port 9 (discard) on loopback: nothing listens there in the test environment.
    std::optional<CallOutcome> outcome;
    req.model = model();
    req.model.base_url = openai() ? "http://127.0.0.1:9/v1" : "http://127.0.0.1:9";
    auto call = runtime::ModelCall::start(*fetcher_, scheduler(), req, policy(), nullptr,
                                          [&outcome](CallOutcome o) { outcome = std::move(o); });
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!outcome && std::chrono::steady_clock::now() < deadline) {
        ioc_.restart();
        ioc_.run_one_for(100ms);
    }
    ASSERT_TRUE(outcome.has_value());
    EXPECT_EQ(outcome->error, CallError::network) << outcome->message;
    EXPECT_EQ(outcome->attempts, 3);
    const std::string url = openai() ? "http://127.0.0.1:9/v1/chat/completions" : "http://127.0.0.1:9/v1/messages";
    EXPECT_TRUE(outcome->message.starts_with(openai() ? "openai: " : "anthropic: ")) << outcome->message;
    EXPECT_NE(outcome->message.find("(" + url + ")"), std::string::npos) << outcome->message;
    EXPECT_EQ(outcome->message.find("sk-e2e"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(BothApis, ModelCallE2e, testing::Values(Api::openai, Api::anthropic), api_name);

}  // namespace
