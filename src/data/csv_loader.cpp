// CSV: numeric features plus one integer label column. Text has to be parsed value by value;
// the values go into flat vectors that become tensors in one copy at the end. Fields may be
// wrapped in double quotes, but a quoted field may not contain the delimiter or a line break.
#include <fmt/ranges.h>

#include <charconv>
#include <cmath>
#include <string_view>

#include "data/io.h"
#include "winnow/core/error.h"
#include "winnow/data/loaders.h"

namespace winnow {
namespace {

using detail::trim;

// A field: trimmed, and without the quotes of a quoted field.
std::string_view trim_field(std::string_view s) {
  s = trim(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

void split_fields(std::string_view line, char delimiter, std::vector<std::string_view>& fields) {
  fields.clear();
  size_t start = 0;
  while (true) {
    const size_t end = line.find(delimiter, start);
    fields.push_back(trim_field(line.substr(start, end == std::string_view::npos ? end : end - start)));
    if (end == std::string_view::npos) return;
    start = end + 1;
  }
}

// from_chars is locale-independent (strtod would read "1,5" under a German locale) and
// reports a partial parse, so "1.5abc" is rejected rather than read as 1.5.
bool parse_double(std::string_view field, double& value) {
  if (!field.empty() && field.front() == '+') field.remove_prefix(1);
  if (field.empty()) return false;
  const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value);
  return error == std::errc() && end == field.data() + field.size();
}

bool is_blank(std::string_view line) { return trim(line).empty(); }

// The label column as a 0-based index into `width` fields.
int64_t resolve_label_column(const CsvOptions& options, const std::vector<std::string>& header, int64_t width,
                             const std::string& path) {
  double number = 0;
  if (parse_double(options.label_column, number)) {
    require(number == std::floor(number), "'{}': label_column '{}' is not an integer index", path,
            options.label_column);
    // Checked before the conversion, which is undefined for doubles beyond int64.
    require(std::fabs(number) <= static_cast<double>(width),
            "'{}': label_column {} is out of range for {} columns (allowed {} to {})", path, options.label_column,
            width, -width, width - 1);
    const auto index = static_cast<int64_t>(number);
    const int64_t resolved = index < 0 ? width + index : index;
    require(resolved >= 0 && resolved < width,
            "'{}': label_column {} is out of range for {} columns (allowed {} to {})", path, index, width,
            -width, width - 1);
    return resolved;
  }
  require(!header.empty(), "'{}': label_column '{}' is a name, but the file has no header row", path,
          options.label_column);
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == options.label_column) return static_cast<int64_t>(i);
  }
  fail("'{}': no column named '{}' in the header; columns are: {}", path, options.label_column,
       fmt::join(header, ", "));
}

bool first_row_is_header(const std::vector<std::string_view>& fields, const CsvOptions& options,
                         const std::string& path) {
  if (options.header == "yes") return true;
  if (options.header == "no") return false;
  require(options.header == "auto", "'{}': CSV header option is '{}', allowed: auto, yes, no", path,
          options.header);
  double ignored = 0;
  for (auto field : fields) {
    if (!parse_double(field, ignored)) return true;
  }
  return false;
}

// Parses the rows after the header into the flat feature and label vectors.
class CsvParser {
 public:
  // num_classes: 0 when the labels decide it.
  CsvParser(const std::string& path, char delimiter, int64_t num_classes)
      : path_(path), delimiter_(delimiter), num_classes_(num_classes) {}

  void set_columns(int64_t width, int64_t label_column, std::vector<std::string> header) {
    width_ = width;
    label_column_ = label_column;
    header_ = std::move(header);
  }

  void parse_row(std::string_view line, int64_t line_number) {
    split_fields(line, delimiter_, fields_);
    const auto count = static_cast<int64_t>(fields_.size());
    require(count == width_, "'{}': line {} has {} fields, expected {} like the first row", path_,
            line_number, count, width_);
    for (int64_t column = 0; column < width_; ++column) {
      const double value = parse_field(column, line_number);
      if (column == label_column_) {
        labels_.push_back(parse_label(value, column, line_number));
      } else {
        features_.push_back(static_cast<float>(value));
      }
    }
    ++rows_;
  }

  int64_t rows() const { return rows_; }

  std::vector<float>& features() { return features_; }
  std::vector<int64_t>& labels() { return labels_; }

 private:
  std::string column_name(int64_t column) const {
    if (header_.empty()) return fmt::format("column {}", column + 1);
    return fmt::format("column {} ('{}')", column + 1, header_[static_cast<size_t>(column)]);
  }

  double parse_field(int64_t column, int64_t line_number) const {
    const auto field = fields_[static_cast<size_t>(column)];
    double value = 0;
    require(parse_double(field, value), "'{}': line {}, {}: '{}' is not a number", path_, line_number,
            column_name(column), field);
    // Finite as a double can still overflow float32, so the check is on the stored value.
    require(std::isfinite(static_cast<float>(value)),
            "'{}': line {}, {}: value '{}' is NaN or infinite (in float32); features must be finite", path_,
            line_number, column_name(column), field);
    return value;
  }

  int64_t parse_label(double value, int64_t column, int64_t line_number) const {
    require(value >= 0 && value == std::floor(value) && value < 9.0e15,
            "'{}': line {}, {}: label '{}' is not a non-negative integer", path_, line_number,
            column_name(column), fields_[static_cast<size_t>(column)]);
    const auto label = static_cast<int64_t>(value);
    require(num_classes_ == 0 || label < num_classes_,
            "'{}': line {}, {}: label {} is out of range [0, {}] for {} classes", path_, line_number,
            column_name(column), label, num_classes_ - 1, num_classes_);
    return label;
  }

  std::string path_;
  char delimiter_;
  int64_t num_classes_;
  int64_t width_ = 0;
  int64_t label_column_ = 0;
  std::vector<std::string> header_;
  std::vector<std::string_view> fields_;
  std::vector<float> features_;
  std::vector<int64_t> labels_;
  int64_t rows_ = 0;
};

constexpr int64_t kNoLabelColumn = -1;

// Reads every row of `path` into `parser`; with `labelled` false every column is a feature.
void parse_csv(const std::string& path, const CsvOptions& options, bool labelled, CsvParser& parser) {
  detail::GzReader in(path);
  const std::string text = in.read_rest();
  std::string_view rest(text);
  int64_t line_number = 0;
  bool columns_known = false;
  std::vector<std::string_view> fields;
  while (!rest.empty()) {
    const size_t end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    ++line_number;
    if (is_blank(line)) continue;
    if (!columns_known) {
      split_fields(line, options.delimiter, fields);
      const auto width = static_cast<int64_t>(fields.size());
      require(width >= (labelled ? 2 : 1), "'{}': line {} has {} field, expected features and a label", path,
              line_number, width);
      const bool header = first_row_is_header(fields, options, path);
      std::vector<std::string> names;
      if (header) names.assign(fields.begin(), fields.end());
      parser.set_columns(width, labelled ? resolve_label_column(options, names, width, path) : kNoLabelColumn,
                         names);
      columns_known = true;
      if (header) continue;
    }
    parser.parse_row(line, line_number);
  }
  require(parser.rows() > 0, "'{}': no data rows", path);
}

torch::Tensor features_tensor(CsvParser& parser) {
  const int64_t rows = parser.rows();
  return torch::from_blob(parser.features().data(),
                          {rows, static_cast<int64_t>(parser.features().size()) / rows}, torch::kFloat32)
      .clone();
}

}  // namespace

Dataset load_csv(const std::string& path, const CsvOptions& options) {
  require(options.num_classes >= 0, "'{}': num_classes must be >= 0 (0: from the labels), got {}", path,
          options.num_classes);
  CsvParser parser(path, options.delimiter, options.num_classes);
  parse_csv(path, options, /*labelled=*/true, parser);
  const int64_t rows = parser.rows();
  Dataset data;
  data.name = path;
  data.inputs = features_tensor(parser);
  data.labels = torch::from_blob(parser.labels().data(), {rows}, torch::kInt64).clone();
  data.num_classes = options.num_classes > 0 ? options.num_classes : data.labels.max().item<int64_t>() + 1;
  require(data.num_classes >= 2, "'{}': labels name only {} class; at least 2 are needed", path,
          data.num_classes);
  data.validate();
  return data;
}

torch::Tensor load_csv_features(const std::string& path, const CsvOptions& options) {
  CsvParser parser(path, options.delimiter, 0);
  parse_csv(path, options, /*labelled=*/false, parser);
  return features_tensor(parser);
}

}  // namespace winnow
