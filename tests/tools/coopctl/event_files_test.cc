// Unit: how coopctl reads events from JSON and YAML, its error messages, and the seed data set
// in deploy/seed.
#include "tools/coopctl/event_files.h"

#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/testing/seed_events.h"

namespace coop::ctl {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Ids(const std::vector<FileEvent>& events) {
  std::vector<std::string> ids;
  for (const FileEvent& event : events) ids.push_back(event.event.id());
  return ids;
}

constexpr char kMemorandum[] =
    R"({"id": "m-1", "type": "coop.v1.MemorandumSigned", "subject": "agreement/a-1",
        "memorandumSigned": {"agreement_id": "a-1", "title": "Меморандум"}})";

TEST(EventFilesTest, JsonObjectArrayAndLinesAllRead) {
  absl::StatusOr<std::vector<FileEvent>> one = ParseEvents("one.json", kMemorandum);
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_THAT(Ids(*one), ElementsAre("m-1"));
  EXPECT_EQ(one->front().event.memorandum_signed().title(), "Меморандум");
  EXPECT_EQ(one->front().origin, "one.json: event 1 (id m-1)");

  absl::StatusOr<std::vector<FileEvent>> array =
      ParseEvents("many.json", R"([{"id": "a"}, {"id": "b"}, {"id": "c"}])");
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_THAT(Ids(*array), ElementsAre("a", "b", "c"));
  EXPECT_EQ((*array)[2].origin, "many.json: event 3 (id c)");

  absl::StatusOr<std::vector<FileEvent>> lines =
      ParseEvents("many.jsonl", "{\"id\": \"a\"}\n\n{\"id\": \"b\"}\n");
  ASSERT_TRUE(lines.ok()) << lines.status();
  EXPECT_THAT(Ids(*lines), ElementsAre("a", "b"));

  // Standard input: objects one per line are JSON lines too.
  absl::StatusOr<std::vector<FileEvent>> piped =
      ParseEvents("<stdin>", "{\"id\": \"a\"}\n{\"id\": \"b\"}\n");
  ASSERT_TRUE(piped.ok()) << piped.status();
  EXPECT_THAT(Ids(*piped), ElementsAre("a", "b"));
}

TEST(EventFilesTest, YamlDocumentsAndSequencesWithTypedScalars) {
  constexpr char kYaml[] = R"(id: h-1
type: coop.v1.HubMilestone
subject: hub/selyatino
hub_milestone:
  hub_id: selyatino
  hub_name: ТЛЦ «Селятино»
  jobs: 1500
  percent_complete: 40.5
  total_area: {value: 65000, unit: UNIT_SQUARE_METRE}
---
- id: "2025"
  subject: hub/selyatino
- id: h-3
---
)";
  absl::StatusOr<std::vector<FileEvent>> events = ParseEvents("hubs.yaml", kYaml);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_THAT(Ids(*events), ElementsAre("h-1", "2025", "h-3"));
  const coop::v1::HubMilestone& milestone = events->front().event.hub_milestone();
  EXPECT_EQ(milestone.hub_name(), "ТЛЦ «Селятино»");
  EXPECT_EQ(milestone.jobs(), 1500);
  EXPECT_DOUBLE_EQ(milestone.percent_complete(), 40.5);
  EXPECT_DOUBLE_EQ(milestone.total_area().value(), 65000);
  EXPECT_EQ((*events)[1].origin, "hubs.yaml: event 2 (id 2025)");
}

TEST(EventFilesTest, ErrorsNameTheFileTheEventAndTheField) {
  const auto error = [](absl::string_view name, absl::string_view text) {
    absl::StatusOr<std::vector<FileEvent>> events = ParseEvents(name, text);
    EXPECT_TRUE(absl::IsInvalidArgument(events.status())) << events.status();
    return std::string(events.status().message());
  };
  EXPECT_THAT(error("bad.json", "{\"id\": \"a\",\n \"subject\" \"x\"}"),
              HasSubstr("bad.json: not valid JSON: parse error at line 2"));
  EXPECT_THAT(error("bad.json", R"([{"id": "a"}, {"id": "b", "subjct": "hub/x"}])"),
              AllOf(HasSubstr("bad.json: event 2 (id b): "), HasSubstr("subjct")));
  EXPECT_THAT(error("bad.json", R"([{"id": "a"}, {"id": "b", "schema_version": "one"}])"),
              AllOf(HasSubstr("bad.json: event 2 (id b): "), HasSubstr("schema_version")));
  EXPECT_THAT(error("bad.json", R"([{"id": "a"}, 7])"),
              HasSubstr("bad.json: event 2: expected an object (an event), got number"));
  EXPECT_THAT(error("bad.jsonl", "{\"id\": \"a\"}\n{\"id\": \n"),
              HasSubstr("bad.jsonl: line 2: not a JSON value"));
  EXPECT_THAT(error("bad.yaml", "id: a\n  subject: [unclosed\n"),
              HasSubstr("bad.yaml: not valid YAML: line "));
  EXPECT_THAT(error("empty.json", "[]"), HasSubstr("empty.json: no events in it"));
  EXPECT_THAT(error("empty.yaml", ""), HasSubstr("empty.yaml: no events in it"));
}

TEST(EventFilesTest, AFileThatCannotBeReadIsNotFoundNamingIt) {
  std::istringstream no_input;
  absl::StatusOr<std::vector<FileEvent>> events =
      ReadEventFile("/nonexistent/events.json", no_input);
  EXPECT_TRUE(absl::IsNotFound(events.status())) << events.status();
  EXPECT_THAT(events.status().message(), HasSubstr("/nonexistent/events.json: cannot read it"));

  std::istringstream input(kMemorandum);
  absl::StatusOr<std::vector<FileEvent>> piped = ReadEventFile("-", input);
  ASSERT_TRUE(piped.ok()) << piped.status();
  EXPECT_EQ(piped->front().origin, "<stdin>: event 1 (id m-1)");
}

// deploy/seed holds the seed data set, one file per publisher, as coop-seed-export wrote it:
// read back, the files give exactly SeedEvents() without the fields the service sets.
TEST(SeedFilesTest, HoldExactlyTheSeedEventsOfEachPublisher) {
  std::map<std::string, std::vector<coop::v1::Event>> expected;
  for (coop::v1::Event event : coop::testing::SeedEvents()) {
    const std::string publisher(absl::StripPrefix(event.source(), "publishers/"));
    event.clear_source();
    event.clear_recorded_time();
    expected[publisher].push_back(std::move(event));
  }
  std::map<std::string, std::vector<coop::v1::Event>> read;
  for (const auto& entry : std::filesystem::directory_iterator(COOP_SEED_DIR)) {
    if (entry.path().extension() != ".json") continue;
    std::istringstream no_input;
    absl::StatusOr<std::vector<FileEvent>> events = ReadEventFile(entry.path().string(), no_input);
    ASSERT_TRUE(events.ok()) << events.status();
    for (const FileEvent& event : *events) {
      read[entry.path().stem().string()].push_back(event.event);
    }
  }
  ASSERT_EQ(read.size(), expected.size()) << "one file per publisher of the seed";
  for (const auto& [publisher, events] : expected) {
    SCOPED_TRACE(publisher);
    ASSERT_EQ(read[publisher].size(), events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      EXPECT_TRUE(MessageDifferencer::Equals(read[publisher][i], events[i]))
          << events[i].id() << " differs; run build/default/tests/coop-seed-export deploy/seed";
    }
  }
}

}  // namespace
}  // namespace coop::ctl
