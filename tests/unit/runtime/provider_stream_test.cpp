#include "runtime/provider_stream.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/sse_parser.hpp"

namespace pincer::runtime {
namespace {

using Kind = StreamDelta::Kind;
using Deltas = std::vector<StreamDelta>;

// What the agent loop will do: bytes → SSE events → deltas → one assistant turn. Feeds the raw
// stream in small chunks so SSE events straddle reads, as they do on a real socket.
struct Decoded {
    Deltas deltas;
    AssistantTurn turn;
    bool done = false;
    SseEnd sse_end = SseEnd::clean;
};

template <typename Decoder>
Decoded run(std::string_view raw, std::size_t chunk = 7) {
    SseParser parser;
    Decoder decoder;
    Decoded result;
    std::vector<SseEvent> events;
    for (std::size_t i = 0; i < raw.size(); i += chunk) {
        events.clear();
        parser.feed(raw.substr(i, chunk), events);
        for (const SseEvent& e : events) {
            if constexpr (std::is_same_v<Decoder, AnthropicStreamDecoder>) {
                decoder.feed(e.type, e.data, result.deltas);
            } else {
                decoder.feed(e.data, result.deltas);
            }
        }
    }
    result.sse_end = parser.finish();
    result.done = decoder.done();
    decoder.finish(result.deltas);
    for (const StreamDelta& d : result.deltas) accumulate(result.turn, d);
    return result;
}

std::string openai_sse(std::initializer_list<std::string_view> chunks) {
    std::string out;
    for (std::string_view c : chunks) out.append("data: ").append(c).append("\n\n");
    return out;
}

std::vector<Kind> kinds(const Deltas& deltas) {
    std::vector<Kind> out;
    for (const auto& d : deltas) out.push_back(d.kind);
    return out;
}

// ---------------------------------------------------------------------------------------------
// OpenAI

TEST(OpenAiChatStreamDecoder, TextStreamWithUsage) {
    const std::string raw = openai_sse({
        R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,)"
        R"("delta":{"role":"assistant","content":""},"finish_reason":null}]})",
        R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,)"
        R"("delta":{"content":"Hel"},"finish_reason":null}]})",
        R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,)"
        R"("delta":{"content":"lo, w\u00f6rld"},"finish_reason":null}]})",
        R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,)"
        R"("delta":{},"finish_reason":"stop"}],"usage":null})",
        R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[],)"
        R"("usage":{"prompt_tokens":120,"completion_tokens":9,"total_tokens":129,)"
        R"("prompt_tokens_details":{"cached_tokens":100}}})",
        "[DONE]",
    });
    const Decoded r = run<OpenAiChatStreamDecoder>(raw);
    EXPECT_EQ(kinds(r.deltas), (std::vector<Kind>{Kind::text, Kind::text, Kind::stop, Kind::usage}));
    EXPECT_TRUE(r.done);
    EXPECT_EQ(r.sse_end, SseEnd::clean);
    EXPECT_EQ(r.turn.text, "Hello, w\xC3\xB6rld");
    EXPECT_EQ(r.turn.stop_reason, "stop");
    EXPECT_EQ(r.turn.raw_stop_reason, "stop");
    EXPECT_EQ(r.turn.input_tokens, 20);  // prompt minus cached
    EXPECT_EQ(r.turn.cache_read, 100);
    EXPECT_EQ(r.turn.output_tokens, 9);
    EXPECT_TRUE(r.turn.tool_calls.empty());
    EXPECT_TRUE(r.turn.error_type.empty());
}

TEST(OpenAiChatStreamDecoder, ParallelToolCallsWithSplitArguments) {
    const std::string raw = openai_sse({
        R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,)"
        R"("delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function",)"
        R"("function":{"name":"read","arguments":""}}]},)"
        R"("finish_reason":null}]})",
        R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,)"
        R"("function":{"arguments":"{\"pa"}}]},"finish_reason":null}]})",
        R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,)"
        R"("function":{"arguments":"th\": \"a.txt\"}"}}]},"finish_reason":null}]})",
        R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,)"
        R"("id":"call_2","type":"function","function":{"name":"write","arguments":"{\"path\":"}}]},)"
        R"("finish_reason":null}]})",
        R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,)"
        R"("function":{"arguments":"\"b.txt\",\"content\":\"hi\"}"}}]},"finish_reason":null}]})",
        R"({"id":"c","object":"chat.completion.chunk",)"
        R"("choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})",
        "[DONE]",
    });
    const Decoded r = run<OpenAiChatStreamDecoder>(raw, 3);
    ASSERT_EQ(r.turn.tool_calls.size(), 2u);
    EXPECT_EQ(r.turn.tool_calls[0].id, "call_1");
    EXPECT_EQ(r.turn.tool_calls[0].name, "read");
    EXPECT_EQ(r.turn.tool_calls[0].arguments_json, R"({"path": "a.txt"})");
    EXPECT_EQ(r.turn.tool_calls[1].id, "call_2");
    EXPECT_EQ(r.turn.tool_calls[1].name, "write");
    EXPECT_EQ(r.turn.tool_calls[1].arguments_json, R"({"path":"b.txt","content":"hi"})");
    EXPECT_EQ(r.turn.stop_reason, "toolUse");
    EXPECT_EQ(r.turn.raw_stop_reason, "tool_calls");
    EXPECT_TRUE(r.turn.text.empty());
    EXPECT_TRUE(r.done);

    // The start is announced once per call, with the arguments keyed by index.
    int starts = 0;
    for (const auto& d : r.deltas) starts += d.kind == Kind::tool_call_start;
    EXPECT_EQ(starts, 2);
}

TEST(OpenAiChatStreamDecoder, RepeatedIdsAndNamesAreNotNewCalls) {
    OpenAiChatStreamDecoder decoder;
    Deltas out;
    decoder.feed(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"read",)"
                 R"("arguments":"{"}}]}}]})",
                 out);
    decoder.feed(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"read",)"
                 R"("arguments":"}"}}]}}]})",
                 out);
    EXPECT_EQ(kinds(out), (std::vector<Kind>{Kind::tool_call_start, Kind::tool_call_args, Kind::tool_call_args}));
}

TEST(OpenAiChatStreamDecoder, ToolCallsWithoutIndexAreSplitById) {
    // Gemini's compatibility layer sends whole calls without "index".
    const std::string raw = openai_sse({
        R"({"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"id":"a","type":"function",)"
        R"("function":{"name":"read","arguments":"{\"path\":\"x\"}"}}]}}]})",
        R"({"choices":[{"index":0,"delta":{"tool_calls":[{"id":"b","type":"function","function":{"name":"read",)"
        R"("arguments":"{\"path\":\"y\"}"}}]}}]})",
        R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})",
        "[DONE]",
    });
    const Decoded r = run<OpenAiChatStreamDecoder>(raw);
    ASSERT_EQ(r.turn.tool_calls.size(), 2u);
    EXPECT_EQ(r.turn.tool_calls[0].arguments_json, R"({"path":"x"})");
    EXPECT_EQ(r.turn.tool_calls[1].id, "b");
    EXPECT_EQ(r.turn.tool_calls[1].arguments_json, R"({"path":"y"})");
    // "stop" after tool calls (Ollama, older vLLM) still means: run the tools.
    EXPECT_EQ(r.turn.stop_reason, "toolUse");
    EXPECT_EQ(r.turn.raw_stop_reason, "stop");
}

TEST(OpenAiChatStreamDecoder, IndexlessCallAfterLargestIndexDoesNotOverflow) {
    OpenAiChatStreamDecoder decoder;
    Deltas out;
    decoder.feed(R"({"choices":[{"delta":{"tool_calls":[{"index":2147483647,"id":"a","function":{"name":"n"}}]}}]})",
                 out);
    decoder.feed(R"({"choices":[{"delta":{"tool_calls":[{"id":"b","function":{"arguments":"{}"}}]}}]})", out);
    // Folded into the last call rather than wrapping to a negative index.
    ASSERT_EQ(kinds(out), (std::vector<Kind>{Kind::tool_call_start, Kind::tool_call_args}));
    EXPECT_EQ(out.back().index, 2147483647);
    EXPECT_FALSE(decoder.failed());
}

TEST(OpenAiChatStreamDecoder, ArgumentsAsObjectAreSerialized) {
    OpenAiChatStreamDecoder decoder;
    Deltas out;
    decoder.feed(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"t","function":{"name":"n",)"
                 R"("arguments":{"a":1}}}]}}]})",
                 out);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[1].text, R"({"a":1})");
}

TEST(OpenAiChatStreamDecoder, InvalidToolIndexIsMalformed) {
    OpenAiChatStreamDecoder decoder;
    Deltas out;
    decoder.feed(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":-1,"function":{"arguments":"x"}}]}}]})",
                 out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].kind, Kind::error);
    EXPECT_EQ(out[0].error_type, kErrorMalformedStream);
}

TEST(OpenAiChatStreamDecoder, ReasoningBecomesThinking) {
    const std::string raw = openai_sse({
        R"({"choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"Let me "}}]})",
        R"({"choices":[{"index":0,"delta":{"reasoning_content":"think."}}]})",
        R"({"choices":[{"index":0,"delta":{"reasoning":" More."}}]})",
        R"({"choices":[{"index":0,"delta":{"reasoning":"dup","reasoning_content":" Once."}}]})",
        R"({"choices":[{"index":0,"delta":{"content":"Answer."}}]})",
        R"({"choices":[{"index":0,"delta":{},"finish_reason":"length"}]})",
        "[DONE]",
    });
    const Decoded r = run<OpenAiChatStreamDecoder>(raw);
    EXPECT_EQ(r.turn.thinking, "Let me think. More. Once.");
    EXPECT_EQ(r.turn.text, "Answer.");
    EXPECT_EQ(r.turn.stop_reason, "length");
}

TEST(OpenAiChatStreamDecoder, StopReasonMapping) {
    const std::pair<std::string_view, std::string_view> cases[] = {
        {"stop", "stop"},
        {"length", "length"},
        {"tool_calls", "toolUse"},
        {"function_call", "toolUse"},
        {"content_filter", "error"},
        {"eos", "stop"},
    };
    for (const auto& [raw, normalized] : cases) {
        OpenAiChatStreamDecoder decoder;
        Deltas out;
        decoder.feed(R"({"choices":[{"index":0,"delta":{},"finish_reason":")" + std::string(raw) + R"("}]})", out);
        ASSERT_EQ(out.size(), 1u) << raw;
        EXPECT_EQ(out[0].stop_reason, normalized) << raw;
        EXPECT_EQ(out[0].raw_stop_reason, raw);
    }
}

TEST(OpenAiChatStreamDecoder, ErrorObjectInStream) {
    const std::string raw = openai_sse({
        R"({"choices":[{"index":0,"delta":{"content":"Par"}}]})",
        R"({"error":{"message":"The server had an error while processing your request.","type":"server_error",)"
        R"("code":null}})",
        R"({"choices":[{"index":0,"delta":{"content":"ignored"}}]})",
    });
    const Decoded r = run<OpenAiChatStreamDecoder>(raw);
    EXPECT_TRUE(r.done);
    EXPECT_EQ(r.deltas.back().kind, Kind::error);
    EXPECT_EQ(r.turn.text, "Par");
    EXPECT_EQ(r.turn.stop_reason, "error");
    EXPECT_EQ(r.turn.error_type, "server_error");
    EXPECT_EQ(r.turn.error_message, "The server had an error while processing your request.");
}

TEST(OpenAiChatStreamDecoder, ErrorShapes) {
    {
        OpenAiChatStreamDecoder decoder;
        Deltas out;
        decoder.feed(R"({"error":{"message":"Rate limited","code":429}})", out);
        ASSERT_EQ(out.size(), 1u);
        EXPECT_EQ(out[0].error_type, "429");
        EXPECT_EQ(out[0].error_message, "Rate limited");
        EXPECT_TRUE(decoder.failed());
    }
    {
        OpenAiChatStreamDecoder decoder;
        Deltas out;
        decoder.feed(R"({"error":"upstream timeout"})", out);
        ASSERT_EQ(out.size(), 1u);
        EXPECT_EQ(out[0].error_type, "provider_error");
        EXPECT_EQ(out[0].error_message, "upstream timeout");
    }
}

TEST(OpenAiChatStreamDecoder, MalformedJsonIsAnErrorDelta) {
    for (std::string_view bad : {"{\"choices\":[", "not json", "[1,2]", "\"str\""}) {
        OpenAiChatStreamDecoder decoder;
        Deltas out;
        decoder.feed(bad, out);
        ASSERT_EQ(out.size(), 1u) << bad;
        EXPECT_EQ(out[0].kind, Kind::error);
        EXPECT_EQ(out[0].error_type, kErrorMalformedStream);
        EXPECT_FALSE(out[0].error_message.empty());
        EXPECT_TRUE(decoder.failed());
        decoder.feed(R"({"choices":[{"index":0,"delta":{"content":"x"}}]})", out);
        EXPECT_EQ(out.size(), 1u);
    }
}

TEST(OpenAiChatStreamDecoder, CutStreamIsDetected) {
    const std::string raw = openai_sse({
        R"({"choices":[{"index":0,"delta":{"content":"Hello"}}]})",
        R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"read",)"
        R"("arguments":"{\"pa"}}]}}]})",
    });
    const Decoded r = run<OpenAiChatStreamDecoder>(raw);
    EXPECT_FALSE(r.done);
    EXPECT_EQ(r.deltas.back().kind, Kind::error);
    EXPECT_EQ(r.turn.stop_reason, "error");
    EXPECT_EQ(r.turn.error_type, kErrorTruncatedStream);
    EXPECT_EQ(r.turn.text, "Hello");  // partial text kept for the transcript

    // Cut inside an SSE event: the SSE layer reports it too.
    const Decoded mid = run<OpenAiChatStreamDecoder>(raw.substr(0, raw.size() - 10));
    EXPECT_EQ(mid.sse_end, SseEnd::incomplete_event);
    EXPECT_EQ(mid.turn.error_type, kErrorTruncatedStream);
}

TEST(OpenAiChatStreamDecoder, FinishReasonWithoutDoneIsComplete) {
    const std::string raw = openai_sse({
        R"({"choices":[{"index":0,"delta":{"content":"Hi"}}]})",
        R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})",
    });
    const Decoded r = run<OpenAiChatStreamDecoder>(raw);
    EXPECT_FALSE(r.done);  // strictly, [DONE] never came
    EXPECT_EQ(r.turn.stop_reason, "stop");
    EXPECT_TRUE(r.turn.error_type.empty());
}

TEST(OpenAiChatStreamDecoder, IgnoresOtherChoicesKeepAlivesAndInputAfterDone) {
    OpenAiChatStreamDecoder decoder;
    Deltas out;
    decoder.feed(R"({"choices":[{"index":1,"delta":{"content":"other"}},{"index":0,"delta":{"content":"mine"}}]})",
                 out);
    decoder.feed("", out);
    decoder.feed("  [DONE]\n", out);
    EXPECT_TRUE(decoder.done());
    EXPECT_FALSE(decoder.failed());
    decoder.feed(R"({"choices":[{"index":0,"delta":{"content":"late"}}]})", out);
    decoder.finish(out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].text, "mine");
}

TEST(OpenAiChatStreamDecoder, UsageInFinalChoiceChunk) {
    // OpenRouter and DeepSeek put usage in the chunk that carries finish_reason.
    OpenAiChatStreamDecoder decoder;
    Deltas out;
    decoder.feed(R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":50,)"
                 R"("completion_tokens":5,"prompt_cache_hit_tokens":30}})",
                 out);
    ASSERT_EQ(kinds(out), (std::vector<Kind>{Kind::stop, Kind::usage}));
    EXPECT_EQ(out[1].input_tokens, 20);
    EXPECT_EQ(out[1].cache_read, 30);
    EXPECT_EQ(out[1].output_tokens, 5);
}

// ---------------------------------------------------------------------------------------------
// Anthropic

// A full stream as the Messages API sends it (shapes from Anthropic's streaming docs): thinking
// with its signature, text, then a tool call whose arguments arrive in pieces.
const std::string kAnthropicToolStream =
    "event: message_start\n"
    R"(data: {"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","content":[],)"
    R"("model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":472,)"
    R"("cache_creation_input_tokens":100,"cache_read_input_tokens":2000,"output_tokens":2}}})"
    "\n\n"
    "event: content_block_start\n"
    R"(data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}})"
    "\n\n"
    "event: content_block_delta\n"
    R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"The user wants "}})"
    "\n\n"
    "event: ping\n"
    R"(data: {"type": "ping"})"
    "\n\n"
    "event: content_block_delta\n"
    R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"a file."}})"
    "\n\n"
    "event: content_block_delta\n"
    R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta",)"
    R"("signature":"EqQBCgIYAhIM1gbcDa9GJwZA"}})"
    "\n\n"
    "event: content_block_stop\n"
    R"(data: {"type":"content_block_stop","index":0})"
    "\n\n"
    "event: content_block_start\n"
    R"(data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}})"
    "\n\n"
    "event: content_block_delta\n"
    R"(data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Okay, let me "}})"
    "\n\n"
    "event: content_block_delta\n"
    R"(data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"read it."}})"
    "\n\n"
    "event: content_block_stop\n"
    R"(data: {"type":"content_block_stop","index":1})"
    "\n\n"
    "event: content_block_start\n"
    R"(data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01T1x",)"
    R"("name":"read","input":{}}})"
    "\n\n"
    "event: content_block_delta\n"
    R"(data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}})"
    "\n\n"
    "event: content_block_delta\n"
    R"(data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta",)"
    R"("partial_json":"{\"path\": \"no"}})"
    "\n\n"
    "event: content_block_delta\n"
    R"(data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"tes.md\"}"}})"
    "\n\n"
    "event: content_block_stop\n"
    R"(data: {"type":"content_block_stop","index":2})"
    "\n\n"
    "event: message_delta\n"
    R"(data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},)"
    R"("usage":{"output_tokens":89}})"
    "\n\n"
    "event: message_stop\n"
    R"(data: {"type":"message_stop"})"
    "\n\n";

TEST(AnthropicStreamDecoder, ThinkingTextAndToolUse) {
    const Decoded r = run<AnthropicStreamDecoder>(kAnthropicToolStream, 5);
    EXPECT_TRUE(r.done);
    EXPECT_EQ(r.sse_end, SseEnd::clean);
    EXPECT_EQ(r.turn.thinking, "The user wants a file.");
    EXPECT_EQ(r.turn.thinking_signature, "EqQBCgIYAhIM1gbcDa9GJwZA");
    EXPECT_EQ(r.turn.text, "Okay, let me read it.");
    ASSERT_EQ(r.turn.tool_calls.size(), 1u);
    EXPECT_EQ(r.turn.tool_calls[0].id, "toolu_01T1x");
    EXPECT_EQ(r.turn.tool_calls[0].name, "read");
    EXPECT_EQ(r.turn.tool_calls[0].arguments_json, R"({"path": "notes.md"})");
    EXPECT_EQ(r.turn.tool_calls[0].index, 2);
    EXPECT_EQ(r.turn.stop_reason, "toolUse");
    EXPECT_EQ(r.turn.raw_stop_reason, "tool_use");
    EXPECT_EQ(r.turn.input_tokens, 472);
    EXPECT_EQ(r.turn.cache_write, 100);
    EXPECT_EQ(r.turn.cache_read, 2000);
    EXPECT_EQ(r.turn.output_tokens, 89);
    EXPECT_TRUE(r.turn.error_type.empty());
    // Indexes are the content block's.
    for (const auto& d : r.deltas) {
        if (d.kind == Kind::text) {
            EXPECT_EQ(d.index, 1);
        }
        if (d.kind == Kind::thinking) {
            EXPECT_EQ(d.index, 0);
        }
    }
}

TEST(AnthropicStreamDecoder, EveryChunkSizeDecodesTheSame) {
    const Decoded reference = run<AnthropicStreamDecoder>(kAnthropicToolStream, kAnthropicToolStream.size());
    for (std::size_t chunk = 1; chunk < 64; ++chunk) {
        const Decoded r = run<AnthropicStreamDecoder>(kAnthropicToolStream, chunk);
        EXPECT_EQ(r.turn.text, reference.turn.text) << chunk;
        EXPECT_EQ(r.turn.thinking, reference.turn.thinking) << chunk;
        ASSERT_EQ(r.turn.tool_calls.size(), 1u) << chunk;
        EXPECT_EQ(r.turn.tool_calls[0].arguments_json, reference.turn.tool_calls[0].arguments_json);
        EXPECT_EQ(r.deltas.size(), reference.deltas.size()) << chunk;
    }
}

TEST(AnthropicStreamDecoder, StopReasonMapping) {
    const std::pair<std::string_view, std::string_view> cases[] = {
        {"end_turn", "stop"},    {"stop_sequence", "stop"}, {"max_tokens", "length"},
        {"tool_use", "toolUse"}, {"refusal", "error"},      {"pause_turn", "stop"},
    };
    for (const auto& [raw, normalized] : cases) {
        AnthropicStreamDecoder decoder;
        Deltas out;
        decoder.feed("message_delta",
                     R"({"type":"message_delta","delta":{"stop_reason":")" + std::string(raw) +
                         R"("},"usage":{"output_tokens":3}})",
                     out);
        ASSERT_EQ(kinds(out), (std::vector<Kind>{Kind::usage, Kind::stop})) << raw;
        EXPECT_EQ(out[1].stop_reason, normalized) << raw;
        EXPECT_EQ(out[1].raw_stop_reason, raw);
    }
}

TEST(AnthropicStreamDecoder, ErrorEvent) {
    const std::string raw =
        "event: message_start\n"
        R"(data: {"type":"message_start","message":{"usage":{"input_tokens":10,"output_tokens":1}}})"
        "\n\n"
        "event: content_block_start\n"
        R"(data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"
        "\n\n"
        "event: content_block_delta\n"
        R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}})"
        "\n\n"
        "event: error\n"
        R"(data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"
        "\n\n";
    const Decoded r = run<AnthropicStreamDecoder>(raw);
    EXPECT_TRUE(r.done);
    EXPECT_EQ(r.deltas.back().kind, Kind::error);
    EXPECT_EQ(r.turn.text, "Hi");
    EXPECT_EQ(r.turn.stop_reason, "error");
    EXPECT_EQ(r.turn.error_type, "overloaded_error");
    EXPECT_EQ(r.turn.error_message, "Overloaded");
    EXPECT_EQ(r.turn.input_tokens, 10);
}

TEST(AnthropicStreamDecoder, CutStreamIsDetected) {
    const std::size_t cut =
        kAnthropicToolStream.find("event: content_block_stop\n", kAnthropicToolStream.find("toolu_"));
    ASSERT_NE(cut, std::string::npos);
    const Decoded r = run<AnthropicStreamDecoder>(std::string_view(kAnthropicToolStream).substr(0, cut));
    EXPECT_FALSE(r.done);
    EXPECT_EQ(r.sse_end, SseEnd::clean);  // cut between events: only the decoder can tell
    EXPECT_EQ(r.turn.stop_reason, "error");
    EXPECT_EQ(r.turn.error_type, kErrorTruncatedStream);
    EXPECT_EQ(r.turn.text, "Okay, let me read it.");

    // Cut after message_delta but before message_stop: the content is complete.
    const std::size_t late = kAnthropicToolStream.find("event: message_stop");
    const Decoded ok = run<AnthropicStreamDecoder>(std::string_view(kAnthropicToolStream).substr(0, late));
    EXPECT_FALSE(ok.done);
    EXPECT_EQ(ok.turn.stop_reason, "toolUse");
}

TEST(AnthropicStreamDecoder, MalformedJsonIsAnErrorDelta) {
    AnthropicStreamDecoder decoder;
    Deltas out;
    decoder.feed("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_del)", out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].kind, Kind::error);
    EXPECT_EQ(out[0].error_type, kErrorMalformedStream);
    EXPECT_TRUE(decoder.failed());
    decoder.feed("message_stop", R"({"type":"message_stop"})", out);
    decoder.finish(out);
    EXPECT_EQ(out.size(), 1u);
}

TEST(AnthropicStreamDecoder, TypeFromJsonWhenEventLineMissing) {
    AnthropicStreamDecoder decoder;
    Deltas out;
    decoder.feed("message", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}})",
                 out);
    decoder.feed("message_stop", R"({})", out);  // no JSON type: the SSE event name decides
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].text, "x");
    EXPECT_TRUE(decoder.done());
}

TEST(AnthropicStreamDecoder, IgnoresServerToolsAndUnknownEvents) {
    AnthropicStreamDecoder decoder;
    Deltas out;
    decoder.feed(
        "content_block_start",
        R"({"type":"content_block_start","index":0,"content_block":{"type":"server_tool_use","id":"srvtoolu_1",)"
        R"("name":"web_search","input":{}}})",
        out);
    decoder.feed(
        "content_block_delta",
        R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"query\":"}})",
        out);
    decoder.feed(
        "content_block_start",
        R"({"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"abc"}})", out);
    decoder.feed("content_block_delta",
                 R"({"type":"content_block_delta","index":2,"delta":{"type":"citations_delta","citation":{}}})", out);
    decoder.feed("future_event", R"({"type":"future_event","x":1})", out);
    decoder.feed("ping", R"({"type":"ping"})", out);
    EXPECT_TRUE(out.empty());
    EXPECT_FALSE(decoder.done());
}

TEST(AnthropicStreamDecoder, ToolInputSentWholeAtBlockStart) {
    AnthropicStreamDecoder decoder;
    Deltas out;
    decoder.feed("content_block_start",
                 R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"read",)"
                 R"("input":{"path":"a"}}})",
                 out);
    ASSERT_EQ(kinds(out), (std::vector<Kind>{Kind::tool_call_start, Kind::tool_call_args}));
    EXPECT_EQ(out[1].text, R"({"path":"a"})");
}

// ---------------------------------------------------------------------------------------------
// accumulate

StreamDelta delta(Kind kind, std::string text = {}, int index = 0) {
    StreamDelta d;
    d.kind = kind;
    d.text = std::move(text);
    d.index = index;
    return d;
}

TEST(Accumulate, FoldsDeltasIntoATurn) {
    AssistantTurn turn;
    accumulate(turn, delta(Kind::thinking, "hmm"));
    accumulate(turn, delta(Kind::text, "a"));
    accumulate(turn, delta(Kind::text, "b"));
    StreamDelta start = delta(Kind::tool_call_start, {}, 3);
    start.tool_id = "id3";
    start.tool_name = "edit";
    accumulate(turn, start);
    accumulate(turn, delta(Kind::tool_call_args, "{\"x\"", 3));
    // Arguments for an unannounced index still land in a call of their own.
    accumulate(turn, delta(Kind::tool_call_args, "{}", 5));
    accumulate(turn, delta(Kind::tool_call_args, ":1}", 3));
    // A late start fills what was missing and does not overwrite what was known.
    StreamDelta late = delta(Kind::tool_call_start, {}, 5);
    late.tool_id = "id5";
    late.tool_name = "read";
    accumulate(turn, late);
    StreamDelta again = start;
    again.tool_name = "other";
    accumulate(turn, again);

    EXPECT_EQ(turn.text, "ab");
    EXPECT_EQ(turn.thinking, "hmm");
    ASSERT_EQ(turn.tool_calls.size(), 2u);
    EXPECT_EQ(turn.tool_calls[0].name, "edit");
    EXPECT_EQ(turn.tool_calls[0].arguments_json, "{\"x\":1}");
    EXPECT_EQ(turn.tool_calls[1].id, "id5");
    EXPECT_EQ(turn.tool_calls[1].name, "read");
    EXPECT_EQ(turn.tool_calls[1].arguments_json, "{}");
}

TEST(Accumulate, UsageKeepsTheMaximum) {
    AssistantTurn turn;
    StreamDelta start = delta(Kind::usage);
    start.input_tokens = 100;
    start.output_tokens = 1;
    start.cache_read = 50;
    accumulate(turn, start);
    StreamDelta end = delta(Kind::usage);
    end.output_tokens = 42;
    accumulate(turn, end);
    EXPECT_EQ(turn.input_tokens, 100);
    EXPECT_EQ(turn.output_tokens, 42);
    EXPECT_EQ(turn.cache_read, 50);
    EXPECT_EQ(turn.cache_write, 0);
}

TEST(Accumulate, ErrorIsNotOverwrittenByStop) {
    AssistantTurn turn;
    StreamDelta stop = delta(Kind::stop);
    stop.stop_reason = "stop";
    stop.raw_stop_reason = "end_turn";
    accumulate(turn, stop);
    EXPECT_EQ(turn.stop_reason, "stop");
    StreamDelta error = delta(Kind::error);
    error.error_type = "overloaded_error";
    error.error_message = "Overloaded";
    accumulate(turn, error);
    accumulate(turn, stop);
    EXPECT_EQ(turn.stop_reason, "error");
    EXPECT_EQ(turn.error_type, "overloaded_error");
    EXPECT_EQ(turn.error_message, "Overloaded");
}

}  // namespace
}  // namespace pincer::runtime
