// pincer_seed_state: fills a state directory's SQLite store for the chat.history / sessions.list
// benchmarks (bench/chat_bench.sh) through the storage repositories the gateway itself uses:
// --sessions session entries (agent:main:bench-NNNNNN, plus agent:main:main) and, in
// agent:main:main's transcript, --messages alternating user/assistant pi-ai messages.
//
// The repositories open one transaction per call and the store runs with synchronous=FULL; the
// seeder turns synchronous off on its own connection (the gateway sets it back when it opens the
// file) so 100,000 upserts take seconds rather than 100,000 fsyncs. Transcript entries are
// appended --batch at a time. Run it before starting the gateway on that directory.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "storage/db.hpp"
#include "storage/sessions_repo.hpp"
#include "storage/transcripts_repo.hpp"
#include "util/crypto.hpp"

namespace {

namespace json = boost::json;
namespace storage = pincer::storage;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count() / 1000.0;
}

std::string user_text(int64_t i) {
    return "Message " + std::to_string(i) +
           ": could you summarise what changed in the deployment since yesterday, and whether anything "
           "needs my attention before the release?";
}

std::string assistant_text(int64_t i) {
    return "Reply " + std::to_string(i) +
           ": since yesterday three services were redeployed (api, worker and scheduler). The api rollout "
           "finished cleanly; the worker needed one retry after a health-check timeout, and the scheduler "
           "is still on the previous image because its migration is pending review. Before the release, "
           "please approve the scheduler migration and glance at the worker's retry log.";
}

}  // namespace

int main(int argc, char** argv) {
    std::string state_dir;
    int64_t sessions = 100000;
    int64_t messages = 100000;
    int64_t batch = 5000;
    CLI::App app{"pincer_seed_state: seed a Pincer state dir with sessions and a long transcript"};
    app.add_option("--state", state_dir, "State directory (PINCER_STATE_DIR)")->required();
    app.add_option("--sessions", sessions, "Session entries in total, agent:main:main included")
        ->check(CLI::Range(int64_t{1}, int64_t{100000000}))
        ->capture_default_str();
    app.add_option("--messages", messages, "Transcript messages in agent:main:main")
        ->check(CLI::Range(int64_t{0}, int64_t{100000000}))
        ->capture_default_str();
    app.add_option("--batch", batch, "Transcript entries per append")
        ->check(CLI::Range(int64_t{1}, int64_t{1000000}))
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    try {
        storage::Database db(std::filesystem::path(state_dir) / "pincer.sqlite");
        db.exec("PRAGMA synchronous=OFF;");
        storage::SessionsRepo repo(db);
        storage::TranscriptsRepo transcripts(db);

        const int64_t now =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        // Message i is 30 s after message i-1, ending now; sessions are updated 1 s apart.
        const int64_t first_ts = now - messages * 30'000;

        auto t0 = Clock::now();
        const std::string main_session_id = pincer::util::uuid_v4();
        {
            storage::SessionEntry e;
            e.key = "agent:main:main";
            e.agent_id = "main";
            e.session_id = main_session_id;
            e.created_at_ms = first_ts;
            e.updated_at_ms = now;
            e.fields = json::object{{"chatType", "direct"},   {"modelProvider", "fake"}, {"model", "fake"},
                                    {"inputTokens", 1000000}, {"outputTokens", 900000},  {"totalTokens", 1900000}};
            repo.upsert(e);
        }
        for (int64_t i = 1; i < sessions; ++i) {
            char key[48];
            std::snprintf(key, sizeof key, "agent:main:bench-%06lld", static_cast<long long>(i));
            storage::SessionEntry e;
            e.key = key;
            e.agent_id = "main";
            e.session_id = pincer::util::uuid_v4();
            e.created_at_ms = now - (sessions - i) * 1000 - 3'600'000;
            e.updated_at_ms = now - (sessions - i) * 1000;
            e.fields =
                json::object{{"chatType", "direct"},           {"displayName", "Bench session " + std::to_string(i)},
                             {"modelProvider", "fake"},        {"model", "fake"},
                             {"inputTokens", 1200 + i % 1000}, {"outputTokens", 800 + i % 700},
                             {"totalTokens", 2000 + i % 1700}, {"systemSent", true},
                             {"abortedLastRun", false}};
            repo.upsert(e);
            if (i % 20000 == 0) std::cerr << "  sessions: " << i << " (" << seconds_since(t0) << " s)\n";
        }
        const double sessions_s = seconds_since(t0);

        t0 = Clock::now();
        for (int64_t start = 0; start < messages; start += batch) {
            std::vector<storage::TranscriptEntry> entries;
            const int64_t end = std::min(messages, start + batch);
            entries.reserve(static_cast<size_t>(end - start));
            for (int64_t i = start; i < end; ++i) {
                storage::TranscriptEntry e;
                e.ts_ms = first_ts + i * 30'000;
                json::object msg;
                if (i % 2 == 0) {
                    msg = {{"role", "user"}, {"content", user_text(i)}, {"timestamp", e.ts_ms}};
                } else {
                    msg = {{"role", "assistant"},
                           {"content", json::array{json::object{{"type", "text"}, {"text", assistant_text(i)}}}},
                           {"api", "openai-completions"},
                           {"provider", "fake"},
                           {"model", "fake"},
                           {"usage", json::object{{"input", 120}, {"output", 80}, {"totalTokens", 200}}},
                           {"stopReason", "stop"},
                           {"timestamp", e.ts_ms}};
                }
                e.payload = json::serialize(msg);
                entries.push_back(std::move(e));
            }
            transcripts.append(main_session_id, std::move(entries));
            if ((end / batch) % 4 == 0 || end == messages)
                std::cerr << "  messages: " << end << " (" << seconds_since(t0) << " s)\n";
        }
        const double messages_s = seconds_since(t0);
        db.exec("PRAGMA wal_checkpoint(TRUNCATE);");
        std::cout << "seeded " << sessions << " sessions in " << sessions_s << " s and " << messages
                  << " messages of agent:main:main (sessionId " << main_session_id << ") in " << messages_s << " s\n";
    } catch (const std::exception& e) {
        std::cerr << "pincer_seed_state: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
