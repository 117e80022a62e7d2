#pragma once
// The run report: one self-contained HTML page (inline SVG charts, PNG thumbnails as data
// URIs, no external files or network) for one run or several side by side. This file knows
// only what a run folder holds; engine/report.h reads the folders.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace winnow {

// One row of samples.csv. `truth` is -1 where the true label is unknown.
struct SampleRow {
  int64_t rank = 0, index = 0, given = 0, truth = -1, predicted = 0;
  double clean_score = 0;
  bool suspect = false;
};

struct Thumbnail {
  std::string data_uri;  // png_data_uri of the training input
  SampleRow sample;
};

struct ReportRun {
  std::string dir, name;
  nlohmann::ordered_json summary;   // summary.json ({} where absent, e.g. an inspect folder)
  nlohmann::ordered_json noise;     // noise.json: the simulation and its true transition matrix
  nlohmann::ordered_json estimate;  // estimate.json (or summary.json's noise_estimate)
  std::vector<nlohmann::ordered_json> metrics;  // metrics.jsonl, one per epoch
  std::vector<std::string> class_names;         // empty where unknown
  std::vector<SampleRow> samples;               // most suspicious first
  bool has_truth = false;
  std::vector<Thumbnail> thumbnails;            // the top suspects' inputs, when they are images
  std::string thumbnails_note;                  // why there are none
};

// Precision and recall of the top-k suspects (samples in rank order) for k = 1..N, against
// the true labels; average precision as sklearn's average_precision_score (sum over k of
// (R_k - R_{k-1}) P_k). Empty where the truth is unknown.
struct PrecisionRecall {
  std::vector<double> precision, recall;
  double average_precision = 0;
};
PrecisionRecall precision_recall(const std::vector<SampleRow>& ranked);

std::string render_report(const std::vector<ReportRun>& runs, const std::string& title);

}  // namespace winnow
