// `reefdb sql` and `reefdb status` against fake ReefDB nodes: real
// HttpServers on 127.0.0.1 (ephemeral ports), each on a background thread,
// whose handler answers like a node (results, errors, /status, /nodes,
// not-leader). The shell runs over string streams, so each test is a script
// and its expected output. Also the pure pieces: table formatting, when a
// statement is complete, flag parsing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "prod/http/http_server.h"
#include "prod/shell/sql_shell.h"
#include "prod/shell/sql_shell_args.h"
#include "prod/shell/sql_shell_format.h"
#include "prod/shell/sql_shell_input.h"
#include "prod/shell/sql_shell_session.h"
#include "prod/shell/status_command.h"
#include "tests/prod/support/http_server_thread.h"

namespace reef::prod {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

http::HttpResponse json_answer(int status, const json& body) {
  http::HttpResponse response;
  response.status = status;
  response.body = body.dump();
  return response;
}

// One fake node: an HttpServer on its own thread answering with `answer`,
// recording every request.
class FakeNode {
 public:
  using Answer = std::function<http::HttpResponse(const http::HttpRequest&)>;

  FakeNode()
      : server_([this](http::HttpRequest request, std::function<void(http::HttpResponse)> respond) {
          handle(std::move(request), std::move(respond));
        }) {}

  void set_answer(Answer answer) {
    std::lock_guard lock(mutex_);
    answer_ = std::move(answer);
  }
  // The next request to a /db/ path stops the server instead of answering:
  // the node "dies" under the client.
  void die_on_next_db_request() {
    std::lock_guard lock(mutex_);
    die_ = true;
  }
  void stop() { server_.stop(); }

  std::string address() const { return server_.address(); }
  std::vector<http::HttpRequest> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  // Targets of the requests to /db/ paths, in order.
  std::vector<std::string> db_targets() {
    std::vector<std::string> targets;
    for (const http::HttpRequest& request : requests()) {
      if (absl::StartsWith(request.target, "/db/")) targets.push_back(request.target);
    }
    return targets;
  }

 private:
  void handle(http::HttpRequest request, std::function<void(http::HttpResponse)> respond) {
    std::unique_lock lock(mutex_);
    requests_.push_back(request);
    if (die_ && absl::StartsWith(request.target, "/db/")) {
      server_.stop_from_handler();  // `respond` then does nothing
      lock.unlock();
      respond(http::HttpResponse{});
      return;
    }
    const Answer answer = answer_;
    lock.unlock();
    respond(answer ? answer(request) : json_answer(404, {{"error", "no answer set"}, {"code", "not_found"}}));
  }

  std::mutex mutex_;
  Answer answer_;
  bool die_ = false;
  std::vector<http::HttpRequest> requests_;
  testing::HttpServerThread server_;  // last: its thread calls handle(), which uses the members above
};

std::string path_of(const std::string& target) { return target.substr(0, target.find('?')); }

// The SQL (and parameters) of the first statement of an API request body.
json first_statement(const http::HttpRequest& request) {
  const json body = json::parse(request.body, nullptr, false);
  if (!body.is_array() || body.empty()) return json::array();
  return body[0].is_string() ? json::array({body[0]}) : body[0];
}

json nodes_body(const std::vector<std::pair<std::string, bool>>& nodes) {
  json body = json::object();
  int id = 1;
  for (const auto& [address, leader] : nodes) {
    body[std::to_string(id)] = {{"id", std::to_string(id)},
                                {"api_addr", "http://" + address},
                                {"addr", "127.0.0.1:" + std::to_string(7000 + id)},
                                {"voter", true},
                                {"leader", leader}};
    ++id;
  }
  return body;
}

// Answers like a healthy leader with a table foo(id, name).
http::HttpResponse leader_answer(const http::HttpRequest& request, const json& nodes) {
  const std::string path = path_of(request.target);
  if (path == "/nodes") return json_answer(200, nodes);
  if (path == "/status") {
    return json_answer(200, {{"node_id", 1},
                             {"cluster", "reef"},
                             {"raft",
                              {{"role", "leader"},
                               {"term", 3},
                               {"leader", {{"node_id", 1}, {"api_addr", "http://127.0.0.1:4001"}}},
                               {"commit_index", 42},
                               {"applied_index", 41},
                               {"last_index", 43},
                               {"snapshot_index", 0},
                               {"pending_requests", 0},
                               {"stopped", false}}}});
  }
  const json statement = first_statement(request);
  const std::string sql = statement.empty() ? "" : statement[0].get<std::string>();
  auto rows = [](json columns, json values) {
    return json_answer(200, {{"results", json::array({{{"columns", columns}, {"values", values}}})}});
  };
  if (absl::StrContains(sql, "bogus")) {
    return json_answer(200, {{"results", json::array({{{"error", "near \"bogus\": syntax error"},
                                                       {"code", "sql_error"}}})}});
  }
  if (path == "/db/execute") {
    if (absl::StartsWith(sql, "INSERT")) {
      return json_answer(200, {{"results", json::array({{{"last_insert_id", 7}, {"rows_affected", 1}}})}});
    }
    return json_answer(200, {{"results", json::array({json::object()})}});
  }
  if (path == "/db/query") {
    if (absl::StrContains(sql, "'index'")) return rows({"name"}, {{"foo_by_name"}});
    if (absl::StrContains(sql, "SELECT sql FROM sqlite_master")) {
      return rows({"sql"}, {{"CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT)"},
                            {"CREATE INDEX foo_by_name ON foo(name)"}});
    }
    if (absl::StrContains(sql, "sqlite_master")) return rows({"name"}, {{"bar"}, {"foo"}});
    return rows({"id", "name"}, {{1, "fiona"}, {2, nullptr}});
  }
  return json_answer(404, {{"error", "no such endpoint: " + path}, {"code", "not_found"}});
}

// Runs a script through a non-interactive shell; returns what it printed.
std::string run_script(const std::string& host, const std::string& script, int* exit_status = nullptr,
                       SqlShellOptions options = {}) {
  options.host = host;
  std::istringstream in(script);
  std::ostringstream out;
  const int status = run_sql_shell_session(in, out, options);
  if (exit_status) *exit_status = status;
  return out.str();
}

class SqlShellTest : public ::testing::Test {
 protected:
  void SetUp() override {
    json nodes = nodes_body({{node_.address(), true}});
    node_.set_answer([nodes](const http::HttpRequest& request) { return leader_answer(request, nodes); });
  }

  FakeNode node_;
};

// ---- formatting -----------------------------------------------------------

TEST(SqlShellFormatTest, TableAlignsColumnsCountingCodePoints) {
  EXPECT_EQ(format_table({"id", "name"}, {{"1", "fiona"}, {"22", "zoë"}, {"3"}}),
            "+----+-------+\n"
            "| id | name  |\n"
            "+----+-------+\n"
            "| 1  | fiona |\n"
            "| 22 | zoë   |\n"
            "| 3  |       |\n"
            "+----+-------+\n");
}

TEST(SqlShellFormatTest, CellsShowNullNumbersAndEscapeControlCharacters) {
  EXPECT_EQ(format_cell(nullptr), "NULL");
  EXPECT_EQ(format_cell(10.5), "10.5");
  EXPECT_EQ(format_cell(-3), "-3");
  EXPECT_EQ(format_cell(true), "true");
  EXPECT_EQ(format_cell("a\nb\tc\x01"), "a\\nb\\tc\\x01");
}

TEST(SqlShellFormatTest, ResultEntries) {
  EXPECT_EQ(format_result({{"last_insert_id", 3}, {"rows_affected", 1}}), "1 row affected, last insert id 3\n");
  EXPECT_EQ(format_result({{"rows_affected", 2}}), "2 rows affected\n");
  EXPECT_EQ(format_result(json::object()), "0 rows affected\n");
  EXPECT_EQ(format_result({{"error", "no such table: bar"}, {"code", "sql_error"}}),
            "error: no such table: bar (sql_error)\n");
  EXPECT_EQ(format_result({{"columns", {"n"}}, {"types", {""}}}), "+---+\n| n |\n+---+\n+---+\n");
  EXPECT_EQ(format_error_response(503, R"({"error":"no leader","code":"no_leader"})"),
            "error: no leader (no_leader, HTTP 503)\n");
  EXPECT_EQ(format_error_response(502, "bad gateway"), "error: bad gateway (HTTP 502)\n");
}

// ---- input ------------------------------------------------------------------

TEST(SqlShellInputTest, CompleteOnlyAtATopLevelSemicolon) {
  EXPECT_EQ(classify_input("SELECT 1;\n"), InputState::kComplete);
  EXPECT_EQ(classify_input("SELECT 1; SELECT 2;\n"), InputState::kComplete);
  EXPECT_EQ(classify_input("SELECT 1;  -- done\n"), InputState::kComplete);
  EXPECT_EQ(classify_input("SELECT 1\n"), InputState::kIncomplete);
  EXPECT_EQ(classify_input("SELECT 1; SELECT 2\n"), InputState::kIncomplete);
  EXPECT_EQ(classify_input("SELECT 1 -- not the end;\n"), InputState::kIncomplete);
  EXPECT_EQ(classify_input("SELECT 'a;\n"), InputState::kIncomplete);
  EXPECT_EQ(classify_input("SELECT 1 /* ; \n"), InputState::kIncomplete);
  EXPECT_EQ(classify_input("CREATE TRIGGER t AFTER INSERT ON foo BEGIN\n  DELETE FROM bar;\n"),
            InputState::kIncomplete);
  EXPECT_EQ(classify_input("CREATE TRIGGER t AFTER INSERT ON foo BEGIN\n  DELETE FROM bar;\nEND;\n"),
            InputState::kComplete);
  EXPECT_EQ(classify_input(";\n"), InputState::kEmpty);
  EXPECT_EQ(classify_input("-- just a comment\n"), InputState::kEmpty);
  EXPECT_EQ(classify_input("  \n"), InputState::kEmpty);
}

TEST(SqlShellArgsTest, ParsesFlagsAndRefusesTheRest) {
  absl::StatusOr<CliFlags> flags = parse_cli_flags({"--host", "h:1", "--consistency=strong"}, {"host", "consistency"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->value_or("host", ""), "h:1");
  EXPECT_EQ(flags->value_or("consistency", ""), "strong");
  EXPECT_FALSE(flags->help);
  EXPECT_TRUE(parse_cli_flags({"--help"}, {"host"})->help);
  EXPECT_THAT(parse_cli_flags({"--port", "1"}, {"host"}).status().message(), HasSubstr("unknown option: --port"));
  EXPECT_THAT(parse_cli_flags({"--host"}, {"host"}).status().message(), HasSubstr("--host needs a value"));
  EXPECT_THAT(parse_cli_flags({"extra"}, {"host"}).status().message(), HasSubstr("unexpected argument: extra"));
  EXPECT_EQ(parse_consistency("Linearizable").value(), "linearizable");
  EXPECT_FALSE(parse_consistency("eventual").ok());
}

// ---- the shell against a fake node -----------------------------------------

TEST_F(SqlShellTest, ScriptPrintsCountsAndTablesAndRoutesReadsAndWrites) {
  int status = -1;
  const std::string output = run_script(node_.address(),
                                        "CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT);\n"
                                        "INSERT INTO foo(name) VALUES('fiona');\n"
                                        "\n"
                                        "SELECT id, name\n"
                                        "  FROM foo;\n",
                                        &status);
  EXPECT_EQ(output,
            "0 rows affected\n"
            "1 row affected, last insert id 7\n"
            "+----+-------+\n"
            "| id | name  |\n"
            "+----+-------+\n"
            "| 1  | fiona |\n"
            "| 2  | NULL  |\n"
            "+----+-------+\n");
  EXPECT_EQ(status, 0);
  const std::vector<std::string> targets = node_.db_targets();
  ASSERT_EQ(targets.size(), 3u);
  EXPECT_THAT(targets[0], ::testing::MatchesRegex("/db/execute\\?client_id=[0-9]+&seq=1"));
  EXPECT_THAT(targets[1], ::testing::MatchesRegex("/db/execute\\?client_id=[0-9]+&seq=2"));
  EXPECT_EQ(targets[2], "/db/query?level=weak");
  EXPECT_EQ(node_.requests().back().body, R"(["SELECT id, name\n  FROM foo"])");
}

TEST_F(SqlShellTest, SeveralStatementsOnOneLineRunOneByOne) {
  const std::string output = run_script(node_.address(), "INSERT INTO foo VALUES(1); SELECT 1;\n");
  EXPECT_THAT(output, HasSubstr("1 row affected, last insert id 7\n+----+"));
  EXPECT_EQ(node_.db_targets().size(), 2u);
}

TEST_F(SqlShellTest, ConsistencyFlagAndDotCommandPickTheReadLevel) {
  SqlShellOptions options;
  options.consistency = "strong";
  const std::string output = run_script(node_.address(),
                                        "SELECT 1;\n"
                                        ".consistency\n"
                                        ".consistency linearizable\n"
                                        "SELECT 2;\n"
                                        ".consistency eventual\n",
                                        nullptr, options);
  EXPECT_THAT(output, HasSubstr("\nstrong\n"));
  EXPECT_THAT(output, HasSubstr("error: unknown consistency level \"eventual\""));
  EXPECT_THAT(node_.db_targets(), ElementsAre("/db/query?level=strong", "/db/query?level=linearizable"));
}

TEST_F(SqlShellTest, SchemaDotCommands) {
  const std::string output = run_script(node_.address(), ".tables\n.schema foo\n.indexes foo\n");
  EXPECT_EQ(output,
            "bar\nfoo\n"
            "CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT);\n"
            "CREATE INDEX foo_by_name ON foo(name);\n"
            "foo_by_name\n");
  const std::vector<http::HttpRequest> requests = node_.requests();
  ASSERT_GE(requests.size(), 3u);
  // The table name travels as a parameter, never spliced into the SQL.
  const json schema = first_statement(requests[requests.size() - 2]);
  ASSERT_EQ(schema.size(), 2u);
  EXPECT_THAT(schema[0].get<std::string>(), HasSubstr("tbl_name = ?"));
  EXPECT_THAT(schema[0].get<std::string>(), HasSubstr("reef_sessions"));
  EXPECT_EQ(schema[1], "foo");
}

TEST_F(SqlShellTest, StatusNodesTimerHelpAndUnknownCommands) {
  int status = -1;
  const std::string output =
      run_script(node_.address(), ".status\n.nodes\n.timer on\nSELECT 1;\n.timer off\n.help\n.frobnicate\n", &status);
  EXPECT_THAT(output, HasSubstr("\"role\": \"leader\""));  // pretty JSON
  EXPECT_THAT(output, HasSubstr("| id | api_addr "));
  EXPECT_THAT(output, HasSubstr("| 1  | http://" + node_.address()));
  EXPECT_THAT(output, ::testing::ContainsRegex("\\+\nTime: [0-9]+\\.[0-9]{3} ms\n"));
  EXPECT_THAT(output, HasSubstr(".consistency [LEVEL]"));
  EXPECT_THAT(output, HasSubstr("error: unknown command \".frobnicate\"; enter \".help\" for the list\n"));
  EXPECT_EQ(status, 1);  // a failed command fails a script
}

TEST_F(SqlShellTest, QuitStopsReading) {
  run_script(node_.address(), "SELECT 1;\n.quit\nSELECT 2;\n");
  EXPECT_EQ(node_.db_targets().size(), 1u);
}

TEST_F(SqlShellTest, ErrorsArePrintedAndFailTheScript) {
  int status = -1;
  const std::string output = run_script(node_.address(),
                                        "INSERT INTO bogus VALUES(1);\n"
                                        "BEGIN;\n"
                                        "SELECT 'never finished\n",
                                        &status);
  EXPECT_THAT(output, HasSubstr("error: near \"bogus\": syntax error (sql_error)\n"));
  EXPECT_THAT(output, HasSubstr("error: refused: "));
  EXPECT_THAT(output, HasSubstr("error: incomplete input (a statement must end with ';'): SELECT 'never finished"));
  EXPECT_EQ(status, 1);
  EXPECT_EQ(node_.db_targets().size(), 1u);  // BEGIN was refused here, not sent
}

TEST_F(SqlShellTest, RequestErrorsShowMessageCodeAndStatus) {
  node_.set_answer([](const http::HttpRequest& request) {
    if (path_of(request.target) == "/nodes") return json_answer(200, json::object());
    return json_answer(503, {{"error", "no leader known"}, {"code", "no_leader"}});
  });
  const std::string output = run_script(node_.address(), "INSERT INTO foo VALUES(1);\n");
  EXPECT_EQ(output, "error: no leader known (no_leader, HTTP 503)\n");
}

TEST(SqlShellUnreachableTest, UnreachableNodeIsAClearError) {
  std::string address;
  {
    FakeNode gone;
    address = gone.address();
  }
  int status = -1;
  const std::string output = run_script(address, "SELECT 1;\n", &status);
  EXPECT_EQ(output, "error: cannot connect to " + address + ": Connection refused\n");
  EXPECT_EQ(status, 1);
}

TEST(SqlShellClusterTest, FollowsTheLeaderAfterANotLeaderAnswer) {
  FakeNode leader;
  FakeNode follower;
  const json nodes = nodes_body({{leader.address(), true}, {follower.address(), false}});
  leader.set_answer([nodes](const http::HttpRequest& request) { return leader_answer(request, nodes); });
  const std::string leader_url = "http://" + leader.address();
  follower.set_answer([nodes, leader_url](const http::HttpRequest& request) {
    if (path_of(request.target) == "/nodes") return json_answer(200, nodes);
    return json_answer(503, {{"error", "not leader; the leader is at " + leader_url},
                             {"code", "not_leader"},
                             {"leader", leader_url}});
  });
  SqlShellOptions options;
  options.interactive = true;  // the prompt names the node talked to
  const std::string output = run_script(follower.address(),
                                        "INSERT INTO foo VALUES(1);\n"
                                        "INSERT INTO foo VALUES(2);\n",
                                        nullptr, options);
  EXPECT_THAT(output, HasSubstr(follower.address() + "> note: following the leader to " + leader.address() +
                                "\n1 row affected, last insert id 7\n" + leader.address() + "> "));
  EXPECT_EQ(follower.db_targets().size(), 1u);  // only the first: afterwards the shell talks to the leader
  const std::vector<std::string> at_leader = leader.db_targets();
  ASSERT_EQ(at_leader.size(), 2u);
  EXPECT_THAT(at_leader[0], HasSubstr("&seq=1"));  // the same exactly-once id, resent
  EXPECT_THAT(at_leader[1], HasSubstr("&seq=2"));
}

TEST(SqlShellClusterTest, FollowsARedirect) {
  FakeNode leader;
  FakeNode follower;
  const json nodes = nodes_body({{leader.address(), true}});
  leader.set_answer([nodes](const http::HttpRequest& request) { return leader_answer(request, nodes); });
  const std::string location = "http://" + leader.address() + "/db/query?level=weak";
  follower.set_answer([location](const http::HttpRequest&) {
    http::HttpResponse response = json_answer(301, {{"error", "not leader"}, {"code", "not_leader"}});
    response.headers.emplace_back("Location", location);
    return response;
  });
  const std::string output = run_script(follower.address(), "SELECT 1;\n");
  EXPECT_THAT(output, HasSubstr("note: following the leader to " + leader.address() + "\n+----+"));
}

TEST(SqlShellClusterTest, FailsOverToAnotherKnownNodeWhenTheCurrentOneDies) {
  FakeNode first;
  FakeNode second;
  const json nodes = nodes_body({{first.address(), true}, {second.address(), false}});
  for (FakeNode* node : {&first, &second}) {
    node->set_answer([nodes](const http::HttpRequest& request) { return leader_answer(request, nodes); });
  }
  first.die_on_next_db_request();
  int status = -1;
  const std::string output = run_script(first.address(), "SELECT 1;\nSELECT 2;\n", &status);
  EXPECT_THAT(output, HasSubstr("note: " + first.address() + " is unreachable; switched to " + second.address()));
  EXPECT_THAT(output, Not(HasSubstr("error")));
  EXPECT_EQ(second.db_targets().size(), 2u);
  EXPECT_EQ(status, 0);
}

TEST_F(SqlShellTest, InteractiveSessionPromptsAndWritesTheHistoryFile) {
  const std::filesystem::path home =
      std::filesystem::temp_directory_path() / absl::StrCat("reefdb_shell_test_", ::getpid());
  std::filesystem::create_directories(home);
  ASSERT_EQ(::setenv("HOME", home.c_str(), 1), 0);
  SqlShellOptions options;
  options.interactive = true;
  options.history_path = default_history_path();
  EXPECT_EQ(options.history_path, (home / ".reefdb_history").string());

  const std::string output = run_script(node_.address(), "SELECT id,\n  name FROM foo;\n.tables\n", nullptr, options);
  const std::string prompt = node_.address() + "> ";
  EXPECT_THAT(output, HasSubstr("connected to " + node_.address()));
  EXPECT_THAT(output, HasSubstr(prompt + std::string(prompt.size() - 5, ' ') + "...> +----+"));
  std::ifstream file(options.history_path);
  std::stringstream history;
  history << file.rdbuf();
  EXPECT_EQ(history.str(), "SELECT id,   name FROM foo;\n.tables\n");

  // A later session starts with the earlier history and appends to it.
  const std::string second = run_script(node_.address(), ".history\n", nullptr, options);
  EXPECT_THAT(second, HasSubstr("1  SELECT id,   name FROM foo;\n2  .tables\n3  .history\n"));
  std::filesystem::remove_all(home);
}

TEST_F(SqlShellTest, ScriptsKeepNoHistoryAndPrintNoPrompts) {
  SqlShellOptions options;
  options.history_path = (std::filesystem::temp_directory_path() / "reefdb_shell_test_no_history").string();
  std::filesystem::remove(options.history_path);
  const std::string output = run_script(node_.address(), "SELECT 1;\n", nullptr, options);
  EXPECT_THAT(output, Not(HasSubstr(node_.address() + "> ")));
  EXPECT_FALSE(std::filesystem::exists(options.history_path));
}

// ---- reefdb status ------------------------------------------------------------

TEST_F(SqlShellTest, StatusCommandSummarizesTheNodeAndMembers) {
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(print_node_status(node_.address(), out, err), 0);
  EXPECT_EQ(err.str(), "");
  EXPECT_THAT(out.str(), HasSubstr("node      1 at " + node_.address() + " (cluster reef)\n"
                                   "role      leader, term 3\n"
                                   "leader    node 1 at http://127.0.0.1:4001\n"
                                   "log       commit 42, applied 41, last 43, snapshot 0\n"));
  EXPECT_THAT(out.str(), HasSubstr("members   1\n+----+"));
  EXPECT_THAT(out.str(), HasSubstr("| true  |      | true   |"));
}

TEST(StatusCommandTest, UnreachableNodeExitsOneWithAClearMessage) {
  std::string address;
  {
    FakeNode gone;
    address = gone.address();
  }
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(print_node_status(address, out, err), 1);
  EXPECT_EQ(err.str(), "reefdb status: cannot connect to " + address + ": Connection refused\n");
  EXPECT_EQ(out.str(), "");
}

TEST(StatusCommandTest, HelpAndBadFlags) {
  EXPECT_EQ(run_status_command({"--help"}), 0);
  EXPECT_EQ(run_status_command({"--bogus"}), 2);
  EXPECT_EQ(run_sql_shell({"--help"}), 0);
  EXPECT_EQ(run_sql_shell({"--consistency", "eventual"}), 2);
}

}  // namespace
}  // namespace reef::prod
