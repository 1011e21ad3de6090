#include "tools/coopctl/event_files.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"

namespace coop::ctl {
namespace {

using Json = nlohmann::ordered_json;

enum class Format { kJson, kJsonLines, kYaml };

Format FormatOf(absl::string_view name, absl::string_view text) {
  if (absl::EndsWith(name, ".jsonl") || absl::EndsWith(name, ".ndjson")) {
    return Format::kJsonLines;
  }
  if (absl::EndsWith(name, ".yaml") || absl::EndsWith(name, ".yml")) return Format::kYaml;
  if (absl::EndsWith(name, ".json")) return Format::kJson;
  const absl::string_view content = absl::StripLeadingAsciiWhitespace(text);
  return !content.empty() && (content.front() == '{' || content.front() == '[') ? Format::kJson
                                                                                : Format::kYaml;
}

// "name: event N (id X)", naming the id when the object has one.
std::string Origin(absl::string_view name, size_t index, const Json& object) {
  std::string origin = absl::StrCat(name, ": event ", index + 1);
  if (auto id = object.find("id"); id != object.end() && id->is_string()) {
    absl::StrAppend(&origin, " (id ", id->get<std::string>(), ")");
  }
  return origin;
}

absl::Status AddEvent(absl::string_view name, const Json& object, std::vector<FileEvent>& out) {
  const size_t index = out.size();
  if (!object.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": event ", index + 1, ": expected an object (an event), got ", object.type_name()));
  }
  FileEvent event;
  event.origin = Origin(name, index, object);
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;  // A misspelt field is an error, not a silent drop.
  const auto parsed =
      google::protobuf::util::JsonStringToMessage(object.dump(), &event.event, options);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(event.origin, ": ", std::string(parsed.message())));
  }
  out.push_back(std::move(event));
  return absl::OkStatus();
}

// Adds the events of one JSON value: an object, or an array of objects.
absl::Status AddEvents(absl::string_view name, const Json& value, std::vector<FileEvent>& out) {
  if (!value.is_array()) return AddEvent(name, value, out);
  for (const Json& element : value) {
    if (absl::Status added = AddEvent(name, element, out); !added.ok()) return added;
  }
  return absl::OkStatus();
}

absl::Status ParseJsonLines(absl::string_view name, absl::string_view text,
                            std::vector<FileEvent>& out) {
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    Json value = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": line ", line_number, ": not a JSON value"));
    }
    if (absl::Status added = AddEvents(name, value, out); !added.ok()) return added;
  }
  return absl::OkStatus();
}

absl::Status ParseJson(absl::string_view name, absl::string_view text,
                       std::vector<FileEvent>& out) {
  try {
    return AddEvents(name, Json::parse(text), out);
  } catch (const Json::parse_error& error) {
    // Several objects one after the other: JSON lines (as on a pipe from another tool).
    if (absl::StrContains(absl::StripTrailingAsciiWhitespace(text), '\n') &&
        absl::StartsWith(absl::StripLeadingAsciiWhitespace(text), "{")) {
      std::vector<FileEvent> lines;
      if (ParseJsonLines(name, text, lines).ok()) {
        for (FileEvent& event : lines) out.push_back(std::move(event));
        return absl::OkStatus();
      }
    }
    // nlohmann's message reads "[json.exception.parse_error.101] parse error at line 3,
    // column 5: syntax error while parsing object - ..."; the part after the id says it.
    std::string what = error.what();
    if (const size_t at = what.find("] "); at != std::string::npos) what = what.substr(at + 2);
    return absl::InvalidArgumentError(absl::StrCat(name, ": not valid JSON: ", what));
  }
}

// A YAML node as JSON, scalars typed by YAML 1.2's core schema.
absl::StatusOr<Json> YamlToJson(absl::string_view name, const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return Json(nullptr);
    case YAML::NodeType::Sequence: {
      Json array = Json::array();
      for (const YAML::Node& element : node) {
        absl::StatusOr<Json> value = YamlToJson(name, element);
        if (!value.ok()) return value.status();
        array.push_back(*std::move(value));
      }
      return array;
    }
    case YAML::NodeType::Map: {
      Json object = Json::object();
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          return absl::InvalidArgumentError(absl::StrCat(
              name, ": line ", entry.first.Mark().line + 1, ": a mapping key must be a scalar"));
        }
        absl::StatusOr<Json> value = YamlToJson(name, entry.second);
        if (!value.ok()) return value.status();
        object[entry.first.Scalar()] = *std::move(value);
      }
      return object;
    }
    case YAML::NodeType::Scalar: {
      const std::string& scalar = node.Scalar();
      if (node.Tag() == "!") return Json(scalar);  // Quoted: a string whatever it looks like.
      if (scalar == "true" || scalar == "True" || scalar == "TRUE") return Json(true);
      if (scalar == "false" || scalar == "False" || scalar == "FALSE") return Json(false);
      if (scalar == "null" || scalar == "Null" || scalar == "NULL" || scalar == "~") {
        return Json(nullptr);
      }
      if (int64_t integer; absl::SimpleAtoi(scalar, &integer)) return Json(integer);
      if (double number; absl::SimpleAtod(scalar, &number) &&
                         scalar.find_first_of("0123456789") != std::string::npos &&
                         !absl::StrContains(scalar, "nan") && !absl::StrContains(scalar, "inf")) {
        return Json(number);
      }
      return Json(scalar);
    }
  }
  return Json(nullptr);
}

absl::Status ParseYaml(absl::string_view name, absl::string_view text,
                       std::vector<FileEvent>& out) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& error) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": not valid YAML: line ",
                                                   error.mark.line + 1, ", column ",
                                                   error.mark.column + 1, ": ", error.msg));
  }
  for (const YAML::Node& document : documents) {
    if (document.IsNull()) continue;  // An empty document (a trailing ---).
    absl::StatusOr<Json> value = YamlToJson(name, document);
    if (!value.ok()) return value.status();
    if (absl::Status added = AddEvents(name, *value, out); !added.ok()) return added;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<FileEvent>> ParseEvents(absl::string_view name, absl::string_view text) {
  std::vector<FileEvent> events;
  absl::Status status;
  switch (FormatOf(name, text)) {
    case Format::kJson:
      status = ParseJson(name, text, events);
      break;
    case Format::kJsonLines:
      status = ParseJsonLines(name, text, events);
      break;
    case Format::kYaml:
      status = ParseYaml(name, text, events);
      break;
  }
  if (!status.ok()) return status;
  if (events.empty()) return absl::InvalidArgumentError(absl::StrCat(name, ": no events in it"));
  return events;
}

absl::StatusOr<std::vector<FileEvent>> ReadEventFile(const std::string& path,
                                                     std::istream& standard_input) {
  std::stringstream text;
  if (path == "-") {
    text << standard_input.rdbuf();
    return ParseEvents("<stdin>", text.str());
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    const int error = errno;
    const std::string message = absl::StrCat(path, ": cannot read it: ", std::strerror(error));
    return error == EACCES ? absl::PermissionDeniedError(message) : absl::NotFoundError(message);
  }
  text << file.rdbuf();
  return ParseEvents(path, text.str());
}

}  // namespace coop::ctl
