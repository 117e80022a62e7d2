// 1-NN labels for DBSCAN's outliers, as asymmetric co-teaching's official labelUnknown
// (Yang et al., AAAI 2020): argmin over the clustered samples of the clamped squared
// distance between L2-normalised features.
#include "winnow/cluster/outliers.h"

#include <algorithm>
#include <string>

#include "winnow/core/error.h"

namespace winnow {

torch::Tensor label_outliers_nearest_inlier(const torch::Tensor& features,
                                            const torch::Tensor& labels) {
  const char* who = "label_outliers_nearest_inlier";
  require(features.defined() && labels.defined(), "{}: features or labels are undefined", who);
  require(features.dim() == 2, "{}: features must be 2-D [N, D], got {}-D", who, features.dim());
  require(features.is_floating_point(), "{}: features must be floating point, got {}", who,
          std::string(c10::toString(features.scalar_type())));
  require(labels.dim() == 1, "{}: labels must be 1-D [N], got {}-D", who, labels.dim());
  require(!labels.is_floating_point() && !labels.is_complex() &&
              labels.scalar_type() != torch::kBool,
          "{}: labels must be integers, got {}", who,
          std::string(c10::toString(labels.scalar_type())));
  require(labels.size(0) == features.size(0), "{}: {} labels for {} feature rows; they must match",
          who, labels.size(0), features.size(0));

  auto result = labels.detach().to(torch::kInt64).clone();
  if (result.numel() == 0) return result;
  require(result.min().item<int64_t>() >= -1,
          "{}: labels must be >= -1 (-1 marks an outlier), got {}", who,
          result.min().item<int64_t>());
  const auto device = features.device();
  auto flags = result.to(device);
  auto outlier_index = (flags == -1).nonzero().squeeze(1);
  auto inlier_index = (flags != -1).nonzero().squeeze(1);
  const int64_t n_out = outlier_index.size(0);
  if (n_out == 0) return result;
  require(inlier_index.size(0) > 0,
          "{}: all {} samples are outliers (label -1); at least one must be labelled", who, n_out);
  require(torch::isfinite(features).all().item<bool>(), "{}: features hold NaN or infinite values",
          who);

  namespace F = torch::nn::functional;
  const auto type = features.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  auto x = F::normalize(features.detach().to(type), F::NormalizeFuncOptions().p(2).dim(1).eps(1e-12));
  auto inliers = x.index_select(0, inlier_index);
  auto outliers = x.index_select(0, outlier_index);
  auto inlier_norms = inliers.pow(2).sum(1).unsqueeze(0);  // [1, I]
  auto inlier_labels = flags.index_select(0, inlier_index);

  // [chunk, I] distances at a time: at most 2^24 entries.
  const int64_t n_in = inliers.size(0);
  const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 24) / n_in);
  auto nearest = torch::empty({n_out}, torch::TensorOptions().dtype(torch::kInt64).device(device));
  for (int64_t start = 0; start < n_out; start += chunk) {
    const int64_t len = std::min(chunk, n_out - start);
    auto q = outliers.narrow(0, start, len);
    auto d = torch::addmm(q.pow(2).sum(1, true) + inlier_norms, q, inliers.t(), 1, -2)
                 .clamp_min_(1e-5);
    // argmin returns the first minimal index: ties go to the lowest-index inlier.
    nearest.narrow(0, start, len).copy_(d.argmin(1));
  }
  auto assigned = inlier_labels.index_select(0, nearest).to(result.device());
  result.index_put_({outlier_index.to(result.device())}, assigned);
  return result;
}

}  // namespace winnow
