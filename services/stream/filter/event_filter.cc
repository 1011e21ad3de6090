#include "services/stream/filter/event_filter.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/auth/scope.h"
#include "common/events/message_walk.h"
#include "common/rpc/status_conversion.h"
#include "coop/v1/types.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "services/publisher/validation/event_validator.h"

namespace coop::stream {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

constexpr int kMaxTypes = 32;
constexpr int kMaxEntries = 100;
constexpr size_t kMaxPrefixChars = 200;
// As the publisher's ValidationLimits::max_violations: the BadRequest travels in gRPC trailing
// metadata, which has a size limit.
constexpr size_t kMaxViolations = 100;

constexpr char kRegionCodeExpectation[] =
    "an ISO 3166-2 code such as RU-MOS or an ISO 3166-1 alpha-2 code such as KZ";

// The payload message types of coop.v1.Event (its oneof `payload`), and the same joined for
// descriptions. Built once from the descriptor, so a payload added to the contract is accepted
// without a change here.
struct ContractTypes {
  absl::flat_hash_set<std::string> names;
  std::string listed;
};

const ContractTypes& PayloadTypes() {
  static const ContractTypes* const types = [] {
    auto* built = new ContractTypes;
    const google::protobuf::OneofDescriptor* payload =
        coop::v1::Event::descriptor()->FindOneofByName("payload");
    std::vector<std::string> names;
    for (int i = 0; i < payload->field_count(); ++i) {
      names.push_back(payload->field(i)->message_type()->full_name());
    }
    built->names.insert(names.begin(), names.end());
    built->listed = absl::StrJoin(names, ", ");
    return built;
  }();
  return *types;
}

// Collects the violations of one filter, at most kMaxViolations of them, counting the rest.
class Violations {
 public:
  explicit Violations(absl::string_view prefix) : prefix_(prefix) {}

  // The path of the filter field `name`, element `index` when it is not negative.
  std::string Path(absl::string_view name, int index = -1) const {
    std::string path = prefix_.empty() ? std::string(name) : absl::StrCat(prefix_, ".", name);
    if (index >= 0) absl::StrAppend(&path, "[", index, "]");
    return path;
  }

  void Add(std::string field, std::string description) {
    if (list_.size() < kMaxViolations) {
      list_.emplace_back(std::move(field), std::move(description));
    } else {
      ++left_out_;
    }
  }

  void CheckMaxEntries(absl::string_view name, int size, int max) {
    if (size > max) {
      Add(Path(name), absl::StrCat("must have at most ", max, " entries; got ", size));
    }
  }

  absl::Status ToStatus() {
    if (list_.empty()) return absl::OkStatus();
    const size_t found = list_.size() + left_out_;
    const std::string message =
        absl::StrCat(prefix_.empty() ? "filter" : prefix_, ": ", found, " invalid field(s), first ",
                     list_.front().first, ": ", list_.front().second);
    if (left_out_ > 0) {
      list_.emplace_back(std::string(prefix_),
                         absl::StrCat("and ", left_out_, " more violations not listed"));
    }
    return rpc::InvalidArgumentWithViolations(message, list_);
  }

 private:
  std::string prefix_;
  std::vector<std::pair<std::string, std::string>> list_;
  size_t left_out_ = 0;
};

void CheckTypes(const coop::v1::EventFilter& filter, Violations& v) {
  v.CheckMaxEntries("types", filter.types_size(), kMaxTypes);
  const ContractTypes& contract = PayloadTypes();
  absl::flat_hash_map<absl::string_view, int> first_index;
  for (int i = 0; i < filter.types_size(); ++i) {
    const std::string& type = filter.types(i);
    if (type.empty()) {
      v.Add(v.Path("types", i),
            "required: the full name of a payload type, e.g. 'coop.v1.HubMilestone'");
    } else if (!contract.names.contains(type)) {
      v.Add(v.Path("types", i),
            absl::StrCat("must be the full name of a payload type of coop.v1.Event (",
                         contract.listed, "); got ", publisher::QuoteValue(type)));
    }
    const auto [it, inserted] = first_index.emplace(type, i);
    if (!inserted) {
      v.Add(v.Path("types", i),
            absl::StrCat("must be unique; duplicate of ", v.Path("types", it->second)));
    }
  }
}

void CheckSubjects(const coop::v1::EventFilter& filter, Violations& v) {
  v.CheckMaxEntries("subjects", filter.subjects_size(), kMaxEntries);
  for (int i = 0; i < filter.subjects_size(); ++i) {
    const std::string& subject = filter.subjects(i);
    if (subject.empty()) {
      v.Add(v.Path("subjects", i), "required: a subject such as 'hub/selyatino'");
    } else if (!publisher::IsValidSubject(subject)) {
      v.Add(v.Path("subjects", i),
            absl::StrCat("must follow the subject grammar: agreement/, hub/, site/, roadmap/ or "
                         "culture/ followed by a Slug, region/{code}, or regions/{code}:{code} "
                         "with two different codes in ascending order; got ",
                         publisher::QuoteValue(subject)));
    }
  }
}

bool IsSubjectChar(char c) { return absl::ascii_isalnum(c) || c == '/' || c == ':' || c == '-'; }

void CheckSubjectPrefixes(const coop::v1::EventFilter& filter, Violations& v) {
  v.CheckMaxEntries("subject_prefixes", filter.subject_prefixes_size(), kMaxEntries);
  for (int i = 0; i < filter.subject_prefixes_size(); ++i) {
    const std::string& prefix = filter.subject_prefixes(i);
    if (prefix.empty()) {
      v.Add(v.Path("subject_prefixes", i),
            "required: 1..200 characters of [A-Za-z0-9/:-] such as 'hub/'");
      continue;
    }
    // Code points: every byte except UTF-8 continuation bytes starts one.
    const size_t chars = std::count_if(prefix.begin(), prefix.end(), [](char c) {
      return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    });
    if (chars > kMaxPrefixChars) {
      v.Add(v.Path("subject_prefixes", i),
            absl::StrCat("must be at most 200 characters; got ", chars));
    }
    if (!std::all_of(prefix.begin(), prefix.end(), IsSubjectChar)) {
      v.Add(v.Path("subject_prefixes", i),
            absl::StrCat("must contain only characters of subjects, [A-Za-z0-9/:-]; got ",
                         publisher::QuoteValue(prefix)));
    }
  }
}

void CheckRegions(const coop::v1::EventFilter& filter, Violations& v) {
  v.CheckMaxEntries("regions", filter.regions_size(), kMaxEntries);
  for (int i = 0; i < filter.regions_size(); ++i) {
    const std::string& code = filter.regions(i).code();
    if (code.empty()) {
      v.Add(absl::StrCat(v.Path("regions", i), ".code"),
            absl::StrCat("required: ", kRegionCodeExpectation));
    } else if (!publisher::IsValidRegionCode(code)) {
      v.Add(
          absl::StrCat(v.Path("regions", i), ".code"),
          absl::StrCat("must be ", kRegionCodeExpectation, "; got ", publisher::QuoteValue(code)));
    }
  }
}

void CheckPartyIds(const coop::v1::EventFilter& filter, Violations& v) {
  v.CheckMaxEntries("party_ids", filter.party_ids_size(), kMaxEntries);
  for (int i = 0; i < filter.party_ids_size(); ++i) {
    const std::string& id = filter.party_ids(i);
    if (id.empty()) {
      v.Add(v.Path("party_ids", i), "required: a Slug such as 'mosreg-government'");
    } else if (!publisher::IsValidSlug(id)) {
      v.Add(v.Path("party_ids", i),
            absl::StrCat("must be a Slug: 1..64 characters matching ^[a-z0-9]+(-[a-z0-9]+)*$ "
                         "such as 'mosreg-government'; got ",
                         publisher::QuoteValue(id)));
    }
  }
}

// The message set in `message`'s oneof `oneof_name`, or nullptr when none is.
const Message* SetOneofMessage(const Message& message, const char* oneof_name) {
  const FieldDescriptor* field = message.GetReflection()->GetOneofFieldDescriptor(
      message, message.GetDescriptor()->FindOneofByName(oneof_name));
  if (field == nullptr) return nullptr;
  return &message.GetReflection()->GetMessage(message, field);
}

// Collects the RegionRef codes and Party ids below `payload` (the walk of auth::RegionCodesIn).
// A Party is walked on: its region is a RegionRef.
void Collect(const Message& payload, EventFacts& facts) {
  events::VisitMessages(payload, [&facts](const Message& message) {
    const google::protobuf::Descriptor* type = message.GetDescriptor();
    if (type == coop::v1::RegionRef::descriptor()) {
      const auto& region = static_cast<const coop::v1::RegionRef&>(message);
      if (!region.code().empty()) facts.region_codes.push_back(region.code());
      return false;
    }
    if (type == coop::v1::Party::descriptor()) {
      const auto& party = static_cast<const coop::v1::Party&>(message);
      if (!party.party_id().empty()) facts.party_ids.push_back(party.party_id());
    }
    return true;
  });
}

void SortUnique(std::vector<std::string>& list) {
  std::sort(list.begin(), list.end());
  list.erase(std::unique(list.begin(), list.end()), list.end());
}

}  // namespace

EventFacts FactsOf(const coop::v1::Event& event) {
  EventFacts facts;
  facts.subject = event.subject();
  const Message* payload = SetOneofMessage(event, "payload");
  if (payload == nullptr) return facts;
  facts.type = payload->GetDescriptor()->full_name();
  if (event.has_event_corrected()) {
    if (const Message* corrected = SetOneofMessage(event.event_corrected(), "corrected")) {
      facts.corrected_type = corrected->GetDescriptor()->full_name();
    }
  }
  Collect(*payload, facts);
  SortUnique(facts.region_codes);
  SortUnique(facts.party_ids);
  return facts;
}

absl::StatusOr<CompiledFilter> CompiledFilter::Compile(const coop::v1::EventFilter& filter,
                                                       absl::string_view field_prefix) {
  Violations violations(field_prefix);
  CheckTypes(filter, violations);
  CheckSubjects(filter, violations);
  CheckSubjectPrefixes(filter, violations);
  CheckRegions(filter, violations);
  CheckPartyIds(filter, violations);
  if (absl::Status status = violations.ToStatus(); !status.ok()) return status;

  CompiledFilter compiled;
  compiled.types_.insert(filter.types().begin(), filter.types().end());
  compiled.subjects_.insert(filter.subjects().begin(), filter.subjects().end());
  std::vector<std::string> prefixes(filter.subject_prefixes().begin(),
                                    filter.subject_prefixes().end());
  std::sort(prefixes.begin(), prefixes.end());
  // Sorted, every string that starts with a prefix comes right after it (or after another
  // string that starts with it), so comparing with the last one kept drops all of them.
  for (std::string& prefix : prefixes) {
    if (compiled.subject_prefixes_.empty() ||
        !absl::StartsWith(prefix, compiled.subject_prefixes_.back())) {
      compiled.subject_prefixes_.push_back(std::move(prefix));
    }
  }
  for (const coop::v1::RegionRef& region : filter.regions()) {
    compiled.regions_.insert(region.code());
  }
  compiled.party_ids_.insert(filter.party_ids().begin(), filter.party_ids().end());
  return compiled;
}

bool CompiledFilter::Matches(const EventFacts& facts) const {
  if (!types_.empty() && !types_.contains(facts.type)) return false;
  if (!subjects_.empty() || !subject_prefixes_.empty()) {
    const bool subject_matches = subjects_.contains(facts.subject) ||
                                 std::any_of(subject_prefixes_.begin(), subject_prefixes_.end(),
                                             [&facts](const std::string& prefix) {
                                               return absl::StartsWith(facts.subject, prefix);
                                             });
    if (!subject_matches) return false;
  }
  if (!regions_.empty()) {
    // The same coverage as auth::RegionCovers, by lookups: a listed code equal to the event's,
    // or the event's code is a subdivision ("KZ-19") and its country ("KZ") is listed.
    const bool region_matches = std::any_of(
        facts.region_codes.begin(), facts.region_codes.end(), [this](const std::string& code) {
          return regions_.contains(code) ||
                 (code.size() > 3 && code[2] == '-' &&
                  regions_.contains(absl::string_view(code).substr(0, 2)));
        });
    if (!region_matches) return false;
  }
  if (!party_ids_.empty()) {
    const bool party_matches =
        std::any_of(facts.party_ids.begin(), facts.party_ids.end(),
                    [this](const std::string& id) { return party_ids_.contains(id); });
    if (!party_matches) return false;
  }
  return true;
}

bool CompiledFilter::matches_everything() const {
  return types_.empty() && subjects_.empty() && subject_prefixes_.empty() && regions_.empty() &&
         party_ids_.empty();
}

bool MaySee(const auth::Principal& principal, const EventFacts& facts) {
  return auth::InSubscribeScope(principal, facts.type, facts.corrected_type, facts.region_codes);
}

}  // namespace coop::stream
