#include "winnow/report/html_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>

#include "winnow/report/svg.h"

namespace winnow {
namespace {

using json = nlohmann::ordered_json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double number(const json& record, const std::string& key) {
  auto it = record.find(key);
  return it != record.end() && it->is_number() ? it->get<double>() : kNaN;
}

// A value looked up by a dotted path ("detection.f1"); NaN where absent or not a number.
double at_path(const json& record, const std::string& path) {
  const json* node = &record;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object()) return kNaN;
    auto it = node->find(key);
    if (it == node->end()) return kNaN;
    node = &*it;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return node->is_number() ? node->get<double>() : kNaN;
}

std::string text_at(const json& record, const std::string& key) {
  auto it = record.find(key);
  return it != record.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string format_cell(double value, const char* format) {
  return std::isnan(value) ? "–" : fmt::format(fmt::runtime(format), value);
}

std::string class_name(const ReportRun& run, int64_t k) {
  if (k < 0) return "?";
  return k < static_cast<int64_t>(run.class_names.size()) ? run.class_names[static_cast<size_t>(k)] : std::to_string(k);
}

std::vector<std::string> class_labels(const ReportRun& run, size_t k) {
  std::vector<std::string> names;
  for (size_t i = 0; i < k; ++i) names.push_back(class_name(run, static_cast<int64_t>(i)));
  return names;
}

std::vector<std::vector<double>> matrix(const json& value) {
  std::vector<std::vector<double>> out;
  if (!value.is_array()) return out;
  for (const auto& row : value) {
    std::vector<double> r;
    for (const auto& v : row) r.push_back(v.is_number() ? v.get<double>() : kNaN);
    out.push_back(std::move(r));
  }
  return out;
}

// The estimated rate: the run's own estimate, else none.
double estimated_rate(const ReportRun& run) { return number(run.estimate, "noise_rate"); }

double true_rate(const ReportRun& run) {
  const double from_summary = number(run.summary, "actual_noise_rate");
  return std::isnan(from_summary) ? number(run.noise, "actual_rate") : from_summary;
}

std::string method_of(const ReportRun& run) {
  const std::string method = text_at(run.summary, "method");
  if (!method.empty()) return method;
  return run.estimate.is_object() && !run.estimate.empty() ? "inspect: " + text_at(run.estimate, "method") : "–";
}

// The side-by-side table of every run (sortable by clicking a header: the page's script).
std::string comparison_table(const std::vector<ReportRun>& runs) {
  struct Column {
    const char* header;
    std::string (*cell)(const ReportRun&);
  };
  static const Column columns[] = {
      {"run", [](const ReportRun& r) { return "<a href=\"#" + svg::escape(r.name) + "\">" + svg::escape(r.name) + "</a>"; }},
      {"method", [](const ReportRun& r) { return svg::escape(method_of(r)); }},
      {"noise", [](const ReportRun& r) { return svg::escape(text_at(r.summary, "noise").empty() ? text_at(r.noise, "description") : text_at(r.summary, "noise")); }},
      {"true rate", [](const ReportRun& r) { return format_cell(100 * true_rate(r), "{:.1f}%"); }},
      {"estimated rate", [](const ReportRun& r) { return format_cell(100 * estimated_rate(r), "{:.1f}%"); }},
      {"best test", [](const ReportRun& r) { return format_cell(number(r.summary, "best_test_accuracy"), "{:.2f}"); }},
      {"final test", [](const ReportRun& r) { return format_cell(number(r.summary, "final_test_accuracy"), "{:.2f}"); }},
      {"test at best val", [](const ReportRun& r) { return format_cell(number(r.summary, "test_accuracy_at_best_val"), "{:.2f}"); }},
      {"epochs", [](const ReportRun& r) { return format_cell(number(r.summary, "epochs"), "{:.0f}"); }},
      {"suspects", [](const ReportRun& r) {
         const double n = number(r.summary, "suspects");
         if (!std::isnan(n)) return format_cell(n, "{:.0f}");
         int64_t flagged = 0;
         for (const auto& s : r.samples) flagged += s.suspect;
         return r.samples.empty() ? std::string("–") : std::to_string(flagged);
       }},
      {"precision", [](const ReportRun& r) { return format_cell(at_path(r.summary, "detection.precision"), "{:.3f}"); }},
      {"recall", [](const ReportRun& r) { return format_cell(at_path(r.summary, "detection.recall"), "{:.3f}"); }},
      {"F1", [](const ReportRun& r) { return format_cell(at_path(r.summary, "detection.f1"), "{:.3f}"); }},
      {"AUROC", [](const ReportRun& r) { return format_cell(at_path(r.summary, "detection.auroc"), "{:.3f}"); }},
      {"train s", [](const ReportRun& r) { return format_cell(number(r.summary, "train_seconds"), "{:.1f}"); }},
  };
  std::string s = "<table class=\"sortable\"><thead><tr>";
  for (const auto& c : columns) s += fmt::format("<th>{}</th>", c.header);
  s += "</tr></thead><tbody>\n";
  for (const auto& run : runs) {
    s += "<tr>";
    for (const auto& c : columns) s += "<td>" + c.cell(run) + "</td>";
    s += "</tr>\n";
  }
  return s + "</tbody></table>\n";
}

std::vector<double> epochs_of(const ReportRun& run) {
  std::vector<double> x;
  for (size_t i = 0; i < run.metrics.size(); ++i) {
    const double e = number(run.metrics[i], "epoch");
    x.push_back(std::isnan(e) ? static_cast<double>(i + 1) : e);
  }
  return x;
}

// Every metrics.jsonl key whose name contains `part` (in first-seen order), as series.
std::vector<svg::Series> series_containing(const ReportRun& run, const std::string& part) {
  std::vector<std::string> keys;
  for (const auto& line : run.metrics) {
    for (const auto& [key, value] : line.items()) {
      if (key.find(part) != std::string::npos && value.is_number() &&
          std::find(keys.begin(), keys.end(), key) == keys.end()) {
        keys.push_back(key);
      }
    }
  }
  const auto x = epochs_of(run);
  std::vector<svg::Series> out;
  for (const auto& key : keys) {
    svg::Series s;
    s.name = key;
    s.x = x;
    for (const auto& line : run.metrics) s.y.push_back(number(line, key));
    // Accuracy against the noisy labels (train, val) dashed; against clean labels solid.
    s.dashed = key == "train_accuracy" || key == "val_accuracy" || key == "train_loss" || key == "val_loss";
    out.push_back(std::move(s));
  }
  return out;
}

std::string learning_curves(const ReportRun& run) {
  if (run.metrics.empty()) return "";
  std::string s = "<h3>Learning curves</h3>\n<p class=\"note\">Dashed: measured against the given (noisy) labels; "
                  "solid: against clean labels (the test set, or the training set's true labels where a "
                  "simulation knows them).</p>\n<div class=\"row\">";
  svg::Axes accuracy;
  accuracy.title = "accuracy (%)";
  accuracy.x_label = "epoch";
  accuracy.y_label = "%";
  s += svg::line_chart(series_containing(run, "accuracy"), accuracy);
  auto losses = series_containing(run, "loss");
  if (!losses.empty()) {
    svg::Axes loss;
    loss.title = "loss";
    loss.x_label = "epoch";
    loss.y_label = "loss";
    s += svg::line_chart(losses, loss);
  }
  return s + "</div>\n";
}

std::string matrices(const ReportRun& run) {
  std::string s;
  const auto confusion = matrix(run.summary.contains("test_confusion") ? run.summary["test_confusion"] : json());
  const auto truth = matrix(run.noise.contains("transition") ? run.noise["transition"] : json());
  const auto estimate = matrix(run.estimate.contains("transition_matrix") ? run.estimate["transition_matrix"] : json());
  if (confusion.empty() && truth.empty() && estimate.empty()) return "";
  s += "<h3>Matrices</h3>\n<div class=\"row\">";
  if (!confusion.empty()) {
    s += svg::heatmap(confusion, class_labels(run, confusion.size()), class_labels(run, confusion.size()),
                      "test confusion (final model, counts)", "true", "predicted", false);
  }
  if (!truth.empty()) {
    s += svg::heatmap(truth, class_labels(run, truth.size()), class_labels(run, truth.size()),
                      "true transition P(given | true), %", "true", "given", true);
  }
  if (!estimate.empty()) {
    s += svg::heatmap(estimate, class_labels(run, estimate.size()), class_labels(run, estimate.size()),
                      "estimated transition P(given | true), %", "true", "given", true);
  }
  return s + "</div>\n";
}

std::string detection(const ReportRun& run) {
  if (run.samples.empty()) return "";
  std::string s = "<h3>Detection of wrong labels</h3>\n<div class=\"row\">";
  int64_t flagged = 0;
  for (const auto& sample : run.samples) flagged += sample.suspect;
  if (run.has_truth) {
    const auto pr = precision_recall(run.samples);
    svg::Series curve;
    curve.name = fmt::format("AP {:.3f}", pr.average_precision);
    // Every point would be tens of thousands; 400 along the ranking draw the same curve.
    const size_t n = pr.recall.size(), step = std::max<size_t>(1, n / 400);
    for (size_t i = 0; i < n; i += step) {
      curve.x.push_back(pr.recall[i]);
      curve.y.push_back(pr.precision[i]);
    }
    curve.x.push_back(pr.recall.back());
    curve.y.push_back(pr.precision.back());
    std::vector<svg::Point> points;
    if (flagged > 0) {
      const size_t k = static_cast<size_t>(flagged) - 1;
      points.push_back({pr.recall[k], pr.precision[k], fmt::format("{} suspects", flagged)});
    }
    svg::Axes axes;
    axes.title = "precision-recall of the ranking (most suspicious first)";
    axes.x_label = "recall";
    axes.y_label = "precision";
    axes.x_min = 0, axes.x_max = 1, axes.y_min = 0, axes.y_max = 1;
    s += svg::line_chart({curve}, axes, points);
  }
  std::vector<double> right, wrong, all;
  for (const auto& sample : run.samples) {
    all.push_back(sample.clean_score);
    if (sample.truth >= 0) (sample.truth == sample.given ? right : wrong).push_back(sample.clean_score);
  }
  std::vector<svg::Bars> groups;
  if (run.has_truth) {
    groups.push_back({fmt::format("right labels ({})", right.size()), svg::bin_counts(right, 40), "#1f77b4"});
    groups.push_back({fmt::format("wrong labels ({})", wrong.size()), svg::bin_counts(wrong, 40), "#d62728"});
  } else {
    groups.push_back({fmt::format("samples ({})", all.size()), svg::bin_counts(all, 40), "#1f77b4"});
  }
  svg::Axes axes;
  axes.title = "clean score of every training sample";
  axes.x_label = "clean score (low: suspected wrong label)";
  axes.y_label = "samples";
  axes.x_min = 0, axes.x_max = 1;
  s += svg::histogram(groups, axes);
  return s + "</div>\n";
}

std::string suspects(const ReportRun& run) {
  if (run.samples.empty()) return "";
  std::string s = "<h3>Top suspects</h3>\n";
  if (!run.thumbnails.empty()) {
    s += "<p class=\"note\">Most suspicious first. Border: red where the given label is truly wrong, green "
         "where it is right, grey where the truth is unknown.</p>\n<div class=\"thumbs\">";
    for (const auto& t : run.thumbnails) {
      const auto& x = t.sample;
      const char* verdict = x.truth < 0 ? "unknown" : x.truth != x.given ? "wrong" : "right";
      s += fmt::format("<figure class=\"{}\"><img src=\"{}\" alt=\"sample {}\"><figcaption>#{} · index {}<br>given "
                       "<b>{}</b><br>predicted <b>{}</b>{}<br>score {:.3g}</figcaption></figure>\n",
                       verdict, t.data_uri, x.index, x.rank, x.index, svg::escape(class_name(run, x.given)),
                       svg::escape(class_name(run, x.predicted)),
                       x.truth >= 0 ? "<br>true <b>" + svg::escape(class_name(run, x.truth)) + "</b>" : std::string(),
                       x.clean_score);
    }
    return s + "</div>\n";
  }
  if (!run.thumbnails_note.empty()) s += "<p class=\"note\">" + svg::escape(run.thumbnails_note) + "</p>\n";
  s += fmt::format("<table><thead><tr><th>rank</th><th>index</th><th>given</th><th>predicted</th>{}<th>clean score</th>"
                   "</tr></thead><tbody>\n",
                   run.has_truth ? "<th>true</th>" : "");
  for (size_t i = 0; i < run.samples.size() && i < 20; ++i) {
    const auto& x = run.samples[i];
    s += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{}<td>{:.4g}</td></tr>\n", x.rank, x.index,
                     svg::escape(class_name(run, x.given)), svg::escape(class_name(run, x.predicted)),
                     run.has_truth ? "<td>" + svg::escape(class_name(run, x.truth)) + "</td>" : std::string(),
                     x.clean_score);
  }
  return s + "</tbody></table>\n";
}

std::string facts(const ReportRun& run) {
  std::string s = "<dl>";
  auto item = [&](const std::string& key, const std::string& value) {
    if (!value.empty() && value != "–") s += "<dt>" + key + "</dt><dd>" + svg::escape(value) + "</dd>";
  };
  item("folder", run.dir);
  item("method", method_of(run));
  item("noise", text_at(run.summary, "noise"));
  item("true noise rate", format_cell(100 * true_rate(run), "{:.2f}%"));
  item("estimated noise rate", format_cell(100 * estimated_rate(run), "{:.2f}%"));
  if (run.summary.contains("auto") && run.summary["auto"].is_object()) {
    for (const auto& [key, value] : run.summary["auto"].items()) {
      item(key + " (auto)", value.is_string() ? value.get<std::string>() : value.dump());
    }
  }
  item("samples (train / val / test)", run.summary.contains("train_samples")
                                          ? fmt::format("{} / {} / {}", run.summary["train_samples"].dump(),
                                                        run.summary["val_samples"].dump(), run.summary["test_samples"].dump())
                                          : std::string());
  item("training time", format_cell(number(run.summary, "train_seconds"), "{:.1f} s"));
  return s + "</dl>\n";
}

// Script errors anywhere on the page land in <html data-script-errors>; the last script sets
// data-report-ready. A headless browser check reads both (tests/test_report.cpp).
constexpr const char* kHead = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<script>
window.addEventListener('error', function (e) {
  var root = document.documentElement;
  root.setAttribute('data-script-errors', (root.getAttribute('data-script-errors') || '') + e.message + ';');
});
</script>
<style>
body { font-family: sans-serif; margin: 24px; color: #222; max-width: 1800px; }
h1 { margin-bottom: 4px; } h2 { border-top: 2px solid #ccc; padding-top: 12px; margin-top: 36px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th { background: #f3f3f3; } table.sortable th { cursor: pointer; }
td:first-child, th:first-child { text-align: left; }
.row { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.note { color: #555; font-size: 13px; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; font-size: 14px; }
dt { font-weight: bold; } dd { margin: 0; }
.thumbs { display: flex; flex-wrap: wrap; gap: 8px; }
figure { margin: 0; width: 116px; font-size: 11px; text-align: center; border: 3px solid #bbb; padding: 4px; }
figure.wrong { border-color: #d62728; } figure.right { border-color: #2ca02c; }
figure img { width: 96px; height: 96px; image-rendering: pixelated; }
</style>
)";

constexpr const char* kScript = R"(<script>
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, column) {
    th.addEventListener('click', function () {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var ascending = th.getAttribute('data-order') !== 'ascending';
      th.setAttribute('data-order', ascending ? 'ascending' : 'descending');
      function key(row) {
        var text = row.cells[column].textContent, value = parseFloat(text);
        return isNaN(value) ? text : value;
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var order = typeof x === typeof y ? (x < y ? -1 : x > y ? 1 : 0) : (typeof x === 'number' ? -1 : 1);
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
document.documentElement.setAttribute('data-report-ready', String(document.querySelectorAll('svg').length));
</script>
)";

}  // namespace

PrecisionRecall precision_recall(const std::vector<SampleRow>& ranked) {
  PrecisionRecall out;
  int64_t positives = 0;
  for (const auto& s : ranked) {
    if (s.truth < 0) return out;
    positives += s.truth != s.given;
  }
  if (positives == 0) return out;
  // Samples with equal scores enter together (one threshold), as in sklearn's
  // precision_recall_curve; the points between stay on the line for the plot.
  int64_t hits = 0;
  double previous_recall = 0;
  out.precision.reserve(ranked.size());
  out.recall.reserve(ranked.size());
  for (size_t k = 0; k < ranked.size(); ++k) {
    hits += ranked[k].truth != ranked[k].given;
    const double precision = static_cast<double>(hits) / static_cast<double>(k + 1);
    const double recall = static_cast<double>(hits) / static_cast<double>(positives);
    out.precision.push_back(precision);
    out.recall.push_back(recall);
    const bool threshold_ends = k + 1 == ranked.size() || ranked[k + 1].clean_score != ranked[k].clean_score;
    if (threshold_ends) {
      out.average_precision += (recall - previous_recall) * precision;
      previous_recall = recall;
    }
  }
  return out;
}

std::string render_report(const std::vector<ReportRun>& runs, const std::string& title) {
  std::string s = kHead;
  s += "<title>" + svg::escape(title) + "</title></head><body>\n";
  const std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  s += fmt::format("<h1>{}</h1>\n<p class=\"note\">winnow {} · {} · {} run(s)</p>\n", svg::escape(title),
                   WINNOW_VERSION, when, runs.size());
  s += "<h2>Runs side by side</h2>\n" + comparison_table(runs);
  if (runs.size() > 1) {
    std::vector<svg::Series> test;
    for (const auto& run : runs) {
      svg::Series line;
      line.name = run.name;
      line.x = epochs_of(run);
      for (const auto& m : run.metrics) line.y.push_back(number(m, "test_accuracy"));
      if (!run.metrics.empty()) test.push_back(std::move(line));
    }
    if (!test.empty()) {
      svg::Axes axes;
      axes.title = "test accuracy (%) of every run";
      axes.x_label = "epoch";
      axes.y_label = "%";
      axes.width = 760;
      s += svg::line_chart(test, axes);
    }
  }
  for (const auto& run : runs) {
    s += "<h2 id=\"" + svg::escape(run.name) + "\">" + svg::escape(run.name) + "</h2>\n";
    s += facts(run) + learning_curves(run) + matrices(run) + detection(run) + suspects(run);
  }
  return s + kScript + "</body></html>\n";
}

}  // namespace winnow
