// Image folders and image list files (data.format = "folder"): exact pixels for lossless
// formats, class names and labels from folders and lists, channels and resizing, clear errors
// naming the file, the decoded-pixel cache, and training and predicting from the command line.
// Every image is written at test time with stb_image_write.
#include <gtest/gtest.h>
#include <stb/stb_image_write.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fixture_helpers.h"
#include "test_helpers.h"
#include "winnow/core/config.h"
#include "winnow/data/loaders.h"
#include "winnow/engine/data_setup.h"

namespace fs = std::filesystem;
using winnow::Dataset;
using winnow::ImageFolderOptions;
using winnow_test::error_of;
using winnow_test::TempDir;

namespace {

// uint8 [H, W, C] pixels; `fill` gives each byte from (y, x, c).
template <typename F>
std::vector<uint8_t> make_pixels(int w, int h, int c, F fill) {
  std::vector<uint8_t> out(static_cast<size_t>(w * h * c));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < c; ++k) out[(y * w + x) * c + k] = static_cast<uint8_t>(fill(y, x, k));
  return out;
}

void write_image(const std::string& path, int w, int h, int c, const std::vector<uint8_t>& pixels) {
  fs::create_directories(fs::path(path).parent_path());
  std::string ext = fs::path(path).extension().string();
  for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  int ok = 0;
  if (ext == ".png") ok = stbi_write_png(path.c_str(), w, h, c, pixels.data(), w * c);
  if (ext == ".bmp") ok = stbi_write_bmp(path.c_str(), w, h, c, pixels.data());
  if (ext == ".jpg") ok = stbi_write_jpg(path.c_str(), w, h, c, pixels.data(), 95);
  ASSERT_NE(ok, 0) << path;
}

// A w x h image of one value per channel.
void write_constant(const std::string& path, int w, int h, std::vector<int> value) {
  const int c = static_cast<int>(value.size());
  write_image(path, w, h, c, make_pixels(w, h, c, [&](int, int, int k) { return value[k]; }));
}

// The expected float32 [C, H, W] of uint8 [H, W, C] pixels.
torch::Tensor expected(const std::vector<uint8_t>& pixels, int w, int h, int c) {
  auto bytes = torch::from_blob(const_cast<uint8_t*>(pixels.data()), {h, w, c}, torch::kUInt8);
  return bytes.permute({2, 0, 1}).to(torch::kFloat32).div(255.0);
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

// PNG and BMP are lossless: every pixel comes back as byte / 255, grey and RGB, in class then
// file-name order; class names are the subfolders in byte order; other files are skipped.
TEST(ImageFolder, ReadsLosslessPixelsExactlyWithClassesFromFolders) {
  TempDir dir("image-folder");
  auto grey_a = make_pixels(5, 3, 1, [](int y, int x, int) { return 17 * y + 40 * x + 3; });
  auto grey_b = make_pixels(5, 3, 1, [](int y, int x, int) { return 255 - 11 * y - 7 * x; });
  write_image(dir / "grey/b/1.png", 5, 3, 1, grey_b);
  write_image(dir / "grey/B/9.png", 5, 3, 1, grey_a);  // 'B' sorts before 'b' in byte order
  write_text(dir / "grey/b/notes.txt", "not an image");
  write_text(dir / "grey/b/.hidden.png", "skipped");
  auto g = winnow::load_image_folder(dir / "grey");
  ASSERT_EQ(g.inputs.sizes(), torch::IntArrayRef({2, 1, 3, 5}));
  EXPECT_EQ(g.inputs.scalar_type(), torch::kFloat32);
  EXPECT_EQ(g.class_names, (std::vector<std::string>{"B", "b"}));
  EXPECT_EQ(g.num_classes, 2);
  EXPECT_TRUE(torch::equal(g.labels, torch::tensor({0, 1}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(g.inputs[0], expected(grey_a, 5, 3, 1)));
  EXPECT_TRUE(torch::equal(g.inputs[1], expected(grey_b, 5, 3, 1)));

  auto rgb_png = make_pixels(4, 6, 3, [](int y, int x, int k) { return 30 * k + 20 * y + 9 * x; });
  auto rgb_bmp = make_pixels(4, 6, 3, [](int y, int x, int k) { return 250 - 40 * k - 13 * y - x; });
  auto rgb_2 = make_pixels(4, 6, 3, [](int y, int x, int k) { return (y * 4 + x) * 3 + k; });
  write_image(dir / "rgb/cat/z.png", 4, 6, 3, rgb_png);
  write_image(dir / "rgb/cat/a.BMP", 4, 6, 3, rgb_bmp);
  write_image(dir / "rgb/dog/x.bmp", 4, 6, 3, rgb_2);
  auto c = winnow::load_image_folder(dir / "rgb");
  ASSERT_EQ(c.inputs.sizes(), torch::IntArrayRef({3, 3, 6, 4}));
  EXPECT_EQ(c.class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_TRUE(torch::equal(c.labels, torch::tensor({0, 0, 1}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(c.inputs[0], expected(rgb_bmp, 4, 6, 3)));  // a.BMP before z.png
  EXPECT_TRUE(torch::equal(c.inputs[1], expected(rgb_png, 4, 6, 3)));
  EXPECT_TRUE(torch::equal(c.inputs[2], expected(rgb_2, 4, 6, 3)));

  // JPEG is lossy: close, not exact.
  write_constant(dir / "jpg/k/a.jpg", 16, 16, {200, 100, 50});
  write_constant(dir / "jpg/m/a.jpg", 16, 16, {10, 20, 30});
  auto j = winnow::load_image_folder(dir / "jpg");
  ASSERT_EQ(j.inputs.sizes(), torch::IntArrayRef({2, 3, 16, 16}));
  EXPECT_NEAR(j.inputs[0][0].mean().item<double>(), 200.0 / 255, 4.0 / 255);
  EXPECT_NEAR(j.inputs[1][2].mean().item<double>(), 30.0 / 255, 4.0 / 255);
}

// channels = 0: 1 when every image is grey, else 3 with grey images replicated; 1 and 3 force it.
TEST(ImageFolder, ChannelsAutoReplicatesGreyWhenMixed) {
  TempDir dir("image-folder");
  auto grey = make_pixels(3, 2, 1, [](int y, int x, int) { return 10 + 50 * y + 20 * x; });
  auto rgb = make_pixels(3, 2, 3, [](int y, int x, int k) { return 60 * k + 10 * x + y; });
  write_image(dir / "mixed/a/grey.png", 3, 2, 1, grey);
  write_image(dir / "mixed/b/rgb.png", 3, 2, 3, rgb);
  auto mixed = winnow::load_image_folder(dir / "mixed");
  ASSERT_EQ(mixed.inputs.sizes(), torch::IntArrayRef({2, 3, 2, 3}));
  for (int k = 0; k < 3; ++k) EXPECT_TRUE(torch::equal(mixed.inputs[0][k], expected(grey, 3, 2, 1)[0])) << k;
  EXPECT_TRUE(torch::equal(mixed.inputs[1], expected(rgb, 3, 2, 3)));

  ImageFolderOptions one;
  one.channels = 1;
  auto forced = winnow::load_image_folder(dir / "mixed", one);
  ASSERT_EQ(forced.inputs.sizes(), torch::IntArrayRef({2, 1, 2, 3}));
  EXPECT_TRUE(torch::equal(forced.inputs[0], expected(grey, 3, 2, 1)));

  write_image(dir / "grey/a/1.png", 3, 2, 1, grey);
  write_image(dir / "grey/b/2.png", 3, 2, 1, grey);
  EXPECT_EQ(winnow::load_image_folder(dir / "grey").inputs.size(1), 1);
  ImageFolderOptions three;
  three.channels = 3;
  EXPECT_EQ(winnow::load_image_folder(dir / "grey", three).inputs.size(1), 3);
}

// List files: "path label" (space, tab or comma), relative to the list's folder or absolute;
// names give sorted class names, integers none; the file's order is kept.
TEST(ImageFolder, ListFilesWithClassNamesOrIntegers) {
  TempDir dir("image-folder");
  std::vector<std::vector<uint8_t>> images;
  for (int i = 0; i < 4; ++i) {
    images.push_back(make_pixels(2, 2, 1, [i](int y, int x, int) { return 60 * i + 2 * y + x; }));
    write_image(dir / ("data/img/" + std::to_string(i) + ".png"), 2, 2, 1, images.back());
  }
  write_text(dir / "data/names.txt",
             "# path label\n"
             "img/2.png zebra\n"
             "\n"
             "img/0.png,ant\n"
             "  img/1.png\tzebra  \r\n" +
                 (dir / "data/img/3.png") + " , bee\n");
  auto named = winnow::load_image_folder(dir / "data/names.txt");
  EXPECT_EQ(named.class_names, (std::vector<std::string>{"ant", "bee", "zebra"}));
  EXPECT_TRUE(torch::equal(named.labels, torch::tensor({2, 0, 2, 1}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(named.inputs[0], expected(images[2], 2, 2, 1)));
  EXPECT_TRUE(torch::equal(named.inputs[3], expected(images[3], 2, 2, 1)));

  write_text(dir / "data/ints.txt", "img/0.png 3\nimg/1.png 0\nimg/2.png,1\n");
  auto ints = winnow::load_image_folder(dir / "data/ints.txt");
  EXPECT_TRUE(ints.class_names.empty());
  EXPECT_EQ(ints.num_classes, 4);
  EXPECT_TRUE(torch::equal(ints.labels, torch::tensor({3, 0, 1}, torch::kInt64)));
  ImageFolderOptions ten;
  ten.num_classes = 10;
  EXPECT_EQ(winnow::load_image_folder(dir / "data/ints.txt", ten).num_classes, 10);
  ImageFolderOptions two;
  two.num_classes = 2;
  EXPECT_TRUE(has(error_of([&] { winnow::load_image_folder(dir / "data/ints.txt", two); }), "line 1: label 3 is out of range"));

  write_text(dir / "data/bad.txt", "img/0.png 1\nimg/1.png\n");
  const auto malformed = error_of([&] { winnow::load_image_folder(dir / "data/bad.txt"); });
  EXPECT_TRUE(has(malformed, "bad.txt': line 2: 'img/1.png'")) << malformed;
  write_text(dir / "data/missing.txt", "img/0.png 1\nimg/7.png 0\n");
  const auto missing = error_of([&] { winnow::load_image_folder(dir / "data/missing.txt"); });
  EXPECT_TRUE(has(missing, "missing.txt': line 2") && has(missing, "7.png")) << missing;
}

// With image_size = 0 every image must have the first one's size; the error names the file.
TEST(ImageFolder, SizeMismatchNamesTheFile) {
  TempDir dir("image-folder");
  write_constant(dir / "set/a/1.png", 6, 4, {9});
  write_constant(dir / "set/a/2.png", 6, 4, {9});
  write_constant(dir / "set/b/odd.png", 5, 4, {9});
  const auto message = error_of([&] { winnow::load_image_folder(dir / "set"); });
  EXPECT_TRUE(has(message, "odd.png' is 5x4") && has(message, "1.png', is 6x4") && has(message, "data.image_size"))
      << message;
}

// image_size = N resizes every image to N x N (bilinear): a constant image stays constant, a
// ramp keeps its range and order.
TEST(ImageFolder, ResizeGivesTheRequestedShape) {
  TempDir dir("image-folder");
  write_constant(dir / "set/a/big.png", 40, 30, {77, 150, 3});
  write_constant(dir / "set/a/small.png", 5, 7, {200, 10, 99});
  write_image(dir / "set/b/ramp.png", 32, 32, 1, make_pixels(32, 32, 1, [](int, int x, int) { return 8 * x; }));
  ImageFolderOptions options;
  options.image_size = 12;
  auto data = winnow::load_image_folder(dir / "set", options);
  ASSERT_EQ(data.inputs.sizes(), torch::IntArrayRef({3, 3, 12, 12}));
  const std::vector<std::vector<int>> constant = {{77, 150, 3}, {200, 10, 99}};
  for (int i = 0; i < 2; ++i) {
    for (int k = 0; k < 3; ++k) {
      EXPECT_TRUE(torch::equal(data.inputs[i][k], torch::full({12, 12}, constant[i][k] / 255.0f))) << i << " " << k;
    }
  }
  auto ramp = data.inputs[2][0];  // grey, replicated
  EXPECT_TRUE(torch::equal(ramp, data.inputs[2][1]));
  auto row = ramp[5];
  EXPECT_TRUE((row.slice(0, 1) >= row.slice(0, 0, -1)).all().item<bool>());
  EXPECT_LT(row[0].item<double>(), 20.0 / 255);
  EXPECT_GT(row[11].item<double>(), 230.0 / 255);
  EXPECT_TRUE(torch::allclose(ramp[0], ramp[11]));
}

// Unreadable images, empty class folders and empty roots are errors naming the file or folder.
TEST(ImageFolder, CorruptFilesAndEmptyFoldersAreClearErrors) {
  TempDir dir("image-folder");
  write_constant(dir / "set/a/good.png", 4, 4, {1});
  write_constant(dir / "set/b/fine.png", 4, 4, {1});
  {
    std::ofstream out(dir / "set/b/broken.png", std::ios::binary);
    for (int i = 0; i < 300; ++i) out.put(static_cast<char>((i * 7919 + 13) % 251));
  }
  const auto corrupt = error_of([&] { winnow::load_image_folder(dir / "set"); });
  EXPECT_TRUE(has(corrupt, "broken.png'") && has(corrupt, "stb_image")) << corrupt;

  // A valid PNG signature with a truncated body fails in the decoder, also named.
  fs::remove(dir / "set/b/broken.png");
  write_constant(dir / "set/b/cut.png", 64, 64, {1, 2, 3});
  fs::resize_file(dir / "set/b/cut.png", 60);
  const auto truncated = error_of([&] { winnow::load_image_folder(dir / "set"); });
  EXPECT_TRUE(has(truncated, "cut.png'")) << truncated;

  fs::create_directories(dir / "empty_class/a");
  fs::create_directories(dir / "empty_class/b");
  write_constant(dir / "empty_class/a/1.png", 4, 4, {1});
  write_text(dir / "empty_class/b/readme.txt", "no images");
  const auto no_images = error_of([&] { winnow::load_image_folder(dir / "empty_class"); });
  EXPECT_TRUE(has(no_images, "empty_class/b' holds no images")) << no_images;

  fs::create_directories(dir / "empty");
  EXPECT_TRUE(has(error_of([&] { winnow::load_image_folder(dir / "empty"); }), "is empty"));
  write_constant(dir / "flat/1.png", 4, 4, {1});
  EXPECT_TRUE(has(error_of([&] { winnow::load_image_folder(dir / "flat"); }), "no class subfolders"));
  EXPECT_TRUE(has(error_of([&] { winnow::load_image_folder(dir / "nowhere"); }), "no such image folder"));
}

// Through the [data] config: the test folder takes the training class indices, channels and
// size, and must hold the same classes.
TEST(ImageFolder, TestFolderNeedsTheTrainingClasses) {
  TempDir dir("image-folder");
  for (const std::string cls : {"ant", "bee", "cat"}) {
    write_constant(dir / ("train/" + cls + "/1.png"), 6, 6, {cls == "bee" ? 100 : 20});
    write_constant(dir / ("train/" + cls + "/2.png"), 6, 6, {200, 30, 60});  // makes train RGB
  }
  for (const std::string cls : {"bee", "cat", "ant"}) write_constant(dir / ("test/" + cls + "/t.png"), 9, 3, {50});
  auto load = [&](const std::string& test, const std::string& extra = "") {
    auto config = winnow::Config::from_string(fmt::format(
        "[data]\nname = \"custom\"\nformat = \"folder\"\ntrain = \"{}\"\ntest = \"{}\"\nimage_size = 6\n{}",
        dir / "train", test, extra));
    return winnow::load_data(winnow::DataOptions::from_config(config));
  };
  auto loaded = load(dir / "test");
  ASSERT_TRUE(loaded.test.has_value());
  EXPECT_EQ(loaded.train.inputs.sizes(), torch::IntArrayRef({6, 3, 6, 6}));
  EXPECT_EQ(loaded.test->inputs.sizes(), torch::IntArrayRef({3, 3, 6, 6}));  // grey, replicated as train is RGB
  EXPECT_EQ(loaded.test->class_names, loaded.train.class_names);
  EXPECT_TRUE(torch::equal(loaded.test->labels, torch::tensor({0, 1, 2}, torch::kInt64)));

  write_constant(dir / "extra/ant/t.png", 6, 6, {1});
  write_constant(dir / "extra/bee/t.png", 6, 6, {1});
  write_constant(dir / "extra/cat/t.png", 6, 6, {1});
  write_constant(dir / "extra/dog/t.png", 6, 6, {1});
  const auto extra = error_of([&] { load(dir / "extra"); });
  EXPECT_TRUE(has(extra, "class folder 'dog' is not a training class")) << extra;
  fs::remove_all(dir / "extra/dog");
  fs::remove_all(dir / "extra/bee");
  const auto missing = error_of([&] { load(dir / "extra"); });
  EXPECT_TRUE(has(missing, "no folder for training class 'bee'")) << missing;

  // A list of names maps onto the training classes too; an unknown name names its line.
  write_text(dir / "test.txt", "test/cat/t.png cat\ntest/ant/t.png ant\n");
  EXPECT_TRUE(torch::equal(load(dir / "test.txt").test->labels, torch::tensor({2, 0}, torch::kInt64)));
  write_text(dir / "wrong.txt", "test/cat/t.png cat\ntest/ant/t.png gnu\n");
  const auto unknown = error_of([&] { load(dir / "wrong.txt"); });
  EXPECT_TRUE(has(unknown, "wrong.txt': line 2: class 'gnu' is not a training class")) << unknown;

  EXPECT_TRUE(has(error_of([&] { load(dir / "test", "channels = 2\n"); }), "data.channels = 2"));
}

// data.cache: a second load reads the cache (even when a file's bytes changed behind an equal
// size and mtime); a changed mtime or size rebuilds it; a garbage cache file is rebuilt.
TEST(ImageFolder, CacheHitsAndInvalidates) {
  TempDir dir("image-folder");
  write_constant(dir / "set/a/1.png", 5, 5, {10, 20, 30});
  write_constant(dir / "set/b/2.png", 5, 5, {40, 50, 60});
  ImageFolderOptions options;
  options.cache = dir / "cache";
  auto first = winnow::load_image_folder(dir / "set", options);
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir / "cache")) files.push_back(entry.path());
  ASSERT_EQ(files.size(), 1u);  // no temporary left behind
  EXPECT_EQ(files[0].extension(), ".pt");

  // Same size and mtime, other pixels: the cache answers, so the old pixels come back.
  const std::string image = dir / "set/b/2.png";
  const auto size = fs::file_size(image);
  const auto mtime = fs::last_write_time(image);
  write_constant(image, 5, 5, {41, 50, 60});
  ASSERT_EQ(fs::file_size(image), size);
  fs::last_write_time(image, mtime);
  auto second = winnow::load_image_folder(dir / "set", options);
  EXPECT_TRUE(torch::equal(second.inputs, first.inputs));
  EXPECT_TRUE(torch::equal(second.labels, first.labels));
  EXPECT_EQ(second.class_names, first.class_names);

  // A new mtime invalidates it.
  fs::last_write_time(image, mtime + std::chrono::seconds(5));
  auto third = winnow::load_image_folder(dir / "set", options);
  EXPECT_FLOAT_EQ(third.inputs[1][0][0][0].item<float>(), 41.0f / 255);
  EXPECT_TRUE(torch::equal(third.inputs[0], first.inputs[0]));

  // Another image size is another cache file; a garbage cache file is rebuilt, never trusted.
  ImageFolderOptions resized = options;
  resized.image_size = 3;
  EXPECT_EQ(winnow::load_image_folder(dir / "set", resized).inputs.size(2), 3);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "cache"), fs::directory_iterator()), 2);
  write_text(files[0].string(), "garbage");
  auto rebuilt = winnow::load_image_folder(dir / "set", options);
  EXPECT_TRUE(torch::equal(rebuilt.inputs, third.inputs));
  EXPECT_GT(fs::file_size(files[0]), 100u);
}

// End to end: `winnow train` on a tiny image folder, then `winnow predict` on a flat folder
// (rows start with the image path) and on a folder of class subfolders (labels known).
TEST(ImageFolder, TrainAndPredictFromTheCommandLine) {
  TempDir dir("image-folder");
  // Two classes: dark images with a bright left half, and bright images with a dark left half.
  auto draw = [&](const std::string& path, int cls, int seed, int w, int h) {
    write_image(path, w, h, 1, make_pixels(w, h, 1, [&](int y, int x, int) {
                  const int noise = (seed * 37 + y * 11 + x * 5) % 40;
                  const bool left = x < w / 2;
                  return (left == (cls == 0) ? 200 : 30) + noise;
                }));
  };
  for (int i = 0; i < 24; ++i) {
    draw(dir / fmt::format("train/{}/{:02d}.png", i % 2 ? "right" : "left", i), i % 2, i, 10, 10);
  }
  for (int i = 0; i < 6; ++i) {
    draw(dir / fmt::format("test/{}/{:02d}.png", i % 2 ? "right" : "left", i), i % 2, 100 + i, 10, 10);
    draw(dir / fmt::format("new/img{}.png", i), i % 2, 200 + i, 14, 14);  // resized to 8 x 8
  }
  write_text(dir / "run.toml", fmt::format(R"([data]
name = "custom"
format = "folder"
train = "{}"
test = "{}"
image_size = 8
val_fraction = 0.25
cache = "{}"
[method]
name = "standard"
[model]
name = "mlp"
[train]
epochs = 2
batch_size = 8
threads = 1
)",
                                           dir / "train", dir / "test", dir / "cache"));
  auto train = winnow_test::run_cli("train --config " + (dir / "run.toml") + " --quiet --out " + (dir / "run"));
  ASSERT_EQ(train.status, 0) << train.output;
  ASSERT_TRUE(fs::exists(dir / "run/summary.json"));

  auto flat = winnow_test::run_cli("predict --run " + (dir / "run") + " --input " + (dir / "new") + " --out " +
                                   (dir / "new.csv"));
  ASSERT_EQ(flat.status, 0) << flat.output;
  auto rows = winnow_test::read_lines(dir / "new.csv");
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(rows[0], "path,predicted,predicted_name,probability");
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(rows[i + 1].rfind((dir / "new") + "/img" + std::to_string(i) + ".png,", 0), 0u) << rows[i + 1];
    EXPECT_TRUE(has(rows[i + 1], ",left,") || has(rows[i + 1], ",right,")) << rows[i + 1];
  }

  auto labelled = winnow_test::run_cli("predict --run " + (dir / "run") + " --input " + (dir / "test") + " --out " +
                                       (dir / "test.csv"));
  ASSERT_EQ(labelled.status, 0) << labelled.output;
  auto test_rows = winnow_test::read_lines(dir / "test.csv");
  ASSERT_EQ(test_rows.size(), 7u);
  EXPECT_EQ(test_rows[0], "path,predicted,predicted_name,probability,label,label_name");
  EXPECT_TRUE(has(test_rows[1], "/test/left/00.png,") && has(test_rows[1], ",0,left")) << test_rows[1];
}
