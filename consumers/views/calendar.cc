#include "consumers/views/calendar.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace coop::views {
namespace {

coop::v1::PartialDate FromDay(absl::CivilDay day, const coop::v1::PartialDate& precision) {
  coop::v1::PartialDate date;
  date.set_year(static_cast<int32_t>(day.year()));
  if (precision.month() != 0) date.set_month(day.month());
  if (precision.day() != 0) date.set_day(day.day());
  return date;
}

// The unit `date` names, shifted by `units` of its own precision.
coop::v1::PartialDate Shift(const coop::v1::PartialDate& date, int64_t units) {
  if (date.day() != 0) return FromDay(FirstDay(date) + units, date);
  if (date.month() != 0) {
    return FromDay(absl::CivilDay(absl::CivilMonth(date.year(), date.month()) + units), date);
  }
  return FromDay(absl::CivilDay(absl::CivilYear(date.year()) + units), date);
}

// How many units of its start's precision a period spans.
int64_t UnitsSpanned(const coop::v1::Period& period) {
  if (!period.has_end()) return 1;
  const coop::v1::PartialDate& start = period.start();
  const coop::v1::PartialDate& end = period.end();
  if (start.day() != 0) return LastDay(end) - FirstDay(start) + 1;
  if (start.month() != 0) {
    return absl::CivilMonth(LastDay(end)) - absl::CivilMonth(start.year(), start.month()) + 1;
  }
  return absl::CivilYear(LastDay(end)) - absl::CivilYear(start.year()) + 1;
}

}  // namespace

absl::CivilDay FirstDay(const coop::v1::PartialDate& date) {
  return absl::CivilDay(date.year(), date.month() == 0 ? 1 : date.month(),
                        date.day() == 0 ? 1 : date.day());
}

absl::CivilDay LastDay(const coop::v1::PartialDate& date) {
  if (date.month() == 0) return absl::CivilDay(absl::CivilYear(date.year()) + 1) - 1;
  if (date.day() == 0) {
    return absl::CivilDay(absl::CivilMonth(date.year(), date.month()) + 1) - 1;
  }
  return absl::CivilDay(date.year(), date.month(), date.day());
}

std::string DateLabel(const coop::v1::PartialDate& date) {
  if (date.month() == 0) return absl::StrFormat("%04d", date.year());
  if (date.day() == 0) return absl::StrFormat("%04d-%02d", date.year(), date.month());
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(), date.day());
}

std::string DayText(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

absl::CivilDay PeriodFirstDay(const coop::v1::Period& period) { return FirstDay(period.start()); }

absl::CivilDay PeriodLastDay(const coop::v1::Period& period) {
  return LastDay(period.has_end() ? period.end() : period.start());
}

std::string PeriodLabel(const coop::v1::Period& period) {
  if (!period.has_end()) return DateLabel(period.start());
  return absl::StrCat(DateLabel(period.start()), "..", DateLabel(period.end()));
}

coop::v1::Period PreviousPeriod(const coop::v1::Period& period) {
  const int64_t units = UnitsSpanned(period);
  coop::v1::Period previous;
  *previous.mutable_start() = Shift(period.start(), -units);
  if (period.has_end()) *previous.mutable_end() = Shift(period.start(), -1);
  // A period stated as start..end at a coarser end precision keeps the start's precision.
  if (period.has_end() && units == 1) previous.clear_end();
  return previous;
}

}  // namespace coop::views
