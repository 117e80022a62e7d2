#include "winnow/estimate/noise_estimate.h"

#include <algorithm>

#include "winnow/core/error.h"
#include "winnow/estimate/confident_learning.h"

namespace winnow {
namespace {

nlohmann::json matrix_json(const torch::Tensor& matrix) {
  auto m = matrix.to(torch::kFloat64).contiguous();
  nlohmann::json rows = nlohmann::json::array();
  for (int64_t i = 0; i < m.size(0); ++i) {
    rows.push_back(std::vector<double>(m[i].data_ptr<double>(), m[i].data_ptr<double>() + m.size(1)));
  }
  return rows;
}

nlohmann::json vector_json(const torch::Tensor& vector) {
  auto v = vector.to(torch::kFloat64).contiguous();
  return std::vector<double>(v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
}

torch::Tensor matrix_from_json(const nlohmann::json& rows, const char* field) {
  require(rows.is_array() && !rows.empty(), "estimate: '{}' must be a non-empty array of rows", field);
  const int64_t k = static_cast<int64_t>(rows.size());
  auto out = torch::zeros({k, k}, torch::kFloat64);
  for (int64_t i = 0; i < k; ++i) {
    require(rows[i].is_array() && static_cast<int64_t>(rows[i].size()) == k,
            "estimate: '{}' row {} must hold {} numbers", field, i, k);
    for (int64_t j = 0; j < k; ++j) out[i][j] = rows[i][j].get<double>();
  }
  return out;
}

std::string class_name(const std::vector<std::string>& names, int64_t k) {
  return k < static_cast<int64_t>(names.size()) ? names[k] : std::to_string(k);
}

}  // namespace

double asymmetry(const torch::Tensor& transition) {
  auto t = transition.to(torch::kFloat64);
  const int64_t k = t.size(0);
  auto off = t * (1 - torch::eye(k, torch::kFloat64));
  auto mass = off.sum(1);                    // per true class: 1 - T_ii
  auto peak = std::get<0>(off.max(1));       // the largest single destination
  const double total = mass.sum().item<double>();
  if (total <= 1e-12) return 0.0;
  // sum_i mass_i * (peak_i / mass_i) / sum_i mass_i
  return peak.sum().item<double>() / total;
}

double rate_from_transition(const torch::Tensor& transition, const torch::Tensor& prior) {
  auto t = transition.to(torch::kFloat64);
  return 1.0 - (prior.to(torch::kFloat64) * t.diagonal()).sum().item<double>();
}

torch::Tensor per_class_noise_from_transition(const torch::Tensor& transition, const torch::Tensor& prior) {
  auto joint = prior.to(torch::kFloat64).unsqueeze(1) * transition.to(torch::kFloat64);  // P(true i, given j)
  auto given = joint.sum(0).clamp_min(1e-12);
  return 1.0 - joint.diagonal() / given;
}

std::vector<std::pair<int64_t, int64_t>> overlapping_classes(const NoiseEstimate& estimate, int64_t count,
                                                             double min_mass) {
  auto joint = estimate.prior.to(torch::kFloat64).unsqueeze(1) * estimate.transition.to(torch::kFloat64);
  const int64_t k = joint.size(0);
  joint = joint * (1 - torch::eye(k, torch::kFloat64));
  auto order = joint.flatten().argsort(/*stable=*/true, /*dim=*/0, /*descending=*/true);
  std::vector<std::pair<int64_t, int64_t>> pairs;
  auto flat = joint.flatten();
  for (int64_t r = 0; r < order.numel() && static_cast<int64_t>(pairs.size()) < count; ++r) {
    const int64_t at = order[r].item<int64_t>();
    if (flat[at].item<double>() < min_mass) break;
    pairs.emplace_back(at / k, at % k);
  }
  return pairs;
}

nlohmann::ordered_json NoiseEstimate::to_json(const std::vector<std::string>& class_names) const {
  nlohmann::ordered_json out;
  out["noise_rate"] = noise_rate;
  out["label_issues"] = label_issues;
  out["samples"] = samples;
  out["health_score"] = health_score(*this);
  out["method"] = method;
  out["cost_epochs"] = cost_epochs;
  out["asymmetric"] = asymmetric;
  out["asymmetry"] = asymmetry;
  out["transition_matrix"] = matrix_json(transition);
  out["transition_matrix_layout"] = "row = true class, column = given class: P(given | true)";
  out["prior"] = vector_json(prior);
  nlohmann::ordered_json per_class;
  for (int64_t k = 0; k < per_class_noise_rate.numel(); ++k) {
    per_class[class_name(class_names, k)] = per_class_noise_rate[k].item<double>();
  }
  out["per_class_noise_rate"] = per_class;
  auto joint = prior.to(torch::kFloat64).unsqueeze(1) * transition.to(torch::kFloat64);
  nlohmann::json pairs = nlohmann::json::array();
  for (const auto& [i, j] : overlapping_classes(*this)) {
    pairs.push_back({{"true", class_name(class_names, i)},
                     {"given", class_name(class_names, j)},
                     {"share_of_samples", joint[i][j].item<double>()}});
  }
  out["overlapping_classes"] = pairs;
  return out;
}

NoiseEstimate NoiseEstimate::from_json(const nlohmann::json& json) {
  NoiseEstimate e;
  try {
    e.noise_rate = json.at("noise_rate").get<double>();
    e.label_issues = json.at("label_issues").get<int64_t>();
    e.samples = json.at("samples").get<int64_t>();
    e.method = json.at("method").get<std::string>();
    e.cost_epochs = json.at("cost_epochs").get<double>();
    e.asymmetric = json.at("asymmetric").get<bool>();
    e.asymmetry = json.at("asymmetry").get<double>();
    e.transition = matrix_from_json(json.at("transition_matrix"), "transition_matrix");
    e.prior = torch::tensor(json.at("prior").get<std::vector<double>>(), torch::kFloat64);
  } catch (const nlohmann::json::exception& error) {
    fail("estimate: {}", error.what());
  }
  require(e.prior.numel() == e.transition.size(0), "estimate: 'prior' has {} entries for a {}x{} transition matrix",
          e.prior.numel(), e.transition.size(0), e.transition.size(0));
  e.per_class_noise_rate = per_class_noise_from_transition(e.transition, e.prior);
  return e;
}

NoiseEstimate confident_learning_estimate(const torch::Tensor& probs, const torch::Tensor& labels) {
  LatentEstimate latent = estimate_latent(probs, labels);
  NoiseEstimate e;
  e.samples = labels.numel();
  e.label_issues = num_label_issues(probs, labels, "off_diagonal");
  e.noise_rate = static_cast<double>(e.label_issues) / static_cast<double>(std::max<int64_t>(e.samples, 1));
  e.transition = latent.transition;
  e.prior = latent.prior;
  // From the calibrated confident joint itself (rows given, columns true): the share of the
  // samples labelled j that it places off the diagonal.
  auto joint = latent.confident_joint.to(torch::kFloat64);
  e.per_class_noise_rate = 1.0 - joint.diagonal() / joint.sum(1).clamp_min(1e-12);
  e.asymmetry = asymmetry(e.transition);
  e.asymmetric = e.asymmetry > kAsymmetryThreshold;
  e.method = "confident learning";
  return e;
}

}  // namespace winnow
