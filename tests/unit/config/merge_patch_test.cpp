#include "config/merge_patch.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace pincer::config {
namespace {

namespace json = boost::json;

json::value patched(std::string_view target, std::string_view patch) {
    json::value t = json::parse(target);
    apply_merge_patch(t, json::parse(patch));
    return t;
}

// RFC 7396 Appendix A, all test cases.
TEST(MergePatch, Rfc7396AppendixA) {
    struct Case {
        const char* target;
        const char* patch;
        const char* result;
    } cases[] = {
        {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
        {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
        {R"({"a":"b"})", R"({"a":null})", R"({})"},
        {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
        {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
        {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
        {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
        {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
        {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
        {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
        {R"({"a":"foo"})", R"(null)", R"(null)"},
        {R"({"a":"foo"})", R"("bar")", R"("bar")"},
        {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
        {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
        {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(patched(c.target, c.patch), json::parse(c.result)) << c.target << " + " << c.patch;
    }
}

TEST(MergePatch, Rfc7396Section3Example) {
    EXPECT_EQ(patched(R"({"title":"Goodbye!","author":{"givenName":"John","familyName":"Doe"},
                         "tags":["example","sample"],"content":"This will be unchanged"})",
                      R"({"title":"Hello!","phoneNumber":"+01-123-456-7890","author":{"familyName":null},
                          "tags":["example"]})"),
              json::parse(R"({"title":"Hello!","author":{"givenName":"John"},"tags":["example"],
                              "content":"This will be unchanged","phoneNumber":"+01-123-456-7890"})"));
}

TEST(MergePatch, IdKeyedArraysMergeById) {
    const auto result =
        patched(R"({"agents":{"list":[{"id":"main","workspace":"/a","model":"x"},{"id":"work","workspace":"/b"}]}})",
                R"({"agents":{"list":[{"id":"work","workspace":"/c","extra":{"k":1}},{"id":"new","workspace":"/d"},
                               {"name":"no id"},{"id":"main","model":null}]}})");
    EXPECT_EQ(result, json::parse(R"({"agents":{"list":[
        {"id":"main","workspace":"/a"},
        {"id":"work","workspace":"/c","extra":{"k":1}},
        {"id":"new","workspace":"/d"},
        {"name":"no id"}]}})"));
}

TEST(MergePatch, ArraysReplaceWhenNotFullyIdKeyed) {
    EXPECT_EQ(patched(R"({"a":[{"id":"x"},{"name":"y"}]})", R"({"a":[{"id":"x","v":1}]})"),
              json::parse(R"({"a":[{"id":"x","v":1}]})"));
    EXPECT_EQ(patched(R"({"a":[{"id":1}]})", R"({"a":[{"id":1,"v":1}]})"), json::parse(R"({"a":[{"id":1,"v":1}]})"))
        << "numeric id is not an id";
    EXPECT_EQ(patched(R"({"a":[{"id":""}]})", R"({"a":[{"id":"","v":1}]})"), json::parse(R"({"a":[{"id":"","v":1}]})"))
        << "empty id is not an id";
    EXPECT_EQ(patched(R"({"a":[1,2]})", R"({"a":[3]})"), json::parse(R"({"a":[3]})"));
    EXPECT_EQ(patched(R"({"a":[]})", R"({"a":[{"id":"x"},{"id":"x","v":2}]})"),
              json::parse(R"({"a":[{"id":"x","v":2}]})"))
        << "empty array is vacuously id-keyed; a repeated new id merges into the appended entry";
}

TEST(MergePatch, NullDeletesAndKeepsOrder) {
    EXPECT_EQ(json::serialize(patched(R"({"a":1,"b":2,"c":3,"d":4})", R"({"b":null})")), R"({"a":1,"c":3,"d":4})");
}

TEST(MergePatch, PrototypeKeysIgnored) {
    EXPECT_EQ(patched(R"({"a":1})", R"({"__proto__":{"x":1},"constructor":2,"prototype":3,"b":{"__proto__":4}})"),
              json::parse(R"({"a":1,"b":{}})"));
    EXPECT_EQ(patched(R"({"constructor":1})", R"({"constructor":null})"), json::parse(R"({"constructor":1})"));
}

TEST(MergePatch, ObjectReplacesScalar) {
    EXPECT_EQ(patched(R"({"a":5})", R"({"a":{"b":null,"c":1}})"), json::parse(R"({"a":{"c":1}})"));
}

}  // namespace
}  // namespace pincer::config
