#pragma once
// Every optimizer made by name is wrapped so that its step first averages the gradients across
// the processes of a multi-process run (dist/data_parallel.h), the step DDP's reducer prepares:
// methods call zero_grad / backward / step as in one process and get the global-batch step.
// In one process the wrapper adds nothing but a check of the world size. It also writes the
// state with stable keys (stable_archive.h), so that identical runs write identical bytes.
#include <torch/torch.h>

#include "closure.h"
#include "stable_archive.h"
#include "winnow/dist/data_parallel.h"
#include "winnow/dist/process_group.h"

namespace winnow::detail {

template <typename Base>
class DataParallelStep final : public Base {
 public:
  using Base::Base;

  torch::Tensor step(torch::optim::Optimizer::LossClosure closure = nullptr) override {
    // The closure (if any) runs first: its backward makes the gradients that are averaged.
    torch::Tensor loss = evaluate_closure(closure);
    if (dist::world_size() > 1) {
      std::vector<torch::Tensor> parameters;
      for (auto& group : this->param_groups()) {
        for (auto& p : group.params()) parameters.push_back(p);
      }
      dist::average_gradients(parameters);
    }
    Base::step(nullptr);
    return loss;
  }

  void save(torch::serialize::OutputArchive& archive) const override { save_with_stable_keys(*this, archive); }
};

}  // namespace winnow::detail
