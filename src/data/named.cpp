// Named benchmark data sets: where their files live and what their classes are called.
#include <fmt/ranges.h>

#include <filesystem>
#include <fstream>

#include "data/io.h"
#include "winnow/core/error.h"
#include "winnow/data/loaders.h"

namespace winnow {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kFashionMnistClasses = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
const std::vector<std::string> kMnistClasses = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
const std::vector<std::string> kCifar10Classes = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                  "dog",      "frog",       "horse", "ship", "truck"};

// The IDX file `stem` under `root`, compressed or not.
std::string idx_file(const std::string& name, const fs::path& root, const std::string& stem) {
  const std::string base = (root / stem).string();
  const std::string found = detail::first_existing({base + ".gz", base});
  if (found.empty()) {
    fail(
        "data set '{}': missing '{}' (or '{}.gz'); put the IDX files in '{}' or pass their folder as "
        "the data root",
        name, base, base, root.string());
  }
  return found;
}

Dataset load_idx_split(const std::string& name, const fs::path& root, const std::string& split,
                       const std::vector<std::string>& classes) {
  // Resolved one after the other: a missing-file error names the images first, whatever
  // order the compiler evaluates call arguments in.
  const std::string images = idx_file(name, root, split + "-images-idx3-ubyte");
  const std::string labels = idx_file(name, root, split + "-labels-idx1-ubyte");
  Dataset data = load_idx(images, labels, 10);
  data.name = name + (split == "train" ? "/train" : "/test");
  data.class_names = classes;
  return data;
}

NamedData load_idx_named(const std::string& name, const fs::path& root,
                         const std::vector<std::string>& classes) {
  return {load_idx_split(name, root, "train", classes), load_idx_split(name, root, "t10k", classes)};
}

// The official binary archives unpack into a subfolder; accept `root` or that subfolder.
fs::path cifar_folder(const fs::path& root, const std::string& subfolder, const std::string& probe) {
  std::error_code ignored;
  if (!fs::exists(root / probe, ignored) && fs::exists(root / subfolder / probe, ignored)) {
    return root / subfolder;
  }
  return root;
}

std::vector<std::string> cifar_files(const std::string& name, const fs::path& folder,
                                     const std::vector<std::string>& files, const std::string& url) {
  std::vector<std::string> paths;
  for (const auto& file : files) {
    const std::string path = (folder / file).string();
    if (detail::first_existing({path}).empty()) {
      fail(
          "data set '{}': missing '{}'; download the binary version from {} and extract it into '{}' "
          "(or pass its folder as the data root)",
          name, path, url, folder.string());
    }
    paths.push_back(path);
  }
  return paths;
}

// One class name per line, as the CIFAR-100 archive ships them; empty when absent.
std::vector<std::string> read_class_names(const fs::path& path, size_t expected) {
  std::ifstream in(path);
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  return names.size() == expected ? names : std::vector<std::string>{};
}

NamedData load_cifar10(const fs::path& root) {
  const std::string url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
  const fs::path folder = cifar_folder(root, "cifar-10-batches-bin", "data_batch_1.bin");
  std::vector<std::string> train_files;
  for (int i = 1; i <= 5; ++i) train_files.push_back(fmt::format("data_batch_{}.bin", i));
  NamedData out{load_cifar_binary(cifar_files("cifar10", folder, train_files, url)),
                load_cifar_binary(cifar_files("cifar10", folder, {"test_batch.bin"}, url))};
  out.train.name = "cifar10/train";
  out.test.name = "cifar10/test";
  out.train.class_names = out.test.class_names = kCifar10Classes;
  return out;
}

NamedData load_cifar100(const fs::path& root) {
  const std::string url = "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz";
  const fs::path folder = cifar_folder(root, "cifar-100-binary", "train.bin");
  NamedData out{load_cifar_binary(cifar_files("cifar100", folder, {"train.bin"}, url), true, true),
                load_cifar_binary(cifar_files("cifar100", folder, {"test.bin"}, url), true, true)};
  out.train.name = "cifar100/train";
  out.test.name = "cifar100/test";
  out.train.class_names = out.test.class_names = read_class_names(folder / "fine_label_names.txt", 100);
  return out;
}

}  // namespace

std::vector<std::string> named_datasets() { return {"fashion-mnist", "mnist", "cifar10", "cifar100"}; }

NamedData load_named(const std::string& name, const std::string& root) {
  const fs::path folder = root.empty() ? fs::path("/usr/share/datasets") / name : fs::path(root);
  if (name == "fashion-mnist") return load_idx_named(name, folder, kFashionMnistClasses);
  if (name == "mnist") return load_idx_named(name, folder, kMnistClasses);
  if (name == "cifar10") return load_cifar10(folder);
  if (name == "cifar100") return load_cifar100(folder);
  fail("unknown data set '{}'; known: {}", name, fmt::join(named_datasets(), ", "));
}

}  // namespace winnow
