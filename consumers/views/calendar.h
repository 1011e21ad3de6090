// Partial dates and periods as the views store them: the first and last day they name (ISO
// "YYYY-MM-DD" text, which sorts by date) and the label they were stated with ("2026-04").
#ifndef COOP_CONSUMERS_VIEWS_CALENDAR_H_
#define COOP_CONSUMERS_VIEWS_CALENDAR_H_

#include <string>

#include "absl/time/civil_time.h"
#include "coop/v1/types.pb.h"

namespace coop::views {

// The first and the last day a partial date names: {2026, 4, 0} is 2026-04-01..2026-04-30.
absl::CivilDay FirstDay(const coop::v1::PartialDate& date);
absl::CivilDay LastDay(const coop::v1::PartialDate& date);
// "2026", "2026-04" or "2026-04-15".
std::string DateLabel(const coop::v1::PartialDate& date);
// "2025-09-10".
std::string DayText(absl::CivilDay day);

// The days of a period (end unset: the unit of start).
absl::CivilDay PeriodFirstDay(const coop::v1::Period& period);
absl::CivilDay PeriodLastDay(const coop::v1::Period& period);
// "2024", or "2020..2025", "2025-04..2025-06": how the period was stated.
std::string PeriodLabel(const coop::v1::Period& period);

// The period of the same length that ends the day before `period` starts, stated at the same
// precision: 2024 -> 2023, 2025-04..2025-06 -> 2025-01..2025-03, 2025-09-10 -> 2025-09-09.
coop::v1::Period PreviousPeriod(const coop::v1::Period& period);

}  // namespace coop::views

#endif  // COOP_CONSUMERS_VIEWS_CALENDAR_H_
