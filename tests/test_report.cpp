// `winnow report`: SVG charts, PNG thumbnails, the precision-recall curve against sklearn,
// the page's sections, the CLI on real runs, and the page rendered in headless Chromium.
#include <gtest/gtest.h>

#include <stb/stb_image.h>

#include <cstdlib>
#include <filesystem>
#include <regex>

#include "test_helpers.h"
#include "winnow/core/error.h"
#include "winnow/engine/report.h"
#include "winnow/report/files.h"
#include "winnow/report/html_report.h"
#include "winnow/report/png.h"
#include "winnow/report/progress.h"
#include "winnow/report/svg.h"

using namespace winnow;
using winnow_test::run_cli;
using winnow_test::TempDir;

namespace {

size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
  return n;
}

// Rows in rank order from clean scores (ascending) and whether each label is wrong.
std::vector<SampleRow> ranked(const std::vector<double>& scores, const std::vector<int>& wrong) {
  std::vector<SampleRow> rows;
  for (size_t i = 0; i < scores.size(); ++i) {
    SampleRow r;
    r.rank = static_cast<int64_t>(i) + 1;
    r.index = static_cast<int64_t>(i);
    r.given = 0;
    r.truth = wrong[i] ? 1 : 0;
    r.predicted = r.truth;
    r.clean_score = scores[i];
    r.suspect = scores[i] < 0.5;
    rows.push_back(r);
  }
  return rows;
}

// A run with every part the page draws, made up: curves, matrices, samples, a thumbnail.
ReportRun synthetic_run(const std::string& name) {
  ReportRun run;
  run.name = run.dir = name;
  run.class_names = {"cat", "dog", "<wolf>"};
  run.summary = {{"method", "coteaching: mlp"}, {"noise", "symmetric rate=0.3"}, {"actual_noise_rate", 0.3},
                 {"best_test_accuracy", 90.5}, {"final_test_accuracy", 89.0},
                 {"detection", {{"precision", 0.8}, {"recall", 0.7}, {"f1", 0.75}, {"auroc", 0.9}}},
                 {"test_confusion", {{50, 3, 1}, {2, 40, 8}, {0, 5, 45}}}};
  run.noise = {{"description", "symmetric rate=0.3"}, {"actual_rate", 0.3},
               {"transition", {{0.7, 0.15, 0.15}, {0.15, 0.7, 0.15}, {0.15, 0.15, 0.7}}}};
  run.estimate = {{"noise_rate", 0.28}, {"transition_matrix", {{0.72, 0.14, 0.14}, {0.1, 0.8, 0.1}, {0.2, 0.1, 0.7}}}};
  for (int e = 1; e <= 4; ++e) {
    run.metrics.push_back({{"epoch", e}, {"train_loss", 1.0 / e}, {"train_accuracy", 50 + e}, {"val_accuracy", 48 + e},
                           {"test_accuracy", 80 + e}});
  }
  run.samples = ranked({0.01, 0.02, 0.2, 0.6, 0.9}, {1, 1, 0, 0, 0});
  run.has_truth = true;
  run.thumbnails.push_back({png_data_uri(torch::rand({1, 8, 8})), run.samples[0]});
  return run;
}

// Chromium from Debian's package (scripts/setup.sh installs it); empty where absent.
std::string chromium() {
  for (const char* path : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (std::filesystem::exists(path)) return path;
  }
  return "";
}

struct Rendered {
  std::string dom;
  int status = -1;
};

// The page as headless Chromium leaves it after its scripts ran, plus a screenshot.
Rendered render_in_chromium(const std::string& html_path, const std::string& screenshot) {
  const std::string flags = "--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
                            "--user-data-dir=" + html_path + ".profile";
  Rendered out;
  const std::string dump = "timeout 120 " + chromium() + " " + flags + " --dump-dom file://" + html_path + " 2>/dev/null";
  FILE* pipe = ::popen(dump.c_str(), "r");
  char buffer[65536];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.dom.append(buffer, n);
  out.status = ::pclose(pipe);
  const std::string shot = "timeout 120 " + chromium() + " " + flags + " --window-size=1400,2000 --screenshot=" +
                           screenshot + " file://" + html_path + " > /dev/null 2>&1";
  EXPECT_EQ(std::system(shot.c_str()), 0) << shot;
  return out;
}

void expect_renders_cleanly(const std::string& html_path, const TempDir& dir) {
  const std::string screenshot = dir / "page.png";
  Rendered page = render_in_chromium(html_path, screenshot);
  ASSERT_EQ(page.status, 0) << "chromium --dump-dom failed";
  std::smatch ready;
  ASSERT_TRUE(std::regex_search(page.dom, ready, std::regex("data-report-ready=\"(\\d+)\"")))
      << "the page's last script did not run: " << page.dom.substr(0, 400);
  EXPECT_GE(std::stoi(ready[1]), 4) << "charts the browser saw";
  EXPECT_EQ(page.dom.find("data-script-errors=\""), std::string::npos) << "script errors in the page: " << page.dom.substr(0, 300);
  int width = 0, height = 0, channels = 0;
  ASSERT_EQ(stbi_info(screenshot.c_str(), &width, &height, &channels), 1) << "no PNG screenshot";
  EXPECT_EQ(width, 1400);
  EXPECT_EQ(height, 2000);
}

}  // namespace

TEST(ReportSvg, EscapesMarkupAndBinsValues) {
  EXPECT_EQ(svg::escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  // [0, 0.25) [0.25, 0.5) [0.5, 0.75) [0.75, 1]; values outside go to the end bins, NaN nowhere.
  EXPECT_EQ(svg::bin_counts({0.0, 0.1, 0.25, 0.5, 0.99, 1.0, -3.0, 7.0, std::nan("")}, 4),
            (std::vector<int64_t>{3, 1, 1, 3}));
}

TEST(ReportSvg, ChartsDrawEverySeriesCellAndBar) {
  svg::Axes axes;
  axes.title = "t<1>";
  const std::string lines = svg::line_chart({{"a", {1, 2, 3}, {1, std::nan(""), 3}, "", false},
                                             {"b", {1, 2, 3}, {2, 2, 2}, "", true}},
                                            axes, {{2, 2, "here"}});
  // A NaN breaks series a into two single points: two polylines, plus one for b.
  EXPECT_EQ(count(lines, "<polyline"), 3u);
  EXPECT_EQ(count(lines, "stroke-dasharray"), 2u);  // b's line and its legend entry
  EXPECT_NE(lines.find("t&lt;1&gt;"), std::string::npos);
  EXPECT_NE(lines.find(">here<"), std::string::npos);
  const std::string map = svg::heatmap({{0, 2}, {3, 4}}, {"x", "y"}, {"x", "y"}, "m", "true", "given", false);
  EXPECT_EQ(count(map, "<rect x="), 4u);
  EXPECT_NE(map.find("rgb(31,119,180)"), std::string::npos) << "the largest cell takes the full colour";
  EXPECT_NE(map.find("rgb(255,255,255)"), std::string::npos) << "... and zero none";
  const std::string bars = svg::histogram({{"g", {0, 2, 5}, ""}}, axes);
  EXPECT_EQ(count(bars, "fill-opacity=\"0.6\"><title>"), 2u) << "empty bins draw nothing";
}

TEST(ReportPng, Base64MatchesRfc4648Vectors) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
  EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64(std::string("\xff\x00\x80", 3)), "/wCA");
}

TEST(ReportPng, EncodedImageDecodesToTheSamePixels) {
  // 2 x 3 RGB, values on the byte grid so rounding is exact.
  auto image = torch::arange(18, torch::kFloat32).reshape({3, 2, 3}).mul(10).div(255);
  const std::string png = encode_png(image);
  int width = 0, height = 0, channels = 0;
  unsigned char* pixels = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(png.data()),
                                                static_cast<int>(png.size()), &width, &height, &channels, 0);
  ASSERT_NE(pixels, nullptr);
  EXPECT_EQ(width, 3);
  EXPECT_EQ(height, 2);
  EXPECT_EQ(channels, 3);
  // stb gives [H, W, C]; value of channel c at (y, x) is 10 * (c * 6 + y * 3 + x).
  for (int y = 0; y < 2; ++y) {
    for (int x = 0; x < 3; ++x) {
      for (int c = 0; c < 3; ++c) EXPECT_EQ(pixels[(y * 3 + x) * 3 + c], 10 * (c * 6 + y * 3 + x));
    }
  }
  stbi_image_free(pixels);
  EXPECT_EQ(png_data_uri(image).rfind("data:image/png;base64,iVBORw0KGgo", 0), 0u);  // the PNG signature
  EXPECT_THROW(encode_png(torch::rand({2, 4, 4})), Error);
}

TEST(ReportPrecisionRecall, AveragePrecisionMatchesSklearn) {
  // Expected values from scikit-learn 1.2 (Debian's python3-sklearn):
  //   average_precision_score(wrong, -clean_score)
  // Ties (0.10 twice, 0.30 three times) enter at one threshold.
  auto a = precision_recall(ranked({0.05, 0.10, 0.10, 0.20, 0.30, 0.30, 0.30, 0.60, 0.80, 0.90},
                                   {1, 0, 1, 1, 0, 1, 0, 0, 1, 0}));
  EXPECT_NEAR(a.average_precision, 0.7087301587301587, 1e-12);
  auto b = precision_recall(ranked({0.01, 0.02, 0.03, 0.04, 0.05, 0.5, 0.6, 0.7}, {1, 1, 0, 1, 0, 0, 1, 0}));
  EXPECT_NEAR(b.average_precision, 0.8303571428571428, 1e-12);
  ASSERT_EQ(b.precision.size(), 8u);
  EXPECT_DOUBLE_EQ(b.precision[2], 2.0 / 3);  // top 3: two wrong labels
  EXPECT_DOUBLE_EQ(b.recall[2], 0.5);
  // No truth, or no wrong label: no curve.
  auto rows = ranked({0.1, 0.2}, {0, 0});
  EXPECT_TRUE(precision_recall(rows).precision.empty());
  rows[0].truth = -1;
  EXPECT_TRUE(precision_recall(rows).precision.empty());
}

TEST(ReportHtml, OnePageWithEverySectionAndNothingExternal) {
  auto first = synthetic_run("first"), second = synthetic_run("second");
  second.thumbnails.clear();
  second.thumbnails_note = "Inputs not shown: they are feature vectors, not images.";
  const std::string html = render_report({first, second}, "two <runs>");
  EXPECT_NE(html.find("<title>two &lt;runs&gt;</title>"), std::string::npos);
  for (const char* part : {"Runs side by side", "test accuracy (%) of every run", "Learning curves",
                           "test confusion", "true transition", "estimated transition", "precision-recall",
                           "clean score of every training sample", "Top suspects", "feature vectors, not images"}) {
    EXPECT_NE(html.find(part), std::string::npos) << part;
  }
  // Per run: accuracy + loss curves, 3 matrices, PR curve + histogram; plus the overlay.
  EXPECT_EQ(count(html, "<svg "), 2u * 7 + 1);
  EXPECT_EQ(count(html, "<img src=\"data:image/png;base64,"), 1u);
  EXPECT_NE(html.find("&lt;wolf&gt;"), std::string::npos) << "class names are escaped";
  EXPECT_EQ(html.find("<wolf>"), std::string::npos);
  // Self-contained: no reference leaves the page (the SVG namespace is a name, not a fetch).
  std::string rest = std::regex_replace(html, std::regex("xmlns=\"http://www.w3.org/2000/svg\""), "");
  EXPECT_EQ(rest.find("http"), std::string::npos);
  EXPECT_EQ(rest.find("src=\"file"), std::string::npos);
  // The comparison table: both runs, with their rates and F1.
  EXPECT_EQ(count(html, "<td>30.0%</td><td>28.0%</td>"), 2u);
  EXPECT_EQ(count(html, "<td>0.750</td>"), 2u);
}

TEST(ReportHtml, RendersInHeadlessChromiumWithoutScriptErrors) {
  if (chromium().empty()) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
  TempDir dir("report-chromium");
  atomic_write_text(dir / "report.html", render_report({synthetic_run("a"), synthetic_run("b")}, "synthetic"));
  expect_renders_cleanly(dir / "report.html", dir);
  // The check itself catches a broken script.
  std::string broken = render_report({synthetic_run("a")}, "broken");
  broken.insert(broken.find("</body>"), "<script>undefined_function();</script>");
  atomic_write_text(dir / "broken.html", broken);
  Rendered page = render_in_chromium(dir / "broken.html", dir / "broken.png");
  EXPECT_NE(page.dom.find("data-script-errors=\"Uncaught ReferenceError: undefined_function is not defined;\""), std::string::npos)
      << page.dom.substr(0, 300);
}

TEST(ReportCli, ReportsRealRunsWithThumbnailsAndPrintsTheComparison) {
  TempDir dir("report-cli");
  const std::string common =
      "--set data.subset=1500 --set noise.type=symmetric --set noise.rate=0.4 --set train.epochs=2 "
      "--set train.threads=1 --set train.eval_batch_size=256 --quiet ";
  ASSERT_EQ(run_cli("train " + common + "--out " + (dir / "ce")).status, 0);
  auto co = run_cli("train " + common + "--set method.name=coteaching --set method.forget_rate=auto --out " + (dir / "co"));
  ASSERT_EQ(co.status, 0) << co.output;
  auto summary = read_json(dir / "ce/summary.json");
  ASSERT_TRUE(summary.contains("test_confusion"));
  EXPECT_EQ(summary["class_names"][0], "T-shirt/top");
  int64_t total = 0;
  for (const auto& row : summary["test_confusion"]) {
    for (const auto& v : row) total += v.get<int64_t>();
  }
  EXPECT_EQ(total, 10000);

  auto result = run_cli("report " + (dir / "ce") + " " + (dir / "co") + " --out " + (dir / "out/report.html") +
                        " --thumbnails 12 --show 5");
  ASSERT_EQ(result.status, 0) << result.output;
  // The printed comparison: both runs, the co-teaching run's estimated rate, suspects by name.
  EXPECT_NE(result.output.find("top 5 suspects of ce"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("top 5 suspects of co"), std::string::npos);
  EXPECT_TRUE(std::regex_search(result.output, std::regex("\\nco +[0-9.]+% +[0-9.]+% +[0-9.]+% +[0-9.]+%")))
      << "co-teaching's row has best, final, true and estimated rates:\n" << result.output;
  EXPECT_TRUE(std::regex_search(result.output,
                                std::regex("(T-shirt/top|Trouser|Pullover|Dress|Coat|Sandal|Shirt|Sneaker|Bag|Ankle boot) -> ")));
  const std::string html = read_text(dir / "out/report.html");
  EXPECT_EQ(count(html, "<img src=\"data:image/png;base64,"), 24u);
  EXPECT_NE(html.find("estimated transition"), std::string::npos);
  if (!chromium().empty()) expect_renders_cleanly(dir / "out/report.html", dir);

  // Errors name what is wrong.
  auto missing = run_cli("report " + (dir / "nothing") + " --out " + (dir / "x.html"));
  EXPECT_NE(missing.status, 0);
  std::filesystem::create_directories(dir / "empty");
  auto empty = run_cli("report " + (dir / "empty") + " --out " + (dir / "x.html"));
  EXPECT_NE(empty.status, 0);
  EXPECT_NE(empty.output.find("not a run folder"), std::string::npos) << empty.output;
  atomic_write_text(dir / "ce/samples.csv", "rank,index,given_label,predicted_label,clean_score,suspect\n1,2,3,x,0.5,1\n");
  auto malformed = run_cli("report " + (dir / "ce") + " --out " + (dir / "x.html"));
  EXPECT_NE(malformed.status, 0);
  EXPECT_NE(malformed.output.find("samples.csv:2: field 4 ('predicted_label') is not a number"), std::string::npos)
      << malformed.output;
}

TEST(ReportProgress, RendersBarCountElapsedAndTimeLeft) {
  ProgressBar bar("fold 1/2", 10, /*enabled=*/false);
  EXPECT_EQ(bar.render(5, 30), "  fold 1/2 [###############...............] 5/10  0:30 < 0:30");
  EXPECT_EQ(bar.render(0, 2), "  fold 1/2 [..............................] 0/10  0:02");
  EXPECT_EQ(bar.render(10, 4000), "  fold 1/2 [##############################] 10/10  1:06:40");
  bar.set_total(4);
  EXPECT_EQ(bar.render(1, 10), "  fold 1/2 [#######.......................] 1/4  0:10 < 0:30");
}
