#pragma once
// A registry keyed by name: each implementation registers itself with one line in its own
// file (WINNOW_REGISTER), so adding a loss or a model touches no central switch. Asking for
// an unknown name lists the valid ones; registering a name twice is an error.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "winnow/core/error.h"

namespace winnow {

// Tag names the registry for messages and holds the factory type:
//   struct LossTag { using Factory = ...; static constexpr const char* kind = "loss"; };
template <typename Tag>
class Registry {
 public:
  using Factory = typename Tag::Factory;
  struct Entry {
    std::string name;
    std::string description;
    Factory factory;
  };

  static Registry& instance() {
    static Registry registry;
    return registry;
  }

  bool add(const std::string& name, const std::string& description, Factory factory) {
    if (entries_.count(name)) {
      throw Error(fmt::format("'{}' is registered twice in the {} registry", name, kind()));
    }
    entries_[name] = Entry{name, description, std::move(factory)};
    return true;
  }

  const Entry& get(const std::string& name) const {
    auto it = entries_.find(name);
    if (it == entries_.end()) {
      throw Error(fmt::format("unknown {} '{}' (known: {})", kind(), name,
                              fmt::join(names(), ", ")));
    }
    return it->second;
  }

  bool contains(const std::string& name) const { return entries_.count(name) > 0; }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, entry] : entries_) out.push_back(name);
    return out;
  }

  const std::map<std::string, Entry>& entries() const { return entries_; }
  static constexpr const char* kind() { return Tag::kind; }

 private:
  std::map<std::string, Entry> entries_;
};

}  // namespace winnow

#define WINNOW_CONCAT_INNER(a, b) a##b
#define WINNOW_CONCAT(a, b) WINNOW_CONCAT_INNER(a, b)
// Registers `factory` under `name` in `RegistryType` from a static initialiser.
#define WINNOW_REGISTER(RegistryType, name, description, factory)                      \
  static const bool WINNOW_CONCAT(winnow_registered_, __LINE__) [[maybe_unused]] =     \
      RegistryType::instance().add(name, description, factory)
