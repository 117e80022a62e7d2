// FusedAdam: the same trajectory as torch::optim::Adam (weight decay, changing betas as the
// Co-teaching schedule does, a parameter without gradient), a state that round-trips through
// LibTorch's archives, and the fallback for what the fused loop does not serve.
#include <gtest/gtest.h>

#include <sstream>

#include "winnow/optim/fused_adam.h"

namespace {

struct Problem {
  std::vector<torch::Tensor> params;
  torch::Tensor x, y;
};

Problem make_problem(torch::ScalarType dtype = torch::kFloat) {
  torch::manual_seed(11);
  Problem p;
  p.params = {torch::randn({37, 13}, dtype).set_requires_grad(true),  // odd sizes: no alignment luck
              torch::randn({13}, dtype).set_requires_grad(true),
              torch::randn({5}, dtype).set_requires_grad(true)};      // never gets a gradient
  p.x = torch::randn({64, 37}, dtype);
  p.y = torch::randn({64, 13}, dtype);
  return p;
}

void backward(Problem& p) {
  auto out = torch::tanh(p.x.matmul(p.params[0]) + p.params[1]);
  (out - p.y).pow(2).mean().backward();
}

// Runs `steps` steps of `optimizer` on `problem`, changing beta1 at step 5 as the
// Co-teaching schedule does between epochs.
void train(torch::optim::Optimizer& optimizer, Problem& problem, int steps) {
  for (int s = 0; s < steps; ++s) {
    if (s == 5) {
      for (auto& group : optimizer.param_groups()) {
        auto& options = static_cast<torch::optim::AdamOptions&>(group.options());
        options.betas({0.1, std::get<1>(options.betas())});
      }
    }
    optimizer.zero_grad();
    backward(problem);
    optimizer.step();
  }
}

}  // namespace

TEST(FusedAdam, FollowsTorchAdamToRounding) {
  for (double weight_decay : {0.0, 0.01}) {
    auto options = torch::optim::AdamOptions(0.01).weight_decay(weight_decay);
    Problem reference = make_problem();
    Problem fused = make_problem();
    torch::optim::Adam adam(reference.params, options);
    winnow::FusedAdam fused_adam(fused.params, options);
    train(adam, reference, 30);
    train(fused_adam, fused, 30);
    for (size_t i = 0; i < reference.params.size(); ++i) {
      EXPECT_TRUE(torch::allclose(reference.params[i], fused.params[i], /*rtol=*/1e-5, /*atol=*/1e-6))
          << "parameter " << i << " weight_decay " << weight_decay << " max diff "
          << (reference.params[i] - fused.params[i]).abs().max().item<float>();
    }
    // The parameters moved (the test is not comparing two no-ops), except the one without grad.
    EXPECT_FALSE(torch::equal(make_problem().params[0], fused.params[0]));
    EXPECT_TRUE(torch::equal(make_problem().params[2], fused.params[2]));
  }
}

TEST(FusedAdam, StateRoundTripsThroughArchivesAndResumesIdentically) {
  auto options = torch::optim::AdamOptions(0.01);
  Problem straight = make_problem();
  winnow::FusedAdam straight_adam(straight.params, options);
  train(straight_adam, straight, 12);

  Problem first = make_problem();
  winnow::FusedAdam first_adam(first.params, options);
  train(first_adam, first, 7);
  std::stringstream buffer;
  {
    torch::serialize::OutputArchive archive;
    first_adam.save(archive);
    archive.save_to(buffer);
  }
  Problem resumed = make_problem();
  for (size_t i = 0; i < resumed.params.size(); ++i) {
    torch::NoGradGuard no_grad;
    resumed.params[i].copy_(first.params[i]);
  }
  winnow::FusedAdam resumed_adam(resumed.params, options);
  {
    torch::serialize::InputArchive archive;
    archive.load_from(buffer);
    resumed_adam.load(archive);
  }
  // Steps 8-12; the beta1 change at "step 5" of train() happens again, as in the straight run
  // after step 5 (betas are options, not state, so set them as the straight run has them).
  for (auto& group : resumed_adam.param_groups()) {
    static_cast<torch::optim::AdamOptions&>(group.options()).betas({0.1, 0.999});
  }
  for (int s = 0; s < 5; ++s) {
    resumed_adam.zero_grad();
    backward(resumed);
    resumed_adam.step();
  }
  for (size_t i = 0; i < straight.params.size(); ++i) {
    EXPECT_TRUE(torch::equal(straight.params[i], resumed.params[i])) << "parameter " << i;
  }
}

TEST(FusedAdam, FallsBackToTorchAdamForDoubleAndAmsgrad) {
  for (bool amsgrad : {false, true}) {
    auto dtype = amsgrad ? torch::kFloat : torch::kDouble;
    auto options = torch::optim::AdamOptions(0.01).amsgrad(amsgrad);
    Problem reference = make_problem(dtype);
    Problem fused = make_problem(dtype);
    torch::optim::Adam adam(reference.params, options);
    winnow::FusedAdam fused_adam(fused.params, options);
    train(adam, reference, 10);
    train(fused_adam, fused, 10);
    for (size_t i = 0; i < reference.params.size(); ++i) {
      EXPECT_TRUE(torch::equal(reference.params[i], fused.params[i])) << "amsgrad " << amsgrad;
    }
  }
}
