// Events from the domain (../shared/domain.md) for tests, with names in their original scripts.
#ifndef COOP_TESTS_TESTING_SAMPLE_EVENTS_H_
#define COOP_TESTS_TESTING_SAMPLE_EVENTS_H_

#include "coop/v1/envelope.pb.h"

namespace coop::testing {

// 2025-09-10: Governor Vorobyov and Akim Sultangaziev sign the memorandum on cooperation of
// Moscow Oblast and Almaty Region, Ambassador Abayev present.
coop::v1::Event MemorandumSignedEvent();

// The "Әлқисса" concert at the Helikon-Opera for the 100th anniversary of Nurgisa Tlendiev.
coop::v1::Event CulturalEventEvent();

}  // namespace coop::testing

#endif  // COOP_TESTS_TESTING_SAMPLE_EVENTS_H_
