#pragma once
// Batches are slices of in-memory tensors: one gather per batch from an epoch permutation,
// never per-sample collation. Every batch carries its samples' indices in the data set so
// methods can keep per-sample state.
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

#include <torch/torch.h>

#include "winnow/data/dataset.h"

namespace winnow {

struct Batch {
  torch::Tensor inputs;   // [B, ...], augmented if the batcher augments
  torch::Tensor labels;   // int64 [B], the labels training sees
  torch::Tensor indices;  // int64 [B], positions in the data set
};

// Batch-level image augmentation: random crop after zero padding, random horizontal flip.
struct AugmentOptions {
  int64_t crop_padding = 0;  // 0: no crop
  bool horizontal_flip = false;
  bool enabled() const { return crop_padding > 0 || horizontal_flip; }
};

class Augmenter {
 public:
  explicit Augmenter(AugmentOptions options);
  // x: [B, C, H, W]. Each sample gets its own crop offset and flip, drawn from `generator`.
  torch::Tensor operator()(const torch::Tensor& x, torch::Generator& generator) const;
  const AugmentOptions& options() const { return options_; }

 private:
  AugmentOptions options_;
};

class Batcher {
 public:
  // The data set must outlive the batcher.
  Batcher(const Dataset& data, int64_t batch_size, bool shuffle, uint64_t seed,
          bool drop_last = false, AugmentOptions augment = {});

  // Starts epoch `epoch`: the permutation and the augmentation draws come from a generator
  // seeded by (seed, epoch), so an epoch's batches are the same whether or not the run was
  // resumed in between.
  void begin_epoch(int64_t epoch);
  // False when the epoch is exhausted.
  bool next(Batch& batch);
  int64_t batches_per_epoch() const;
  int64_t batch_size() const { return batch_size_; }
  // Called after each batch is handed out with (batches done, batches per epoch): the
  // trainer's progress line on a terminal.
  void set_progress(std::function<void(int64_t, int64_t)> on_batch) { on_batch_ = std::move(on_batch); }
  const Dataset& data() const { return data_; }
  // Applies this batcher's augmentation once more (methods that need two views of a batch).
  torch::Tensor augment(const torch::Tensor& x);
  bool augments() const { return augmenter_.options().enabled(); }

 private:
  const Dataset& data_;
  int64_t batch_size_;
  bool shuffle_;
  uint64_t seed_;
  bool drop_last_;
  Augmenter augmenter_;
  torch::Generator generator_;
  torch::Tensor order_;
  int64_t position_ = 0;
  int64_t batches_done_ = 0;
  std::function<void(int64_t, int64_t)> on_batch_;
};

// Per-channel (images) or per-feature (vectors) mean and standard deviation of `data`.
struct Normalizer {
  torch::Tensor mean;  // broadcastable to one sample
  torch::Tensor std;
  static Normalizer fit(const Dataset& data);
  // Replaces data.inputs by (x - mean) / std (a new tensor: copies of `data` keep theirs).
  void apply(Dataset& data) const;
};

// Splits off a seeded random `fraction` of `data` as a validation set (it keeps the labels
// of `data`, noisy ones included: a noisy validation split). Returns {train, val}.
std::pair<Dataset, Dataset> split_validation(const Dataset& data, double fraction, uint64_t seed);
// The positions behind split_validation: sorted int64 {train, val} indices into a data set of
// `size` samples, so per-sample results on either split can be mapped back to the original.
std::pair<torch::Tensor, torch::Tensor> split_indices(int64_t size, double fraction, uint64_t seed);

// Derives a 64-bit seed for a purpose ("epoch 3 batching") from the run seed, so streams
// for different purposes are independent yet reproducible.
uint64_t derive_seed(uint64_t seed, uint64_t stream, uint64_t index = 0);

}  // namespace winnow
