#include "services/stream/filter/event_filter.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "common/auth/scope.h"
#include "common/rpc/status_conversion.h"
#include "coop/v1/errors.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "tests/testing/sample_events.h"
#include "tests/testing/seed_events.h"

namespace coop::stream {
namespace {

using ::coop::v1::Event;
using ::coop::v1::EventFilter;
using ::testing::_;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::SizeIs;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

using Violation = std::pair<std::string, std::string>;

EventFilter Filter(const std::string& text) {
  EventFilter filter;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &filter)) << text;
  return filter;
}

CompiledFilter Compiled(const EventFilter& filter) {
  absl::StatusOr<CompiledFilter> compiled = CompiledFilter::Compile(filter, "filter");
  EXPECT_TRUE(compiled.ok()) << compiled.status();
  return std::move(compiled).value();
}

CompiledFilter Compiled(const std::string& text) { return Compiled(Filter(text)); }

// The field violations of the BadRequest in `status`; fails the test when there is none.
std::vector<Violation> ViolationsOf(const absl::Status& status) {
  std::vector<Violation> violations;
  const absl::optional<absl::Cord> payload = status.GetPayload(rpc::kBadRequestTypeUrl);
  EXPECT_TRUE(payload.has_value()) << status;
  if (!payload.has_value()) return violations;
  coop::v1::BadRequest bad_request;
  EXPECT_TRUE(bad_request.ParseFromString(std::string(*payload)));
  for (const coop::v1::FieldViolation& violation : bad_request.field_violations()) {
    violations.emplace_back(violation.field(), violation.description());
  }
  return violations;
}

// The violations of compiling `filter` at "filter"; fails the test unless it is INVALID_ARGUMENT.
std::vector<Violation> Rejected(const EventFilter& filter, absl::string_view prefix = "filter") {
  absl::StatusOr<CompiledFilter> compiled = CompiledFilter::Compile(filter, prefix);
  EXPECT_EQ(compiled.status().code(), absl::StatusCode::kInvalidArgument) << compiled.status();
  return ViolationsOf(compiled.status());
}

std::vector<Violation> Rejected(const std::string& text) { return Rejected(Filter(text)); }

const std::vector<Event>& Seeds() {
  static const std::vector<Event>* const seeds = new std::vector<Event>(testing::SeedEvents());
  return *seeds;
}

const Event& Seed(absl::string_view id) {
  for (const Event& event : Seeds()) {
    if (event.id() == id) return event;
  }
  ADD_FAILURE() << "no seed event " << id;
  static const Event* const none = new Event();
  return *none;
}

constexpr char kMemorandum[] = "mosreg-2025-09-10-memorandum";
constexpr char kSelyatinoAgreement[] = "mosreg-2024-06-spief-selyatino-agreement";
constexpr char kSelyatinoPlan[] = "mosreg-2025-09-10-selyatino-plan";
constexpr char kAgrohubAnnounced[] = "akimat-2025-09-10-agrohub-announced";
constexpr char kAlatauHubAnnounced[] = "akimat-2025-09-10-alatau-hub-announced";
constexpr char kAlatauIncentive[] = "digital-2025-09-10-alatau-hub-rnd-tax-relief";
constexpr char kEsipovo[] = "mosreg-2025-09-10-esipovo";
constexpr char kDelegation[] = "akimat-2025-09-10-delegation-esipovo";
constexpr char kAlqissa[] = "embassy-2025-09-alqissa-concert";

// An EventCorrected of `original`'s source whose corrected payload is `original`'s payload.
Event CorrectionOf(const Event& original) {
  Event event;
  event.set_id(absl::StrCat(original.id(), "-correction"));
  event.set_source(original.source());
  event.set_type("coop.v1.EventCorrected");
  event.set_subject(original.subject());
  event.set_schema_version(1);
  coop::v1::EventCorrected& correction = *event.mutable_event_corrected();
  correction.set_corrected_event_id(original.id());
  correction.set_reason("неверная дата");
  const google::protobuf::FieldDescriptor* payload =
      original.GetReflection()->GetOneofFieldDescriptor(
          original, Event::descriptor()->FindOneofByName("payload"));
  const google::protobuf::FieldDescriptor* corrected =
      coop::v1::EventCorrected::descriptor()->FindFieldByNumber(payload->number());
  correction.GetReflection()
      ->MutableMessage(&correction, corrected)
      ->CopyFrom(original.GetReflection()->GetMessage(original, payload));
  return event;
}

// The ids of the seed events whose facts `filter` matches.
std::vector<std::string> MatchingSeedIds(const CompiledFilter& filter) {
  std::vector<std::string> ids;
  for (const Event& event : Seeds()) {
    if (filter.Matches(FactsOf(event))) ids.push_back(event.id());
  }
  return ids;
}

EventFacts FactsWithRegions(std::vector<std::string> codes) {
  return EventFacts{.type = "coop.v1.TradeUpdate", .region_codes = std::move(codes)};
}

EventFacts FactsWithSubject(std::string subject) {
  return EventFacts{.type = "coop.v1.HubMilestone", .subject = std::move(subject)};
}

// FactsOf

TEST(FactsOfTest, MemorandumHasItsPartiesAndRegionsFromEveryNestedField) {
  const EventFacts facts = FactsOf(Seed(kMemorandum));
  EXPECT_EQ(facts.type, "coop.v1.MemorandumSigned");
  EXPECT_EQ(facts.corrected_type, "");
  EXPECT_EQ(facts.subject, "agreement/ru-mos-kz-19-memorandum-2025");
  // Parties (InvolvedParty.party.region), participants' parties and the place; the embassy's KZ.
  EXPECT_THAT(facts.region_codes, ElementsAre("KZ", "KZ-19", "RU-MOS"));
  // Each party appears in parties and again in participants: listed once.
  EXPECT_THAT(facts.party_ids,
              ElementsAre("almaty-region-akimat", "kz-embassy-russia", "mosreg-government"));
}

TEST(FactsOfTest, HubMilestoneHasRepeatedRegionRefsAndPartners) {
  const EventFacts facts = FactsOf(Seed(kSelyatinoPlan));
  EXPECT_EQ(facts.type, "coop.v1.HubMilestone");
  EXPECT_EQ(facts.subject, "hub/selyatino");
  // location, capacities[0].partner (CN), participating_countries and the parties' regions.
  EXPECT_THAT(facts.region_codes, ElementsAre("CN", "KZ", "RU", "RU-MOS"));
  EXPECT_THAT(facts.party_ids, ElementsAre("kz-ktz", "kz-samruk-kazyna", "mosreg-government"));
}

TEST(FactsOfTest, PartyInASingularFieldIsFound) {
  // InvestmentIncentive.offered_by is a Party, not an InvolvedParty.
  const EventFacts facts = FactsOf(Seed(kAlatauIncentive));
  EXPECT_EQ(facts.type, "coop.v1.InvestmentIncentive");
  EXPECT_THAT(facts.region_codes, ElementsAre("KZ-19"));
  EXPECT_THAT(facts.party_ids, ElementsAre("almaty-region-digital"));
}

TEST(FactsOfTest, EventWithoutPartiesHasNoPartyIds) {
  const EventFacts facts = FactsOf(Seed(kEsipovo));
  EXPECT_THAT(facts.region_codes, ElementsAre("RU-MOS"));
  EXPECT_THAT(facts.party_ids, IsEmpty());
}

TEST(FactsOfTest, PartyWithoutIdIsSkipped) {
  Event event = testing::CulturalEventEvent();
  coop::v1::Participant& organizer = *event.mutable_cultural_event()->add_participants();
  organizer.mutable_party()->set_name("Геликон-опера");
  organizer.mutable_party()->mutable_region()->set_code("RU-MOW");
  EXPECT_THAT(FactsOf(event).party_ids, IsEmpty());
}

TEST(FactsOfTest, CorrectionHasBothTypesAndTheCorrectedPayloadsFacts) {
  const EventFacts facts = FactsOf(CorrectionOf(Seed(kMemorandum)));
  EXPECT_EQ(facts.type, "coop.v1.EventCorrected");
  EXPECT_EQ(facts.corrected_type, "coop.v1.MemorandumSigned");
  EXPECT_EQ(facts.subject, "agreement/ru-mos-kz-19-memorandum-2025");
  EXPECT_THAT(facts.region_codes, ElementsAre("KZ", "KZ-19", "RU-MOS"));
  EXPECT_THAT(facts.party_ids,
              ElementsAre("almaty-region-akimat", "kz-embassy-russia", "mosreg-government"));
}

TEST(FactsOfTest, CorrectionWithoutCorrectedPayloadHasNoCorrectedType) {
  Event event;
  event.mutable_event_corrected()->set_corrected_event_id("x");
  const EventFacts facts = FactsOf(event);
  EXPECT_EQ(facts.type, "coop.v1.EventCorrected");
  EXPECT_EQ(facts.corrected_type, "");
}

TEST(FactsOfTest, EventWithoutPayloadHasOnlyItsSubject) {
  Event event;
  event.set_subject("hub/selyatino");
  event.set_type("coop.v1.HubMilestone");  // The payload decides, not the type string.
  const EventFacts facts = FactsOf(event);
  EXPECT_EQ(facts.type, "");
  EXPECT_EQ(facts.subject, "hub/selyatino");
  EXPECT_THAT(facts.region_codes, IsEmpty());
  EXPECT_THAT(facts.party_ids, IsEmpty());
}

TEST(FactsOfTest, TypeAndRegionsAgreeWithTheEventForEverySeedEvent) {
  ASSERT_THAT(Seeds(), SizeIs(27));
  for (const Event& event : Seeds()) {
    const EventFacts facts = FactsOf(event);
    EXPECT_EQ(facts.type, event.type()) << event.id();
    EXPECT_EQ(facts.subject, event.subject()) << event.id();
    EXPECT_EQ(facts.region_codes, auth::RegionCodesIn(event)) << event.id();
    EXPECT_FALSE(facts.region_codes.empty()) << event.id();
    const EventFacts corrected = FactsOf(CorrectionOf(event));
    EXPECT_EQ(corrected.corrected_type, event.type()) << event.id();
    EXPECT_EQ(corrected.region_codes, facts.region_codes) << event.id();
    EXPECT_EQ(corrected.party_ids, facts.party_ids) << event.id();
  }
}

// Matches

TEST(CompiledFilterTest, EmptyFilterMatchesEveryEvent) {
  const CompiledFilter filter = Compiled(EventFilter());
  EXPECT_TRUE(filter.matches_everything());
  EXPECT_THAT(MatchingSeedIds(filter), SizeIs(Seeds().size()));
  EXPECT_TRUE(filter.Matches(EventFacts()));
  EXPECT_TRUE(filter.Matches(FactsOf(CorrectionOf(Seed(kMemorandum)))));
}

TEST(CompiledFilterTest, FilterWithACriterionDoesNotMatchEverything) {
  EXPECT_FALSE(Compiled(R"pb(types: "coop.v1.HubMilestone")pb").matches_everything());
  EXPECT_FALSE(Compiled(R"pb(subjects: "hub/selyatino")pb").matches_everything());
  EXPECT_FALSE(Compiled(R"pb(subject_prefixes: "hub/")pb").matches_everything());
  EXPECT_FALSE(Compiled(R"pb(regions { code: "KZ" })pb").matches_everything());
  EXPECT_FALSE(Compiled(R"pb(party_ids: "kz-ktz")pb").matches_everything());
}

TEST(CompiledFilterTest, TypesMatchThePayloadType) {
  const CompiledFilter filter = Compiled(R"pb(types: "coop.v1.IndustrialSite"
                                              types: "coop.v1.CulturalEvent")pb");
  EXPECT_THAT(MatchingSeedIds(filter), ElementsAre(kEsipovo, kAlqissa));
  EXPECT_FALSE(filter.Matches(EventFacts()));
}

TEST(CompiledFilterTest, EventCorrectedTypeSelectsCorrectionsOfEveryType) {
  const CompiledFilter filter = Compiled(R"pb(types: "coop.v1.EventCorrected")pb");
  EXPECT_TRUE(filter.Matches(FactsOf(CorrectionOf(Seed(kMemorandum)))));
  EXPECT_TRUE(filter.Matches(FactsOf(CorrectionOf(Seed(kEsipovo)))));
  EXPECT_THAT(MatchingSeedIds(filter), IsEmpty());
}

TEST(CompiledFilterTest, PayloadTypeDoesNotSelectCorrectionsOfThatType) {
  const CompiledFilter filter = Compiled(R"pb(types: "coop.v1.MemorandumSigned")pb");
  EXPECT_TRUE(filter.Matches(FactsOf(Seed(kMemorandum))));
  EXPECT_FALSE(filter.Matches(FactsOf(CorrectionOf(Seed(kMemorandum)))));
}

TEST(CompiledFilterTest, SubjectMatchesExactly) {
  const CompiledFilter filter = Compiled(R"pb(subjects: "hub/alatau-hub")pb");
  // The announcement and the incentive share the subject.
  EXPECT_THAT(MatchingSeedIds(filter), ElementsAre(kAlatauHubAnnounced, kAlatauIncentive));
  EXPECT_FALSE(filter.Matches(FactsWithSubject("hub/alatau-hub-2")));
  EXPECT_FALSE(filter.Matches(FactsWithSubject("hub/alatau")));
}

TEST(CompiledFilterTest, SubjectPrefixMatchesTheStartOfTheSubject) {
  const CompiledFilter filter = Compiled(R"pb(subject_prefixes: "regions/KZ-19:")pb");
  EXPECT_THAT(MatchingSeedIds(filter), ElementsAre(kDelegation));
  EXPECT_FALSE(filter.Matches(FactsWithSubject("regions/KZ:RU-MOS")));
  EXPECT_FALSE(filter.Matches(FactsWithSubject("region/KZ-19")));
  EXPECT_FALSE(filter.Matches(FactsWithSubject("regions/KZ-19")));
}

TEST(CompiledFilterTest, SubjectsAndPrefixesAreOneCriterion) {
  const CompiledFilter filter =
      Compiled(R"pb(subjects: "site/esipovo" subject_prefixes: "hub/a")pb");
  EXPECT_THAT(MatchingSeedIds(filter),
              ElementsAre(kAgrohubAnnounced, kAlatauHubAnnounced, kAlatauIncentive, kEsipovo));
}

TEST(CompiledFilterTest, OverlappingPrefixesMatchWhatTheShortestMatches) {
  for (const char* text : {R"pb(subject_prefixes: "hub/sel" subject_prefixes: "hub/")pb",
                           R"pb(subject_prefixes: "hub/" subject_prefixes: "hub/sel")pb"}) {
    const CompiledFilter filter = Compiled(text);
    EXPECT_TRUE(filter.Matches(FactsWithSubject("hub/selyatino"))) << text;
    EXPECT_TRUE(filter.Matches(FactsWithSubject("hub/almaty-agrohub"))) << text;
    EXPECT_FALSE(filter.Matches(FactsWithSubject("site/esipovo"))) << text;
  }
}

TEST(CompiledFilterTest, SubdivisionMatchesItselfButNotItsCountryOrSiblings) {
  const CompiledFilter filter = Compiled(R"pb(regions { code: "KZ-19" })pb");
  EXPECT_TRUE(filter.Matches(FactsWithRegions({"KZ-19", "RU-MOS"})));
  EXPECT_FALSE(filter.Matches(FactsWithRegions({"KZ", "RU-MOS"})));
  EXPECT_FALSE(filter.Matches(FactsWithRegions({"KZ-75"})));
  EXPECT_FALSE(filter.Matches(FactsWithRegions({})));
}

TEST(CompiledFilterTest, CountryMatchesItselfAndItsSubdivisions) {
  const CompiledFilter filter = Compiled(R"pb(regions { code: "KZ" })pb");
  EXPECT_TRUE(filter.Matches(FactsWithRegions({"KZ"})));
  EXPECT_TRUE(filter.Matches(FactsWithRegions({"KZ-19"})));
  EXPECT_TRUE(filter.Matches(FactsWithRegions({"CN", "KZ-75", "RU"})));
  EXPECT_FALSE(filter.Matches(FactsWithRegions({"RU-MOS", "CN"})));
}

TEST(CompiledFilterTest, RegionMatchingIsRegionCovers) {
  const std::vector<std::string> codes = {"KZ", "KZ-19", "KZ-75", "RU", "RU-MOS", "RU-MOW", "CN"};
  for (const std::string& listed : codes) {
    EventFilter filter;
    filter.add_regions()->set_code(listed);
    const CompiledFilter compiled = Compiled(filter);
    for (const std::string& code : codes) {
      EXPECT_EQ(compiled.Matches(FactsWithRegions({code})), auth::RegionCovers(listed, code))
          << "filter " << listed << ", event " << code;
    }
  }
}

TEST(CompiledFilterTest, AnyListedRegionMayMatch) {
  const CompiledFilter filter = Compiled(R"pb(regions { code: "CN" }
                                              regions { code: "KZ-19" })pb");
  EXPECT_TRUE(filter.Matches(FactsWithRegions({"KZ-19"})));
  EXPECT_TRUE(filter.Matches(FactsWithRegions({"CN", "RU"})));
  EXPECT_FALSE(filter.Matches(FactsWithRegions({"KZ", "RU-MOS"})));
}

TEST(CompiledFilterTest, PartyIdMatchesPartiesOfAnyField) {
  // parties[].party of agreements and hub milestones.
  EXPECT_THAT(MatchingSeedIds(Compiled(R"pb(party_ids: "kz-ktz")pb")),
              ElementsAre(kSelyatinoAgreement, kSelyatinoPlan));
  // participants[].party only: the ambassador speaking at the concert.
  EXPECT_THAT(MatchingSeedIds(Compiled(R"pb(party_ids: "kz-embassy-russia")pb")),
              ElementsAre(kMemorandum, kAlqissa));
  // InvestmentIncentive.offered_by, HubMilestone.parties and DelegationVisit.participants.
  EXPECT_THAT(MatchingSeedIds(Compiled(R"pb(party_ids: "almaty-region-digital")pb")),
              ElementsAre(kAlatauHubAnnounced, kAlatauIncentive, kDelegation));
}

TEST(CompiledFilterTest, PartyIdMatchesInsideACorrectedPayload) {
  const CompiledFilter filter = Compiled(R"pb(party_ids: "almaty-region-akimat")pb");
  EXPECT_TRUE(filter.Matches(FactsOf(CorrectionOf(Seed(kMemorandum)))));
  EXPECT_FALSE(filter.Matches(FactsOf(CorrectionOf(Seed(kSelyatinoAgreement)))));
}

TEST(CompiledFilterTest, AnyListedPartyIdMayMatch) {
  const CompiledFilter filter = Compiled(R"pb(party_ids: "kz-tlc-alatau"
                                              party_ids: "almaty-region-tourism")pb");
  EXPECT_THAT(MatchingSeedIds(filter),
              ElementsAre("akimat-2025-09-10-agrohub-agreement", kAgrohubAnnounced, kDelegation));
  EXPECT_FALSE(filter.Matches(FactsOf(Seed(kEsipovo))));
}

TEST(CompiledFilterTest, EveryCriterionSetMustMatch) {
  const CompiledFilter filter = Compiled(R"pb(
    types: "coop.v1.HubMilestone"
    types: "coop.v1.InvestmentIncentive"
    regions { code: "KZ-19" }
  )pb");
  // Selyatino (a HubMilestone) names only KZ, not KZ-19; the delegation names KZ-19 but is a
  // DelegationVisit.
  EXPECT_THAT(MatchingSeedIds(filter),
              ElementsAre(kAgrohubAnnounced, kAlatauHubAnnounced, kAlatauIncentive));
}

TEST(CompiledFilterTest, AllFourCriteriaTogether) {
  const CompiledFilter filter = Compiled(R"pb(
    types: "coop.v1.HubMilestone"
    subject_prefixes: "hub/"
    regions { code: "RU" }
    party_ids: "mosreg-government"
  )pb");
  EXPECT_THAT(MatchingSeedIds(filter), ElementsAre(kSelyatinoPlan));

  EventFacts facts = FactsOf(Seed(kSelyatinoPlan));
  ASSERT_TRUE(filter.Matches(facts));
  EventFacts other_subject = facts;
  other_subject.subject = "site/selyatino";
  EXPECT_FALSE(filter.Matches(other_subject));
  EventFacts other_type = facts;
  other_type.type = "coop.v1.IndustrialSite";
  EXPECT_FALSE(filter.Matches(other_type));
  EventFacts other_regions = facts;
  other_regions.region_codes = {"CN", "KZ"};
  EXPECT_FALSE(filter.Matches(other_regions));
  EventFacts other_parties = facts;
  other_parties.party_ids = {"kz-ktz"};
  EXPECT_FALSE(filter.Matches(other_parties));
}

TEST(CompiledFilterTest, CompiledFilterIsACopyableValue) {
  const CompiledFilter original = Compiled(R"pb(types: "coop.v1.IndustrialSite")pb");
  const CompiledFilter copy = original;
  EXPECT_TRUE(copy.Matches(FactsOf(Seed(kEsipovo))));
  EXPECT_FALSE(copy.Matches(FactsOf(Seed(kMemorandum))));
}

// Compile: validation

TEST(CompileTest, EveryPayloadTypeOfTheContractIsAccepted) {
  EventFilter filter;
  for (const char* type :
       {"coop.v1.MemorandumSigned", "coop.v1.AgreementSigned", "coop.v1.HubMilestone",
        "coop.v1.TradeUpdate", "coop.v1.InvestmentIncentive", "coop.v1.IndustrialSite",
        "coop.v1.RegionProfile", "coop.v1.DelegationVisit", "coop.v1.TourismFlow",
        "coop.v1.RoadMapItem", "coop.v1.CulturalEvent", "coop.v1.AgreementAmended",
        "coop.v1.EventCorrected"}) {
    filter.add_types(type);
  }
  EXPECT_TRUE(CompiledFilter::Compile(filter, "filter").ok());
}

TEST(CompileTest, TypeNotInTheContractIsRejected) {
  EXPECT_THAT(
      Rejected(R"pb(types: "coop.v1.HubMilestone"
                    types: "coop.v1.HubOpened"
                    types: "coop.v1.Party"
                    types: "HubMilestone")pb"),
      ElementsAre(
          Pair("filter.types[1]",
               AllOf(StartsWith("must be the full name of a payload type of coop.v1.Event ("),
                     HasSubstr("coop.v1.MemorandumSigned, "), HasSubstr("coop.v1.EventCorrected"),
                     HasSubstr("; got 'coop.v1.HubOpened'"))),
          Pair("filter.types[2]", HasSubstr("; got 'coop.v1.Party'")),
          Pair("filter.types[3]", HasSubstr("; got 'HubMilestone'"))));
}

TEST(CompileTest, EmptyTypeIsRejected) {
  EXPECT_THAT(Rejected(R"pb(types: "")pb"),
              ElementsAre(Pair("filter.types[0]",
                               "required: the full name of a payload type, "
                               "e.g. 'coop.v1.HubMilestone'")));
}

TEST(CompileTest, DuplicateTypeIsRejected) {
  EXPECT_THAT(Rejected(R"pb(types: "coop.v1.HubMilestone"
                            types: "coop.v1.TradeUpdate"
                            types: "coop.v1.HubMilestone")pb"),
              ElementsAre(Pair("filter.types[2]", "must be unique; duplicate of filter.types[0]")));
}

TEST(CompileTest, MoreThan32TypesAreRejected) {
  EventFilter filter;
  for (int i = 0; i < 33; ++i) filter.add_types("coop.v1.HubMilestone");
  const std::vector<Violation> violations = Rejected(filter);
  ASSERT_FALSE(violations.empty());
  EXPECT_EQ(violations.front(), Violation("filter.types", "must have at most 32 entries; got 33"));
}

TEST(CompileTest, ThirtyTwoTypesAreTheMaximum) {
  // Only 13 payload types exist, so 32 entries have duplicates: only those are reported.
  EventFilter filter;
  for (int i = 0; i < 32; ++i) filter.add_types("coop.v1.HubMilestone");
  EXPECT_THAT(Rejected(filter), AllOf(SizeIs(31), Contains(Pair("filter.types[31]",
                                                                "must be unique; duplicate of "
                                                                "filter.types[0]"))));
}

TEST(CompileTest, MoreThan100EntriesAreRejected) {
  EventFilter filter;
  for (int i = 0; i < 101; ++i) {
    filter.add_subjects(absl::StrCat("hub/hub-", i));
    filter.add_subject_prefixes(absl::StrCat("hub/hub-", i));
    filter.add_regions()->set_code(absl::StrCat("KZ-", i));
    filter.add_party_ids(absl::StrCat("party-", i));
  }
  EXPECT_THAT(Rejected(filter),
              ElementsAre(Pair("filter.subjects", "must have at most 100 entries; got 101"),
                          Pair("filter.subject_prefixes", "must have at most 100 entries; got 101"),
                          Pair("filter.regions", "must have at most 100 entries; got 101"),
                          Pair("filter.party_ids", "must have at most 100 entries; got 101")));
}

TEST(CompileTest, HundredEntriesAreAccepted) {
  EventFilter filter;
  for (int i = 0; i < 100; ++i) {
    filter.add_subjects(absl::StrCat("hub/hub-", i));
    filter.add_subject_prefixes(absl::StrCat("hub/hub-", i));
    filter.add_regions()->set_code(absl::StrCat("KZ-", i));
    filter.add_party_ids(absl::StrCat("party-", i));
  }
  EXPECT_TRUE(CompiledFilter::Compile(filter, "filter").ok());
}

TEST(CompileTest, SubjectsOfEveryFormOfTheGrammarAreAccepted) {
  EXPECT_TRUE(CompiledFilter::Compile(Filter(R"pb(
                                        subjects: "agreement/ru-mos-kz-19-memorandum-2025"
                                        subjects: "hub/selyatino"
                                        subjects: "site/esipovo"
                                        subjects: "roadmap/days-of-moscow-2025"
                                        subjects: "culture/alqissa-tlendiev-100"
                                        subjects: "region/KZ-19"
                                        subjects: "region/KZ"
                                        subjects: "regions/KZ-19:RU-MOS"
                                        subjects: "regions/KZ:RU"
                                      )pb"),
                                      "filter")
                  .ok());
}

TEST(CompileTest, SubjectOutsideTheGrammarIsRejected) {
  const std::vector<Violation> violations = Rejected(R"pb(
    subjects: "hub/selyatino"
    subjects: "hub/Selyatino"
    subjects: "regions/RU-MOS:KZ-19"
    subjects: "regions/KZ:KZ"
    subjects: "region/Moscow"
    subjects: "hub/"
    subjects: "views/selyatino"
    subjects: ""
  )pb");
  EXPECT_THAT(
      violations,
      ElementsAre(Pair("filter.subjects[1]", HasSubstr("got 'hub/Selyatino'")),
                  Pair("filter.subjects[2]", HasSubstr("got 'regions/RU-MOS:KZ-19'")),
                  Pair("filter.subjects[3]", HasSubstr("got 'regions/KZ:KZ'")),
                  Pair("filter.subjects[4]", HasSubstr("got 'region/Moscow'")),
                  Pair("filter.subjects[5]", HasSubstr("got 'hub/'")),
                  Pair("filter.subjects[6]", HasSubstr("got 'views/selyatino'")),
                  Pair("filter.subjects[7]", "required: a subject such as 'hub/selyatino'")));
  EXPECT_EQ(violations[0].second,
            "must follow the subject grammar: agreement/, hub/, site/, roadmap/ or culture/ "
            "followed by a Slug, region/{code}, or regions/{code}:{code} with two different codes "
            "in ascending order; got 'hub/Selyatino'");
}

TEST(CompileTest, SubjectPrefixesOfTheSubjectAlphabetAreAccepted) {
  EventFilter filter;
  filter.add_subject_prefixes("h");
  filter.add_subject_prefixes("regions/KZ-19:");
  filter.add_subject_prefixes("Agreement/X:9-");
  filter.add_subject_prefixes(std::string(200, 'a'));
  EXPECT_TRUE(CompiledFilter::Compile(filter, "filter").ok());
}

TEST(CompileTest, SubjectPrefixOutsideTheAlphabetOrLengthIsRejected) {
  EventFilter filter;
  filter.add_subject_prefixes("");
  filter.add_subject_prefixes(std::string(201, 'a'));
  filter.add_subject_prefixes("hub/sel yatino");
  filter.add_subject_prefixes("хаб/");
  filter.add_subject_prefixes("hub_");
  EXPECT_THAT(
      Rejected(filter),
      ElementsAre(
          Pair("filter.subject_prefixes[0]",
               "required: 1..200 characters of [A-Za-z0-9/:-] such as 'hub/'"),
          Pair("filter.subject_prefixes[1]", "must be at most 200 characters; got 201"),
          Pair("filter.subject_prefixes[2]",
               "must contain only characters of subjects, [A-Za-z0-9/:-]; got 'hub/sel yatino'"),
          Pair("filter.subject_prefixes[3]", HasSubstr("; got 'хаб/'")),
          Pair("filter.subject_prefixes[4]", HasSubstr("; got 'hub_'"))));
}

TEST(CompileTest, PrefixLengthCountsCharactersNotBytes) {
  EventFilter filter;
  filter.add_subject_prefixes(std::string(199, 'a') + "ә");  // 200 characters, 201 bytes.
  EXPECT_THAT(Rejected(filter),
              ElementsAre(Pair("filter.subject_prefixes[0]",
                               HasSubstr("must contain only characters of subjects"))));
}

TEST(CompileTest, InvalidRegionCodeIsRejectedAtItsCodeField) {
  EXPECT_THAT(Rejected(R"pb(
                regions { code: "KZ" }
                regions { code: "RU-MOS" }
                regions { code: "kz" }
                regions { code: "Moscow" }
                regions { code: "KZ-1234" }
                regions { code: "KAZ" }
                regions {}
              )pb"),
              ElementsAre(Pair("filter.regions[2].code",
                               "must be an ISO 3166-2 code such as RU-MOS or an ISO 3166-1 "
                               "alpha-2 code such as KZ; got 'kz'"),
                          Pair("filter.regions[3].code", HasSubstr("; got 'Moscow'")),
                          Pair("filter.regions[4].code", HasSubstr("; got 'KZ-1234'")),
                          Pair("filter.regions[5].code", HasSubstr("; got 'KAZ'")),
                          Pair("filter.regions[6].code",
                               "required: an ISO 3166-2 code such as RU-MOS or an ISO 3166-1 "
                               "alpha-2 code such as KZ")));
}

TEST(CompileTest, PartyIdThatIsNotASlugIsRejected) {
  EXPECT_THAT(
      Rejected(R"pb(
        party_ids: "mosreg-government"
        party_ids: "Mosreg"
        party_ids: "mosreg--government"
        party_ids: "-mosreg"
        party_ids: ""
      )pb"),
      ElementsAre(Pair("filter.party_ids[1]",
                       "must be a Slug: 1..64 characters matching ^[a-z0-9]+(-[a-z0-9]+)*$ "
                       "such as 'mosreg-government'; got 'Mosreg'"),
                  Pair("filter.party_ids[2]", HasSubstr("; got 'mosreg--government'")),
                  Pair("filter.party_ids[3]", HasSubstr("; got '-mosreg'")),
                  Pair("filter.party_ids[4]", "required: a Slug such as 'mosreg-government'")));
}

TEST(CompileTest, PartyIdLongerThan64CharactersIsRejected) {
  EventFilter filter;
  filter.add_party_ids(std::string(64, 'a'));
  EXPECT_TRUE(CompiledFilter::Compile(filter, "filter").ok());
  filter.add_party_ids(std::string(65, 'a'));
  EXPECT_THAT(Rejected(filter), ElementsAre(Pair("filter.party_ids[1]", HasSubstr("got 'aaa"))));
}

TEST(CompileTest, EveryViolationIsReportedAtOnceInFieldOrder) {
  absl::StatusOr<CompiledFilter> compiled = CompiledFilter::Compile(Filter(R"pb(
                                                                      types: "coop.v1.Nothing"
                                                                      subjects: "hub/X"
                                                                      subject_prefixes: "a b"
                                                                      regions { code: "RUS" }
                                                                      party_ids: "A"
                                                                    )pb"),
                                                                    "filter");
  ASSERT_EQ(compiled.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(compiled.status().message()),
              StartsWith("filter: 5 invalid field(s), first filter.types[0]: must be the full "
                         "name of a payload type"));
  EXPECT_THAT(ViolationsOf(compiled.status()),
              ElementsAre(Pair("filter.types[0]", HasSubstr("got 'coop.v1.Nothing'")),
                          Pair("filter.subjects[0]", HasSubstr("got 'hub/X'")),
                          Pair("filter.subject_prefixes[0]", HasSubstr("got 'a b'")),
                          Pair("filter.regions[0].code", HasSubstr("got 'RUS'")),
                          Pair("filter.party_ids[0]", HasSubstr("got 'A'"))));
}

TEST(CompileTest, PathsStartWithTheFieldPrefix) {
  const EventFilter filter = Filter(R"pb(types: "x"
                                         regions { code: "x" })pb");
  EXPECT_THAT(
      Rejected(filter, "request.filter"),
      ElementsAre(Pair("request.filter.types[0]", _), Pair("request.filter.regions[0].code", _)));
  EXPECT_THAT(Rejected(filter, ""), ElementsAre(Pair("types[0]", _), Pair("regions[0].code", _)));
}

TEST(CompileTest, ViolationsBeyond100AreCountedInOneLastEntry) {
  EventFilter filter;
  for (int i = 0; i < 100; ++i) {
    filter.add_subjects("bad subject");
    filter.add_party_ids("Bad");
  }
  absl::StatusOr<CompiledFilter> compiled = CompiledFilter::Compile(filter, "filter");
  ASSERT_EQ(compiled.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(compiled.status().message()),
              StartsWith("filter: 200 invalid field(s), first "));
  const std::vector<Violation> violations = ViolationsOf(compiled.status());
  ASSERT_THAT(violations, SizeIs(101));
  EXPECT_EQ(violations[99].first, "filter.subjects[99]");
  EXPECT_EQ(violations[100], Violation("filter", "and 100 more violations not listed"));
}

TEST(CompileTest, DescriptionOfAValueThatIsNotUtf8IsUtf8) {
  EventFilter filter;
  filter.add_subject_prefixes("hub/\xff");
  EXPECT_THAT(Rejected(filter),
              ElementsAre(Pair("filter.subject_prefixes[0]", HasSubstr("got 'hub/\\xFF'"))));
}

// MaySee

auth::Principal Subscriber(std::vector<std::string> types, std::vector<std::string> regions) {
  return auth::Principal{
      .id = "test-subscriber",
      .display_name = "Test",
      .subscribe = auth::Scope{.event_types = std::move(types), .regions = std::move(regions)}};
}

// Every seed event, a correction of each, and events at the edges of the rule.
std::vector<Event> ScopeCases() {
  std::vector<Event> events = Seeds();
  for (const Event& seed : Seeds()) events.push_back(CorrectionOf(seed));
  events.push_back(Event());
  Event correction_without_payload;
  correction_without_payload.mutable_event_corrected()->set_corrected_event_id("x");
  events.push_back(correction_without_payload);
  Event no_regions;
  no_regions.mutable_memorandum_signed()->set_title("Меморандум");
  events.push_back(no_regions);
  events.push_back(testing::MemorandumSignedEvent());
  events.push_back(testing::CulturalEventEvent());
  return events;
}

TEST(MaySeeTest, AgreesWithAuthMaySeeForEveryEventAndPrincipal) {
  const std::vector<auth::Principal> principals = {
      Subscriber({"*"}, {"*"}),
      // mosreg-government in policy.example.json: every type about RU-MOS and KZ.
      Subscriber({"*"}, {"RU-MOS", "KZ"}),
      // almaty-region-akimat: memoranda and hub milestones about KZ-19.
      Subscriber({"coop.v1.MemorandumSigned", "coop.v1.HubMilestone"}, {"KZ-19"}),
      Subscriber({"coop.v1.EventCorrected", "coop.v1.MemorandumSigned"}, {"*"}),
      Subscriber({"coop.v1.EventCorrected", "coop.v1.TradeUpdate"}, {"RU"}),
      Subscriber({"*"}, {"CN"}),
      auth::Principal{.id = "publisher-only",
                      .publish = auth::Scope{.event_types = {"*"}, .regions = {"*"}}},
  };
  const std::vector<Event> events = ScopeCases();
  std::vector<int> visible(principals.size(), 0);
  for (size_t p = 0; p < principals.size(); ++p) {
    for (size_t e = 0; e < events.size(); ++e) {
      const bool expected = auth::MaySee(principals[p], events[e]);
      EXPECT_EQ(MaySee(principals[p], FactsOf(events[e])), expected)
          << "principal " << p << ", event " << e << " " << events[e].id();
      if (expected) ++visible[p];
    }
  }
  // The agreement above is not vacuous: each principal sees some of the cases and not others.
  ASSERT_THAT(events, SizeIs(59));
  EXPECT_THAT(visible, ElementsAre(
                           // All but Event(), which has no payload.
                           58,
                           // All but Event(), the two events naming no region, and the concert
                           // of the sample (RU-MOW only; the seed's concert names the embassy, KZ).
                           55,
                           // The memorandum (seed and sample), the agrohub and Alatau Hub.
                           4,
                           // The memoranda, the memorandum without regions, the seed memorandum's
                           // correction, and the correction without a corrected payload.
                           5,
                           // The 7 trade updates (all name RU-MOS) and their corrections.
                           14,
                           // Selyatino's plan (CN partner) and its correction.
                           2, 0));
}

TEST(MaySeeTest, SubdivisionScopeSeesOnlyItsTypesAboutIt) {
  const auth::Principal akimat =
      Subscriber({"coop.v1.MemorandumSigned", "coop.v1.HubMilestone"}, {"KZ-19"});
  std::vector<std::string> visible;
  for (const Event& event : Seeds()) {
    if (MaySee(akimat, FactsOf(event))) visible.push_back(event.id());
  }
  // Selyatino names KZ but not KZ-19; the delegation names KZ-19 but is not of its types.
  EXPECT_THAT(visible, UnorderedElementsAre(kMemorandum, kAgrohubAnnounced, kAlatauHubAnnounced));
}

TEST(MaySeeTest, CorrectionNeedsTheCorrectedTypeToo) {
  const auth::Principal reader =
      Subscriber({"coop.v1.EventCorrected", "coop.v1.MemorandumSigned"}, {"*"});
  EXPECT_TRUE(MaySee(reader, FactsOf(CorrectionOf(Seed(kMemorandum)))));
  EXPECT_FALSE(MaySee(reader, FactsOf(CorrectionOf(Seed(kEsipovo)))));
  EXPECT_FALSE(MaySee(Subscriber({"coop.v1.MemorandumSigned"}, {"*"}),
                      FactsOf(CorrectionOf(Seed(kMemorandum)))));
}

TEST(MaySeeTest, EventNamingNoRegionNeedsTheRegionWildcard) {
  const EventFacts facts{.type = "coop.v1.MemorandumSigned"};
  EXPECT_TRUE(MaySee(Subscriber({"*"}, {"*"}), facts));
  EXPECT_FALSE(MaySee(Subscriber({"*"}, {"RU-MOS", "KZ"}), facts));
}

TEST(MaySeeTest, PrincipalWithoutSubscribeScopeSeesNothing) {
  const auth::Principal publisher{.id = "publisher-only",
                                  .publish = auth::Scope{.event_types = {"*"}, .regions = {"*"}}};
  EXPECT_FALSE(MaySee(publisher, FactsOf(Seed(kMemorandum))));
}

}  // namespace
}  // namespace coop::stream
