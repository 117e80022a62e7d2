// Batching, batch-level augmentation, normalisation and validation splits. Everything random
// draws from a torch::Generator seeded through derive_seed, so a (seed, epoch) pair fixes the
// batches and their augmentation no matter what ran before.
#include "winnow/data/batcher.h"

#include "winnow/dist/data_parallel.h"
#include "winnow/dist/process_group.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <mutex>

#include "winnow/core/error.h"
#include "winnow/core/interrupt.h"

namespace winnow {
namespace {

// Stream tags for derive_seed: ASCII words, so they are unlikely to collide with the small
// numbers other components pick for their own streams.
constexpr uint64_t kBatchingStream = 0x6261746368696e67;  // "batching"
constexpr uint64_t kSplitStream = 0x76616c5f73706c74;     // "val_splt"

// splitmix64's finaliser (Steele, Lea & Flood 2014): a bijection on 64 bits whose output bits
// each depend on every input bit, so nearby inputs (epoch 3, epoch 4) give unrelated seeds.
uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

torch::Generator seeded_generator(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

void reseed(torch::Generator& generator, uint64_t seed) {
  // The generator's own mutex guards its state, as ATen's random ops expect.
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_current_seed(seed);
}

const auto kLongCpu = torch::TensorOptions().dtype(torch::kInt64);

}  // namespace

uint64_t derive_seed(uint64_t seed, uint64_t stream, uint64_t index) {
  return splitmix64(splitmix64(splitmix64(seed) ^ stream) ^ index);
}

// ---- Augmenter ----------------------------------------------------------------------------

Augmenter::Augmenter(AugmentOptions options) : options_(options) {
  require(options_.crop_padding >= 0, "augment.crop_padding must be >= 0, got {}", options_.crop_padding);
}

torch::Tensor Augmenter::operator()(const torch::Tensor& x, torch::Generator& generator) const {
  if (!options_.enabled()) return x;
  require(x.dim() == 4, "augmentation needs image batches [B, C, H, W], got {} dimensions", x.dim());
  const int64_t batch = x.size(0);
  const int64_t channels = x.size(1);
  const int64_t height = x.size(2);
  const int64_t width = x.size(3);
  const int64_t pad = options_.crop_padding;

  // Per-sample window offsets into the padded image, uniform in [0, 2 * pad] as in
  // torchvision's RandomCrop(size, padding=pad). Draws happen on the CPU generator.
  auto top = torch::zeros({batch}, kLongCpu);
  auto left = torch::zeros({batch}, kLongCpu);
  if (pad > 0) {
    top = torch::randint(0, 2 * pad + 1, {batch}, generator, kLongCpu);
    left = torch::randint(0, 2 * pad + 1, {batch}, generator, kLongCpu);
  }
  auto rows = top.unsqueeze(1) + torch::arange(height, kLongCpu);  // [B, H]
  auto cols = left.unsqueeze(1) + torch::arange(width, kLongCpu);  // [B, W]
  if (options_.horizontal_flip) {
    // Flipping a crop reverses its column index, so the flip folds into the same gather.
    auto flip = torch::randint(0, 2, {batch}, generator, kLongCpu).to(torch::kBool);
    cols = torch::where(flip.unsqueeze(1), cols.flip({1}), cols);
  }

  // One gather over the flattened padded plane: out[b, c, i, j] = padded[b, c, rows[b, i], cols[b, j]].
  auto padded = pad > 0 ? torch::constant_pad_nd(x, {pad, pad, pad, pad}) : x;
  const int64_t padded_width = width + 2 * pad;
  auto flat = (rows.unsqueeze(2) * padded_width + cols.unsqueeze(1)).view({batch, 1, height * width});
  flat = flat.to(x.device()).expand({batch, channels, height * width});
  return padded.reshape({batch, channels, -1}).gather(2, flat).view({batch, channels, height, width});
}

// ---- Batcher ------------------------------------------------------------------------------

Batcher::Batcher(const Dataset& data, int64_t batch_size, bool shuffle, uint64_t seed, bool drop_last,
                 AugmentOptions augment)
    : data_(data),
      batch_size_(batch_size),
      shuffle_(shuffle),
      seed_(seed),
      drop_last_(drop_last),
      augmenter_(augment),
      generator_(seeded_generator(seed)) {
  require(batch_size > 0, "batch size must be >= 1, got {}", batch_size);
  require(data.size() > 0, "data set '{}' is empty: nothing to batch", data.name);
  require(!augment.enabled() || data.inputs.dim() == 4,
          "data set '{}': augmentation (crop, flip) needs images [N, C, H, W], inputs have {} dimensions",
          data.name, data.inputs.dim());
}

void Batcher::begin_epoch(int64_t epoch) {
  reseed(generator_, derive_seed(seed_, kBatchingStream, static_cast<uint64_t>(epoch)));
  const int64_t n = data_.size();
  order_ = shuffle_ ? torch::randperm(n, generator_, kLongCpu) : torch::arange(n, kLongCpu);
  position_ = 0;
  batches_done_ = 0;
}

bool Batcher::next(Batch& batch) {
  require(order_.defined(), "Batcher::next called before begin_epoch");
  // A batch boundary is the safe point at which a SIGINT / SIGTERM stops training.
  throw_if_interrupted();
  const int64_t n = order_.size(0);
  const int64_t end = std::min(position_ + batch_size_, n);
  if (position_ >= n || (drop_last_ && end - position_ < batch_size_)) return false;
  // A last batch of a single sample is dropped: batch norm cannot train on one sample, and
  // one sample's step is noise. (It is the next epoch's permutation that brings it back.)
  if (end - position_ == 1 && n > 1) return false;
  // Several processes (dist/data_parallel.h): the permutation above is the global one, the same
  // on every rank, and each rank takes its shard of every global batch; a trailing batch too
  // small to give every rank two samples is dropped.
  const bool sharded = dist::world_size() > 1;
  if (sharded && !dist::can_shard(end - position_)) return false;
  auto indices = order_.slice(0, position_, end);
  position_ = end;
  if (on_batch_) on_batch_(++batches_done_, batches_per_epoch());
  // Without augmentation a rank gathers its shard only. With it, the whole batch is augmented
  // and then sharded, so the draws (and this generator) stay the same on every rank and each
  // sample gets the crop it gets in one process.
  if (sharded && !augments()) indices = dist::take_shard(indices);
  // Indices live on the CPU; the gather runs where the data lives.
  batch.inputs = data_.inputs.index_select(0, indices.to(data_.inputs.device()));
  if (augments()) {
    batch.inputs = augmenter_(batch.inputs, generator_);
    if (sharded) {
      indices = dist::take_shard(indices);
      batch.inputs = dist::take_shard(batch.inputs);
    }
  }
  batch.labels = data_.labels.index_select(0, indices.to(data_.labels.device()));
  batch.indices = indices;
  return true;
}

int64_t Batcher::batches_per_epoch() const {
  const int64_t n = data_.size();
  if (drop_last_) return n / batch_size_;
  const int64_t full = n / batch_size_;
  const int64_t rest = n % batch_size_;
  if (dist::world_size() > 1) return full + (rest > 0 && dist::can_shard(rest) ? 1 : 0);
  return full + (rest > 1 || (rest == 1 && n == 1) ? 1 : 0);
}

torch::Tensor Batcher::augment(const torch::Tensor& x) { return augmenter_(x, generator_); }

// ---- Normalizer ---------------------------------------------------------------------------

Normalizer Normalizer::fit(const Dataset& data) {
  require(data.size() > 0, "cannot fit a normalizer on the empty data set '{}'", data.name);
  const auto& x = data.inputs;
  // Statistics per channel (dim 1): over samples and, for images, over all spatial positions.
  std::vector<int64_t> dims = {0};
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  // Population variance (unbiased=false), so the normalised data has std exactly 1.
  auto [var, mean] = torch::var_mean(x, dims, /*unbiased=*/false, /*keepdim=*/true);
  // A constant feature has std 0; the floor keeps (x - mean) / std at 0 instead of NaN.
  constexpr double kStdFloor = 1e-8;
  Normalizer out;
  out.mean = mean.squeeze(0);
  out.std = var.sqrt().clamp_min(kStdFloor).squeeze(0);
  return out;
}

void Normalizer::apply(Dataset& data) const {
  require(mean.defined() && std.defined(), "Normalizer::apply called before fit");
  require(data.inputs.dim() == mean.dim() + 1 && data.inputs.size(1) == mean.size(0),
          "data set '{}': the normalizer was fitted on samples of another shape", data.name);
  // A new tensor rather than sub_ on the old one: copies of a Dataset share their inputs,
  // and normalising one copy must not change the others.
  data.inputs = (data.inputs - mean.to(data.inputs.device())).div_(std.to(data.inputs.device()));
}

// ---- Validation split ---------------------------------------------------------------------

std::pair<torch::Tensor, torch::Tensor> split_indices(int64_t size, double fraction, uint64_t seed) {
  require(fraction > 0.0 && fraction < 1.0, "validation fraction must be in (0, 1), got {}", fraction);
  const auto val_size = static_cast<int64_t>(std::llround(fraction * static_cast<double>(size)));
  require(val_size >= 1 && val_size < size,
          "validation fraction {} of {} samples leaves {} for validation and {} for training; both "
          "need at least 1",
          fraction, size, val_size, size - val_size);
  auto generator = seeded_generator(derive_seed(seed, kSplitStream));
  auto perm = torch::randperm(size, generator, kLongCpu);
  // Sorted, so each split keeps the data set's order (and its memory locality).
  auto train = std::get<0>(perm.slice(0, val_size).sort());
  auto val = std::get<0>(perm.slice(0, 0, val_size).sort());
  return {train, val};
}

std::pair<Dataset, Dataset> split_validation(const Dataset& data, double fraction, uint64_t seed) {
  auto [train_indices, val_indices] = split_indices(data.size(), fraction, seed);
  Dataset train = data.subset(train_indices.to(data.inputs.device()));
  Dataset val = data.subset(val_indices.to(data.inputs.device()));
  val.name = data.name + "/val";
  return {std::move(train), std::move(val)};
}

}  // namespace winnow
