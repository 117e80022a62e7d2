// Co-teaching (Han et al., NeurIPS 2018), Co-teaching+ (Yu et al., ICML 2019) and JoCoR
// (Wei et al., CVPR 2020). Written from the papers; the official code (bhanML/Co-teaching,
// xingruiyu/coteaching_plus, hongxin001/JoCoR) settled details the papers leave open, and the
// places where we differ from it on purpose are said where they happen.
#include "winnow/methods/coteaching.h"

#include <condition_variable>
#include <exception>
#include <limits>
#include <mutex>
#include <thread>

#include "winnow/core/error.h"
#include "winnow/dist/data_parallel.h"
#include "winnow/dist/process_group.h"
#include "winnow/estimate/noise_source.h"
#include "winnow/methods/selection.h"

namespace winnow {

std::string variant_name(CoTeachingVariant variant) {
  switch (variant) {
    case CoTeachingVariant::kCoTeaching: return "coteaching";
    case CoTeachingVariant::kCoTeachingPlus: return "coteaching_plus";
    case CoTeachingVariant::kJoCoR: return "jocor";
  }
  return "coteaching";
}

namespace {

// Co-teaching+'s warm-up by data set, from the authors' main.py: MNIST 0, CIFAR-10 20,
// CIFAR-100 5 (NewsGroups 0, Tiny-ImageNet 100). Anything else (Fashion-MNIST, user data)
// starts the disagreement rule at once, as for MNIST.
int64_t default_init_epoch(const Dataset* train) {
  const std::string name = train ? train->name : "";
  if (name.rfind("cifar100", 0) == 0) return 5;
  if (name.rfind("cifar10", 0) == 0) return 20;
  return 0;
}

}  // namespace

CoTeachingOptions CoTeachingOptions::from_config(CoTeachingVariant variant, const TrainContext& context,
                                                 Config& config) {
  CoTeachingOptions o;
  o.variant = variant;
  const std::string name = variant_name(variant);
  // JoCoR's code halves this default for asymmetric (pair-flip) noise; the Co-teaching paper
  // sets tau to the noise rate for pair flip too, and so do we. Unset on a user's own labels
  // (or "auto"), it is the estimated share of wrong labels (estimate/noise_source.h).
  o.forget_rate = noise_rate_option(
      config, "method.forget_rate",
      fmt::format("{} needs the forget rate tau (the fraction of each mini-batch to drop, in [0, 1))", name),
      context.noise_rate, context.noise_source.get());
  require(o.forget_rate >= 0.0 && o.forget_rate < 1.0, "method.forget_rate = {}: must be in [0, 1)",
          o.forget_rate);
  o.num_gradual = config.get<int64_t>("method.num_gradual", o.num_gradual);
  require(o.num_gradual >= 1, "method.num_gradual = {}: T_k must be >= 1 (epochs to reach the forget rate)",
          o.num_gradual);
  o.exponent = config.get<double>("method.exponent", o.exponent);
  require(o.exponent > 0.0, "method.exponent = {}: c must be > 0", o.exponent);
  if (variant == CoTeachingVariant::kCoTeachingPlus) {
    o.init_epoch = config.get<int64_t>("method.init_epoch", default_init_epoch(context.train));
    require(o.init_epoch >= 0, "method.init_epoch = {}: must be >= 0", o.init_epoch);
  }
  if (variant == CoTeachingVariant::kJoCoR) {
    // The authors' argparse default is 0.1, but their README gives 0.9 as the best value
    // for CIFAR-10 at 20%, 50% and asymmetric 40% noise (0.65 at 80%, 0.85 for CIFAR-100),
    // and their example MNIST run uses 0.95: 0.9 is the value the paper's tables use most.
    o.co_lambda = config.get<double>("method.co_lambda", o.co_lambda);
    require(o.co_lambda >= 0.0 && o.co_lambda <= 1.0, "method.co_lambda = {}: must be in [0, 1]", o.co_lambda);
  }
  // The official code of all three papers logs both networks' test accuracy, and the curves
  // and tables report the first network's: "first" is that convention. "average" (of the
  // two softmax outputs) is usually a little better and is reported beside it every epoch.
  o.test_network = config.get_choice("method.test_network", o.test_network, {"first", "second", "average"});
  o.parallel = config.get<bool>("method.parallel", o.parallel);
  o.fused = config.get_choice("method.fused", o.fused, {"auto", "on", "off"});
  require(!o.parallel || dist::world_size() == 1,
          "method.parallel = true runs the two networks on two threads, whose gradient all-reduces would "
          "interleave across the {} processes; in a multi-process run leave it false", dist::world_size());
  require(!(o.parallel && o.fused == "on"),
          "method.fused = \"on\" and method.parallel = true: the fused pass is one computation, it cannot "
          "also run on two threads (choose one)");
  return o;
}

std::string CoTeachingOptions::describe() const {
  std::string text = fmt::format("forget_rate={} num_gradual={} exponent={}", forget_rate, num_gradual, exponent);
  if (variant == CoTeachingVariant::kCoTeachingPlus) text += fmt::format(" init_epoch={}", init_epoch);
  if (variant == CoTeachingVariant::kJoCoR) text += fmt::format(" co_lambda={}", co_lambda);
  text += fmt::format(" test_network={} parallel={} fused={}", test_network, parallel, fused);
  return text;
}

// A second thread that runs one job at a time for the peer network, so the two networks'
// independent work overlaps. It lives for one epoch; while it lives, both it and the calling
// thread run with one intra-op thread, so the two do not fight over the cores.
class CoTeaching::PeerThread {
 public:
  PeerThread() : saved_threads_(at::get_num_threads()) {
    at::set_num_threads(1);
    thread_ = std::thread([this] { loop(); });
  }
  ~PeerThread() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
    at::set_num_threads(saved_threads_);
  }
  PeerThread(const PeerThread&) = delete;
  PeerThread& operator=(const PeerThread&) = delete;

  // Runs `own` here and `peer` on the thread; returns when both are done and rethrows the
  // first exception either raised.
  void run(const std::function<void()>& own, const std::function<void()>& peer) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &peer;
      done_ = false;
      error_ = nullptr;
    }
    wake_.notify_all();
    std::exception_ptr own_error;
    try {
      own();
    } catch (...) {
      own_error = std::current_exception();
    }
    std::unique_lock<std::mutex> lock(mutex_);
    finished_.wait(lock, [this] { return done_; });
    if (own_error) std::rethrow_exception(own_error);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void loop() {
    at::set_num_threads(1);
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      wake_.wait(lock, [this] { return stop_ || job_ != nullptr; });
      if (stop_) return;
      const std::function<void()>* job = job_;
      job_ = nullptr;
      lock.unlock();
      std::exception_ptr error;
      try {
        (*job)();
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      error_ = error;
      done_ = true;
      finished_.notify_all();
    }
  }

  int saved_threads_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_, finished_;
  const std::function<void()>* job_ = nullptr;
  bool done_ = false;
  bool stop_ = false;
  std::exception_ptr error_;
};

CoTeaching::CoTeaching(const TrainContext& context, Config& config, CoTeachingVariant variant)
    : Method(context), options_(CoTeachingOptions::from_config(variant, context, config)) {
  // Two draws from the global generator (seeded by the trainer): the same seed gives the
  // same pair, and the two networks start from different weights, which co-teaching needs.
  first_ = make_model(context.model_spec, config);
  second_ = make_model(context.model_spec, config);
  first_->to(context.device);
  second_->to(context.device);
  // One loss per network, so a loss with per-sample state keeps each network's own. The
  // papers use cross entropy (the default); a robust loss plugs in through [loss].
  const LossSpec loss_spec{context.model_spec.num_classes, context.train->size(), context.epochs};
  loss_first_ = make_loss(loss_spec, config);
  loss_second_ = make_loss(loss_spec, config);
  if (variant == CoTeachingVariant::kJoCoR) {
    // JoCoR: "we update the parameters of both networks simultaneously" with one joint loss.
    auto parameters = first_->parameters();
    for (auto& p : second_->parameters()) parameters.push_back(p);
    optimizer_first_ = make_optimizer(OptimizerSpec{parameters, context.epochs, context.noise_rate, context.noise_source}, config);
  } else {
    optimizer_first_ = make_optimizer(OptimizerSpec{first_->parameters(), context.epochs, context.noise_rate, context.noise_source}, config);
    optimizer_second_ =
        make_optimizer(OptimizerSpec{second_->parameters(), context.epochs, context.noise_rate, context.noise_source}, config);
  }
  schedule_ = Schedule::from_config(config, context.epochs, optimizer_first_->param_groups().at(0).options().get_lr());
  if (options_.fused == "on" || (options_.fused == "auto" && context.device.is_cuda() && !options_.parallel)) {
    fused_ = FusedPeers::make({first_.get(), second_.get()});
  }
  require(fused_ || options_.fused != "on",
          "method.fused = \"on\": the two networks cannot be fused ({}); only ReLU mlps of one shape can",
          first_->describe());
}

CoTeaching::~CoTeaching() = default;

std::string CoTeaching::describe() const {
  return fmt::format("{}: 2x {} | loss {} | {} | schedule {}", variant_name(options_.variant), first_->describe(),
                     loss_first_->describe(), options_.describe(), schedule_.describe());
}

double CoTeaching::forget_rate(int64_t epoch) const {
  return scheduled_forget_rate(epoch, options_.forget_rate, options_.num_gradual, options_.exponent);
}

EpochLog CoTeaching::train_epoch(int64_t epoch, Batcher& batcher) {
  const bool jocor = options_.variant == CoTeachingVariant::kJoCoR;
  schedule_.apply(*optimizer_first_, epoch);
  if (optimizer_second_) schedule_.apply(*optimizer_second_, epoch);
  const auto& train = *context_.train;
  for (auto [loss, network] : {std::pair{loss_first_.get(), first_.get()}, std::pair{loss_second_.get(), second_.get()}}) {
    loss->begin_epoch(epoch);
    if (loss->needs_train_probabilities(epoch)) {
      loss->update_from_train_probabilities(
          predict_probabilities(*network, train, context_.device, context_.eval_batch_size), train.labels);
    }
  }
  first_->train();
  second_->train();
  // Lives for this epoch only (also when it throws), so the intra-op thread count is restored
  // before evaluation. JoCoR's joint loss couples the two networks in one graph: only its two
  // forward passes overlap; its backward runs on this thread.
  std::unique_ptr<PeerThread> peer = options_.parallel ? std::make_unique<PeerThread>() : nullptr;
  auto run_pair = [&](const std::function<void()>& own, const std::function<void()>& other) {
    if (peer) {
      peer->run(own, other);
    } else {
      own();
      other();
    }
  };

  const double rate = forget_rate(epoch);
  const bool disagreement_only =
      options_.variant == CoTeachingVariant::kCoTeachingPlus && epoch >= options_.init_epoch;
  const bool truth = train.has_true_labels();
  // Sums stay tensors so no batch waits on a device sync (.item()), except where a count
  // decides a shape (the disagreement set).
  const auto on_device = torch::TensorOptions().device(context_.device);
  auto loss_sum = torch::zeros({}, on_device.dtype(torch::kFloat64));
  auto correct = torch::zeros({}, on_device.dtype(torch::kInt64));
  auto correct_true = torch::zeros({}, on_device.dtype(torch::kInt64));
  auto selected = torch::zeros({}, on_device.dtype(torch::kInt64));
  auto selected_clean = torch::zeros({}, on_device.dtype(torch::kInt64));
  auto disagreements = torch::zeros({}, on_device.dtype(torch::kInt64));
  int64_t seen = 0;
  int64_t skipped_batches = 0;

  // Counts the samples at `positions` and those among them whose given label is the true
  // one: the papers' "label precision" / "pure ratio" of the selection.
  auto count_selection = [&](const Batch& batch, const torch::Tensor& y, const torch::Tensor& positions) {
    selected += positions.size(0);
    if (truth) {
      auto truth_batch = train.true_labels.index_select(0, batch.indices).to(context_.device);
      selected_clean += y.index_select(0, positions).eq(truth_batch.index_select(0, positions)).sum();
    }
  };

  Batch batch;
  while (batcher.next(batch)) {
    auto x = batch.inputs.to(context_.device);
    auto y = batch.labels.to(context_.device);
    auto indices = batch.indices.to(context_.device);
    const int64_t n = y.size(0);
    torch::Tensor logits_first, logits_second, losses_first, losses_second;
    if (fused_) {
      auto logits = fused_->forward(x);
      logits_first = logits[0];
      logits_second = logits[1];
      losses_first = loss_first_->forward(logits_first, y, indices);
      losses_second = loss_second_->forward(logits_second, y, indices);
    } else {
      run_pair(
          [&] {
            logits_first = first_->forward(x);
            losses_first = loss_first_->forward(logits_first, y, indices);
          },
          [&] {
            logits_second = second_->forward(x);
            losses_second = loss_second_->forward(logits_second, y, indices);
          });
    }

    if (jocor) {
      // JoCoR, Alg. 1: the joint loss per sample, the R(T) fraction with the smallest joint
      // loss, one step of the shared optimizer on their mean.
      auto joint = jocor_joint_loss(losses_first, losses_second, logits_first, logits_second, options_.co_lambda);
      auto keep = select_small_loss(joint, keep_count(n, rate));
      auto update = joint.index_select(0, keep).mean();
      optimizer_first_->zero_grad();
      update.backward();
      optimizer_first_->step();
      loss_sum += update.detach().to(torch::kFloat64) * n;
      count_selection(batch, y, keep);
    } else {
      torch::Tensor candidates;
      if (options_.variant == CoTeachingVariant::kCoTeachingPlus) {
        auto disagree = disagreement_mask(logits_first, logits_second);
        disagreements += disagree.sum();
        // Co-teaching+, Alg. 1 step 4: only the samples the two networks disagree on.
        if (disagreement_only) candidates = disagree.nonzero().squeeze(1);
      }
      if (!candidates.defined()) candidates = torch::arange(n, on_device.dtype(torch::kInt64));
      // Every rank steps or none does: in several processes the skip below is the global batch's,
      // and a rank whose shard has no candidates while others do contributes zero gradients.
      const bool skip = dist::world_size() > 1 ? dist::sum_across_ranks(candidates.size(0)) == 0
                                               : candidates.size(0) == 0;
      if (!skip && candidates.size(0) == 0) {
        optimizer_first_->zero_grad();
        optimizer_second_->zero_grad();
        (losses_first.sum() * 0.0 + losses_second.sum() * 0.0).backward();
        optimizer_first_->step();
        optimizer_second_->step();
      } else if (skip) {
        // The networks agree on every sample of the batch: Co-teaching+ has nothing to learn
        // from it, so neither network steps. (The official code instead trains both on the
        // whole batch during its first 5000 "steps", counted as epoch * batch index, and
        // skips the batch afterwards.)
        ++skipped_batches;
      } else {
        const Exchange exchange = co_teaching_exchange(losses_first, losses_second, candidates, rate);
        // The exchange: each network learns from the samples its peer found clean (Co-teaching,
        // Alg. 1 step 6). The mean over the kept samples; the official code divides that mean
        // once more by the count, a constant factor Adam all but ignores.
        torch::Tensor update_first, update_second;
        if (fused_) {
          // One graph holds both networks: one backward of the sum. d(update_first + update_second)
          // / d(theta_first) = d update_first / d theta_first, as update_second does not depend on
          // theta_first (and the other way round), so each network gets its own gradient.
          update_first = losses_first.index_select(0, exchange.update_first()).mean();
          update_second = losses_second.index_select(0, exchange.update_second()).mean();
          optimizer_first_->zero_grad();
          optimizer_second_->zero_grad();
          (update_first + update_second).backward();
          optimizer_first_->step();
          optimizer_second_->step();
        } else {
          run_pair(
              [&] {
                update_first = losses_first.index_select(0, exchange.update_first()).mean();
                optimizer_first_->zero_grad();
                update_first.backward();
                optimizer_first_->step();
              },
              [&] {
                update_second = losses_second.index_select(0, exchange.update_second()).mean();
                optimizer_second_->zero_grad();
                update_second.backward();
                optimizer_second_->step();
              });
        }
        loss_sum += (update_first.detach() + update_second.detach()).to(torch::kFloat64) * (0.5 * n);
        count_selection(batch, y, exchange.kept_by_first);
        count_selection(batch, y, exchange.kept_by_second);
      }
    }

    torch::Tensor predicted;
    {
      torch::NoGradGuard no_grad;
      if (options_.test_network == "first") {
        predicted = logits_first.detach().argmax(1);
      } else if (options_.test_network == "second") {
        predicted = logits_second.detach().argmax(1);
      } else {
        predicted = (torch::softmax(logits_first.detach(), 1) + torch::softmax(logits_second.detach(), 1)).argmax(1);
      }
    }
    correct += predicted.eq(y).sum();
    if (truth) correct_true += predicted.eq(train.true_labels.index_select(0, batch.indices).to(context_.device)).sum();
    seen += n;
  }
  peer.reset();

  const double samples = static_cast<double>(std::max<int64_t>(seen, 1));
  // Co-teaching(+) selects twice per batch (once per network); JoCoR once.
  const double selections = jocor ? 1.0 : 2.0;
  const int64_t selected_count = selected.item<int64_t>();
  EpochLog log;
  log.add("lr", optimizer_first_->param_groups().at(0).options().get_lr());
  log.add("train_loss", loss_sum.item<double>() / samples);
  log.add("train_accuracy", 100.0 * correct.item<int64_t>() / samples);
  if (truth) log.add("train_true_accuracy", 100.0 * correct_true.item<int64_t>() / samples);
  log.add("forget_rate", rate);
  // The fraction of the epoch's samples that took part in an update.
  log.add("selected_fraction", selected_count / (selections * samples));
  if (truth) {
    // Label precision of the selection (the papers' "pure ratio"), pooled over both networks'
    // selections: the fraction of kept samples whose given label is the true one.
    log.add("label_precision", selected_count > 0 ? static_cast<double>(selected_clean.item<int64_t>()) / selected_count
                                                  : std::numeric_limits<double>::quiet_NaN());
  }
  if (options_.variant == CoTeachingVariant::kCoTeachingPlus) {
    // The fraction of samples the two networks disagree on (in training mode, before the step).
    log.add("disagreement_fraction", disagreements.item<int64_t>() / samples);
    log.add("skipped_batches", static_cast<double>(skipped_batches));
  }
  return log;
}

torch::Tensor CoTeaching::combine(const std::string& rule, const torch::Tensor& first, const torch::Tensor& second) {
  if (rule == "first") return first;
  if (rule == "second") return second;
  // The log of the averaged softmax: its argmax is the ensemble's prediction and its cross
  // entropy is the ensemble's loss.
  return (0.5 * (torch::softmax(first, 1) + torch::softmax(second, 1))).log();
}

torch::Tensor CoTeaching::predict_with(const std::string& rule, const torch::Tensor& inputs) {
  if (rule == "first") return first_->forward(inputs);
  if (rule == "second") return second_->forward(inputs);
  return combine(rule, first_->forward(inputs), second_->forward(inputs));
}

torch::Tensor CoTeaching::predict_all_rules(const torch::Tensor& inputs) {
  auto first = first_->forward(inputs);
  auto second = second_->forward(inputs);
  std::vector<torch::Tensor> logits{combine(options_.test_network, first, second)};
  for (const auto& rule : prediction_variants()) logits.push_back(combine(rule, first, second));
  return torch::stack(logits);
}

torch::Tensor CoTeaching::predict(const torch::Tensor& inputs) { return predict_with(options_.test_network, inputs); }

std::vector<std::string> CoTeaching::prediction_variants() const { return {"first", "second", "average"}; }

torch::Tensor CoTeaching::predict_variant(const std::string& variant, const torch::Tensor& inputs) {
  require(variant == "first" || variant == "second" || variant == "average",
          "{}: unknown test-time rule '{}' (known: first, second, average)", variant_name(options_.variant), variant);
  return predict_with(variant, inputs);
}

void CoTeaching::set_training(bool training) {
  first_->train(training);
  second_->train(training);
}

void CoTeaching::save(torch::serialize::OutputArchive& archive) const {
  auto write = [&](const char* key, const auto& saver) {
    torch::serialize::OutputArchive sub;
    saver(sub);
    archive.write(key, sub);
  };
  write("first", [&](auto& a) { first_->save(a); });
  write("second", [&](auto& a) { second_->save(a); });
  write("optimizer_first", [&](auto& a) { optimizer_first_->save(a); });
  if (optimizer_second_) write("optimizer_second", [&](auto& a) { optimizer_second_->save(a); });
  write("loss_first", [&](auto& a) { loss_first_->save(a); });
  write("loss_second", [&](auto& a) { loss_second_->save(a); });
}

void CoTeaching::load(torch::serialize::InputArchive& archive) {
  auto read = [&](const char* key, const auto& loader) {
    torch::serialize::InputArchive sub;
    archive.read(key, sub);
    loader(sub);
  };
  read("first", [&](auto& a) { first_->load(a); });
  read("second", [&](auto& a) { second_->load(a); });
  read("optimizer_first", [&](auto& a) { optimizer_first_->load(a); });
  if (optimizer_second_) read("optimizer_second", [&](auto& a) { optimizer_second_->load(a); });
  read("loss_first", [&](auto& a) { loss_first_->load(a); });
  read("loss_second", [&](auto& a) { loss_second_->load(a); });
}

CoTeaching::Criterion CoTeaching::criterion(const Dataset& data) {
  torch::NoGradGuard no_grad;
  const bool was_training = first_->is_training();
  set_training(false);
  Criterion c;
  c.logits_first = map_batches(data.inputs, context_.eval_batch_size, context_.device,
                               [&](const torch::Tensor& x) { return first_->forward(x); });
  c.logits_second = map_batches(data.inputs, context_.eval_batch_size, context_.device,
                                [&](const torch::Tensor& x) { return second_->forward(x); });
  set_training(was_training);
  auto losses_first = loss_first_->forward(c.logits_first, data.labels);
  auto losses_second = loss_second_->forward(c.logits_second, data.labels);
  if (options_.variant == CoTeachingVariant::kJoCoR) {
    c.loss = jocor_joint_loss(losses_first, losses_second, c.logits_first, c.logits_second, options_.co_lambda);
  } else {
    c.loss = 0.5 * (losses_first + losses_second);
  }
  return c;
}

SampleScores CoTeaching::score_samples(const Dataset& train) {
  const Criterion c = criterion(train);
  auto probabilities = 0.5 * (torch::softmax(c.logits_first, 1) + torch::softmax(c.logits_second, 1));
  SampleScores scores;
  scores.clean_score = probabilities.gather(1, train.labels.unsqueeze(1)).squeeze(1).to(torch::kFloat32);
  scores.predicted = probabilities.argmax(1);
  // Suspects: what the method itself would drop at the end of training. All three papers
  // assume a fraction tau of the labels is wrong and, once R(T) has ramped up, forget the
  // tau fraction of largest selection loss in every mini-batch; applied to the whole
  // training set, that rule flags the tau * N samples of largest loss (the mean of the two
  // networks' losses for co-teaching(+), the joint loss for JoCoR). Flagging every sample
  // whose prediction differs from its label instead would ignore the method's own estimate
  // of how many labels are wrong.
  const int64_t n = train.size();
  const int64_t flagged = n - keep_count(n, options_.forget_rate);
  auto order = std::get<1>(torch::sort(c.loss, /*stable=*/true, /*dim=*/0, /*descending=*/true));
  scores.suspect = torch::zeros({n}, torch::kBool);
  if (flagged > 0) scores.suspect.index_fill_(0, order.slice(0, 0, flagged), true);
  return scores;
}

namespace {

std::unique_ptr<Method> make_variant(const TrainContext& context, Config& config, CoTeachingVariant variant) {
  return std::make_unique<CoTeaching>(context, config, variant);
}

}  // namespace

WINNOW_REGISTER(MethodRegistry, "coteaching",
                "Co-teaching (Han et al. 2018): two networks exchange their small-loss samples "
                "(method.forget_rate, num_gradual, exponent, test_network, parallel)",
                [](const TrainContext& context, Config& config) {
                  return make_variant(context, config, CoTeachingVariant::kCoTeaching);
                });
WINNOW_REGISTER(MethodRegistry, "coteaching_plus",
                "Co-teaching+ (Yu et al. 2019): the exchange on the samples the networks disagree "
                "on, after method.init_epoch warm-up epochs",
                [](const TrainContext& context, Config& config) {
                  return make_variant(context, config, CoTeachingVariant::kCoTeachingPlus);
                });
WINNOW_REGISTER(MethodRegistry, "jocor",
                "JoCoR (Wei et al. 2020): joint loss with KL co-regularisation (method.co_lambda), "
                "small-loss selection, one optimizer",
                [](const TrainContext& context, Config& config) {
                  return make_variant(context, config, CoTeachingVariant::kJoCoR);
                });

}  // namespace winnow
