// Knowledge distillation (Hinton, Vinyals & Dean, "Distilling the Knowledge in a Neural
// Network", 2015): a frozen teacher distils into one student (model.name) with
//   (1 - alpha) CE(s, y) + alpha T^2 KL(softmax(t / T) || softmax(s / T)),
// gradients only into the student. The teacher is a finished `standard` run (method.teacher:
// its folder, or a state file in its checkpoint/ folder), of any registered model.
//
// [method] options: teacher (required), temperature (4), alpha (0.9). The paper fixes neither;
// these are the common choices of its reproductions.
#include "peer_group.h"
#include "winnow/core/error.h"

namespace winnow {
namespace {

class Distillation : public PeerGroup {
 public:
  Distillation(const TrainContext& context, Config& config) : PeerGroup(context, config, "distill", 1, true) {
    temperature_ = config.get<double>("method.temperature", 4.0);
    alpha_ = config.get<double>("method.alpha", 0.9);
    require(temperature_ > 0.0, "method.temperature = {}: must be > 0", temperature_);
    require(alpha_ >= 0.0 && alpha_ <= 1.0, "method.alpha = {}: must lie in [0, 1]", alpha_);
  }

  EpochLog train_epoch(int64_t epoch, Batcher& batcher) override {
    auto sums = begin_epoch(epoch);
    Batch batch;
    while (batcher.next(batch)) {
      auto x = batch.inputs.to(context_.device);
      auto y = batch.labels.to(context_.device);
      auto teacher = teacher_logits(x);
      auto logits = network(0).forward(x);
      auto loss = distillation_loss(logits, teacher, y, alpha_, temperature_).mean();
      optimizers_[0]->zero_grad();
      loss.backward();
      optimizers_[0]->step();
      record(sums, 0, loss, logits, batch, y);
      sums.seen += batch.labels.size(0);
    }
    return finish_epoch(sums);
  }

 private:
  double temperature_;
  double alpha_;
};

WINNOW_REGISTER(MethodRegistry, "distill",
                "knowledge distillation from a teacher run (method.teacher) into model.name "
                "(temperature 4, alpha 0.9)",
                [](const TrainContext& context, Config& config) {
                  return std::make_unique<Distillation>(context, config);
                });

}  // namespace
}  // namespace winnow
