#pragma once
// `winnow report RUN [RUN...] --out report.html`: reads run folders (train runs, `winnow
// inspect` folders) and writes one self-contained HTML page (report/html_report.h), then
// prints the same comparison as text: accuracies, true and estimated noise rates, detection
// precision/recall/F1, and the top suspects by class name.
#include <cstdint>
#include <string>
#include <vector>

#include "winnow/report/html_report.h"

namespace winnow {

struct ReportOptions {
  std::vector<std::string> runs;
  std::string out;                 // the HTML file to write
  std::string title = "winnow report";
  int64_t thumbnails = 40;         // top suspects shown as images (image inputs only)
  int64_t print_suspects = 10;     // top suspects printed per run (0: none)
  bool print = true;
};

// Everything the report shows of one run folder; throws winnow::Error naming the folder or
// file that is missing or malformed.
ReportRun read_report_run(const std::string& dir, int64_t thumbnails);

// Writes options.out atomically; returns the runs it read.
std::vector<ReportRun> write_report(const ReportOptions& options);

}  // namespace winnow
