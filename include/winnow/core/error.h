#pragma once
// One exception type for everything a user can get wrong (files, config keys, values).
// Messages say what was wrong, where (file, position, key) and what is allowed; the command
// line tool prints them and exits non-zero.
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace winnow {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Throws winnow::Error with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

// Throws unless `condition` holds.
template <typename... Args>
void require(bool condition, fmt::format_string<Args...> format, Args&&... args) {
  if (!condition) throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace winnow
