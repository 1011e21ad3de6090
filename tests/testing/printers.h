// GoogleTest printers for coopstream's plain structs, so failures show values, not bytes.
#ifndef COOP_TESTS_TESTING_PRINTERS_H_
#define COOP_TESTS_TESTING_PRINTERS_H_

#include <ostream>

#include "common/kafka/record.h"

namespace coop::kafka {

inline void PrintTo(const RecordHeader& header, std::ostream* os) {
  *os << header.name << "=\"" << header.value << "\"";
}

}  // namespace coop::kafka

#endif  // COOP_TESTS_TESTING_PRINTERS_H_
