#include "winnow/core/config.h"

#include <algorithm>
#include <functional>
#include <sstream>
#include <string_view>

#include "winnow/core/error.h"

namespace winnow {
namespace {

std::vector<std::string> split_key(const std::string& key) {
  std::vector<std::string> parts;
  std::stringstream stream(key);
  std::string part;
  while (std::getline(stream, part, '.')) parts.push_back(part);
  if (parts.empty() || key.front() == '.' || key.back() == '.') {
    fail("config key '{}' is malformed: expected section.key", key);
  }
  return parts;
}

// Inserts `value` at a dotted path, creating tables on the way.
template <typename V>
void insert_path(toml::table& table, const std::string& key, V&& value) {
  auto parts = split_key(key);
  toml::table* current = &table;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    auto* node = current->get(parts[i]);
    if (!node) {
      current->insert(parts[i], toml::table{});
      node = current->get(parts[i]);
    }
    if (!node->is_table()) fail("config key '{}': '{}' is a value, not a section", key, parts[i]);
    current = node->as_table();
  }
  current->insert_or_assign(parts.back(), std::forward<V>(value));
}

std::string describe_node(const toml::node& node) {
  std::ostringstream out;
  node.visit([&](auto&& v) { out << v; });
  return out.str();
}

template <typename T>
const char* type_name();
template <> const char* type_name<bool>() { return "a boolean (true/false)"; }
template <> const char* type_name<int64_t>() { return "an integer"; }
template <> const char* type_name<double>() { return "a number"; }
template <> const char* type_name<std::string>() { return "a string"; }

template <typename T>
std::optional<T> convert_scalar(const toml::node& node) {
  if constexpr (std::is_same_v<T, double>) {
    if (auto v = node.value_exact<double>()) return *v;
    if (auto v = node.value_exact<int64_t>()) return static_cast<double>(*v);
    return std::nullopt;
  } else {
    if (auto v = node.value_exact<T>()) return *v;
    return std::nullopt;
  }
}

template <typename T>
T convert(const toml::node& node, const std::string& key, const std::string& source) {
  if constexpr (std::is_same_v<T, std::vector<int64_t>> || std::is_same_v<T, std::vector<double>> ||
                std::is_same_v<T, std::vector<std::string>>) {
    using E = typename T::value_type;
    const auto* array = node.as_array();
    if (!array) {
      fail("{}: {} = {}: expected an array of {}", source, key, describe_node(node),
           type_name<E>());
    }
    T out;
    for (const auto& element : *array) {
      auto v = convert_scalar<E>(element);
      if (!v) {
        fail("{}: {} = {}: every element must be {}", source, key, describe_node(node),
             type_name<E>());
      }
      out.push_back(*v);
    }
    return out;
  } else {
    auto v = convert_scalar<T>(node);
    if (!v) fail("{}: {} = {}: expected {}", source, key, describe_node(node), type_name<T>());
    return *v;
  }
}

template <typename T>
auto to_toml(const T& value) {
  if constexpr (std::is_same_v<T, std::vector<int64_t>> || std::is_same_v<T, std::vector<double>> ||
                std::is_same_v<T, std::vector<std::string>>) {
    toml::array array;
    for (const auto& v : value) array.push_back(v);
    return array;
  } else {
    return value;
  }
}

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points beyond
// U+10FFFF): what a TOML string may hold.
bool is_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      length = 2, code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3, code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4, code = c & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    static constexpr uint32_t kSmallest[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kSmallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += length;
  }
  return true;
}

}  // namespace

Config Config::from_file(const std::string& path) {
  Config config;
  try {
    config.table_ = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    fail("{}:{}:{}: {}", path, where.line, where.column, e.description());
  }
  config.source_ = path;
  return config;
}

Config Config::from_string(const std::string& text, const std::string& source) {
  Config config;
  try {
    config.table_ = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    fail("{}:{}:{}: {}", source, where.line, where.column, e.description());
  }
  config.source_ = source;
  return config;
}

void Config::set_override(const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    fail("--set '{}': expected section.key=value", assignment);
  }
  std::string key = assignment.substr(0, eq);
  std::string value = assignment.substr(eq + 1);
  while (!key.empty() && key.back() == ' ') key.pop_back();
  while (!value.empty() && value.front() == ' ') value.erase(value.begin());
  if (split_key(key).size() < 2) fail("--set '{}': expected section.key=value", assignment);
  toml::table parsed;
  bool is_toml = true;
  try {
    parsed = toml::parse("v = " + value);
  } catch (const toml::parse_error&) {
    is_toml = false;
  }
  if (is_toml) {
    insert_path(table_, key, *parsed.get("v"));
  } else {
    // A TOML string holds UTF-8 only: other bytes could not be written to the run's
    // config.toml and read back unchanged on --resume.
    require(is_utf8(value), "--set '{}': the value is not valid UTF-8 text", assignment);
    insert_path(table_, key, value);
  }
}

template <typename T>
void Config::set(const std::string& key, const T& value) {
  insert_path(table_, key, to_toml(value));
}

bool Config::has(const std::string& key) const { return find(key) != nullptr; }

bool Config::is_auto(const std::string& key) {
  const toml::node* node = find(key);
  if (!node) return false;
  auto text = node->value_exact<std::string>();
  if (!text || *text != "auto") return false;
  record(key, std::string("auto"));
  return true;
}

Config Config::sections(const std::vector<std::string>& names) const {
  Config out;
  out.source_ = source_;
  for (const auto& name : names) {
    if (const auto* node = table_.get(name)) out.table_.insert(name, *node);
  }
  return out;
}

const toml::node* Config::find(const std::string& key) const {
  return table_.at_path(key).node();
}

void Config::mark(const std::string& key) {
  auto parts = split_key(key);
  std::string prefix;
  for (const auto& part : parts) {
    prefix = prefix.empty() ? part : prefix + "." + part;
    known_.insert(prefix);
  }
}

template <typename T>
void Config::record(const std::string& key, const T& value) {
  mark(key);
  insert_path(resolved_, key, to_toml(value));
}

template <typename T>
T Config::get(const std::string& key, const T& default_value) {
  const toml::node* node = find(key);
  T value = node ? convert<T>(*node, key, source_) : default_value;
  record(key, value);
  return value;
}

template <typename T>
std::optional<T> Config::get_optional(const std::string& key) {
  mark(key);
  const toml::node* node = find(key);
  if (!node) return std::nullopt;
  T value = convert<T>(*node, key, source_);
  record(key, value);
  return value;
}

std::string Config::get_choice(const std::string& key, const std::string& default_value,
                               const std::vector<std::string>& allowed) {
  std::string value = get<std::string>(key, default_value);
  for (const auto& a : allowed) {
    if (a == value) return value;
  }
  fail("{}: {} = \"{}\" is not allowed (allowed: {})", source_, key, value,
       fmt::join(allowed, ", "));
}

void Config::check_unknown() const {
  std::function<void(const toml::table&, const std::string&)> walk =
      [&](const toml::table& table, const std::string& prefix) {
        for (const auto& [k, node] : table) {
          std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
          if (!known_.count(key)) {
            std::vector<std::string> siblings;
            for (const auto& known : known_) {
              auto dot = known.rfind('.');
              std::string parent = dot == std::string::npos ? "" : known.substr(0, dot);
              if (parent == prefix) siblings.push_back(dot == std::string::npos ? known : known.substr(dot + 1));
            }
            if (prefix.empty()) {
              fail("{}: unknown config section [{}] (known sections: {})", source_, key,
                   fmt::join(siblings, ", "));
            }
            fail("{}: unknown config key '{}' (known keys in [{}] for this run: {})", source_, key,
                 prefix, fmt::join(siblings, ", "));
          }
          if (const auto* sub = node.as_table()) walk(*sub, key);
        }
      };
  walk(table_, "");
}

namespace {

// Doubles in their shortest form that reads back to the same bits (0.1, not
// 0.10000000000000001), always with a '.' or an exponent so TOML keeps them floats.
std::string format_double(double v) {
  std::string text = fmt::format("{}", v);
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";  // "n": nan, inf
  return text;
}

// A basic string with every control character escaped. toml++ writes a string holding a line
// break as a multi-line literal string ('''...'''), and TOML drops a line break right after the
// opening quotes when reading one back, so such a value would not read back unchanged.
std::string quote_basic(std::string_view text) {
  std::string out = "\"";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += fmt::format("\\u{:04X}", c);
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

bool has_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c < 0x20 || c == 0x7F;
  });
}

std::string format_value(const toml::node& node) {
  if (auto v = node.value_exact<double>()) return format_double(*v);
  if (auto v = node.value_exact<std::string>(); v && has_control(*v)) return quote_basic(*v);
  if (const auto* array = node.as_array()) {
    std::vector<std::string> items;
    for (const auto& element : *array) items.push_back(format_value(element));
    return "[" + fmt::format("{}", fmt::join(items, ", ")) + "]";
  }
  std::ostringstream out;
  node.visit([&](auto&& v) { out << toml::toml_formatter{v}; });
  return out.str();
}

void emit_table(const toml::table& table, const std::string& name, std::string& out) {
  std::string values;
  for (const auto& [key, node] : table) {
    if (!node.is_table()) values += fmt::format("{} = {}\n", key.str(), format_value(node));
  }
  if (!values.empty() || name.empty()) {
    if (!name.empty()) out += fmt::format("{}[{}]\n", out.empty() ? "" : "\n", name);
    out += values;
  }
  for (const auto& [key, node] : table) {
    if (const auto* sub = node.as_table()) {
      emit_table(*sub, name.empty() ? std::string(key.str()) : name + "." + std::string(key.str()), out);
    }
  }
}

}  // namespace

std::string Config::resolved_toml() const {
  std::string out;
  emit_table(resolved_, "", out);
  return out;
}

#define WINNOW_CONFIG_INSTANTIATE(T)                                          \
  template T Config::get<T>(const std::string&, const T&);                    \
  template std::optional<T> Config::get_optional<T>(const std::string&);      \
  template void Config::set<T>(const std::string&, const T&);
WINNOW_CONFIG_INSTANTIATE(bool)
WINNOW_CONFIG_INSTANTIATE(int64_t)
WINNOW_CONFIG_INSTANTIATE(double)
WINNOW_CONFIG_INSTANTIATE(std::string)
WINNOW_CONFIG_INSTANTIATE(std::vector<int64_t>)
WINNOW_CONFIG_INSTANTIATE(std::vector<double>)
WINNOW_CONFIG_INSTANTIATE(std::vector<std::string>)
#undef WINNOW_CONFIG_INSTANTIATE

}  // namespace winnow
