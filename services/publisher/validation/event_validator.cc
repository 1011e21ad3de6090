#include "services/publisher/validation/event_validator.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "coop/v1/events.pb.h"
#include "coop/v1/types.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/generated_enum_reflection.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/repeated_field.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/unknown_field_set.h"

namespace coop::publisher {
namespace {

namespace v1 = ::coop::v1;
using ::google::protobuf::RepeatedField;
using ::google::protobuf::RepeatedPtrField;

// Field-rule words of the contract (types.proto, "Validation vocabulary").
enum Presence { kOptional, kRequired };
enum Lines { kSingleLine, kMultiLine };
enum Future { kAnyDate, kNotInFuture };
enum CodeKind { kRegionOrCountry, kSubdivisionOnly, kCountryOnly };

constexpr int kMaxSlugChars = 64;
constexpr int kMaxEventIdChars = 128;
constexpr int kMaxSubjectChars = 200;
constexpr int kMaxQuotedChars = 64;
// Event.time may lie this far after recorded_time (envelope.proto).
constexpr absl::Duration kMaxClockSkew = absl::Minutes(5);
// 1900-01-01T00:00:00Z, the earliest Event.time.
constexpr int64_t kEarliestEventSeconds = -2208988800;

// Collects violations; each instance stands for one message (or the event) at `path`. Copies
// share the output, which holds at most `max` entries and counts the ones left out.
class Violations {
 public:
  struct Sink {
    std::vector<FieldViolation> list;
    size_t max = 0;
    size_t left_out = 0;
  };

  Violations(Sink* sink, std::string path) : sink_(sink), path_(std::move(path)) {}

  Violations Field(absl::string_view name) const { return {sink_, Join(name)}; }
  Violations Element(absl::string_view name, int index) const {
    return {sink_, absl::StrCat(Join(name), "[", index, "]")};
  }

  // A violation of this message as a whole.
  void Add(std::string description) const { Push(path_, std::move(description)); }
  // A violation of the field `name` of this message.
  void Add(absl::string_view name, std::string description) const {
    Push(Join(name), std::move(description));
  }

 private:
  std::string Join(absl::string_view name) const {
    return path_.empty() ? std::string(name) : absl::StrCat(path_, ".", name);
  }
  void Push(std::string field, std::string description) const {
    if (sink_->list.size() < sink_->max) {
      sink_->list.push_back({std::move(field), std::move(description)});
    } else {
      ++sink_->left_out;
    }
  }

  Sink* sink_;
  std::string path_;
};

// What the checks of one event share.
struct Context {
  absl::string_view event_id;
  std::optional<absl::Time> recorded_time;
  // The UTC date of recorded_time as yyyymmdd (see DayNumber).
  std::optional<int> recorded_day;
};

// Decodes the code point at text[*pos] and advances *pos past it. nullopt, with *pos unchanged,
// when the bytes there are not UTF-8 as protobuf defines it (no overlong forms, no surrogates,
// nothing above U+10FFFF).
std::optional<char32_t> NextCodePoint(absl::string_view text, size_t* pos) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(*pos);
  int length;
  char32_t code_point;
  char32_t smallest;
  if (lead < 0x80) {
    ++*pos;
    return lead;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2, code_point = lead & 0x1F, smallest = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, code_point = lead & 0x0F, smallest = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, code_point = lead & 0x07, smallest = 0x10000;
  } else {
    return std::nullopt;
  }
  if (text.size() - *pos < static_cast<size_t>(length)) return std::nullopt;
  for (int i = 1; i < length; ++i) {
    const unsigned char continuation = byte(*pos + i);
    if ((continuation & 0xC0) != 0x80) return std::nullopt;
    code_point = (code_point << 6) | (continuation & 0x3F);
  }
  if (code_point < smallest || code_point > 0x10FFFF ||
      (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return std::nullopt;
  }
  *pos += length;
  return code_point;
}

bool IsControl(char32_t c) { return c <= 0x1F || (c >= 0x7F && c <= 0x9F); }
bool IsEdgeSpace(char32_t c) { return c == 0x20 || c == 0xA0; }

std::string CodePointName(char32_t c) {
  char name[16];
  std::snprintf(name, sizeof(name), "U+%04X", static_cast<unsigned>(c));
  return name;
}

// `value` in single quotes for a description: at most kMaxQuotedChars code points, control
// characters as \u escapes and bytes that are not UTF-8 as \x escapes, so that descriptions are
// valid UTF-8 (protobuf rejects anything else) and short.
std::string Quote(absl::string_view value) {
  std::string quoted = "'";
  size_t pos = 0;
  for (int chars = 0; pos < value.size() && chars < kMaxQuotedChars; ++chars) {
    const size_t start = pos;
    const std::optional<char32_t> c = NextCodePoint(value, &pos);
    if (!c.has_value()) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\x%02X", static_cast<unsigned char>(value[pos]));
      quoted += escaped;
      ++pos;
    } else if (IsControl(*c)) {
      absl::StrAppend(&quoted, "\\u", CodePointName(*c).substr(2));
    } else {
      quoted.append(value.data() + start, pos - start);
    }
  }
  if (pos < value.size()) quoted += "…";
  quoted += "'";
  return quoted;
}

// A double for a description: up to 15 significant digits, so that 135000.5 is not shown as
// 135000 (absl::StrCat keeps 6).
std::string Number(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.15g", value);
  return text;
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

// [A-Za-z0-9._:-]*, the characters of EventId and Event.correlation_id.
bool HasOnlyIdChars(absl::string_view value) {
  return std::all_of(value.begin(), value.end(), [](char c) {
    return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == ':' || c == '-';
  });
}

bool IsEventId(absl::string_view value) {
  return !value.empty() && value.size() <= kMaxEventIdChars && HasOnlyIdChars(value);
}

bool IsCountryCode(absl::string_view code) {
  return code.size() == 2 && absl::ascii_isupper(code[0]) && absl::ascii_isupper(code[1]);
}

bool IsSubdivisionCode(absl::string_view code) {
  if (code.size() < 4 || code.size() > 6) return false;
  if (!IsCountryCode(code.substr(0, 2)) || code[2] != '-') return false;
  return std::all_of(code.begin() + 3, code.end(),
                     [](char c) { return absl::ascii_isupper(c) || absl::ascii_isdigit(c); });
}

bool IsCode(absl::string_view code, CodeKind kind) {
  switch (kind) {
    case kSubdivisionOnly:
      return IsSubdivisionCode(code);
    case kCountryOnly:
      return IsCountryCode(code);
    case kRegionOrCountry:
      break;
  }
  return IsSubdivisionCode(code) || IsCountryCode(code);
}

bool IsCurrencyCode(absl::string_view code) {
  return code.size() == 3 && std::all_of(code.begin(), code.end(), absl::ascii_isupper);
}

void CheckNoUnknownFields(const Violations& v, const google::protobuf::Message& message) {
  const google::protobuf::UnknownFieldSet& unknown =
      message.GetReflection()->GetUnknownFields(message);
  if (unknown.empty()) return;
  std::vector<int> numbers;
  for (int i = 0; i < unknown.field_count(); ++i) numbers.push_back(unknown.field(i).number());
  std::sort(numbers.begin(), numbers.end());
  numbers.erase(std::unique(numbers.begin(), numbers.end()), numbers.end());
  v.Add(absl::StrCat("has fields unknown to this schema (numbers ", absl::StrJoin(numbers, ", "),
                     "), e.g. from a newer schema; unknown fields are rejected"));
}

// Text(1..max_chars): an empty value is unset. Each kind of problem is one violation.
void CheckText(const Violations& v, absl::string_view field, absl::string_view value,
               Presence presence, int max_chars, Lines lines = kSingleLine) {
  if (value.empty()) {
    if (presence == kRequired) {
      v.Add(field, absl::StrCat("required: 1..", max_chars, " characters"));
    }
    return;
  }
  int chars = 0;
  std::optional<char32_t> first;
  char32_t last = 0;
  std::optional<std::pair<char32_t, int>> control;  // The first one and its 1-based position.
  for (size_t pos = 0; pos < value.size();) {
    const size_t offset = pos;
    const std::optional<char32_t> c = NextCodePoint(value, &pos);
    if (!c.has_value()) {
      v.Add(field, absl::StrCat("must be valid UTF-8; invalid byte sequence at byte ", offset,
                                " of ", Quote(value)));
      return;
    }
    ++chars;
    if (!first.has_value()) first = *c;
    last = *c;
    if (!control.has_value() && IsControl(*c) && !(lines == kMultiLine && *c == '\n')) {
      control = {*c, chars};
    }
  }
  if (chars > max_chars) {
    v.Add(field,
          absl::StrCat("must be 1..", max_chars, " characters (Unicode code points); got ", chars));
  }
  if (control.has_value()) {
    v.Add(field,
          absl::StrCat("must not contain control characters",
                       lines == kMultiLine ? " other than line feed (U+000A)" : "", "; found ",
                       CodePointName(control->first), " at character ", control->second));
  }
  if (IsEdgeSpace(*first) || IsEdgeSpace(last)) {
    v.Add(field, absl::StrCat("must not begin or end with a space (U+0020) or a no-break space "
                              "(U+00A0); got ",
                              Quote(value)));
  }
}

void CheckSlug(const Violations& v, absl::string_view field, absl::string_view value,
               Presence presence) {
  if (value.empty()) {
    if (presence == kRequired) v.Add(field, "required: a Slug such as 'selyatino'");
    return;
  }
  if (!IsSlug(value)) {
    v.Add(field, absl::StrCat("must be a Slug: 1..64 characters matching "
                              "^[a-z0-9]+(-[a-z0-9]+)*$ such as 'selyatino'; got ",
                              Quote(value)));
  }
}

void CheckEventId(const Violations& v, absl::string_view field, absl::string_view value,
                  Presence presence) {
  if (value.empty()) {
    if (presence == kRequired) v.Add(field, "required: 1..128 characters of [A-Za-z0-9._:-]");
    return;
  }
  if (!IsEventId(value)) {
    v.Add(field, absl::StrCat("must be 1..128 characters of [A-Za-z0-9._:-]; got ", Quote(value)));
  }
}

void CheckMaxEntries(const Violations& v, absl::string_view field, int size, int max) {
  if (size > max) {
    v.Add(field, absl::StrCat("must have at most ", max, " entries; got ", size));
  }
}

// Reports each element whose key equals that of an earlier element.
template <typename List, typename Key>
void CheckUnique(const Violations& v, absl::string_view field, const List& list, Key key) {
  std::map<decltype(key(list[0])), int> first_index;
  for (int i = 0; i < list.size(); ++i) {
    const auto [it, inserted] = first_index.emplace(key(list[i]), i);
    if (!inserted) {
      v.Add(absl::StrCat(field, "[", i, "]"),
            absl::StrCat("must be unique; duplicate of ", field, "[", it->second, "]"));
    }
  }
}

void CheckSlugList(const Violations& v, absl::string_view field,
                   const RepeatedPtrField<std::string>& slugs, int max) {
  CheckMaxEntries(v, field, slugs.size(), max);
  for (int i = 0; i < slugs.size(); ++i) {
    CheckSlug(v, absl::StrCat(field, "[", i, "]"), slugs[i], kRequired);
  }
  CheckUnique(v, field, slugs, [](const std::string& slug) { return slug; });
}

template <typename E>
std::string EnumName(int value) {
  const google::protobuf::EnumValueDescriptor* named =
      google::protobuf::GetEnumDescriptor<E>()->FindValueByNumber(value);
  return named != nullptr ? named->name() : absl::StrCat(value);
}

// An enum field: rejects numbers the schema does not know, *_UNSPECIFIED when required, and
// values outside `allowed` when the holding field lists them.
template <typename E>
void CheckEnum(const Violations& v, absl::string_view field, int value, Presence presence,
               std::initializer_list<E> allowed = {}) {
  const google::protobuf::EnumDescriptor* type = google::protobuf::GetEnumDescriptor<E>();
  const auto allowed_names = [&] {
    return absl::StrJoin(allowed, ", ",
                         [](std::string* out, E e) { absl::StrAppend(out, EnumName<E>(e)); });
  };
  if (value == 0) {
    if (presence == kRequired) {
      v.Add(field, allowed.size() == 0 ? absl::StrCat("required: any value except ", EnumName<E>(0))
                                       : absl::StrCat("required: one of ", allowed_names()));
    }
    return;
  }
  if (type->FindValueByNumber(value) == nullptr) {
    v.Add(field, absl::StrCat("must be a known ", type->name(), " value; got ", value));
    return;
  }
  if (allowed.size() != 0 &&
      std::find(allowed.begin(), allowed.end(), static_cast<E>(value)) == allowed.end()) {
    v.Add(field, absl::StrCat("must be one of ", allowed_names(), "; got ", EnumName<E>(value)));
  }
}

void CheckAreas(const Violations& v, absl::string_view field, const RepeatedField<int>& areas) {
  CheckMaxEntries(v, field, areas.size(), 32);
  for (int i = 0; i < areas.size(); ++i) {
    CheckEnum<v1::CooperationArea>(v, absl::StrCat(field, "[", i, "]"), areas[i], kRequired);
  }
  CheckUnique(v, field, areas, [](int area) { return area; });
}

std::string CodeExpectation(CodeKind kind) {
  switch (kind) {
    case kSubdivisionOnly:
      return "an ISO 3166-2 code such as RU-MOS";
    case kCountryOnly:
      return "an ISO 3166-1 alpha-2 code such as KZ";
    case kRegionOrCountry:
      break;
  }
  return "an ISO 3166-2 code such as RU-MOS or an ISO 3166-1 alpha-2 code such as KZ";
}

void CheckRegionRef(const Violations& v, const v1::RegionRef& region, CodeKind kind) {
  if (region.code().empty()) {
    v.Add("code", absl::StrCat("required: ", CodeExpectation(kind)));
  } else if (!IsCode(region.code(), kind)) {
    v.Add("code", absl::StrCat("must be ", CodeExpectation(kind), "; got ", Quote(region.code())));
  }
  CheckNoUnknownFields(v, region);
}

void CheckRegionField(const Violations& v, absl::string_view field, bool present,
                      const v1::RegionRef& region, Presence presence,
                      CodeKind kind = kRegionOrCountry) {
  if (present) {
    CheckRegionRef(v.Field(field), region, kind);
  } else if (presence == kRequired) {
    v.Add(field, absl::StrCat("required: ", CodeExpectation(kind)));
  }
}

// Whether two region codes name the same place or one is the country of the other.
enum class Overlap { kNone, kSame, kCountryOf };
Overlap RegionOverlap(absl::string_view a, absl::string_view b) {
  if (a == b) return Overlap::kSame;
  const auto country_of = [](absl::string_view country, absl::string_view region) {
    return IsCountryCode(country) && IsSubdivisionCode(region) && absl::StartsWith(region, country);
  };
  return country_of(a, b) || country_of(b, a) ? Overlap::kCountryOf : Overlap::kNone;
}

void CheckParty(const Violations& v, const v1::Party& party) {
  CheckSlug(v, "party_id", party.party_id(), kOptional);
  CheckText(v, "name", party.name(), kRequired, 300);
  CheckText(v, "name_latin", party.name_latin(), kOptional, 300);
  CheckEnum<v1::PartyKind>(v, "kind", party.kind(), kRequired);
  // PartyKind: an embassy's region is the sending country.
  CheckRegionField(v, "region", party.has_region(), party.region(), kRequired,
                   party.kind() == v1::PARTY_KIND_EMBASSY ? kCountryOnly : kRegionOrCountry);
  CheckNoUnknownFields(v, party);
}

void CheckPerson(const Violations& v, const v1::Person& person) {
  CheckText(v, "name", person.name(), kRequired, 200);
  CheckText(v, "name_latin", person.name_latin(), kOptional, 200);
  CheckText(v, "title", person.title(), kOptional, 300);
  CheckNoUnknownFields(v, person);
}

void CheckPlace(const Violations& v, const v1::Place& place) {
  CheckText(v, "name", place.name(), kOptional, 300);
  CheckText(v, "locality", place.locality(), kOptional, 300);
  CheckRegionField(v, "region", place.has_region(), place.region(), kRequired);
  CheckNoUnknownFields(v, place);
}

void CheckPlaceList(const Violations& v, absl::string_view field,
                    const RepeatedPtrField<v1::Place>& places, int max) {
  CheckMaxEntries(v, field, places.size(), max);
  for (int i = 0; i < places.size(); ++i) CheckPlace(v.Element(field, i), places[i]);
}

// Money; no field of the contract allows negative amounts.
void CheckMoney(const Violations& v, const v1::Money& money) {
  if (money.currency_code().empty()) {
    v.Add("currency_code", "required: an ISO 4217 code such as RUB, KZT, USD or CNY");
  } else if (!IsCurrencyCode(money.currency_code())) {
    v.Add("currency_code",
          absl::StrCat("must be an ISO 4217 alphabetic code of three upper-case letters such as "
                       "RUB, KZT, USD or CNY; got ",
                       Quote(money.currency_code())));
  }
  if (money.units() < 0) {
    v.Add("units", absl::StrCat("must not be negative; got ", money.units()));
  }
  if (money.nanos() < -999'999'999 || money.nanos() > 999'999'999) {
    v.Add("nanos", absl::StrCat("must be -999999999..999999999; got ", money.nanos()));
  } else if ((money.units() > 0 && money.nanos() < 0) || (money.units() < 0 && money.nanos() > 0)) {
    v.Add("nanos", absl::StrCat("must have the same sign as units (", money.units(), "); got ",
                                money.nanos()));
  } else if (money.units() == 0 && money.nanos() < 0) {
    v.Add("nanos", absl::StrCat("must not be negative; got ", money.nanos()));
  }
  CheckNoUnknownFields(v, money);
}

bool IsIntegralUnit(int unit) {
  return unit == v1::UNIT_COUNT || unit == v1::UNIT_PERSON || unit == v1::UNIT_PERSON_PER_YEAR ||
         unit == v1::UNIT_CONTAINER_TEU;
}

// A Quantity whose unit is one of `units` (any known unit when empty).
void CheckQuantity(const Violations& v, const v1::Quantity& quantity,
                   std::initializer_list<v1::Unit> units) {
  const double value = quantity.value();
  if (!std::isfinite(value)) {
    v.Add("value", absl::StrCat("must be a finite number; got ", Number(value)));
  } else if (value < 0) {
    v.Add("value", absl::StrCat("must be >= 0; got ", Number(value)));
  } else if (IsIntegralUnit(quantity.unit()) && std::trunc(value) != value) {
    v.Add("value", absl::StrCat("must be a whole number for ", EnumName<v1::Unit>(quantity.unit()),
                                "; got ", Number(value)));
  }
  CheckEnum(v, "unit", quantity.unit(), kRequired, units);
  CheckEnum<v1::Qualifier>(v, "qualifier", quantity.qualifier(), kRequired);
  CheckNoUnknownFields(v, quantity);
}

constexpr std::initializer_list<v1::Unit> kAreaUnits = {v1::UNIT_SQUARE_METRE, v1::UNIT_HECTARE,
                                                        v1::UNIT_SQUARE_KILOMETRE};

// A percentage in 0..100 (> 0 when `exclusive_zero`).
void CheckPercent(const Violations& v, absl::string_view field, double percent,
                  bool exclusive_zero) {
  const bool in_range =
      std::isfinite(percent) && percent <= 100 && (exclusive_zero ? percent > 0 : percent >= 0);
  if (!in_range) {
    v.Add(field, absl::StrCat("must be a finite number ", exclusive_zero ? "> 0" : ">= 0",
                              " and <= 100; got ", Number(percent)));
  }
}

void CheckShare(const Violations& v, const v1::Share& share) {
  CheckPercent(v, "percent", share.percent(), /*exclusive_zero=*/true);
  CheckEnum<v1::Qualifier>(v, "qualifier", share.qualifier(), kRequired);
  CheckText(v, "description", share.description(), kRequired, 500);
  CheckNoUnknownFields(v, share);
}

void CheckShareList(const Violations& v, absl::string_view field,
                    const RepeatedPtrField<v1::Share>& shares, int max) {
  CheckMaxEntries(v, field, shares.size(), max);
  for (int i = 0; i < shares.size(); ++i) CheckShare(v.Element(field, i), shares[i]);
}

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Days as yyyymmdd, which order like the days they name.
int DayNumber(int year, int month, int day) { return year * 10000 + month * 100 + day; }

std::string FormatDay(int day_number) {
  char text[16];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02d", day_number / 10000, day_number / 100 % 100,
                day_number % 100);
  return text;
}

// "2026", "2026-04" or "2026-04-10": the parts that are known (not 0).
std::string FormatPartialDate(int year, int month, int day) {
  std::string text = absl::StrCat(year);
  char part[16];
  if (month != 0) {
    std::snprintf(part, sizeof(part), "-%02d", month);
    text += part;
  }
  if (day != 0) {
    std::snprintf(part, sizeof(part), "-%02d", day);
    text += part;
  }
  return text;
}

std::string FormatPartialDate(const v1::PartialDate& date) {
  return FormatPartialDate(date.year(), date.month(), date.day());
}

// The days a valid partial date or period covers, both ends inclusive.
struct DaySpan {
  int first;
  int last;
};

DaySpan SpanOf(const v1::PartialDate& date) {
  const int first_month = std::max(date.month(), 1);
  const int last_month = date.month() == 0 ? 12 : date.month();
  return {DayNumber(date.year(), first_month, std::max(date.day(), 1)),
          DayNumber(date.year(), last_month,
                    date.day() != 0 ? date.day() : DaysInMonth(date.year(), last_month))};
}

// The span of `date`, or nullopt when it breaks a rule (reported).
std::optional<DaySpan> CheckPartialDate(const Violations& v, const v1::PartialDate& date,
                                        Future future, const Context& ctx) {
  bool valid = true;
  if (date.year() < 1900 || date.year() > 2200) {
    v.Add("year", absl::StrCat("must be 1900..2200; got ", date.year()));
    valid = false;
  }
  if (date.month() < 0 || date.month() > 12) {
    v.Add("month", absl::StrCat("must be 1..12, or 0 when unknown; got ", date.month()));
    valid = false;
  } else if (date.day() != 0 && date.month() == 0) {
    v.Add("day", absl::StrCat("requires month to be set; got day ", date.day(), " without month"));
    valid = false;
  } else if (date.day() != 0) {
    const int last_day = DaysInMonth(date.year(), date.month());
    if (date.day() < 0 || date.day() > last_day) {
      v.Add("day", absl::StrCat("must be 1..", last_day, " for ",
                                FormatPartialDate(date.year(), date.month(), 0),
                                ", or 0 when unknown; got ", date.day()));
      valid = false;
    }
  }
  CheckNoUnknownFields(v, date);
  if (!valid) return std::nullopt;
  const DaySpan span = SpanOf(date);
  if (future == kNotInFuture && ctx.recorded_day.has_value() && span.first > *ctx.recorded_day) {
    v.Add(absl::StrCat("must not be in the future: ", FormatPartialDate(date), " begins after ",
                       FormatDay(*ctx.recorded_day), ", the UTC date the event is recorded"));
  }
  return span;
}

std::optional<DaySpan> CheckDateField(const Violations& v, absl::string_view field, bool present,
                                      const v1::PartialDate& date, Presence presence, Future future,
                                      const Context& ctx) {
  if (present) return CheckPartialDate(v.Field(field), date, future, ctx);
  if (presence == kRequired) v.Add(field, "required");
  return std::nullopt;
}

std::optional<DaySpan> CheckPeriod(const Violations& v, const v1::Period& period,
                                   const Context& ctx) {
  const std::optional<DaySpan> start =
      CheckDateField(v, "start", period.has_start(), period.start(), kRequired, kAnyDate, ctx);
  const std::optional<DaySpan> end =
      CheckDateField(v, "end", period.has_end(), period.end(), kOptional, kAnyDate, ctx);
  CheckNoUnknownFields(v, period);
  if (!start.has_value() || (period.has_end() && !end.has_value())) return std::nullopt;
  if (!end.has_value()) return start;
  if (end->last < start->first) {
    v.Add("end", absl::StrCat("must not end before start begins: ", FormatPartialDate(period.end()),
                              " is before ", FormatPartialDate(period.start())));
    return std::nullopt;
  }
  return DaySpan{start->first, end->last};
}

std::optional<DaySpan> CheckPeriodField(const Violations& v, absl::string_view field, bool present,
                                        const v1::Period& period, Presence presence,
                                        const Context& ctx) {
  if (present) return CheckPeriod(v.Field(field), period, ctx);
  if (presence == kRequired) v.Add(field, "required");
  return std::nullopt;
}

// A GrowthRatio; its periods must lie within `within` when given (TradeUpdate.period).
void CheckGrowthRatio(const Violations& v, const v1::GrowthRatio& growth,
                      std::optional<DaySpan> within, const Context& ctx) {
  if (!std::isfinite(growth.ratio()) || growth.ratio() <= 0) {
    v.Add("ratio", absl::StrCat("must be a finite number > 0; got ", Number(growth.ratio())));
  }
  CheckEnum<v1::Qualifier>(v, "qualifier", growth.qualifier(), kRequired);
  const auto check_period = [&](absl::string_view field, bool present, const v1::Period& period) {
    const std::optional<DaySpan> span = CheckPeriodField(v, field, present, period, kOptional, ctx);
    if (span.has_value() && within.has_value() &&
        (span->first < within->first || span->last > within->last)) {
      v.Add(field, absl::StrCat("must lie within the period of the update, ",
                                FormatDay(within->first), " to ", FormatDay(within->last)));
    }
    return span;
  };
  const std::optional<DaySpan> base =
      check_period("base_period", growth.has_base_period(), growth.base_period());
  const std::optional<DaySpan> compared =
      check_period("compared_period", growth.has_compared_period(), growth.compared_period());
  if (base.has_value() && compared.has_value() && compared->first < base->first) {
    v.Add("compared_period", "must not start before base_period starts");
  }
  CheckNoUnknownFields(v, growth);
}

void CheckTime(const Violations& v, const google::protobuf::Timestamp& time, const Context& ctx) {
  if (time.nanos() < 0 || time.nanos() > 999'999'999) {
    v.Add("nanos", absl::StrCat("must be 0..999999999; got ", time.nanos()));
  } else if (time.seconds() < kEarliestEventSeconds) {
    v.Add("must not be before 1900-01-01T00:00:00Z");
  } else if (ctx.recorded_time.has_value()) {
    const absl::Time latest = *ctx.recorded_time + kMaxClockSkew;
    if (absl::FromUnixSeconds(time.seconds()) + absl::Nanoseconds(time.nanos()) > latest) {
      v.Add(absl::StrCat(
          "must not be more than 5 minutes after the time the event is recorded, ",
          absl::FormatTime(absl::RFC3339_full, *ctx.recorded_time, absl::UTCTimeZone())));
    }
  }
  CheckNoUnknownFields(v, time);
}

// Whether `party` is one of the principals (equal party_id, or equal name and region when the
// principal has no party_id).
bool IsPrincipal(const v1::Party& party, const RepeatedPtrField<v1::InvolvedParty>& parties) {
  return std::any_of(parties.begin(), parties.end(), [&](const v1::InvolvedParty& involved) {
    if (involved.role() != v1::PARTY_ROLE_PRINCIPAL) return false;
    const v1::Party& principal = involved.party();
    if (!principal.party_id().empty()) return principal.party_id() == party.party_id();
    return principal.name() == party.name() && principal.region().code() == party.region().code();
  });
}

// "At least two have role PARTY_ROLE_PRINCIPAL", which also covers the minimum of two entries,
// so that a list with one party is one violation, not two.
void CheckPrincipalCount(const Violations& v, absl::string_view field,
                         const RepeatedPtrField<v1::InvolvedParty>& parties) {
  const auto principals =
      std::count_if(parties.begin(), parties.end(), [](const v1::InvolvedParty& involved) {
        return involved.role() == v1::PARTY_ROLE_PRINCIPAL;
      });
  if (principals < 2) {
    v.Add(field, absl::StrCat("must include at least two parties with role PARTY_ROLE_PRINCIPAL; "
                              "got ",
                              principals, " among ", parties.size(), " parties"));
  }
}

void CheckInvolvedParties(const Violations& v, absl::string_view field,
                          const RepeatedPtrField<v1::InvolvedParty>& parties, int max,
                          std::initializer_list<v1::PartyRole> roles, bool unique_party_ids) {
  CheckMaxEntries(v, field, parties.size(), max);
  std::map<std::string, int> first_with_id;
  for (int i = 0; i < parties.size(); ++i) {
    const Violations at = v.Element(field, i);
    const v1::InvolvedParty& involved = parties[i];
    if (!involved.has_party()) {
      at.Add("party", "required");
    } else {
      CheckParty(at.Field("party"), involved.party());
      const std::string& id = involved.party().party_id();
      if (unique_party_ids && !id.empty()) {
        const auto [it, inserted] = first_with_id.emplace(id, i);
        if (!inserted) {
          at.Field("party").Add("party_id",
                                absl::StrCat("must be unique among the parties; ", Quote(id),
                                             " is also the id of ", field, "[", it->second, "]"));
        }
      }
    }
    CheckEnum(at, "role", involved.role(), kRequired, roles);
    CheckNoUnknownFields(at, involved);
  }
}

bool RoleNeedsParty(int role) {
  return role == v1::PARTICIPANT_ROLE_SIGNATORY || role == v1::PARTICIPANT_ROLE_WITNESS ||
         role == v1::PARTICIPANT_ROLE_HEAD_OF_DELEGATION ||
         role == v1::PARTICIPANT_ROLE_DELEGATION_MEMBER || role == v1::PARTICIPANT_ROLE_HOST;
}

// Participants with the roles the holding field allows. When `principals` is given, a
// signatory's party must be one of them.
void CheckParticipants(const Violations& v, absl::string_view field,
                       const RepeatedPtrField<v1::Participant>& participants, int max,
                       std::initializer_list<v1::ParticipantRole> roles,
                       const RepeatedPtrField<v1::InvolvedParty>* principals = nullptr) {
  CheckMaxEntries(v, field, participants.size(), max);
  for (int i = 0; i < participants.size(); ++i) {
    const Violations at = v.Element(field, i);
    const v1::Participant& participant = participants[i];
    if (!participant.has_person()) {
      at.Add("person", "required");
    } else {
      CheckPerson(at.Field("person"), participant.person());
    }
    CheckEnum(at, "role", participant.role(), kRequired, roles);
    if (participant.has_party()) {
      CheckParty(at.Field("party"), participant.party());
      if (principals != nullptr && participant.role() == v1::PARTICIPANT_ROLE_SIGNATORY &&
          !IsPrincipal(participant.party(), *principals)) {
        at.Add("party",
               "must be one of the principal parties (parties with role "
               "PARTY_ROLE_PRINCIPAL): equal party_id, or equal name and region when "
               "the principal has no party_id");
      }
    } else if (RoleNeedsParty(participant.role())) {
      at.Add("party",
             absl::StrCat("required for role ", EnumName<v1::ParticipantRole>(participant.role())));
    }
    CheckNoUnknownFields(at, participant);
  }
}

void CheckSignatoryPresent(const Violations& v,
                           const RepeatedPtrField<v1::Participant>& participants) {
  const bool has_signatory = std::any_of(
      participants.begin(), participants.end(),
      [](const v1::Participant& p) { return p.role() == v1::PARTICIPANT_ROLE_SIGNATORY; });
  if (!has_signatory) {
    v.Add("participants",
          "must include at least one participant with role PARTICIPANT_ROLE_SIGNATORY");
  }
}

void CheckMemorandumSigned(const Violations& v, const v1::MemorandumSigned& memo,
                           const Context& ctx) {
  CheckSlug(v, "agreement_id", memo.agreement_id(), kRequired);
  CheckText(v, "title", memo.title(), kRequired, 500);
  CheckPrincipalCount(v, "parties", memo.parties());
  CheckInvolvedParties(v, "parties", memo.parties(), 50,
                       {v1::PARTY_ROLE_PRINCIPAL, v1::PARTY_ROLE_COORDINATOR,
                        v1::PARTY_ROLE_PARTNER, v1::PARTY_ROLE_OBSERVER},
                       /*unique_party_ids=*/true);
  CheckSignatoryPresent(v, memo.participants());
  CheckParticipants(v, "participants", memo.participants(), 200,
                    {v1::PARTICIPANT_ROLE_SIGNATORY, v1::PARTICIPANT_ROLE_WITNESS,
                     v1::PARTICIPANT_ROLE_SPEAKER, v1::PARTICIPANT_ROLE_HOST},
                    &memo.parties());
  CheckDateField(v, "signed_on", memo.has_signed_on(), memo.signed_on(), kRequired, kNotInFuture,
                 ctx);
  if (memo.has_place()) CheckPlace(v.Field("place"), memo.place());
  CheckText(v, "occasion", memo.occasion(), kOptional, 300);
  CheckAreas(v, "areas", memo.areas());
  CheckText(v, "summary", memo.summary(), kOptional, 4000, kMultiLine);
  CheckNoUnknownFields(v, memo);
}

void CheckAgreementSigned(const Violations& v, const v1::AgreementSigned& agreement,
                          const Context& ctx) {
  CheckSlug(v, "agreement_id", agreement.agreement_id(), kRequired);
  CheckText(v, "title", agreement.title(), kRequired, 500);
  CheckPrincipalCount(v, "parties", agreement.parties());
  CheckInvolvedParties(v, "parties", agreement.parties(), 50, {}, /*unique_party_ids=*/true);
  CheckParticipants(v, "participants", agreement.participants(), 200,
                    {v1::PARTICIPANT_ROLE_SIGNATORY, v1::PARTICIPANT_ROLE_WITNESS,
                     v1::PARTICIPANT_ROLE_SPEAKER, v1::PARTICIPANT_ROLE_HOST},
                    &agreement.parties());
  CheckDateField(v, "signed_on", agreement.has_signed_on(), agreement.signed_on(), kRequired,
                 kNotInFuture, ctx);
  if (agreement.has_place()) CheckPlace(v.Field("place"), agreement.place());
  CheckText(v, "occasion", agreement.occasion(), kOptional, 300);
  CheckText(v, "purpose", agreement.purpose(), kOptional, 4000, kMultiLine);
  CheckAreas(v, "areas", agreement.areas());
  CheckSlugList(v, "hub_ids", agreement.hub_ids(), 20);
  CheckNoUnknownFields(v, agreement);
}

void CheckAgreementAmended(const Violations& v, const v1::AgreementAmended& amended,
                           const Context& ctx) {
  CheckSlug(v, "agreement_id", amended.agreement_id(), kRequired);
  CheckText(v, "summary", amended.summary(), kRequired, 4000, kMultiLine);
  CheckDateField(v, "effective_on", amended.has_effective_on(), amended.effective_on(), kRequired,
                 kAnyDate, ctx);
  CheckEnum(v, "new_status", amended.new_status(), kRequired,
            {v1::AGREEMENT_STATUS_IN_FORCE, v1::AGREEMENT_STATUS_AMENDED,
             v1::AGREEMENT_STATUS_TERMINATED});
  CheckParticipants(v, "participants", amended.participants(), 200,
                    {v1::PARTICIPANT_ROLE_SIGNATORY, v1::PARTICIPANT_ROLE_WITNESS});
  CheckNoUnknownFields(v, amended);
}

void CheckFacility(const Violations& v, const v1::Facility& facility) {
  CheckEnum<v1::FacilityKind>(v, "kind", facility.kind(), kRequired);
  CheckText(v, "name", facility.name(),
            facility.kind() == v1::FACILITY_KIND_OTHER ? kRequired : kOptional, 300);
  if (facility.has_size()) CheckQuantity(v.Field("size"), facility.size(), kAreaUnits);
  CheckNoUnknownFields(v, facility);
}

void CheckCapacityFigure(const Violations& v, const v1::CapacityFigure& capacity) {
  CheckText(v, "name", capacity.name(), kRequired, 300);
  if (capacity.has_baseline()) {
    CheckQuantity(v.Field("baseline"), capacity.baseline(), {});
    if (capacity.has_target() && capacity.baseline().unit() != capacity.target().unit()) {
      v.Field("baseline")
          .Add("unit", absl::StrCat("must equal target.unit (",
                                    EnumName<v1::Unit>(capacity.target().unit()), "); got ",
                                    EnumName<v1::Unit>(capacity.baseline().unit())));
    }
  }
  if (!capacity.has_target()) {
    v.Add("target", "required");
  } else {
    CheckQuantity(v.Field("target"), capacity.target(), {});
  }
  CheckRegionField(v, "partner", capacity.has_partner(), capacity.partner(), kOptional);
  CheckNoUnknownFields(v, capacity);
}

// Whether a HubMilestone date is required, forbidden or optional for a milestone kind.
enum class DateNeed { kOptional, kRequired, kForbidden };
struct HubDateNeeds {
  DateNeed planned_on = DateNeed::kOptional;
  DateNeed actual_on = DateNeed::kOptional;
};

HubDateNeeds HubDateNeedsOf(int kind) {
  switch (kind) {
    case v1::HUB_MILESTONE_KIND_PLANNED:
    case v1::HUB_MILESTONE_KIND_PLAN_REVISED:
      return {.planned_on = DateNeed::kRequired, .actual_on = DateNeed::kForbidden};
    case v1::HUB_MILESTONE_KIND_CONSTRUCTION_STARTED:
    case v1::HUB_MILESTONE_KIND_PHASE_COMPLETED:
    case v1::HUB_MILESTONE_KIND_COMPLETED:
    case v1::HUB_MILESTONE_KIND_OPERATION_STARTED:
      return {.actual_on = DateNeed::kRequired};
    default:
      return {};
  }
}

void CheckHubDate(const Violations& v, absl::string_view field, bool present,
                  const v1::PartialDate& date, DateNeed need, int kind, Future future,
                  const Context& ctx) {
  const std::string kind_name = EnumName<v1::HubMilestoneKind>(kind);
  if (present && need == DateNeed::kForbidden) {
    v.Add(field, absl::StrCat("must be unset for ", kind_name));
  } else if (!present && need == DateNeed::kRequired) {
    v.Add(field, absl::StrCat("required for ", kind_name));
  } else if (present) {
    CheckPartialDate(v.Field(field), date, future, ctx);
  }
}

void CheckHubMilestone(const Violations& v, const v1::HubMilestone& hub, const Context& ctx) {
  const int kind = hub.milestone_kind();
  const std::string kind_name = EnumName<v1::HubMilestoneKind>(kind);
  CheckSlug(v, "hub_id", hub.hub_id(), kRequired);
  CheckText(v, "hub_name", hub.hub_name(), kRequired, 300);
  CheckEnum<v1::HubKind>(v, "hub_kind", hub.hub_kind(), kRequired);
  if (!hub.has_location()) {
    v.Add("location", "required");
  } else {
    CheckPlace(v.Field("location"), hub.location());
  }
  CheckEnum<v1::HubMilestoneKind>(v, "milestone_kind", kind, kRequired);
  if (hub.phase() < 0 || hub.phase() > 99) {
    v.Add("phase", absl::StrCat("must be 0..99; got ", hub.phase()));
  } else if (kind == v1::HUB_MILESTONE_KIND_PHASE_COMPLETED && hub.phase() < 1) {
    v.Add("phase", absl::StrCat("must be >= 1 for ", kind_name, "; got ", hub.phase()));
  } else if (kind == v1::HUB_MILESTONE_KIND_COMPLETED && hub.phase() != 0) {
    v.Add("phase",
          absl::StrCat("must be 0 (the hub as a whole) for ", kind_name, "; got ", hub.phase()));
  }
  const HubDateNeeds needs = HubDateNeedsOf(kind);
  CheckHubDate(v, "planned_on", hub.has_planned_on(), hub.planned_on(), needs.planned_on, kind,
               kAnyDate, ctx);
  CheckHubDate(v, "actual_on", hub.has_actual_on(), hub.actual_on(), needs.actual_on, kind,
               kNotInFuture, ctx);
  CheckInvolvedParties(v, "parties", hub.parties(), 50,
                       {v1::PARTY_ROLE_OPERATOR, v1::PARTY_ROLE_INVESTOR, v1::PARTY_ROLE_OWNER,
                        v1::PARTY_ROLE_COORDINATOR, v1::PARTY_ROLE_PARTNER},
                       /*unique_party_ids=*/true);
  if (hub.has_total_area()) CheckQuantity(v.Field("total_area"), hub.total_area(), kAreaUnits);
  if (hub.has_investment()) CheckMoney(v.Field("investment"), hub.investment());
  if (hub.has_jobs() && (hub.jobs() < 0 || hub.jobs() > 10'000'000)) {
    v.Add("jobs", absl::StrCat("must be 0..10000000; got ", hub.jobs()));
  }
  CheckMaxEntries(v, "capacities", hub.capacities_size(), 50);
  for (int i = 0; i < hub.capacities_size(); ++i) {
    CheckCapacityFigure(v.Element("capacities", i), hub.capacities(i));
  }
  if (hub.has_percent_complete()) {
    CheckPercent(v, "percent_complete", hub.percent_complete(), /*exclusive_zero=*/false);
  } else if (kind == v1::HUB_MILESTONE_KIND_PROGRESS_REPORTED) {
    v.Add("percent_complete", absl::StrCat("required for ", kind_name));
  }
  CheckShareList(v, "shares", hub.shares(), 20);
  CheckMaxEntries(v, "participating_countries", hub.participating_countries_size(), 50);
  for (int i = 0; i < hub.participating_countries_size(); ++i) {
    CheckRegionRef(v.Element("participating_countries", i), hub.participating_countries(i),
                   kCountryOnly);
  }
  CheckUnique(v, "participating_countries", hub.participating_countries(),
              [](const v1::RegionRef& country) { return country.code(); });
  CheckMaxEntries(v, "facilities", hub.facilities_size(), 100);
  for (int i = 0; i < hub.facilities_size(); ++i) {
    CheckFacility(v.Element("facilities", i), hub.facilities(i));
  }
  CheckSlugList(v, "agreement_ids", hub.agreement_ids(), 20);
  CheckText(v, "description", hub.description(), kOptional, 4000, kMultiLine);
  CheckNoUnknownFields(v, hub);
}

void CheckTradeCategory(const Violations& v, const v1::TradeCategory& category) {
  CheckText(v, "name", category.name(), kRequired, 300);
  const std::string& hs_code = category.hs_code();
  const bool valid_hs_code = (hs_code.size() == 2 || hs_code.size() == 4 || hs_code.size() == 6) &&
                             std::all_of(hs_code.begin(), hs_code.end(), absl::ascii_isdigit);
  if (!hs_code.empty() && !valid_hs_code) {
    v.Add("hs_code", absl::StrCat("must be a Harmonized System code of 2, 4 or 6 digits such as "
                                  "'33'; got ",
                                  Quote(hs_code)));
  }
  CheckNoUnknownFields(v, category);
}

// A second region that must not name the same place as the first (nor, when `or_country`, be
// its country or a subdivision of it). Both codes must be well-formed.
void CheckDistinctRegion(const Violations& v, absl::string_view field, absl::string_view code,
                         absl::string_view other_field, absl::string_view other_code,
                         bool or_country) {
  if (!IsCode(code, kRegionOrCountry) || !IsCode(other_code, kRegionOrCountry)) return;
  const Overlap overlap = RegionOverlap(code, other_code);
  if (overlap == Overlap::kSame) {
    v.Field(field).Add(
        "code", absl::StrCat("must differ from ", other_field, ".code; both are ", Quote(code)));
  } else if (overlap == Overlap::kCountryOf && or_country) {
    v.Field(field).Add("code", absl::StrCat("must not be the country of ", other_field,
                                            ".code or a subdivision of it; got ", Quote(code),
                                            " with ", Quote(other_code)));
  }
}

void CheckTradeUpdate(const Violations& v, const v1::TradeUpdate& trade, const Context& ctx) {
  if (!trade.has_value() && !trade.has_volume() && !trade.has_growth() &&
      trade.trend() == v1::TRADE_TREND_UNSPECIFIED) {
    v.Add("must state at least one of value, volume, growth and trend");
  }
  CheckRegionField(v, "reporting_region", trade.has_reporting_region(), trade.reporting_region(),
                   kRequired);
  CheckRegionField(v, "partner_region", trade.has_partner_region(), trade.partner_region(),
                   kRequired);
  CheckDistinctRegion(v, "partner_region", trade.partner_region().code(), "reporting_region",
                      trade.reporting_region().code(), /*or_country=*/true);
  const std::optional<DaySpan> period =
      CheckPeriodField(v, "period", trade.has_period(), trade.period(), kRequired, ctx);
  CheckEnum<v1::TradeDirection>(v, "direction", trade.direction(), kRequired);
  if (trade.has_category()) CheckTradeCategory(v.Field("category"), trade.category());
  if (trade.has_value()) CheckMoney(v.Field("value"), trade.value());
  if (trade.has_volume()) {
    CheckQuantity(v.Field("volume"), trade.volume(), {v1::UNIT_TONNE, v1::UNIT_CONTAINER_TEU});
  }
  if (trade.has_growth()) CheckGrowthRatio(v.Field("growth"), trade.growth(), period, ctx);
  CheckEnum<v1::TradeTrend>(v, "trend", trade.trend(), kOptional);
  CheckText(v, "note", trade.note(), kOptional, 2000, kMultiLine);
  CheckNoUnknownFields(v, trade);
}

void CheckInvestmentIncentive(const Violations& v, const v1::InvestmentIncentive& incentive) {
  const int kind = incentive.kind();
  CheckSlug(v, "incentive_id", incentive.incentive_id(), kRequired);
  CheckRegionField(v, "region", incentive.has_region(), incentive.region(), kRequired);
  CheckSlug(v, "hub_id", incentive.hub_id(), kOptional);
  CheckEnum<v1::IncentiveKind>(v, "kind", kind, kRequired);
  if (incentive.has_relief_percent()) {
    const bool known_kind = kind != 0 && v1::IncentiveKind_IsValid(kind);
    if (known_kind && kind != v1::INCENTIVE_KIND_TAX_RELIEF &&
        kind != v1::INCENTIVE_KIND_CUSTOMS_RELIEF) {
      v.Add("relief_percent", absl::StrCat("allowed only for INCENTIVE_KIND_TAX_RELIEF and "
                                           "INCENTIVE_KIND_CUSTOMS_RELIEF; kind is ",
                                           EnumName<v1::IncentiveKind>(kind)));
    } else {
      CheckPercent(v, "relief_percent", incentive.relief_percent(), /*exclusive_zero=*/true);
    }
  }
  CheckText(v, "condition", incentive.condition(), kOptional, 2000, kMultiLine);
  if (incentive.has_condition_share()) {
    CheckShare(v.Field("condition_share"), incentive.condition_share());
  }
  CheckText(v, "beneficiaries", incentive.beneficiaries(), kOptional, 500);
  if (incentive.has_offered_by()) CheckParty(v.Field("offered_by"), incentive.offered_by());
  CheckText(v, "description", incentive.description(),
            kind == v1::INCENTIVE_KIND_OTHER ? kRequired : kOptional, 4000, kMultiLine);
  CheckNoUnknownFields(v, incentive);
}

void CheckIndustrialSite(const Violations& v, const v1::IndustrialSite& site) {
  CheckSlug(v, "site_id", site.site_id(), kRequired);
  CheckText(v, "name", site.name(), kRequired, 300);
  CheckRegionField(v, "region", site.has_region(), site.region(), kRequired, kSubdivisionOnly);
  CheckText(v, "locality", site.locality(), kOptional, 300);
  CheckEnum<v1::SiteFormat>(v, "format", site.format(), kRequired);
  if (site.has_launch_lead_time()) {
    CheckQuantity(v.Field("launch_lead_time"), site.launch_lead_time(),
                  {v1::UNIT_DAY, v1::UNIT_WEEK, v1::UNIT_MONTH, v1::UNIT_YEAR});
  }
  if (site.has_operated_by()) CheckParty(v.Field("operated_by"), site.operated_by());
  CheckText(v, "description", site.description(), kOptional, 4000, kMultiLine);
  CheckNoUnknownFields(v, site);
}

// The unit a RegionFactKind names.
v1::Unit UnitOfFact(int kind) {
  switch (kind) {
    case v1::REGION_FACT_KIND_POPULATION:
    case v1::REGION_FACT_KIND_BORDER_POPULATION:
      return v1::UNIT_PERSON;
    case v1::REGION_FACT_KIND_AREA:
      return v1::UNIT_SQUARE_KILOMETRE;
    case v1::REGION_FACT_KIND_BORDER_LENGTH:
      return v1::UNIT_KILOMETRE;
    default:
      return v1::UNIT_COUNT;
  }
}

bool IsBorderFact(int kind) {
  return kind == v1::REGION_FACT_KIND_BORDER_REGION_COUNT ||
         kind == v1::REGION_FACT_KIND_BORDER_POPULATION ||
         kind == v1::REGION_FACT_KIND_BORDER_LENGTH ||
         kind == v1::REGION_FACT_KIND_BORDER_WORLD_RANK;
}

void CheckRegionFact(const Violations& v, const v1::RegionFact& fact, absl::string_view region) {
  const int kind = fact.kind();
  CheckEnum<v1::RegionFactKind>(v, "kind", kind, kRequired);
  const bool known_kind = kind != 0 && v1::RegionFactKind_IsValid(kind);
  if (!fact.has_value()) {
    v.Add("value", "required");
  } else if (known_kind) {
    CheckQuantity(v.Field("value"), fact.value(), {UnitOfFact(kind)});
    if (kind == v1::REGION_FACT_KIND_BORDER_WORLD_RANK && fact.value().value() < 1) {
      v.Field("value").Add(
          "value", absl::StrCat("must be >= 1 (1 = longest); got ", Number(fact.value().value())));
    }
  } else {
    CheckQuantity(v.Field("value"), fact.value(), {});
  }
  if (known_kind && IsBorderFact(kind) && !fact.has_counterpart()) {
    v.Add("counterpart", absl::StrCat("required for ", EnumName<v1::RegionFactKind>(kind)));
  } else if (known_kind && !IsBorderFact(kind) && fact.has_counterpart()) {
    v.Add("counterpart", absl::StrCat("must be unset for ", EnumName<v1::RegionFactKind>(kind)));
  } else if (fact.has_counterpart()) {
    CheckRegionRef(v.Field("counterpart"), fact.counterpart(), kRegionOrCountry);
    if (fact.counterpart().code() == region) {
      v.Field("counterpart")
          .Add("code",
               absl::StrCat("must differ from the profile's region; both are ", Quote(region)));
    }
  }
  CheckText(v, "note", fact.note(), kOptional, 1000);
  CheckNoUnknownFields(v, fact);
}

void CheckRegionProfile(const Violations& v, const v1::RegionProfile& profile, const Context& ctx) {
  CheckRegionField(v, "region", profile.has_region(), profile.region(), kRequired);
  CheckDateField(v, "as_of", profile.has_as_of(), profile.as_of(), kOptional, kAnyDate, ctx);
  if (profile.facts().empty()) {
    v.Add("facts", "required: 1..100 facts");
  }
  CheckMaxEntries(v, "facts", profile.facts_size(), 100);
  for (int i = 0; i < profile.facts_size(); ++i) {
    CheckRegionFact(v.Element("facts", i), profile.facts(i), profile.region().code());
  }
  CheckUnique(v, "facts", profile.facts(), [](const v1::RegionFact& fact) {
    return std::make_pair(fact.kind(), fact.counterpart().code());
  });
  CheckNoUnknownFields(v, profile);
}

void CheckDelegationVisit(const Violations& v, const v1::DelegationVisit& visit,
                          const Context& ctx) {
  CheckRegionField(v, "visiting_region", visit.has_visiting_region(), visit.visiting_region(),
                   kRequired);
  CheckRegionField(v, "host_region", visit.has_host_region(), visit.host_region(), kRequired);
  CheckDistinctRegion(v, "host_region", visit.host_region().code(), "visiting_region",
                      visit.visiting_region().code(), /*or_country=*/false);
  CheckPeriodField(v, "dates", visit.has_dates(), visit.dates(), kRequired, ctx);
  CheckParticipants(
      v, "participants", visit.participants(), 200,
      {v1::PARTICIPANT_ROLE_HEAD_OF_DELEGATION, v1::PARTICIPANT_ROLE_DELEGATION_MEMBER,
       v1::PARTICIPANT_ROLE_HOST, v1::PARTICIPANT_ROLE_SPEAKER});
  std::optional<int> head;
  for (int i = 0; i < visit.participants_size(); ++i) {
    if (visit.participants(i).role() != v1::PARTICIPANT_ROLE_HEAD_OF_DELEGATION) continue;
    if (head.has_value()) {
      v.Element("participants", i)
          .Add("role", absl::StrCat("at most one participant may be "
                                    "PARTICIPANT_ROLE_HEAD_OF_DELEGATION; participants[",
                                    *head, "] already is"));
    } else {
      head = i;
    }
  }
  CheckPlaceList(v, "places_visited", visit.places_visited(), 50);
  CheckSlugList(v, "site_ids", visit.site_ids(), 50);
  CheckSlugList(v, "hub_ids", visit.hub_ids(), 50);
  CheckText(v, "purpose", visit.purpose(), kOptional, 2000, kMultiLine);
  CheckText(v, "occasion", visit.occasion(), kOptional, 300);
  CheckNoUnknownFields(v, visit);
}

void CheckAttraction(const Violations& v, const v1::Attraction& attraction) {
  CheckText(v, "name", attraction.name(), kRequired, 300);
  CheckEnum<v1::AttractionKind>(v, "kind", attraction.kind(), kRequired);
  if (attraction.has_place()) CheckPlace(v.Field("place"), attraction.place());
  CheckNoUnknownFields(v, attraction);
}

void CheckTourismFlow(const Violations& v, const v1::TourismFlow& flow, const Context& ctx) {
  CheckRegionField(v, "origin", flow.has_origin(), flow.origin(), kOptional);
  CheckRegionField(v, "destination", flow.has_destination(), flow.destination(), kRequired);
  if (flow.has_origin()) {
    CheckDistinctRegion(v, "destination", flow.destination().code(), "origin", flow.origin().code(),
                        /*or_country=*/false);
  }
  CheckPeriodField(v, "period", flow.has_period(), flow.period(), kRequired, ctx);
  if (!flow.has_tourists()) {
    v.Add("tourists", "required");
  } else {
    CheckQuantity(v.Field("tourists"), flow.tourists(), {v1::UNIT_PERSON});
  }
  CheckShareList(v, "shares", flow.shares(), 20);
  CheckMaxEntries(v, "attractions", flow.attractions_size(), 100);
  for (int i = 0; i < flow.attractions_size(); ++i) {
    CheckAttraction(v.Element("attractions", i), flow.attractions(i));
  }
  CheckText(v, "note", flow.note(), kOptional, 2000, kMultiLine);
  CheckNoUnknownFields(v, flow);
}

void CheckRoadMapItem(const Violations& v, const v1::RoadMapItem& item, const Context& ctx) {
  CheckSlug(v, "road_map_id", item.road_map_id(), kRequired);
  CheckText(v, "road_map_title", item.road_map_title(), kOptional, 500);
  CheckSlug(v, "item_id", item.item_id(), kRequired);
  CheckText(v, "title", item.title(), kRequired, 500);
  CheckEnum<v1::RoadMapItemKind>(v, "kind", item.kind(), kRequired);
  CheckEnum<v1::RoadMapItemStatus>(v, "status", item.status(), kRequired);
  CheckDateField(v, "due_on", item.has_due_on(), item.due_on(), kOptional, kAnyDate, ctx);
  CheckInvolvedParties(v, "parties", item.parties(), 50,
                       {v1::PARTY_ROLE_PRINCIPAL, v1::PARTY_ROLE_COORDINATOR,
                        v1::PARTY_ROLE_PARTNER, v1::PARTY_ROLE_OPERATOR},
                       /*unique_party_ids=*/false);
  CheckText(v, "occasion", item.occasion(), kOptional, 300);
  CheckPlaceList(v, "places", item.places(), 20);
  CheckAreas(v, "areas", item.areas());
  CheckText(v, "description", item.description(), kOptional, 4000, kMultiLine);
  CheckNoUnknownFields(v, item);
}

void CheckHonoree(const Violations& v, const v1::Honoree& honoree) {
  if (!honoree.has_person()) {
    v.Add("person", "required");
  } else {
    CheckPerson(v.Field("person"), honoree.person());
  }
  if (honoree.anniversary_years() < 0 || honoree.anniversary_years() > 1000) {
    v.Add("anniversary_years",
          absl::StrCat("must be 1..1000, or 0 for none; got ", honoree.anniversary_years()));
  }
  CheckNoUnknownFields(v, honoree);
}

void CheckCulturalEvent(const Violations& v, const v1::CulturalEvent& event, const Context& ctx) {
  CheckSlug(v, "cultural_event_id", event.cultural_event_id(), kRequired);
  CheckText(v, "title", event.title(), kRequired, 500);
  CheckText(v, "title_latin", event.title_latin(), kOptional, 500);
  CheckEnum<v1::CulturalEventKind>(v, "kind", event.kind(), kRequired);
  if (!event.has_venue()) {
    v.Add("venue", "required");
  } else {
    CheckPlace(v.Field("venue"), event.venue());
  }
  CheckDateField(v, "held_on", event.has_held_on(), event.held_on(), kRequired, kAnyDate, ctx);
  CheckMaxEntries(v, "honorees", event.honorees_size(), 20);
  for (int i = 0; i < event.honorees_size(); ++i) {
    CheckHonoree(v.Element("honorees", i), event.honorees(i));
  }
  CheckParticipants(
      v, "participants", event.participants(), 200,
      {v1::PARTICIPANT_ROLE_CONDUCTOR, v1::PARTICIPANT_ROLE_PERFORMER, v1::PARTICIPANT_ROLE_SPEAKER,
       v1::PARTICIPANT_ROLE_ORGANIZER, v1::PARTICIPANT_ROLE_HOST});
  CheckText(v, "programme", event.programme(), kOptional, 500);
  CheckText(v, "description", event.description(), kOptional, 4000, kMultiLine);
  CheckNoUnknownFields(v, event);
}

// The payload set in `holder` (Event.payload or EventCorrected.corrected, which share field
// numbers and types), `number` being its field number.
template <typename Holder>
void CheckPayload(const Violations& v, const Holder& holder, int number, const Context& ctx) {
  const Violations at = v.Field(Holder::descriptor()->FindFieldByNumber(number)->name());
  switch (number) {
    case v1::Event::kMemorandumSignedFieldNumber:
      return CheckMemorandumSigned(at, holder.memorandum_signed(), ctx);
    case v1::Event::kAgreementSignedFieldNumber:
      return CheckAgreementSigned(at, holder.agreement_signed(), ctx);
    case v1::Event::kHubMilestoneFieldNumber:
      return CheckHubMilestone(at, holder.hub_milestone(), ctx);
    case v1::Event::kTradeUpdateFieldNumber:
      return CheckTradeUpdate(at, holder.trade_update(), ctx);
    case v1::Event::kInvestmentIncentiveFieldNumber:
      return CheckInvestmentIncentive(at, holder.investment_incentive());
    case v1::Event::kIndustrialSiteFieldNumber:
      return CheckIndustrialSite(at, holder.industrial_site());
    case v1::Event::kRegionProfileFieldNumber:
      return CheckRegionProfile(at, holder.region_profile(), ctx);
    case v1::Event::kDelegationVisitFieldNumber:
      return CheckDelegationVisit(at, holder.delegation_visit(), ctx);
    case v1::Event::kTourismFlowFieldNumber:
      return CheckTourismFlow(at, holder.tourism_flow(), ctx);
    case v1::Event::kRoadMapItemFieldNumber:
      return CheckRoadMapItem(at, holder.road_map_item(), ctx);
    case v1::Event::kCulturalEventFieldNumber:
      return CheckCulturalEvent(at, holder.cultural_event(), ctx);
    case v1::Event::kAgreementAmendedFieldNumber:
      return CheckAgreementAmended(at, holder.agreement_amended(), ctx);
  }
}

void CheckEventCorrected(const Violations& v, const v1::EventCorrected& correction,
                         const Context& ctx) {
  CheckEventId(v, "corrected_event_id", correction.corrected_event_id(), kRequired);
  if (!correction.corrected_event_id().empty() && correction.corrected_event_id() == ctx.event_id) {
    v.Add("corrected_event_id",
          "must differ from the id of this event (an event cannot correct "
          "itself)");
  }
  CheckText(v, "reason", correction.reason(), kRequired, 2000, kMultiLine);
  if (correction.corrected_case() == v1::EventCorrected::CORRECTED_NOT_SET) {
    v.Add("corrected", "required: the full corrected payload");
  } else {
    CheckPayload(v, correction, correction.corrected_case(), ctx);
  }
  CheckNoUnknownFields(v, correction);
}

// The subject a payload requires: `pattern` for humans, `subject` unset when the payload's own
// fields are too broken to give one (their violations say why).
struct SubjectRule {
  std::string pattern;
  std::optional<std::string> subject;
};

SubjectRule SlugSubject(absl::string_view pattern, absl::string_view kind, absl::string_view slug) {
  if (!IsSlug(slug)) return {std::string(pattern), std::nullopt};
  return {std::string(pattern), absl::StrCat(kind, "/", slug)};
}

SubjectRule RegionSubject(absl::string_view pattern, absl::string_view code) {
  if (!IsCode(code, kRegionOrCountry)) return {std::string(pattern), std::nullopt};
  return {std::string(pattern), absl::StrCat("region/", code)};
}

SubjectRule RegionPairSubject(absl::string_view pattern, absl::string_view a, absl::string_view b) {
  if (!IsCode(a, kRegionOrCountry) || !IsCode(b, kRegionOrCountry) || a == b) {
    return {std::string(pattern), std::nullopt};
  }
  return {std::string(pattern), absl::StrCat("regions/", std::min(a, b), ":", std::max(a, b))};
}

template <typename Holder>
SubjectRule PayloadSubjectRule(const Holder& holder, int number) {
  switch (number) {
    case v1::Event::kMemorandumSignedFieldNumber:
      return SlugSubject("agreement/{agreement_id}", "agreement",
                         holder.memorandum_signed().agreement_id());
    case v1::Event::kAgreementSignedFieldNumber:
      return SlugSubject("agreement/{agreement_id}", "agreement",
                         holder.agreement_signed().agreement_id());
    case v1::Event::kHubMilestoneFieldNumber:
      return SlugSubject("hub/{hub_id}", "hub", holder.hub_milestone().hub_id());
    case v1::Event::kTradeUpdateFieldNumber:
      return RegionPairSubject("regions/{reporting_region}:{partner_region}, codes sorted",
                               holder.trade_update().reporting_region().code(),
                               holder.trade_update().partner_region().code());
    case v1::Event::kInvestmentIncentiveFieldNumber: {
      const v1::InvestmentIncentive& incentive = holder.investment_incentive();
      if (!incentive.hub_id().empty()) {
        return SlugSubject("hub/{hub_id} when hub_id is set", "hub", incentive.hub_id());
      }
      return RegionSubject("region/{region} without a hub_id", incentive.region().code());
    }
    case v1::Event::kIndustrialSiteFieldNumber:
      return SlugSubject("site/{site_id}", "site", holder.industrial_site().site_id());
    case v1::Event::kRegionProfileFieldNumber:
      return RegionSubject("region/{region}", holder.region_profile().region().code());
    case v1::Event::kDelegationVisitFieldNumber:
      return RegionPairSubject("regions/{visiting_region}:{host_region}, codes sorted",
                               holder.delegation_visit().visiting_region().code(),
                               holder.delegation_visit().host_region().code());
    case v1::Event::kTourismFlowFieldNumber: {
      const v1::TourismFlow& flow = holder.tourism_flow();
      if (flow.has_origin()) {
        return RegionPairSubject("regions/{origin}:{destination}, codes sorted",
                                 flow.origin().code(), flow.destination().code());
      }
      return RegionSubject("region/{destination} without an origin", flow.destination().code());
    }
    case v1::Event::kRoadMapItemFieldNumber:
      return SlugSubject("roadmap/{road_map_id}", "roadmap", holder.road_map_item().road_map_id());
    case v1::Event::kCulturalEventFieldNumber:
      return SlugSubject("culture/{cultural_event_id}", "culture",
                         holder.cultural_event().cultural_event_id());
    case v1::Event::kAgreementAmendedFieldNumber:
      return SlugSubject("agreement/{agreement_id}", "agreement",
                         holder.agreement_amended().agreement_id());
  }
  return {};
}

SubjectRule EventSubjectRule(const v1::Event& event) {
  if (event.has_event_corrected()) {
    const v1::EventCorrected& correction = event.event_corrected();
    SubjectRule rule = PayloadSubjectRule(correction, correction.corrected_case());
    rule.pattern = absl::StrCat("the subject of the corrected payload, ", rule.pattern);
    return rule;
  }
  return PayloadSubjectRule(event, event.payload_case());
}

bool IsSubject(absl::string_view subject) {
  if (subject.size() > kMaxSubjectChars) return false;
  for (absl::string_view kind : {"agreement/", "hub/", "site/", "roadmap/", "culture/"}) {
    if (absl::ConsumePrefix(&subject, kind)) return IsSlug(subject);
  }
  if (absl::ConsumePrefix(&subject, "region/")) return IsCode(subject, kRegionOrCountry);
  if (!absl::ConsumePrefix(&subject, "regions/")) return false;
  const size_t colon = subject.find(':');
  if (colon == absl::string_view::npos) return false;
  const absl::string_view a = subject.substr(0, colon);
  const absl::string_view b = subject.substr(colon + 1);
  return IsCode(a, kRegionOrCountry) && IsCode(b, kRegionOrCountry) && a < b;
}

// The field of the payload set in `event`, or nullptr.
const google::protobuf::FieldDescriptor* PayloadField(const v1::Event& event) {
  return event.GetReflection()->GetOneofFieldDescriptor(
      event, v1::Event::descriptor()->FindOneofByName("payload"));
}

void CheckType(const Violations& v, const v1::Event& event) {
  const google::protobuf::FieldDescriptor* payload = PayloadField(event);
  if (payload != nullptr) {
    const std::string& expected = payload->message_type()->full_name();
    if (event.type().empty()) {
      v.Add("type",
            absl::StrCat("required: '", expected, "' for the ", payload->name(), " payload"));
    } else if (event.type() != expected) {
      v.Add("type", absl::StrCat("must be '", expected, "' to name the payload that is set (",
                                 payload->name(), "); got ", Quote(event.type())));
    }
    return;
  }
  const google::protobuf::OneofDescriptor* oneof =
      v1::Event::descriptor()->FindOneofByName("payload");
  for (int i = 0; i < oneof->field_count(); ++i) {
    if (oneof->field(i)->message_type()->full_name() == event.type()) return;
  }
  constexpr absl::string_view kExpected =
      "'coop.v1.' followed by the payload message name, e.g. 'coop.v1.MemorandumSigned'";
  if (event.type().empty()) {
    v.Add("type", absl::StrCat("required: ", kExpected));
  } else {
    v.Add("type", absl::StrCat("must be ", kExpected, "; got ", Quote(event.type())));
  }
}

void CheckSubject(const Violations& v, const v1::Event& event) {
  const SubjectRule rule = EventSubjectRule(event);
  const std::string& subject = event.subject();
  if (rule.subject.has_value()) {
    if (subject.empty()) {
      v.Add("subject", absl::StrCat("required: '", *rule.subject, "' (", rule.pattern, ")"));
    } else if (subject != *rule.subject) {
      v.Add("subject", absl::StrCat("must be '", *rule.subject, "' (", rule.pattern, "); got ",
                                    Quote(subject)));
    }
    return;
  }
  if (subject.empty()) {
    v.Add("subject", "required");
  } else if (!IsSubject(subject)) {
    v.Add("subject",
          absl::StrCat("must be agreement/, hub/, site/, roadmap/ or culture/ followed by a Slug, "
                       "region/{code}, or regions/{code}:{code} with two different codes in "
                       "ascending order; got ",
                       Quote(subject)));
  }
}

// The serialized size without source and recorded_time, which the server overwrites.
size_t SizeWithoutServerFields(const v1::Event& event) {
  using google::protobuf::io::CodedOutputStream;
  // One tag byte each: both field numbers are below 16.
  const auto field_size = [](size_t length) {
    return 1 + CodedOutputStream::VarintSize64(length) + length;
  };
  size_t size = event.ByteSizeLong();
  if (!event.source().empty()) size -= field_size(event.source().size());
  if (event.has_recorded_time()) size -= field_size(event.recorded_time().ByteSizeLong());
  return size;
}

void CheckEvent(const Violations& v, const v1::Event& event, const ValidationLimits& limits,
                const Context& ctx) {
  const size_t size = SizeWithoutServerFields(event);
  if (size > limits.max_event_bytes) {
    v.Add(
        absl::StrCat("must be at most ", limits.max_event_bytes, " bytes serialized; got ", size));
  }
  CheckEventId(v, "id", event.id(), kRequired);
  CheckType(v, event);
  CheckSubject(v, event);
  if (event.has_time()) CheckTime(v.Field("time"), event.time(), ctx);
  if (event.schema_version() != 1) {
    v.Add("schema_version", absl::StrCat("must be 1; got ", event.schema_version()));
  }
  if (event.correlation_id().size() > kMaxEventIdChars || !HasOnlyIdChars(event.correlation_id())) {
    v.Add("correlation_id", absl::StrCat("must be 0..128 characters of [A-Za-z0-9._:-]; got ",
                                         Quote(event.correlation_id())));
  }
  CheckEventId(v, "causation_id", event.causation_id(), kOptional);
  if (!event.causation_source().empty()) {
    absl::string_view publisher = event.causation_source();
    if (!absl::ConsumePrefix(&publisher, "publishers/") || !IsSlug(publisher)) {
      v.Add("causation_source", absl::StrCat("must be 'publishers/' followed by a Slug, e.g. "
                                             "'publishers/mosreg-government'; got ",
                                             Quote(event.causation_source())));
    }
    if (event.causation_id().empty()) {
      v.Add("causation_source", "requires causation_id to be set");
    }
  }
  if (event.has_event_corrected()) {
    CheckEventCorrected(v.Field("event_corrected"), event.event_corrected(), ctx);
  } else if (event.payload_case() == v1::Event::PAYLOAD_NOT_SET) {
    v.Add("payload", "required: exactly one payload, e.g. memorandum_signed");
  } else {
    CheckPayload(v, event, event.payload_case(), ctx);
  }
  CheckNoUnknownFields(v, event);
}

}  // namespace

std::vector<FieldViolation> ValidateEvent(const coop::v1::Event& event, absl::string_view prefix,
                                          const ValidationLimits& limits) {
  Context ctx{.event_id = event.id(), .recorded_time = limits.recorded_time};
  if (limits.recorded_time.has_value()) {
    const absl::CivilDay day = absl::ToCivilDay(*limits.recorded_time, absl::UTCTimeZone());
    ctx.recorded_day = DayNumber(static_cast<int>(day.year()), day.month(), day.day());
  }
  Violations::Sink sink{.max = limits.max_violations};
  CheckEvent(Violations(&sink, std::string(prefix)), event, limits, ctx);
  if (sink.left_out > 0) {
    sink.list.push_back(
        {std::string(prefix), absl::StrCat("and ", sink.left_out, " more violations not listed")});
  }
  return std::move(sink.list);
}

bool IsValidSlug(absl::string_view value) { return IsSlug(value); }

bool IsValidRegionCode(absl::string_view code) { return IsCode(code, kRegionOrCountry); }

bool IsValidSubject(absl::string_view subject) { return IsSubject(subject); }

std::string QuoteValue(absl::string_view value) { return Quote(value); }

}  // namespace coop::publisher
