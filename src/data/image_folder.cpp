// Image folders and image list files, decoded by stb_image (Debian's libstb, linked as a
// library: no STB_IMAGE_IMPLEMENTATION here). Every file is read into memory and its header
// probed in parallel; then channels and size are settled and the images are decoded in
// parallel straight into one uint8 [N, H, W, C] tensor (resized by stb_image_resize's
// triangle filter: bilinear, antialiased when shrinking); the float conversion is one
// vectorised op. Errors are reported for the first bad file in sample order, whichever
// thread met it. The decoded pixels can be cached (torch::save) in a folder of the user's.
#include <ATen/Parallel.h>
#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <array>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include <fmt/ranges.h>

#include "data/io.h"
#include "core/zip_check.h"
#include "winnow/core/error.h"
#include "winnow/data/loaders.h"
#include "winnow/report/files.h"

namespace winnow {
namespace fs = std::filesystem;
namespace {

using detail::for_each_line;
using detail::trim;

constexpr int64_t kCacheVersion = 1;

bool is_hidden(const fs::path& path) {
  const std::string name = path.filename().string();
  return name.empty() || name[0] == '.';
}

bool is_image_name(const fs::path& path) {
  static const std::array<std::string_view, 8> kExtensions = {".png", ".jpg", ".jpeg", ".bmp",
                                                              ".gif", ".tga", ".pgm", ".ppm"};
  if (is_hidden(path)) return false;
  std::string extension = path.extension().string();
  for (char& c : extension) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return std::find(kExtensions.begin(), kExtensions.end(), extension) != kExtensions.end();
}

// The image files directly inside `folder`, sorted by name (byte order).
std::vector<std::string> list_images(const fs::path& folder) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ignored;
    if (is_image_name(it->path()) && it->is_regular_file(ignored)) names.push_back(it->path().filename().string());
  }
  require(!ec, "cannot list '{}': {}", folder.string(), ec.message());
  std::sort(names.begin(), names.end());
  std::vector<std::string> paths;
  paths.reserve(names.size());
  for (const auto& name : names) paths.push_back((folder / name).string());
  return paths;
}

// The files of a data set and the label text of each (a class name or an integer).
struct ImageList {
  std::string source;                  // the root folder or the list file
  bool is_list = false;
  std::vector<std::string> paths;
  std::vector<std::string> label_text;
  std::vector<int64_t> lines;          // list files: each sample's line, for messages
  std::vector<std::string> folder_classes;  // folders: the class subfolders, sorted
  bool integer_labels = false;

  std::string where(size_t i) const {
    return is_list ? fmt::format("'{}': line {}", source, lines[i]) : fmt::format("'{}'", paths[i]);
  }
};

ImageList list_class_folders(const std::string& root) {
  ImageList list;
  list.source = root;
  size_t loose_images = 0;
  std::error_code ec;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ignored;
    if (it->is_directory(ignored)) {
      if (!is_hidden(it->path())) list.folder_classes.push_back(it->path().filename().string());
    } else if (is_image_name(it->path())) {
      ++loose_images;
    }
  }
  require(!ec, "cannot list '{}': {}", root, ec.message());
  if (list.folder_classes.empty()) {
    if (loose_images > 0) {
      fail("'{}' has no class subfolders but holds {} image{} directly: a labelled image folder needs one "
           "subfolder per class",
           root, loose_images, loose_images == 1 ? "" : "s");
    }
    fail("'{}' is empty: an image folder needs one subfolder of images per class", root);
  }
  std::sort(list.folder_classes.begin(), list.folder_classes.end());
  for (const auto& name : list.folder_classes) {
    const fs::path folder = fs::path(root) / name;
    auto images = list_images(folder);
    require(!images.empty(), "class folder '{}' holds no images (.png .jpg .jpeg .bmp .gif .tga .pgm .ppm)",
            folder.string());
    for (auto& path : images) {
      list.paths.push_back(std::move(path));
      list.label_text.push_back(name);
    }
  }
  return list;
}

bool parse_integer(std::string_view text, int64_t& value) {
  const auto [stop, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && stop == text.data() + text.size();
}

ImageList read_image_list(const std::string& file) {
  ImageList list;
  list.source = file;
  list.is_list = true;
  std::ifstream in(file, std::ios::binary);
  require(in.good(), "cannot open '{}': {}", file, std::strerror(errno));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const fs::path base = fs::path(file).parent_path();
  for_each_line(text, [&](int64_t line_number, std::string_view line) {
    if (line.empty() || line.front() == '#') return;
    // The label is the last field; the path is everything before it (it may hold spaces).
    const size_t cut = line.find_last_of(" \t,");
    std::string_view path = cut == std::string_view::npos ? std::string_view() : trim(line.substr(0, cut));
    if (!path.empty() && path.back() == ',') path = trim(path.substr(0, path.size() - 1));
    const std::string_view label = cut == std::string_view::npos ? std::string_view() : line.substr(cut + 1);
    require(!path.empty() && !label.empty(), "'{}': line {}: '{}' is not '<image path> <label>'", file, line_number,
            line);
    fs::path image(path);
    if (image.is_relative()) image = base / image;
    std::error_code ec;
    require(fs::is_regular_file(image, ec), "'{}': line {}: image '{}' is not a file", file, line_number,
            image.string());
    list.paths.push_back(image.string());
    list.label_text.emplace_back(label);
    list.lines.push_back(line_number);
  });
  require(!list.paths.empty(), "'{}': no images listed (expected lines '<image path> <label>')", file);
  list.integer_labels = true;
  int64_t ignored = 0;
  for (const auto& label : list.label_text) list.integer_labels = list.integer_labels && parse_integer(label, ignored);
  return list;
}

ImageList list_labelled(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return list_class_folders(path);
  require(fs::exists(path, ec), "'{}': no such image folder or list file", path);
  return read_image_list(path);
}

// Labels, classes and num_classes of `list`: its own, or those of `train` (a test split).
void assign_labels(const ImageList& list, const ImageFolderOptions& options, const Dataset* train, Dataset& data) {
  const size_t n = list.paths.size();
  std::vector<int64_t> labels(n);
  if (list.integer_labels) {
    for (size_t i = 0; i < n; ++i) {
      parse_integer(list.label_text[i], labels[i]);
      require(labels[i] >= 0, "{}: label {} is negative", list.where(i), labels[i]);
    }
    const int64_t highest = *std::max_element(labels.begin(), labels.end());
    data.num_classes = train ? train->num_classes : options.num_classes > 0 ? options.num_classes : highest + 1;
    data.class_names = train ? train->class_names : std::vector<std::string>{};
    for (size_t i = 0; i < n; ++i) {
      require(labels[i] < data.num_classes, "{}: label {} is out of range [0, {}]", list.where(i), labels[i],
              data.num_classes - 1);
    }
  } else {
    std::vector<std::string> classes;
    if (train) {
      require(!train->class_names.empty(),
              "'{}': labels are class names, but the training labels are integers with no class names to match",
              list.source);
      classes = train->class_names;
      if (!list.is_list) {
        // A class folder set must be the training set's, one for one.
        for (const auto& name : list.folder_classes) {
          require(std::find(classes.begin(), classes.end(), name) != classes.end(),
                  "'{}': class folder '{}' is not a training class (training classes: {})", list.source, name,
                  fmt::join(classes, ", "));
        }
        for (const auto& name : classes) {
          require(std::binary_search(list.folder_classes.begin(), list.folder_classes.end(), name),
                  "'{}' has no folder for training class '{}' (a test folder needs every training class)",
                  list.source, name);
        }
      }
    } else if (list.is_list) {
      std::set<std::string> unique(list.label_text.begin(), list.label_text.end());
      classes.assign(unique.begin(), unique.end());
    } else {
      classes = list.folder_classes;
    }
    require(train || options.num_classes == 0 || options.num_classes == static_cast<int64_t>(classes.size()),
            "'{}' has {} classes but data.num_classes = {}", list.source, classes.size(), options.num_classes);
    std::unordered_map<std::string, int64_t> index;
    for (size_t k = 0; k < classes.size(); ++k) index.emplace(classes[k], static_cast<int64_t>(k));
    for (size_t i = 0; i < n; ++i) {
      const auto at = index.find(list.label_text[i]);
      require(at != index.end(), "{}: class '{}' is not a training class (training classes: {})", list.where(i),
              list.label_text[i], fmt::join(classes, ", "));
      labels[i] = at->second;
    }
    data.class_names = classes;
    data.num_classes = static_cast<int64_t>(classes.size());
  }
  data.labels = torch::tensor(labels, torch::kInt64);
}

// ---- Decoding

struct Probe {
  int width = 0;
  int height = 0;
  int components = 0;
};

std::string stb_reason() {
  const char* reason = stbi_failure_reason();
  return reason ? reason : "unknown error";
}

// Throws the first message of `errors` (in sample order), if any.
void throw_first(const std::vector<std::string>& errors) {
  for (const auto& error : errors) {
    if (!error.empty()) throw Error(error);
  }
}

// Reads the file into `out`; returns an error message, or "" on success.
std::string read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return fmt::format("cannot read image '{}': {}", path, std::error_code(errno, std::generic_category()).message());
  const std::streamoff size = in.tellg();
  if (size < 0) return fmt::format("cannot read image '{}'", path);
  if (size > std::numeric_limits<int>::max()) return fmt::format("image '{}' is too large ({} bytes)", path, size);
  out.resize(static_cast<size_t>(size));
  in.seekg(0);
  if (!in.read(out.data(), size)) return fmt::format("cannot read image '{}': read failed", path);
  return {};
}

const stbi_uc* bytes_of(const std::string& s) { return reinterpret_cast<const stbi_uc*>(s.data()); }

// Binary PGM/PPM (P5, P6) hold their pixels uncompressed after the header, and stb_image
// decodes a file cut short without complaint (the missing pixels are left uninitialised): such a
// file must hold at least the header's pixel bytes.
// Returns the length of a binary PNM's header as stb_image reads it (magic; width, height and
// maxval, each after whitespace or '#' comments, a missing number read as 0; then the one byte
// after maxval), or 0 when `bytes` is not a binary PNM.
size_t binary_pnm_header_bytes(const std::string& bytes) {
  if (bytes.size() < 2 || bytes[0] != 'P' || (bytes[1] != '5' && bytes[1] != '6')) return 0;
  size_t at = 2;
  for (int field = 0; field < 3; ++field) {
    while (at < bytes.size() && (std::isspace(static_cast<unsigned char>(bytes[at])) || bytes[at] == '#')) {
      if (bytes[at] == '#') {
        while (at < bytes.size() && bytes[at] != '\n' && bytes[at] != '\r') ++at;
      } else {
        ++at;
      }
    }
    while (at < bytes.size() && std::isdigit(static_cast<unsigned char>(bytes[at]))) ++at;
  }
  return std::min(at + 1, bytes.size());
}

// uint8 [N, C, H, W]: the decoded images.
torch::Tensor decode_images(const std::vector<std::string>& paths, int64_t channels, int64_t image_size,
                            int64_t max_pixels) {
  const auto n = static_cast<int64_t>(paths.size());
  std::vector<std::string> bytes(paths.size());
  std::vector<Probe> probes(paths.size());
  std::vector<std::string> errors(paths.size());
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      errors[i] = read_file(paths[i], bytes[i]);
      if (!errors[i].empty()) continue;
      Probe& p = probes[i];
      if (!stbi_info_from_memory(bytes_of(bytes[i]), static_cast<int>(bytes[i].size()), &p.width, &p.height,
                                 &p.components)) {
        errors[i] = fmt::format("'{}': not an image stb_image can read: {}", paths[i], stb_reason());
      } else if (p.width <= 0 || p.height <= 0) {
        // stb_image accepts a PNM header of size 0 (and would hand the resizer an empty image).
        errors[i] = fmt::format("'{}': the image header gives a size of {}x{} (width x height); an image needs "
                                "at least one pixel",
                                paths[i], p.width, p.height);
      } else if (int64_t{p.width} * p.height > max_pixels) {
        errors[i] = fmt::format("'{}': the image header gives {}x{} (width x height) = {} pixels, above "
                                "data.max_image_pixels = {} (a damaged header? raise the limit for images this large)",
                                paths[i], p.width, p.height, int64_t{p.width} * p.height, max_pixels);
      } else if (const size_t header = binary_pnm_header_bytes(bytes[i]); header > 0) {
        const int64_t channel_bytes =
            stbi_is_16_bit_from_memory(bytes_of(bytes[i]), static_cast<int>(bytes[i].size())) ? 2 : 1;
        const int64_t pixel_bytes = int64_t{p.width} * p.height * p.components * channel_bytes;
        const auto held = static_cast<int64_t>(bytes[i].size() - header);
        if (held < pixel_bytes) {
          errors[i] = fmt::format("'{}': the file is cut short: its PNM header gives {}x{} with {} channel(s), {} bytes "
                                  "of pixels, but the file holds {} bytes after the header",
                                  paths[i], p.width, p.height, p.components, pixel_bytes, held);
        }
      }
    }
  });
  throw_first(errors);

  // Grey (with or without alpha) is 1 or 2 components; alpha is dropped.
  if (channels == 0) {
    channels = std::all_of(probes.begin(), probes.end(), [](const Probe& p) { return p.components <= 2; }) ? 1 : 3;
  }
  int64_t height = image_size;
  int64_t width = image_size;
  if (image_size == 0) {
    height = probes[0].height;
    width = probes[0].width;
    for (size_t i = 1; i < probes.size(); ++i) {
      require(probes[i].width == width && probes[i].height == height,
              "'{}' is {}x{} (width x height) but the first image, '{}', is {}x{}: images must all have the same "
              "size, or set data.image_size to resize them",
              paths[i], probes[i].width, probes[i].height, paths[0], width, height);
    }
  }

  auto out = torch::empty({n, height, width, channels}, torch::kUInt8);
  uint8_t* const base = out.data_ptr<uint8_t>();
  const int64_t image_bytes = height * width * channels;
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      int w = 0, h = 0, components = 0;
      stbi_uc* pixels = stbi_load_from_memory(bytes_of(bytes[i]), static_cast<int>(bytes[i].size()), &w, &h,
                                              &components, static_cast<int>(channels));
      std::string().swap(bytes[i]);
      if (pixels == nullptr) {
        errors[i] = fmt::format("'{}': cannot decode the image: {}", paths[i], stb_reason());
        continue;
      }
      if (w <= 0 || h <= 0) {
        errors[i] = fmt::format("'{}': decoded as {}x{}, an image needs at least one pixel", paths[i], w, h);
        stbi_image_free(pixels);
        continue;
      }
      uint8_t* dst = base + i * image_bytes;
      if (w == width && h == height) {
        std::memcpy(dst, pixels, static_cast<size_t>(image_bytes));
      } else if (image_size == 0) {
        errors[i] = fmt::format("'{}': decoded as {}x{}, its header says {}x{}", paths[i], w, h, width, height);
      } else if (!stbir_resize_uint8_generic(pixels, w, h, 0, dst, static_cast<int>(width), static_cast<int>(height),
                                             0, static_cast<int>(channels), STBIR_ALPHA_CHANNEL_NONE, 0,
                                             STBIR_EDGE_CLAMP, STBIR_FILTER_TRIANGLE, STBIR_COLORSPACE_LINEAR,
                                             nullptr)) {
        errors[i] = fmt::format("'{}': cannot resize the {}x{} image to {}x{}", paths[i], w, h, width, height);
      }
      stbi_image_free(pixels);
    }
  });
  throw_first(errors);
  return out.permute({0, 3, 1, 2}).contiguous();
}

// ---- Cache: one file per (source, image size, channels), holding a key of every file's path,
// size and mtime; anything that does not match exactly is rebuilt.

uint64_t fnv1a(uint64_t hash, const void* data, size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) hash = (hash ^ p[i]) * 0x100000001b3ULL;
  return hash;
}
constexpr uint64_t kFnvBasis = 0xcbf29ce484222325ULL;

std::string absolute_path(const std::string& path) {
  std::error_code ec;
  const fs::path absolute = fs::absolute(path, ec);
  return ec ? path : absolute.lexically_normal().string();
}

std::string cache_path(const std::string& folder, const std::string& source, int64_t channels, int64_t image_size) {
  const std::string id = fmt::format("{}\n{}\n{}", absolute_path(source), image_size, channels);
  return (fs::path(folder) / fmt::format("images-{:016x}.pt", fnv1a(kFnvBasis, id.data(), id.size()))).string();
}

uint64_t content_key(const std::vector<std::string>& paths) {
  uint64_t hash = fnv1a(kFnvBasis, &kCacheVersion, sizeof kCacheVersion);
  for (const auto& path : paths) {
    std::error_code ec;
    const auto size = static_cast<int64_t>(fs::file_size(path, ec));
    require(!ec, "cannot read image '{}': {}", path, ec.message());
    const int64_t mtime = fs::last_write_time(path, ec).time_since_epoch().count();
    require(!ec, "cannot read image '{}': {}", path, ec.message());
    const std::string name = absolute_path(path);
    hash = fnv1a(hash, name.data(), name.size() + 1);  // with its terminating NUL
    hash = fnv1a(hash, &size, sizeof size);
    hash = fnv1a(hash, &mtime, sizeof mtime);
  }
  return hash;
}

torch::Tensor key_tensor(uint64_t key, int64_t n) {
  return torch::tensor({kCacheVersion, static_cast<int64_t>(key), n}, torch::kInt64);
}

// The cached pixels, or an undefined tensor when the cache is missing, unreadable or stale.
torch::Tensor read_cache(const std::string& file, uint64_t key, int64_t n, int64_t channels, int64_t image_size) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return {};
  std::vector<torch::Tensor> saved;
  try {
    // A damaged cache is rebuilt: its records' CRCs are checked first, as LibTorch does not.
    detail::check_zip_archive(file, "image cache");
    torch::load(saved, file);
  } catch (const std::exception&) {
    return {};
  }
  if (saved.size() != 2) return {};
  const auto& stored_key = saved[0];
  const auto& x = saved[1];
  if (stored_key.scalar_type() != torch::kInt64 || stored_key.numel() != 3 ||
      !torch::equal(stored_key.reshape({3}), key_tensor(key, n))) {
    return {};
  }
  if (x.scalar_type() != torch::kUInt8 || x.dim() != 4 || x.size(0) != n) return {};
  if (channels != 0 ? x.size(1) != channels : (x.size(1) != 1 && x.size(1) != 3)) return {};
  if (image_size != 0 && (x.size(2) != image_size || x.size(3) != image_size)) return {};
  return x.contiguous();
}

void write_cache(const std::string& file, uint64_t key, const torch::Tensor& pixels) {
  std::error_code ec;
  fs::create_directories(fs::path(file).parent_path(), ec);
  require(!ec, "image cache: cannot create the folder '{}': {}", fs::path(file).parent_path().string(), ec.message());
  // Serialised in memory, then written atomically with the system's reason on failure:
  // LibTorch's file writer would finish the zip in a destructor, where a full disk terminates.
  std::ostringstream bytes;
  torch::save(std::vector<torch::Tensor>{key_tensor(key, pixels.size(0)), pixels}, bytes);
  try {
    atomic_write_text(file, bytes.str());
  } catch (const Error& e) {
    fail("image cache: {}", e.what());
  }
}

// float32 [N, C, H, W] in [0, 1]: the images of `paths`, through the cache where one is set.
torch::Tensor load_pixels(const std::vector<std::string>& paths, const std::string& source,
                          const ImageFolderOptions& options) {
  require(options.channels == 0 || options.channels == 1 || options.channels == 3,
          "image channels = {}: allowed 0 (auto), 1 or 3", options.channels);
  require(options.image_size >= 0, "image size = {}: must be >= 0 (0: keep the images' size)", options.image_size);
  torch::Tensor pixels;
  if (options.cache.empty()) {
    pixels = decode_images(paths, options.channels, options.image_size, options.max_pixels);
  } else {
    const std::string file = cache_path(options.cache, source, options.channels, options.image_size);
    const uint64_t key = content_key(paths);
    const auto n = static_cast<int64_t>(paths.size());
    pixels = read_cache(file, key, n, options.channels, options.image_size);
    if (!pixels.defined()) {
      pixels = decode_images(paths, options.channels, options.image_size, options.max_pixels);
      write_cache(file, key, pixels);
    }
  }
  return pixels.to(torch::kFloat32).div_(255.0);
}

Dataset load_labelled(const std::string& path, const ImageFolderOptions& options, const Dataset* train,
                      std::vector<std::string>* paths) {
  const ImageList list = list_labelled(path);
  Dataset data;
  data.name = path;
  assign_labels(list, options, train, data);
  data.inputs = load_pixels(list.paths, path, options);
  if (paths) *paths = list.paths;
  data.validate();
  return data;
}

}  // namespace

Dataset load_image_folder(const std::string& path, const ImageFolderOptions& options,
                          std::vector<std::string>* paths) {
  return load_labelled(path, options, nullptr, paths);
}

Dataset load_image_folder_like(const std::string& path, const Dataset& train, const ImageFolderOptions& options,
                               std::vector<std::string>* paths) {
  require(train.inputs.defined() && train.inputs.dim() == 4, "'{}': the training inputs are not images [N, C, H, W]",
          path);
  ImageFolderOptions like = options;
  like.channels = train.inputs.size(1);
  like.num_classes = train.num_classes;
  Dataset data = load_labelled(path, like, &train, paths);
  const auto expected = train.sample_shape();
  const auto got = data.sample_shape();
  require(got == expected, "'{}': images are [{}] (channels, height, width), the training images are [{}]", path,
          fmt::join(got, ", "), fmt::join(expected, ", "));
  return data;
}

torch::Tensor load_image_files(const std::string& folder, const ImageFolderOptions& options,
                               std::vector<std::string>* paths) {
  std::error_code ec;
  require(fs::is_directory(folder, ec), "'{}' is not a folder", folder);
  auto images = list_images(folder);
  require(!images.empty(), "'{}' holds no images (.png .jpg .jpeg .bmp .gif .tga .pgm .ppm)", folder);
  auto inputs = load_pixels(images, folder, options);
  if (paths) *paths = std::move(images);
  return inputs;
}

bool holds_images(const std::string& folder) {
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ignored;
    if (is_image_name(it->path()) && it->is_regular_file(ignored)) return true;
  }
  return false;
}

}  // namespace winnow
