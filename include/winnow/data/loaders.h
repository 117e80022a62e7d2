#pragma once
// Loaders for the formats users bring. Each returns a validated Dataset with float32 inputs
// and int64 labels, and throws winnow::Error naming the file, the position (byte offset,
// line, record) and what was expected when the file is malformed: wrong magic, truncated
// data, counts that disagree, labels out of range, NaN/Inf features, ragged CSV rows.
#include <cstdint>
#include <string>
#include <vector>

#include "winnow/data/dataset.h"

namespace winnow {

// IDX files (MNIST, Fashion-MNIST), gzip-compressed (.gz, detected by magic) or raw.
// Images are scaled to [0, 1] and shaped [N, 1, H, W]; labels are int64 [N].
Dataset load_idx(const std::string& images_path, const std::string& labels_path,
                 int64_t num_classes = 10);

// CIFAR binary batches. CIFAR-10: records of <1 label byte><3072 pixel bytes>; CIFAR-100:
// <coarse byte><fine byte><3072 bytes>, `cifar100_fine` picks the fine labels. Inputs are
// scaled to [0, 1], shaped [N, 3, 32, 32]. Several files are concatenated in order.
Dataset load_cifar_binary(const std::vector<std::string>& paths, bool cifar100 = false,
                          bool cifar100_fine = true);

struct CsvOptions {
  char delimiter = ',';
  // "auto": a first row with any non-numeric field is a header.
  std::string header = "auto";     // "auto", "yes", "no"
  // Label column: a header name, or a 0-based index given as a number in text ("-1": last).
  std::string label_column = "-1";
  int64_t num_classes = 0;         // 0: max label + 1
};
// CSV: numeric feature columns plus an integer label column. Inputs are [N, D].
Dataset load_csv(const std::string& path, const CsvOptions& options = {});

// Features only, every column one (an unlabelled set, such as a domain-adaptation target).
torch::Tensor load_csv_features(const std::string& path, const CsvOptions& options = {});

// NPY features (float32/float64/uint8/int, C order, 2-D or more: first axis is the sample)
// plus labels from a second file: a .npy of integers, or a text file with one integer per line.
// uint8 features are pixels and scaled to [0, 1] like the IDX and CIFAR loaders; a 3-D array
// [N, H, W] is a stack of grayscale images and becomes [N, 1, H, W].
Dataset load_npy(const std::string& features_path, const std::string& labels_path,
                 int64_t num_classes = 0);
// The features of load_npy alone (an unlabelled set).
torch::Tensor load_npy_features(const std::string& features_path);

// Image folders: every image stb_image reads (PNG, JPEG, BMP, GIF, TGA, PGM/PPM), decoded in
// parallel, scaled to [0, 1] like the IDX loader and shaped [N, C, H, W]; labels are int64 [N].
// `path` is either
//   - a folder with one subfolder per class: class names are the subfolder names in byte order,
//     the label is the index in that list; images are the files ending .png .jpg .jpeg .bmp .gif
//     .tga .pgm .ppm (any case), sorted by class then file name; other files, and names starting
//     with '.', are skipped; or
//   - a list file of lines `<path> <label>` (a space, tab or comma before the label, which is
//     the last field): paths relative to the list file's folder; labels all integers, or else
//     class names (classes: the sorted set of names); blank lines and # comments skipped.
//     Samples keep the file's order.
struct ImageFolderOptions {
  int64_t channels = 0;    // 1, 3, or 0: 1 when every image is grey, else 3 (grey replicated)
  int64_t image_size = 0;  // N: every image resized to N x N (bilinear); 0: all the same size
  int64_t num_classes = 0; // integer labels: 0 means max label + 1; class names: must agree
  std::string cache;       // a folder for the decoded pixels, keyed by the files' sizes and mtimes
  // Largest width x height an image header may give: a damaged header (or a decompression bomb)
  // would otherwise make the decoder allocate gigabytes. Pillow's limit (2 x MAX_IMAGE_PIXELS).
  int64_t max_pixels = 178956970;
};
Dataset load_image_folder(const std::string& path, const ImageFolderOptions& options = {},
                          std::vector<std::string>* paths = nullptr);
// A split of `train`'s data set (its test split): labels use the training class indices (a
// folder must have exactly the training classes, a list's names must be among them), channels
// and num_classes are the training set's, and samples must have its shape. `paths` (when given)
// receives each sample's image file.
Dataset load_image_folder_like(const std::string& path, const Dataset& train, const ImageFolderOptions& options = {},
                               std::vector<std::string>* paths = nullptr);
// The images directly inside `folder` (unlabelled), sorted by file name: [N, C, H, W].
torch::Tensor load_image_files(const std::string& folder, const ImageFolderOptions& options = {},
                               std::vector<std::string>* paths = nullptr);
// True when `folder` is a folder that directly holds image files (a flat, unlabelled folder).
bool holds_images(const std::string& folder);

// Replaces data.labels by labels read from `path` (one integer per line, or a .npy), keeping
// the previous labels as data.true_labels when `keep_as_truth` is set: how a user brings
// their own noisy labels for a data set whose clean labels are known.
void load_label_override(Dataset& data, const std::string& path, bool keep_as_truth);

// Train and test splits of a named data set: "fashion-mnist" and "mnist" (IDX in `root`,
// default /usr/share/datasets/<name>), "cifar10" and "cifar100" (binary batches in `root`).
struct NamedData {
  Dataset train;
  Dataset test;
};
NamedData load_named(const std::string& name, const std::string& root = "");
std::vector<std::string> named_datasets();

}  // namespace winnow
