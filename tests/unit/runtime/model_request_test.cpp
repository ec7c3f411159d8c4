// build_fetch_request: the exact JSON both provider APIs receive for a pi-ai transcript.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>

#include "runtime/model_call.hpp"

namespace pincer::runtime {
namespace {

json::value parse(std::string_view text) { return json::parse(text); }

ModelRef openai_model() {
    ModelRef m;
    m.provider = "openai";
    m.model = "gpt-4o-mini";
    m.api = std::string(kApiOpenAiCompletions);
    m.base_url = "https://api.openai.com/v1";
    m.api_key = "sk-secret-openai-key";
    m.max_tokens = 1000;
    m.supports_images = true;
    return m;
}

ModelRef anthropic_model() {
    ModelRef m;
    m.provider = "anthropic";
    m.model = "claude-sonnet-4-5";
    m.api = std::string(kApiAnthropicMessages);
    m.base_url = "https://api.anthropic.com/v1";
    m.api_key = "sk-ant-secret-key";
    m.max_tokens = 4096;
    m.supports_images = true;
    m.reasoning = true;
    return m;
}

std::string header(const core::FetchRequest& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
        if (k == name) return v;
    }
    return "<absent>";
}

// A conversation with every block kind: text, image, thinking, a tool call and its result.
json::array tool_conversation() {
    return parse(R"([
      {"role":"user","content":"What is in /tmp?","timestamp":1},
      {"role":"assistant","content":[
          {"type":"thinking","thinking":"Let me list it.","thinkingSignature":"sig-1"},
          {"type":"text","text":"Listing."},
          {"type":"toolCall","id":"call_1","name":"ls","arguments":{"path":"/tmp"}},
          {"type":"toolCall","id":"call_2","name":"stat","arguments":{"path":"/tmp/a"}}],
       "stopReason":"toolUse"},
      {"role":"toolResult","toolCallId":"call_1","toolName":"ls","content":[{"type":"text","text":"a b"}],"isError":false},
      {"role":"toolResult","toolCallId":"call_2","toolName":"stat","content":[{"type":"text","text":"no such file"}],"isError":true}
    ])")
        .as_array();
}

ToolSpec ls_tool() {
    return ToolSpec{"ls", "List a directory",
                    parse(R"({"type":"object","properties":{"path":{"type":"string"}}})").as_object()};
}

TEST(ModelRequest, OpenAiRequestHasUrlHeadersAndStreamingOptions) {
    ModelRequest req;
    req.model = openai_model();
    req.system_prompt = "You are terse.";
    req.messages = parse(R"([{"role":"user","content":"hi"}])").as_array();
    CallPolicy policy;
    policy.connect_timeout_ms = 1234;
    policy.idle_timeout_ms = 5678;
    const core::FetchRequest r = build_fetch_request(req, policy);

    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.url, "https://api.openai.com/v1/chat/completions");
    EXPECT_EQ(r.connect_timeout_ms, 1234);
    EXPECT_EQ(r.idle_timeout_ms, 5678);
    EXPECT_EQ(header(r, "content-type"), "application/json");
    EXPECT_EQ(header(r, "accept"), "text/event-stream");
    EXPECT_EQ(header(r, "authorization"), "Bearer sk-secret-openai-key");
    EXPECT_EQ(r.body.find("sk-secret"), std::string::npos);

    const json::object body = parse(r.body).as_object();
    EXPECT_EQ(body.at("model"), "gpt-4o-mini");
    EXPECT_EQ(body.at("stream"), true);
    EXPECT_EQ(body.at("stream_options"), parse(R"({"include_usage":true})"));
    EXPECT_EQ(body.at("max_completion_tokens"), 1000) << "api.openai.com gets the field reasoning models accept";
    EXPECT_FALSE(body.contains("tools"));
    EXPECT_FALSE(body.contains("reasoning_effort"));
    EXPECT_EQ(body.at("messages"), parse(R"([{"role":"system","content":"You are terse."},
                                             {"role":"user","content":"hi"}])"));
}

TEST(ModelRequest, OpenAiCompatibleServerGetsMaxTokensAndNoAuthWithoutKey) {
    ModelRequest req;
    req.model = openai_model();
    req.model.provider = "ollama";
    req.model.base_url = "http://127.0.0.1:11434/v1/";
    req.model.api_key.clear();
    req.model.headers = {{"X-Trace", "on"}, {"Accept", "application/x-ndjson"}};
    req.messages = parse(R"([{"role":"user","content":"hi"}])").as_array();
    const core::FetchRequest r = build_fetch_request(req, {});

    EXPECT_EQ(r.url, "http://127.0.0.1:11434/v1/chat/completions");
    EXPECT_EQ(header(r, "authorization"), "<absent>");
    EXPECT_EQ(header(r, "X-Trace"), "on");
    EXPECT_EQ(header(r, "accept"), "application/x-ndjson") << "configured headers override ours in place";
    const json::object body = parse(r.body).as_object();
    EXPECT_EQ(body.at("max_tokens"), 1000);
    EXPECT_FALSE(body.contains("max_completion_tokens"));
    EXPECT_FALSE(body.contains("system")) << "no system prompt, no system message";
    EXPECT_EQ(body.at("messages").as_array().size(), 1u);
}

TEST(ModelRequest, OpenAiToolCallsToolResultsAndTools) {
    ModelRequest req;
    req.model = openai_model();
    req.messages = tool_conversation();
    req.tools = {ls_tool(), ToolSpec{"now", "Current time", {}}};
    const json::object body = parse(build_fetch_request(req, {}).body).as_object();

    const json::array& messages = body.at("messages").as_array();
    ASSERT_EQ(messages.size(), 4u);
    EXPECT_EQ(messages[0], parse(R"({"role":"user","content":"What is in /tmp?"})"));
    EXPECT_EQ(messages[1], parse(R"({"role":"assistant","content":"Listing.","tool_calls":[
        {"id":"call_1","type":"function","function":{"name":"ls","arguments":"{\"path\":\"/tmp\"}"}},
        {"id":"call_2","type":"function","function":{"name":"stat","arguments":"{\"path\":\"/tmp/a\"}"}}]})"))
        << "thinking is not replayed to OpenAI-compatible servers";
    EXPECT_EQ(messages[2], parse(R"({"role":"tool","tool_call_id":"call_1","content":"a b"})"));
    EXPECT_EQ(messages[3], parse(R"({"role":"tool","tool_call_id":"call_2","content":"no such file"})"));

    EXPECT_EQ(body.at("tools"), parse(R"([
        {"type":"function","function":{"name":"ls","description":"List a directory",
            "parameters":{"type":"object","properties":{"path":{"type":"string"}}}}},
        {"type":"function","function":{"name":"now","description":"Current time",
            "parameters":{"type":"object","properties":{}}}}])"));
}

TEST(ModelRequest, OpenAiImagesBecomeDataUrlsOrArePlaceholdersForTextOnlyModels) {
    ModelRequest req;
    req.model = openai_model();
    req.messages = parse(R"([{"role":"user","content":[
        {"type":"text","text":"What is this?"},
        {"type":"image","data":"iVBORw0KGgo=","mimeType":"image/png"}]}])")
                       .as_array();
    json::object body = parse(build_fetch_request(req, {}).body).as_object();
    EXPECT_EQ(body.at("messages").at(0), parse(R"({"role":"user","content":[
        {"type":"text","text":"What is this?"},
        {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]})"));

    req.model.supports_images = false;
    body = parse(build_fetch_request(req, {}).body).as_object();
    const json::value& content = body.at("messages").at(0).at("content");
    ASSERT_TRUE(content.is_string()) << content;
    EXPECT_NE(content.as_string().find("What is this?"), json::string::npos);
    EXPECT_NE(content.as_string().find("image omitted"), json::string::npos);
    EXPECT_EQ(serialize(body).find("iVBORw0KGgo"), std::string::npos);
}

TEST(ModelRequest, OpenAiReasoningEffortOnlyForReasoningModels) {
    ModelRequest req;
    req.model = openai_model();
    req.messages = parse(R"([{"role":"user","content":"hi"}])").as_array();
    req.thinking = "high";
    EXPECT_FALSE(parse(build_fetch_request(req, {}).body).as_object().contains("reasoning_effort"));

    req.model.reasoning = true;
    req.model.model = "o4-mini";
    EXPECT_EQ(parse(build_fetch_request(req, {}).body).at("reasoning_effort"), "high");
    req.thinking = "xhigh";
    EXPECT_EQ(parse(build_fetch_request(req, {}).body).at("reasoning_effort"), "high");
    req.thinking = "minimal";
    EXPECT_EQ(parse(build_fetch_request(req, {}).body).at("reasoning_effort"), "low") << "o-series lacks minimal";
    req.model.model = "gpt-5-mini";
    EXPECT_EQ(parse(build_fetch_request(req, {}).body).at("reasoning_effort"), "minimal");
    req.thinking = "off";
    EXPECT_FALSE(parse(build_fetch_request(req, {}).body).as_object().contains("reasoning_effort"));
}

TEST(ModelRequest, AnthropicRequestHasUrlHeadersSystemAndMaxTokens) {
    ModelRequest req;
    req.model = anthropic_model();
    req.system_prompt = "Be brief.";
    req.messages = parse(R"([{"role":"user","content":"hi"}])").as_array();
    const core::FetchRequest r = build_fetch_request(req, {});

    EXPECT_EQ(r.url, "https://api.anthropic.com/v1/messages");
    EXPECT_EQ(header(r, "x-api-key"), "sk-ant-secret-key");
    EXPECT_EQ(header(r, "anthropic-version"), "2023-06-01");
    EXPECT_EQ(header(r, "authorization"), "<absent>");
    EXPECT_EQ(header(r, "accept"), "text/event-stream");
    EXPECT_EQ(r.body.find("sk-ant"), std::string::npos);
    const json::object body = parse(r.body).as_object();
    EXPECT_EQ(body.at("model"), "claude-sonnet-4-5");
    EXPECT_EQ(body.at("system"), "Be brief.");
    EXPECT_EQ(body.at("max_tokens"), 4096);
    EXPECT_EQ(body.at("stream"), true);
    EXPECT_FALSE(body.contains("thinking"));
    EXPECT_FALSE(body.contains("tools"));
    EXPECT_EQ(body.at("messages"), parse(R"([{"role":"user","content":[{"type":"text","text":"hi"}]}])"));
}

TEST(ModelRequest, AnthropicBaseUrlWithOrWithoutV1) {
    ModelRequest req;
    req.model = anthropic_model();
    req.model.base_url = "https://proxy.example/anthropic";  // OpenClaw style: the SDK appends /v1
    EXPECT_EQ(build_fetch_request(req, {}).url, "https://proxy.example/anthropic/v1/messages");
    req.model.base_url = "http://127.0.0.1:8080/v1/";
    EXPECT_EQ(build_fetch_request(req, {}).url, "http://127.0.0.1:8080/v1/messages");
    req.model.base_url.clear();
    EXPECT_EQ(build_fetch_request(req, {}).url, "https://api.anthropic.com/v1/messages");
}

TEST(ModelRequest, AnthropicToolUseThinkingAndMergedToolResults) {
    ModelRequest req;
    req.model = anthropic_model();
    req.messages = tool_conversation();
    req.tools = {ls_tool()};
    const json::object body = parse(build_fetch_request(req, {}).body).as_object();

    EXPECT_EQ(body.at("messages"), parse(R"([
      {"role":"user","content":[{"type":"text","text":"What is in /tmp?"}]},
      {"role":"assistant","content":[
          {"type":"thinking","thinking":"Let me list it.","signature":"sig-1"},
          {"type":"text","text":"Listing."},
          {"type":"tool_use","id":"call_1","name":"ls","input":{"path":"/tmp"}},
          {"type":"tool_use","id":"call_2","name":"stat","input":{"path":"/tmp/a"}}]},
      {"role":"user","content":[
          {"type":"tool_result","tool_use_id":"call_1","content":"a b","is_error":false},
          {"type":"tool_result","tool_use_id":"call_2","content":"no such file","is_error":true}]}
    ])"));
    EXPECT_EQ(body.at("tools"), parse(R"([{"name":"ls","description":"List a directory",
        "input_schema":{"type":"object","properties":{"path":{"type":"string"}}}}])"));
}

TEST(ModelRequest, AnthropicDropsUnsignedThinkingAndEmptyTextAndKeepsImages) {
    ModelRequest req;
    req.model = anthropic_model();
    req.messages = parse(R"([
      {"role":"user","content":[{"type":"text","text":""},{"type":"image","data":"AAAA","mimeType":"image/jpeg"}]},
      {"role":"assistant","content":[{"type":"thinking","thinking":"unsigned"},{"type":"text","text":""},
                                     {"type":"text","text":"A cat."}]}
    ])")
                       .as_array();
    const json::object body = parse(build_fetch_request(req, {}).body).as_object();
    EXPECT_EQ(body.at("messages"), parse(R"([
      {"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"AAAA"}}]},
      {"role":"assistant","content":[{"type":"text","text":"A cat."}]}
    ])"));
}

TEST(ModelRequest, AnthropicThinkingBudgetRaisesMaxTokens) {
    ModelRequest req;
    req.model = anthropic_model();
    req.messages = parse(R"([{"role":"user","content":"hi"}])").as_array();
    const std::pair<std::string, int64_t> levels[] = {
        {"minimal", 1024}, {"low", 2048}, {"medium", 8192}, {"high", 16384}, {"xhigh", 32000}};
    for (const auto& [level, budget] : levels) {
        req.thinking = level;
        const json::object body = parse(build_fetch_request(req, {}).body).as_object();
        EXPECT_EQ(body.at("thinking"), (json::object{{"type", "enabled"}, {"budget_tokens", budget}})) << level;
        EXPECT_GT(body.at("max_tokens").as_int64(), budget) << level;
        if (budget < 4096) {
            EXPECT_EQ(body.at("max_tokens"), 4096) << "no raise needed for " << level;
        }
    }
    req.thinking = "off";
    EXPECT_FALSE(parse(build_fetch_request(req, {}).body).as_object().contains("thinking"));
}

TEST(ModelRequest, FailedAssistantTurnsAreSkippedOrStrippedOfToolCalls) {
    const json::array messages = parse(R"([
      {"role":"user","content":"one"},
      {"role":"assistant","content":[],"stopReason":"error","errorMessage":"HTTP 500"},
      {"role":"user","content":"two"},
      {"role":"assistant","content":[{"type":"text","text":"partial"},
                                     {"type":"toolCall","id":"c9","name":"ls","arguments":{}}],"stopReason":"aborted"},
      {"role":"toolResult","toolCallId":"c9","toolName":"ls","content":[{"type":"text","text":"x"}]},
      {"role":"user","content":"three"}
    ])")
                                     .as_array();
    ModelRequest req;
    req.model = openai_model();
    req.messages = messages;
    EXPECT_EQ(parse(build_fetch_request(req, {}).body).at("messages"), parse(R"([
      {"role":"user","content":"one"},
      {"role":"user","content":"two"},
      {"role":"assistant","content":"partial"},
      {"role":"user","content":"three"}])"));

    req.model = anthropic_model();
    EXPECT_EQ(parse(build_fetch_request(req, {}).body).at("messages"), parse(R"([
      {"role":"user","content":[{"type":"text","text":"one"}]},
      {"role":"user","content":[{"type":"text","text":"two"}]},
      {"role":"assistant","content":[{"type":"text","text":"partial"}]},
      {"role":"user","content":[{"type":"text","text":"three"}]}])"));
}

TEST(ModelRequest, ToolCallsWithoutResultsGetErrorResultsAndOrphanResultsAreDropped) {
    ModelRequest req;
    req.model = openai_model();
    req.messages = parse(R"([
      {"role":"user","content":"go"},
      {"role":"toolResult","toolCallId":"ghost","toolName":"ls","content":[{"type":"text","text":"?"}]},
      {"role":"assistant","content":[{"type":"toolCall","id":"c1","name":"ls","arguments":{}}],"stopReason":"toolUse"},
      {"role":"user","content":"never mind"}
    ])")
                       .as_array();
    const json::array messages = parse(build_fetch_request(req, {}).body).at("messages").as_array();
    ASSERT_EQ(messages.size(), 4u) << serialize(messages);
    EXPECT_EQ(messages[0].at("role"), "user");
    EXPECT_EQ(messages[1], parse(R"({"role":"assistant","content":null,"tool_calls":[
        {"id":"c1","type":"function","function":{"name":"ls","arguments":"{}"}}]})"));
    EXPECT_EQ(messages[2].at("role"), "tool");
    EXPECT_EQ(messages[2].at("tool_call_id"), "c1");
    EXPECT_EQ(messages[3], parse(R"({"role":"user","content":"never mind"})"));

    req.model = anthropic_model();
    const json::array anthropic = parse(build_fetch_request(req, {}).body).at("messages").as_array();
    ASSERT_EQ(anthropic.size(), 4u);
    EXPECT_EQ(anthropic[2].at("content").at(0).at("type"), "tool_result");
    EXPECT_EQ(anthropic[2].at("content").at(0).at("is_error"), true);
}

TEST(ModelRequest, AnthropicToolIdsAreSanitizedConsistently) {
    ModelRequest req;
    req.model = anthropic_model();
    req.messages = parse(R"([
      {"role":"user","content":"go"},
      {"role":"assistant","content":[{"type":"toolCall","id":"functions.ls:0","name":"ls","arguments":"{\"a\":1}"}]},
      {"role":"toolResult","toolCallId":"functions.ls:0","toolName":"ls","content":"ok"}
    ])")
                       .as_array();
    const json::array messages = parse(build_fetch_request(req, {}).body).at("messages").as_array();
    ASSERT_EQ(messages.size(), 3u);
    EXPECT_EQ(messages[1].at("content").at(0).at("id"), "functions_ls_0");
    EXPECT_EQ(messages[1].at("content").at(0).at("input"), parse(R"({"a":1})")) << "string arguments are parsed";
    EXPECT_EQ(messages[2].at("content").at(0).at("tool_use_id"), "functions_ls_0");
    EXPECT_EQ(messages[2].at("content").at(0).at("content"), "ok");
}

// Found by fuzz_transcript: an imported transcript's empty tool id went out as `"id":""`, which
// Anthropic rejects, so the session could not be continued.
TEST(ModelRequest, AnthropicEmptyToolIdStaysValid) {
    ModelRequest req;
    req.model = anthropic_model();
    req.messages = parse(R"([
      {"role":"user","content":"go"},
      {"role":"assistant","content":[{"type":"toolCall","id":"","name":"ls","arguments":{}}]},
      {"role":"toolResult","toolCallId":"","toolName":"ls","content":"ok"}
    ])")
                       .as_array();
    const json::array messages = parse(build_fetch_request(req, {}).body).at("messages").as_array();
    ASSERT_EQ(messages.size(), 3u);
    EXPECT_EQ(messages[1].at("content").at(0).at("id"), "_");
    EXPECT_EQ(messages[2].at("content").at(0).at("tool_use_id"), "_");
}

}  // namespace
}  // namespace pincer::runtime
