#include "tools/coopctl/views_command.h"

#include <algorithm>
#include <cmath>
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
#include "common/status_macros.h"
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

// Sets the enum field `set` takes from flag `flag`, when given.
template <typename Enum, typename Setter>
absl::Status SetEnumFlag(const ViewsOptions& options, const std::string& flag, Setter set) {
  const std::string text = Flag(options, flag);
  if (text.empty()) return absl::OkStatus();
  COOP_ASSIGN_OR_RETURN(const Enum value, ParseEnum<Enum>(flag, text));
  set(value);
  return absl::OkStatus();
}

// Sets the timestamp `field()` returns from flag `flag`, when given (unset otherwise: the
// field is only created for a value).
template <typename Field>
absl::Status SetTimeFlag(const ViewsOptions& options, const std::string& flag, Field field) {
  const std::string text = Flag(options, flag);
  if (text.empty()) return absl::OkStatus();
  COOP_ASSIGN_OR_RETURN(*field(), TimeFlag(flag, text));
  return absl::OkStatus();
}

// The request of each view from the options: every flag value is parsed here, once, for the
// check (CheckViewsOptions, a dry run) and for the call. INVALID_ARGUMENT naming the flag.
// Fields every query shares: min_position, and as_of where the request has it.
template <typename Request>
absl::Status BuildCommon(const ViewsOptions& options, Request& request) {
  if (std::string cursor = Flag(options, "min_position"); !cursor.empty()) {
    COOP_ASSIGN_OR_RETURN(*request.mutable_min_position(), CursorFlag(cursor));
  }
  if constexpr (requires { request.mutable_as_of(); }) {
    COOP_RETURN_IF_ERROR(SetTimeFlag(options, "as_of", [&] { return request.mutable_as_of(); }));
  }
  return absl::OkStatus();
}

absl::Status Build(const ViewsOptions& options, coop::v1::ListAgreementsRequest& request) {
  COOP_RETURN_IF_ERROR(BuildCommon(options, request));
  if (std::string region = Flag(options, "region"); !region.empty()) {
    request.mutable_region()->set_code(region);
  }
  request.set_party_id(Flag(options, "party_id"));
  request.set_hub_id(Flag(options, "hub_id"));
  COOP_RETURN_IF_ERROR(SetEnumFlag<coop::v1::AgreementStatus>(
      options, "status", [&](auto value) { request.set_status(value); }));
  return SetEnumFlag<coop::v1::CooperationArea>(options, "area",
                                                [&](auto value) { request.set_area(value); });
}

absl::Status Build(const ViewsOptions& options, coop::v1::ListHubsRequest& request) {
  COOP_RETURN_IF_ERROR(BuildCommon(options, request));
  if (std::string region = Flag(options, "region"); !region.empty()) {
    request.mutable_region()->set_code(region);
  }
  request.set_party_id(Flag(options, "party_id"));
  COOP_RETURN_IF_ERROR(SetEnumFlag<coop::v1::HubKind>(
      options, "kind", [&](auto value) { request.set_kind(value); }));
  return SetEnumFlag<coop::v1::HubStatus>(options, "status",
                                          [&](auto value) { request.set_status(value); });
}

absl::Status Build(const ViewsOptions& options, coop::v1::ListTradeRowsRequest& request) {
  COOP_RETURN_IF_ERROR(BuildCommon(options, request));
  if (std::string region = Flag(options, "region"); !region.empty()) {
    request.mutable_region()->set_code(region);
  }
  request.set_hs_code_prefix(Flag(options, "hs_code_prefix"));
  request.set_category_name(Flag(options, "category_name"));
  return SetEnumFlag<coop::v1::TradeDirection>(options, "direction",
                                               [&](auto value) { request.set_direction(value); });
}

absl::Status Build(const ViewsOptions& options, coop::v1::ListRegionsRequest& request) {
  COOP_RETURN_IF_ERROR(BuildCommon(options, request));
  if (std::string country = Flag(options, "country"); !country.empty()) {
    request.mutable_country()->set_code(country);
  }
  return absl::OkStatus();
}

absl::Status Build(const ViewsOptions& options, coop::v1::ListTimelineRequest& request) {
  COOP_RETURN_IF_ERROR(BuildCommon(options, request));
  COOP_RETURN_IF_ERROR(SetTimeFlag(options, "from", [&] { return request.mutable_start_time(); }));
  COOP_RETURN_IF_ERROR(SetTimeFlag(options, "to", [&] { return request.mutable_end_time(); }));
  if (options.filter.ByteSizeLong() > 0) *request.mutable_filter() = options.filter;
  return absl::OkStatus();
}

absl::Status Build(const ViewsOptions& options, coop::v1::GetAgreementRequest& request) {
  request.set_agreement_id(options.args[1]);
  return BuildCommon(options, request);
}

absl::Status Build(const ViewsOptions& options, coop::v1::GetHubRequest& request) {
  request.set_hub_id(options.args[1]);
  return BuildCommon(options, request);
}

absl::Status Build(const ViewsOptions& options, coop::v1::GetRegionRequest& request) {
  request.mutable_region()->set_code(options.args[1]);
  return BuildCommon(options, request);
}

absl::Status Build(const ViewsOptions&, coop::v1::RebuildRequest&) { return absl::OkStatus(); }

// The generation of "rebuild-status [GENERATION]"; 0 (the latest) without one.
absl::Status Build(const ViewsOptions& options, coop::v1::GetRebuildRequest& request) {
  if (options.args.size() < 2) return absl::OkStatus();
  int64_t generation = 0;
  if (!absl::SimpleAtoi(options.args[1], &generation) || generation < 1) {
    return absl::InvalidArgumentError(absl::StrCat("views rebuild-status: '", options.args[1],
                                                   "' is not a generation number (>= 1)"));
  }
  request.set_generation(generation);
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

using Lines = std::vector<std::vector<std::string>>;

Lines AgreementLines(const coop::v1::Agreement& agreement) {
  return {{agreement.agreement_id(), Label(agreement.form()), Label(agreement.status()),
           DateText(agreement.signed_on()), PartiesText(agreement.parties()), agreement.title()}};
}
const std::vector<std::string> kAgreementHeaders = {"AGREEMENT", "FORM",    "STATUS",
                                                    "SIGNED",    "PARTIES", "TITLE"};

// A hub against its plan: a line per phase, the hub's own columns on the first.
Lines HubLines(const coop::v1::Hub& hub) {
  Lines lines;
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

Lines TradeLines(const coop::v1::TradeRow& row) {
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
  return {{row.reporting_region().code(), row.partner_region().code(), Label(row.direction()),
           category.empty() ? "all goods" : category, PeriodText(row.period()),
           MoniesText(row.values()), row.has_volume() ? QuantityText(row.volume()) : "",
           absl::StrJoin(growth, "; ")}};
}
const std::vector<std::string> kTradeHeaders = {"REPORTING", "PARTNER", "DIRECTION", "CATEGORY",
                                                "PERIOD",    "VALUE",   "VOLUME",    "GROWTH"};

Lines RegionLines(const coop::v1::RegionSummary& region) {
  return {{region.region().code(), absl::StrCat(region.agreement_ids_size()),
           absl::StrCat(region.hub_ids_size()), absl::StrCat(region.site_ids_size()),
           absl::StrCat(region.facts_size()), MoniesText(region.committed_investment())}};
}
const std::vector<std::string> kRegionHeaders = {"REGION", "AGREEMENTS", "HUBS",
                                                 "SITES",  "FACTS",      "HUB INVESTMENT"};

Lines TimelineLines(const coop::v1::TimelineEntry& entry) {
  return {
      {TimeText(entry.recorded_time()), std::string(absl::StripPrefix(entry.type(), "coop.v1.")),
       entry.subject(), absl::StrCat(entry.event().source(), " ", entry.event().id()),
       PositionText(entry.position()), entry.has_corrected_by() ? entry.corrected_by().id() : ""}};
}
const std::vector<std::string> kTimelineHeaders = {"RECORDED", "TYPE",     "SUBJECT",
                                                   "EVENT",    "POSITION", "CORRECTED BY"};

void NoteCursor(const std::string& cursor, std::ostream& notes) {
  if (!cursor.empty()) notes << "view cursor: " << absl::Base64Escape(cursor) << "\n";
}

// One call of `method` with the connection's deadline and token.
template <typename Request, typename Response>
absl::StatusOr<Response> Call(Stub& stub,
                              grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                           Response*),
                              const ViewsOptions& options, const Request& request) {
  grpc::ClientContext context;
  PrepareContext(options.connection, context);
  Response response;
  if (grpc::Status status = (stub.*method)(&context, request, &response); !status.ok()) {
    return FromRpcError(status, absl::StrCat("views ", absl::StrJoin(options.args, " ")));
  }
  return response;
}

// A list view: every page (or --limit rows) of `method`; `rows_of` gives a page's rows,
// `lines_of` a row's table lines.
template <typename Request, typename Response, typename RowsOf, typename LinesOf>
absl::Status ListView(Stub& stub,
                      grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                      RowsOf rows_of, LinesOf lines_of, const std::vector<std::string>& headers,
                      const std::string& noun, const ViewsOptions& options, std::ostream& out,
                      std::ostream& notes) {
  Request request;
  COOP_RETURN_IF_ERROR(Build(options, request));
  request.set_page_size(kPageSize);
  Rows rows(options, headers, noun, out);
  std::string cursor;
  bool more = true;
  while (more) {
    COOP_ASSIGN_OR_RETURN(const Response response, Call(stub, method, options, request));
    cursor = response.cursor();
    for (const auto& row : rows_of(response)) {
      if (!rows.Add(row, lines_of(row))) {
        more = false;
        break;
      }
    }
    more = more && !response.next_page_token().empty();
    request.set_page_token(response.next_page_token());
  }
  NoteCursor(cursor, notes);
  rows.Finish();
  return absl::OkStatus();
}

// A single-row view: the row (as a list of one) and the response, for its details.
template <typename Request, typename Response, typename Row, typename LinesOf>
absl::StatusOr<Response> ShowOne(
    Stub& stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
    const Row& (Response::*row_of)() const, LinesOf lines_of,
    const std::vector<std::string>& headers, const ViewsOptions& options, std::ostream& out,
    std::ostream& notes) {
  Request request;
  COOP_RETURN_IF_ERROR(Build(options, request));
  COOP_ASSIGN_OR_RETURN(Response response, Call(stub, method, options, request));
  Rows rows(options, headers, "", out);
  rows.Add((response.*row_of)(), lines_of((response.*row_of)()));
  rows.Finish();
  NoteCursor(response.cursor(), notes);
  return response;
}

using RunFn = absl::Status (*)(Stub&, const ViewsOptions&, const std::atomic<bool>&, std::ostream&,
                               std::ostream&);

absl::Status Agreements(Stub& stub, const ViewsOptions& options, const std::atomic<bool>&,
                        std::ostream& out, std::ostream& notes) {
  return ListView(
      stub, &Stub::ListAgreements,
      [](const coop::v1::ListAgreementsResponse& r) -> const auto& { return r.agreements(); },
      AgreementLines, kAgreementHeaders, "agreements", options, out, notes);
}

absl::Status Hubs(Stub& stub, const ViewsOptions& options, const std::atomic<bool>&,
                  std::ostream& out, std::ostream& notes) {
  return ListView(
      stub, &Stub::ListHubs,
      [](const coop::v1::ListHubsResponse& r) -> const auto& { return r.hubs(); }, HubLines,
      kHubHeaders, "hubs", options, out, notes);
}

absl::Status Trade(Stub& stub, const ViewsOptions& options, const std::atomic<bool>&,
                   std::ostream& out, std::ostream& notes) {
  return ListView(
      stub, &Stub::ListTradeRows,
      [](const coop::v1::ListTradeRowsResponse& r) -> const auto& { return r.rows(); }, TradeLines,
      kTradeHeaders, "trade rows", options, out, notes);
}

absl::Status Regions(Stub& stub, const ViewsOptions& options, const std::atomic<bool>&,
                     std::ostream& out, std::ostream& notes) {
  return ListView(
      stub, &Stub::ListRegions,
      [](const coop::v1::ListRegionsResponse& r) -> const auto& { return r.regions(); },
      RegionLines, kRegionHeaders, "regions", options, out, notes);
}

absl::Status Timeline(Stub& stub, const ViewsOptions& options, const std::atomic<bool>&,
                      std::ostream& out, std::ostream& notes) {
  return ListView(
      stub, &Stub::ListTimeline,
      [](const coop::v1::ListTimelineResponse& r) -> const auto& { return r.entries(); },
      TimelineLines, kTimelineHeaders, "events", options, out, notes);
}

absl::Status Agreement(Stub& stub, const ViewsOptions& options, const std::atomic<bool>&,
                       std::ostream& out, std::ostream& notes) {
  COOP_ASSIGN_OR_RETURN(
      const coop::v1::GetAgreementResponse response,
      ShowOne(stub, &Stub::GetAgreement, &coop::v1::GetAgreementResponse::agreement, AgreementLines,
              kAgreementHeaders, options, out, notes));
  const coop::v1::Agreement& agreement = response.agreement();
  if (!options.json && agreement.changes_size() > 0) {
    Table changes({"EFFECTIVE", "NEW STATUS", "SUMMARY", "EVENT"});
    for (const coop::v1::AgreementChange& change : agreement.changes()) {
      changes.AddRow({DateText(change.effective_on()), Label(change.new_status()), change.summary(),
                      change.event().id()});
    }
    out << "\nchanges\n";
    changes.Print(out);
  }
  return absl::OkStatus();
}

absl::Status Hub(Stub& stub, const ViewsOptions& options, const std::atomic<bool>&,
                 std::ostream& out, std::ostream& notes) {
  COOP_ASSIGN_OR_RETURN(const coop::v1::GetHubResponse response,
                        ShowOne(stub, &Stub::GetHub, &coop::v1::GetHubResponse::hub, HubLines,
                                kHubHeaders, options, out, notes));
  const coop::v1::Hub& hub = response.hub();
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
  return absl::OkStatus();
}

absl::Status Region(Stub& stub, const ViewsOptions& options, const std::atomic<bool>&,
                    std::ostream& out, std::ostream& notes) {
  COOP_ASSIGN_OR_RETURN(const coop::v1::GetRegionResponse response,
                        ShowOne(stub, &Stub::GetRegion, &coop::v1::GetRegionResponse::region,
                                RegionLines, kRegionHeaders, options, out, notes));
  const coop::v1::RegionSummary& region = response.region();
  if (options.json) return absl::OkStatus();
  if (region.facts_size() > 0) {
    Table facts({"FACT", "VALUE", "COUNTERPART", "NOTE"});
    for (const coop::v1::RegionFact& fact : region.facts()) {
      facts.AddRow(
          {Label(fact.kind()), QuantityText(fact.value()), fact.counterpart().code(), fact.note()});
    }
    out << "\nfacts\n";
    facts.Print(out);
  }
  for (const auto& [title, ids] :
       {std::pair{"agreements", &region.agreement_ids()}, std::pair{"hubs", &region.hub_ids()},
        std::pair{"sites", &region.site_ids()}}) {
    if (!ids->empty()) out << "\n" << title << ": " << absl::StrJoin(*ids, ", ") << "\n";
  }
  return absl::OkStatus();
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

absl::Status RebuildStatus(Stub& stub, const ViewsOptions& options, const std::atomic<bool>&,
                           std::ostream& out, std::ostream&) {
  coop::v1::GetRebuildRequest request;
  COOP_RETURN_IF_ERROR(Build(options, request));
  COOP_ASSIGN_OR_RETURN(const coop::v1::GetRebuildResponse response,
                        Call(stub, &Stub::GetRebuild, options, request));
  PrintRebuild(options, response.status(), out);
  return absl::OkStatus();
}

absl::Status Rebuild(Stub& stub, const ViewsOptions& options, const std::atomic<bool>& stop,
                     std::ostream& out, std::ostream& notes) {
  COOP_ASSIGN_OR_RETURN(const coop::v1::RebuildResponse started,
                        Call(stub, &Stub::Rebuild, options, coop::v1::RebuildRequest()));
  coop::v1::RebuildStatus status = started.status();
  notes << "rebuild: generation " << status.generation() << " started; "
        << Grouped(status.target_count()) << " records to apply\n";
  coop::v1::GetRebuildRequest poll;
  poll.set_generation(status.generation());
  int64_t reported = -1;
  while (options.wait && status.state() == coop::v1::REBUILD_STATE_RUNNING) {
    if (stop.load()) {
      return absl::CancelledError(
          absl::StrCat("stopped waiting; generation ", status.generation(), " goes on rebuilding"));
    }
    absl::SleepFor(absl::Milliseconds(200));
    COOP_ASSIGN_OR_RETURN(const coop::v1::GetRebuildResponse polled,
                          Call(stub, &Stub::GetRebuild, options, poll));
    status = polled.status();
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

// ---------------------------------------------------------------------------------------------
// The views and their flags.

// The dry run of a view's request: its flag values parse.
template <typename Request>
absl::Status CheckBuild(const ViewsOptions& options) {
  Request request;
  return Build(options, request);
}

struct ViewSpec {
  const char* name;
  // Words after the view name: 0 for a list, 1 for a single row (its id), -1 for 0 or 1.
  int ids;
  std::vector<std::string> flags;
  absl::Status (*check)(const ViewsOptions&);
  RunFn run;
};

const std::vector<ViewSpec>& Specs() {
  static const auto* specs = new std::vector<ViewSpec>{
      {"agreements",
       0,
       {"as_of", "min_position", "region", "party_id", "hub_id", "status", "area"},
       CheckBuild<coop::v1::ListAgreementsRequest>,
       Agreements},
      {"agreement",
       1,
       {"as_of", "min_position"},
       CheckBuild<coop::v1::GetAgreementRequest>,
       Agreement},
      {"hubs",
       0,
       {"as_of", "min_position", "region", "party_id", "kind", "status"},
       CheckBuild<coop::v1::ListHubsRequest>,
       Hubs},
      {"hub", 1, {"as_of", "min_position"}, CheckBuild<coop::v1::GetHubRequest>, Hub},
      {"trade",
       0,
       {"as_of", "min_position", "region", "direction", "hs_code_prefix", "category_name"},
       CheckBuild<coop::v1::ListTradeRowsRequest>,
       Trade},
      {"regions",
       0,
       {"as_of", "min_position", "country"},
       CheckBuild<coop::v1::ListRegionsRequest>,
       Regions},
      {"region", 1, {"as_of", "min_position"}, CheckBuild<coop::v1::GetRegionRequest>, Region},
      {"timeline",
       0,
       {"min_position", "from", "to", "event filter"},
       CheckBuild<coop::v1::ListTimelineRequest>,
       Timeline},
      {"rebuild", 0, {"wait"}, CheckBuild<coop::v1::RebuildRequest>, Rebuild},
      {"rebuild-status", -1, {}, CheckBuild<coop::v1::GetRebuildRequest>, RebuildStatus},
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

}  // namespace

absl::Status CheckViewsOptions(const ViewsOptions& options) {
  COOP_ASSIGN_OR_RETURN(const ViewSpec* spec, FindSpec(options.args));
  const std::set<std::string> takes(spec->flags.begin(), spec->flags.end());
  auto refuse = [&](const std::string& flag) {
    std::vector<std::string> flags;
    for (const std::string& name : spec->flags) {
      flags.push_back(name == "event filter" ? "the event filter flags" : "--" + name);
    }
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": not a flag of 'views ", spec->name, "' (it takes ",
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
  return spec->check(options);
}

absl::Status RunViews(const ViewsOptions& options, const std::atomic<bool>& stop, std::ostream& out,
                      std::ostream& notes) {
  COOP_RETURN_IF_ERROR(CheckViewsOptions(options));
  COOP_ASSIGN_OR_RETURN(const ViewSpec* spec, FindSpec(options.args));
  COOP_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, OpenChannel(options.connection));
  std::unique_ptr<Stub> stub = coop::v1::Views::NewStub(channel);
  return spec->run(*stub, options, stop, out, notes);
}

}  // namespace coop::ctl
