// The plain method: one network trained on the given labels with one loss. With `ce` it is
// the baseline every paper compares against; with a robust loss (GCE, SCE, ...) it is how
// those papers train.
#include "winnow/core/error.h"
#include "winnow/losses/loss.h"
#include "winnow/methods/method.h"
#include "winnow/optim/optimizer.h"

namespace winnow {
namespace {

class Standard : public Method {
 public:
  Standard(const TrainContext& context, Config& config) : Method(context) {
    network_ = make_model(context.model_spec, config);
    network_->to(context.device);
    loss_ = make_loss(LossSpec{context.model_spec.num_classes, context.train->size(), context.epochs},
                      config);
    optimizer_ = make_optimizer(
        OptimizerSpec{network_->parameters(), context.epochs, context.noise_rate, context.noise_source}, config);
    schedule_ = Schedule::from_config(config, context.epochs,
                                      optimizer_->param_groups().at(0).options().get_lr());
  }

  std::string describe() const override {
    return fmt::format("standard: {} | loss {} | schedule {}", network_->describe(), loss_->describe(),
                       schedule_.describe());
  }

  EpochLog train_epoch(int64_t epoch, Batcher& batcher) override {
    schedule_.apply(*optimizer_, epoch);
    loss_->begin_epoch(epoch);
    if (loss_->needs_train_probabilities(epoch)) {
      const auto& train = *context_.train;
      loss_->update_from_train_probabilities(
          predict_probabilities(*network_, train, context_.device, context_.eval_batch_size),
          train.labels);
    }
    network_->train();
    // Sums stay tensors so no batch waits on a device sync (.item()).
    const auto on_device = torch::TensorOptions().device(context_.device);
    auto loss_sum = torch::zeros({}, on_device.dtype(torch::kFloat64));
    auto correct = torch::zeros({}, on_device.dtype(torch::kInt64));
    auto correct_true = torch::zeros({}, on_device.dtype(torch::kInt64));
    int64_t seen = 0;
    const bool truth = context_.train->has_true_labels();
    Batch batch;
    while (batcher.next(batch)) {
      auto x = batch.inputs.to(context_.device);
      auto y = batch.labels.to(context_.device);
      auto logits = network_->forward(x);
      auto loss = loss_->forward(logits, y, batch.indices).mean();
      optimizer_->zero_grad();
      loss.backward();
      optimizer_->step();

      auto predicted = logits.detach().argmax(1);
      loss_sum += loss.detach().to(torch::kFloat64) * batch.labels.size(0);
      correct += predicted.eq(y).sum();
      if (truth) {
        auto y_true = context_.train->true_labels.index_select(0, batch.indices).to(context_.device);
        correct_true += predicted.eq(y_true).sum();
      }
      seen += batch.labels.size(0);
    }
    EpochLog log;
    log.add("lr", optimizer_->param_groups().at(0).options().get_lr());
    log.add("train_loss", loss_sum.item<double>() / std::max<int64_t>(seen, 1));
    log.add("train_accuracy", 100.0 * correct.item<int64_t>() / std::max<int64_t>(seen, 1));
    if (truth) {
      // Agreement with the clean labels on the training set: falls when the network
      // memorises the noise.
      log.add("train_true_accuracy", 100.0 * correct_true.item<int64_t>() / std::max<int64_t>(seen, 1));
    }
    return log;
  }

  torch::Tensor predict(const torch::Tensor& inputs) override { return network_->forward(inputs); }

  void set_training(bool training) override { network_->train(training); }

  std::vector<std::shared_ptr<Network>> networks() const override { return {network_}; }

  void save(torch::serialize::OutputArchive& archive) const override {
    torch::serialize::OutputArchive net, opt, loss;
    network_->save(net);
    optimizer_->save(opt);
    loss_->save(loss);
    archive.write("network", net);
    archive.write("optimizer", opt);
    archive.write("loss", loss);
  }

  void load(torch::serialize::InputArchive& archive) override {
    torch::serialize::InputArchive net, opt, loss;
    archive.read("network", net);
    archive.read("optimizer", opt);
    archive.read("loss", loss);
    network_->load(net);
    optimizer_->load(opt);
    loss_->load(loss);
  }

 private:
  std::shared_ptr<Network> network_;
  std::shared_ptr<Loss> loss_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  Schedule schedule_;
};

WINNOW_REGISTER(MethodRegistry, "standard", "one network trained on the given labels with [loss]",
                [](const TrainContext& context, Config& config) {
                  return std::make_unique<Standard>(context, config);
                });

}  // namespace
}  // namespace winnow
