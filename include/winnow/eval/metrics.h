#pragma once
// Accuracy and noisy-label detection metrics.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace winnow {

// Percentage of argmax(logits) == labels.
double accuracy_percent(const torch::Tensor& logits, const torch::Tensor& labels);

struct DetectionMetrics {
  double precision = 0;  // of the suspect flags, the fraction whose label really is wrong
  double recall = 0;     // of the wrong labels, the fraction flagged
  double f1 = 0;
  double auroc = 0;      // of (1 - clean_score) as a score for "label is wrong"
  int64_t flagged = 0;
  int64_t noisy = 0;
};

// `suspect` and `flip_mask` are bool [N]; `clean_score` float [N]. Where no label is wrong
// (or all are) the AUROC is undefined and reported as NaN.
DetectionMetrics detection_metrics(const torch::Tensor& clean_score, const torch::Tensor& suspect,
                                   const torch::Tensor& flip_mask);

// {precision, recall, f1, auroc, flagged, noisy}, undefined values as null: the "detection"
// record of summary.json and estimate.json.
nlohmann::ordered_json to_json(const DetectionMetrics& metrics);

// Area under the ROC curve of `score` for separating positives (`positive` true) from
// negatives: the Mann-Whitney U statistic, ties counted one half.
double auroc(const torch::Tensor& score, const torch::Tensor& positive);

}  // namespace winnow
