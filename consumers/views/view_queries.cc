#include "consumers/views/view_queries.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "common/auth/scope.h"
#include "common/rpc/status_conversion.h"
#include "common/status_macros.h"
#include "consumers/views/calendar.h"
#include "consumers/views/projector.h"
#include "coop/v1/envelope.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace coop::views {
namespace {

using google::protobuf::Message;
using sql::Row;
using sql::Value;

constexpr int kMaxSlugChars = 64;
constexpr int kMaxSubjectChars = 200;
constexpr int kMaxSubjectPrefixChars = 200;
constexpr int kMaxCategoryNameChars = 300;
constexpr int kMaxFilterTypes = 32;
constexpr int kMaxFilterEntries = 100;
constexpr int64_t kMinTimestampSeconds = -62'135'596'800;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxTimestampSeconds = 253'402'300'799;  // 9999-12-31T23:59:59Z

// The field violations of one request, in the order found.
class Violations {
 public:
  void Add(std::string field, std::string description) {
    list_.emplace_back(std::move(field), std::move(description));
  }
  absl::Status ToStatus() const {
    if (list_.empty()) return absl::OkStatus();
    // "page_size must not be negative ...": the descriptions read as a predicate of the field.
    const std::string first = absl::StrCat(list_.front().first, " ", list_.front().second);
    return rpc::InvalidArgumentWithViolations(
        list_.size() == 1 ? first : absl::StrCat(list_.size(), " invalid fields; first: ", first),
        list_);
  }

 private:
  std::vector<std::pair<std::string, std::string>> list_;
};

// A value for a description: quoted, at most 64 bytes, bytes outside printable ASCII escaped so
// that the description is always valid UTF-8.
std::string Quote(absl::string_view value) {
  constexpr size_t kMaxQuotedBytes = 64;
  const bool cut = value.size() > kMaxQuotedBytes;
  return absl::StrCat("'", absl::CHexEscape(value.substr(0, kMaxQuotedBytes)), cut ? "…" : "", "'");
}

bool IsSlug(absl::string_view value) {
  if (value.empty() || value.size() > kMaxSlugChars) return false;
  bool after_dash = true;  // No leading dash, no two dashes in a row.
  for (char c : value) {
    if (c == '-') {
      if (after_dash) return false;
      after_dash = true;
    } else if (absl::ascii_islower(c) || absl::ascii_isdigit(c)) {
      after_dash = false;
    } else {
      return false;
    }
  }
  return !after_dash;
}

bool IsCountryCode(absl::string_view code) {
  return code.size() == 2 && absl::ascii_isupper(code[0]) && absl::ascii_isupper(code[1]);
}

// ^[A-Z]{2}(-[A-Z0-9]{1,3})?$
bool IsRegionCode(absl::string_view code) {
  if (IsCountryCode(code)) return true;
  if (code.size() < 4 || code.size() > 6 || !IsCountryCode(code.substr(0, 2)) || code[2] != '-') {
    return false;
  }
  return std::all_of(code.begin() + 3, code.end(),
                     [](char c) { return absl::ascii_isupper(c) || absl::ascii_isdigit(c); });
}

// The subject grammar of envelope.proto.
bool IsSubject(absl::string_view subject) {
  if (subject.size() > kMaxSubjectChars) return false;
  for (absl::string_view kind : {"agreement/", "hub/", "site/", "roadmap/", "culture/"}) {
    if (absl::ConsumePrefix(&subject, kind)) return IsSlug(subject);
  }
  if (absl::ConsumePrefix(&subject, "region/")) return IsRegionCode(subject);
  if (!absl::ConsumePrefix(&subject, "regions/")) return false;
  const size_t colon = subject.find(':');
  if (colon == absl::string_view::npos) return false;
  const absl::string_view a = subject.substr(0, colon);
  const absl::string_view b = subject.substr(colon + 1);
  return IsRegionCode(a) && IsRegionCode(b) && a < b;
}

bool IsSubjectPrefix(absl::string_view prefix) {
  return !prefix.empty() && prefix.size() <= kMaxSubjectPrefixChars &&
         std::all_of(prefix.begin(), prefix.end(), [](char c) {
           return absl::ascii_isalnum(c) || c == '/' || c == ':' || c == '-';
         });
}

// The payload types of the contract: the messages of Event.payload.
bool IsPayloadType(absl::string_view type) {
  const google::protobuf::OneofDescriptor* payload =
      coop::v1::Event::descriptor()->FindOneofByName("payload");
  for (int i = 0; i < payload->field_count(); ++i) {
    if (payload->field(i)->message_type()->full_name() == type) return true;
  }
  return false;
}

void CheckSlug(Violations& v, const std::string& field, absl::string_view value, bool required) {
  if (value.empty()) {
    if (required) v.Add(field, "required: a Slug such as 'selyatino'");
    return;
  }
  if (!IsSlug(value)) {
    v.Add(field, absl::StrCat("must be a Slug: 1..64 characters matching "
                              "^[a-z0-9]+(-[a-z0-9]+)*$ such as 'selyatino'; got ",
                              Quote(value)));
  }
}

// A RegionRef filter: when the message is present its code must be valid.
void CheckRegion(Violations& v, const std::string& field, const coop::v1::RegionRef& region,
                 bool country_only) {
  const std::string code_field = absl::StrCat(field, ".code");
  if (region.code().empty()) {
    v.Add(code_field, country_only ? "required: an ISO 3166-1 alpha-2 code such as KZ"
                                   : "required: an ISO 3166-2 code such as RU-MOS or an "
                                     "ISO 3166-1 alpha-2 code such as KZ");
  } else if (country_only && !IsCountryCode(region.code())) {
    v.Add(code_field, absl::StrCat("must be an ISO 3166-1 alpha-2 code matching ^[A-Z]{2}$ "
                                   "such as KZ; got ",
                                   Quote(region.code())));
  } else if (!IsRegionCode(region.code())) {
    v.Add(code_field, absl::StrCat("must be an ISO 3166-2 code such as RU-MOS or an ISO 3166-1 "
                                   "alpha-2 code such as KZ (^[A-Z]{2}(-[A-Z0-9]{1,3})?$); got ",
                                   Quote(region.code())));
  }
}

void CheckEnum(Violations& v, const std::string& field, int value, bool (*is_valid)(int),
               const google::protobuf::EnumDescriptor* descriptor) {
  if (!is_valid(value)) {
    v.Add(field, absl::StrCat("must be a value of ", descriptor->full_name(), "; got ", value));
  }
}

int DaysInMonth(int year, int month) {
  const absl::CivilMonth first(year, month);
  return static_cast<int>(absl::CivilDay(first + 1) - absl::CivilDay(first));
}

// False when the date is not valid (its violations are added).
bool CheckPartialDate(Violations& v, const std::string& field, const coop::v1::PartialDate& date) {
  bool ok = true;
  if (date.year() < 1900 || date.year() > 2200) {
    v.Add(absl::StrCat(field, ".year"), absl::StrCat("must be 1900..2200; got ", date.year()));
    ok = false;
  }
  if (date.month() < 0 || date.month() > 12) {
    v.Add(absl::StrCat(field, ".month"),
          absl::StrCat("must be 1..12, or 0 when unknown; got ", date.month()));
    return false;
  }
  if (date.day() != 0) {
    if (date.month() == 0) {
      v.Add(absl::StrCat(field, ".day"), "must be 0 when month is 0 (unknown)");
      return false;
    }
    if (!ok) return false;
    const int last = DaysInMonth(date.year(), date.month());
    if (date.day() < 1 || date.day() > last) {
      v.Add(absl::StrCat(field, ".day"),
            absl::StrCat("must be 1..", last, " for ", date.year(), "-", date.month(),
                         ", or 0 when unknown; got ", date.day()));
      return false;
    }
  }
  return ok;
}

// A Period filter (present): start required, both ends valid, end not before start.
void CheckPeriod(Violations& v, const std::string& field, const coop::v1::Period& period) {
  bool ok = true;
  if (!period.has_start()) {
    v.Add(absl::StrCat(field, ".start"), "required: the first calendar unit of the period");
    ok = false;
  } else {
    ok = CheckPartialDate(v, absl::StrCat(field, ".start"), period.start());
  }
  if (period.has_end()) {
    const bool end_ok = CheckPartialDate(v, absl::StrCat(field, ".end"), period.end());
    if (ok && end_ok && LastDay(period.end()) < FirstDay(period.start())) {
      v.Add(absl::StrCat(field, ".end"),
            absl::StrCat("must not end before the period starts; ", DateLabel(period.end()),
                         " ends before ", DateLabel(period.start()), " starts"));
    }
  }
}

// False when invalid (a violation is added).
bool CheckTimestamp(Violations& v, const std::string& field,
                    const google::protobuf::Timestamp& time) {
  if (time.seconds() < kMinTimestampSeconds || time.seconds() > kMaxTimestampSeconds ||
      time.nanos() < 0 || time.nanos() > 999'999'999) {
    v.Add(field, absl::StrCat("must be a valid timestamp between 0001-01-01T00:00:00Z and "
                              "9999-12-31T23:59:59.999999999Z; got seconds ",
                              time.seconds(), " nanos ", time.nanos()));
    return false;
  }
  return true;
}

// The next code point of `text` at `*pos` (advanced past it), or nullopt for invalid UTF-8.
std::optional<char32_t> NextCodePoint(absl::string_view text, size_t* pos) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(*pos);
  int length;
  char32_t c;
  if (lead < 0x80) {
    ++*pos;
    return lead;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2;
    c = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    c = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    c = lead & 0x07;
  } else {
    return std::nullopt;
  }
  if (*pos + length > text.size()) return std::nullopt;
  for (int i = 1; i < length; ++i) {
    if ((byte(*pos + i) & 0xC0) != 0x80) return std::nullopt;
    c = (c << 6) | (byte(*pos + i) & 0x3F);
  }
  static constexpr char32_t kMinOfLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < kMinOfLength[length] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
    return std::nullopt;
  }
  *pos += length;
  return c;
}

// Text(1..max_chars) of types.proto, single line; empty means unset.
void CheckText(Violations& v, const std::string& field, absl::string_view value, int max_chars) {
  if (value.empty()) return;
  int chars = 0;
  char32_t first = 0, last = 0;
  bool control = false;
  for (size_t pos = 0; pos < value.size();) {
    const std::optional<char32_t> c = NextCodePoint(value, &pos);
    if (!c.has_value()) {
      v.Add(field, "must be valid UTF-8");
      return;
    }
    if (chars++ == 0) first = *c;
    last = *c;
    if (*c <= 0x1F || (*c >= 0x7F && *c <= 0x9F)) control = true;
  }
  if (chars > max_chars) {
    v.Add(field, absl::StrCat("must be 1..", max_chars, " characters; got ", chars));
  }
  if (control) v.Add(field, "must not contain control characters");
  const auto edge_space = [](char32_t c) { return c == 0x20 || c == 0xA0; };
  if (edge_space(first) || edge_space(last)) {
    v.Add(field, "must not begin or end with a space (U+0020) or a no-break space (U+00A0)");
  }
}

void CheckPageSize(Violations& v, int32_t page_size) {
  if (page_size < 0) {
    v.Add("page_size",
          absl::StrCat("must not be negative (0 means ", kDefaultPageSize, "); got ", page_size));
  }
}

int64_t EffectivePageSize(int32_t page_size) {
  if (page_size == 0) return kDefaultPageSize;
  return std::min(page_size, kMaxPageSize);
}

void CheckFilter(Violations& v, const coop::v1::EventFilter& filter) {
  if (filter.types_size() > kMaxFilterTypes) {
    v.Add("filter.types",
          absl::StrCat("must hold at most ", kMaxFilterTypes, " types; got ", filter.types_size()));
  }
  for (int i = 0; i < filter.types_size(); ++i) {
    const std::string& type = filter.types(i);
    const std::string field = absl::StrCat("filter.types[", i, "]");
    if (!IsPayloadType(type)) {
      v.Add(field, absl::StrCat("must be the full name of an event payload type such as "
                                "'coop.v1.HubMilestone'; got ",
                                Quote(type)));
    } else if (std::find(filter.types().begin(), filter.types().begin() + i, type) !=
               filter.types().begin() + i) {
      v.Add(field, absl::StrCat("repeats ", Quote(type), "; types must be unique"));
    }
  }
  if (filter.subjects_size() > kMaxFilterEntries) {
    v.Add("filter.subjects", absl::StrCat("must hold at most ", kMaxFilterEntries,
                                          " subjects; got ", filter.subjects_size()));
  }
  for (int i = 0; i < filter.subjects_size(); ++i) {
    if (!IsSubject(filter.subjects(i))) {
      v.Add(absl::StrCat("filter.subjects[", i, "]"),
            absl::StrCat("must follow the subject grammar (envelope.proto), e.g. "
                         "'hub/selyatino' or 'regions/KZ-19:RU-MOS'; got ",
                         Quote(filter.subjects(i))));
    }
  }
  if (filter.subject_prefixes_size() > kMaxFilterEntries) {
    v.Add("filter.subject_prefixes",
          absl::StrCat("must hold at most ", kMaxFilterEntries, " prefixes; got ",
                       filter.subject_prefixes_size()));
  }
  for (int i = 0; i < filter.subject_prefixes_size(); ++i) {
    if (!IsSubjectPrefix(filter.subject_prefixes(i))) {
      v.Add(absl::StrCat("filter.subject_prefixes[", i, "]"),
            absl::StrCat("must be 1..", kMaxSubjectPrefixChars,
                         " characters of [A-Za-z0-9/:-], e.g. 'hub/'; got ",
                         Quote(filter.subject_prefixes(i))));
    }
  }
  if (filter.regions_size() > kMaxFilterEntries) {
    v.Add("filter.regions", absl::StrCat("must hold at most ", kMaxFilterEntries, " regions; got ",
                                         filter.regions_size()));
  }
  for (int i = 0; i < filter.regions_size(); ++i) {
    CheckRegion(v, absl::StrCat("filter.regions[", i, "]"), filter.regions(i), false);
  }
  if (filter.party_ids_size() > kMaxFilterEntries) {
    v.Add("filter.party_ids", absl::StrCat("must hold at most ", kMaxFilterEntries,
                                           " party ids; got ", filter.party_ids_size()));
  }
  for (int i = 0; i < filter.party_ids_size(); ++i) {
    CheckSlug(v, absl::StrCat("filter.party_ids[", i, "]"), filter.party_ids(i), true);
  }
}

// Page tokens: base64url of the byte 'p', a version byte, the request fingerprint (8 bytes,
// little endian) and the key parts, each as a varint length and its bytes.

constexpr char kTokenMagic = 'p';
constexpr char kTokenVersion = 1;

// FNV-1a over the request type and its deterministic serialization without the fields that may
// change between pages. Stable across processes and builds of the same schema, so that a token
// survives a restart or another server of the deployment.
uint64_t Fingerprint(const Message& request) {
  std::unique_ptr<Message> copy(request.New());
  copy->CopyFrom(request);
  const google::protobuf::Descriptor* descriptor = copy->GetDescriptor();
  for (const char* name : {"page_token", "page_size", "min_position"}) {
    if (const google::protobuf::FieldDescriptor* field = descriptor->FindFieldByName(name)) {
      copy->GetReflection()->ClearField(copy.get(), field);
    }
  }
  std::string bytes = descriptor->full_name();
  bytes.push_back('\0');
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    copy->SerializeToCodedStream(&coded);
  }
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string KeyText(const Value& value) {
  if (const int64_t* n = std::get_if<int64_t>(&value)) return absl::StrCat(*n);
  return sql::AsString(value);
}

std::string EncodePageToken(const Message& request, const Row& key) {
  std::string raw = {kTokenMagic, kTokenVersion};
  uint64_t fingerprint = Fingerprint(request);
  for (int i = 0; i < 8; ++i) raw.push_back(static_cast<char>((fingerprint >> (8 * i)) & 0xFF));
  for (const Value& value : key) {
    const std::string text = KeyText(value);
    for (uint64_t n = text.size(); true; n >>= 7) {
      if (n < 0x80) {
        raw.push_back(static_cast<char>(n));
        break;
      }
      raw.push_back(static_cast<char>((n & 0x7F) | 0x80));
    }
    raw += text;
  }
  return absl::WebSafeBase64Escape(raw);
}

// The key a page token holds: nullopt for an empty token; INVALID_ARGUMENT (message: the
// description of the violation) for a malformed or foreign one. `int_parts[i]` says whether
// part i is an integer.
absl::StatusOr<std::optional<Row>> DecodePageToken(const Message& request, absl::string_view token,
                                                   const std::vector<bool>& int_parts) {
  if (token.empty()) return std::nullopt;
  const absl::Status malformed = absl::InvalidArgumentError(
      "is malformed: pass the next_page_token of the previous response unchanged");
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) || raw.size() < 10 || raw[0] != kTokenMagic ||
      raw[1] != kTokenVersion) {
    return malformed;
  }
  uint64_t fingerprint = 0;
  for (int i = 0; i < 8; ++i) {
    fingerprint |= static_cast<uint64_t>(static_cast<unsigned char>(raw[2 + i])) << (8 * i);
  }
  Row key;
  size_t pos = 10;
  for (bool is_int : int_parts) {
    uint64_t length = 0;
    for (int shift = 0;; shift += 7) {
      if (pos >= raw.size() || shift > 28) return malformed;
      const unsigned char b = static_cast<unsigned char>(raw[pos++]);
      length |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) break;
    }
    if (length > raw.size() - pos) return malformed;
    std::string text = raw.substr(pos, length);
    pos += length;
    if (is_int) {
      int64_t n;
      if (!absl::SimpleAtoi(text, &n)) return malformed;
      key.emplace_back(n);
    } else {
      key.emplace_back(std::move(text));
    }
  }
  if (pos != raw.size()) return malformed;
  if (fingerprint != Fingerprint(request)) {
    return absl::InvalidArgumentError(
        "does not belong to this request: a page token is valid only with the request it came "
        "from, with every field but page_token, page_size and min_position unchanged");
  }
  return key;
}

// "page_token does not belong to this request" etc., as a violation of field page_token.
void CheckPageToken(Violations& v, const Message& request, absl::string_view token,
                    const std::vector<bool>& int_parts) {
  absl::StatusOr<std::optional<Row>> key = DecodePageToken(request, token, int_parts);
  if (!key.ok()) v.Add("page_token", std::string(key.status().message()));
}

const std::vector<bool> kTextKey = {false};
const std::vector<bool> kAgreementKey = {false, false};
const std::vector<bool> kTimelineKey = {true, true, true};

// One statement being built: its text and the parameters its placeholders name.
struct Statement {
  std::string text;
  std::vector<Value> params;

  // Adds a parameter; returns its placeholder ("$3").
  std::string Bind(Value value) {
    params.push_back(std::move(value));
    return absl::StrCat("$", params.size());
  }
};

// A condition of a WHERE clause, binding its parameters into the statement being built.
using Condition = std::function<std::string(Statement&)>;

// One list: the rows of `table` in the order of `key_columns`, from a page token's key on.
struct Scan {
  std::string table;
  std::vector<std::string> key_columns;
  // Further columns selected after the key columns (a row of the page holds the key columns,
  // then these).
  std::string columns;
  // Conditions served by an index in key order, e.g. "country = $1" of (country, hub_id). A row
  // is listed when one of them holds; each is read as its own ordered stream and the streams
  // are merged (only with a single key column). Empty: the whole table, by its key.
  std::vector<Condition> streams;
  // Further bounds served by the same index (on its leading column), ANDed.
  std::vector<Condition> ranges;
  // Conditions no index serves in key order, ANDed: checked on the rows as they are read.
  std::vector<Condition> residual;
};

struct Page {
  std::vector<Row> rows;
  // The key to continue after; unset when the list is complete.
  std::optional<Row> next_key;
};

int CompareValues(const Value& a, const Value& b) {
  if (std::holds_alternative<int64_t>(a) && std::holds_alternative<int64_t>(b)) {
    const int64_t x = std::get<int64_t>(a), y = std::get<int64_t>(b);
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  // Text compares bytewise, as the key columns do (COLLATE "C" in PostgreSQL).
  const int c = sql::AsString(a).compare(sql::AsString(b));
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

bool KeyLess(const Row& a, const Row& b, size_t key_size) {
  for (size_t i = 0; i < key_size; ++i) {
    const int c = CompareValues(a[i], b[i]);
    if (c != 0) return c < 0;
  }
  return false;
}

// Reads one page of `scan` after `after` (nullopt: from the start).
//
// Without residual conditions each stream is read from the key on with LIMIT page_size + 1: an
// index seek and a short range. With residual conditions the rows read are bounded first: the
// frontier is the max_scanned_rows-th key of each stream (an index-only read) and the smallest
// of them bounds every stream; each stream's rows up to it are read in key order and checked,
// and when the page is not full by then the next page continues after the frontier.
absl::StatusOr<Page> ReadPage(sql::Connection& connection, const Scan& scan,
                              const std::optional<Row>& after, int64_t page_size,
                              int64_t max_scanned_rows) {
  const size_t key_size = scan.key_columns.size();
  const std::string key_list = absl::StrJoin(scan.key_columns, ", ");
  const auto key_compare = [&](Statement& s, absl::string_view op, const Row& key) {
    std::vector<std::string> values;
    for (size_t i = 0; i < key_size; ++i) values.push_back(s.Bind(key[i]));
    if (key_size == 1) return absl::StrCat(scan.key_columns[0], " ", op, " ", values[0]);
    return absl::StrCat("(", key_list, ") ", op, " (", absl::StrJoin(values, ", "), ")");
  };
  // The conditions an index serves: the stream, the ranges and the bounds of the page.
  const auto where = [&](Statement& s, const Condition* stream, const std::optional<Row>& upper) {
    std::vector<std::string> terms;
    if (stream != nullptr) terms.push_back((*stream)(s));
    for (const Condition& range : scan.ranges) terms.push_back(range(s));
    if (after.has_value()) terms.push_back(key_compare(s, ">", *after));
    if (upper.has_value()) terms.push_back(key_compare(s, "<=", *upper));
    return terms.empty() ? std::string() : absl::StrCat(" WHERE ", absl::StrJoin(terms, " AND "));
  };
  std::vector<const Condition*> streams;
  for (const Condition& stream : scan.streams) streams.push_back(&stream);
  if (streams.empty()) streams.push_back(nullptr);

  std::optional<Row> frontier;
  if (!scan.residual.empty()) {
    for (const Condition* stream : streams) {
      Statement s;
      s.text = absl::StrCat("SELECT ", key_list, " FROM ", scan.table,
                            where(s, stream, std::nullopt), " ORDER BY ", key_list);
      // A literal, not a parameter: PostgreSQL's generic plans guess unknown offsets, and the
      // limit is one value per server.
      s.text += absl::StrCat(" LIMIT 1 OFFSET ", max_scanned_rows - 1);
      COOP_ASSIGN_OR_RETURN(std::vector<Row> rows, connection.Query(s.text, s.params));
      if (!rows.empty() && (!frontier.has_value() || KeyLess(rows[0], *frontier, key_size))) {
        frontier = std::move(rows[0]);
      }
    }
  }
  Page page;
  for (const Condition* stream : streams) {
    Statement s;
    if (scan.residual.empty()) {
      s.text = absl::StrCat("SELECT ", key_list, ", ", scan.columns, " FROM ", scan.table,
                            where(s, stream, frontier), " ORDER BY ", key_list);
    } else {
      // The rows read are a subquery with its own LIMIT, named like the table so that the
      // residual conditions read its columns. Neither database flattens a subquery with a
      // LIMIT into the outer query, so the plan stays "read these rows in key order, then
      // check them", whatever the planner estimates for the residual conditions (PostgreSQL
      // would otherwise drive a facet filter from the facets table: all rows of that value).
      s.text = absl::StrCat("SELECT ", key_list, ", ", scan.columns, " FROM (SELECT * FROM ",
                            scan.table, where(s, stream, frontier), " ORDER BY ", key_list,
                            " LIMIT ", max_scanned_rows, ") AS ", scan.table);
      std::vector<std::string> terms;
      for (const Condition& condition : scan.residual) terms.push_back(condition(s));
      absl::StrAppend(&s.text, " WHERE ", absl::StrJoin(terms, " AND "), " ORDER BY ", key_list);
    }
    s.text += absl::StrCat(" LIMIT ", s.Bind(page_size + 1));
    COOP_ASSIGN_OR_RETURN(std::vector<Row> rows, connection.Query(s.text, s.params));
    for (Row& row : rows) page.rows.push_back(std::move(row));
  }
  if (streams.size() > 1) {
    const auto less = [&](const Row& a, const Row& b) { return KeyLess(a, b, key_size); };
    std::sort(page.rows.begin(), page.rows.end(), less);
    page.rows.erase(
        std::unique(page.rows.begin(), page.rows.end(),
                    [&](const Row& a, const Row& b) { return !less(a, b) && !less(b, a); }),
        page.rows.end());
  }
  if (static_cast<int64_t>(page.rows.size()) > page_size) {
    page.rows.resize(page_size);
    page.next_key = Row(page.rows.back().begin(), page.rows.back().begin() + key_size);
  } else if (frontier.has_value()) {
    page.next_key = std::move(frontier);
  }
  return page;
}

// Padding for lists of filter values: conditions over a list are written for a power-of-two
// number of values (the last value repeated), so that the statements prepared per connection
// stay few whatever list lengths clients send.
std::vector<std::string> Padded(std::vector<std::string> values) {
  size_t size = 1;
  while (size < values.size()) size *= 2;
  if (!values.empty()) values.resize(size, values.back());
  return values;
}

template <typename Doc>
absl::StatusOr<Doc> ParseDoc(const Value& value, absl::string_view what) {
  Doc doc;
  if (!doc.ParseFromString(sql::AsString(value))) {
    return absl::DataLossError(absl::StrCat("the stored ", what, " does not parse"));
  }
  return doc;
}

google::protobuf::Timestamp TimestampOfMillis(int64_t ms) {
  google::protobuf::Timestamp ts;
  int64_t seconds = ms / 1000;
  int64_t millis = ms % 1000;
  if (millis < 0) {
    millis += 1000;
    --seconds;
  }
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(millis) * 1'000'000);
  return ts;
}

// The first whole millisecond at or after `time` (recorded times have millisecond precision).
int64_t CeilMillis(const google::protobuf::Timestamp& time) {
  return time.seconds() * 1000 + (time.nanos() + 999'999) / 1'000'000;
}

std::string HasFacet(Statement& s, absl::string_view view, absl::string_view facet, Value value,
                     absl::string_view entity_column) {
  // A scalar subquery, not EXISTS: PostgreSQL turns EXISTS into a semi-join that may read every
  // facet row of the value; this stays one primary-key probe per row read.
  return absl::StrCat("(SELECT COUNT(*) FROM facets f WHERE f.view = '", view, "' AND f.facet = '",
                      facet, "' AND f.value = ", s.Bind(std::move(value)),
                      " AND f.entity_id = ", entity_column, ") > 0");
}

absl::Status AddAgreementIds(sql::Connection& connection, coop::v1::Hub& hub) {
  COOP_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      connection.Query("SELECT entity_id FROM facets WHERE view = 'agreement' AND facet = 'hub' "
                       "AND value = $1",
                       {Value(hub.hub_id())}));
  std::vector<std::string> ids(hub.agreement_ids().begin(), hub.agreement_ids().end());
  for (const Row& row : rows) ids.push_back(sql::AsString(row[0]));
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  hub.clear_agreement_ids();
  for (std::string& id : ids) hub.add_agreement_ids(std::move(id));
  return absl::OkStatus();
}

double MoneyValue(const coop::v1::Money& money) {
  return static_cast<double>(money.units()) + static_cast<double>(money.nanos()) * 1e-9;
}

// Sets growth_vs_previous of `row` from the row of the previous period, if there is one.
// `series` holds the row's reporting_region, partner_region, direction and category_key.
absl::Status AddGrowthVsPrevious(sql::Connection& connection, const Value* series,
                                 coop::v1::TradeRow& row) {
  row.clear_growth_vs_previous();
  if (row.values().empty()) return absl::OkStatus();
  const coop::v1::Period previous = PreviousPeriod(row.period());
  COOP_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      connection.Query(
          "SELECT doc FROM trade_rows WHERE reporting_region = $1 AND "
          "partner_region = $2 AND direction = $3 AND category_key = $4 AND "
          "period_to = $5 AND period = $6 AND period_from = $7",
          {series[0], series[1], series[2], series[3], Value(DayText(PeriodLastDay(previous))),
           Value(PeriodLabel(previous)), Value(DayText(PeriodFirstDay(previous)))}));
  if (rows.empty()) return absl::OkStatus();
  COOP_ASSIGN_OR_RETURN(coop::v1::TradeRow before,
                        ParseDoc<coop::v1::TradeRow>(rows[0][0], "trade row"));
  for (const coop::v1::Money& value : row.values()) {
    for (const coop::v1::Money& old : before.values()) {
      if (old.currency_code() != value.currency_code()) continue;
      coop::v1::PeriodGrowth* growth = row.add_growth_vs_previous();
      growth->set_currency_code(value.currency_code());
      const double base = MoneyValue(old);
      if (base != 0) growth->set_ratio(MoneyValue(value) / base);
      *growth->mutable_previous_period() = before.period();
      *growth->mutable_previous_value() = old;
    }
  }
  return absl::OkStatus();
}

// Sums money per currency exactly (in nanos, 128 bits).
class MoneySum {
 public:
  void Add(const std::string& currency, int64_t units, int64_t nanos) {
    totals_.emplace_back(currency, absl::int128(units) * 1'000'000'000 + nanos);
  }
  absl::StatusOr<std::vector<coop::v1::Money>> Totals() {
    std::sort(totals_.begin(), totals_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<coop::v1::Money> out;
    for (size_t i = 0; i < totals_.size();) {
      absl::int128 total = 0;
      size_t j = i;
      for (; j < totals_.size() && totals_[j].first == totals_[i].first; ++j) {
        total += totals_[j].second;
      }
      const absl::int128 units = total / 1'000'000'000;
      if (units > absl::int128(std::numeric_limits<int64_t>::max()) ||
          units < absl::int128(std::numeric_limits<int64_t>::min())) {
        return absl::OutOfRangeError(
            absl::StrCat("the committed investment in ", totals_[i].first, " exceeds 2^63 units"));
      }
      coop::v1::Money& money = out.emplace_back();
      money.set_currency_code(totals_[i].first);
      money.set_units(static_cast<int64_t>(units));
      money.set_nanos(static_cast<int32_t>(total % 1'000'000'000));
      i = j;
    }
    return out;
  }

 private:
  std::vector<std::pair<std::string, absl::int128>> totals_;
};

// Each list of a region summary holds at most this many entries (the first by id); the List
// calls with a region filter page through all of them.
constexpr int kMaxSummaryEntries = 100;

absl::StatusOr<coop::v1::RegionSummary> Summarize(sql::Connection& connection,
                                                  const std::string& code, int64_t updated_ms) {
  coop::v1::RegionSummary summary;
  summary.mutable_region()->set_code(code);
  *summary.mutable_updated_time() = TimestampOfMillis(updated_ms);
  const Value c(code);
  // A country covers its subdivisions: the tables keep each row's country beside its region.
  const bool country = IsCountryCode(code);

  COOP_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      connection.Query("SELECT doc FROM region_facts WHERE region = $1 ORDER BY kind, counterpart",
                       {c}));
  for (const Row& row : rows) {
    COOP_ASSIGN_OR_RETURN(coop::v1::RegionProfile profile,
                          ParseDoc<coop::v1::RegionProfile>(row[0], "region fact"));
    for (coop::v1::RegionFact& fact : *profile.mutable_facts()) {
      *summary.add_facts() = std::move(fact);
    }
  }
  // The facets hold each party's region and its country.
  COOP_ASSIGN_OR_RETURN(rows, connection.Query(absl::StrCat("SELECT entity_id FROM facets WHERE "
                                                            "view = 'agreement' AND facet = "
                                                            "'region' AND value = $1 ORDER BY "
                                                            "entity_id LIMIT ",
                                                            kMaxSummaryEntries),
                                               {c}));
  for (const Row& row : rows) summary.add_agreement_ids(sql::AsString(row[0]));

  COOP_ASSIGN_OR_RETURN(
      rows, connection.Query(absl::StrCat(country ? "SELECT hub_id FROM hubs WHERE country = $1 "
                                                    "ORDER BY hub_id LIMIT "
                                                  : "SELECT hub_id FROM hubs WHERE region = $1 "
                                                    "ORDER BY hub_id LIMIT ",
                                          kMaxSummaryEntries),
                             {c}));
  for (const Row& row : rows) summary.add_hub_ids(sql::AsString(row[0]));
  // The investment sums every hub of the region, not only the ones listed.
  COOP_ASSIGN_OR_RETURN(
      rows, connection.Query(country ? "SELECT investment_currency, investment_units, "
                                       "investment_nanos FROM hubs WHERE country = $1 AND "
                                       "investment_currency IS NOT NULL"
                                     : "SELECT investment_currency, investment_units, "
                                       "investment_nanos FROM hubs WHERE region = $1 AND "
                                       "investment_currency IS NOT NULL",
                             {c}));
  MoneySum investment;
  for (const Row& row : rows) {
    investment.Add(sql::AsString(row[0]), sql::AsInt(row[1]), sql::AsInt(row[2]));
  }
  COOP_ASSIGN_OR_RETURN(std::vector<coop::v1::Money> totals, investment.Totals());
  for (coop::v1::Money& money : totals) *summary.add_committed_investment() = std::move(money);

  COOP_ASSIGN_OR_RETURN(
      rows, connection.Query(absl::StrCat(country ? "SELECT site_id FROM sites WHERE country = $1 "
                                                    "ORDER BY site_id LIMIT "
                                                  : "SELECT site_id FROM sites WHERE region = $1 "
                                                    "ORDER BY site_id LIMIT ",
                                          kMaxSummaryEntries),
                             {c}));
  for (const Row& row : rows) summary.add_site_ids(sql::AsString(row[0]));

  COOP_ASSIGN_OR_RETURN(
      rows, connection.Query(
                absl::StrCat(country ? "SELECT doc FROM incentives WHERE country = $1 ORDER BY "
                                       "incentive_id LIMIT "
                                     : "SELECT doc FROM incentives WHERE region = $1 ORDER BY "
                                       "incentive_id LIMIT ",
                             kMaxSummaryEntries),
                {c}));
  for (const Row& row : rows) {
    COOP_ASSIGN_OR_RETURN(*summary.add_incentives(),
                          ParseDoc<coop::v1::InvestmentIncentive>(row[0], "incentive"));
  }

  COOP_ASSIGN_OR_RETURN(
      rows, connection.Query(absl::StrCat(country ? "SELECT doc FROM tourism_flows WHERE "
                                                    "destination_country = $1 ORDER BY "
                                                    "destination, origin, period LIMIT "
                                                  : "SELECT doc FROM tourism_flows WHERE "
                                                    "destination = $1 ORDER BY destination, "
                                                    "origin, period LIMIT ",
                                          kMaxSummaryEntries),
                             {c}));
  for (const Row& row : rows) {
    COOP_ASSIGN_OR_RETURN(*summary.add_tourism_flows(),
                          ParseDoc<coop::v1::TourismFlow>(row[0], "tourism flow"));
  }
  return summary;
}

coop::v1::EventRef Ref(const Value& source, const Value& id) {
  coop::v1::EventRef ref;
  ref.set_source(sql::AsString(source));
  ref.set_id(sql::AsString(id));
  return ref;
}

// The residual conditions of an EventFilter on the events table.
void AddFilterConditions(const coop::v1::EventFilter& filter, std::vector<Condition>& residual) {
  if (!filter.types().empty()) {
    residual.push_back(
        [values = Padded({filter.types().begin(), filter.types().end()})](Statement& s) {
          std::vector<std::string> placeholders;
          for (const std::string& type : values) placeholders.push_back(s.Bind(type));
          return absl::StrCat("type IN (", absl::StrJoin(placeholders, ", "), ")");
        });
  }
  if (!filter.subjects().empty() || !filter.subject_prefixes().empty()) {
    residual.push_back([subjects = Padded({filter.subjects().begin(), filter.subjects().end()}),
                        prefixes = Padded({filter.subject_prefixes().begin(),
                                           filter.subject_prefixes().end()})](Statement& s) {
      std::vector<std::string> terms;
      if (!subjects.empty()) {
        std::vector<std::string> placeholders;
        for (const std::string& subject : subjects) placeholders.push_back(s.Bind(subject));
        terms.push_back(absl::StrCat("subject IN (", absl::StrJoin(placeholders, ", "), ")"));
      }
      for (const std::string& prefix : prefixes) {
        // Prefixes are ASCII, so characters and bytes count alike in both databases.
        const std::string length = s.Bind(static_cast<int64_t>(prefix.size()));
        terms.push_back(absl::StrCat("substr(subject, 1, ", length, ") = ", s.Bind(prefix)));
      }
      return absl::StrCat("(", absl::StrJoin(terms, " OR "), ")");
    });
  }
  // The regions and party_ids columns are " a b c " lists (codes with their countries, so a
  // country matches its subdivisions); the values are validated codes and Slugs, which hold no
  // LIKE wildcards.
  const auto any_in_list = [](const char* column, std::vector<std::string> values) {
    return [column, values = Padded(std::move(values))](Statement& s) {
      std::vector<std::string> terms;
      for (const std::string& value : values) {
        terms.push_back(
            absl::StrCat(column, " LIKE ('% ' || CAST(", s.Bind(value), " AS TEXT) || ' %')"));
      }
      return absl::StrCat("(", absl::StrJoin(terms, " OR "), ")");
    };
  };
  if (!filter.regions().empty()) {
    std::vector<std::string> codes;
    for (const coop::v1::RegionRef& region : filter.regions()) codes.push_back(region.code());
    residual.push_back(any_in_list("regions", std::move(codes)));
  }
  if (!filter.party_ids().empty()) {
    residual.push_back(
        any_in_list("party_ids", {filter.party_ids().begin(), filter.party_ids().end()}));
  }
}

}  // namespace

absl::Status Validate(const coop::v1::GetAgreementRequest& request) {
  Violations v;
  CheckSlug(v, "agreement_id", request.agreement_id(), true);
  return v.ToStatus();
}

absl::Status Validate(const coop::v1::ListAgreementsRequest& request) {
  Violations v;
  if (request.has_region()) CheckRegion(v, "region", request.region(), false);
  CheckSlug(v, "party_id", request.party_id(), false);
  CheckSlug(v, "hub_id", request.hub_id(), false);
  CheckEnum(v, "status", request.status(), coop::v1::AgreementStatus_IsValid,
            coop::v1::AgreementStatus_descriptor());
  if (request.has_signed_within()) CheckPeriod(v, "signed_within", request.signed_within());
  CheckEnum(v, "area", request.area(), coop::v1::CooperationArea_IsValid,
            coop::v1::CooperationArea_descriptor());
  CheckPageSize(v, request.page_size());
  CheckPageToken(v, request, request.page_token(), kAgreementKey);
  return v.ToStatus();
}

absl::Status Validate(const coop::v1::GetHubRequest& request) {
  Violations v;
  CheckSlug(v, "hub_id", request.hub_id(), true);
  return v.ToStatus();
}

absl::Status Validate(const coop::v1::ListHubsRequest& request) {
  Violations v;
  if (request.has_region()) CheckRegion(v, "region", request.region(), false);
  CheckSlug(v, "party_id", request.party_id(), false);
  CheckEnum(v, "kind", request.kind(), coop::v1::HubKind_IsValid, coop::v1::HubKind_descriptor());
  CheckEnum(v, "status", request.status(), coop::v1::HubStatus_IsValid,
            coop::v1::HubStatus_descriptor());
  CheckPageSize(v, request.page_size());
  CheckPageToken(v, request, request.page_token(), kTextKey);
  return v.ToStatus();
}

absl::Status Validate(const coop::v1::ListTradeRowsRequest& request) {
  Violations v;
  if (request.has_region()) CheckRegion(v, "region", request.region(), false);
  CheckEnum(v, "direction", request.direction(), coop::v1::TradeDirection_IsValid,
            coop::v1::TradeDirection_descriptor());
  const std::string& prefix = request.hs_code_prefix();
  if (!prefix.empty() &&
      (prefix.size() < 2 || prefix.size() > 6 ||
       !std::all_of(prefix.begin(), prefix.end(), [](char c) { return absl::ascii_isdigit(c); }))) {
    v.Add("hs_code_prefix",
          absl::StrCat("must be 2..6 digits such as '3304'; got ", Quote(prefix)));
  }
  CheckText(v, "category_name", request.category_name(), kMaxCategoryNameChars);
  if (request.has_period()) CheckPeriod(v, "period", request.period());
  CheckPageSize(v, request.page_size());
  CheckPageToken(v, request, request.page_token(), kTextKey);
  return v.ToStatus();
}

absl::Status Validate(const coop::v1::GetRegionRequest& request) {
  Violations v;
  if (!request.has_region()) {
    v.Add("region",
          "required: an ISO 3166-2 code such as RU-MOS or an ISO 3166-1 alpha-2 "
          "code such as KZ");
  } else {
    CheckRegion(v, "region", request.region(), false);
  }
  return v.ToStatus();
}

absl::Status Validate(const coop::v1::ListRegionsRequest& request) {
  Violations v;
  if (request.has_country()) CheckRegion(v, "country", request.country(), true);
  CheckPageSize(v, request.page_size());
  CheckPageToken(v, request, request.page_token(), kTextKey);
  return v.ToStatus();
}

absl::Status Validate(const coop::v1::ListTimelineRequest& request) {
  Violations v;
  const bool start_ok =
      request.has_start_time() && CheckTimestamp(v, "start_time", request.start_time());
  const bool end_ok = request.has_end_time() && CheckTimestamp(v, "end_time", request.end_time());
  if (start_ok && end_ok &&
      std::make_pair(request.end_time().seconds(), request.end_time().nanos()) <=
          std::make_pair(request.start_time().seconds(), request.start_time().nanos())) {
    v.Add("end_time", "must be after start_time");
  }
  if (request.has_filter()) CheckFilter(v, request.filter());
  CheckPageSize(v, request.page_size());
  CheckPageToken(v, request, request.page_token(), kTimelineKey);
  return v.ToStatus();
}

absl::StatusOr<coop::v1::GetAgreementResponse> GetAgreement(
    sql::Connection& connection, const coop::v1::GetAgreementRequest& request) {
  COOP_RETURN_IF_ERROR(Validate(request));
  COOP_ASSIGN_OR_RETURN(std::vector<Row> rows,
                        connection.Query("SELECT doc FROM agreements WHERE agreement_id = $1",
                                         {Value(request.agreement_id())}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("agreement '", request.agreement_id(), "' not found"));
  }
  coop::v1::GetAgreementResponse response;
  COOP_ASSIGN_OR_RETURN(*response.mutable_agreement(),
                        ParseDoc<coop::v1::Agreement>(rows[0][0], "agreement"));
  return response;
}

absl::StatusOr<coop::v1::ListAgreementsResponse> ListAgreements(
    sql::Connection& connection, const coop::v1::ListAgreementsRequest& request,
    const QueryLimits& limits) {
  COOP_RETURN_IF_ERROR(Validate(request));
  COOP_ASSIGN_OR_RETURN(std::optional<Row> after,
                        DecodePageToken(request, request.page_token(), kAgreementKey));
  Scan scan{
      .table = "agreements", .key_columns = {"signed_from", "agreement_id"}, .columns = "doc"};
  const auto facet = [&scan](const char* name, std::string value) {
    scan.residual.push_back([name, value = std::move(value)](Statement& s) {
      return HasFacet(s, "agreement", name, Value(value), "agreements.agreement_id");
    });
  };
  if (request.has_region()) facet("region", request.region().code());
  if (!request.party_id().empty()) facet("party", request.party_id());
  if (!request.hub_id().empty()) facet("hub", request.hub_id());
  if (request.area() != coop::v1::COOPERATION_AREA_UNSPECIFIED) {
    facet("area", absl::StrCat(static_cast<int>(request.area())));
  }
  if (request.status() != coop::v1::AGREEMENT_STATUS_UNSPECIFIED) {
    scan.residual.push_back([status = int64_t{request.status()}](Statement& s) {
      return absl::StrCat("status = ", s.Bind(status));
    });
  }
  if (request.has_signed_within()) {
    // Overlap: signed from no later than the period's last day (a bound of the index's leading
    // column) and to no earlier than its first day.
    scan.ranges.push_back([last = DayText(PeriodLastDay(request.signed_within()))](Statement& s) {
      return absl::StrCat("signed_from <= ", s.Bind(last));
    });
    scan.residual.push_back(
        [first = DayText(PeriodFirstDay(request.signed_within()))](Statement& s) {
          return absl::StrCat("signed_to >= ", s.Bind(first));
        });
  }
  COOP_ASSIGN_OR_RETURN(Page page,
                        ReadPage(connection, scan, after, EffectivePageSize(request.page_size()),
                                 limits.max_scanned_rows));
  coop::v1::ListAgreementsResponse response;
  for (const Row& row : page.rows) {
    COOP_ASSIGN_OR_RETURN(*response.add_agreements(),
                          ParseDoc<coop::v1::Agreement>(row[2], "agreement"));
  }
  if (page.next_key.has_value()) {
    response.set_next_page_token(EncodePageToken(request, *page.next_key));
  }
  return response;
}

absl::StatusOr<coop::v1::GetHubResponse> GetHub(sql::Connection& connection,
                                                const coop::v1::GetHubRequest& request) {
  COOP_RETURN_IF_ERROR(Validate(request));
  COOP_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      connection.Query("SELECT doc FROM hubs WHERE hub_id = $1", {Value(request.hub_id())}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("hub '", request.hub_id(), "' not found"));
  }
  coop::v1::GetHubResponse response;
  COOP_ASSIGN_OR_RETURN(*response.mutable_hub(), ParseDoc<coop::v1::Hub>(rows[0][0], "hub"));
  COOP_RETURN_IF_ERROR(AddAgreementIds(connection, *response.mutable_hub()));
  COOP_RETURN_IF_ERROR(AddHubMilestones(connection, *response.mutable_hub()));
  return response;
}

absl::StatusOr<coop::v1::ListHubsResponse> ListHubs(sql::Connection& connection,
                                                    const coop::v1::ListHubsRequest& request,
                                                    const QueryLimits& limits) {
  COOP_RETURN_IF_ERROR(Validate(request));
  COOP_ASSIGN_OR_RETURN(std::optional<Row> after,
                        DecodePageToken(request, request.page_token(), kTextKey));
  Scan scan{.table = "hubs", .key_columns = {"hub_id"}, .columns = "doc"};
  if (request.has_region()) {
    // hubs_by_country or hubs_by_region, both in hub_id order.
    const std::string& code = request.region().code();
    scan.streams.push_back([column = IsCountryCode(code) ? "country" : "region", code](
                               Statement& s) { return absl::StrCat(column, " = ", s.Bind(code)); });
  }
  if (!request.party_id().empty()) {
    scan.residual.push_back([party = request.party_id()](Statement& s) {
      return HasFacet(s, "hub", "party", Value(party), "hubs.hub_id");
    });
  }
  if (request.kind() != coop::v1::HUB_KIND_UNSPECIFIED) {
    scan.residual.push_back([kind = int64_t{request.kind()}](Statement& s) {
      return absl::StrCat("kind = ", s.Bind(kind));
    });
  }
  if (request.status() != coop::v1::HUB_STATUS_UNSPECIFIED) {
    scan.residual.push_back([status = int64_t{request.status()}](Statement& s) {
      return absl::StrCat("status = ", s.Bind(status));
    });
  }
  COOP_ASSIGN_OR_RETURN(Page page,
                        ReadPage(connection, scan, after, EffectivePageSize(request.page_size()),
                                 limits.max_scanned_rows));
  coop::v1::ListHubsResponse response;
  for (const Row& row : page.rows) {
    coop::v1::Hub* hub = response.add_hubs();
    COOP_ASSIGN_OR_RETURN(*hub, ParseDoc<coop::v1::Hub>(row[1], "hub"));
    COOP_RETURN_IF_ERROR(AddAgreementIds(connection, *hub));
    COOP_RETURN_IF_ERROR(AddHubMilestones(connection, *hub));
  }
  if (page.next_key.has_value()) {
    response.set_next_page_token(EncodePageToken(request, *page.next_key));
  }
  return response;
}

absl::StatusOr<coop::v1::ListTradeRowsResponse> ListTradeRows(
    sql::Connection& connection, const coop::v1::ListTradeRowsRequest& request,
    const QueryLimits& limits) {
  COOP_RETURN_IF_ERROR(Validate(request));
  COOP_ASSIGN_OR_RETURN(std::optional<Row> after,
                        DecodePageToken(request, request.page_token(), kTextKey));
  Scan scan{.table = "trade_rows",
            .key_columns = {"row_key"},
            .columns = "reporting_region, partner_region, direction, category_key, doc"};
  if (request.has_region()) {
    // Two streams in row_key order: the reporting side and the partner side
    // (trade_rows_by_partner, trade_rows_by_partner_country). For a country the reporting side
    // is trade_rows_by_reporting_country; for a subdivision it is a range of the primary key,
    // which starts with the reporting code and the unit separator (projector.cc, TradeRowKey):
    // no index serves reporting_region in row_key order.
    const std::string& code = request.region().code();
    if (IsCountryCode(code)) {
      scan.streams.push_back(
          [code](Statement& s) { return absl::StrCat("reporting_country = ", s.Bind(code)); });
      scan.streams.push_back(
          [code](Statement& s) { return absl::StrCat("partner_country = ", s.Bind(code)); });
    } else {
      scan.streams.push_back([code](Statement& s) {
        const std::string from = s.Bind(absl::StrCat(code, "\x1f"));
        const std::string to = s.Bind(absl::StrCat(code, "\x20"));
        return absl::StrCat("row_key > ", from, " AND row_key < ", to);
      });
      scan.streams.push_back(
          [code](Statement& s) { return absl::StrCat("partner_region = ", s.Bind(code)); });
    }
  }
  if (request.direction() != coop::v1::TRADE_DIRECTION_UNSPECIFIED) {
    scan.residual.push_back([direction = int64_t{request.direction()}](Statement& s) {
      return absl::StrCat("direction = ", s.Bind(direction));
    });
  }
  if (!request.hs_code_prefix().empty()) {
    scan.residual.push_back([prefix = request.hs_code_prefix()](Statement& s) {
      const std::string length = s.Bind(static_cast<int64_t>(prefix.size()));
      return absl::StrCat("substr(hs_code, 1, ", length, ") = ", s.Bind(prefix));
    });
  }
  if (!request.category_name().empty()) {
    scan.residual.push_back([name = request.category_name()](Statement& s) {
      return absl::StrCat("category_name = ", s.Bind(name));
    });
  }
  if (request.has_period()) {
    scan.residual.push_back([first = DayText(PeriodFirstDay(request.period())),
                             last = DayText(PeriodLastDay(request.period()))](Statement& s) {
      const std::string to = s.Bind(last);
      const std::string from = s.Bind(first);
      return absl::StrCat("period_from <= ", to, " AND period_to >= ", from);
    });
  }
  COOP_ASSIGN_OR_RETURN(Page page,
                        ReadPage(connection, scan, after, EffectivePageSize(request.page_size()),
                                 limits.max_scanned_rows));
  coop::v1::ListTradeRowsResponse response;
  for (const Row& row : page.rows) {
    coop::v1::TradeRow* trade = response.add_rows();
    COOP_ASSIGN_OR_RETURN(*trade, ParseDoc<coop::v1::TradeRow>(row[5], "trade row"));
    COOP_RETURN_IF_ERROR(AddGrowthVsPrevious(connection, &row[1], *trade));
  }
  if (page.next_key.has_value()) {
    response.set_next_page_token(EncodePageToken(request, *page.next_key));
  }
  return response;
}

absl::StatusOr<coop::v1::GetRegionResponse> GetRegion(sql::Connection& connection,
                                                      const coop::v1::GetRegionRequest& request) {
  COOP_RETURN_IF_ERROR(Validate(request));
  const std::string& code = request.region().code();
  COOP_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      connection.Query("SELECT updated_time_ms FROM regions WHERE code = $1", {Value(code)}));
  if (rows.empty()) return absl::NotFoundError(absl::StrCat("region '", code, "' not found"));
  coop::v1::GetRegionResponse response;
  COOP_ASSIGN_OR_RETURN(*response.mutable_region(),
                        Summarize(connection, code, sql::AsInt(rows[0][0])));
  return response;
}

absl::StatusOr<coop::v1::ListRegionsResponse> ListRegions(
    sql::Connection& connection, const coop::v1::ListRegionsRequest& request) {
  COOP_RETURN_IF_ERROR(Validate(request));
  COOP_ASSIGN_OR_RETURN(std::optional<Row> after,
                        DecodePageToken(request, request.page_token(), kTextKey));
  Scan scan{.table = "regions", .key_columns = {"code"}, .columns = "updated_time_ms"};
  if (request.has_country()) {
    scan.streams.push_back([country = request.country().code()](Statement& s) {
      return absl::StrCat("country = ", s.Bind(country));
    });
  }
  // No residual conditions, so the scan limit never applies.
  COOP_ASSIGN_OR_RETURN(Page page,
                        ReadPage(connection, scan, after, EffectivePageSize(request.page_size()),
                                 std::numeric_limits<int64_t>::max()));
  coop::v1::ListRegionsResponse response;
  for (const Row& row : page.rows) {
    COOP_ASSIGN_OR_RETURN(*response.add_regions(),
                          Summarize(connection, sql::AsString(row[0]), sql::AsInt(row[1])));
  }
  if (page.next_key.has_value()) {
    response.set_next_page_token(EncodePageToken(request, *page.next_key));
  }
  return response;
}

absl::StatusOr<coop::v1::ListTimelineResponse> ListTimeline(
    sql::Connection& connection, const cursor::LogId& log,
    const coop::v1::ListTimelineRequest& request, const QueryLimits& limits,
    const EventVisibility& visible) {
  COOP_RETURN_IF_ERROR(Validate(request));
  COOP_ASSIGN_OR_RETURN(std::optional<Row> after,
                        DecodePageToken(request, request.page_token(), kTimelineKey));
  Scan scan{.table = "events",
            .key_columns = {"recorded_time_ms", "kafka_partition", "kafka_offset"},
            .columns =
                "source, id, type, subject, event_time_ms, corrects_source, corrects_id, "
                "corrected_by_source, corrected_by_id, event"};
  // Bounds of events_by_time's leading column. A page token's key lies at or after start_time
  // (it came from this request), so with one the key alone is the lower bound the index seeks.
  if (request.has_start_time() && !after.has_value()) {
    scan.ranges.push_back([start = CeilMillis(request.start_time())](Statement& s) {
      return absl::StrCat("recorded_time_ms >= ", s.Bind(start));
    });
  }
  if (request.has_end_time()) {
    scan.ranges.push_back([end = CeilMillis(request.end_time())](Statement& s) {
      return absl::StrCat("recorded_time_ms < ", s.Bind(end));
    });
  }
  coop::v1::EventFilter filter = request.filter();
  if (filter.subjects_size() == 1 && filter.subject_prefixes().empty()) {
    // One subject's timeline: events_by_subject serves it in timeline order, so the page costs
    // what it returns however long the log is.
    scan.ranges.push_back([subject = filter.subjects(0)](Statement& s) {
      return absl::StrCat("subject = ", s.Bind(subject));
    });
    filter.clear_subjects();
  }
  AddFilterConditions(filter, scan.residual);
  COOP_ASSIGN_OR_RETURN(Page page,
                        ReadPage(connection, scan, after, EffectivePageSize(request.page_size()),
                                 limits.max_scanned_rows));
  coop::v1::ListTimelineResponse response;
  for (const Row& row : page.rows) {
    COOP_ASSIGN_OR_RETURN(coop::v1::Event event, ParseDoc<coop::v1::Event>(row[12], "event"));
    if (visible && !visible(event)) continue;  // Outside the caller's scope: the page is shorter.
    coop::v1::TimelineEntry* entry = response.add_entries();
    const int64_t recorded_ms = sql::AsInt(row[0]);
    const int32_t partition = static_cast<int32_t>(sql::AsInt(row[1]));
    const int64_t offset = sql::AsInt(row[2]);
    *entry->mutable_event() = Ref(row[3], row[4]);
    entry->set_type(sql::AsString(row[5]));
    entry->set_subject(sql::AsString(row[6]));
    if (!sql::IsNull(row[7])) *entry->mutable_time() = TimestampOfMillis(sql::AsInt(row[7]));
    *entry->mutable_recorded_time() = TimestampOfMillis(recorded_ms);
    entry->mutable_position()->set_partition(partition);
    entry->mutable_position()->set_offset(offset);
    entry->mutable_position()->set_token(cursor::EncodePosition(log, partition, offset));
    // The regions column adds each code's country; the entry lists the codes the payload names.
    for (std::string& code : auth::RegionCodesIn(event)) {
      entry->add_regions()->set_code(std::move(code));
    }
    if (!sql::IsNull(row[8])) *entry->mutable_corrects() = Ref(row[8], row[9]);
    if (!sql::IsNull(row[10])) *entry->mutable_corrected_by() = Ref(row[10], row[11]);
  }
  if (page.next_key.has_value()) {
    response.set_next_page_token(EncodePageToken(request, *page.next_key));
  }
  return response;
}

}  // namespace coop::views
