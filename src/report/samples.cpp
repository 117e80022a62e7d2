#include "winnow/report/samples.h"

#include <fmt/format.h>

#include "winnow/report/files.h"

namespace winnow {

void write_samples_csv(const std::string& path, const Dataset& train, const torch::Tensor& origin,
                       const SampleScores& scores) {
  const bool truth = train.has_true_labels();
  auto order = scores.clean_score.to(torch::kFloat64).argsort().contiguous();
  auto clean = scores.clean_score.to(torch::kFloat64).contiguous();
  auto given = train.labels.contiguous();
  auto predicted = scores.predicted.to(torch::kInt64).contiguous();
  auto suspect = scores.suspect.to(torch::kBool).contiguous();
  auto index = origin.contiguous();
  torch::Tensor true_labels = truth ? train.true_labels.contiguous() : torch::Tensor();

  const int64_t* order_v = order.data_ptr<int64_t>();
  const double* clean_v = clean.data_ptr<double>();
  const int64_t* given_v = given.data_ptr<int64_t>();
  const int64_t* predicted_v = predicted.data_ptr<int64_t>();
  const bool* suspect_v = suspect.data_ptr<bool>();
  const int64_t* index_v = index.data_ptr<int64_t>();
  const int64_t* true_v = truth ? true_labels.data_ptr<int64_t>() : nullptr;

  fmt::memory_buffer out;
  fmt::format_to(std::back_inserter(out), "rank,index,given_label,{}predicted_label,clean_score,suspect\n",
                 truth ? "true_label,label_is_wrong," : "");
  for (int64_t rank = 0; rank < order.numel(); ++rank) {
    const int64_t i = order_v[rank];
    fmt::format_to(std::back_inserter(out), "{},{},{},", rank + 1, index_v[i], given_v[i]);
    if (truth) fmt::format_to(std::back_inserter(out), "{},{},", true_v[i], int(true_v[i] != given_v[i]));
    fmt::format_to(std::back_inserter(out), "{},{:.6g},{}\n", predicted_v[i], clean_v[i], int(suspect_v[i]));
  }
  atomic_write_text(path, fmt::to_string(out));
}

}  // namespace winnow
