#include "consumers/views/sql/connection.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_replace.h"

namespace coop::views::sql {

std::string StatementExcerpt(absl::string_view sql) {
  constexpr size_t kExcerptBytes = 60;
  std::string out;
  bool space = false;
  for (char c : absl::StripAsciiWhitespace(sql)) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      space = true;
      continue;
    }
    if (out.size() >= kExcerptBytes && (static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      return out + "...";
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

int64_t AsInt(const Value& value) {
  if (const int64_t* i = std::get_if<int64_t>(&value)) return *i;
  // PostgreSQL's SUM of integers is numeric, which arrives as a double.
  if (const double* d = std::get_if<double>(&value)) return static_cast<int64_t>(*d);
  return 0;
}

double AsDouble(const Value& value) {
  if (const double* d = std::get_if<double>(&value)) return *d;
  if (const int64_t* i = std::get_if<int64_t>(&value)) return static_cast<double>(*i);
  return 0.0;
}

const std::string& AsString(const Value& value) {
  static const std::string* const kEmpty = new std::string();
  if (const std::string* s = std::get_if<std::string>(&value)) return *s;
  if (const Blob* b = std::get_if<Blob>(&value)) return b->bytes;
  return *kEmpty;
}

bool IsNull(const Value& value) { return std::holds_alternative<std::monostate>(value); }

std::string ExpandDdl(absl::string_view ddl, Dialect dialect) {
  switch (dialect) {
    case Dialect::kSqlite:
      return absl::StrReplaceAll(ddl,
                                 {{"{BLOB}", "BLOB"}, {"{INT}", "INTEGER"}, {"{REAL}", "REAL"}});
    case Dialect::kPostgres:
      return absl::StrReplaceAll(
          ddl, {{"{BLOB}", "BYTEA"}, {"{INT}", "BIGINT"}, {"{REAL}", "DOUBLE PRECISION"}});
  }
  return std::string(ddl);
}

}  // namespace coop::views::sql
