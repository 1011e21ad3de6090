#include "tools/coopctl/views_command.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "coop/v1/views.grpc.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "tools/coopctl/table.h"

namespace coop::ctl {
namespace {

using google::protobuf::util::TimeUtil;
using Stub = coop::v1::Views::Stub;

constexpr int kPageSize = 1000;

// ---------------------------------------------------------------------------------------------
// The views and their flags.

struct ViewSpec {
  const char* name;
  // Words after the view name: 0 for a list, 1 for a single row (its id), -1 for 0 or 1.
  int ids;
  std::vector<std::string> flags;
};

const std::vector<ViewSpec>& Specs() {
  static const auto* specs = new std::vector<ViewSpec>{
      {"agreements",
       0,
       {"as_of", "min_position", "region", "party_id", "hub_id", "status", "area"}},
      {"agreement", 1, {"as_of", "min_position"}},
      {"hubs", 0, {"as_of", "min_position", "region", "party_id", "kind", "status"}},
      {"hub", 1, {"as_of", "min_position"}},
      {"trade",
       0,
       {"as_of", "min_position", "region", "direction", "hs_code_prefix", "category_name"}},
      {"regions", 0, {"as_of", "min_position", "country"}},
      {"region", 1, {"as_of", "min_position"}},
      {"timeline", 0, {"min_position", "from", "to", "event filter"}},
      {"rebuild", 0, {"wait"}},
      {"rebuild-status", -1, {}},
  };
  return *specs;
}

absl::StatusOr<const ViewSpec*> FindSpec(const std::vector<std::string>& args) {
  std::vector<std::string> names;
  for (const ViewSpec& spec : Specs()) names.push_back(spec.name);
  if (args.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("views: name a view: ", absl::StrJoin(names, ", ")));
  }
  for (const ViewSpec& spec : Specs()) {
    if (args[0] != spec.name) continue;
    const int ids = static_cast<int>(args.size()) - 1;
    if (spec.ids == 1 && ids != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("views ", spec.name, ": give exactly one id, e.g. coopctl views ", spec.name,
                       spec.name == std::string("region") ? " KZ-19" : " <id>"));
    }
    if ((spec.ids == 0 && ids != 0) || (spec.ids == -1 && ids > 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat("views ", spec.name, ": unexpected '", args.back(), "'"));
    }
    return &spec;
  }
  return absl::InvalidArgumentError(absl::StrCat("views: unknown view '", args[0],
                                                 "'; the views are ", absl::StrJoin(names, ", ")));
}

// ---------------------------------------------------------------------------------------------
// Flag values.

// "AgreementStatus" -> "AGREEMENT_STATUS_".
std::string EnumPrefix(const google::protobuf::EnumDescriptor& type) {
  std::string prefix;
  for (char c : type.name()) {
    if (absl::ascii_isupper(c) && !prefix.empty()) prefix += '_';
    prefix += absl::ascii_toupper(c);
  }
  return prefix + "_";
}

// AGREEMENT_STATUS_IN_FORCE -> "in_force"; "" for the unspecified value.
std::string EnumLabel(const google::protobuf::EnumDescriptor& type, int value) {
  if (value == 0) return "";
  const google::protobuf::EnumValueDescriptor* named = type.FindValueByNumber(value);
  if (named == nullptr) return absl::StrCat(value);
  return absl::AsciiStrToLower(absl::StripPrefix(named->name(), EnumPrefix(type)));
}

template <typename Enum>
std::string Label(Enum value) {
  return EnumLabel(*google::protobuf::GetEnumDescriptor<Enum>(), static_cast<int>(value));
}

// "in_force", "IN-FORCE" or "AGREEMENT_STATUS_IN_FORCE" as the enum value; INVALID_ARGUMENT
// naming the flag and listing the values otherwise.
template <typename Enum>
absl::StatusOr<Enum> ParseEnum(const std::string& flag, const std::string& text) {
  const google::protobuf::EnumDescriptor& type = *google::protobuf::GetEnumDescriptor<Enum>();
  std::string name = absl::AsciiStrToUpper(text);
  std::replace(name.begin(), name.end(), '-', '_');
  if (!absl::StartsWith(name, EnumPrefix(type))) name = EnumPrefix(type) + name;
  const google::protobuf::EnumValueDescriptor* value = type.FindValueByName(name);
  if (value == nullptr || value->number() == 0) {
    std::vector<std::string> labels;
    for (int i = 1; i < type.value_count(); ++i) {
      labels.push_back(EnumLabel(type, type.value(i)->number()));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": '", text, "' is not one of ", absl::StrJoin(labels, ", ")));
  }
  return static_cast<Enum>(value->number());
}

absl::StatusOr<google::protobuf::Timestamp> TimeFlag(const std::string& flag,
                                                     const std::string& text) {
  absl::StatusOr<google::protobuf::Timestamp> time = ParseRfc3339(text);
  if (!time.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": '", text,
                                                   "' is not an RFC 3339 time (e.g. "
                                                   "2025-09-10T00:00:00Z): ",
                                                   time.status().message()));
  }
  return *time;
}

absl::StatusOr<std::string> CursorFlag(const std::string& text) {
  std::string token;
  if (!absl::Base64Unescape(text, &token) || token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--min_position: '", text, "' is not a base64 cursor token"));
  }
  return token;
}

// The value of a flag that was given, or "".
std::string Flag(const ViewsOptions& options, const std::string& name) {
  auto it = options.flags.find(name);
  return it == options.flags.end() ? "" : it->second;
}

// Sets the fields every query shares (min_position, as_of) on `request`.
template <typename Request>
absl::Status SetCommon(const ViewsOptions& options, Request& request) {
  if (std::string cursor = Flag(options, "min_position"); !cursor.empty()) {
    absl::StatusOr<std::string> token = CursorFlag(cursor);
    if (!token.ok()) return token.status();
    request.set_min_position(*token);
  }
  if constexpr (requires { request.mutable_as_of(); }) {
    if (std::string as_of = Flag(options, "as_of"); !as_of.empty()) {
      absl::StatusOr<google::protobuf::Timestamp> time = TimeFlag("as_of", as_of);
      if (!time.ok()) return time.status();
      *request.mutable_as_of() = *time;
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Cell text.

std::string DateText(const coop::v1::PartialDate& date) {
  if (date.year() == 0) return "";
  std::string text = absl::StrFormat("%04d", date.year());
  if (date.month() != 0) absl::StrAppendFormat(&text, "-%02d", date.month());
  if (date.day() != 0) absl::StrAppendFormat(&text, "-%02d", date.day());
  return text;
}

std::string PeriodText(const coop::v1::Period& period) {
  const std::string start = DateText(period.start());
  const std::string end = DateText(period.end());
  // An unset end: the period is the unit start names.
  return end.empty() || start == end ? start : absl::StrCat(start, "..", end);
}

// 1234567 -> "1,234,567".
std::string Grouped(int64_t units) {
  const uint64_t magnitude =
      units < 0 ? 0 - static_cast<uint64_t>(units) : static_cast<uint64_t>(units);
  const std::string digits = absl::StrCat(magnitude);
  std::string text;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) text += ',';
    text += digits[i];
  }
  return units < 0 ? "-" + text : text;
}

std::string MoneyText(const coop::v1::Money& money) {
  std::string text = Grouped(money.units());
  if (money.nanos() != 0) {
    std::string fraction = absl::StrFormat("%09d", std::abs(money.nanos()));
    fraction.erase(fraction.find_last_not_of('0') + 1);
    if (money.units() == 0 && money.nanos() < 0) text = "-0";
    absl::StrAppend(&text, ".", fraction);
  }
  return absl::StrCat(text, " ", money.currency_code());
}

std::string MoniesText(const google::protobuf::RepeatedPtrField<coop::v1::Money>& monies) {
  std::vector<std::string> texts;
  for (const coop::v1::Money& money : monies) texts.push_back(MoneyText(money));
  return absl::StrJoin(texts, "; ");
}

std::string NumberText(double value) {
  if (value == std::floor(value) && std::abs(value) < 1e15) {
    return Grouped(static_cast<int64_t>(value));
  }
  return absl::StrFormat("%.6g", value);
}

std::string QuantityText(const coop::v1::Quantity& quantity) {
  std::string text = NumberText(quantity.value());
  if (quantity.unit() != coop::v1::UNIT_UNSPECIFIED) {
    absl::StrAppend(&text, " ", Label(quantity.unit()));
  }
  if (quantity.qualifier() != coop::v1::QUALIFIER_UNSPECIFIED) {
    absl::StrAppend(&text, " (", Label(quantity.qualifier()), ")");
  }
  return text;
}

std::string PartiesText(
    const google::protobuf::RepeatedPtrField<coop::v1::InvolvedParty>& parties) {
  std::vector<std::string> names;
  for (const coop::v1::InvolvedParty& party : parties) {
    names.push_back(party.party().name().empty() ? party.party().party_id() : party.party().name());
  }
  return absl::StrJoin(names, "; ");
}

std::string TimeText(const google::protobuf::Timestamp& time) {
  if (time.seconds() == 0 && time.nanos() == 0) return "";
  return TimeUtil::ToString(time);
}

std::string PositionText(const coop::v1::Position& position) {
  return absl::StrCat(position.partition(), "/", position.offset());
}

// ---------------------------------------------------------------------------------------------
// Output: a table (each row message gives one or more lines) or JSON lines.

class Rows {
 public:
  Rows(const ViewsOptions& options, std::vector<std::string> headers, std::string noun,
       std::ostream& out)
      : json_(options.json),
        limit_(options.limit),
        table_(std::move(headers)),
        noun_(std::move(noun)),
        out_(out) {}

  // False once the limit is reached.
  bool Add(const google::protobuf::Message& row, std::vector<std::vector<std::string>> lines) {
    if (limit_ > 0 && count_ >= limit_) return false;
    ++count_;
    if (json_) {
      std::string text;
      google::protobuf::util::JsonPrintOptions print;
      print.preserve_proto_field_names = true;
      (void)google::protobuf::util::MessageToJsonString(row, &text, print);
      out_ << text << "\n";
    } else {
      for (std::vector<std::string>& line : lines) table_.AddRow(std::move(line));
    }
    return limit_ == 0 || count_ < limit_;
  }

  void Finish() {
    if (json_) {
      out_.flush();
      return;
    }
    if (count_ > 0) table_.Print(out_);
    // Single rows (noun "") need no count.
    if (noun_.empty()) return;
    out_ << count_ << " " << noun_ << (limit_ > 0 && count_ >= limit_ ? " (--limit reached)" : "")
         << "\n";
  }

 private:
  bool json_;
  int64_t limit_;
  int64_t count_ = 0;
  Table table_;
  std::string noun_;
  std::ostream& out_;
};

void NoteCursor(const std::string& cursor, std::ostream& notes) {
  if (!cursor.empty()) notes << "view cursor: " << absl::Base64Escape(cursor) << "\n";
}

// Calls `call` for each page of `request` until the last page or the row limit; `add` adds the
// rows of a page and returns false to stop.
template <typename Request, typename Response>
absl::Status EachPage(
    const ViewsOptions& options, Request request,
    const std::function<grpc::Status(grpc::ClientContext*, const Request&, Response*)>& call,
    const std::function<bool(const Response&)>& add, std::ostream& notes) {
  request.set_page_size(kPageSize);
  std::string cursor;
  while (true) {
    grpc::ClientContext context;
    PrepareContext(options.connection, context);
    Response response;
    if (grpc::Status status = call(&context, request, &response); !status.ok()) {
      return FromRpcError(status, absl::StrCat("views ", options.args[0]));
    }
    cursor = response.cursor();
    if (!add(response) || response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  NoteCursor(cursor, notes);
  return absl::OkStatus();
}

std::vector<std::string> AgreementLine(const coop::v1::Agreement& agreement) {
  return {agreement.agreement_id(),         Label(agreement.form()),
          Label(agreement.status()),        DateText(agreement.signed_on()),
          PartiesText(agreement.parties()), agreement.title()};
}
const std::vector<std::string> kAgreementHeaders = {"AGREEMENT", "FORM",    "STATUS",
                                                    "SIGNED",    "PARTIES", "TITLE"};

// A hub against its plan: a line per phase, the hub's own columns on the first.
std::vector<std::vector<std::string>> HubLines(const coop::v1::Hub& hub) {
  std::vector<std::vector<std::string>> lines;
  std::vector<std::string> head = {hub.hub_id(), hub.name(), Label(hub.status()),
                                   hub.location().region().code(),
                                   hub.has_investment() ? MoneyText(hub.investment()) : ""};
  for (const coop::v1::HubPhase& phase : hub.phases()) {
    std::vector<std::string> line = lines.empty() ? head : std::vector<std::string>(head.size());
    line.insert(line.end(),
                {absl::StrCat(phase.phase()), DateText(phase.baseline_on()),
                 DateText(phase.planned_on()), DateText(phase.actual_on()),
                 phase.has_slippage_days() ? absl::StrCat(phase.slippage_days(), " d") : "",
                 phase.has_percent_complete() ? absl::StrCat(phase.percent_complete(), "%") : ""});
    lines.push_back(std::move(line));
  }
  if (lines.empty()) lines.push_back(head);
  return lines;
}
const std::vector<std::string> kHubHeaders = {"HUB",        "NAME",  "STATUS",   "REGION",
                                              "INVESTMENT", "PHASE", "BASELINE", "PLANNED",
                                              "ACTUAL",     "SLIP",  "DONE"};

std::vector<std::string> TradeLine(const coop::v1::TradeRow& row) {
  std::vector<std::string> growth;
  for (const coop::v1::PeriodGrowth& vs : row.growth_vs_previous()) {
    if (vs.has_ratio())
      growth.push_back(absl::StrFormat("×%.3g %s", vs.ratio(), vs.currency_code()));
  }
  if (row.has_growth()) {
    growth.push_back(absl::StrFormat("×%.3g (reported)", row.growth().ratio()));
  }
  std::string category = row.category().name();
  if (!row.category().hs_code().empty()) {
    category = absl::StrCat("HS ", row.category().hs_code(), category.empty() ? "" : " ", category);
  }
  return {row.reporting_region().code(),
          row.partner_region().code(),
          Label(row.direction()),
          category.empty() ? "all goods" : category,
          PeriodText(row.period()),
          MoniesText(row.values()),
          row.has_volume() ? QuantityText(row.volume()) : "",
          absl::StrJoin(growth, "; ")};
}
const std::vector<std::string> kTradeHeaders = {"REPORTING", "PARTNER", "DIRECTION", "CATEGORY",
                                                "PERIOD",    "VALUE",   "VOLUME",    "GROWTH"};

std::vector<std::string> RegionLine(const coop::v1::RegionSummary& region) {
  return {region.region().code(),
          absl::StrCat(region.agreement_ids_size()),
          absl::StrCat(region.hub_ids_size()),
          absl::StrCat(region.site_ids_size()),
          absl::StrCat(region.facts_size()),
          MoniesText(region.committed_investment())};
}
const std::vector<std::string> kRegionHeaders = {"REGION", "AGREEMENTS", "HUBS",
                                                 "SITES",  "FACTS",      "HUB INVESTMENT"};

std::vector<std::string> TimelineLine(const coop::v1::TimelineEntry& entry) {
  return {TimeText(entry.recorded_time()),
          std::string(absl::StripPrefix(entry.type(), "coop.v1.")),
          entry.subject(),
          absl::StrCat(entry.event().source(), " ", entry.event().id()),
          PositionText(entry.position()),
          entry.has_corrected_by() ? entry.corrected_by().id() : ""};
}
const std::vector<std::string> kTimelineHeaders = {"RECORDED", "TYPE",     "SUBJECT",
                                                   "EVENT",    "POSITION", "CORRECTED BY"};

// ---------------------------------------------------------------------------------------------
// The views.

absl::Status ListAgreements(Stub& stub, const ViewsOptions& options, std::ostream& out,
                            std::ostream& notes) {
  coop::v1::ListAgreementsRequest request;
  if (absl::Status set = SetCommon(options, request); !set.ok()) return set;
  if (std::string region = Flag(options, "region"); !region.empty()) {
    request.mutable_region()->set_code(region);
  }
  request.set_party_id(Flag(options, "party_id"));
  request.set_hub_id(Flag(options, "hub_id"));
  if (std::string status = Flag(options, "status"); !status.empty()) {
    absl::StatusOr<coop::v1::AgreementStatus> parsed =
        ParseEnum<coop::v1::AgreementStatus>("status", status);
    if (!parsed.ok()) return parsed.status();
    request.set_status(*parsed);
  }
  if (std::string area = Flag(options, "area"); !area.empty()) {
    absl::StatusOr<coop::v1::CooperationArea> parsed =
        ParseEnum<coop::v1::CooperationArea>("area", area);
    if (!parsed.ok()) return parsed.status();
    request.set_area(*parsed);
  }
  Rows rows(options, kAgreementHeaders, "agreements", out);
  absl::Status status = EachPage<coop::v1::ListAgreementsRequest, coop::v1::ListAgreementsResponse>(
      options, request,
      [&](grpc::ClientContext* context, const auto& page, auto* response) {
        return stub.ListAgreements(context, page, response);
      },
      [&](const coop::v1::ListAgreementsResponse& response) {
        for (const coop::v1::Agreement& agreement : response.agreements()) {
          if (!rows.Add(agreement, {AgreementLine(agreement)})) return false;
        }
        return true;
      },
      notes);
  if (status.ok()) rows.Finish();
  return status;
}

absl::Status GetAgreement(Stub& stub, const ViewsOptions& options, std::ostream& out,
                          std::ostream& notes) {
  coop::v1::GetAgreementRequest request;
  if (absl::Status set = SetCommon(options, request); !set.ok()) return set;
  request.set_agreement_id(options.args[1]);
  grpc::ClientContext context;
  PrepareContext(options.connection, context);
  coop::v1::GetAgreementResponse response;
  if (grpc::Status status = stub.GetAgreement(&context, request, &response); !status.ok()) {
    return FromRpcError(status, absl::StrCat("views agreement ", options.args[1]));
  }
  const coop::v1::Agreement& agreement = response.agreement();
  Rows rows(options, kAgreementHeaders, "", out);
  rows.Add(agreement, {AgreementLine(agreement)});
  rows.Finish();
  if (!options.json && agreement.changes_size() > 0) {
    Table changes({"EFFECTIVE", "NEW STATUS", "SUMMARY", "EVENT"});
    for (const coop::v1::AgreementChange& change : agreement.changes()) {
      changes.AddRow({DateText(change.effective_on()), Label(change.new_status()), change.summary(),
                      change.event().id()});
    }
    out << "\nchanges\n";
    changes.Print(out);
  }
  NoteCursor(response.cursor(), notes);
  return absl::OkStatus();
}

absl::Status ListHubs(Stub& stub, const ViewsOptions& options, std::ostream& out,
                      std::ostream& notes) {
  coop::v1::ListHubsRequest request;
  if (absl::Status set = SetCommon(options, request); !set.ok()) return set;
  if (std::string region = Flag(options, "region"); !region.empty()) {
    request.mutable_region()->set_code(region);
  }
  request.set_party_id(Flag(options, "party_id"));
  if (std::string kind = Flag(options, "kind"); !kind.empty()) {
    absl::StatusOr<coop::v1::HubKind> parsed = ParseEnum<coop::v1::HubKind>("kind", kind);
    if (!parsed.ok()) return parsed.status();
    request.set_kind(*parsed);
  }
  if (std::string status = Flag(options, "status"); !status.empty()) {
    absl::StatusOr<coop::v1::HubStatus> parsed = ParseEnum<coop::v1::HubStatus>("status", status);
    if (!parsed.ok()) return parsed.status();
    request.set_status(*parsed);
  }
  Rows rows(options, kHubHeaders, "hubs", out);
  absl::Status status = EachPage<coop::v1::ListHubsRequest, coop::v1::ListHubsResponse>(
      options, request,
      [&](grpc::ClientContext* context, const auto& page, auto* response) {
        return stub.ListHubs(context, page, response);
      },
      [&](const coop::v1::ListHubsResponse& response) {
        for (const coop::v1::Hub& hub : response.hubs()) {
          if (!rows.Add(hub, HubLines(hub))) return false;
        }
        return true;
      },
      notes);
  if (status.ok()) rows.Finish();
  return status;
}

absl::Status GetHub(Stub& stub, const ViewsOptions& options, std::ostream& out,
                    std::ostream& notes) {
  coop::v1::GetHubRequest request;
  if (absl::Status set = SetCommon(options, request); !set.ok()) return set;
  request.set_hub_id(options.args[1]);
  grpc::ClientContext context;
  PrepareContext(options.connection, context);
  coop::v1::GetHubResponse response;
  if (grpc::Status status = stub.GetHub(&context, request, &response); !status.ok()) {
    return FromRpcError(status, absl::StrCat("views hub ", options.args[1]));
  }
  const coop::v1::Hub& hub = response.hub();
  Rows rows(options, kHubHeaders, "", out);
  rows.Add(hub, HubLines(hub));
  rows.Finish();
  if (!options.json && hub.milestones_size() > 0) {
    Table milestones({"RECORDED", "MILESTONE", "PHASE", "PLANNED", "ACTUAL", "DONE", "EVENT"});
    for (const coop::v1::HubMilestoneEntry& entry : hub.milestones()) {
      milestones.AddRow(
          {TimeText(entry.recorded_time()), Label(entry.milestone_kind()),
           absl::StrCat(entry.phase()), DateText(entry.planned_on()), DateText(entry.actual_on()),
           entry.has_percent_complete() ? absl::StrCat(entry.percent_complete(), "%") : "",
           entry.event().id()});
    }
    out << "\nmilestones\n";
    milestones.Print(out);
  }
  NoteCursor(response.cursor(), notes);
  return absl::OkStatus();
}

absl::Status ListTrade(Stub& stub, const ViewsOptions& options, std::ostream& out,
                       std::ostream& notes) {
  coop::v1::ListTradeRowsRequest request;
  if (absl::Status set = SetCommon(options, request); !set.ok()) return set;
  if (std::string region = Flag(options, "region"); !region.empty()) {
    request.mutable_region()->set_code(region);
  }
  if (std::string direction = Flag(options, "direction"); !direction.empty()) {
    absl::StatusOr<coop::v1::TradeDirection> parsed =
        ParseEnum<coop::v1::TradeDirection>("direction", direction);
    if (!parsed.ok()) return parsed.status();
    request.set_direction(*parsed);
  }
  request.set_hs_code_prefix(Flag(options, "hs_code_prefix"));
  request.set_category_name(Flag(options, "category_name"));
  Rows rows(options, kTradeHeaders, "trade rows", out);
  absl::Status status = EachPage<coop::v1::ListTradeRowsRequest, coop::v1::ListTradeRowsResponse>(
      options, request,
      [&](grpc::ClientContext* context, const auto& page, auto* response) {
        return stub.ListTradeRows(context, page, response);
      },
      [&](const coop::v1::ListTradeRowsResponse& response) {
        for (const coop::v1::TradeRow& row : response.rows()) {
          if (!rows.Add(row, {TradeLine(row)})) return false;
        }
        return true;
      },
      notes);
  if (status.ok()) rows.Finish();
  return status;
}

absl::Status ListRegions(Stub& stub, const ViewsOptions& options, std::ostream& out,
                         std::ostream& notes) {
  coop::v1::ListRegionsRequest request;
  if (absl::Status set = SetCommon(options, request); !set.ok()) return set;
  if (std::string country = Flag(options, "country"); !country.empty()) {
    request.mutable_country()->set_code(country);
  }
  Rows rows(options, kRegionHeaders, "regions", out);
  absl::Status status = EachPage<coop::v1::ListRegionsRequest, coop::v1::ListRegionsResponse>(
      options, request,
      [&](grpc::ClientContext* context, const auto& page, auto* response) {
        return stub.ListRegions(context, page, response);
      },
      [&](const coop::v1::ListRegionsResponse& response) {
        for (const coop::v1::RegionSummary& region : response.regions()) {
          if (!rows.Add(region, {RegionLine(region)})) return false;
        }
        return true;
      },
      notes);
  if (status.ok()) rows.Finish();
  return status;
}

absl::Status GetRegion(Stub& stub, const ViewsOptions& options, std::ostream& out,
                       std::ostream& notes) {
  coop::v1::GetRegionRequest request;
  if (absl::Status set = SetCommon(options, request); !set.ok()) return set;
  request.mutable_region()->set_code(options.args[1]);
  grpc::ClientContext context;
  PrepareContext(options.connection, context);
  coop::v1::GetRegionResponse response;
  if (grpc::Status status = stub.GetRegion(&context, request, &response); !status.ok()) {
    return FromRpcError(status, absl::StrCat("views region ", options.args[1]));
  }
  const coop::v1::RegionSummary& region = response.region();
  Rows rows(options, kRegionHeaders, "", out);
  rows.Add(region, {RegionLine(region)});
  rows.Finish();
  if (!options.json) {
    if (region.facts_size() > 0) {
      Table facts({"FACT", "VALUE", "COUNTERPART", "NOTE"});
      for (const coop::v1::RegionFact& fact : region.facts()) {
        facts.AddRow({Label(fact.kind()), QuantityText(fact.value()), fact.counterpart().code(),
                      fact.note()});
      }
      out << "\nfacts\n";
      facts.Print(out);
    }
    for (const auto& [title, ids] :
         {std::pair{"agreements", &region.agreement_ids()}, std::pair{"hubs", &region.hub_ids()},
          std::pair{"sites", &region.site_ids()}}) {
      if (!ids->empty()) out << "\n" << title << ": " << absl::StrJoin(*ids, ", ") << "\n";
    }
  }
  NoteCursor(response.cursor(), notes);
  return absl::OkStatus();
}

absl::Status ListTimeline(Stub& stub, const ViewsOptions& options, std::ostream& out,
                          std::ostream& notes) {
  coop::v1::ListTimelineRequest request;
  if (absl::Status set = SetCommon(options, request); !set.ok()) return set;
  if (std::string text = Flag(options, "from"); !text.empty()) {
    absl::StatusOr<google::protobuf::Timestamp> time = TimeFlag("from", text);
    if (!time.ok()) return time.status();
    *request.mutable_start_time() = *time;
  }
  if (std::string text = Flag(options, "to"); !text.empty()) {
    absl::StatusOr<google::protobuf::Timestamp> time = TimeFlag("to", text);
    if (!time.ok()) return time.status();
    *request.mutable_end_time() = *time;
  }
  if (options.filter.ByteSizeLong() > 0) *request.mutable_filter() = options.filter;
  Rows rows(options, kTimelineHeaders, "events", out);
  absl::Status status = EachPage<coop::v1::ListTimelineRequest, coop::v1::ListTimelineResponse>(
      options, request,
      [&](grpc::ClientContext* context, const auto& page, auto* response) {
        return stub.ListTimeline(context, page, response);
      },
      [&](const coop::v1::ListTimelineResponse& response) {
        for (const coop::v1::TimelineEntry& entry : response.entries()) {
          if (!rows.Add(entry, {TimelineLine(entry)})) return false;
        }
        return true;
      },
      notes);
  if (status.ok()) rows.Finish();
  return status;
}

void PrintRebuild(const ViewsOptions& options, const coop::v1::RebuildStatus& status,
                  std::ostream& out) {
  Rows rows(options, {"GENERATION", "STATE", "STARTED", "ENDED", "APPLIED", "OF", "ERROR"}, "",
            out);
  rows.Add(status, {{absl::StrCat(status.generation()), Label(status.state()),
                     TimeText(status.start_time()), TimeText(status.end_time()),
                     Grouped(status.applied_count()), Grouped(status.target_count()),
                     status.error_message()}});
  rows.Finish();
}

absl::StatusOr<coop::v1::RebuildStatus> GetRebuildStatus(Stub& stub, const ViewsOptions& options,
                                                         int64_t generation) {
  coop::v1::GetRebuildRequest request;
  request.set_generation(generation);
  grpc::ClientContext context;
  PrepareContext(options.connection, context);
  coop::v1::GetRebuildResponse response;
  if (grpc::Status status = stub.GetRebuild(&context, request, &response); !status.ok()) {
    return FromRpcError(status, "views rebuild-status");
  }
  return response.status();
}

absl::Status Rebuild(Stub& stub, const ViewsOptions& options, const std::atomic<bool>& stop,
                     std::ostream& out, std::ostream& notes) {
  grpc::ClientContext context;
  PrepareContext(options.connection, context);
  coop::v1::RebuildResponse response;
  if (grpc::Status status = stub.Rebuild(&context, {}, &response); !status.ok()) {
    return FromRpcError(status, "views rebuild");
  }
  coop::v1::RebuildStatus status = response.status();
  notes << "rebuild: generation " << status.generation() << " started; "
        << Grouped(status.target_count()) << " records to apply\n";
  int64_t reported = -1;
  while (options.wait && status.state() == coop::v1::REBUILD_STATE_RUNNING) {
    if (stop.load()) {
      return absl::CancelledError(
          absl::StrCat("stopped waiting; generation ", status.generation(), " goes on rebuilding"));
    }
    absl::SleepFor(absl::Milliseconds(200));
    absl::StatusOr<coop::v1::RebuildStatus> polled =
        GetRebuildStatus(stub, options, status.generation());
    if (!polled.ok()) return polled.status();
    status = *std::move(polled);
    if (status.applied_count() != reported) {
      reported = status.applied_count();
      notes << "rebuild: applied " << Grouped(status.applied_count()) << " of "
            << Grouped(status.target_count()) << "\n";
    }
  }
  PrintRebuild(options, status, out);
  if (status.state() == coop::v1::REBUILD_STATE_FAILED) {
    return absl::AbortedError(absl::StrCat("views rebuild: generation ", status.generation(),
                                           " failed: ", status.error_message()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ViewFlags(const std::vector<std::string>& args) {
  absl::StatusOr<const ViewSpec*> spec = FindSpec(args);
  if (!spec.ok()) return spec.status();
  return (*spec)->flags;
}

absl::Status CheckViewsOptions(const ViewsOptions& options) {
  absl::StatusOr<const ViewSpec*> spec = FindSpec(options.args);
  if (!spec.ok()) return spec.status();
  const std::set<std::string> takes((*spec)->flags.begin(), (*spec)->flags.end());
  auto refuse = [&](const std::string& flag) {
    std::vector<std::string> flags;
    for (const std::string& name : (*spec)->flags) {
      flags.push_back(name == "event filter" ? "the event filter flags" : "--" + name);
    }
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": not a flag of 'views ", (*spec)->name, "' (it takes ",
                     flags.empty() ? "none" : absl::StrJoin(flags, ", "), ")"));
  };
  for (const auto& [flag, value] : options.flags) {
    if (!takes.contains(flag)) return refuse(flag);
  }
  if (options.filter.ByteSizeLong() > 0 && !takes.contains("event filter")) {
    return refuse("types/--subjects/--subject_prefixes/--regions/--party_ids");
  }
  if (options.wait && !takes.contains("wait")) return refuse("wait");
  if (options.limit < 0) return absl::InvalidArgumentError("--limit: must not be negative");
  // Values: parsed by a dry run of what the calls do.
  if (std::string as_of = Flag(options, "as_of"); !as_of.empty()) {
    if (absl::StatusOr<google::protobuf::Timestamp> time = TimeFlag("as_of", as_of); !time.ok()) {
      return time.status();
    }
  }
  for (const char* flag : {"from", "to"}) {
    if (std::string text = Flag(options, flag); !text.empty()) {
      if (absl::StatusOr<google::protobuf::Timestamp> time = TimeFlag(flag, text); !time.ok()) {
        return time.status();
      }
    }
  }
  if (std::string cursor = Flag(options, "min_position"); !cursor.empty()) {
    if (absl::StatusOr<std::string> token = CursorFlag(cursor); !token.ok()) return token.status();
  }
  const std::string view = (*spec)->name;
  if (std::string status = Flag(options, "status"); !status.empty()) {
    absl::Status parsed = view == "hubs"
                              ? ParseEnum<coop::v1::HubStatus>("status", status).status()
                              : ParseEnum<coop::v1::AgreementStatus>("status", status).status();
    if (!parsed.ok()) return parsed;
  }
  if (std::string area = Flag(options, "area"); !area.empty()) {
    if (absl::Status parsed = ParseEnum<coop::v1::CooperationArea>("area", area).status();
        !parsed.ok()) {
      return parsed;
    }
  }
  if (std::string kind = Flag(options, "kind"); !kind.empty()) {
    if (absl::Status parsed = ParseEnum<coop::v1::HubKind>("kind", kind).status(); !parsed.ok()) {
      return parsed;
    }
  }
  if (std::string direction = Flag(options, "direction"); !direction.empty()) {
    if (absl::Status parsed = ParseEnum<coop::v1::TradeDirection>("direction", direction).status();
        !parsed.ok()) {
      return parsed;
    }
  }
  if (view == "rebuild-status" && options.args.size() == 2) {
    int64_t generation = 0;
    if (!absl::SimpleAtoi(options.args[1], &generation) || generation < 1) {
      return absl::InvalidArgumentError(absl::StrCat("views rebuild-status: '", options.args[1],
                                                     "' is not a generation number (>= 1)"));
    }
  }
  return absl::OkStatus();
}

absl::Status RunViews(const ViewsOptions& options, const std::atomic<bool>& stop, std::ostream& out,
                      std::ostream& notes) {
  if (absl::Status checked = CheckViewsOptions(options); !checked.ok()) return checked;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = OpenChannel(options.connection);
  if (!channel.ok()) return channel.status();
  std::unique_ptr<Stub> stub = coop::v1::Views::NewStub(*channel);
  const std::string& view = options.args[0];
  if (view == "agreements") return ListAgreements(*stub, options, out, notes);
  if (view == "agreement") return GetAgreement(*stub, options, out, notes);
  if (view == "hubs") return ListHubs(*stub, options, out, notes);
  if (view == "hub") return GetHub(*stub, options, out, notes);
  if (view == "trade") return ListTrade(*stub, options, out, notes);
  if (view == "regions") return ListRegions(*stub, options, out, notes);
  if (view == "region") return GetRegion(*stub, options, out, notes);
  if (view == "timeline") return ListTimeline(*stub, options, out, notes);
  if (view == "rebuild") return Rebuild(*stub, options, stop, out, notes);
  int64_t generation = 0;
  if (options.args.size() == 2) (void)absl::SimpleAtoi(options.args[1], &generation);
  absl::StatusOr<coop::v1::RebuildStatus> status = GetRebuildStatus(*stub, options, generation);
  if (!status.ok()) return status.status();
  PrintRebuild(options, *status, out);
  return absl::OkStatus();
}

}  // namespace coop::ctl
