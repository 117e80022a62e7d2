// Data layer: loaders (good files load exactly, malformed ones fail naming the file and the
// problem), batching, augmentation, normalisation and validation splits.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

#include "winnow/core/error.h"
#include "winnow/data/batcher.h"
#include "winnow/data/loaders.h"

namespace fs = std::filesystem;
using winnow::Dataset;

namespace {

// A fresh folder under the system temp dir, removed with its contents at the end of a test.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ = fs::temp_directory_path() /
            ("winnow_data_test_" + std::to_string(stamp) + "_" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void write_gz(const std::string& path, const std::string& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  gzclose(file);
}

std::string big_endian(uint32_t value) {
  return {static_cast<char>(value >> 24), static_cast<char>(value >> 16), static_cast<char>(value >> 8),
          static_cast<char>(value)};
}

std::string idx_images(uint32_t count, uint32_t rows, uint32_t cols, const std::string& pixels,
                       uint32_t magic = 0x00000803) {
  return big_endian(magic) + big_endian(count) + big_endian(rows) + big_endian(cols) + pixels;
}

std::string idx_labels(const std::string& labels, uint32_t magic = 0x00000801) {
  return big_endian(magic) + big_endian(static_cast<uint32_t>(labels.size())) + labels;
}

std::string bytes_of(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

// An NPY file: magic, version, header length, the dict padded to a multiple of 64, payload.
std::string npy(const std::string& descr, const std::string& shape, const std::string& payload,
                int version = 1, const std::string& fortran = "False") {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
  const size_t prefix = version == 1 ? 10 : 12;
  while ((prefix + dict.size() + 1) % 64 != 0) dict.push_back(' ');
  dict.push_back('\n');
  std::string out = "\x93NUMPY";
  out.push_back(static_cast<char>(version));
  out.push_back('\0');
  const auto length = static_cast<uint32_t>(dict.size());
  for (size_t i = 0; i < (version == 1 ? 2u : 4u); ++i) out.push_back(static_cast<char>(length >> (8 * i)));
  return out + dict + payload;
}

template <typename T>
std::string raw_bytes(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

// Runs `body`, which must throw winnow::Error whose message holds every one of `parts`.
void expect_error(const std::function<void()>& body, std::initializer_list<std::string> parts) {
  try {
    body();
    ADD_FAILURE() << "expected winnow::Error";
  } catch (const winnow::Error& error) {
    const std::string message = error.what();
    for (const auto& part : parts) {
      EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
    }
  }
}

// n samples of `sample_shape`; sample i holds values in [i, i + 1), so a sample is recognisable.
Dataset make_dataset(int64_t n, const std::vector<int64_t>& sample_shape, int64_t num_classes = 3) {
  std::vector<int64_t> shape = {n};
  shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
  std::vector<int64_t> column(shape.size(), 1);
  column[0] = n;
  Dataset data;
  data.name = "synthetic";
  data.inputs = torch::rand(shape) + torch::arange(n, torch::kFloat32).view(column);
  data.labels = torch::arange(n, torch::kInt64).remainder(num_classes);
  data.num_classes = num_classes;
  return data;
}

}  // namespace

// ---- IDX ----------------------------------------------------------------------------------

TEST(IdxLoader, RawAndGzipLoadExactly) {
  TempDir dir;
  const std::string pixels = bytes_of({0, 255, 51, 102, 153, 204, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  const std::string images = idx_images(3, 2, 3, pixels);
  const std::string labels = idx_labels(bytes_of({0, 9, 4}));
  write_raw(dir.file("images"), images);
  write_raw(dir.file("labels"), labels);
  write_gz(dir.file("images.gz"), images);
  write_gz(dir.file("labels.gz"), labels);

  auto expected =
      torch::tensor({0, 255, 51, 102, 153, 204, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, torch::kFloat32)
          .div(255.0)
          .view({3, 1, 2, 3});
  for (const auto& suffix : {std::string(""), std::string(".gz")}) {
    Dataset data = winnow::load_idx(dir.file("images" + suffix), dir.file("labels" + suffix));
    EXPECT_EQ(data.inputs.sizes(), (std::vector<int64_t>{3, 1, 2, 3}));
    EXPECT_TRUE(torch::equal(data.inputs, expected)) << suffix;
    EXPECT_TRUE(torch::equal(data.labels, torch::tensor({0, 9, 4}, torch::kInt64)));
    EXPECT_EQ(data.num_classes, 10);
  }
}

TEST(IdxLoader, WrongMagicNamesFileAndMagic) {
  TempDir dir;
  write_raw(dir.file("images"), idx_images(1, 1, 1, bytes_of({7}), 0x00000802));
  write_raw(dir.file("labels"), idx_labels(bytes_of({1})));
  expect_error([&] { winnow::load_idx(dir.file("images"), dir.file("labels")); },
               {dir.file("images"), "magic number is 0x00000802", "expected 0x00000803"});
  write_raw(dir.file("images"), idx_images(1, 1, 1, bytes_of({7})));
  write_raw(dir.file("labels"), idx_labels(bytes_of({1}), 0x00000803));
  expect_error([&] { winnow::load_idx(dir.file("images"), dir.file("labels")); },
               {dir.file("labels"), "not an IDX labels file", "0x00000801"});
}

TEST(IdxLoader, TruncationNamesByteOffset) {
  TempDir dir;
  // Header promises 3 images of 2x3 = 18 bytes; 15 are present.
  const std::string images = idx_images(3, 2, 3, std::string(15, '\x10'));
  write_raw(dir.file("images"), images);
  write_gz(dir.file("images.gz"), images);
  write_raw(dir.file("labels"), idx_labels(bytes_of({0, 1, 2})));
  expect_error([&] { winnow::load_idx(dir.file("images"), dir.file("labels")); },
               {dir.file("images"), "truncated image data", "byte offset 16"});
  expect_error([&] { winnow::load_idx(dir.file("images.gz"), dir.file("labels")); },
               {dir.file("images.gz"), "truncated image data", "byte offset 16", "ends at byte offset 31"});
  write_raw(dir.file("short"), big_endian(0x00000803) + "\x00\x00");
  expect_error([&] { winnow::load_idx(dir.file("short"), dir.file("labels")); },
               {dir.file("short"), "truncated IDX header dimension 0", "byte offset 4"});
}

TEST(IdxLoader, CountMismatchTrailingBytesAndRange) {
  TempDir dir;
  write_raw(dir.file("images"), idx_images(3, 1, 2, std::string(6, '\x01')));
  write_raw(dir.file("labels"), idx_labels(bytes_of({0, 1})));
  expect_error([&] { winnow::load_idx(dir.file("images"), dir.file("labels")); },
               {dir.file("images"), "3 images", dir.file("labels"), "2 labels"});
  write_raw(dir.file("labels"), idx_labels(bytes_of({0, 1, 2})) + "x");
  expect_error([&] { winnow::load_idx(dir.file("images"), dir.file("labels")); },
               {dir.file("labels"), "unexpected data after byte offset 11"});
  write_raw(dir.file("labels"), idx_labels(bytes_of({0, 12, 2})));
  expect_error([&] { winnow::load_idx(dir.file("images"), dir.file("labels")); },
               {dir.file("labels"), "label 12 at index 1", "[0, 9]"});
  expect_error([&] { winnow::load_idx(dir.file("absent"), dir.file("labels")); },
               {dir.file("absent"), "cannot open"});
}

// ---- CIFAR --------------------------------------------------------------------------------

namespace {
// `count` CIFAR records whose pixel bytes are (record + offset + position) mod 256.
std::string cifar_records(const std::vector<std::vector<int>>& labels, int offset) {
  std::string out;
  for (size_t r = 0; r < labels.size(); ++r) {
    for (int label : labels[r]) out.push_back(static_cast<char>(label));
    for (int p = 0; p < 3072; ++p) out.push_back(static_cast<char>((static_cast<int>(r) + offset + p) % 256));
  }
  return out;
}

torch::Tensor cifar_pixels(int64_t records, int offset) {
  auto r = torch::arange(records, torch::kInt64).view({records, 1});
  auto p = torch::arange(3072, torch::kInt64).view({1, 3072});
  return (r + offset + p).remainder(256).to(torch::kFloat32).div(255.0).view({records, 3, 32, 32});
}
}  // namespace

TEST(CifarLoader, Cifar10FilesConcatenateInOrder) {
  TempDir dir;
  write_raw(dir.file("a.bin"), cifar_records({{3}, {9}}, 0));
  write_raw(dir.file("b.bin"), cifar_records({{0}}, 100));
  Dataset data = winnow::load_cifar_binary({dir.file("a.bin"), dir.file("b.bin")});
  EXPECT_EQ(data.inputs.sizes(), (std::vector<int64_t>{3, 3, 32, 32}));
  EXPECT_TRUE(torch::equal(data.labels, torch::tensor({3, 9, 0}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(data.inputs.slice(0, 0, 2), cifar_pixels(2, 0)));
  EXPECT_TRUE(torch::equal(data.inputs.slice(0, 2), cifar_pixels(1, 100)));
  EXPECT_EQ(data.num_classes, 10);
}

TEST(CifarLoader, Cifar100FineAndCoarse) {
  TempDir dir;
  write_raw(dir.file("train.bin"), cifar_records({{19, 99}, {0, 42}}, 5));
  Dataset fine = winnow::load_cifar_binary({dir.file("train.bin")}, true, true);
  Dataset coarse = winnow::load_cifar_binary({dir.file("train.bin")}, true, false);
  EXPECT_TRUE(torch::equal(fine.labels, torch::tensor({99, 42}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(coarse.labels, torch::tensor({19, 0}, torch::kInt64)));
  EXPECT_EQ(fine.num_classes, 100);
  EXPECT_EQ(coarse.num_classes, 20);
  EXPECT_TRUE(torch::equal(fine.inputs, cifar_pixels(2, 5)));
}

TEST(CifarLoader, TruncatedAndOutOfRange) {
  TempDir dir;
  write_raw(dir.file("cut.bin"), cifar_records({{1}, {2}}, 0).substr(0, 3073 + 100));
  expect_error([&] { winnow::load_cifar_binary({dir.file("cut.bin")}); },
               {dir.file("cut.bin"), "truncated", "3073-byte records", "record 1", "byte offset 3073"});
  write_raw(dir.file("bad.bin"), cifar_records({{1}, {10}}, 0));
  expect_error([&] { winnow::load_cifar_binary({dir.file("bad.bin")}); },
               {dir.file("bad.bin"), "record 1 has label 10", "[0, 9]"});
}

// ---- CSV ----------------------------------------------------------------------------------

TEST(CsvLoader, HeaderDetectedAndNamedLabelColumn) {
  TempDir dir;
  write_raw(dir.file("d.csv"), "a,label,b\n1,0,2\n3.5,2,-4e-1\n");
  winnow::CsvOptions options;
  options.label_column = "label";
  Dataset data = winnow::load_csv(dir.file("d.csv"), options);
  EXPECT_TRUE(torch::equal(data.inputs, torch::tensor({1.0f, 2.0f, 3.5f, -0.4f}).view({2, 2})));
  EXPECT_TRUE(torch::equal(data.labels, torch::tensor({0, 2}, torch::kInt64)));
  EXPECT_EQ(data.num_classes, 3);
}

TEST(CsvLoader, NoHeaderIndexedColumnQuotesCrlfBlankLines) {
  TempDir dir;
  write_raw(dir.file("d.csv"), "1; 0.5;\"-2\"\r\n\r\n0;1.5;7\r\n\n");
  winnow::CsvOptions options;
  options.delimiter = ';';
  options.label_column = "0";
  options.num_classes = 4;
  Dataset data = winnow::load_csv(dir.file("d.csv"), options);
  EXPECT_TRUE(torch::equal(data.inputs, torch::tensor({0.5f, -2.0f, 1.5f, 7.0f}).view({2, 2})));
  EXPECT_TRUE(torch::equal(data.labels, torch::tensor({1, 0}, torch::kInt64)));
  EXPECT_EQ(data.num_classes, 4);
  // Default: the last column is the label.
  write_raw(dir.file("e.csv"), "0.25,1\n0.75,0\n");
  Dataset last = winnow::load_csv(dir.file("e.csv"));
  EXPECT_TRUE(torch::equal(last.labels, torch::tensor({1, 0}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(last.inputs, torch::tensor({0.25f, 0.75f}).view({2, 1})));
}

TEST(CsvLoader, MalformedRowsNameLineAndColumn) {
  TempDir dir;
  const auto path = dir.file("d.csv");
  auto load = [&](const std::string& text) {
    write_raw(path, text);
    winnow::load_csv(path);
  };
  expect_error([&] { load("a,b,y\n1,2,0\n3,1\n"); }, {path, "line 3 has 2 fields, expected 3"});
  expect_error([&] { load("a,b,y\n1,x1,0\n"); }, {path, "line 2, column 2 ('b')", "'x1' is not a number"});
  expect_error([&] { load("1,2,0\n1,nan,1\n"); }, {path, "line 2, column 2", "NaN or infinite"});
  expect_error([&] { load("1,2,0\n-inf,2,1\n"); }, {path, "line 2, column 1", "NaN or infinite"});
  expect_error([&] { load("1,2,0\n1,1e39,1\n"); }, {path, "line 2, column 2", "NaN or infinite"});
  expect_error([&] { load("1,2,0\n1,2,-1\n"); },
               {path, "line 2, column 3", "'-1' is not a non-negative integer"});
  expect_error([&] { load("1,2,0\n1,2,1.5\n"); },
               {path, "line 2, column 3", "'1.5' is not a non-negative integer"});
  expect_error([&] { load("a,b,y\n"); }, {path, "no data rows"});
}

TEST(CsvLoader, BadOptionsAreNamed) {
  TempDir dir;
  const auto path = dir.file("d.csv");
  write_raw(path, "a,b,y\n1,2,0\n1,2,5\n");
  winnow::CsvOptions options;
  options.label_column = "target";
  expect_error([&] { winnow::load_csv(path, options); }, {path, "no column named 'target'", "a, b, y"});
  options.label_column = "3";
  expect_error([&] { winnow::load_csv(path, options); }, {path, "label_column 3 is out of range"});
  options.label_column = "-1";
  options.num_classes = 3;
  expect_error([&] { winnow::load_csv(path, options); },
               {path, "line 3, column 3 ('y')", "label 5 is out of range"});
  options.num_classes = 0;
  options.header = "maybe";
  expect_error([&] { winnow::load_csv(path, options); }, {"header option is 'maybe'"});
}

// ---- NPY ----------------------------------------------------------------------------------

TEST(NpyLoader, DtypesAndVersionsLoadExactly) {
  TempDir dir;
  write_raw(dir.file("labels.txt"), "1\n0\n\n");
  const auto expected = torch::tensor({1.5f, -2.0f, 0.25f, 8.0f}).view({2, 2});
  write_raw(dir.file("f4.npy"), npy("<f4", "(2, 2)", raw_bytes<float>({1.5f, -2.0f, 0.25f, 8.0f})));
  write_raw(dir.file("f8.npy"), npy("<f8", "(2, 2)", raw_bytes<double>({1.5, -2.0, 0.25, 8.0}), 2));
  write_raw(dir.file("i4.npy"), npy("<i4", "(2,2)", raw_bytes<int32_t>({1, -2, 0, 8})));
  write_raw(dir.file("i8.npy"), npy("<i8", "(2, 2)", raw_bytes<int64_t>({1, -2, 0, 8})));
  for (const auto* name : {"f4.npy", "f8.npy"}) {
    Dataset data = winnow::load_npy(dir.file(name), dir.file("labels.txt"));
    EXPECT_TRUE(torch::equal(data.inputs, expected)) << name;
    EXPECT_TRUE(torch::equal(data.labels, torch::tensor({1, 0}, torch::kInt64)));
    EXPECT_EQ(data.num_classes, 2);
  }
  for (const auto* name : {"i4.npy", "i8.npy"}) {
    Dataset data = winnow::load_npy(dir.file(name), dir.file("labels.txt"), 5);
    EXPECT_TRUE(torch::equal(data.inputs, torch::tensor({1.0f, -2.0f, 0.0f, 8.0f}).view({2, 2}))) << name;
    EXPECT_EQ(data.num_classes, 5);
  }
}

TEST(NpyLoader, BytesAreScaledAndImageStacksGetAChannel) {
  TempDir dir;
  write_raw(dir.file("u1.npy"), npy("|u1", "(2, 1, 2)", bytes_of({0, 255, 51, 102})));
  write_raw(dir.file("labels.npy"), npy("<i8", "(2,)", raw_bytes<int64_t>({2, 0})));
  Dataset data = winnow::load_npy(dir.file("u1.npy"), dir.file("labels.npy"));
  EXPECT_EQ(data.inputs.sizes(), (std::vector<int64_t>{2, 1, 1, 2}));
  EXPECT_TRUE(torch::equal(data.inputs.flatten(), torch::tensor({0.0f, 255.0f, 51.0f, 102.0f}).div(255.0)));
  EXPECT_TRUE(torch::equal(data.labels, torch::tensor({2, 0}, torch::kInt64)));
  EXPECT_EQ(data.num_classes, 3);
}

TEST(NpyLoader, MalformedFilesNameTheProblem) {
  TempDir dir;
  const auto labels = dir.file("labels.txt");
  write_raw(labels, "0\n1\n");
  const auto path = dir.file("x.npy");
  auto load = [&](const std::string& bytes) {
    write_raw(path, bytes);
    winnow::load_npy(path, labels);
  };
  const std::string four = raw_bytes<float>({1, 2, 3, 4});
  expect_error([&] { load(npy("<f4", "(2, 2)", four, 1, "True")); }, {path, "Fortran order"});
  expect_error([&] { load(npy(">f4", "(2, 2)", four)); }, {path, "'>f4' is not supported"});
  expect_error([&] { load(npy("<f4", "(2, 2)", four.substr(0, 12))); },
               {path, "truncated NPY array data", "expected 16 bytes from byte offset 128"});
  expect_error(
      [&] {
        load(npy("<f4", "(2, 2)", raw_bytes<float>({1, 2, NAN, 4})));
      },
      {path, "sample 1", "feature 0", "NaN or infinite"});
  expect_error([&] { load(npy("<f4", "(4,)", four)); }, {path, "expected [N, D]"});
  expect_error([&] { load("PK\x03\x04 not numpy at all"); }, {path, "not an NPY file"});
  expect_error(
      [&] {
        load(npy("<f4", "(3, 1)", raw_bytes<float>({1, 2, 3})));
      },
      {path, "holds 3 samples", labels, "2 labels"});
  write_raw(labels, "0\nx\n");
  expect_error([&] { load(npy("<f4", "(2, 2)", four)); },
               {labels, "line 2", "'x' is not a non-negative integer"});
}

TEST(DataLabels, OverrideKeepsOldLabelsAsTruth) {
  TempDir dir;
  Dataset data = make_dataset(4, {2});
  const auto clean = data.labels.clone();
  write_raw(dir.file("noisy.txt"), "2\n2\n2\n0\n");
  winnow::load_label_override(data, dir.file("noisy.txt"), true);
  EXPECT_TRUE(torch::equal(data.labels, torch::tensor({2, 2, 2, 0}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(data.true_labels, clean));
  write_raw(dir.file("short.txt"), "1\n");
  expect_error([&] { winnow::load_label_override(data, dir.file("short.txt"), false); },
               {dir.file("short.txt"), "1 labels", "4 samples"});
  write_raw(dir.file("range.txt"), "0\n1\n3\n0\n");
  expect_error([&] { winnow::load_label_override(data, dir.file("range.txt"), false); },
               {dir.file("range.txt"), "label 3 at index 2", "[0, 2]"});
}

// ---- Named data sets ----------------------------------------------------------------------

TEST(DataNamed, UnknownNameAndMissingCifarFiles) {
  expect_error([] { winnow::load_named("imagenet"); },
               {"unknown data set 'imagenet'", "fashion-mnist", "cifar100"});
  TempDir dir;
  expect_error([&] { winnow::load_named("cifar10", dir.path().string()); },
               {"data_batch_1.bin", "cifar-10-binary.tar.gz"});
  expect_error([&] { winnow::load_named("cifar100", dir.path().string()); },
               {"train.bin", "cifar-100-binary"});
  expect_error([&] { winnow::load_named("mnist", dir.path().string()); }, {"train-images-idx3-ubyte"});
}

TEST(DataNamed, Cifar10FromArchiveSubfolder) {
  TempDir dir;
  const fs::path folder = dir.path() / "cifar-10-batches-bin";
  fs::create_directories(folder);
  for (int i = 1; i <= 5; ++i)
    write_raw((folder / ("data_batch_" + std::to_string(i) + ".bin")).string(), cifar_records({{i}}, i));
  write_raw((folder / "test_batch.bin").string(), cifar_records({{7}, {8}}, 0));
  auto data = winnow::load_named("cifar10", dir.path().string());
  EXPECT_EQ(data.train.size(), 5);
  EXPECT_EQ(data.test.size(), 2);
  EXPECT_TRUE(torch::equal(data.train.labels, torch::tensor({1, 2, 3, 4, 5}, torch::kInt64)));
  EXPECT_EQ(data.train.class_names.at(1), "automobile");
}

TEST(DataNamed, MnistLayoutWithoutGz) {
  TempDir dir;
  for (const std::string split : {"train", "t10k"}) {
    write_raw(dir.file(split + "-images-idx3-ubyte"), idx_images(2, 1, 1, bytes_of({0, 255})));
    write_raw(dir.file(split + "-labels-idx1-ubyte"), idx_labels(bytes_of({3, 4})));
  }
  auto data = winnow::load_named("mnist", dir.path().string());
  EXPECT_EQ(data.train.size(), 2);
  EXPECT_EQ(data.test.inputs.sizes(), (std::vector<int64_t>{2, 1, 1, 1}));
  EXPECT_EQ(data.train.class_names.size(), 10u);
}

TEST(DataNamed, RealFashionMnist) {
  if (!fs::exists("/usr/share/datasets/fashion-mnist")) GTEST_SKIP() << "Fashion-MNIST not installed";
  const auto start = std::chrono::steady_clock::now();
  auto data = winnow::load_named("fashion-mnist");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(data.train.inputs.sizes(), (std::vector<int64_t>{60000, 1, 28, 28}));
  EXPECT_EQ(data.test.inputs.sizes(), (std::vector<int64_t>{10000, 1, 28, 28}));
  EXPECT_GE(data.train.inputs.min().item<float>(), 0.0f);
  EXPECT_LE(data.train.inputs.max().item<float>(), 1.0f);
  EXPECT_EQ(data.train.num_classes, 10);
  EXPECT_EQ(data.train.class_names.at(0), "T-shirt/top");
  EXPECT_EQ(data.test.class_names.at(9), "Ankle boot");
  // Fashion-MNIST is balanced: 6000 training images per class.
  EXPECT_TRUE(torch::equal(data.train.labels.bincount(), torch::full({10}, 6000, torch::kInt64)));
  // A guard against per-sample loops (tens of seconds), not a benchmark: about 1 s alone,
  // 2.4 s once under ctest -j2 beside two training runs on 2 cores.
  EXPECT_LT(seconds, 6.0);
}

// ---- Batcher ------------------------------------------------------------------------------

namespace {
std::vector<winnow::Batch> epoch_batches(winnow::Batcher& batcher, int64_t epoch) {
  batcher.begin_epoch(epoch);
  std::vector<winnow::Batch> batches;
  winnow::Batch batch;
  while (batcher.next(batch)) batches.push_back(batch);
  return batches;
}

torch::Tensor epoch_order(winnow::Batcher& batcher, int64_t epoch) {
  std::vector<torch::Tensor> indices;
  for (const auto& batch : epoch_batches(batcher, epoch)) indices.push_back(batch.indices);
  return torch::cat(indices);
}
}  // namespace

TEST(Batcher, EveryIndexOncePerEpochAndSlicesMatch) {
  Dataset data = make_dataset(103, {2});
  winnow::Batcher batcher(data, 10, true, 7);
  EXPECT_EQ(batcher.batches_per_epoch(), 11);
  for (int64_t epoch : {0, 1, 5}) {
    auto batches = epoch_batches(batcher, epoch);
    ASSERT_EQ(static_cast<int64_t>(batches.size()), 11);
    EXPECT_EQ(batches.back().indices.size(0), 3);
    std::vector<torch::Tensor> all;
    for (const auto& batch : batches) {
      EXPECT_TRUE(torch::equal(batch.inputs, data.inputs.index_select(0, batch.indices)));
      EXPECT_TRUE(torch::equal(batch.labels, data.labels.index_select(0, batch.indices)));
      all.push_back(batch.indices);
    }
    auto sorted = std::get<0>(torch::cat(all).sort());
    EXPECT_TRUE(torch::equal(sorted, torch::arange(103, torch::kInt64))) << "epoch " << epoch;
  }
}

TEST(Batcher, OrderIsAFunctionOfSeedAndEpoch) {
  Dataset data = make_dataset(200, {1});
  winnow::Batcher a(data, 32, true, 11);
  winnow::Batcher b(data, 32, true, 11);
  winnow::Batcher other_seed(data, 32, true, 12);
  const auto a3 = epoch_order(a, 3);
  epoch_order(b, 0);  // what ran before must not matter
  EXPECT_TRUE(torch::equal(a3, epoch_order(b, 3)));
  EXPECT_TRUE(torch::equal(a3, epoch_order(a, 3)));
  EXPECT_FALSE(torch::equal(a3, epoch_order(a, 4)));
  EXPECT_FALSE(torch::equal(a3, epoch_order(other_seed, 3)));
  winnow::Batcher in_order(data, 32, false, 11);
  EXPECT_TRUE(torch::equal(epoch_order(in_order, 3), torch::arange(200, torch::kInt64)));
}

TEST(Batcher, DropLastAndMisuse) {
  Dataset data = make_dataset(103, {2});
  winnow::Batcher batcher(data, 10, true, 1, /*drop_last=*/true);
  EXPECT_EQ(batcher.batches_per_epoch(), 10);
  auto batches = epoch_batches(batcher, 0);
  ASSERT_EQ(batches.size(), 10u);
  for (const auto& batch : batches) EXPECT_EQ(batch.indices.size(0), 10);
  winnow::Batch batch;
  winnow::Batcher fresh(data, 10, true, 1);
  expect_error([&] { fresh.next(batch); }, {"before begin_epoch"});
  expect_error([&] { winnow::Batcher(data, 0, true, 1); }, {"batch size must be >= 1"});
  winnow::AugmentOptions crop;
  crop.crop_padding = 2;
  expect_error([&] { winnow::Batcher(data, 4, true, 1, false, crop); }, {"needs images [N, C, H, W]"});
}

TEST(Batcher, AugmentedEpochReproducibleAfterResume) {
  Dataset data = make_dataset(20, {1, 4, 4});
  winnow::AugmentOptions augment;
  augment.crop_padding = 1;
  augment.horizontal_flip = true;
  winnow::Batcher long_run(data, 8, true, 3, false, augment);
  winnow::Batcher resumed(data, 8, true, 3, false, augment);
  epoch_batches(long_run, 0);
  epoch_batches(long_run, 1);
  auto expected = epoch_batches(long_run, 2);
  auto got = epoch_batches(resumed, 2);
  ASSERT_EQ(expected.size(), got.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(torch::equal(expected[i].inputs, got[i].inputs)) << "batch " << i;
    EXPECT_TRUE(torch::equal(expected[i].indices, got[i].indices));
  }
  EXPECT_FALSE(torch::equal(got[0].inputs, data.inputs.index_select(0, got[0].indices)));
}

// ---- Augmenter ----------------------------------------------------------------------------

TEST(Augmenter, NoCropNoFlipIsIdentity) {
  auto x = torch::rand({6, 3, 5, 5});
  auto generator = at::make_generator<at::CPUGeneratorImpl>(1);
  winnow::Augmenter identity(winnow::AugmentOptions{});
  EXPECT_TRUE(torch::equal(identity(x, generator), x));
}

TEST(Augmenter, FlipOnlyFlipsExactlyTheMaskedSamples) {
  const int64_t batch = 64;
  auto x = torch::rand({batch, 2, 3, 4});
  winnow::AugmentOptions options;
  options.horizontal_flip = true;
  winnow::Augmenter flip(options);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(5);
  auto out = flip(x, generator);
  // The mask is the augmenter's only draw: replay it from an identically seeded generator.
  auto replay = at::make_generator<at::CPUGeneratorImpl>(5);
  auto mask = torch::randint(0, 2, {batch}, replay, torch::kInt64).to(torch::kBool);
  int64_t flipped = 0;
  for (int64_t b = 0; b < batch; ++b) {
    const bool was_flipped = mask[b].item<bool>();
    flipped += was_flipped ? 1 : 0;
    EXPECT_TRUE(torch::equal(out[b], was_flipped ? x[b].flip({2}) : x[b])) << "sample " << b;
  }
  EXPECT_GT(flipped, 0);
  EXPECT_LT(flipped, batch);
}

TEST(Augmenter, CropIsAShiftedWindowOfThePaddedImage) {
  const int64_t batch = 32;
  const int64_t pad = 2;
  auto x = torch::rand({batch, 2, 5, 6}) + 0.5;  // no zeros, so padding is recognisable
  for (bool with_flip : {false, true}) {
    winnow::AugmentOptions options;
    options.crop_padding = pad;
    options.horizontal_flip = with_flip;
    auto generator = at::make_generator<at::CPUGeneratorImpl>(9);
    auto out = winnow::Augmenter(options)(x, generator);
    ASSERT_EQ(out.sizes(), x.sizes());
    auto padded = torch::constant_pad_nd(x, {pad, pad, pad, pad});
    std::set<std::pair<int64_t, int64_t>> offsets;
    for (int64_t b = 0; b < batch; ++b) {
      bool found = false;
      for (int64_t dy = 0; dy <= 2 * pad && !found; ++dy) {
        for (int64_t dx = 0; dx <= 2 * pad && !found; ++dx) {
          auto window = padded[b].slice(1, dy, dy + 5).slice(2, dx, dx + 6);
          if (torch::equal(out[b], window) || (with_flip && torch::equal(out[b], window.flip({2})))) {
            found = true;
            offsets.insert({dy, dx});
          }
        }
      }
      EXPECT_TRUE(found) << "sample " << b << " is no window of its padded image";
    }
    EXPECT_GT(offsets.size(), 5u) << "offsets barely vary";
  }
}

// ---- Normalizer, validation split, seeds --------------------------------------------------

TEST(DataNormalizer, ImagesPerChannelVectorsPerFeature) {
  Dataset images = make_dataset(50, {3, 4, 4});
  images.inputs = images.inputs * torch::tensor({1.0f, 10.0f, 0.1f}).view({1, 3, 1, 1}) + 4.0;
  auto normalizer = winnow::Normalizer::fit(images);
  EXPECT_EQ(normalizer.mean.sizes(), (std::vector<int64_t>{3, 1, 1}));
  Dataset shared = images;  // a copy sharing the tensor must keep its values
  const auto before = shared.inputs.clone();
  normalizer.apply(images);
  EXPECT_TRUE(torch::equal(shared.inputs, before));
  auto [var, mean] = torch::var_mean(images.inputs, {0, 2, 3}, false, false);
  EXPECT_TRUE(torch::allclose(mean, torch::zeros({3}), 0, 1e-4)) << mean;
  EXPECT_TRUE(torch::allclose(var.sqrt(), torch::ones({3}), 1e-4, 1e-4)) << var;

  Dataset vectors = make_dataset(40, {4});
  vectors.inputs.select(1, 2).fill_(3.0);  // a constant feature
  auto per_feature = winnow::Normalizer::fit(vectors);
  EXPECT_EQ(per_feature.mean.sizes(), (std::vector<int64_t>{4}));
  per_feature.apply(vectors);
  EXPECT_TRUE(torch::isfinite(vectors.inputs).all().item<bool>());
  EXPECT_TRUE(torch::equal(vectors.inputs.select(1, 2), torch::zeros({40})));
  auto [fvar, fmean] = torch::var_mean(vectors.inputs, {0}, false, false);
  EXPECT_TRUE(torch::allclose(fmean, torch::zeros({4}), 0, 1e-4)) << fmean;
  EXPECT_TRUE(torch::allclose(fvar.sqrt(), torch::tensor({1.0f, 1.0f, 0.0f, 1.0f}), 1e-4, 1e-4)) << fvar;
}

TEST(DataSplit, SizesDisjointDeterministic) {
  Dataset data = make_dataset(1000, {2});
  // Sample i holds i + 0.5, so the integer part recovers the original index. (make_dataset's
  // i + U[0, 1) can round up to i + 1 in float32 when U is within half an ulp of 1.)
  data.inputs = (torch::arange(1000, torch::kFloat32) + 0.5f).unsqueeze(1).repeat({1, 2});
  auto [train, val] = winnow::split_validation(data, 0.1, 42);
  EXPECT_EQ(train.size(), 900);
  EXPECT_EQ(val.size(), 100);
  auto train_ids = train.inputs.select(1, 0).floor().to(torch::kInt64);
  auto val_ids = val.inputs.select(1, 0).floor().to(torch::kInt64);
  auto all = std::get<0>(torch::cat({train_ids, val_ids}).sort());
  EXPECT_TRUE(torch::equal(all, torch::arange(1000, torch::kInt64)));
  auto [train_idx, val_idx] = winnow::split_indices(1000, 0.1, 42);
  EXPECT_TRUE(torch::equal(val_ids, val_idx));
  EXPECT_TRUE(torch::equal(train.labels, data.labels.index_select(0, train_idx)));
  auto again = winnow::split_validation(data, 0.1, 42);
  EXPECT_TRUE(torch::equal(again.second.inputs, val.inputs));
  auto other = winnow::split_indices(1000, 0.1, 43);
  EXPECT_FALSE(torch::equal(other.second, val_idx));
  expect_error([&] { winnow::split_validation(data, 1.0, 1); }, {"must be in (0, 1)", "got 1"});
  expect_error([&] { winnow::split_validation(make_dataset(3, {1}), 0.01, 1); }, {"leaves 0 for validation"});
}

TEST(DataSeed, DeriveSeedSeparatesStreamsAndIndices) {
  EXPECT_EQ(winnow::derive_seed(1, 2, 3), winnow::derive_seed(1, 2, 3));
  std::set<uint64_t> seen;
  for (uint64_t seed : {0u, 1u}) {
    for (uint64_t stream : {0u, 1u, 2u}) {
      for (uint64_t index = 0; index < 10; ++index) seen.insert(winnow::derive_seed(seed, stream, index));
    }
  }
  EXPECT_EQ(seen.size(), 60u);
  // Nearby epochs give seeds that differ in about half their bits, low 32 included (the
  // CPU generator's Mersenne twister uses those).
  const uint64_t a = winnow::derive_seed(7, 1, 3);
  const uint64_t b = winnow::derive_seed(7, 1, 4);
  EXPECT_GT(__builtin_popcountll(a ^ b), 16);
  EXPECT_NE(static_cast<uint32_t>(a), static_cast<uint32_t>(b));
}
