// The seed data set: every event of the domain (../shared/domain.md), as the government systems
// of Moscow Oblast and Almaty Region, the Kazakh embassy and the akimat's departments would
// publish them, with names in their original scripts and the figures as the articles state them
// (RUB amounts, partial dates such as "by April 2026", ratios such as "more than 1.8 times").
// Each event passes the publisher's validation (services/publisher/validation) with `source` and
// `recorded_time` stamped as below. Used by the view tests and (issue 6) by `coopctl seed`.
#ifndef COOP_TESTS_TESTING_SEED_EVENTS_H_
#define COOP_TESTS_TESTING_SEED_EVENTS_H_

#include <vector>

#include "absl/time/time.h"
#include "coop/v1/envelope.pb.h"

namespace coop::testing {

// Sources of the seed events (publisher ids as in common/auth/policy.example.json).
inline constexpr char kMosregSource[] = "publishers/mosreg-government";
inline constexpr char kAkimatSource[] = "publishers/almaty-region-akimat";
inline constexpr char kDigitalSource[] = "publishers/almaty-region-digital";
inline constexpr char kTourismSource[] = "publishers/almaty-region-tourism";
inline constexpr char kEmbassySource[] = "publishers/kz-embassy-moscow";

// Every seed event in a plausible publication order, recorded_time set from `first_recorded`
// one minute apart, source set to the publisher each would come from, no Event.time (the
// articles give dates, not instants). Ids are stable ("mosreg-2025-09-10-memorandum", ...). No
// AgreementAmended and no EventCorrected: the articles report none. Contents, by subject:
//   agreement/selyatino-hub-2024            AgreementSigned (June 2024, SPIEF, 3 principals:
//                                           Government of Moscow Oblast, Samruk-Kazyna, KTZ;
//                                           hub_ids [selyatino])
//   agreement/ru-mos-kz-19-memorandum-2025  MemorandumSigned (2025-09-10, Vorobyov, Sultangaziev,
//                                           Abayev as witness; 7 areas)
//   agreement/almaty-agrohub-2025           AgreementSigned (2025-09-10, Slavtrans-Service,
//                                           KTZ-Express, TLC Alatau; hub_ids [almaty-agrohub])
//   hub/selyatino                           HubMilestone PLANNED (65,000 m², 14 bn RUB, 1,500
//                                           jobs, planned April 2026, 180k->550k t/year to CN,
//                                           40% share, countries CN KZ RU)
//   hub/almaty-agrohub                      HubMilestone ANNOUNCED (75 ha, container terminal,
//                                           warehouses, customs terminal, wholesale centre)
//   hub/alatau-hub                          HubMilestone ANNOUNCED (Қонаев, KZ-19) and
//                                           InvestmentIncentive alatau-hub-rnd-tax-relief (100%)
//   site/esipovo                            IndustrialSite (light industrial, about 3 months)
//   regions/KZ-19:RU-MOS                    DelegationVisit (to Esipovo, return visit invited)
//   regions/KZ:RU-MOS                       TradeUpdate (turnover 2020..2025 grew more than
//                                           1.8 times) and 6 TradeUpdates of export categories
//                                           in steady demand in 2025 (cosmetics, polymers, ...)
//   region/RU-MOS                           RegionProfile (6 SEZ, 72 parks, 19 technoparks)
//   region/KZ, region/RU                    RegionProfiles (border with the other: 7 and 12
//                                           border regions, about 30 million people, the
//                                           world's longest)
//   regions/KZ:RU                           TourismFlow (more than 1 million from RU to KZ)
//   region/KZ-19                            TourismFlow (135,000 foreign tourists, almost 30% CIS)
//   roadmap/days-of-moscow-2025             5 RoadMapItems (pilot cities, digital twin, public
//                                           and road safety, tourist routes, SME projects)
//   culture/alqissa-tlendiev-100            CulturalEvent (Әлқисса at the Helikon-Opera)
std::vector<coop::v1::Event> SeedEvents(
    absl::Time first_recorded = absl::FromCivil(absl::CivilSecond(2025, 9, 10, 9, 0, 0),
                                                absl::UTCTimeZone()));

}  // namespace coop::testing

#endif  // COOP_TESTS_TESTING_SEED_EVENTS_H_
