#include "tools/coopctl/table.h"

#include <algorithm>
#include <utility>

namespace coop::ctl {
namespace {

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

size_t CharCount(absl::string_view text) {
  return static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return !IsContinuationByte(c); }));
}

std::string Truncate(absl::string_view text, size_t max_chars) {
  if (max_chars == 0) return "";
  if (CharCount(text) <= max_chars) return std::string(text);
  size_t chars = 0;
  size_t end = 0;
  // Keeps max_chars - 1 characters, then the ellipsis.
  for (; end < text.size(); ++end) {
    if (!IsContinuationByte(text[end]) && chars++ == max_chars - 1) break;
  }
  return std::string(text.substr(0, end)) + "…";
}

Table::Table(std::vector<std::string> headers, size_t max_cell_chars)
    : headers_(std::move(headers)), max_cell_chars_(max_cell_chars) {}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  if (max_cell_chars_ > 0) {
    for (std::string& cell : cells) cell = Truncate(cell, max_cell_chars_);
  }
  rows_.push_back(std::move(cells));
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> widths(headers_.size());
  for (size_t column = 0; column < headers_.size(); ++column) {
    widths[column] = CharCount(headers_[column]);
    for (const std::vector<std::string>& row : rows_) {
      widths[column] = std::max(widths[column], CharCount(row[column]));
    }
  }
  auto print_row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t column = 0; column < cells.size(); ++column) {
      if (column > 0) line += "  ";
      line += cells[column];
      if (column + 1 < cells.size()) line.append(widths[column] - CharCount(cells[column]), ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out << line << "\n";
  };
  print_row(headers_);
  for (const std::vector<std::string>& row : rows_) print_row(row);
}

}  // namespace coop::ctl
