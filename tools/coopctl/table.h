// Plain-text tables for coopctl's terminal output: columns padded to their widest cell, counted
// in characters (UTF-8 code points) so that Cyrillic and Kazakh names line up.
#ifndef COOP_TOOLS_COOPCTL_TABLE_H_
#define COOP_TOOLS_COOPCTL_TABLE_H_

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace coop::ctl {

class Table {
 public:
  static constexpr size_t kMaxCellChars = 60;

  // `headers` names the columns; every row must have as many cells. Cells longer than
  // `max_cell_chars` are cut there and end with "…"; 0 keeps them whole.
  explicit Table(std::vector<std::string> headers, size_t max_cell_chars = kMaxCellChars);

  // Adds a row.
  void AddRow(std::vector<std::string> cells);

  size_t rows() const { return rows_.size(); }

  // Writes the header, then each row, columns separated by two spaces, without trailing blanks.
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  size_t max_cell_chars_;
  std::vector<std::vector<std::string>> rows_;
};

// Characters (UTF-8 code points) in `text`.
size_t CharCount(absl::string_view text);

// `text` cut to at most `max_chars` characters, the last one "…" when cut.
std::string Truncate(absl::string_view text, size_t max_chars);

}  // namespace coop::ctl

#endif  // COOP_TOOLS_COOPCTL_TABLE_H_
