// coop-seed-export DIR: writes the seed data set (seed_events.h) as deploy/seed's files, one per
// publisher (DIR/<publisher id>.json, an array of events in the Protobuf JSON mapping), without
// the fields the publisher service sets (source, recorded_time). The files are what
// `coopctl publish` and the run command send; SeedFilesTest checks that they still hold exactly
// SeedEvents(). Run it after changing seed_events.cc:
//   build/default/tests/coop-seed-export deploy/seed
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "tests/testing/seed_events.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: coop-seed-export DIR\n";
    return 2;
  }
  std::map<std::string, nlohmann::ordered_json> files;
  for (coop::v1::Event event : coop::testing::SeedEvents()) {
    const std::string publisher(absl::StripPrefix(event.source(), "publishers/"));
    event.clear_source();
    event.clear_recorded_time();
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    if (!google::protobuf::util::MessageToJsonString(event, &json, options).ok()) {
      std::cerr << "coop-seed-export: cannot print " << event.id() << "\n";
      return 1;
    }
    files[publisher].push_back(nlohmann::ordered_json::parse(json));
  }
  for (const auto& [publisher, events] : files) {
    const std::string path = absl::StrCat(argv[1], "/", publisher, ".json");
    std::ofstream out(path);
    out << events.dump(2, ' ', /*ensure_ascii=*/false) << "\n";
    if (!out) {
      std::cerr << "coop-seed-export: cannot write " << path << "\n";
      return 1;
    }
    std::cout << path << ": " << events.size() << " events\n";
  }
  return 0;
}
