// DATE, DATETIME and TIMESTAMP values as rqlite (go-sqlite3 + Go's
// time.Time.MarshalText) shows them.
#include "prod/api/http_time_value.h"

#include <cstdint>
#include <optional>
#include <string>

#include "gtest/gtest.h"

namespace reef::prod::http {
namespace {

using statemachine::Blob;
using statemachine::Value;

std::optional<std::string> text(const std::string& stored) { return time_column_text(Value(stored)); }

TEST(TimeColumnTest, OnlyTheThreeDeclaredTypesAnyCase) {
  for (const char* type : {"date", "DATETIME", "TimeStamp"}) EXPECT_TRUE(is_time_column(type)) << type;
  for (const char* type : {"", "text", "datetime(6)", "timestamptz", "time", "datetime "}) {
    EXPECT_FALSE(is_time_column(type)) << type;
  }
}

TEST(TimeColumnTest, EveryTextFormatOfSqlite) {
  EXPECT_EQ(text("2024-05-06"), "2024-05-06T00:00:00Z");
  EXPECT_EQ(text("2024-05-06 07:08"), "2024-05-06T07:08:00Z");
  EXPECT_EQ(text("2024-05-06T07:08"), "2024-05-06T07:08:00Z");
  EXPECT_EQ(text("2024-05-06 07:08:09"), "2024-05-06T07:08:09Z");
  EXPECT_EQ(text("2024-05-06T07:08:09Z"), "2024-05-06T07:08:09Z");
  EXPECT_EQ(text("2024-05-06 7:08:09"), "2024-05-06T07:08:09Z");  // Go's hour takes one digit
  EXPECT_EQ(text("2024-05-06 07:08:09.500"), "2024-05-06T07:08:09.5Z");
  EXPECT_EQ(text("2024-05-06 07:08:09,000001"), "2024-05-06T07:08:09.000001Z");
  EXPECT_EQ(text("2024-05-06 07:08:09.1234567891"), "2024-05-06T07:08:09.123456789Z");  // 9 digits kept
  EXPECT_EQ(text("2024-05-06 07:08:09.000"), "2024-05-06T07:08:09Z");
  EXPECT_EQ(text("2024-05-06 07:08:09-03:30"), "2024-05-06T07:08:09-03:30");
  EXPECT_EQ(text("2024-05-06T07:08:09.25+01:00"), "2024-05-06T07:08:09.25+01:00");
  EXPECT_EQ(text("2024-05-06 07:08:09+00:00"), "2024-05-06T07:08:09Z");
  EXPECT_EQ(text("0000-01-01"), "0000-01-01T00:00:00Z");
}

TEST(TimeColumnTest, TextThatIsNoTimeIsGosZeroTime) {
  for (const char* stored :
       {"", "now", "2024-5-06", "2024-05-06 ", "2024-13-01", "2023-02-29", "2024-05-06 24:00",
        "2024-05-06 07:60", "2024-05-06 07:08:60", "2024-05-06 07:08+01:00", "2024-05-06 07:08:09.",
        "2024-05-06 07:08:09+1:00", "2024-05-06 07:08:09+24:00", "2024-05-06 07:08:09ZZ", "20240506",
        "1700000000"}) {
    EXPECT_EQ(text(stored), "0001-01-01T00:00:00Z") << stored;
  }
  EXPECT_EQ(text("2024-02-29"), "2024-02-29T00:00:00Z");  // a leap day is a day
}

TEST(TimeColumnTest, IntegersAreUnixSecondsOrMilliseconds) {
  EXPECT_EQ(time_column_text(Value(int64_t{0})), "1970-01-01T00:00:00Z");
  EXPECT_EQ(time_column_text(Value(int64_t{1'700'000'000})), "2023-11-14T22:13:20Z");
  EXPECT_EQ(time_column_text(Value(int64_t{-1})), "1969-12-31T23:59:59Z");
  // Up to 10^12 in magnitude: seconds; above: milliseconds.
  EXPECT_EQ(time_column_text(Value(int64_t{1'000'000'000'001})), "2001-09-09T01:46:40.001Z");
  EXPECT_EQ(time_column_text(Value(int64_t{-1'000'000'000'001})), "1938-04-24T22:13:19.999Z");
  EXPECT_EQ(time_column_text(Value(int64_t{253'402'300'799})), "9999-12-31T23:59:59Z");
  EXPECT_EQ(time_column_text(Value(int64_t{253'402'300'799'999})), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(time_column_text(Value(int64_t{-62'167'219'200})), "0000-01-01T00:00:00Z");
  // Years RFC 3339 cannot write keep the integer (rqlite fails the query).
  for (int64_t beyond : {int64_t{1'000'000'000'000}, int64_t{253'402'300'800}, int64_t{-62'167'219'201},
                         INT64_MAX, INT64_MIN}) {
    EXPECT_EQ(time_column_text(Value(beyond)), std::nullopt) << beyond;
  }
}

TEST(TimeColumnTest, RealBlobAndNullAreLeftAlone) {
  EXPECT_EQ(time_column_text(Value(2.5)), std::nullopt);
  EXPECT_EQ(time_column_text(Value(Blob{"2024-05-06"})), std::nullopt);
  EXPECT_EQ(time_column_text(Value()), std::nullopt);
}

}  // namespace
}  // namespace reef::prod::http
