// URL query strings and Go durations of the HTTP API (prod/api/http_query_options.h,
// prod/api/http_duration.h).
#include "prod/api/http_query_options.h"

#include <cstdint>
#include <string>

#include "gtest/gtest.h"
#include "prod/api/http_duration.h"

namespace reef::prod::http {
namespace {

TEST(GoDurationTest, ParsesEveryUnitFractionsAndSequences) {
  EXPECT_EQ(*parse_go_duration("0"), 0);
  EXPECT_EQ(*parse_go_duration("10ns"), 10);
  EXPECT_EQ(*parse_go_duration("3us"), 3'000);
  EXPECT_EQ(*parse_go_duration("3\xC2\xB5s"), 3'000);
  EXPECT_EQ(*parse_go_duration("500ms"), 500'000'000);
  EXPECT_EQ(*parse_go_duration("1.5s"), 1'500'000'000);
  EXPECT_EQ(*parse_go_duration(".5s"), 500'000'000);
  EXPECT_EQ(*parse_go_duration("1m30s"), int64_t{90} * 1'000'000'000);
  EXPECT_EQ(*parse_go_duration("2h"), int64_t{7200} * 1'000'000'000);
  EXPECT_EQ(*parse_go_duration("+1s"), 1'000'000'000);
}

TEST(GoDurationTest, RefusesWhatGoRefusesAndNegatives) {
  for (const char* bad :
       {"", "1", "s", "1x", "1.s.", "-1s", "1s2", ".s", "9999999999999999999h", "2562048h"}) {
    EXPECT_FALSE(parse_go_duration(bad).ok()) << bad;
  }
  EXPECT_TRUE(parse_go_duration("2562047h").ok());
}

TEST(QueryStringTest, DecodesPercentAndPlusKeepsOrderAndEmptyValues) {
  auto pairs = parse_query_string("q=SELECT%20*+FROM%20foo&pretty&x=a%3Db&&y=");
  ASSERT_TRUE(pairs.ok()) << pairs.status();
  ASSERT_EQ(pairs->size(), 4u);
  EXPECT_EQ((*pairs)[0].first, "q");
  EXPECT_EQ((*pairs)[0].second, "SELECT * FROM foo");
  EXPECT_EQ((*pairs)[1].first, "pretty");
  EXPECT_EQ((*pairs)[1].second, "");
  EXPECT_EQ((*pairs)[2].second, "a=b");
  EXPECT_EQ((*pairs)[3].first, "y");
}

TEST(QueryStringTest, RefusesBadEscapesAndSemicolons) {
  EXPECT_FALSE(parse_query_string("q=%zz").ok());
  EXPECT_FALSE(parse_query_string("q=%4").ok());
  EXPECT_FALSE(parse_query_string("q=%").ok());
  EXPECT_FALSE(parse_query_string("a=1;b=2").ok());
}

TEST(RequestOptionsTest, DefaultsAreRqlites) {
  auto options = parse_request_options("");
  ASSERT_TRUE(options.ok());
  EXPECT_FALSE(options->pretty || options->timings || options->associative || options->transaction ||
               options->redirect || options->blob_array || options->freshness_strict);
  EXPECT_EQ(options->level, ReadLevel::kWeak);
  EXPECT_FALSE(options->freshness_ns.has_value());
  EXPECT_FALSE(options->timeout_ns.has_value());
  EXPECT_EQ(options->min_index, 0u);
  EXPECT_EQ(options->command_id.client_id, 0u);
  EXPECT_FALSE(options->q.has_value());
}

TEST(RequestOptionsTest, FlagsCountWhenPresentWhateverTheirValue) {
  auto options =
      parse_request_options("pretty=false&timings&associative=1&transaction&redirect&blob_array&raft_index");
  ASSERT_TRUE(options.ok());
  EXPECT_TRUE(options->pretty && options->timings && options->associative && options->transaction &&
              options->redirect && options->blob_array);
}

TEST(RequestOptionsTest, EveryLevelMapsToItsNodeRequestKind) {
  struct Case {
    const char* query;
    ReadLevel level;
    raft::RequestKind kind;
  };
  for (const Case& c :
       {Case{"level=none", ReadLevel::kNone, raft::RequestKind::kReadNone},
        Case{"level=weak", ReadLevel::kWeak, raft::RequestKind::kReadWeak},
        Case{"level=auto", ReadLevel::kWeak, raft::RequestKind::kReadWeak},
        Case{"level=Linearizable", ReadLevel::kLinearizable, raft::RequestKind::kReadLinearizable},
        Case{"level=STRONG", ReadLevel::kStrong, raft::RequestKind::kReadStrong}}) {
    auto options = parse_request_options(c.query);
    ASSERT_TRUE(options.ok()) << c.query;
    EXPECT_EQ(options->level, c.level) << c.query;
    EXPECT_EQ(request_kind(options->level), c.kind) << c.query;
  }
  EXPECT_EQ(read_level_name(ReadLevel::kLinearizable), "linearizable");
}

TEST(RequestOptionsTest, FreshnessTimeoutMinIndexSessionAndQ) {
  auto options = parse_request_options(
      "level=none&freshness=1.5s&freshness_strict&timeout=2m&min_index=42&client_id=7&seq=9&q=%20SELECT%201%"
      "20");
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->freshness_ns, int64_t{1'500'000'000});
  EXPECT_TRUE(options->freshness_strict);
  EXPECT_EQ(options->timeout_ns, int64_t{120} * 1'000'000'000);
  EXPECT_EQ(options->min_index, 42u);
  EXPECT_EQ(options->command_id, (statemachine::CommandId{7, 9}));
  EXPECT_EQ(options->q, std::string("SELECT 1"));
}

TEST(RequestOptionsTest, FreshnessBoundIsInWholeMillisecondsRoundedUp) {
  auto bound = [](const char* query) { return freshness_bound(*parse_request_options(query)); };
  EXPECT_FALSE(bound("level=none").has_value());
  EXPECT_FALSE(bound("level=none&freshness=0s").has_value()) << "zero: no bound, as in rqlite";
  ASSERT_TRUE(bound("freshness=200ms").has_value());
  EXPECT_EQ(bound("freshness=200ms")->max_staleness_ms, 200u);
  EXPECT_FALSE(bound("freshness=200ms")->strict);
  EXPECT_EQ(bound("freshness=1us")->max_staleness_ms, 1u) << "never rounded down to no bound";
  EXPECT_EQ(bound("freshness=1.0001s")->max_staleness_ms, 1001u);
  EXPECT_TRUE(bound("freshness=1s&freshness_strict")->strict);
}

TEST(RequestOptionsTest, FirstOccurrenceWins) {
  auto options = parse_request_options("level=strong&level=none");
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->level, ReadLevel::kStrong);
}

TEST(RequestOptionsTest, RefusesMeaninglessValuesNamingTheParameter) {
  for (const char* bad :
       {"level=quick", "freshness=soon", "freshness_strict", "timeout=5", "db_timeout=x",
        "linearizable_timeout=1", "min_index=-1", "min_index=1.5", "min_index=", "min_index=0x10",
        "min_index=99999999999999999999", "client_id=1", "seq=1", "client_id=0&seq=1", "client_id=a&seq=1",
        "q=", "q=%20%20", "queue", "pretty&q=%GG"}) {
    auto options = parse_request_options(bad);
    EXPECT_FALSE(options.ok()) << bad;
  }
  auto options = parse_request_options("level=quick");
  EXPECT_NE(std::string(options.status().message()).find("'level'"), std::string::npos) << options.status();
}

TEST(RequestOptionsTest, IgnoresUnknownAndRewriteParameters) {
  EXPECT_TRUE(parse_request_options("norwrandom&norwtime&noparse&frobnicate=3&raft_index").ok());
}

}  // namespace
}  // namespace reef::prod::http
