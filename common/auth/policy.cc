#include "common/auth/policy.h"

#include <cerrno>
#include <cstdio>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "coop/v1/envelope.pb.h"
#include "google/protobuf/util/json_util.h"
#include "policy.pb.h"

namespace coop::auth {
namespace {

constexpr size_t kMaxIdLength = 64;
constexpr size_t kMaxDisplayNameCharacters = 300;

// ^[a-z0-9]+(-[a-z0-9]+)*$
bool IsSlug(absl::string_view s) {
  if (s.empty() || s.front() == '-' || s.back() == '-') return false;
  char previous = '\0';
  for (char c : s) {
    if (c == '-') {
      if (previous == '-') return false;
    } else if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c)) {
      return false;
    }
    previous = c;
  }
  return true;
}

bool IsLowerHexSha256(absl::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

// ^[A-Z]{2}(-[A-Z0-9]{1,3})?$ (RegionRef.code in types.proto).
bool IsRegionCode(absl::string_view s) {
  if (s.size() < 2 || !absl::ascii_isupper(s[0]) || !absl::ascii_isupper(s[1])) return false;
  if (s.size() == 2) return true;
  if (s.size() < 4 || s.size() > 6 || s[2] != '-') return false;
  for (char c : s.substr(3)) {
    if (!absl::ascii_isupper(c) && !absl::ascii_isdigit(c)) return false;
  }
  return true;
}

size_t Utf8Characters(absl::string_view s) {
  size_t count = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) ++count;
  }
  return count;
}

// Full names of the messages of coop.v1.Event's payload oneof: the valid event types.
const absl::flat_hash_set<std::string>& PayloadTypes() {
  static const auto* const types = [] {
    auto* names = new absl::flat_hash_set<std::string>();
    const google::protobuf::OneofDescriptor* payload =
        coop::v1::Event::descriptor()->FindOneofByName("payload");
    for (int i = 0; i < payload->field_count(); ++i) {
      names->insert(payload->field(i)->message_type()->full_name());
    }
    return names;
  }();
  return *types;
}

// Collects every problem of a policy file, each naming where it is.
class Validator {
 public:
  void Check(const coop::auth::v1::PolicyFile& file) {
    if (file.principals().empty()) {
      problems_.push_back("principals: at least one principal is required");
    }
    for (int i = 0; i < file.principals_size(); ++i) {
      CheckPrincipal(i, file.principals(i));
    }
  }

  const std::vector<std::string>& problems() const { return problems_; }

 private:
  static std::string Where(int index, const coop::auth::v1::PrincipalConfig& config) {
    std::string where = absl::StrCat("principals[", index, "]");
    if (IsSlug(config.id()) && config.id().size() <= kMaxIdLength) {
      absl::StrAppend(&where, " '", config.id(), "'");
    }
    return where;
  }

  void Problem(const std::string& where, absl::string_view field, absl::string_view what) {
    problems_.push_back(absl::StrCat(where, ": ", field, ": ", what));
  }

  void CheckPrincipal(int index, const coop::auth::v1::PrincipalConfig& config) {
    const std::string where = Where(index, config);
    if (!IsSlug(config.id()) || config.id().size() > kMaxIdLength) {
      Problem(where, "id",
              absl::StrCat("'", config.id(),
                           "' is not a Slug of at most 64 characters "
                           "(lower-case letters and digits, single '-' between them)"));
    } else if (auto [it, inserted] = ids_.emplace(config.id(), index); !inserted) {
      Problem(where, "id",
              absl::StrCat("'", config.id(), "' is also the id of principals[", it->second, "]"));
    }
    const size_t name_length = Utf8Characters(config.display_name());
    if (name_length == 0 || name_length > kMaxDisplayNameCharacters) {
      Problem(where, "display_name", "must have 1..300 characters");
    }
    for (int k = 0; k < config.api_key_sha256_hashes_size(); ++k) {
      const std::string field = absl::StrCat("api_key_sha256_hashes[", k, "]");
      const std::string& hash = config.api_key_sha256_hashes(k);
      if (!IsLowerHexSha256(hash)) {
        Problem(where, field,
                absl::StrCat("must be 64 lowercase hex digits (the SHA-256 of the key, never the "
                             "key itself), got ",
                             hash.size(), " characters"));
      } else if (auto [it, inserted] = key_hashes_.emplace(hash, where + " " + field); !inserted) {
        Problem(where, field, absl::StrCat("the same hash is at ", it->second));
      }
    }
    for (int k = 0; k < config.client_cert_subjects_size(); ++k) {
      const std::string field = absl::StrCat("client_cert_subjects[", k, "]");
      const std::string& subject = config.client_cert_subjects(k);
      if (subject.empty()) {
        Problem(where, field, "must not be empty");
      } else if (auto [it, inserted] = subjects_.emplace(subject, where + " " + field); !inserted) {
        Problem(where, field, absl::StrCat("'", subject, "' is also at ", it->second));
      }
    }
    if (config.has_publish()) CheckScope(where, "publish", config.publish());
    if (config.has_subscribe()) CheckScope(where, "subscribe", config.subscribe());
  }

  void CheckScope(const std::string& where, absl::string_view name,
                  const coop::auth::v1::ScopeConfig& scope) {
    if (scope.event_types().empty()) {
      Problem(where, absl::StrCat(name, ".event_types"),
              absl::StrCat("must not be empty (use \"*\" for every type, or leave out ", name,
                           " altogether)"));
    }
    absl::flat_hash_set<absl::string_view> seen;
    for (int k = 0; k < scope.event_types_size(); ++k) {
      const std::string& type = scope.event_types(k);
      const std::string field = absl::StrCat(name, ".event_types[", k, "]");
      if (type != kAnyInScope && !PayloadTypes().contains(type)) {
        Problem(where, field,
                absl::StrCat("'", type,
                             "' is not an event type (a payload of coop.v1.Event such as "
                             "\"coop.v1.HubMilestone\", or \"*\")"));
      } else if (!seen.insert(type).second) {
        Problem(where, field, absl::StrCat("'", type, "' is listed twice"));
      }
    }
    if (scope.regions().empty()) {
      Problem(where, absl::StrCat(name, ".regions"),
              absl::StrCat("must not be empty (use \"*\" for every region, or leave out ", name,
                           " altogether)"));
    }
    seen.clear();
    for (int k = 0; k < scope.regions_size(); ++k) {
      const std::string& region = scope.regions(k);
      const std::string field = absl::StrCat(name, ".regions[", k, "]");
      if (region != kAnyInScope && !IsRegionCode(region)) {
        Problem(where, field,
                absl::StrCat("'", region,
                             "' is not an ISO 3166-2 code (\"RU-MOS\"), an ISO 3166-1 alpha-2 "
                             "code (\"KZ\") or \"*\""));
      } else if (!seen.insert(region).second) {
        Problem(where, field, absl::StrCat("'", region, "' is listed twice"));
      }
    }
  }

  std::vector<std::string> problems_;
  absl::flat_hash_map<std::string, int> ids_;
  // Value: where the entry was first seen.
  absl::flat_hash_map<std::string, std::string> key_hashes_;
  absl::flat_hash_map<std::string, std::string> subjects_;
};

Scope ToScope(const coop::auth::v1::ScopeConfig& config) {
  return Scope{
      .event_types = {config.event_types().begin(), config.event_types().end()},
      .regions = {config.regions().begin(), config.regions().end()},
  };
}

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

}  // namespace

absl::StatusOr<Policy> Policy::Load(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot open policy file '", path, "'"));
  }
  std::string json;
  char buffer[8192];
  size_t read = 0;
  while ((read = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) {
    json.append(buffer, read);
  }
  if (std::ferror(file.get())) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot read policy file '", path, "'"));
  }
  absl::StatusOr<Policy> policy = Parse(json);
  if (!policy.ok()) {
    return absl::Status(policy.status().code(),
                        absl::StrCat("policy file '", path, "': ", policy.status().message()));
  }
  return policy;
}

absl::StatusOr<Policy> Policy::Parse(absl::string_view json) {
  coop::auth::v1::PolicyFile file;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  if (auto status = google::protobuf::util::JsonStringToMessage(std::string(json), &file, options);
      !status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a valid policy file: ", std::string(status.message())));
  }
  Validator validator;
  validator.Check(file);
  if (!validator.problems().empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(validator.problems(), "; "));
  }

  Policy policy;
  policy.principals_.reserve(file.principals_size());
  for (const coop::auth::v1::PrincipalConfig& config : file.principals()) {
    const size_t index = policy.principals_.size();
    Principal& principal = policy.principals_.emplace_back();
    principal.id = config.id();
    principal.display_name = config.display_name();
    if (config.has_publish()) principal.publish = ToScope(config.publish());
    if (config.has_subscribe()) principal.subscribe = ToScope(config.subscribe());
    principal.is_operator = config.operator_();
    policy.by_id_.emplace(config.id(), index);
    for (const std::string& hash : config.api_key_sha256_hashes()) {
      policy.by_api_key_sha256_.emplace(hash, index);
    }
    for (const std::string& subject : config.client_cert_subjects()) {
      policy.by_cert_subject_.emplace(subject, index);
    }
  }
  return policy;
}

const Principal* Policy::FindById(absl::string_view id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &principals_[it->second];
}

const Principal* Policy::FindByApiKeySha256(absl::string_view sha256_hex) const {
  auto it = by_api_key_sha256_.find(sha256_hex);
  return it == by_api_key_sha256_.end() ? nullptr : &principals_[it->second];
}

const Principal* Policy::FindByCertSubject(absl::string_view subject) const {
  auto it = by_cert_subject_.find(subject);
  return it == by_cert_subject_.end() ? nullptr : &principals_[it->second];
}

}  // namespace coop::auth
