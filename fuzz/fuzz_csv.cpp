// CSV (load_csv, load_csv_features). Input: <options byte><file>. The options byte picks the
// delimiter, the header rule, the label column and num_classes (the defaults when it is 0),
// and with its top bit the unlabelled reader.
#include "fuzz_common.h"
#include "winnow/data/loaders.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  winnow_fuzz::init_torch();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  static const char kDelimiters[4] = {',', ';', '\t', ' '};
  static const char* const kHeaders[4] = {"auto", "yes", "no", "auto"};
  static const char* const kLabelColumns[8] = {"-1", "0", "1", "label", "-2", "2.5", "1e30", "-1e30"};
  static const int64_t kClasses[2] = {0, 3};
  winnow::CsvOptions options;
  options.delimiter = kDelimiters[mode & 3];
  options.header = kHeaders[(mode >> 2) & 3];
  options.label_column = kLabelColumns[(mode >> 4) & 7];
  options.num_classes = kClasses[(mode >> 6) & 1];
  const bool features_only = (mode & 0x80) != 0;
  static const std::string path = winnow_fuzz::scratch_path("data.csv");
  winnow_fuzz::write_file(path, data + 1, size - 1);
  winnow_fuzz::expect_success_or_winnow_error([&] {
    if (features_only) {
      winnow::load_csv_features(path, options);
    } else {
      winnow::load_csv(path, options);
    }
  });
  return 0;
}
