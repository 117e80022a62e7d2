// Inputs the libFuzzer harnesses (fuzz/) found to crash a loader, fed to the same loader: each
// must now give a winnow::Error naming the file and what is wrong (or, for the configuration,
// read back unchanged). The inputs are the files the loader saw, taken from the crashing
// harness input; the large ones are in tests/data/fuzz/.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "fixture_helpers.h"
#include "test_helpers.h"
#include "winnow/core/config.h"
#include "winnow/core/error.h"
#include "winnow/data/batcher.h"
#include "winnow/data/loaders.h"
#include "winnow/engine/checkpoint.h"
#include "winnow/methods/method.h"

namespace fs = std::filesystem;
using winnow_test::error_of;
using winnow_test::TempDir;

namespace {

void write_bytes(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path << " is missing";
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string fuzz_data(const std::string& name) { return std::string(WINNOW_SOURCE_DIR) + "/tests/data/fuzz/" + name; }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The method of fuzz/method_fixture.h: an MLP [2] -> [4] -> 2 classes with Adam, trained one
// epoch, and a valid checkpoint of it in dir/run.
struct CheckpointFixture {
  winnow::Dataset train;
  winnow::TrainContext context;
  std::unique_ptr<winnow::Method> method;
  std::string run_dir;

  explicit CheckpointFixture(const TempDir& dir) {
    torch::manual_seed(1);
    train.name = "fuzz";
    train.num_classes = 2;
    train.labels = torch::arange(32, torch::kInt64).remainder(2);
    train.inputs = torch::randn({32, 2}) + train.labels.unsqueeze(1).to(torch::kFloat32);
    context.train = &train;
    context.model_spec = winnow::ModelSpec{train.sample_shape(), train.num_classes};
    context.epochs = 1;
    context.seed = 1;
    auto config = winnow::Config::from_string(
        "[model]\nname = 'mlp'\nhidden = [4]\n[optim]\nname = 'adam'\nlr = 0.01\n[method]\nname = 'standard'\n");
    method = winnow::make_method(context, config);
    winnow::Batcher batcher(train, 8, /*shuffle=*/true, 1);
    batcher.begin_epoch(0);
    method->set_training(true);
    method->train_epoch(0, batcher);
    run_dir = dir / "run";
    winnow::TrainerState state;
    state.epochs_done = 1;
    state.metrics.push_back({{"epoch", 1}, {"train_loss", 0.5}});
    winnow::save_checkpoint(run_dir, *method, state);
  }

  std::string trainer_json() const { return run_dir + "/checkpoint/trainer.json"; }
  std::string state_file() const { return run_dir + "/checkpoint/state-000001.pt"; }
};

}  // namespace

// fuzz_csv: label_column "-1e30" was cast to int64 before its range was checked (undefined
// behaviour; UBSan stopped the harness).
TEST(FuzzRegressions, CsvLabelColumnBeyondInt64IsAnError) {
  TempDir dir("fuzz-csv");
  const std::string path = dir / "data.csv";
  write_bytes(path, "\x82@,");
  winnow::CsvOptions options;
  options.header = "no";
  options.label_column = "-1e30";
  options.num_classes = 3;
  const std::string message = error_of([&] { winnow::load_csv(path, options); });
  EXPECT_TRUE(contains(message, path) && contains(message, "label_column -1e30 is out of range")) << message;
  write_bytes(path, "1,2,0\n3,4,1\n");
  options.label_column = "1e30";
  EXPECT_TRUE(contains(error_of([&] { winnow::load_csv(path, options); }), "out of range"));
}

// fuzz_idx: an empty image set (N = 0) of 0xcececece x 0xcececece images passed the element
// count check (0), and torch::empty threw a c10::Error on the overflowing strides.
TEST(FuzzRegressions, IdxEmptySetWithHugeImagesIsAnError) {
  TempDir dir("fuzz-idx");
  const std::string images = dir / "images-idx3-ubyte";
  const std::string labels = dir / "labels-idx1-ubyte";
  std::string header("\x00\x00\x08\x03\x00\x00\x00\x00", 8);
  header += std::string(8, '\xce');
  write_bytes(images, header);
  write_bytes(labels, std::string("\x00\x00\x08\x01\x00\x00\x00\x00", 8));
  const std::string message = error_of([&] { winnow::load_idx(images, labels, 10); });
  EXPECT_TRUE(contains(message, images) && contains(message, "overflow")) << message;
}

// The same for NPY (the shared element count check), and a count that fits int64 while its
// bytes do not (the byte count wrapped around and passed the size check).
TEST(FuzzRegressions, NpyShapesBeyondInt64AreErrors) {
  TempDir dir("fuzz-npy");
  auto npy = [&](const std::string& shape, const std::string& descr) {
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    dict.resize(118, ' ');
    dict += '\n';
    std::string bytes("\x93NUMPY\x01\x00", 8);
    bytes += static_cast<char>(dict.size() & 0xff);
    bytes += static_cast<char>(dict.size() >> 8);
    return bytes + dict;
  };
  const std::string path = dir / "x.npy";
  write_bytes(path, npy("(0, 4611686018427387904, 4611686018427387904)", "<f4"));
  std::string message = error_of([&] { winnow::load_npy_features(path); });
  EXPECT_TRUE(contains(message, path) && contains(message, "overflow")) << message;
  write_bytes(path, npy("(2305843009213693952, 1)", "<f8"));
  message = error_of([&] { winnow::load_npy_features(path); });
  EXPECT_TRUE(contains(message, path) && contains(message, "overflow")) << message;
}

// fuzz_image_folder: stb_image reads a PNM header of size 0x0 without complaint, and resizing
// that image (data.image_size) failed an assertion inside stb_image_resize (abort).
TEST(FuzzRegressions, ImageOfSizeZeroIsAnError) {
  TempDir dir("fuzz-image");
  write_bytes(dir / "img.ppm", std::string("P6J1 1 \n\x10\n5250"));
  write_bytes(dir / "list.txt", "img.ppm 0\n");
  for (int64_t size : {3, 0}) {
    winnow::ImageFolderOptions options;
    options.image_size = size;
    const std::string message = error_of([&] { winnow::load_image_folder(dir / "list.txt", options); });
    EXPECT_TRUE(contains(message, dir / "img.ppm") && contains(message, "0x0")) << message;
  }
}

// fuzz_image_folder: a 17-byte PPM whose header claims 766662 x 665 pixels. stb_image
// allocated the whole 1.5 GB image (libFuzzer's RSS limit stopped the harness) and, as it does
// not check a binary PNM's length, would have "decoded" it from uninitialised memory. Headers
// beyond data.max_image_pixels are now errors, and so are PNM files shorter than their pixels.
TEST(FuzzRegressions, ImageHeaderBeyondThePixelLimitOrCutShortIsAnError) {
  TempDir dir("fuzz-image-oom");
  write_bytes(dir / "a/img.ppm", std::string("P6766662\n665\x10\n\n 0"));
  write_bytes(dir / "b/img.pgm", std::string("P5 1 1 255\n\x7f"));
  std::string message = error_of([&] { winnow::load_image_folder(dir.str()); });
  EXPECT_TRUE(contains(message, dir / "a/img.ppm") && contains(message, "766662x665") &&
              contains(message, "data.max_image_pixels = 178956970"))
      << message;

  // Below the limit, the same file is cut short: 1.5 GB of pixels promised, 4 bytes held.
  winnow::ImageFolderOptions options;
  options.max_pixels = int64_t{1} << 30;
  message = error_of([&] { winnow::load_image_folder(dir.str(), options); });
  EXPECT_TRUE(contains(message, dir / "a/img.ppm") && contains(message, "cut short") &&
              contains(message, "1529490690 bytes of pixels, but the file holds 4 bytes after the header"))
      << message;

  // A 4x2 grey PGM one byte short, and then whole.
  fs::remove_all(dir / "a");
  write_bytes(dir / "a/img.pgm", std::string("P5 4 2 255\n") + std::string(7, '\x40'));
  write_bytes(dir / "b/img.pgm", std::string("P5 4 2 255\n") + std::string(8, '\x80'));
  message = error_of([&] { winnow::load_image_folder(dir.str()); });
  EXPECT_TRUE(contains(message, "cut short") && contains(message, "8 bytes of pixels, but the file holds 7 bytes after the header")) << message;
  write_bytes(dir / "a/img.pgm", std::string("P5 4 2 255\n") + std::string(8, '\x40'));
  const winnow::Dataset data = winnow::load_image_folder(dir.str());
  ASSERT_EQ(data.inputs.sizes(), torch::IntArrayRef({2, 1, 2, 4}));
  EXPECT_NEAR(data.inputs[0].mean().item<double>(), 64.0 / 255.0, 1e-6);
}

// fuzz_checkpoint_json: a number beyond a double in trainer.json made nlohmann throw
// out_of_range (not a parse_error), which escaped read_json; and a float where an integer
// belongs ("format": 1e300) was converted to int unchecked (undefined behaviour, UBSan).
TEST(FuzzRegressions, CheckpointRecordWithHugeNumbersIsAnError) {
  TempDir dir("fuzz-checkpoint");
  CheckpointFixture fixture(dir);
  const std::string valid = read_bytes(fixture.trainer_json());
  ASSERT_NO_THROW(winnow::load_checkpoint(fixture.run_dir, *fixture.method));

  write_bytes(fixture.trainer_json(), "{\"format\": -1e3001, \"winversiz\"}");
  std::string message = error_of([&] { winnow::load_checkpoint(fixture.run_dir, *fixture.method); });
  EXPECT_TRUE(contains(message, fixture.trainer_json()) && contains(message, "not valid JSON")) << message;

  for (const std::string key : {"format", "epochs_done", "samples_trained"}) {
    auto record = nlohmann::ordered_json::parse(valid);
    record[key] = 1e300;
    write_bytes(fixture.trainer_json(), record.dump());
    message = error_of([&] { winnow::load_checkpoint(fixture.run_dir, *fixture.method); });
    EXPECT_TRUE(contains(message, fixture.trainer_json()) && contains(message, key + " = 1e+300 is not an integer"))
        << message;
  }
}

// fuzz_state_archive: state files with a few bytes changed. LibTorch reads records without
// checking their CRCs; on these its unpickler crashed (SIGSEGV in the TorchScript type parser),
// threw std::out_of_range (not a c10::Error, so it escaped load_checkpoint) or sized a 4 GiB
// string from a damaged length. winnow now checks every record's CRC-32 first.
TEST(FuzzRegressions, DamagedStateArchiveIsAnError) {
  TempDir dir("fuzz-state");
  CheckpointFixture fixture(dir);
  for (const std::string name :
       {"state_archive_damaged_segv.pt", "state_archive_damaged_out_of_range.pt", "state_archive_damaged_4gb_string.pt"}) {
    write_bytes(fixture.state_file(), read_bytes(fuzz_data(name)));
    const std::string message = error_of([&] { winnow::load_checkpoint(fixture.run_dir, *fixture.method); });
    EXPECT_TRUE(contains(message, fixture.state_file()) && contains(message, "fails its CRC-32 check"))
        << name << ": " << message;
  }
  // Cut short: no end-of-archive record.
  const std::string valid = read_bytes(fuzz_data("state_archive_damaged_segv.pt"));
  write_bytes(fixture.state_file(), valid.substr(0, valid.size() / 2));
  const std::string message = error_of([&] { winnow::load_checkpoint(fixture.run_dir, *fixture.method); });
  EXPECT_TRUE(contains(message, fixture.state_file()) && contains(message, "damaged")) << message;
}

// The out_of_range archive's damaged pickle, zipped again with valid CRCs: it reaches LibTorch's
// unpickler, whose std::out_of_range load_checkpoint must turn into a winnow::Error.
TEST(FuzzRegressions, StateArchiveTorchRejectsWithAStdExceptionIsAnError) {
  TempDir dir("fuzz-state");
  CheckpointFixture fixture(dir);
  write_bytes(fixture.state_file(), read_bytes(fuzz_data("state_archive_forged_pickle.pt")));
  const std::string message = error_of([&] { winnow::load_checkpoint(fixture.run_dir, *fixture.method); });
  EXPECT_TRUE(contains(message, fixture.state_file()) && contains(message, "cannot load")) << message;
}

// fuzz_config: a --set value that is not TOML is kept as a bare string; one with bytes that
// are not UTF-8 was written to the run's config.toml as other characters (\u00AB for 0xAB).
TEST(FuzzRegressions, SetOverrideRejectsInvalidUtf8) {
  winnow::Config config;
  const std::string message = error_of([&] { config.set_override("optim.lr =dule \xab end"); });
  EXPECT_TRUE(contains(message, "not valid UTF-8")) << message;
  EXPECT_NO_THROW(config.set_override("data.path=caf\xc3\xa9 folder"));
  EXPECT_EQ(config.get<std::string>("data.path", ""), "caf\xc3\xa9 folder");
}

// fuzz_config: a bare string starting with a line break was written as a multi-line literal
// string ('''...'''), whose first line break TOML drops when reading it back.
TEST(FuzzRegressions, ResolvedStringsWithLineBreaksReadBackUnchanged) {
  winnow::Config config;
  config.set_override("optim.lr=\n 1e-3");
  config.set_override("data.path=a\nb\t'c'\"d\\\x7f");
  EXPECT_EQ(config.get<std::string>("optim.lr", ""), "\n 1e-3");
  const std::string path = config.get<std::string>("data.path", "");
  auto again = winnow::Config::from_string(config.resolved_toml());
  EXPECT_EQ(again.get<std::string>("optim.lr", ""), "\n 1e-3");
  EXPECT_EQ(again.get<std::string>("data.path", ""), path);
  EXPECT_EQ(again.resolved_toml(), config.resolved_toml());
}
