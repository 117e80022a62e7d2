#include "winnow/methods/collaborative.h"

#include <cmath>
#include <map>

#include "winnow/core/error.h"

namespace winnow {

torch::Tensor kl_divergence(const torch::Tensor& target_probs, const torch::Tensor& log_probs) {
  // xlogy gives 0 for p = 0, so classes a target rules out contribute nothing.
  return (torch::xlogy(target_probs, target_probs) - target_probs * log_probs).sum(1);
}

torch::Tensor mutual_learning_term(const std::vector<torch::Tensor>& probs, size_t k,
                                   const torch::Tensor& log_probs_k, const std::string& variant) {
  require(probs.size() >= 2, "mutual learning needs at least 2 peers, got {}", probs.size());
  require(k < probs.size(), "peer {} out of range (there are {})", k, probs.size());
  const double others = static_cast<double>(probs.size() - 1);
  if (variant == "pairwise") {
    torch::Tensor sum;
    for (size_t j = 0; j < probs.size(); ++j) {
      if (j == k) continue;
      auto term = kl_divergence(probs[j], log_probs_k);
      sum = sum.defined() ? sum + term : term;
    }
    return sum / others;
  }
  require(variant == "ensemble", "method.variant = '{}': allowed are 'pairwise' and 'ensemble'", variant);
  torch::Tensor mean;
  for (size_t j = 0; j < probs.size(); ++j) {
    if (j == k) continue;
    mean = mean.defined() ? mean + probs[j] : probs[j];
  }
  return kl_divergence(mean / others, log_probs_k);
}

torch::Tensor distillation_loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
                                const torch::Tensor& labels, double alpha, double temperature) {
  require(alpha >= 0.0 && alpha <= 1.0, "distillation alpha = {}: must lie in [0, 1]", alpha);
  require(temperature > 0.0, "distillation temperature = {}: must be > 0", temperature);
  namespace F = torch::nn::functional;
  auto hard = F::cross_entropy(student_logits, labels, F::CrossEntropyFuncOptions().reduction(torch::kNone));
  auto soft_teacher = torch::softmax(teacher_logits.detach() / temperature, 1);
  auto log_student = torch::log_softmax(student_logits / temperature, 1);
  auto soft = kl_divergence(soft_teacher, log_student);
  return (1.0 - alpha) * hard + alpha * temperature * temperature * soft;
}

double weight_entropy(const torch::Tensor& weights, int64_t bins) {
  require(bins >= 2, "entropy_bins = {}: must be >= 2", bins);
  auto x = weights.detach().to(torch::kCPU, torch::kFloat64).reshape({-1});
  if (x.numel() == 0) return 0.0;
  const double lo = x.min().item<double>();
  const double hi = x.max().item<double>();
  if (!(hi > lo)) return 0.0;
  // Interval b holds [lo + b w, lo + (b + 1) w); the maximum belongs to the last one.
  auto index = ((x - lo) / ((hi - lo) / static_cast<double>(bins))).floor().clamp(0, bins - 1).to(torch::kInt64);
  auto counts = torch::bincount(index, {}, bins).to(torch::kFloat64);
  auto p = counts / static_cast<double>(x.numel());
  return -torch::xlogy(p, p).sum().item<double>();
}

double grafting_alpha(double entropy_self, double entropy_other, double A, double c) {
  return A / M_PI * std::atan(c * (entropy_self - entropy_other)) + 0.5;
}

namespace {
std::string module_of(const std::string& name) {
  const auto dot = name.rfind('.');
  return dot == std::string::npos ? std::string() : name.substr(0, dot);
}
}  // namespace

std::vector<std::vector<double>> graft_ring(const std::vector<torch::nn::Module*>& networks,
                                            const GraftOptions& options) {
  const size_t n = networks.size();
  require(n >= 2, "grafting needs at least 2 networks, got {}", n);
  // The weights before the step: every network mixes with its neighbour's old weights.
  std::vector<std::vector<std::pair<std::string, torch::Tensor>>> params(n), buffers(n);
  for (size_t i = 0; i < n; ++i) {
    for (const auto& item : networks[i]->named_parameters()) params[i].emplace_back(item.key(), item.value().detach().clone());
    for (const auto& item : networks[i]->named_buffers()) buffers[i].emplace_back(item.key(), item.value().detach().clone());
  }
  for (size_t i = 1; i < n; ++i) {
    require(params[i].size() == params[0].size() && buffers[i].size() == buffers[0].size(),
            "grafting needs networks of one architecture: network {} has {} parameter tensors, network 0 has {}",
            i, params[i].size(), params[0].size());
    for (size_t p = 0; p < params[0].size(); ++p) {
      require(params[i][p].first == params[0][p].first && params[i][p].second.sizes() == params[0][p].second.sizes(),
              "grafting needs networks of one architecture: parameter {} of network {} does not match network 0's",
              params[i][p].first, i);
    }
  }
  std::vector<std::vector<double>> alphas(n);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < n; ++i) {
    const size_t prev = (i + n - 1) % n;
    std::map<std::string, double> module_alpha;
    double last = 0.5;
    bool have_last = false;
    auto live_params = networks[i]->named_parameters();
    for (size_t p = 0; p < params[i].size(); ++p) {
      const std::string module = module_of(params[i][p].first);
      if (!module_alpha.count(module)) {
        // The module's weight: its first parameter with >= 2 dimensions.
        int64_t weight = -1;
        for (size_t q = p; q < params[i].size() && module_of(params[i][q].first) == module; ++q) {
          if (params[i][q].second.dim() >= 2) { weight = static_cast<int64_t>(q); break; }
        }
        if (weight >= 0) {
          last = grafting_alpha(weight_entropy(params[i][weight].second, options.bins),
                                weight_entropy(params[prev][weight].second, options.bins), options.A, options.c);
          have_last = true;
          alphas[i].push_back(last);
        } else if (!have_last) {
          last = grafting_alpha(weight_entropy(params[i][p].second, options.bins),
                                weight_entropy(params[prev][p].second, options.bins), options.A, options.c);
          have_last = true;
          alphas[i].push_back(last);
        }
        module_alpha[module] = last;
      }
      const double a = module_alpha[module];
      live_params[params[i][p].first].copy_(a * params[i][p].second + (1.0 - a) * params[prev][p].second);
    }
    auto live_buffers = networks[i]->named_buffers();
    for (size_t b = 0; b < buffers[i].size(); ++b) {
      const auto& [name, value] = buffers[i][b];
      if (!value.is_floating_point()) continue;  // counters (num_batches_tracked) stay
      auto it = module_alpha.find(module_of(name));
      const double a = it != module_alpha.end() ? it->second : last;
      live_buffers[name].copy_(a * value + (1.0 - a) * buffers[prev][b].second);
    }
  }
  return alphas;
}

}  // namespace winnow
