#pragma once
// c10d and Gloo errors carry a C++ backtrace after their message; users get the message.
#include <exception>
#include <string>

namespace winnow::dist::detail {

inline std::string c10d_message(const std::exception& e) {
  std::string text = e.what();
  if (const auto cut = text.find("\nException raised from"); cut != std::string::npos) text.resize(cut);
  return text;
}

}  // namespace winnow::dist::detail
