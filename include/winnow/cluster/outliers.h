#pragma once
// Pseudo-labels for the samples DBSCAN leaves as noise: asymmetric co-teaching (Yang et al.,
// AAAI 2020, Sec. 3.1) does not drop them but gives each the label of its nearest clustered
// sample and trains the second network on them (official labelUnknown / labelNoise).
#include <torch/torch.h>

namespace winnow {

// features: floating [N, D], finite; labels: integer [N], each >= -1, -1 marking an outlier.
// Each outlier gets the label of its nearest labelled sample: 1-NN on L2-normalised features
// by squared euclidean distance clamped below at 1e-5 (as the official calDis, so near-
// duplicates tie), ties going to the lowest index. Inliers keep theirs. Returns int64 [N] on
// the labels' device; the distances are computed on the features' device, in float64 for
// float64 features and in float32 otherwise, in chunks of outliers. Throws if no sample is
// labelled (and there is at least one outlier).
torch::Tensor label_outliers_nearest_inlier(const torch::Tensor& features,
                                            const torch::Tensor& labels);

}  // namespace winnow
