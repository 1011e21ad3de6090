#include "consumers/views/projector.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/events/record_codec.h"
#include "common/status_macros.h"
#include "consumers/views/calendar.h"
#include "consumers/views/event_facts.h"
#include "coop/v1/views.pb.h"
#include "google/protobuf/util/json_util.h"

namespace coop::views {
namespace {

using coop::v1::Event;
using sql::Value;

// Lists inside one view row keep at most this many entries (the latest); the timeline keeps
// every event.
constexpr int kMaxListEntries = 1000;
// A hub answer holds its latest milestones; ListTimeline (subject hub/{id}) pages through all.
constexpr int kMaxAnsweredMilestones = 100;

struct EventMeta {
  std::string source;
  std::string id;
  int64_t recorded_ms = 0;
  int32_t partition = 0;
  int64_t offset = 0;
  // The payload applied is a correction's, not the one recorded.
  bool corrected = false;
  // The recorded_time the touched rows get as updated_time (a re-fold uses the correction's).
  int64_t apply_ms = 0;
};

google::protobuf::Timestamp TimestampOfMillis(int64_t ms) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(ms / 1000);
  ts.set_nanos(static_cast<int32_t>(ms % 1000) * 1'000'000);
  return ts;
}

int64_t MillisOf(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1000 + ts.nanos() / 1'000'000;
}

// Where an event lies in log order, as "recorded_ms:partition:offset" (fixed widths).
std::string OrderKey(const EventMeta& meta) {
  return absl::StrFormat("%015d:%05d:%019d", meta.recorded_ms, meta.partition, meta.offset);
}

// Whether order key `a` comes before `b` in the log: by offset within one partition (the
// log's own order, whatever the publishers' clocks say), by recorded_time across partitions.
bool Before(const std::string& a, const std::string& b) {
  constexpr size_t kPartitionAt = 16, kPartitionLength = 5;
  if (a.compare(kPartitionAt, kPartitionLength, b, kPartitionAt, kPartitionLength) == 0) {
    return a.compare(kPartitionAt, std::string::npos, b, kPartitionAt, std::string::npos) < 0;
  }
  return a < b;
}

coop::v1::EventRef RefOf(const EventMeta& meta) {
  coop::v1::EventRef ref;
  ref.set_source(meta.source);
  ref.set_id(meta.id);
  return ref;
}

std::string Json(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

template <typename List>
std::string JsonList(const List& list) {
  std::string out = "[";
  for (int i = 0; i < list.size(); ++i) {
    if (i > 0) out += ",";
    out += Json(list.Get(i));
  }
  out += "]";
  return out;
}

// The JSON of a list of Money, as MessageToJsonString writes each (units as a string, zero
// fields left out), written directly: it is on the path of every trade update.
std::string MoneyJson(const google::protobuf::RepeatedPtrField<coop::v1::Money>& values) {
  std::string out = "[";
  for (const coop::v1::Money& money : values) {
    if (out.size() > 1) out += ",";
    absl::StrAppend(&out, "{\"currency_code\":\"", money.currency_code(), "\"");
    if (money.units() != 0) absl::StrAppend(&out, ",\"units\":\"", money.units(), "\"");
    if (money.nanos() != 0) absl::StrAppend(&out, ",\"nanos\":", money.nanos());
    out += "}";
  }
  out += "]";
  return out;
}

template <typename List>
void KeepLatest(List& list) {
  if (list.size() > kMaxListEntries) list.DeleteSubrange(0, list.size() - kMaxListEntries);
}

Value NullableText(const std::string& text) { return text.empty() ? Value() : Value(text); }

Value Blob(const google::protobuf::Message& message) {
  return Value(sql::Blob{message.SerializeAsString()});
}

// An entity loaded into (or created in) the batch.
template <typename Doc>
struct Cached {
  Doc doc;
  bool exists = false;
  bool dirty = false;
  std::string subject;
  std::string order_key;  // Latest-wins entities: the log order of the event that set them.
};

// The stage a milestone of this kind shows a hub has reached; a hub's status is the furthest
// stage of all its milestones.
coop::v1::HubStatus StageOf(coop::v1::HubMilestoneKind kind) {
  switch (kind) {
    case coop::v1::HUB_MILESTONE_KIND_COMPLETED:
      return coop::v1::HUB_STATUS_COMPLETED;
    case coop::v1::HUB_MILESTONE_KIND_OPERATION_STARTED:
      return coop::v1::HUB_STATUS_OPERATING;
    case coop::v1::HUB_MILESTONE_KIND_CONSTRUCTION_STARTED:
    case coop::v1::HUB_MILESTONE_KIND_PROGRESS_REPORTED:
    case coop::v1::HUB_MILESTONE_KIND_PHASE_COMPLETED:
      return coop::v1::HUB_STATUS_UNDER_CONSTRUCTION;
    case coop::v1::HUB_MILESTONE_KIND_PLANNED:
    case coop::v1::HUB_MILESTONE_KIND_PLAN_REVISED:
      return coop::v1::HUB_STATUS_PLANNED;
    default:
      return coop::v1::HUB_STATUS_ANNOUNCED;
  }
}

void UpdateSlippage(coop::v1::HubPhase& phase) {
  if (!phase.has_baseline_on()) {
    phase.clear_slippage_days();
    return;
  }
  const coop::v1::PartialDate& reached = phase.has_actual_on()    ? phase.actual_on()
                                         : phase.has_planned_on() ? phase.planned_on()
                                                                  : phase.baseline_on();
  phase.set_slippage_days(static_cast<int32_t>(LastDay(reached) - LastDay(phase.baseline_on())));
}

std::string TradeRowKey(const coop::v1::TradeUpdate& update) {
  std::string category;
  if (update.has_category()) {
    category = update.category().hs_code().empty()
                   ? absl::StrCat("name:", update.category().name())
                   : absl::StrCat("hs:", update.category().hs_code());
  }
  return absl::StrCat(update.reporting_region().code(), "\x1f", update.partner_region().code(),
                      "\x1f", static_cast<int>(update.direction()), "\x1f", category, "\x1f",
                      DayText(PeriodFirstDay(update.period())), "\x1f",
                      PeriodLabel(update.period()));
}

std::string TourismKey(const coop::v1::TourismFlow& flow) {
  return absl::StrCat(flow.destination().code(), "\x1f", flow.origin().code(), "\x1f",
                      PeriodLabel(flow.period()));
}

std::string CategoryKey(const coop::v1::TradeRow& row) {
  if (!row.has_category()) return "";
  return row.category().hs_code().empty() ? absl::StrCat("name:", row.category().name())
                                          : absl::StrCat("hs:", row.category().hs_code());
}

// The view entity an event (or, for a correction, its corrected payload) folds into, as the
// events.entity column names it: trade rows, tourism flows and incentives have their own key;
// every other entity is the event's subject (agreement/{id}, hub/{id}, site/{id}, region/{code}
// for its facts, ...).
std::string EntityOf(const Event& event) {
  Event effective;
  const Event* e = &event;
  if (event.has_event_corrected()) {
    effective.set_subject(event.subject());
    if (!ReplacePayload(event.event_corrected(), effective)) return event.subject();
    e = &effective;
  }
  switch (e->payload_case()) {
    case Event::kTradeUpdate:
      return absl::StrCat("trade:", TradeRowKey(e->trade_update()));
    case Event::kTourismFlow:
      return absl::StrCat("tourism:", TourismKey(e->tourism_flow()));
    case Event::kInvestmentIncentive:
      return absl::StrCat("incentive:", e->investment_incentive().incentive_id());
    default:
      return event.subject();
  }
}

// The entities one batch touches, loaded once and written once.
class Batch {
 public:
  explicit Batch(sql::Connection& connection) : db_(connection) {}

  absl::Status Apply(const Event& event, const EventMeta& meta);
  absl::Status Flush();
  // Deletes the rows of `entity` (see EntityOf) and folds its events again, in log order, with
  // corrected payloads in place of the originals.
  absl::Status Refold(const std::string& entity, int64_t apply_ms);

 private:
  template <typename Doc>
  absl::StatusOr<Cached<Doc>*> Load(absl::flat_hash_map<std::string, Cached<Doc>>& cache,
                                    const std::string& key, const char* select);

  absl::Status ApplySigning(const Event& event, const EventMeta& meta);
  absl::Status ApplyAmendment(const coop::v1::AgreementAmended& amended, const EventMeta& meta);
  absl::Status ApplyMilestone(const Event& event, const EventMeta& meta);
  absl::Status ApplyTrade(const Event& event, const EventMeta& meta);
  template <typename Doc>
  absl::Status ApplyLatest(absl::flat_hash_map<std::string, Cached<Doc>>& cache,
                           const std::string& key, const char* select, const Doc& doc,
                           const Event& event, const EventMeta& meta);
  void Mention(const std::string& code, int64_t ms);

  absl::Status FlushAgreement(const Cached<coop::v1::Agreement>& a);
  absl::Status FlushHub(const Cached<coop::v1::Hub>& h);
  absl::Status FlushTrade(const std::string& key, const Cached<coop::v1::TradeRow>& t);
  absl::Status ReplaceFacets(const char* view, const std::string& entity_id,
                             const std::vector<std::pair<std::string, std::string>>& facets);

  sql::Connection& db_;
  absl::flat_hash_map<std::string, Cached<coop::v1::Agreement>> agreements_;
  absl::flat_hash_map<std::string, Cached<coop::v1::Hub>> hubs_;
  absl::flat_hash_map<std::string, Cached<coop::v1::TradeRow>> trade_;
  absl::flat_hash_map<std::string, Cached<coop::v1::IndustrialSite>> sites_;
  absl::flat_hash_map<std::string, Cached<coop::v1::InvestmentIncentive>> incentives_;
  // Keyed "region\x1fkind\x1fcounterpart"; the doc is a RegionProfile with the one fact.
  absl::flat_hash_map<std::string, Cached<coop::v1::RegionProfile>> facts_;
  // Keyed "destination\x1forigin\x1fperiod label".
  absl::flat_hash_map<std::string, Cached<coop::v1::TourismFlow>> tourism_;
  absl::flat_hash_map<std::string, int64_t> regions_;  // code -> latest updated_time
};

template <typename Doc>
absl::StatusOr<Cached<Doc>*> Batch::Load(absl::flat_hash_map<std::string, Cached<Doc>>& cache,
                                         const std::string& key, const char* select) {
  auto [it, inserted] = cache.try_emplace(key);
  if (!inserted) return &it->second;
  COOP_ASSIGN_OR_RETURN(std::vector<sql::Row> rows, db_.Query(select, {Value(key)}));
  if (!rows.empty()) {
    Cached<Doc>& cached = it->second;
    if (!cached.doc.ParseFromString(sql::AsString(rows[0][0]))) {
      cache.erase(it);
      return absl::DataLossError(absl::StrCat("the stored row '", key, "' does not parse"));
    }
    cached.exists = true;
    cached.subject = sql::AsString(rows[0][1]);
    if (rows[0].size() > 2) cached.order_key = sql::AsString(rows[0][2]);
  }
  return &it->second;
}

void Batch::Mention(const std::string& code, int64_t ms) {
  if (code.empty()) return;
  int64_t& latest = regions_[code];
  latest = std::max(latest, ms);
}

absl::Status Batch::Apply(const Event& event, const EventMeta& meta) {
  switch (event.payload_case()) {
    case Event::kMemorandumSigned:
    case Event::kAgreementSigned:
      return ApplySigning(event, meta);
    case Event::kAgreementAmended:
      return ApplyAmendment(event.agreement_amended(), meta);
    case Event::kHubMilestone:
      return ApplyMilestone(event, meta);
    case Event::kTradeUpdate:
      return ApplyTrade(event, meta);
    case Event::kIndustrialSite: {
      const coop::v1::IndustrialSite& site = event.industrial_site();
      Mention(site.region().code(), meta.apply_ms);
      return ApplyLatest(sites_, site.site_id(),
                         "SELECT doc, subject, order_key FROM sites WHERE site_id = $1", site,
                         event, meta);
    }
    case Event::kInvestmentIncentive: {
      const coop::v1::InvestmentIncentive& incentive = event.investment_incentive();
      Mention(incentive.region().code(), meta.apply_ms);
      return ApplyLatest(incentives_, incentive.incentive_id(),
                         "SELECT doc, subject, order_key FROM incentives WHERE incentive_id = $1",
                         incentive, event, meta);
    }
    case Event::kRegionProfile: {
      const coop::v1::RegionProfile& profile = event.region_profile();
      Mention(profile.region().code(), meta.apply_ms);
      for (const coop::v1::RegionFact& fact : profile.facts()) {
        coop::v1::RegionProfile one;
        *one.mutable_region() = profile.region();
        if (profile.has_as_of()) *one.mutable_as_of() = profile.as_of();
        *one.add_facts() = fact;
        const std::string key =
            absl::StrCat(profile.region().code(), "\x1f", static_cast<int>(fact.kind()), "\x1f",
                         fact.counterpart().code());
        COOP_RETURN_IF_ERROR(ApplyLatest(
            facts_, key, "SELECT doc, subject, order_key FROM region_facts WHERE fact_key = $1",
            one, event, meta));
      }
      return absl::OkStatus();
    }
    case Event::kTourismFlow: {
      const coop::v1::TourismFlow& flow = event.tourism_flow();
      Mention(flow.destination().code(), meta.apply_ms);
      return ApplyLatest(tourism_, TourismKey(flow),
                         "SELECT doc, subject, order_key FROM tourism_flows WHERE flow_key = $1",
                         flow, event, meta);
    }
    default:
      // Delegation visits, road map items and cultural events are in the timeline only;
      // corrections were handled by the caller.
      return absl::OkStatus();
  }
}

absl::Status Batch::ApplySigning(const Event& event, const EventMeta& meta) {
  const bool memorandum = event.has_memorandum_signed();
  const std::string& id = memorandum ? event.memorandum_signed().agreement_id()
                                     : event.agreement_signed().agreement_id();
  COOP_ASSIGN_OR_RETURN(
      Cached<coop::v1::Agreement> * cached,
      Load(agreements_, id, "SELECT doc, subject FROM agreements WHERE agreement_id = $1"));
  if (cached->exists) return absl::OkStatus();  // The first signing event of an id is kept.
  coop::v1::Agreement& a = cached->doc;
  a.Clear();
  a.set_agreement_id(id);
  int principals = 0;
  auto fill = [&](const auto& signing) {
    a.set_title(signing.title());
    *a.mutable_parties() = signing.parties();
    *a.mutable_participants() = signing.participants();
    *a.mutable_signed_on() = signing.signed_on();
    if (signing.has_place()) *a.mutable_place() = signing.place();
    a.set_occasion(signing.occasion());
    *a.mutable_areas() = signing.areas();
    for (const coop::v1::InvolvedParty& party : signing.parties()) {
      if (party.role() == coop::v1::PARTY_ROLE_PRINCIPAL) ++principals;
      Mention(party.party().region().code(), meta.apply_ms);
    }
  };
  if (memorandum) {
    a.set_form(coop::v1::AGREEMENT_FORM_MEMORANDUM);
    fill(event.memorandum_signed());
    a.set_purpose(event.memorandum_signed().summary());
  } else {
    a.set_form(coop::v1::AGREEMENT_FORM_AGREEMENT);
    fill(event.agreement_signed());
    a.set_purpose(event.agreement_signed().purpose());
    *a.mutable_hub_ids() = event.agreement_signed().hub_ids();
  }
  a.set_laterality(principals <= 2   ? coop::v1::LATERALITY_BILATERAL
                   : principals == 3 ? coop::v1::LATERALITY_TRILATERAL
                                     : coop::v1::LATERALITY_MULTILATERAL);
  a.set_status(coop::v1::AGREEMENT_STATUS_SIGNED);
  *a.mutable_signed_event() = RefOf(meta);
  a.set_corrected(meta.corrected);
  *a.mutable_updated_time() = TimestampOfMillis(meta.apply_ms);
  cached->exists = true;
  cached->dirty = true;
  cached->subject = event.subject();
  return absl::OkStatus();
}

absl::Status Batch::ApplyAmendment(const coop::v1::AgreementAmended& amended,
                                   const EventMeta& meta) {
  COOP_ASSIGN_OR_RETURN(Cached<coop::v1::Agreement> * cached,
                        Load(agreements_, amended.agreement_id(),
                             "SELECT doc, subject FROM agreements WHERE agreement_id = $1"));
  if (!cached->exists) return absl::OkStatus();  // Unknown agreement: timeline only.
  coop::v1::Agreement& a = cached->doc;
  coop::v1::AgreementChange* change = a.add_changes();
  *change->mutable_event() = RefOf(meta);
  change->set_summary(amended.summary());
  *change->mutable_effective_on() = amended.effective_on();
  change->set_new_status(amended.new_status());
  KeepLatest(*a.mutable_changes());
  a.set_status(amended.new_status());
  *a.mutable_updated_time() = TimestampOfMillis(meta.apply_ms);
  cached->dirty = true;
  return absl::OkStatus();
}

absl::Status Batch::ApplyMilestone(const Event& event, const EventMeta& meta) {
  const coop::v1::HubMilestone& m = event.hub_milestone();
  COOP_ASSIGN_OR_RETURN(Cached<coop::v1::Hub> * cached,
                        Load(hubs_, m.hub_id(), "SELECT doc, subject FROM hubs WHERE hub_id = $1"));
  coop::v1::Hub& hub = cached->doc;
  if (!cached->exists) {
    hub.Clear();
    hub.set_hub_id(m.hub_id());
    cached->exists = true;
    cached->subject = event.subject();
  }
  hub.set_name(m.hub_name());
  hub.set_kind(m.hub_kind());
  *hub.mutable_location() = m.location();
  Mention(m.location().region().code(), meta.apply_ms);
  if (!m.parties().empty()) *hub.mutable_parties() = m.parties();
  if (m.has_total_area()) *hub.mutable_total_area() = m.total_area();
  if (m.has_investment()) *hub.mutable_investment() = m.investment();
  if (m.has_jobs()) hub.set_jobs(m.jobs());
  if (!m.capacities().empty()) *hub.mutable_capacities() = m.capacities();
  if (!m.shares().empty()) *hub.mutable_shares() = m.shares();
  if (!m.participating_countries().empty()) {
    *hub.mutable_participating_countries() = m.participating_countries();
  }
  if (!m.facilities().empty()) *hub.mutable_facilities() = m.facilities();
  if (!m.agreement_ids().empty()) *hub.mutable_agreement_ids() = m.agreement_ids();
  if (!m.description().empty()) hub.set_description(m.description());

  // Milestones are rows of hub_milestones, written as they come: a hub's doc stays small
  // however long its history (GetHub and ListHubs add them back).
  coop::v1::HubMilestoneEntry entry;
  *entry.mutable_event() = RefOf(meta);
  entry.set_milestone_kind(m.milestone_kind());
  entry.set_phase(m.phase());
  if (m.has_planned_on()) *entry.mutable_planned_on() = m.planned_on();
  if (m.has_actual_on()) *entry.mutable_actual_on() = m.actual_on();
  if (m.has_percent_complete()) entry.set_percent_complete(m.percent_complete());
  *entry.mutable_recorded_time() = TimestampOfMillis(meta.recorded_ms);
  entry.mutable_position()->set_partition(meta.partition);
  entry.mutable_position()->set_offset(meta.offset);
  COOP_RETURN_IF_ERROR(
      db_.Execute("INSERT INTO hub_milestones (hub_id, kafka_partition, kafka_offset, source, id, "
                  "milestone_kind, phase, planned_on, actual_on, percent_complete, "
                  "recorded_time_ms, entry) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                  "$11, $12)",
                  {Value(m.hub_id()), Value(int64_t{meta.partition}), Value(meta.offset),
                   Value(meta.source), Value(meta.id), Value(int64_t{m.milestone_kind()}),
                   Value(int64_t{m.phase()}),
                   m.has_planned_on() ? Value(DateLabel(m.planned_on())) : Value(),
                   m.has_actual_on() ? Value(DateLabel(m.actual_on())) : Value(),
                   m.has_percent_complete() ? Value(m.percent_complete()) : Value(),
                   Value(meta.recorded_ms), Blob(entry)})
          .status());
  hub.set_status(std::max(hub.status(), StageOf(m.milestone_kind())));

  auto* phases = hub.mutable_phases();
  auto it = std::find_if(phases->begin(), phases->end(),
                         [&](const coop::v1::HubPhase& p) { return p.phase() == m.phase(); });
  coop::v1::HubPhase* phase = nullptr;
  if (it != phases->end()) {
    phase = &*it;
  } else {
    phase = phases->Add();
    phase->set_phase(m.phase());
    std::sort(phases->begin(), phases->end(),
              [](const coop::v1::HubPhase& a, const coop::v1::HubPhase& b) {
                return a.phase() < b.phase();
              });
    phase = &*std::find_if(phases->begin(), phases->end(),
                           [&](const coop::v1::HubPhase& p) { return p.phase() == m.phase(); });
  }
  if (m.has_planned_on()) {
    if (!phase->has_baseline_on()) *phase->mutable_baseline_on() = m.planned_on();
    *phase->mutable_planned_on() = m.planned_on();
  }
  const bool completes = m.milestone_kind() == coop::v1::HUB_MILESTONE_KIND_PHASE_COMPLETED ||
                         m.milestone_kind() == coop::v1::HUB_MILESTONE_KIND_COMPLETED;
  if (completes && m.has_actual_on()) *phase->mutable_actual_on() = m.actual_on();
  if (m.has_percent_complete()) {
    phase->set_percent_complete(m.percent_complete());
  } else if (completes) {
    phase->set_percent_complete(100);
  }
  UpdateSlippage(*phase);
  *hub.mutable_updated_time() = TimestampOfMillis(meta.apply_ms);
  cached->dirty = true;
  return absl::OkStatus();
}

absl::Status Batch::ApplyTrade(const Event& event, const EventMeta& meta) {
  const coop::v1::TradeUpdate& update = event.trade_update();
  const std::string key = TradeRowKey(update);
  COOP_ASSIGN_OR_RETURN(
      Cached<coop::v1::TradeRow> * cached,
      Load(trade_, key, "SELECT doc, subject FROM trade_rows WHERE row_key = $1"));
  coop::v1::TradeRow& row = cached->doc;
  if (!cached->exists) {
    row.Clear();
    *row.mutable_reporting_region() = update.reporting_region();
    *row.mutable_partner_region() = update.partner_region();
    row.set_direction(update.direction());
    *row.mutable_period() = update.period();
    cached->exists = true;
    cached->subject = event.subject();
  }
  if (update.has_category()) *row.mutable_category() = update.category();
  if (update.has_value()) {
    auto* values = row.mutable_values();
    auto it = std::find_if(values->begin(), values->end(), [&](const coop::v1::Money& m) {
      return m.currency_code() == update.value().currency_code();
    });
    if (it != values->end()) {
      *it = update.value();
    } else {
      *values->Add() = update.value();
      std::sort(values->begin(), values->end(),
                [](const coop::v1::Money& a, const coop::v1::Money& b) {
                  return a.currency_code() < b.currency_code();
                });
    }
  }
  if (update.has_volume()) *row.mutable_volume() = update.volume();
  if (update.has_growth()) *row.mutable_growth() = update.growth();
  if (update.trend() != coop::v1::TRADE_TREND_UNSPECIFIED) row.set_trend(update.trend());
  *row.add_events() = RefOf(meta);
  KeepLatest(*row.mutable_events());
  *row.mutable_updated_time() = TimestampOfMillis(meta.apply_ms);
  cached->dirty = true;
  return absl::OkStatus();
}

template <typename Doc>
absl::Status Batch::ApplyLatest(absl::flat_hash_map<std::string, Cached<Doc>>& cache,
                                const std::string& key, const char* select, const Doc& doc,
                                const Event& event, const EventMeta& meta) {
  COOP_ASSIGN_OR_RETURN(Cached<Doc> * cached, Load(cache, key, select));
  const std::string order = OrderKey(meta);
  if (cached->exists && Before(order, cached->order_key)) return absl::OkStatus();
  cached->doc = doc;
  cached->exists = true;
  cached->dirty = true;
  cached->subject = event.subject();
  cached->order_key = order;
  return absl::OkStatus();
}

absl::Status Batch::ReplaceFacets(const char* view, const std::string& entity_id,
                                  const std::vector<std::pair<std::string, std::string>>& facets) {
  COOP_RETURN_IF_ERROR(db_.Execute("DELETE FROM facets WHERE view = $1 AND entity_id = $2",
                                   {Value(std::string(view)), Value(entity_id)})
                           .status());
  for (const auto& [facet, value] : facets) {
    COOP_RETURN_IF_ERROR(
        db_.Execute("INSERT INTO facets (view, facet, value, entity_id) VALUES ($1, $2, $3, $4) "
                    "ON CONFLICT DO NOTHING",
                    {Value(std::string(view)), Value(facet), Value(value), Value(entity_id)})
            .status());
  }
  return absl::OkStatus();
}

absl::Status Batch::FlushAgreement(const Cached<coop::v1::Agreement>& cached) {
  const coop::v1::Agreement& a = cached.doc;
  std::vector<std::string> areas;
  std::vector<std::pair<std::string, std::string>> facets;
  for (int area : a.areas()) {
    areas.push_back(coop::v1::CooperationArea_Name(area));
    facets.emplace_back("area", absl::StrCat(area));
  }
  for (const coop::v1::InvolvedParty& party : a.parties()) {
    const std::string& code = party.party().region().code();
    facets.emplace_back("region", code);
    facets.emplace_back("region", std::string(CountryOf(code)));
    if (!party.party().party_id().empty()) facets.emplace_back("party", party.party().party_id());
  }
  for (const std::string& hub : a.hub_ids()) facets.emplace_back("hub", hub);
  std::sort(facets.begin(), facets.end());
  facets.erase(std::unique(facets.begin(), facets.end()), facets.end());
  std::vector<std::string> hub_ids(a.hub_ids().begin(), a.hub_ids().end());
  COOP_RETURN_IF_ERROR(
      db_.Execute(
             "INSERT INTO agreements (agreement_id, subject, form, laterality, title, status, "
             "signed_on, signed_from, signed_to, place_region, place_locality, place_name, "
             "occasion, purpose, areas, hub_ids, parties_json, participants_json, changes_json, "
             "corrected, signed_source, signed_id, updated_time_ms, doc) VALUES ($1, $2, $3, $4, "
             "$5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, "
             "$22, $23, $24) ON CONFLICT (agreement_id) DO UPDATE SET form = excluded.form, "
             "laterality = excluded.laterality, title = excluded.title, status = "
             "excluded.status, signed_on = excluded.signed_on, signed_from = "
             "excluded.signed_from, signed_to = excluded.signed_to, place_region = "
             "excluded.place_region, place_locality = excluded.place_locality, place_name = "
             "excluded.place_name, occasion = excluded.occasion, purpose = excluded.purpose, "
             "areas = excluded.areas, hub_ids = excluded.hub_ids, parties_json = "
             "excluded.parties_json, participants_json = excluded.participants_json, "
             "changes_json = excluded.changes_json, corrected = excluded.corrected, "
             "signed_source = excluded.signed_source, signed_id = excluded.signed_id, "
             "updated_time_ms = excluded.updated_time_ms, doc = excluded.doc",
             {Value(a.agreement_id()),
              Value(cached.subject),
              Value(int64_t{a.form()}),
              Value(int64_t{a.laterality()}),
              Value(a.title()),
              Value(int64_t{a.status()}),
              Value(DateLabel(a.signed_on())),
              Value(DayText(FirstDay(a.signed_on()))),
              Value(DayText(LastDay(a.signed_on()))),
              a.has_place() ? Value(a.place().region().code()) : Value(),
              a.has_place() ? NullableText(a.place().locality()) : Value(),
              a.has_place() ? NullableText(a.place().name()) : Value(),
              NullableText(a.occasion()),
              NullableText(a.purpose()),
              Value(DelimitedList(areas)),
              Value(DelimitedList(hub_ids)),
              Value(JsonList(a.parties())),
              Value(JsonList(a.participants())),
              Value(JsonList(a.changes())),
              Value(int64_t{a.corrected() ? 1 : 0}),
              Value(a.signed_event().source()),
              Value(a.signed_event().id()),
              Value(MillisOf(a.updated_time())),
              Blob(a)})
          .status());
  return ReplaceFacets("agreement", a.agreement_id(), facets);
}

absl::Status Batch::FlushHub(const Cached<coop::v1::Hub>& cached) {
  const coop::v1::Hub& hub = cached.doc;
  const coop::v1::HubPhase* whole = nullptr;
  for (const coop::v1::HubPhase& phase : hub.phases()) {
    if (phase.phase() == 0) whole = &phase;
  }
  auto date = [&](bool has, const coop::v1::PartialDate& d) {
    return has ? Value(DateLabel(d)) : Value();
  };
  const std::string& region = hub.location().region().code();
  COOP_RETURN_IF_ERROR(
      db_.Execute(
             "INSERT INTO hubs (hub_id, subject, name, kind, status, region, country, locality, "
             "total_area, total_area_unit, investment_currency, investment_units, "
             "investment_nanos, jobs, baseline_completion, planned_completion, "
             "actual_completion, slippage_days, percent_complete, parties_json, phases_json, "
             "capacities_json, facilities_json, updated_time_ms, doc) VALUES "
             "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, "
             "$19, $20, $21, $22, $23, $24, $25) ON CONFLICT (hub_id) DO UPDATE SET name = "
             "excluded.name, kind = excluded.kind, status = excluded.status, region = "
             "excluded.region, country = excluded.country, locality = excluded.locality, "
             "total_area = excluded.total_area, total_area_unit = excluded.total_area_unit, "
             "investment_currency = excluded.investment_currency, investment_units = "
             "excluded.investment_units, investment_nanos = excluded.investment_nanos, jobs = "
             "excluded.jobs, baseline_completion = excluded.baseline_completion, "
             "planned_completion = excluded.planned_completion, actual_completion = "
             "excluded.actual_completion, slippage_days = excluded.slippage_days, "
             "percent_complete = excluded.percent_complete, parties_json = "
             "excluded.parties_json, phases_json = excluded.phases_json, "
             "capacities_json = excluded.capacities_json, "
             "facilities_json = excluded.facilities_json, updated_time_ms = "
             "excluded.updated_time_ms, doc = excluded.doc",
             {Value(hub.hub_id()),
              Value(cached.subject),
              Value(hub.name()),
              Value(int64_t{hub.kind()}),
              Value(int64_t{hub.status()}),
              Value(region),
              Value(std::string(CountryOf(region))),
              NullableText(hub.location().locality()),
              hub.has_total_area() ? Value(hub.total_area().value()) : Value(),
              hub.has_total_area() ? Value(int64_t{hub.total_area().unit()}) : Value(),
              hub.has_investment() ? Value(hub.investment().currency_code()) : Value(),
              hub.has_investment() ? Value(hub.investment().units()) : Value(),
              hub.has_investment() ? Value(int64_t{hub.investment().nanos()}) : Value(),
              hub.has_jobs() ? Value(hub.jobs()) : Value(),
              whole ? date(whole->has_baseline_on(), whole->baseline_on()) : Value(),
              whole ? date(whole->has_planned_on(), whole->planned_on()) : Value(),
              whole ? date(whole->has_actual_on(), whole->actual_on()) : Value(),
              whole && whole->has_slippage_days() ? Value(int64_t{whole->slippage_days()})
                                                  : Value(),
              whole && whole->has_percent_complete() ? Value(whole->percent_complete()) : Value(),
              Value(JsonList(hub.parties())),
              Value(JsonList(hub.phases())),
              Value(JsonList(hub.capacities())),
              Value(JsonList(hub.facilities())),
              Value(MillisOf(hub.updated_time())),
              Blob(hub)})
          .status());
  std::vector<std::pair<std::string, std::string>> facets;
  for (const coop::v1::InvolvedParty& party : hub.parties()) {
    if (!party.party().party_id().empty()) facets.emplace_back("party", party.party().party_id());
  }
  std::sort(facets.begin(), facets.end());
  facets.erase(std::unique(facets.begin(), facets.end()), facets.end());
  return ReplaceFacets("hub", hub.hub_id(), facets);
}

absl::Status Batch::FlushTrade(const std::string& key, const Cached<coop::v1::TradeRow>& cached) {
  const coop::v1::TradeRow& row = cached.doc;
  const std::string& reporting = row.reporting_region().code();
  const std::string& partner = row.partner_region().code();
  return db_
      .Execute(
          "INSERT INTO trade_rows (row_key, subject, reporting_region, reporting_country, "
          "partner_region, partner_country, direction, category_key, category_name, hs_code, "
          "period, period_from, period_to, values_json, volume, volume_unit, growth_ratio, "
          "growth_qualifier, trend, updated_time_ms, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, "
          "$8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) ON CONFLICT "
          "(row_key) DO UPDATE SET category_name = excluded.category_name, values_json = "
          "excluded.values_json, volume = excluded.volume, volume_unit = excluded.volume_unit, "
          "growth_ratio = excluded.growth_ratio, growth_qualifier = excluded.growth_qualifier, "
          "trend = excluded.trend, updated_time_ms = excluded.updated_time_ms, doc = "
          "excluded.doc",
          {Value(key),
           Value(cached.subject),
           Value(reporting),
           Value(std::string(CountryOf(reporting))),
           Value(partner),
           Value(std::string(CountryOf(partner))),
           Value(int64_t{row.direction()}),
           Value(CategoryKey(row)),
           row.has_category() ? Value(row.category().name()) : Value(),
           row.has_category() ? NullableText(row.category().hs_code()) : Value(),
           Value(PeriodLabel(row.period())),
           Value(DayText(PeriodFirstDay(row.period()))),
           Value(DayText(PeriodLastDay(row.period()))),
           Value(MoneyJson(row.values())),
           row.has_volume() ? Value(row.volume().value()) : Value(),
           row.has_volume() ? Value(int64_t{row.volume().unit()}) : Value(),
           row.has_growth() ? Value(row.growth().ratio()) : Value(),
           row.has_growth() ? Value(int64_t{row.growth().qualifier()}) : Value(),
           Value(int64_t{row.trend()}),
           Value(MillisOf(row.updated_time())),
           Blob(row)})
      .status();
}

absl::Status Batch::Flush() {
  for (auto& [id, cached] : agreements_) {
    if (cached.dirty) COOP_RETURN_IF_ERROR(FlushAgreement(cached));
    cached.dirty = false;
  }
  for (auto& [id, cached] : hubs_) {
    if (cached.dirty) COOP_RETURN_IF_ERROR(FlushHub(cached));
    cached.dirty = false;
  }
  for (auto& [key, cached] : trade_) {
    if (cached.dirty) COOP_RETURN_IF_ERROR(FlushTrade(key, cached));
    cached.dirty = false;
  }
  for (auto& [id, cached] : sites_) {
    if (!cached.dirty) continue;
    const coop::v1::IndustrialSite& s = cached.doc;
    COOP_RETURN_IF_ERROR(
        db_.Execute("INSERT INTO sites (site_id, subject, name, region, country, locality, "
                    "format, order_key, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON "
                    "CONFLICT (site_id) DO UPDATE SET name = excluded.name, region = "
                    "excluded.region, country = excluded.country, locality = excluded.locality, "
                    "format = excluded.format, order_key = excluded.order_key, doc = excluded.doc",
                    {Value(s.site_id()), Value(cached.subject), Value(s.name()),
                     Value(s.region().code()), Value(std::string(CountryOf(s.region().code()))),
                     NullableText(s.locality()), Value(int64_t{s.format()}),
                     Value(cached.order_key), Blob(s)})
            .status());
    cached.dirty = false;
  }
  for (auto& [id, cached] : incentives_) {
    if (!cached.dirty) continue;
    const coop::v1::InvestmentIncentive& i = cached.doc;
    COOP_RETURN_IF_ERROR(
        db_.Execute("INSERT INTO incentives (incentive_id, subject, region, country, hub_id, "
                    "kind, relief_percent, order_key, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                    "$8, $9) ON CONFLICT (incentive_id) DO UPDATE SET subject = excluded.subject, "
                    "region = excluded.region, country = excluded.country, hub_id = "
                    "excluded.hub_id, kind = excluded.kind, relief_percent = "
                    "excluded.relief_percent, order_key = excluded.order_key, doc = excluded.doc",
                    {Value(i.incentive_id()), Value(cached.subject), Value(i.region().code()),
                     Value(std::string(CountryOf(i.region().code()))), NullableText(i.hub_id()),
                     Value(int64_t{i.kind()}),
                     i.has_relief_percent() ? Value(i.relief_percent()) : Value(),
                     Value(cached.order_key), Blob(i)})
            .status());
    cached.dirty = false;
  }
  for (auto& [key, cached] : facts_) {
    if (!cached.dirty) continue;
    const coop::v1::RegionProfile& p = cached.doc;
    const coop::v1::RegionFact& f = p.facts(0);
    COOP_RETURN_IF_ERROR(
        db_.Execute("INSERT INTO region_facts (region, kind, counterpart, subject, value, unit, "
                    "qualifier, valid_on, note, order_key, doc, fact_key) VALUES ($1, $2, $3, $4, "
                    "$5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (fact_key) DO UPDATE SET "
                    "subject = excluded.subject, value = excluded.value, unit = excluded.unit, "
                    "qualifier = excluded.qualifier, valid_on = excluded.valid_on, note = "
                    "excluded.note, order_key = excluded.order_key, doc = excluded.doc",
                    {Value(p.region().code()), Value(int64_t{f.kind()}),
                     Value(f.counterpart().code()), Value(cached.subject), Value(f.value().value()),
                     Value(int64_t{f.value().unit()}), Value(int64_t{f.value().qualifier()}),
                     p.has_as_of() ? Value(DateLabel(p.as_of())) : Value(), NullableText(f.note()),
                     Value(cached.order_key), Blob(p), Value(key)})
            .status());
    cached.dirty = false;
  }
  for (auto& [key, cached] : tourism_) {
    if (!cached.dirty) continue;
    const coop::v1::TourismFlow& t = cached.doc;
    COOP_RETURN_IF_ERROR(
        db_.Execute("INSERT INTO tourism_flows (destination, origin, period, "
                    "destination_country, subject, period_from, period_to, tourists, "
                    "tourists_qualifier, order_key, doc, flow_key) VALUES ($1, $2, $3, $4, $5, $6, "
                    "$7, $8, $9, $10, $11, $12) ON CONFLICT (flow_key) DO UPDATE SET "
                    "subject = excluded.subject, tourists = excluded.tourists, "
                    "tourists_qualifier = excluded.tourists_qualifier, order_key = "
                    "excluded.order_key, doc = excluded.doc",
                    {Value(t.destination().code()), Value(t.origin().code()),
                     Value(PeriodLabel(t.period())),
                     Value(std::string(CountryOf(t.destination().code()))), Value(cached.subject),
                     Value(DayText(PeriodFirstDay(t.period()))),
                     Value(DayText(PeriodLastDay(t.period()))), Value(t.tourists().value()),
                     Value(int64_t{t.tourists().qualifier()}), Value(cached.order_key), Blob(t),
                     Value(key)})
            .status());
    cached.dirty = false;
  }
  for (const auto& [code, ms] : regions_) {
    COOP_RETURN_IF_ERROR(
        db_.Execute("INSERT INTO regions (code, country, updated_time_ms) VALUES ($1, $2, $3) "
                    "ON CONFLICT (code) DO UPDATE SET updated_time_ms = CASE WHEN "
                    "excluded.updated_time_ms > regions.updated_time_ms THEN "
                    "excluded.updated_time_ms ELSE regions.updated_time_ms END",
                    {Value(code), Value(std::string(CountryOf(code))), Value(ms)})
            .status());
  }
  regions_.clear();
  return absl::OkStatus();
}

absl::Status Batch::Refold(const std::string& entity, int64_t apply_ms) {
  // Only this entity's rows are rebuilt: they are dropped from the batch (the timeline holds
  // every event of the batch already) and from the database, then folded again. Everything
  // else the batch holds stays in memory.
  auto drop_cached = [&](absl::string_view prefix, auto& cache) {
    if (!absl::StartsWith(entity, prefix)) return false;
    cache.erase(entity.substr(prefix.size()));
    return true;
  };
  if (!drop_cached("trade:", trade_) && !drop_cached("tourism:", tourism_) &&
      !drop_cached("incentive:", incentives_) && !drop_cached("agreement/", agreements_) &&
      !drop_cached("hub/", hubs_) && !drop_cached("site/", sites_) &&
      absl::StartsWith(entity, "region/")) {
    const std::string region = absl::StrCat(entity.substr(strlen("region/")), "\x1f");
    absl::erase_if(facts_,
                   [&](const auto& entry) { return absl::StartsWith(entry.first, region); });
  }
  const Value s(entity);
  std::vector<std::pair<const char*, Value>> deletes;
  if (absl::StartsWith(entity, "trade:")) {
    deletes.emplace_back("DELETE FROM trade_rows WHERE row_key = $1",
                         Value(entity.substr(strlen("trade:"))));
  } else if (absl::StartsWith(entity, "tourism:")) {
    deletes.emplace_back("DELETE FROM tourism_flows WHERE flow_key = $1",
                         Value(entity.substr(strlen("tourism:"))));
  } else if (absl::StartsWith(entity, "incentive:")) {
    deletes.emplace_back("DELETE FROM incentives WHERE incentive_id = $1",
                         Value(entity.substr(strlen("incentive:"))));
  } else {
    // Subject entities, deleted by their keys (the subject names them), never by a scan.
    auto key_of = [&](absl::string_view prefix) {
      return Value(std::string(absl::string_view(entity).substr(prefix.size())));
    };
    if (absl::StartsWith(entity, "agreement/")) {
      deletes.emplace_back("DELETE FROM facets WHERE view = 'agreement' AND entity_id = $1",
                           key_of("agreement/"));
      deletes.emplace_back("DELETE FROM agreements WHERE agreement_id = $1", key_of("agreement/"));
    } else if (absl::StartsWith(entity, "hub/")) {
      deletes.emplace_back("DELETE FROM facets WHERE view = 'hub' AND entity_id = $1",
                           key_of("hub/"));
      deletes.emplace_back("DELETE FROM hubs WHERE hub_id = $1", key_of("hub/"));
    } else if (absl::StartsWith(entity, "site/")) {
      deletes.emplace_back("DELETE FROM sites WHERE site_id = $1", key_of("site/"));
    } else if (absl::StartsWith(entity, "region/")) {
      deletes.emplace_back("DELETE FROM region_facts WHERE subject = $1", s);
    }
  }
  if (absl::StartsWith(entity, "hub/")) {
    deletes.emplace_back("DELETE FROM hub_milestones WHERE hub_id = $1",
                         Value(entity.substr(strlen("hub/"))));
  }
  for (const auto& [statement, key] : deletes) {
    COOP_RETURN_IF_ERROR(db_.Execute(statement, {key}).status());
  }
  COOP_ASSIGN_OR_RETURN(
      std::vector<sql::Row> rows,
      db_.Query("SELECT source, id, recorded_time_ms, kafka_partition, kafka_offset, event, "
                "effective FROM events WHERE entity = $1 ORDER BY kafka_partition, kafka_offset",
                {s}));
  for (const sql::Row& row : rows) {
    Event event;
    const bool corrected = !sql::IsNull(row[6]);
    if (!event.ParseFromString(sql::AsString(row[corrected ? 6 : 5]))) {
      return absl::DataLossError(absl::StrCat("the stored event '", sql::AsString(row[1]), "' of ",
                                              entity, " does not parse"));
    }
    EventMeta meta{.source = sql::AsString(row[0]),
                   .id = sql::AsString(row[1]),
                   .recorded_ms = sql::AsInt(row[2]),
                   .partition = static_cast<int32_t>(sql::AsInt(row[3])),
                   .offset = sql::AsInt(row[4]),
                   .corrected = corrected};
    meta.apply_ms = std::max(meta.recorded_ms, apply_ms);
    COOP_RETURN_IF_ERROR(Apply(event, meta));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status AddHubMilestones(sql::Connection& connection, coop::v1::Hub& hub) {
  COOP_ASSIGN_OR_RETURN(
      std::vector<sql::Row> rows,
      connection.Query(absl::StrCat("SELECT entry FROM hub_milestones WHERE hub_id = $1 ORDER BY "
                                    "kafka_partition DESC, kafka_offset DESC LIMIT ",
                                    kMaxAnsweredMilestones),
                       {Value(hub.hub_id())}));
  hub.clear_milestones();
  for (auto row = rows.rbegin(); row != rows.rend(); ++row) {
    if (!hub.add_milestones()->ParseFromString(sql::AsString((*row)[0]))) {
      return absl::DataLossError(
          absl::StrCat("a stored milestone of hub '", hub.hub_id(), "' does not parse"));
    }
  }
  return absl::OkStatus();
}

absl::Status Projector::Initialize(const std::string& cluster_id, const std::string& topic,
                                   int32_t partition_count) {
  COOP_ASSIGN_OR_RETURN(
      std::vector<sql::Row> rows,
      connection_.Query("SELECT cluster_id, topic, partition_count FROM log_info WHERE id = 1"));
  if (rows.empty()) {
    COOP_RETURN_IF_ERROR(
        connection_
            .Execute("INSERT INTO log_info (id, cluster_id, topic, partition_count) VALUES (1, "
                     "$1, $2, $3) ON CONFLICT (id) DO NOTHING",
                     {Value(cluster_id), Value(topic), Value(int64_t{partition_count})})
            .status());
    COOP_ASSIGN_OR_RETURN(rows, connection_.Query("SELECT cluster_id, topic, partition_count "
                                                  "FROM log_info WHERE id = 1"));
  }
  if (rows.empty() || sql::AsString(rows[0][0]) != cluster_id ||
      sql::AsString(rows[0][1]) != topic) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the views database was built from topic '", rows.empty() ? "" : sql::AsString(rows[0][1]),
        "' of Kafka cluster '", rows.empty() ? "" : sql::AsString(rows[0][0]),
        "', not from topic '", topic, "' of cluster '", cluster_id,
        "'; point coop-views at an empty database (or another generation) for this log"));
  }
  if (sql::AsInt(rows[0][2]) != partition_count) {
    COOP_RETURN_IF_ERROR(connection_
                             .Execute("UPDATE log_info SET partition_count = $1 WHERE id = 1",
                                      {Value(int64_t{partition_count})})
                             .status());
  }
  for (int32_t p = 0; p < partition_count; ++p) {
    COOP_RETURN_IF_ERROR(connection_
                             .Execute("INSERT INTO positions (kafka_partition, next_offset) "
                                      "VALUES ($1, 0) ON CONFLICT (kafka_partition) DO NOTHING",
                                      {Value(int64_t{p})})
                             .status());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<int32_t, int64_t>> Projector::LoadPositions() {
  COOP_ASSIGN_OR_RETURN(
      std::vector<sql::Row> rows,
      connection_.Query("SELECT kafka_partition, next_offset FROM positions ORDER BY 1"));
  std::map<int32_t, int64_t> positions;
  for (const sql::Row& row : rows) {
    positions[static_cast<int32_t>(sql::AsInt(row[0]))] = sql::AsInt(row[1]);
  }
  return positions;
}

absl::StatusOr<BatchResult> Projector::ApplyBatch(
    absl::Span<const LogEvent> events, const std::map<int32_t, PartitionAdvance>& advance) {
  BatchResult result;
  COOP_RETURN_IF_ERROR(connection_.Begin(sql::Connection::TxMode::kWrite));
  auto apply = [&]() -> absl::Status {
    // Positions first: the compare-and-set takes each partition's row lock before anything
    // else, so two instances can never apply the same records.
    for (const auto& [partition, move] : advance) {
      COOP_ASSIGN_OR_RETURN(
          int64_t changed,
          connection_.Execute("UPDATE positions SET next_offset = $1 WHERE kafka_partition = $2 "
                              "AND next_offset = $3",
                              {Value(move.to), Value(int64_t{partition}), Value(move.from)}));
      if (changed != 1) {
        return absl::AbortedError(absl::StrCat(
            "partition ", partition, " is no longer at offset ", move.from,
            " in the views database: another instance applied it; reload the positions"));
      }
    }
    Batch batch(connection_);
    for (const LogEvent& log_event : events) {
      const Event& event = log_event.event;
      const int64_t recorded_ms = MillisOf(event.recorded_time());
      const bool correction = event.has_event_corrected();
      const std::string type(events::PayloadTypeName(event));
      COOP_ASSIGN_OR_RETURN(
          int64_t inserted,
          connection_.Execute(
              "INSERT INTO events (source, id, type, subject, event_time_ms, recorded_time_ms, "
              "kafka_partition, kafka_offset, regions, party_ids, corrects_source, corrects_id, "
              "event, entity) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
              "$14) ON CONFLICT (source, id) DO NOTHING",
              {Value(event.source()), Value(event.id()), Value(type), Value(event.subject()),
               event.has_time() ? Value(MillisOf(event.time())) : Value(), Value(recorded_ms),
               Value(int64_t{log_event.partition}), Value(log_event.offset),
               Value(DelimitedList(RegionsAndCountriesIn(event))),
               Value(DelimitedList(PartyIdsIn(event))),
               correction ? Value(event.source()) : Value(),
               correction ? Value(event.event_corrected().corrected_event_id()) : Value(),
               Value(sql::Blob{event.SerializeAsString()}), Value(EntityOf(event))}));
      if (inserted == 0) {
        ++result.duplicates;
        continue;
      }
      ++result.applied;
      EventMeta meta{.source = event.source(),
                     .id = event.id(),
                     .recorded_ms = recorded_ms,
                     .partition = log_event.partition,
                     .offset = log_event.offset,
                     .apply_ms = recorded_ms};
      if (!correction) {
        COOP_RETURN_IF_ERROR(batch.Apply(event, meta));
        continue;
      }
      // A correction applies when the views have the event it names, of the same source,
      // type and subject, and that event is not itself a correction.
      const coop::v1::EventCorrected& c = event.event_corrected();
      COOP_ASSIGN_OR_RETURN(
          std::vector<sql::Row> originals,
          connection_.Query("SELECT type, subject, event, entity FROM events WHERE source = $1 "
                            "AND id = $2",
                            {Value(event.source()), Value(c.corrected_event_id())}));
      if (originals.empty() || sql::AsString(originals[0][0]) != CorrectedPayloadType(c) ||
          sql::AsString(originals[0][1]) != event.subject()) {
        continue;  // Timeline only.
      }
      Event effective;
      if (!effective.ParseFromString(sql::AsString(originals[0][2])) ||
          !ReplacePayload(c, effective)) {
        continue;
      }
      COOP_RETURN_IF_ERROR(
          connection_
              .Execute("UPDATE events SET effective = $1, corrected_by_source = $2, "
                       "corrected_by_id = $3 WHERE source = $4 AND id = $5",
                       {Value(sql::Blob{effective.SerializeAsString()}), Value(event.source()),
                        Value(event.id()), Value(event.source()), Value(c.corrected_event_id())})
              .status());
      ++result.corrections;
      // The corrected payload may fold into another entity than the original (a trade update
      // whose period was wrong): the original's entity moves, and both are folded again.
      const std::string old_entity = sql::AsString(originals[0][3]);
      const std::string new_entity = EntityOf(effective);
      if (new_entity != old_entity) {
        COOP_RETURN_IF_ERROR(
            connection_
                .Execute("UPDATE events SET entity = $1 WHERE source = $2 AND "
                         "id = $3",
                         {Value(new_entity), Value(event.source()), Value(c.corrected_event_id())})
                .status());
        COOP_RETURN_IF_ERROR(batch.Refold(old_entity, recorded_ms));
      }
      COOP_RETURN_IF_ERROR(batch.Refold(new_entity, recorded_ms));
    }
    return batch.Flush();
  };
  absl::Status status = apply();
  if (status.ok()) status = connection_.Commit();
  if (!status.ok()) {
    connection_.Rollback();
    return status;
  }
  return result;
}

}  // namespace coop::views
